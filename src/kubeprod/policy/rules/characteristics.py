"""CHR-1..7: the brief's Characteristics section."""

from __future__ import annotations

import re
from typing import Any, ClassVar

from kubeprod.policy.plan_model import UNKNOWN, Model, Resource
from kubeprod.policy.rules import aks, gke
from kubeprod.policy.rules.base import Ctx, Finding, Options, Rule, blocks, rule, show
from kubeprod.policy.rules.lookup import (
    AUTO_MODE,
    SELF_MANAGED,
    NodeShape,
    aws_node_shapes,
    azure_pools,
    gcp_pools,
    known,
    subnet_zones,
)
from kubeprod.policy.rules.manifests import autoscaler_flags


def prevent_destroy(ctx: Ctx, res: Resource) -> None:
    if res.prevent_destroy is None:
        ctx.unknown(
            res,
            "lifecycle.prevent_destroy is in the configuration, not the plan JSON; "
            "pass the plan with its directory to judge it",
            "lifecycle.prevent_destroy",
        )
    elif res.prevent_destroy:
        ctx.ok(res, "lifecycle.prevent_destroy = true", "lifecycle.prevent_destroy")
    else:
        ctx.fail(
            res,
            "can be destroyed by a plan (no lifecycle.prevent_destroy)",
            "lifecycle.prevent_destroy",
            "add lifecycle { prevent_destroy = true }",
        )


@rule
class LongLived(Rule):
    id = "CHR-1"
    title = "Long-lived: the cluster and its keys cannot be destroyed by accident"
    brief = "Lifecycle: Long-lived, rarely destroyed"
    severity = "high"
    judged: ClassVar[dict[str, str]] = {
        "aws": "aws_eks_cluster and aws_kms_key have lifecycle.prevent_destroy (from the "
        "configuration); aws_kms_key deletion_window_in_days >= 30",
        "azure": "azurerm_kubernetes_cluster prevent_destroy; a CanNotDelete "
        "azurerm_management_lock; azurerm_key_vault purge_protection_enabled",
        "gcp": "google_container_cluster deletion_protection = true and prevent_destroy",
    }

    def aws(self, ctx: Ctx) -> None:
        if ctx.need(ctx.model.of("aws_eks_cluster"), "aws_eks_cluster"):
            for c in ctx.model.of("aws_eks_cluster"):
                prevent_destroy(ctx, c)
        days = ctx.opt.kms_deletion_window_days
        for key in ctx.model.of("aws_kms_key"):
            prevent_destroy(ctx, key)
            ctx.check(
                key,
                "deletion_window_in_days",
                lambda v: isinstance(v, int) and v >= days,
                f"deletion_window_in_days = {days} (a deleted key takes its data with it)",
            )

    def azure(self, ctx: Ctx) -> None:
        clusters = ctx.model.of("azurerm_kubernetes_cluster")
        if ctx.need(clusters, "azurerm_kubernetes_cluster"):
            for c in clusters:
                prevent_destroy(ctx, c)
        locks = [
            lock
            for lock in ctx.model.of("azurerm_management_lock")
            if lock.get("lock_level") in ("CanNotDelete", "ReadOnly", UNKNOWN)
        ]
        if locks:
            ctx.ok(locks[0], "a CanNotDelete management lock protects the resource group")
        else:
            ctx.fail(
                None,
                "no CanNotDelete azurerm_management_lock",
                "azurerm_management_lock.lock_level",
                'add an azurerm_management_lock with lock_level = "CanNotDelete" on the '
                "resource group",
            )
        for vault in ctx.model.of("azurerm_key_vault"):
            ctx.check(vault, "purge_protection_enabled", lambda v: v is True, "true")

    def gcp(self, ctx: Ctx) -> None:
        clusters = ctx.model.of("google_container_cluster")
        if ctx.need(clusters, "google_container_cluster"):
            for c in clusters:
                ctx.check(c, "deletion_protection", lambda v: v is True, "true", missing_ok=True)
                prevent_destroy(ctx, c)


BURSTABLE = re.compile(r"^(t\d[a-z]?\.|B\d|Standard_B|e2-(micro|small|medium)|f1-|g1-)")


@rule
class ReliabilityOverCost(Rule):
    id = "CHR-2"
    title = "Reliability over cost: production-grade capacity and an SLA-backed control plane"
    brief = "Cost: Optimized for reliability over cost"
    severity = "medium"
    judged: ClassVar[dict[str, str]] = {
        "aws": "aws_eks_node_group instance_types are not burstable (t2/t3/t4g); EKS's "
        "control-plane SLA is built in",
        "azure": 'azurerm_kubernetes_cluster sku_tier = "Standard" or "Premium" (uptime SLA)',
        "gcp": "google_container_cluster location is a region (regional control plane), not a zone",
    }

    def aws(self, ctx: Ctx) -> None:
        for shape in aws_node_shapes(ctx.model):
            g = shape.res
            if shape.shape == AUTO_MODE:
                ctx.ok(g, "EKS Auto Mode built-in pools use general-purpose (c/m/r) instances")
                continue
            types = shape.instance_types(ctx.model)
            attr = "instance_types" if shape.shape != SELF_MANAGED else "launch_template"
            if types is UNKNOWN or (isinstance(types, list) and not known(types)):
                ctx.unknown(g, "instance types known only after apply", attr)
            elif types is None:
                ctx.unknown(g, "instance type comes from a launch template not at hand", attr)
            elif types and not any(BURSTABLE.match(str(t)) for t in types):
                ctx.ok(g, f"instance types {types}", attr)
            else:
                ctx.fail(
                    g,
                    f"instance types {types}",
                    attr,
                    "production-grade types (m5.large or larger), never burstable t*",
                )

    def azure(self, ctx: Ctx) -> None:
        for c in ctx.model.of("azurerm_kubernetes_cluster"):
            ctx.check(c, "sku_tier", lambda v: v in ("Standard", "Premium"), '"Standard"')

    def gcp(self, ctx: Ctx) -> None:
        for c in ctx.model.of("google_container_cluster"):
            ctx.check(
                c,
                "location",
                lambda v: isinstance(v, str) and not re.search(r"-[a-z]$", v),
                "the region (e.g. europe-west1), not a zone: a regional cluster has a "
                "replicated control plane",
            )


@rule
class MultiAz(Rule):
    id = "CHR-3"
    title = "Multi-AZ: nodes spread over at least three zones"
    brief = "HA: Multi-AZ deployment required"
    severity = "critical"
    judged: ClassVar[dict[str, str]] = {
        "aws": "the system groups together, and the workload groups together, have subnet_ids "
        "in >= 3 zones (a group per zone counts; subnet count when zones are not resolvable)",
        "azure": "the system pools and the user pools each cover >= 3 zones",
        "gcp": "every google_container_node_pool runs in >= 3 node_locations",
    }

    def aws(self, ctx: Ctx) -> None:
        shapes = aws_node_shapes(ctx.model)
        if not shapes:
            ctx.fail(
                None,
                "no EKS nodes in the configuration (no aws_eks_node_group, no Auto Scaling "
                "group tagged kubernetes.io/cluster/NAME, no Auto Mode compute_config)",
                "aws_eks_node_group",
                "add node groups spread over the zones",
            )
            return
        # System and workload nodes each spread over the zones, as one group or as a group
        # per zone (docs/aws.md, item 7): judge each set of a cluster together.
        sets: dict[tuple[str, bool], list[NodeShape]] = {}
        for shape in shapes:
            sets.setdefault((shape.cluster, shape.system), []).append(shape)
        for (_, system), members in sets.items():
            self._aws_set(ctx, "system" if system else "workload", members)

    def _aws_set(self, ctx: Ctx, role: str, members: list[NodeShape]) -> None:
        zones: set[str] = set()
        at_most = 0  # distinct subnets where zones cannot be followed: an upper bound
        unknown = False
        for shape in members:
            ids = shape.subnets()
            found = subnet_zones(ctx.model, ids)
            if found is not UNKNOWN:
                zones |= set(found)
            elif isinstance(ids, list) and known(ids):
                at_most += len(set(ids))
            else:
                unknown = True
        first, last, attr = members[0].res, members[-1].res, members[0].subnets_attr
        kind = members[0].shape
        if len(zones) >= ctx.opt.min_zones:
            ctx.ok(first, f"{kind}: the {role} nodes' {attr} span zones {sorted(zones)}", attr)
        elif unknown or (at_most and len(zones) + at_most >= ctx.opt.min_zones):
            ctx.unknown(
                first,
                f"{kind}: the zones of the {role} nodes' {attr} are known only after apply (pass "
                "the plan with its directory so the subnets can be followed)",
                attr,
            )
        else:
            ctx.fail(
                last,
                f"{kind}: the {role} nodes' {attr} span {len(zones) + at_most} zone(s) at most "
                f"{sorted(zones)}",
                attr,
                f"private subnets in {ctx.opt.min_zones} zones over the {role} node group(s)",
            )

    def azure(self, ctx: Ctx) -> None:
        for mode in ("System", "User"):
            pools = [(r, p, a) for r, p, m, a in azure_pools(ctx.model) if m == mode]
            if not pools:
                ctx.fail(None, f"no {mode} node pool", "node pools", f"add {mode} pools")
                continue
            zones: set[Any] = set()
            for _, p, _ in pools:
                zones.update(p.get("zones") or [])
            if UNKNOWN in zones:
                ctx.unknown(pools[0][0], f"{mode} pool zones known only after apply", "zones")
            elif len(zones) >= ctx.opt.min_zones:
                ctx.ok(pools[0][0], f"{mode} pools cover zones {sorted(zones)}", "zones")
            else:
                res, _, prefix = pools[-1]
                ctx.fail(
                    res,
                    f"{mode} pools cover zones {sorted(zones)}",
                    f"{prefix}zones",
                    f"spread the {mode} pools over {ctx.opt.min_zones} zones",
                )

    def gcp(self, ctx: Ctx) -> None:
        system, workload = gcp_pools(ctx.model)
        if not ctx.need(system + workload, "google_container_node_pool"):
            return
        for pool in system + workload:
            zones = pool.get("node_locations")
            if zones is None:
                clusters = ctx.model.of("google_container_cluster")
                zones = clusters[0].get("node_locations") if clusters else None
            if zones is UNKNOWN:
                ctx.unknown(pool, "node_locations known only after apply", "node_locations")
            elif isinstance(zones, list) and len(set(zones)) >= ctx.opt.min_zones:
                ctx.ok(pool, f"node_locations = {zones}", "node_locations")
            else:
                ctx.fail(
                    pool,
                    f"node_locations is {show(zones)}",
                    "node_locations",
                    f"{ctx.opt.min_zones} zones of the region",
                )


@rule
class OnDemandOnly(Rule):
    id = "CHR-4"
    title = "On-demand capacity only: no Spot or Preemptible nodes"
    brief = "Instances: Production-grade instance types, no Spot/Preemptible"
    severity = "critical"
    judged: ClassVar[dict[str, str]] = {
        "aws": 'aws_eks_node_group capacity_type = "ON_DEMAND" (unset is on-demand); no '
        "aws_launch_template with spot instance_market_options",
        "azure": 'no node pool with priority = "Spot"',
        "gcp": "no node_config with spot or preemptible = true (pools and cluster)",
    }

    def aws(self, ctx: Ctx) -> None:
        for g in ctx.model.of("aws_eks_node_group"):
            ctx.check(
                g, "capacity_type", lambda v: v == "ON_DEMAND", '"ON_DEMAND"', missing_ok=True
            )
        for shape in aws_node_shapes(ctx.model):
            if shape.shape == AUTO_MODE:
                ctx.ok(shape.res, "EKS Auto Mode built-in node pools run on-demand instances")
            elif shape.shape == SELF_MANAGED:
                mixed = blocks(shape.res.get("mixed_instances_policy"))
                dist = blocks(mixed[0].get("instances_distribution")) if mixed else []
                attr = (
                    "mixed_instances_policy.0.instances_distribution.0."
                    "on_demand_percentage_above_base_capacity"
                )
                if dist:
                    ctx.check(shape.res, attr, lambda v: v == 100, "100", missing_ok=True)
                else:
                    ctx.ok(shape.res, "Auto Scaling group without a Spot mix", "")
        for lt in ctx.model.of("aws_launch_template"):
            market = blocks(lt.get("instance_market_options"))
            if any(m.get("market_type") == "spot" for m in market):
                ctx.fail(
                    lt,
                    "requests Spot instances",
                    "instance_market_options",
                    "remove instance_market_options (on-demand)",
                )

    def azure(self, ctx: Ctx) -> None:
        for res, _pool, _, prefix in azure_pools(ctx.model):
            if prefix:
                continue  # the default pool is always Regular
            ctx.check(res, "priority", lambda v: v == "Regular", '"Regular"', missing_ok=True)

    def gcp(self, ctx: Ctx) -> None:
        for res in ctx.model.of("google_container_node_pool", "google_container_cluster"):
            for i, _config in enumerate(blocks(res.get("node_config"))):
                for attr in ("spot", "preemptible"):
                    ctx.check(
                        res,
                        f"node_config.{i}.{attr}",
                        lambda v: v is not True,
                        "false",
                        missing_ok=True,
                    )


@rule
class NatPerAz(Rule):
    id = "CHR-5"
    title = "A NAT gateway per availability zone"
    brief = "Networking: NAT gateway per AZ for high availability"
    severity = "high"
    judged: ClassVar[dict[str, str]] = {
        "aws": "public aws_nat_gateway count >= zones, in distinct subnets when known",
        "azure": "zonal azurerm_nat_gateway (one zone each) in >= 3 distinct zones",
        "gcp": "a google_compute_router_nat (Cloud NAT is regional and zone-redundant by "
        "design: one per region meets the intent, see docs/gcp.md)",
    }

    def aws(self, ctx: Ctx) -> None:
        nats = [
            n for n in ctx.model.of("aws_nat_gateway") if n.get("connectivity_type") != "private"
        ]
        if not ctx.need(nats, "aws_nat_gateway"):
            return
        subnets = [n.get("subnet_id") for n in nats]
        if not known(subnets):
            ctx.unknown(
                nats[0],
                f"{len(nats)} NAT gateway(s) whose subnets are known only after apply",
                "subnet_id",
            )
            return
        distinct = len(set(subnets))
        zones = subnet_zones(ctx.model, subnets)
        if zones is not UNKNOWN:
            distinct = len(zones)
        if distinct >= ctx.opt.min_zones:
            for n in nats:
                ctx.ok(n, f"one of {len(nats)} NAT gateways, one per zone")
        else:
            ctx.fail(
                nats[0],
                f"{distinct} NAT gateway(s) serve {ctx.opt.min_zones} zones: losing its zone "
                "cuts the others' egress",
                "for_each",
                "one aws_nat_gateway per zone (for_each over the zones), each private route "
                "table routing to its own zone's gateway",
            )

    def azure(self, ctx: Ctx) -> None:
        nats = ctx.model.of("azurerm_nat_gateway")
        if not ctx.need(nats, "azurerm_nat_gateway"):
            return
        zones: set[Any] = set()
        for n in nats:
            z = n.get("zones")
            if z is UNKNOWN:
                ctx.unknown(n, "zones known only after apply", "zones")
            elif not isinstance(z, list) or len(z) != 1:
                ctx.fail(n, f"zones is {show(z)}", "zones", "exactly one zone per NAT gateway")
            else:
                zones.update(z)
        if len(zones) >= ctx.opt.min_zones:
            ctx.ok(nats[0], f"NAT gateways in zones {sorted(zones)}", "zones")
        elif zones:
            ctx.fail(
                nats[0],
                f"NAT gateways cover zones {sorted(zones)} only",
                "zones",
                f"one zonal NAT gateway in each of {ctx.opt.min_zones} zones",
            )

    def gcp(self, ctx: Ctx) -> None:
        nats = ctx.model.of("google_compute_router_nat")
        if ctx.need(nats, "google_compute_router_nat"):
            for n in nats:
                ctx.ok(n, "Cloud NAT is regional and zone-redundant")


def _minutes(text: Any) -> float | None:
    m = re.fullmatch(r"(\d+(?:\.\d+)?)([smh]?)", str(text).strip())
    if not m:
        return None
    return float(m.group(1)) * {"s": 1 / 60, "m": 1, "h": 60, "": 1}[m.group(2)]


def _flag_values(flags: list[Any]) -> dict[str, str]:
    """--name=value flags -> {name: value}."""
    return dict(f.lstrip("-").split("=", 1) for f in flags if isinstance(f, str) and "=" in f)


def _scale_down(parsed: dict[str, str]) -> dict[str, Any]:
    keys = (
        "scale-down-delay-after-add",
        "scale-down-unneeded-time",
        "scale-down-utilization-threshold",
    )
    return {k: parsed.get(k) for k in keys}


@rule
class ConservativeScaleDown(Rule):
    id = "CHR-6"
    title = "Conservative scale-down"
    brief = "Autoscaling: Conservative scale-down policies"
    severity = "medium"
    judged: ClassVar[dict[str, str]] = {
        "aws": "the Cluster Autoscaler Deployment of the manifests (else the output "
        "cluster_autoscaler_flags): scale-down delays >= 10m, utilization threshold <= 0.5, "
        "balance-similar-node-groups on; not judged when neither is given",
        "azure": "auto_scaler_profile scale_down_delay_after_add / scale_down_unneeded >= 10m "
        "(set explicitly), scale_down_utilization_threshold <= 0.5",
        "gcp": 'cluster_autoscaling autoscaling_profile is not "OPTIMIZE_UTILIZATION"',
    }

    def _judge(self, ctx: Ctx, res: Resource | None, settings: dict[str, Any], at: Any) -> None:
        low, high = ctx.opt.scale_down_min_minutes, ctx.opt.scale_down_max_threshold
        for name, value in settings.items():
            if value is UNKNOWN:
                ctx.unknown(res, f"{name} known only after apply", name, at=at)
                continue
            if "threshold" in name:
                good = value is not None and float(value) <= high
                want = f"<= {high}"
            else:
                mins = _minutes(value) if value is not None else None
                good = mins is not None and mins >= low
                want = f">= {low}m (e.g. 20m)"
            if good:
                ctx.ok(res, f"{name} = {show(value)}", name, at=at)
            else:
                ctx.fail(res, f"{name} is {show(value)}", name, want, at=at)

    reads_manifests: ClassVar[bool] = True

    def run(self, model: Model, cloud: str, options: Options) -> list[Finding]:
        """On a directory of plain manifests only the EKS autoscaler Deployment is judged."""
        if model.source == "manifests" and cloud != "aws":
            ctx = Ctx(self, model, cloud, options)
            ctx.not_judged(f"{cloud} keeps its autoscaler settings in Terraform, not manifests")
            return ctx.findings
        return super().run(model, cloud, options)

    def _from_manifests(self, ctx: Ctx) -> bool:
        found = autoscaler_flags(ctx.model.manifests or [])
        if found is None:
            return False
        deployment, flags = found
        at = (f"Deployment/kube-system/{deployment['metadata']['name']}", None, None)
        parsed = _flag_values(flags)
        self._judge(ctx, None, _scale_down(parsed), at)
        balance = parsed.get("balance-similar-node-groups")
        if balance == "true" or "--balance-similar-node-groups" in flags:
            ctx.ok(None, "balance-similar-node-groups on", "balance-similar-node-groups", at=at)
        else:
            ctx.fail(
                None,
                f"balance-similar-node-groups is {balance or 'unset'}: per-zone groups drift apart",
                "--balance-similar-node-groups",
                "true",
                at=at,
            )
        return True

    def aws(self, ctx: Ctx) -> None:
        if self._from_manifests(ctx):
            return
        flags = ctx.model.outputs.get("cluster_autoscaler_flags")
        if not isinstance(flags, list):
            ctx.not_judged(
                "Cluster Autoscaler's flags are not in this configuration (no "
                "cluster_autoscaler_flags output): check its deployment by hand"
            )
            return
        settings = _scale_down(_flag_values(flags))
        self._judge(ctx, None, settings, ("output.cluster_autoscaler_flags", None, None))

    def azure(self, ctx: Ctx) -> None:
        for c in ctx.model.of("azurerm_kubernetes_cluster"):
            profile = (blocks(c.get("auto_scaler_profile")) or [{}])[0]
            settings = {
                f"auto_scaler_profile.0.{k}": profile.get(k)
                for k in (
                    "scale_down_delay_after_add",
                    "scale_down_unneeded",
                    "scale_down_utilization_threshold",
                )
            }
            self._judge(ctx, c, settings, None)

    def gcp(self, ctx: Ctx) -> None:
        for c in ctx.model.of("google_container_cluster"):
            ctx.check(
                c,
                "cluster_autoscaling.0.autoscaling_profile",
                lambda v: v != "OPTIMIZE_UTILIZATION",
                '"BALANCED"',
                missing_ok=True,
            )


@rule
class MonitoringAlerting(Rule):
    id = "CHR-7"
    title = "Enhanced monitoring with alerts that reach someone"
    brief = "Monitoring: Enhanced monitoring and alerting"
    severity = "medium"
    judged: ClassVar[dict[str, str]] = {
        "aws": "aws_eks_addon amazon-cloudwatch-observability (Container Insights) and "
        "aws_cloudwatch_metric_alarm with alarm_actions",
        "azure": "cluster oms_agent or monitor_metrics, each with its data collection rule "
        "associated (Prometheus to an Azure Monitor workspace, Container Insights), and "
        "azurerm_monitor_metric_alert with an action",
        "gcp": "monitoring_config managed_prometheus enabled, and "
        "google_monitoring_alert_policy with notification_channels; GKE cluster notifications "
        "published (notification_config pubsub) and alerted on from their log (GKE docs, "
        "cluster notifications)",
    }

    def _alerts(self, ctx: Ctx, alerts: list[Resource], attr: str, what: str) -> None:
        if not ctx.need(alerts, what):
            return
        for a in alerts:
            value = a.get(attr)
            if value is UNKNOWN or (isinstance(value, list) and value):
                ctx.ok(a, f"{attr} set", attr)
            else:
                ctx.fail(a, f"{attr} is empty: nobody hears it", attr, "the team's channel")

    def aws(self, ctx: Ctx) -> None:
        insights = [
            a
            for a in ctx.model.of("aws_eks_addon")
            if a.get("addon_name") == "amazon-cloudwatch-observability"
        ]
        if insights:
            ctx.ok(insights[0], "Container Insights add-on installed", "addon_name")
        else:
            ctx.fail(
                None,
                "no amazon-cloudwatch-observability add-on",
                "aws_eks_addon.addon_name",
                'add aws_eks_addon with addon_name = "amazon-cloudwatch-observability"',
            )
        self._alerts(
            ctx,
            ctx.model.of("aws_cloudwatch_metric_alarm"),
            "alarm_actions",
            "aws_cloudwatch_metric_alarm",
        )

    def azure(self, ctx: Ctx) -> None:
        for c in ctx.model.of("azurerm_kubernetes_cluster"):
            if blocks(c.get("oms_agent")) or c.get("monitor_metrics"):
                ctx.ok(c, "Container Insights / managed Prometheus on", "oms_agent")
            else:
                ctx.fail(c, "no oms_agent or monitor_metrics", "oms_agent", "add oms_agent")
        aks.monitoring_wired(ctx)
        self._alerts(
            ctx,
            ctx.model.of("azurerm_monitor_metric_alert"),
            "action",
            "azurerm_monitor_metric_alert",
        )

    def gcp(self, ctx: Ctx) -> None:
        for c in ctx.model.of("google_container_cluster"):
            ctx.check(
                c,
                "monitoring_config.0.managed_prometheus.0.enabled",
                lambda v: v is True,
                "true",
            )
        self._alerts(
            ctx,
            ctx.model.of("google_monitoring_alert_policy"),
            "notification_channels",
            "google_monitoring_alert_policy",
        )
        gke.cluster_notifications(ctx)
