"""AKS constraints from Microsoft's documentation and the reference modules.

Each function judges one documented constraint and is called from the rule of the
requirement it protects (SEC-8 calls `kms_vault_mode`, ...). They read the wiring between
resources (`Resource.refs`: which key the cluster's KMS uses, what a role assignment waits
for), which a rendered directory carries even where values are known only after apply.
Sources (repository and file) are in each docstring and in shared/design/cloud-review.md.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from kubeprod.policy.plan_model import UNKNOWN, Resource
from kubeprod.policy.rules.base import Ctx, blocks, cidrs, show
from kubeprod.policy.rules.lookup import azure_pools

KMS_DOC = "MicrosoftDocs/azure-aks-docs articles/aks/use-kms-etcd-encryption.md"
VNET_DOC = "MicrosoftDocs/azure-aks-docs articles/aks/api-server-vnet-integration.md"
ADMIN_ROLE = "Azure Kubernetes Service RBAC Cluster Admin"
PROMETHEUS_STREAM = "Microsoft-PrometheusMetrics"
# Container Insights streams: the default group, or the individual tables.
INSIGHTS_STREAM_PREFIXES = (
    "Microsoft-ContainerInsights",
    "Microsoft-ContainerLog",
    "Microsoft-Kube",
)
# Inbound default rules every NSG ends with (AllowVnetInBound, AllowAzureLoadBalancerInBound,
# DenyAllInBound).
DEFAULT_INBOUND = (
    {"name": "AllowVnetInBound", "priority": 65000, "access": "Allow",
     "source_address_prefix": "VirtualNetwork"},
    {"name": "AllowAzureLoadBalancerInBound", "priority": 65001, "access": "Allow",
     "source_address_prefix": "AzureLoadBalancer"},
    {"name": "DenyAllInBound", "priority": 65500, "access": "Deny", "source_address_prefix": "*"},
)  # fmt: skip


# --- wiring --------------------------------------------------------------------------------


def address_of(reference: str) -> str:
    """'azurerm_key_vault_key.etcd.id' -> 'azurerm_key_vault_key.etcd' (data. kept);
    module paths kept and instance keys dropped: 'module.aks.azurerm_x.y[0].id' ->
    'module.aks.azurerm_x.y'."""
    parts = re.sub(r"\[[^\]]*\]", "", reference).split(".")
    prefix: list[str] = []
    while len(parts) > 2 and parts[0] == "module":
        prefix, parts = prefix + parts[:2], parts[2:]
    return ".".join(prefix + (parts[:3] if parts[0] == "data" else parts[:2]))


def targets(res: Resource, path: str) -> list[str]:
    """Addresses (without instance keys) the expressions at `path` refer to."""
    return sorted({address_of(r) for r in res.refs.get(path, [])})


def refers_to(res: Resource, address: str) -> bool:
    return any(address_of(r) == address for names in res.refs.values() for r in names)


def by_address(ctx: Ctx, address: str) -> list[Resource]:
    """Every instance of the resource `type.name` (for_each instances included)."""
    return [r for r in ctx.model.resources if r.config_address == address]


def _judgeable(ctx: Ctx, res: Resource) -> bool:
    """Wiring is only in a rendered directory; from a plan alone, say it is not judged."""
    if not res.refs:
        ctx.unknown(res, "the configuration's references are not at hand (judge a directory)")
        return False
    return True


# --- SEC-8: KMS -------------------------------------------------------------------------------


def kms_vault_mode(ctx: Ctx) -> None:
    """SEC-8: the Key Vault matches the KMS network mode, as AKS documents it.

    Source: MicrosoftDocs/azure-aks-docs `articles/aks/use-kms-etcd-encryption.md`:
    public mode ("Public") does not support a vault firewall ("allow public access from
    specific virtual networks and IP addresses" or "disable public access" blocks the KMS
    plugin); private mode ("Private") needs the vault's public access disabled, a private
    endpoint ("creating or updating keys in a private key vault that doesn't have a
    private endpoint isn't supported") and API Server VNet Integration.
    """
    for c in ctx.model.of("azurerm_kubernetes_cluster"):
        kms = blocks(c.get("key_management_service"))
        if not kms or not _judgeable(ctx, c):
            continue
        mode = kms[0].get("key_vault_network_access") or "Public"
        keys = targets(c, "key_management_service.0.key_vault_key_id")
        vaults = sorted(
            {v for k in keys for r in by_address(ctx, k) for v in targets(r, "key_vault_id")}
        )
        found = [v for a in vaults for v in by_address(ctx, a)]
        if not found:
            ctx.unknown(
                c, "the KMS key's vault is not in this configuration", "key_management_service"
            )
            continue
        for vault in found:
            if mode == "Public":
                _public_vault(ctx, vault)
            elif mode == "Private":
                _private_vault(ctx, c, vault)
            else:
                ctx.unknown(
                    c, f"key_vault_network_access is {show(mode)}", "key_management_service"
                )


def _public_vault(ctx: Ctx, vault: Resource) -> None:
    public = vault.get("public_network_access_enabled")
    action = vault.get("network_acls.0.default_action")
    if public is False:
        ctx.fail(
            vault,
            "public-vault KMS with the vault's public access disabled: the KMS plugin cannot "
            f"reach it ({KMS_DOC}, Limitations)",
            "public_network_access_enabled",
            'true, or key_vault_network_access = "Private" with a private endpoint',
        )
    elif action == "Deny":
        ctx.fail(
            vault,
            "public-vault KMS behind a vault firewall (network_acls default_action Deny) is "
            f"unsupported: it blocks the KMS plugin ({KMS_DOC}, Limitations)",
            "network_acls.0.default_action",
            '"Allow" (RBAC-only vault), or the private mode with a private endpoint',
        )
    elif public is UNKNOWN or action is UNKNOWN:
        ctx.unknown(vault, "vault network settings known only after apply", "network_acls")
    else:
        ctx.ok(vault, "public-vault KMS with an open, RBAC-only vault", "network_acls")


def _private_vault(ctx: Ctx, cluster: Resource, vault: Resource) -> None:
    if vault.get("public_network_access_enabled") is not False:
        ctx.fail(
            vault,
            f"private-vault KMS needs the vault's public access disabled ({KMS_DOC})",
            "public_network_access_enabled",
            "false",
        )
    endpoints = [
        p for p in ctx.model.of("azurerm_private_endpoint") if refers_to(p, vault.config_address)
    ]
    if not endpoints:
        ctx.fail(
            vault,
            "private-vault KMS without a private endpoint to the vault: keys cannot be "
            f"created or updated ({KMS_DOC})",
            "azurerm_private_endpoint",
            "an azurerm_private_endpoint to the vault (subresource vault) and its DNS zone",
        )
    if cluster.get("api_server_access_profile.0.virtual_network_integration_enabled") is not True:
        ctx.fail(
            cluster,
            f"private-vault KMS works only with API Server VNet Integration ({KMS_DOC})",
            "api_server_access_profile.0.virtual_network_integration_enabled",
            "true",
        )
    elif endpoints and vault.get("public_network_access_enabled") is False:
        ctx.ok(vault, "private-vault KMS: public access off, private endpoint, VNet integration")


def kms_key_rotation(ctx: Ctx) -> None:
    """SEC-8: the cluster takes a versioned KMS key ID, and the key can rotate.

    Source: MicrosoftDocs/azure-aks-docs `articles/aks/use-kms-etcd-encryption.md`
    ("Rotate existing keys": the cluster is updated with the new key ID, key name or
    version, then every secret is rewritten; KMS uses two keys at once, so the previous
    version must stay valid until the next rotation). A versionless ID is not a KMS key
    identifier; a key without a rotation policy never rotates.
    """
    for c in ctx.model.of("azurerm_kubernetes_cluster"):
        if not blocks(c.get("key_management_service")) or not _judgeable(ctx, c):
            continue
        refs = c.refs.get("key_management_service.0.key_vault_key_id", [])
        attr = "key_management_service.0.key_vault_key_id"
        if any(r.endswith(".versionless_id") for r in refs):
            ctx.fail(
                c,
                "KMS takes a versioned key ID; rotation moves the cluster to a new version "
                f"({KMS_DOC})",
                attr,
                "azurerm_key_vault_key.<key>.id (versioned)",
            )
            continue
        for key in [k for a in targets(c, attr) for k in by_address(ctx, a)]:
            policy = blocks(key.get("rotation_policy"))
            automatic = blocks(policy[0].get("automatic")) if policy else []
            expire = policy[0].get("expire_after") if policy else None
            if not automatic:
                ctx.fail(
                    key,
                    "the KMS key never rotates (no rotation_policy automatic block)",
                    "rotation_policy",
                    'rotation_policy { automatic { time_after_creation = "P365D" } }',
                )
            elif expire not in (None, UNKNOWN):
                ctx.fail(
                    key,
                    "the KMS key versions expire: KMS keeps using the previous version until the "
                    f"next rotation and the API server stops when it expires ({KMS_DOC})",
                    "rotation_policy.0.expire_after",
                    "no expire_after on the KMS key",
                )
            else:
                ctx.ok(
                    key, "KMS key rotates by Key Vault policy; versioned ID on the cluster", attr
                )


def rbac_propagation(ctx: Ctx) -> None:
    """SEC-8: key operations and the cluster wait for role assignments to propagate.

    Source: Azure/terraform-azurerm-avm-res-keyvault-vault (`wait_for_rbac_before_key_operations`,
    a `time_sleep` after the role assignments, before keys are created), cloud-review.md.
    Azure RBAC assignments take effect after a delay; a key or a KMS cluster created in the
    same apply right after its role assignment fails with 403 until it has propagated.
    """
    for key in ctx.model.of("azurerm_key_vault_key"):
        if _judgeable(ctx, key):
            _waits(ctx, key, _grants(ctx, key, vault_only=True))
    for c in ctx.model.of("azurerm_kubernetes_cluster"):
        if _judgeable(ctx, c):
            _waits(ctx, c, _grants(ctx, c, vault_only=False))


def _grants(ctx: Ctx, res: Resource, *, vault_only: bool) -> list[Resource]:
    """Role assignments `res` needs: on its vault (keys) or to the cluster's identities."""
    if vault_only:
        vaults = set(targets(res, "key_vault_id"))
        return [
            a
            for a in ctx.model.of("azurerm_role_assignment")
            if set(targets(a, "scope")) & vaults
            and any(t.startswith("data.") for t in targets(a, "principal_id"))
        ]
    identities = set(targets(res, "identity.0.identity_ids")) | set(
        targets(res, "disk_encryption_set_id")
    )
    return [
        a
        for a in ctx.model.of("azurerm_role_assignment")
        if set(targets(a, "principal_id")) & identities and not refers_to(a, res.config_address)
    ]


def _waits(ctx: Ctx, res: Resource, grants: list[Resource]) -> None:
    sleeps = [
        s for a in targets(res, "depends_on") for s in by_address(ctx, a) if s.type == "time_sleep"
    ]
    waited = {a for s in sleeps for a in targets(s, "depends_on")}
    racing = sorted({g.config_address for g in grants} - waited)
    if racing:
        ctx.fail(
            res,
            f"{res.type} does not wait for the propagation of {', '.join(racing)}: it races "
            "the role assignments (AVM: time_sleep before key operations)",
            "depends_on",
            "depend on a time_sleep (create_duration 30s or more) that depends on those role "
            "assignments",
        )
    elif grants:
        ctx.ok(res, "waits for its role assignments to propagate (time_sleep)", "depends_on")


# --- SEC-3: disks and hosts -----------------------------------------------------------------


def ephemeral_disk_rotation(ctx: Ctx) -> None:
    """SEC-3: no ephemeral OS disks on a cluster whose disk key rotates automatically.

    Source: MicrosoftDocs/azure-aks-docs `articles/aks/azure-disk-customer-managed-keys.md`
    (a new key for ephemeral OS disks takes effect only when the pool is scaled to zero and
    back), and `use-kms-etcd-encryption.md` (scaling a KMS cluster's nodes to zero makes it
    unrecoverable): with `auto_key_rotation_enabled`, ephemeral OS disks are an outage path.
    """
    rotating = {
        s.config_address
        for s in ctx.model.of("azurerm_disk_encryption_set")
        if s.get("auto_key_rotation_enabled") is True
    }
    for c in ctx.model.of("azurerm_kubernetes_cluster"):
        if not set(targets(c, "disk_encryption_set_id")) & rotating:
            continue
        for res, pool, _, prefix in azure_pools(ctx.model):
            if res.type == "azurerm_kubernetes_cluster_node_pool" and not refers_to(
                res, c.config_address
            ):
                continue
            if pool.get("os_disk_type") == "Ephemeral":
                ctx.fail(
                    res,
                    "ephemeral OS disks on a disk encryption set with automatic key rotation: "
                    "the new key needs the pool scaled to zero "
                    "(azure-disk-customer-managed-keys.md)",
                    f"{prefix}os_disk_type",
                    '"Managed" (or turn auto_key_rotation_enabled off and rotate by runbook)',
                )
            else:
                ctx.ok(
                    res,
                    "managed OS disks rotate with the disk encryption set",
                    f"{prefix}os_disk_type",
                )


def host_encryption_registered(ctx: Ctx) -> None:
    """SEC-3: host encryption needs the EncryptionAtHost feature, registered as code.

    Source: MicrosoftDocs/azure-aks-docs `articles/aks/enable-host-encryption.md`
    (prerequisite: `az feature register --namespace Microsoft.Compute --name
    EncryptionAtHost`); the AVM module registers it with azapi; with azurerm 4.55 it is
    `azurerm_resource_provider_registration` with a `feature` block. The cluster must
    depend on it, or its pools are created before the feature is on.
    """
    hosts = [
        r for r, pool, _, _ in azure_pools(ctx.model) if pool.get("host_encryption_enabled") is True
    ]
    if not hosts:
        return
    registrations = [
        r
        for r in ctx.model.of("azurerm_resource_provider_registration")
        if r.get("name") == "Microsoft.Compute"
        and any(
            f.get("name") == "EncryptionAtHost" and f.get("registered") is True
            for f in blocks(r.get("feature"))
        )
    ]
    if not registrations:
        ctx.fail(
            hosts[0],
            "host_encryption_enabled without the EncryptionAtHost feature registered in this "
            "configuration (enable-host-encryption.md)",
            "azurerm_resource_provider_registration",
            'azurerm_resource_provider_registration "Microsoft.Compute" with feature { name = '
            '"EncryptionAtHost" registered = true }, and the cluster depending on it',
        )
        return
    wanted = {r.config_address for r in registrations}
    for c in ctx.model.of("azurerm_kubernetes_cluster"):
        if c.refs and not set(targets(c, "depends_on")) & wanted:
            ctx.fail(
                c,
                "the cluster does not wait for the EncryptionAtHost registration",
                "depends_on",
                "add the azurerm_resource_provider_registration to depends_on",
            )
        else:
            ctx.ok(c, "EncryptionAtHost registered as code before the cluster", "depends_on")


# --- CHR-7: monitoring ------------------------------------------------------------------------


def _rules_with_stream(ctx: Ctx, match: Any) -> list[Resource]:
    return [
        r
        for r in ctx.model.of("azurerm_monitor_data_collection_rule")
        if any(match(s) for flow in blocks(r.get("data_flow")) for s in flow.get("streams") or [])
    ]


def _associated(ctx: Ctx, cluster: Resource, attr: str, addresses: set[str]) -> bool:
    return any(
        set(targets(a, "target_resource_id")) == {cluster.config_address}
        and set(targets(a, attr)) & addresses
        for a in ctx.model.of("azurerm_monitor_data_collection_rule_association")
    )


def monitoring_wired(ctx: Ctx) -> None:
    """CHR-7: managed Prometheus and Container Insights have somewhere to send data.

    Sources: AVM managed cluster `modules/monitoring/main.tf` (data collection endpoint,
    rule with Microsoft-PrometheusMetrics to an Azure Monitor workspace, the rule's and the
    endpoint's (`configurationAccessEndpoint`) associations with the cluster);
    Azure/terraform-azurerm-aks `log_analytics.tf` (Container Insights data collection rule
    and its association). Without them `monitor_metrics` and `oms_agent` collect nothing.
    """
    for c in ctx.model.of("azurerm_kubernetes_cluster"):
        if not _judgeable(ctx, c):
            continue
        if c.get("monitor_metrics") is not None:
            rules = _rules_with_stream(ctx, lambda s: s == PROMETHEUS_STREAM)
            to_workspace = {
                r.config_address
                for r in rules
                if any(blocks(d.get("monitor_account")) for d in blocks(r.get("destinations")))
            }
            endpoints = {
                e for r in rules if r.config_address in to_workspace
                for e in targets(r, "data_collection_endpoint_id")
            }  # fmt: skip
            if not to_workspace or not _associated(ctx, c, "data_collection_rule_id", to_workspace):
                ctx.fail(
                    c,
                    "monitor_metrics (managed Prometheus) is on but no data collection rule with "
                    f"{PROMETHEUS_STREAM} to an Azure Monitor workspace is associated with the "
                    "cluster",
                    "monitor_metrics",
                    "azurerm_monitor_workspace + data collection endpoint + rule "
                    "(Microsoft-PrometheusMetrics, monitor_account) + association to the cluster",
                )
            elif not _associated(ctx, c, "data_collection_endpoint_id", endpoints):
                ctx.fail(
                    c,
                    "the Prometheus data collection endpoint is not associated with the cluster "
                    "(configurationAccessEndpoint)",
                    "monitor_metrics",
                    "an azurerm_monitor_data_collection_rule_association named "
                    '"configurationAccessEndpoint" with data_collection_endpoint_id',
                )
            else:
                ctx.ok(
                    c, "managed Prometheus wired to an Azure Monitor workspace", "monitor_metrics"
                )
        if blocks(c.get("oms_agent")):
            insights = {
                r.config_address
                for r in _rules_with_stream(
                    ctx, lambda s: isinstance(s, str) and s.startswith(INSIGHTS_STREAM_PREFIXES)
                )
            }
            if insights and _associated(ctx, c, "data_collection_rule_id", insights):
                ctx.ok(c, "Container Insights data collection rule associated", "oms_agent")
            else:
                ctx.fail(
                    c,
                    "oms_agent (Container Insights) without a Container Insights data collection "
                    "rule associated with the cluster",
                    "oms_agent",
                    "an azurerm_monitor_data_collection_rule with the "
                    "Microsoft-ContainerInsights-Group-Default stream and its association",
                )


# --- K8S-5: cluster admins ------------------------------------------------------------------


def cluster_admins(ctx: Ctx) -> None:
    """K8S-5: an AKS with local accounts off admits someone (the spec's ACCESS-1).

    Sources: AVM managed cluster `examples/waf-aligned/main.tf` (RBAC Cluster Admin to the
    deployer); Azure/AKS-Landing-Zone-Accelerator `Scenarios/AKS-Secure-Baseline-
    PrivateCluster` (Entra ID groups mapped to "Azure Kubernetes Service Cluster User Role"
    and "Azure Kubernetes Service RBAC Cluster Admin"); mspnp/aks-baseline
    `cluster-stamp.bicep` (`adminGroupObjectIDs` when Azure RBAC is off). With
    `local_account_disabled`, the local admin kubeconfig is gone and only Entra ID
    identities get in.
    """
    assignments = [
        a
        for a in ctx.model.of("azurerm_role_assignment")
        if a.get("role_definition_name") == ADMIN_ROLE
        or str(a.get("role_definition_id") or "").endswith("b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b")
    ]
    for c in ctx.model.of("azurerm_kubernetes_cluster"):
        if c.get("local_account_disabled") is not True:
            ctx.ok(
                c, "local accounts on: the local admin kubeconfig exists", "local_account_disabled"
            )
            continue
        groups = c.get("azure_active_directory_role_based_access_control.0.admin_group_object_ids")
        mine = [a for a in assignments if not c.refs or refers_to(a, c.config_address)]
        if isinstance(groups, list) and groups:
            ctx.ok(c, f"admin groups {groups}", "azure_active_directory_role_based_access_control")
        elif mine:
            ctx.ok(mine[0], f"{ADMIN_ROLE} assigned on the cluster")
        elif groups is UNKNOWN:
            ctx.unknown(c, "admin groups known only after apply", "admin_group_object_ids")
        else:
            ctx.fail(
                c,
                "local accounts are off and nobody is admin: no admin_group_object_ids and no "
                f"{ADMIN_ROLE} role assignment on the cluster",
                "azure_active_directory_role_based_access_control.0.admin_group_object_ids",
                f"list the admin groups in access.azure_admin_group_object_ids (kubeprod assigns "
                f"them {ADMIN_ROLE})",
            )


# --- NSGs -------------------------------------------------------------------------------------


def _matches_source(rule: dict[str, Any], source: str, tags: set[str]) -> bool:
    prefixes = [rule.get("source_address_prefix"), *(rule.get("source_address_prefixes") or [])]
    for prefix in [p for p in prefixes if isinstance(p, str)]:
        if prefix in ("*", "Any") or prefix in tags:
            return True
        try:
            net = ipaddress.ip_network(source, strict=False)
            if net.subnet_of(ipaddress.ip_network(prefix, strict=False)):  # type: ignore[arg-type]
                return True
        except (ValueError, TypeError):
            continue
    return False


def _matches_port(rule: dict[str, Any], port: int) -> bool:
    ranges = [rule.get("destination_port_range"), *(rule.get("destination_port_ranges") or [])]
    for r in [str(r) for r in ranges if r is not None]:
        if r == "*" or r == str(port):
            return True
        if "-" in r:
            low, _, high = r.partition("-")
            if low.isdigit() and high.isdigit() and int(low) <= port <= int(high):
                return True
    return False


def nsg_admits(nsg: Resource, source: str, port: int, tags: set[str]) -> tuple[bool, str]:
    """Whether inbound TCP from `source` (a CIDR or service tag) to `port` is allowed, and
    by which rule: the lowest-priority-number matching rule decides, defaults last."""
    rules = [
        r for r in blocks(nsg.get("security_rule")) if r.get("direction", "Inbound") == "Inbound"
    ]
    ordered = sorted(
        [r for r in rules if str(r.get("protocol", "*")).lower() in ("*", "tcp")],
        key=lambda r: int(r.get("priority") or 0),
    )
    for rule in [*ordered, *DEFAULT_INBOUND]:
        if _matches_source(rule, source, tags) and (
            rule in DEFAULT_INBOUND or _matches_port(rule, port)
        ):
            return rule.get("access") == "Allow", str(rule.get("name"))
    return False, "DenyAllInBound"


def _subnet_nsgs(ctx: Ctx, subnet_address: str) -> list[Resource]:
    nsgs = {
        n
        for a in ctx.model.of("azurerm_subnet_network_security_group_association")
        if subnet_address in targets(a, "subnet_id")
        for n in targets(a, "network_security_group_id")
    }
    return [r for n in sorted(nsgs) for r in by_address(ctx, n)]


def _prefixes(ctx: Ctx, subnet_address: str) -> list[str]:
    return [
        str(p)
        for s in by_address(ctx, subnet_address)
        for p in (s.get("address_prefixes") or [])
        if isinstance(p, str)
    ]


def apiserver_nsg(ctx: Ctx, *, public: bool) -> None:
    """K8S-4 / K8S-5: the API server subnet's NSG admits the traffic AKS documents.

    Source: MicrosoftDocs/azure-aks-docs `articles/aks/api-server-vnet-integration.md`
    ("NSG security rules": cluster subnet -> API server subnet TCP 443 and 4443, Azure Load
    Balancer -> 9988). `public` (K8S-5): the allow-listed operators reach the public
    endpoint through the same delegated subnet (inference, cloud-review.md), so an
    Internet deny there must not cover them.
    """
    for c in ctx.model.of("azurerm_kubernetes_cluster"):
        if c.get("api_server_access_profile.0.virtual_network_integration_enabled") is not True:
            continue
        if not _judgeable(ctx, c):
            continue
        subnets = targets(c, "api_server_access_profile.0.subnet_id")
        nsgs = [n for s in subnets for n in _subnet_nsgs(ctx, s)]
        if not nsgs:
            ctx.ok(c, "no NSG on the API server subnet: VNet traffic is allowed by default")
            continue
        if public:
            flows = [
                (str(r), 443, "allow-listed operators", {"Internet"})
                for r in cidrs(c.get("api_server_access_profile.0.authorized_ip_ranges") or [])
                if r.prefixlen > 0  # an open range already fails K8S-5 / SEC-2 on the cluster
            ]
        else:
            node_subnets = {
                t for res, _, _, prefix in azure_pools(ctx.model)
                for t in targets(res, f"{prefix}vnet_subnet_id")
            }  # fmt: skip
            flows = [
                (cidr, port, "node subnet", {"VirtualNetwork"})
                for s in sorted(node_subnets)
                for cidr in _prefixes(ctx, s)
                for port in (443, 4443)
            ]
            flows.append(("AzureLoadBalancer", 9988, "Azure Load Balancer", {"AzureLoadBalancer"}))
        for nsg in nsgs:
            blocked = []
            for source, port, what, tags in flows:
                allowed, by = nsg_admits(nsg, source, port, tags)
                if not allowed:
                    blocked.append(f"{what} {source} -> {port} (denied by {by})")
            if blocked:
                ctx.fail(
                    nsg,
                    f"the API server subnet's NSG blocks {'; '.join(blocked)} ({VNET_DOC})",
                    "security_rule",
                    "allow these flows at a priority below the deny rules",
                )
            else:
                ctx.ok(nsg, "API server subnet NSG admits the documented traffic", "security_rule")


def ingress_nsg(ctx: Ctx, ports: tuple[int, ...] = (80, 443)) -> None:
    """NET-2: public LoadBalancer Services (ingress) can reach the node subnets.

    The public /24s are reserved for ingress, but on Azure a public load balancer's
    frontend is a public IP and its backends are the nodes: Internet traffic to a
    LoadBalancer Service enters through the node subnet's NSG, which AKS does not manage
    for a bring-your-own subnet (MicrosoftDocs/azure-aks-docs
    `articles/aks/concepts-network.md`, network security groups; cloud-review.md item 7).
    """
    subnets = {
        t
        for res, _, _, prefix in azure_pools(ctx.model)
        for t in targets(res, f"{prefix}vnet_subnet_id")
    }
    for nsg in [n for s in sorted(subnets) for n in _subnet_nsgs(ctx, s)]:
        blocked = [
            f"{port} (denied by {by})"
            for port in ports
            for allowed, by in [nsg_admits(nsg, "0.0.0.0/0", port, {"Internet"})]
            if not allowed
        ]
        if blocked:
            ctx.fail(
                nsg,
                f"the node subnet's NSG drops Internet traffic to public LoadBalancer Services "
                f"on {', '.join(blocked)}",
                "security_rule",
                "allow Internet -> TCP 80, 443 above the Internet deny",
            )
        else:
            ctx.ok(nsg, "public LoadBalancer Services reachable on 80/443", "security_rule")
