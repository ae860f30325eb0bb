"""K8S-1..7: the brief's Kubernetes values."""

from __future__ import annotations

from typing import Any, ClassVar

from kubeprod.facts.aws import EKS_LOG_TYPES
from kubeprod.facts.azure import AKS_LOG_CATEGORIES
from kubeprod.facts.gcp import GKE_LOGGING_COMPONENTS
from kubeprod.policy.plan_model import UNKNOWN, Resource
from kubeprod.policy.rules import aks, eks, gke
from kubeprod.policy.rules.base import Ctx, Rule, blocks, cidrs, rule, show
from kubeprod.policy.rules.lookup import (
    AUTO_MODE,
    aws_node_shapes,
    azure_pools,
    by_cluster,
    gcp_pool_max,
    gcp_pool_min,
    gcp_pools,
)
from kubeprod.spec import versions


def expected_version(ctx: Ctx) -> str:
    if ctx.opt.kubernetes_version:
        return ctx.opt.kubernetes_version
    return versions.n_minus_one()


def _is_version(want: str) -> Any:
    return lambda v: isinstance(v, str) and (v == want or v.startswith(want + "."))


@rule
class VersionNMinusOne(Rule):
    id = "K8S-1"
    title = "Kubernetes version pinned to N-1 in standard support"
    brief = "Version: Stable release (N-1)"
    severity = "high"
    judged: ClassVar[dict[str, str]] = {
        "aws": "aws_eks_cluster version = N-1 (option --kubernetes-version); upgrade_policy "
        'support_type = "STANDARD"',
        "azure": 'kubernetes_version = N-1; automatic_upgrade_channel "patch" or "stable"',
        "gcp": 'release_channel "STABLE" or "REGULAR" and min_master_version = N-1, a '
        "version the channel offers (GKE release channels docs; versions.GKE_CHANNEL_MINORS)",
    }

    def aws(self, ctx: Ctx) -> None:
        want = expected_version(ctx)
        clusters = ctx.model.of("aws_eks_cluster")
        if ctx.need(clusters, "aws_eks_cluster"):
            for c in clusters:
                ctx.check(c, "version", _is_version(want), f'"{want}" (N-1, pinned)')
                ctx.check(
                    c,
                    "upgrade_policy.0.support_type",
                    lambda v: v == "STANDARD",
                    '"STANDARD" (extended support costs more and lags)',
                )

    def azure(self, ctx: Ctx) -> None:
        want = expected_version(ctx)
        for c in ctx.model.of("azurerm_kubernetes_cluster"):
            ctx.check(c, "kubernetes_version", _is_version(want), f'"{want}"')
            ctx.check(c, "automatic_upgrade_channel", lambda v: v in ("patch", "stable"), '"patch"')

    def gcp(self, ctx: Ctx) -> None:
        want = expected_version(ctx)
        for c in ctx.model.of("google_container_cluster"):
            ctx.check(
                c, "release_channel.0.channel", lambda v: v in ("STABLE", "REGULAR"), '"STABLE"'
            )
            ctx.check(c, "min_master_version", _is_version(want), f'"{want}"')
        gke.channel_offers_version(ctx, versions)


def _sum(values: list[Any]) -> Any:
    if any(v is UNKNOWN for v in values):
        return UNKNOWN
    return sum(v for v in values if isinstance(v, int))


def _judge_total(ctx: Ctx, res: Resource, attr: str, total: Any, minimum: int, what: str) -> None:
    if total is UNKNOWN:
        ctx.unknown(res, f"{what} known only after apply", attr)
    elif isinstance(total, int) and total >= minimum:
        ctx.ok(res, f"{what} = {total}", attr)
    else:
        ctx.fail(res, f"{what} is {show(total)}", attr, f"at least {minimum} nodes in total")


@rule
class SystemNodes(Rule):
    id = "K8S-2"
    title = "System node group: at least 3 nodes, critical add-ons only"
    brief = "System: 3 nodes minimum, m5.large / Standard_D4s_v3 / e2-standard-4"
    severity = "high"
    judged: ClassVar[dict[str, str]] = {
        "aws": "system aws_eks_node_group (tainted CriticalAddonsOnly or named system): "
        "scaling_config min_size >= 3",
        "azure": "default_node_pool only_critical_addons_enabled; System-mode pools' min_count "
        "sum >= 3",
        "gcp": "system google_container_node_pool: minimum nodes over all zones >= 3",
    }

    def aws(self, ctx: Ctx) -> None:
        shapes = by_cluster(aws_node_shapes(ctx.model))
        if not shapes:
            ctx.need([], "system node group (aws_eks_node_group tainted CriticalAddonsOnly)")
        for cluster, nodes in shapes.items():
            auto = [n for n in nodes if n.shape == AUTO_MODE]
            system = [n for n in nodes if n.system and n.shape != AUTO_MODE]
            where = f"cluster {cluster}: " if len(shapes) > 1 else ""
            if not system and auto and auto[0].system:
                ctx.unknown(
                    auto[0].res,
                    f"{where}EKS Auto Mode runs the system node pool and sizes it itself: "
                    "no minimum in the configuration to judge",
                    "compute_config.0.node_pools",
                )
                continue
            if not system:
                ctx.fail(
                    nodes[0].res,
                    f"{where}no system node group (tainted CriticalAddonsOnly or named system)",
                    "taint",
                    "a node group tainted CriticalAddonsOnly with min_size >= "
                    f"{ctx.opt.system_min_nodes}",
                )
                continue
            _judge_total(
                ctx,
                system[0].res,
                system[0].min_attr,
                _sum([n.min() for n in system]),
                ctx.opt.system_min_nodes,
                f"{where}system minimum",
            )

    def azure(self, ctx: Ctx) -> None:
        pools = [(r, p, a) for r, p, m, a in azure_pools(ctx.model) if m == "System"]
        if not ctx.need(pools, "System node pool"):
            return
        for res, _pool, prefix in pools:
            if prefix:
                ctx.check(res, f"{prefix}only_critical_addons_enabled", lambda v: v is True, "true")
        total = _sum([p.get("min_count", p.get("node_count")) for _, p, _ in pools])
        res, _, prefix = pools[0]
        _judge_total(
            ctx,
            res,
            f"{prefix}min_count",
            total,
            ctx.opt.system_min_nodes,
            "System pools' min_count",
        )

    def gcp(self, ctx: Ctx) -> None:
        system, _ = gcp_pools(ctx.model)
        if not ctx.need(system, "system google_container_node_pool"):
            return
        total = _sum([gcp_pool_min(p, ctx.model) for p in system])
        _judge_total(
            ctx,
            system[0],
            "autoscaling.0.min_node_count",
            total,
            ctx.opt.system_min_nodes,
            "system minimum",
        )


@rule
class WorkloadNodes(Rule):
    id = "K8S-3"
    title = "Workload nodes: 3-20, autoscaling"
    brief = "Workload: 3-20 nodes, autoscaling, on-demand instances only"
    severity = "high"
    judged: ClassVar[dict[str, str]] = {
        "aws": "workload aws_eks_node_group: min_size sum >= 3, max_size sum >= 20; each "
        "autoscaled group in one zone, --balance-similar-node-groups with several (EKS user "
        "guide, managed node groups)",
        "azure": "User pools: auto_scaling_enabled, min_count sum >= 3, max_count sum >= 20",
        "gcp": "workload google_container_node_pool: autoscaling minimum >= 3, maximum >= 20",
    }

    def _range(
        self,
        ctx: Ctx,
        res: Resource,
        mins: list[Any],
        maxes: list[Any],
        attrs: tuple[str, str],
        where: str = "",
    ) -> None:
        _judge_total(
            ctx, res, attrs[0], _sum(mins), ctx.opt.workload_min_nodes, f"{where}workload minimum"
        )
        top = _sum(maxes)
        if top is UNKNOWN:
            ctx.unknown(res, f"{where}workload maximum known only after apply", attrs[1])
        elif isinstance(top, int) and top >= ctx.opt.workload_max_nodes:
            ctx.ok(res, f"{where}workload maximum = {top}", attrs[1])
        else:
            ctx.fail(
                res,
                f"{where}workload maximum is {show(top)}",
                attrs[1],
                f"{ctx.opt.workload_max_nodes} nodes in total",
            )

    def aws(self, ctx: Ctx) -> None:
        shapes = by_cluster(aws_node_shapes(ctx.model))
        if not shapes:
            ctx.need([], "workload aws_eks_node_group")
        for cluster, nodes in shapes.items():
            where = f"cluster {cluster}: " if len(shapes) > 1 else ""
            workload = [n for n in nodes if not n.system and n.shape != AUTO_MODE]
            auto = [n for n in nodes if n.shape == AUTO_MODE]
            if not workload and auto:
                ctx.unknown(
                    auto[0].res,
                    f"{where}EKS Auto Mode sizes workload nodes from Kubernetes NodePools "
                    "(limits live in the cluster, not this configuration)",
                    "compute_config.0.node_pools",
                )
                continue
            if not workload:
                ctx.fail(
                    nodes[0].res,
                    f"{where}no workload node group",
                    "aws_eks_node_group",
                    "add a workload node group (min 3, max 20)",
                )
                continue
            self._range(
                ctx,
                workload[0].res,
                [n.min() for n in workload],
                [n.max() for n in workload],
                (workload[0].min_attr, workload[0].max_attr),
                where,
            )
        eks.workload_groups_per_zone(ctx)

    def azure(self, ctx: Ctx) -> None:
        pools = [(r, p) for r, p, m, a in azure_pools(ctx.model) if m == "User"]
        if not ctx.need(pools, "User node pool"):
            return
        for res, _pool in pools:
            ctx.check(res, "auto_scaling_enabled", lambda v: v is True, "true")
        self._range(
            ctx,
            pools[0][0],
            [p.get("min_count") for _, p in pools],
            [p.get("max_count") for _, p in pools],
            ("min_count", "max_count"),
        )

    def gcp(self, ctx: Ctx) -> None:
        _, workload = gcp_pools(ctx.model)
        if ctx.need(workload, "workload google_container_node_pool"):
            self._range(
                ctx,
                workload[0],
                [gcp_pool_min(p, ctx.model) for p in workload],
                [gcp_pool_max(p, ctx.model) for p in workload],
                ("autoscaling.0.total_min_node_count", "autoscaling.0.total_max_node_count"),
            )


@rule
class PrivateEndpoint(Rule):
    id = "K8S-4"
    title = "Private API endpoint on"
    brief = "Private Endpoint: true"
    severity = "critical"
    judged: ClassVar[dict[str, str]] = {
        "aws": "aws_eks_cluster vpc_config endpoint_private_access = true",
        "azure": "api_server_access_profile virtual_network_integration_enabled = true (or "
        "private_cluster_enabled); the API server subnet's NSG admits nodes on 443/4443 and "
        "the Azure Load Balancer on 9988",
        "gcp": "private_cluster_config present with master_ipv4_cidr_block or "
        "private_endpoint_subnetwork (the private endpoint); with a peered control plane, "
        "a firewall rule from it for webhooks on tcp 8443, 9443, 15017 "
        "(terraform-google-kubernetes-engine modules/private-cluster/firewall.tf)",
    }

    def aws(self, ctx: Ctx) -> None:
        clusters = ctx.model.of("aws_eks_cluster")
        if ctx.need(clusters, "aws_eks_cluster"):
            for c in clusters:
                ctx.check(c, "vpc_config.0.endpoint_private_access", lambda v: v is True, "true")

    def azure(self, ctx: Ctx) -> None:
        for c in ctx.model.of("azurerm_kubernetes_cluster"):
            if c.get("private_cluster_enabled") is True:
                ctx.ok(c, "private cluster", "private_cluster_enabled")
            else:
                ctx.check(
                    c,
                    "api_server_access_profile.0.virtual_network_integration_enabled",
                    lambda v: v is True,
                    "true (API Server VNet Integration: a private API server IP in the VNet)",
                )
        aks.apiserver_nsg(ctx, public=False)

    def gcp(self, ctx: Ctx) -> None:
        for c in ctx.model.of("google_container_cluster"):
            config = blocks(c.get("private_cluster_config"))
            if config and (
                config[0].get("master_ipv4_cidr_block")
                or config[0].get("private_endpoint_subnetwork")
            ):
                ctx.ok(c, "private endpoint configured", "private_cluster_config")
            else:
                ctx.fail(
                    c,
                    "no private endpoint",
                    "private_cluster_config",
                    "a private_cluster_config block with master_ipv4_cidr_block",
                )
        gke.webhook_firewall(ctx)


def endpoint_ranges(ctx: Ctx) -> list[tuple[Resource, str, Any, bool | Any]]:
    """(cluster, attribute, allow-list, public endpoint on) for each cluster of the cloud."""
    out: list[tuple[Resource, str, Any, Any]] = []
    for c in ctx.model.of("aws_eks_cluster"):
        out.append(
            (
                c,
                "vpc_config.0.public_access_cidrs",
                c.get("vpc_config.0.public_access_cidrs"),
                c.get("vpc_config.0.endpoint_public_access"),
            )
        )
    for c in ctx.model.of("azurerm_kubernetes_cluster"):
        private = c.get("private_cluster_enabled")
        on = UNKNOWN if private is UNKNOWN else private is not True
        out.append(
            (
                c,
                "api_server_access_profile.0.authorized_ip_ranges",
                c.get("api_server_access_profile.0.authorized_ip_ranges"),
                on,
            )
        )
    for c in ctx.model.of("google_container_cluster"):
        ranges = c.get("master_authorized_networks_config.0.cidr_blocks")
        listed = [b.get("cidr_block") for b in blocks(ranges)] if ranges is not UNKNOWN else UNKNOWN
        if ranges is None:
            listed = None
        private = c.get("private_cluster_config.0.enable_private_endpoint")
        on = UNKNOWN if private is UNKNOWN else private is not True
        out.append((c, "master_authorized_networks_config.0.cidr_blocks", listed, on))
    return out


OPEN = {"0.0.0.0/0", "::/0"}


@rule
class RestrictedPublicEndpoint(Rule):
    id = "K8S-5"
    title = "Public endpoint on, restricted to an allow-list"
    brief = "Public Endpoint: true (restricted IPs)"
    severity = "critical"
    judged: ClassVar[dict[str, str]] = {
        "aws": "endpoint_public_access = true with a non-empty public_access_cidrs without "
        "0.0.0.0/0; with access entries only and no creator admin, an access entry holding "
        "AmazonEKSClusterAdminPolicy on the cluster scope, or the endpoint admits nobody",
        "azure": "api_server_access_profile authorized_ip_ranges non-empty, without 0.0.0.0/0; "
        "the API server subnet's NSG admits those ranges on 443; with local accounts off, "
        "admin groups or an RBAC Cluster Admin role assignment, or the endpoint admits nobody",
        "gcp": "enable_private_endpoint = false and master_authorized_networks_config "
        "cidr_blocks non-empty, without 0.0.0.0/0; someone holds a GKE admin role "
        "(google_project_iam_member roles/container.admin), or the endpoint admits nobody",
    }

    def _judge(self, ctx: Ctx) -> None:
        found = endpoint_ranges(ctx)
        if not found:
            ctx.fail(None, "no cluster", "cluster", "add the cluster")
        for c, attr, ranges, on in found:
            if on is UNKNOWN or ranges is UNKNOWN:
                ctx.unknown(c, "public endpoint settings known only after apply", attr)
            elif on is not True:
                ctx.fail(
                    c,
                    "the public endpoint is off",
                    attr,
                    "turn the public endpoint on, restricted to the allow-list",
                )
            elif not ranges:
                ctx.fail(
                    c,
                    f"{attr} is {'unset' if ranges is None else 'empty'}: no allow-list "
                    "restricts the public endpoint",
                    attr,
                    "the operators' CIDRs",
                )
            elif OPEN & {str(r) for r in ranges}:
                ctx.fail(
                    c,
                    f"{attr} contains 0.0.0.0/0: open to the internet",
                    attr,
                    "the operators' CIDRs only",
                )
            else:
                ctx.ok(c, f"{attr} = {ranges}", attr)

    def aws(self, ctx: Ctx) -> None:
        self._judge(ctx)
        eks.cluster_admins(ctx)

    def azure(self, ctx: Ctx) -> None:
        self._judge(ctx)
        aks.apiserver_nsg(ctx, public=True)
        aks.cluster_admins(ctx)

    def gcp(self, ctx: Ctx) -> None:
        self._judge(ctx)
        gke.cluster_admins(ctx)


@rule
class NodeDiskEncryption(Rule):
    id = "K8S-6"
    title = "Node disks encrypted at rest"
    brief = "Encryption at rest: enabled"
    severity = "high"
    judged: ClassVar[dict[str, str]] = {
        "aws": "every aws_launch_template EBS mapping encrypted = true; a launch template "
        "without block_device_mappings is unknown (the AMI default decides); with a CMK, the "
        "AutoScaling service-linked role its key policy names is managed here",
        "azure": "host_encryption_enabled on every pool and disk_encryption_set_id on the cluster",
        "gcp": "every node pool's node_config boot_disk_kms_key is set (CMEK)",
    }

    def aws(self, ctx: Ctx) -> None:
        templates = ctx.model.of("aws_launch_template")
        if not templates:
            ctx.not_judged(
                "no aws_launch_template: node volumes use the account's default EBS encryption"
            )
        for lt in templates:
            mappings = lt.get("block_device_mappings")
            if mappings is UNKNOWN:
                ctx.unknown(
                    lt, "block_device_mappings known only after apply", "block_device_mappings"
                )
                continue
            if not blocks(mappings):
                ctx.unknown(
                    lt,
                    "no block_device_mappings: the AMI's default decides",
                    "block_device_mappings",
                )
                continue
            for i, _m in enumerate(blocks(mappings)):
                ctx.check(
                    lt,
                    f"block_device_mappings.{i}.ebs.0.encrypted",
                    lambda v: v in (True, "true"),
                    '"true" with kms_key_id',
                )
        eks.autoscaling_role_managed(ctx)

    def azure(self, ctx: Ctx) -> None:
        for res, _pool, _, prefix in azure_pools(ctx.model):
            ctx.check(res, f"{prefix}host_encryption_enabled", lambda v: v is True, "true")
        for c in ctx.model.of("azurerm_kubernetes_cluster"):
            value = c.get("disk_encryption_set_id")
            if value is None:
                ctx.fail(
                    c,
                    "disk_encryption_set_id is unset",
                    "disk_encryption_set_id",
                    "a disk encryption set with our key",
                )
            else:
                ctx.ok(c, "disks encrypted with a customer-managed key", "disk_encryption_set_id")

    def gcp(self, ctx: Ctx) -> None:
        pools = ctx.model.of("google_container_node_pool")
        if not ctx.need(pools, "google_container_node_pool"):
            return
        for p in pools:
            value = p.get("node_config.0.boot_disk_kms_key")
            if value is UNKNOWN:
                ctx.unknown(
                    p, "boot_disk_kms_key known only after apply", "node_config.0.boot_disk_kms_key"
                )
            elif value is None or value == "":
                ctx.fail(
                    p,
                    "boot disks use Google-managed keys",
                    "node_config.0.boot_disk_kms_key",
                    "a Cloud KMS key",
                )
            else:
                ctx.ok(
                    p,
                    "boot disks encrypted with a Cloud KMS key",
                    "node_config.0.boot_disk_kms_key",
                )


def aks_log_categories(ctx: Ctx) -> list[tuple[Resource, set[str]]]:
    out = []
    for d in ctx.model.of("azurerm_monitor_diagnostic_setting"):
        cats = {str(b.get("category")) for b in blocks(d.get("enabled_log")) if b.get("category")}
        groups = {
            str(b.get("category_group"))
            for b in blocks(d.get("enabled_log"))
            if b.get("category_group")
        }
        on_cluster = "managedclusters" in str(d.get("target_resource_id")).lower()
        if not (on_cluster or any(c.startswith("kube-") for c in cats)):
            continue  # a diagnostic setting of another resource (Key Vault, ...)
        if "allLogs" in groups:
            cats |= set(AKS_LOG_CATEGORIES) | {"kube-audit"}
        if "audit" in groups:
            cats |= {"kube-audit", "kube-audit-admin", "guard"}
        out.append((d, cats))
    return out


def _missing(
    ctx: Ctx, res: Resource, attr: str, have: Any, want: tuple[str, ...] | list[str]
) -> None:
    if have is UNKNOWN:
        ctx.unknown(res, f"{attr} known only after apply", attr)
        return
    missing = [w for w in want if w not in set(have or [])]
    if missing:
        ctx.fail(res, f"{attr} lacks {', '.join(missing)}", attr, f"add {', '.join(missing)}")
    else:
        ctx.ok(res, f"{attr} has {', '.join(want)}", attr)


@rule
class ControlPlaneLogging(Rule):
    id = "K8S-7"
    title = "Enhanced logging: every control-plane log type"
    brief = "Enhanced logging: enabled"
    severity = "high"
    judged: ClassVar[dict[str, str]] = {
        "aws": f"aws_eks_cluster enabled_cluster_log_types has {', '.join(EKS_LOG_TYPES)}",
        "azure": f"a diagnostic setting on the cluster with {', '.join(AKS_LOG_CATEGORIES)}",
        "gcp": f"logging_config enable_components has {', '.join(GKE_LOGGING_COMPONENTS)}; "
        "the _Default log bucket keeps logs --log-retention-days "
        "(google_logging_project_bucket_config)",
    }

    def aws(self, ctx: Ctx) -> None:
        for c in ctx.model.of("aws_eks_cluster"):
            _missing(
                ctx,
                c,
                "enabled_cluster_log_types",
                c.get("enabled_cluster_log_types"),
                EKS_LOG_TYPES,
            )

    def azure(self, ctx: Ctx) -> None:
        settings = aks_log_categories(ctx)
        if not settings:
            ctx.fail(
                None,
                "no diagnostic setting sends the cluster's logs",
                "azurerm_monitor_diagnostic_setting",
                "add one with the control-plane categories",
            )
        for d, cats in settings:
            _missing(ctx, d, "enabled_log", sorted(cats), AKS_LOG_CATEGORIES)

    def gcp(self, ctx: Ctx) -> None:
        for c in ctx.model.of("google_container_cluster"):
            _missing(
                ctx,
                c,
                "logging_config.0.enable_components",
                c.get("logging_config.0.enable_components"),
                GKE_LOGGING_COMPONENTS,
            )
        gke.log_bucket_retention(ctx)


_ = cidrs
