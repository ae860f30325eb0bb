"""Azure AKS renderer: Environment -> a production Terraform root module for azurerm 4.x.

The module is grouped by concern (versions, providers, locals, network, security,
aks, monitoring, outputs). Zonal things (node subnets, NAT gateways with their
public IPs, user node pools) are one `for_each` over `local.zones`, so the three
zones are one definition, not three copies. See docs/azure.md for the design.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
import re
from datetime import datetime
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from kubeprod.clouds.base import Files, section
from kubeprod.clouds.tags import tag
from kubeprod.errors import InputError
from kubeprod.facts.azure import AKS_LOG_CATEGORIES, PSS_RESTRICTED_INITIATIVE
from kubeprod.requirements import Req
from kubeprod.spec.model import AzureCloud, Environment, NodeGroup, duration_minutes
from kubeprod.terraform.hcl import Block, Call, Comment, Expr

AZURERM_VERSION = "~> 4.55"
# hashicorp/time: time_sleep waits for Azure RBAC propagation (as the AVM modules do).
TIME_VERSION = "~> 0.13"
# Azure RBAC assignments take effect after a delay; the AVM Key Vault module waits 30 s
# (`wait_for_rbac_before_key_operations`). Doubled for a production first apply.
RBAC_PROPAGATION = "60s"
# Resource providers the module uses. The provider registers these itself
# (resource_provider_registrations = "none" + this list) except Microsoft.Compute, which the
# module manages to register its EncryptionAtHost feature (azurerm refuses to manage a
# registration it also registers automatically).
RESOURCE_PROVIDERS = (
    "Microsoft.AlertsManagement",
    "Microsoft.Authorization",
    "Microsoft.ContainerService",
    "Microsoft.Insights",
    "Microsoft.KeyVault",
    "Microsoft.ManagedIdentity",
    "Microsoft.Monitor",
    "Microsoft.Network",
    "Microsoft.OperationalInsights",
    "Microsoft.OperationsManagement",
    "Microsoft.PolicyInsights",
    "Microsoft.Resources",
    "Microsoft.Security",
    "Microsoft.Storage",
)
# Ports of public LoadBalancer Services (the ingress controller) the node subnets admit.
INGRESS_PORTS = ("80", "443")
# Built-in roles that let an Entra ID group administer an AKS cluster with Azure RBAC
# (mspnp/aks-baseline assigns both to the cluster admin group).
AKS_ADMIN_ROLES = {
    "admin": "Azure Kubernetes Service RBAC Cluster Admin",
    "admin_user": "Azure Kubernetes Service Cluster User Role",
}
RG = "azurerm_resource_group.this"
CLUSTER = "azurerm_kubernetes_cluster.this"
KEY_VAULT = "azurerm_key_vault.this"
# Azure reserves 5 addresses in every subnet.
AZURE_RESERVED_PER_SUBNET = 5
# CNI Overlay gives every node a /24 of the pod range.
OVERLAY_NODE_PREFIX = 24
MAX_PODS = 110
# Log Analytics keeps data at most 730 days in the interactive tier.
LOG_ANALYTICS_MAX_RETENTION = 730
# AKS planned maintenance windows last at least 4 hours.
AKS_MIN_WINDOW_HOURS = 4
API_SERVER_SUBNET_PREFIX = 28
DAYS = {
    "mon": "Monday",
    "tue": "Tuesday",
    "wed": "Wednesday",
    "thu": "Thursday",
    "fri": "Friday",
    "sat": "Saturday",
    "sun": "Sunday",
}
# K8S-7 / SEC-7 log categories and the SEC-6 initiative: kubeprod.facts.azure.
DIAGNOSTIC_CATEGORIES = AKS_LOG_CATEGORIES
# CHR-7: platform metrics of Microsoft.ContainerService/managedClusters worth paging on.
METRIC_ALERTS: tuple[tuple[str, str, str, str, float, int], ...] = (
    # (name, metric, aggregation, operator, threshold, severity)
    ("node-cpu-high", "node_cpu_usage_percentage", "Average", "GreaterThan", 80, 2),
    ("node-memory-high", "node_memory_working_set_percentage", "Average", "GreaterThan", 80, 2),
    ("node-disk-high", "node_disk_usage_percentage", "Average", "GreaterThan", 80, 2),
    (
        "pods-unschedulable",
        "cluster_autoscaler_unschedulable_pods_count",
        "Average",
        "GreaterThan",
        0,
        1,
    ),
)


def _azure(env: Environment) -> AzureCloud:
    return section(env, "azure")


def _short_hash(*parts: str, length: int = 6) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:length]


def _alnum(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def split_range(minimum: int, maximum: int, parts: int) -> list[tuple[int, int]]:
    """Split a node range over `parts` per-zone pools; the sums equal the totals (K8S-3)."""

    def spread(total: int) -> list[int]:
        base, extra = divmod(total, parts)
        return [base + (1 if i < extra else 0) for i in range(parts)]

    return list(zip(spread(minimum), spread(maximum), strict=True))


def api_server_subnet(env: Environment) -> str:
    """NET-2: the API Server VNet Integration subnet, the first /28 of the first public /24."""
    first = ipaddress.ip_network(env.network.public_subnets[0])
    return str(next(first.subnets(new_prefix=API_SERVER_SUBNET_PREFIX)))


def pod_cidr(env: Environment) -> str:
    return env.network.pod_cidr or _azure(env).pod_cidr


def check_addresses(env: Environment) -> None:
    """NET-6 on AKS: nodes fit their subnets, the overlay pod range holds a /24 per node."""
    zones = _azure(env).zones
    groups = env.node_groups
    if len(env.network.private_subnets) < len(zones):
        raise InputError(
            f"network.private_subnets has {len(env.network.private_subnets)} entries for "
            f"{len(zones)} Azure zones. Fix: give one node subnet per zone"
        )
    vnet = ipaddress.ip_network(env.network.vpc_cidr)
    pods = ipaddress.ip_network(pod_cidr(env))
    services = ipaddress.ip_network(env.network.service_cidr)
    for label, net in (("pod range", pods), ("service range", services)):
        if net.overlaps(vnet):
            raise InputError(
                f"the AKS {label} {net} overlaps the VNet {vnet}. Fix: choose a range outside it"
            )
    if pods.overlaps(services):
        raise InputError(f"pod range {pods} overlaps service range {services}. Fix: separate them")
    max_nodes = groups.system.max_size + groups.workload.max_size
    # Surge: one extra node per pool during upgrades.
    max_nodes += 1 + len(zones)
    pod_slots = 2 ** max(0, OVERLAY_NODE_PREFIX - pods.prefixlen)
    if pod_slots < max_nodes:
        raise InputError(
            f"CNI Overlay gives each node a /24; the pod range {pods} holds {pod_slots} nodes "
            f"but the node groups can reach {max_nodes} (with upgrade surge). Fix: use a larger "
            "network.pod_cidr (a /16 holds 256 nodes)"
        )
    per_zone = math.ceil(groups.system.max_size / len(zones)) + math.ceil(
        groups.workload.max_size / len(zones)
    )
    for cidr in env.network.private_subnets[: len(zones)]:
        usable = ipaddress.ip_network(cidr).num_addresses - AZURE_RESERVED_PER_SUBNET
        if usable < per_zone + 2:
            raise InputError(
                f"node subnet {cidr} has {usable} usable addresses for up to {per_zone + 2} "
                "nodes (with surge). Fix: use a larger private subnet"
            )


def utc_offset(timezone: str) -> str:
    """The standard (winter) UTC offset of an IANA zone, as AKS wants it: '+01:00'."""
    offset = datetime(2025, 1, 15, tzinfo=ZoneInfo(timezone)).utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset else 0
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


class AzureRenderer:
    """Renders the AKS root module."""

    name: ClassVar[str] = "azure"

    def render(self, env: Environment) -> Files:
        azure = _azure(env)
        check_addresses(env)
        for group_name in ("system", "workload"):
            if getattr(env.node_groups, group_name).capacity_type != "on-demand":
                raise InputError(
                    f"node_groups.{group_name}.capacity_type is not on-demand; production "
                    "never runs on Spot (CHR-4). Fix: set capacity_type: on-demand"
                )
        zones = list(azure.zones)
        return {
            "versions.tf": _versions(env, azure),
            "providers.tf": _providers(azure, manage_compute=True),
            "locals.tf": _locals(env, azure, zones),
            "network.tf": _network(env),
            "security.tf": _security(env),
            "aks.tf": _aks(env, azure, zones),
            "monitoring.tf": _monitoring(env),
            "backup.tf": _backup(env),
            "outputs.tf": _outputs(),
            **({"variables.tf": _variables(env)} if _webhook_targets(env) else {}),
        }


def _backup(env: Environment) -> list[Block | Comment]:
    """DR-1 / DR-4: AKS Backup (kubeprod.clouds.azure_backup)."""
    from kubeprod.clouds import azure_backup

    return azure_backup.backup_blocks(env, _key("backup", "storage"))


# --- names -----------------------------------------------------------------------------------


def state_names(env: Environment) -> tuple[str, str]:
    """(resource group, storage account) of the terraform state (DR-2)."""
    azure = _azure(env)
    group = azure.state_resource_group or f"rg-{env.name}-tfstate"
    account = azure.state_storage_account or (
        "kpst" + _alnum(env.name)[:14] + _short_hash(env.name, azure.location)
    )
    return group, account[:24]


def key_vault_name(env: Environment) -> str:
    """Globally unique, 3-24 characters, stable for the environment."""
    azure = _azure(env)
    return f"kv-{_alnum(env.name)[:12]}-{_short_hash(env.name, azure.location, 'kv')}"[:24]


def _common(**extra: Any) -> dict[str, Any]:
    return {
        "location": Expr(f"{RG}.location"),
        "resource_group_name": Expr(f"{RG}.name"),
        **extra,
    }


TAGS = Expr("local.tags")


# --- files -----------------------------------------------------------------------------------


def _versions(env: Environment, azure: AzureCloud) -> list[Block | Comment]:
    group, account = state_names(env)
    return [
        Block.of(
            "terraform",
            required_version=">= 1.9",
            required_providers=Block.of(
                "required_providers",
                azurerm={"source": "hashicorp/azurerm", "version": AZURERM_VERSION},
                time={"source": "hashicorp/time", "version": TIME_VERSION},
            ),
            backend=Block.of(
                "backend",
                "azurerm",
                resource_group_name=group,
                storage_account_name=account,
                container_name="tfstate",
                key=f"{env.name}/aks.tfstate",
                use_azuread_auth=True,
            ),
        )
    ]


def _providers(azure: AzureCloud, *, manage_compute: bool = False) -> list[Block | Comment]:
    provider = Block.of("provider", "azurerm")
    if azure.subscription_id:
        provider.set(subscription_id=azure.subscription_id)
    else:
        provider.add(Comment("subscription_id comes from ARM_SUBSCRIPTION_ID."))
    provider.set(storage_use_azuread=True)
    if manage_compute:
        provider.add(
            Comment(
                "Microsoft.Compute is registered by azurerm_resource_provider_registration\n"
                ".compute (with its EncryptionAtHost feature), so it is left out of automatic\n"
                "registration."
            )
        )
        provider.set(
            resource_provider_registrations="none",
            resource_providers_to_register=list(RESOURCE_PROVIDERS),
        )
    provider.add(
        Block.of(
            "features",
            key_vault=Block.of(
                "key_vault",
                purge_soft_delete_on_destroy=False,
                recover_soft_deleted_key_vaults=True,
            ),
            resource_group=Block.of("resource_group", prevent_deletion_if_contains_resources=True),
        )
    )
    return [provider, Block.of("data", "azurerm_client_config", "current")]


def _locals(env: Environment, azure: AzureCloud, zones: list[str]) -> list[Block | Comment]:
    split = split_range(
        env.node_groups.workload.min_size, env.node_groups.workload.max_size, len(zones)
    )
    system = env.node_groups.system
    system_split = split_range(system.min_size, max(system.max_size, system.min_size), len(zones))
    zone_map = {
        zone: {
            "node_subnet_cidr": env.network.private_subnets[i],
            "system_min": system_split[i][0],
            "system_max": system_split[i][1],
            "workload_min": split[i][0],
            "workload_max": split[i][1],
        }
        for i, zone in enumerate(zones)
    }
    return [
        Comment(
            "NET-5 / CHR-5: everything zonal is one for_each over local.zones. Each zone has\n"
            "its own node subnet, NAT gateway, NAT public IP, system pool and user pool. The\n"
            f"system range {system.min_size}-{max(system.max_size, system.min_size)} and the "
            f"workload range {env.node_groups.workload.min_size}-"
            f"{env.node_groups.workload.max_size}\nare split so the per-zone pools sum to them."
        ),
        Block.of(
            "locals",
            name=env.name,
            location=azure.location,
            tags={**env.tags, "kubeprod-environment": env.name},
            zones=zone_map,
        ),
    ]


def _inbound(
    name: str, priority: int, source: str | list[str], ports: list[str], **extra: Any
) -> Block:
    """One inbound NSG rule; `source` is a service tag or a list of CIDRs."""
    prefixes = (
        {"source_address_prefix": source}
        if isinstance(source, str)
        else {"source_address_prefixes": source}
    )
    return Block.of(
        "security_rule",
        name=name,
        priority=priority,
        direction="Inbound",
        access=extra.pop("access", "Allow"),
        protocol=extra.pop("protocol", "Tcp"),
        source_port_range="*",
        **({"destination_port_range": ports[0]} if len(ports) == 1 else {}),
        **({"destination_port_ranges": ports} if len(ports) > 1 else {}),
        **prefixes,
        destination_address_prefix=extra.pop("destination", "*"),
    )


def _deny_internet() -> Block:
    return _inbound("deny-internet-inbound", 4000, "Internet", ["*"], access="Deny", protocol="*")


def _nsg_rules(env: Environment) -> tuple[list[Block], list[Block]]:
    """(node subnet rules, API server subnet rules), after api-server-vnet-integration.md.

    API server subnet: nodes -> 443 and 4443, Azure Load Balancer -> 9988 (the documented
    table), and the allow-listed operators -> 443, since the public endpoint's traffic
    arrives in the delegated subnet and the Internet deny would drop it. Node subnets:
    the Internet reaches public LoadBalancer Services (the ingress controller) on 80/443
    through the load balancer; nothing else from the Internet.
    """
    apiserver_cidr = api_server_subnet(env)
    node_cidrs = list(env.network.private_subnets[: len(_azure(env).zones)])
    apiserver = [
        _inbound(
            "allow-authorized-api",
            100,
            list(env.api_endpoint.public_allowed_cidrs),
            ["443"],
            destination=apiserver_cidr,
        ),
        _inbound("allow-nodes-api", 110, node_cidrs, ["443", "4443"], destination=apiserver_cidr),
        _inbound(
            "allow-lb-probe-api", 120, "AzureLoadBalancer", ["9988"], destination=apiserver_cidr
        ),
        _deny_internet(),
    ]
    nodes = [
        _inbound("allow-internet-ingress", 200, "Internet", list(INGRESS_PORTS)),
        _deny_internet(),
    ]
    return nodes, apiserver


def _network(env: Environment) -> list[Block | Comment]:
    nodes = "azurerm_subnet.nodes"
    node_rules, apiserver_rules = _nsg_rules(env)
    return [
        Block.of(
            "resource",
            "azurerm_resource_group",
            "this",
            name=f"rg-{env.name}-aks",
            location=Expr("local.location"),
            tags=TAGS,
        ),
        Comment("CHR-1: nobody deletes the environment's resource group by accident."),
        Block.of(
            "resource",
            "azurerm_management_lock",
            "resource_group",
            name="kubeprod-cannot-delete",
            scope=Expr(f"{RG}.id"),
            lock_level="CanNotDelete",
            notes="Production environment (kubeprod CHR-1): remove this lock on purpose only.",
        ),
        Comment("NET-1"),
        Block.of(
            "resource",
            "azurerm_virtual_network",
            "this",
            name=f"vnet-{env.name}",
            **_common(address_space=[env.network.vpc_cidr], tags=TAGS),
        ),
        Comment("NET-3: one node subnet per zone, from the private /24s."),
        Block.of(
            "resource",
            "azurerm_subnet",
            "nodes",
            for_each=Expr("local.zones"),
            name=Expr('"snet-nodes-${each.key}"'),
            resource_group_name=Expr(f"{RG}.name"),
            virtual_network_name=Expr("azurerm_virtual_network.this.name"),
            address_prefixes=[Expr("each.value.node_subnet_cidr")],
            default_outbound_access_enabled=False,
        ),
        Comment(
            f"NET-2 / K8S-4: the API server's VNet Integration subnet is carved from the public\n"
            f"/24s: the first /{API_SERVER_SUBNET_PREFIX} of {env.network.public_subnets[0]}. "
            "The rest of the public /24s stay\n"
            "reserved for ingress. NAT egress needs public IPs, not public subnets, on Azure."
        ),
        Block.of(
            "resource",
            "azurerm_subnet",
            "apiserver",
            name="snet-apiserver",
            resource_group_name=Expr(f"{RG}.name"),
            virtual_network_name=Expr("azurerm_virtual_network.this.name"),
            address_prefixes=[api_server_subnet(env)],
            default_outbound_access_enabled=False,
            delegation=Block.of(
                "delegation",
                name="aks-apiserver",
                service_delegation=Block.of(
                    "service_delegation",
                    name="Microsoft.ContainerService/managedClusters",
                    actions=["Microsoft.Network/virtualNetworks/subnets/join/action"],
                ),
            ),
        ),
        Block.of(
            "resource",
            "azurerm_network_security_group",
            "nodes",
            for_each=Expr("local.zones"),
            name=Expr('"nsg-nodes-${each.key}"'),
            **_common(tags=TAGS),
        ).add(
            Comment(
                "NET-2: public LoadBalancer Services (ingress) reach the nodes on 80/443 through\n"
                "the load balancer; the nodes have no public IPs (SEC-1)."
            ),
            *node_rules,
        ),
        Block.of(
            "resource",
            "azurerm_subnet_network_security_group_association",
            "nodes",
            for_each=Expr("local.zones"),
            subnet_id=Expr(f"{nodes}[each.key].id"),
            network_security_group_id=Expr("azurerm_network_security_group.nodes[each.key].id"),
        ),
        Block.of(
            "resource",
            "azurerm_network_security_group",
            "apiserver",
            name="nsg-apiserver",
            **_common(tags=TAGS),
        ).add(
            Comment(
                "K8S-4 / K8S-5: the traffic API Server VNet Integration needs "
                "(api-server-vnet-integration.md)."
            ),
            *apiserver_rules,
        ),
        Block.of(
            "resource",
            "azurerm_subnet_network_security_group_association",
            "apiserver",
            subnet_id=Expr("azurerm_subnet.apiserver.id"),
            network_security_group_id=Expr("azurerm_network_security_group.apiserver.id"),
        ),
        Comment(
            "CHR-5 / NET-4: Azure NAT Gateway is zonal. One Standard NAT gateway per zone,\n"
            "with its own zonal public IP, serves that zone's node subnet; the user pool of\n"
            "the zone is pinned to it, so losing a zone never takes another zone's egress."
        ),
        Block.of(
            "resource",
            "azurerm_public_ip",
            "nat",
            for_each=Expr("local.zones"),
            name=Expr('"pip-nat-${each.key}"'),
            **_common(
                allocation_method="Static",
                sku="Standard",
                zones=[Expr("each.key")],
                tags=TAGS,
            ),
        ),
        Block.of(
            "resource",
            "azurerm_nat_gateway",
            "this",
            for_each=Expr("local.zones"),
            name=Expr('"ng-${each.key}"'),
            **_common(
                sku_name="Standard",
                idle_timeout_in_minutes=4,
                zones=[Expr("each.key")],
                tags=TAGS,
            ),
        ),
        Block.of(
            "resource",
            "azurerm_nat_gateway_public_ip_association",
            "this",
            for_each=Expr("local.zones"),
            nat_gateway_id=Expr("azurerm_nat_gateway.this[each.key].id"),
            public_ip_address_id=Expr("azurerm_public_ip.nat[each.key].id"),
        ),
        Block.of(
            "resource",
            "azurerm_subnet_nat_gateway_association",
            "nodes",
            for_each=Expr("local.zones"),
            subnet_id=Expr(f"{nodes}[each.key].id"),
            nat_gateway_id=Expr("azurerm_nat_gateway.this[each.key].id"),
        ),
    ]


def _role(name: str, scope: str, role: str, principal: str) -> Block:
    return Block.of(
        "resource",
        "azurerm_role_assignment",
        name,
        scope=Expr(scope),
        role_definition_name=role,
        principal_id=Expr(principal),
    )


def _key(name: str, purpose: str) -> Block:
    return Block.of(
        "resource",
        "azurerm_key_vault_key",
        name,
        name=f"{name}-{purpose}",
        key_vault_id=Expr(f"{KEY_VAULT}.id"),
        key_type="RSA-HSM",
        key_size=3072,
        key_opts=["decrypt", "encrypt", "sign", "unwrapKey", "verify", "wrapKey"],
        tags=TAGS,
        # A new key version every year; no expiry date (see checkov-skips.yaml, CKV_AZURE_40).
        rotation_policy=Block.of(
            "rotation_policy",
            automatic=Block.of("automatic", time_after_creation="P365D"),
        ),
        # Key operations wait until the deployer's Crypto Officer role has propagated.
        depends_on=[Expr("time_sleep.deployer_rbac")],
        lifecycle=Block.of("lifecycle", prevent_destroy=True),
    )


def _wait(name: str, assignments: list[str], purpose: str) -> list[Block | Comment]:
    """A time_sleep after role assignments, before what needs them (AVM's RBAC wait)."""
    return [
        Comment(purpose),
        Block.of(
            "resource",
            "time_sleep",
            name,
            create_duration=RBAC_PROPAGATION,
            depends_on=[Expr(f"azurerm_role_assignment.{a}") for a in assignments],
        ),
    ]


def admin_groups(env: Environment) -> list[str]:
    """Entra ID groups that administer the cluster: access.* first, then clouds.azure.*."""
    groups = [*env.access.azure_admin_group_object_ids, *_azure(env).admin_group_object_ids]
    return list(dict.fromkeys(groups))


def _admins(env: Environment) -> list[Block | Comment]:
    """ACCESS-1 / K8S-5: Azure RBAC roles for the admin groups, as mspnp/aks-baseline does."""
    out: list[Block | Comment] = [
        Comment(
            "K8S-5: local accounts are off and Kubernetes authorization is Azure RBAC, so only\n"
            "these role assignments admit anyone: the spec's admin groups get RBAC Cluster\n"
            "Admin on the cluster and the Cluster User role (to fetch a kubeconfig)."
        )
    ]
    for name, role in AKS_ADMIN_ROLES.items():
        out.append(
            Block.of(
                "resource",
                "azurerm_role_assignment",
                f"cluster_{name}",
                for_each=Call("toset", admin_groups(env)),
                scope=Expr(f"{CLUSTER}.id"),
                role_definition_name=role,
                principal_id=Expr("each.value"),
                principal_type="Group",
            )
        )
    return out


def _compute_provider_id(env: Environment) -> str | Expr:
    """The Microsoft.Compute registration's ID: literal when the spec names the subscription
    (an import ID must be known at plan time), else from the provider's client config."""
    subscription = _azure(env).subscription_id
    if subscription:
        return f"/subscriptions/{subscription}/providers/Microsoft.Compute"
    return Expr(
        '"/subscriptions/${data.azurerm_client_config.current.subscription_id}'
        '/providers/Microsoft.Compute"'
    )


def _security(env: Environment) -> list[Block | Comment]:
    cluster_identity = "azurerm_user_assigned_identity.cluster.principal_id"
    return [
        Comment(
            "SEC-8 / SEC-3: Key Vault (RBAC only, purge protection, soft delete) holding the\n"
            "KMS key for etcd encryption and the disk encryption key. KMS runs in the\n"
            "documented public-vault mode: a vault firewall (IP rules or public access off)\n"
            "blocks the KMS plugin (use-kms-etcd-encryption.md, Limitations), so the network\n"
            "stays open and Entra ID RBAC is the gate: only the deployer (Crypto Officer)\n"
            "and the cluster identity (Crypto User) can use the keys. See docs/azure.md."
        ),
        Block.of(
            "resource",
            "azurerm_key_vault",
            "this",
            name=key_vault_name(env),
            **_common(
                tenant_id=Expr("data.azurerm_client_config.current.tenant_id"),
                sku_name="premium",
                rbac_authorization_enabled=True,
                purge_protection_enabled=True,
                soft_delete_retention_days=90,
                enabled_for_disk_encryption=True,
                public_network_access_enabled=True,
                tags=TAGS,
            ),
            network_acls=Block.of(
                "network_acls",
                default_action="Allow",
                bypass="AzureServices",
            ),
            lifecycle=Block.of("lifecycle", prevent_destroy=True),
        ),
        Comment("Whoever runs terraform creates the keys."),
        _role(
            "deployer_crypto_officer",
            f"{KEY_VAULT}.id",
            "Key Vault Crypto Officer",
            "data.azurerm_client_config.current.object_id",
        ),
        *_wait(
            "deployer_rbac",
            ["deployer_crypto_officer"],
            "Role assignments take a while to reach Key Vault: create keys only after it.",
        ),
        _key("etcd", "kms"),
        _key("disk", "des"),
        Comment("SEC-8: the cluster's identity (KMS needs a user-assigned one)."),
        Block.of(
            "resource",
            "azurerm_user_assigned_identity",
            "cluster",
            name=f"id-{env.name}-aks",
            **_common(tags=TAGS),
        ),
        _role("cluster_kms", f"{KEY_VAULT}.id", "Key Vault Crypto User", cluster_identity),
        Comment("API Server VNet Integration and node subnets live in our VNet."),
        _role(
            "cluster_network",
            "azurerm_virtual_network.this.id",
            "Network Contributor",
            cluster_identity,
        ),
        Comment("SEC-3: OS and data disks encrypted with our key."),
        Block.of(
            "resource",
            "azurerm_disk_encryption_set",
            "this",
            name=f"des-{env.name}",
            **_common(
                key_vault_key_id=Expr("azurerm_key_vault_key.disk.versionless_id"),
                auto_key_rotation_enabled=True,
                encryption_type="EncryptionAtRestWithCustomerKey",
                tags=TAGS,
            ),
            identity=Block.of("identity", type="SystemAssigned"),
        ),
        _role(
            "des_crypto",
            f"{KEY_VAULT}.id",
            "Key Vault Crypto Service Encryption User",
            "azurerm_disk_encryption_set.this.identity[0].principal_id",
        ),
        _role(
            "cluster_des_reader",
            "azurerm_disk_encryption_set.this.id",
            "Reader",
            cluster_identity,
        ),
        *_wait(
            "cluster_rbac",
            ["cluster_kms", "cluster_network", "des_crypto", "cluster_des_reader"],
            "The cluster (KMS, disks, subnets) starts only once its roles have propagated.",
        ),
        Comment(
            "SEC-3: host encryption needs the EncryptionAtHost feature of Microsoft.Compute\n"
            "(enable-host-encryption.md). Registered here as code; the bootstrap module's\n"
            "provider has already registered Microsoft.Compute itself, so it is imported."
        ),
        Block.of(
            "import",
            to=Expr("azurerm_resource_provider_registration.compute"),
            id=_compute_provider_id(env),
        ),
        Block.of(
            "resource",
            "azurerm_resource_provider_registration",
            "compute",
            name="Microsoft.Compute",
            feature=Block.of("feature", name="EncryptionAtHost", registered=True),
        ),
        *_admins(env),
        Comment(
            "SEC-6: Pod Security Standards 'restricted', enforced (deny) by the Azure Policy\n"
            "add-on. kube-system and the add-on namespaces are excluded by the initiative."
        ),
        Block.of(
            "resource",
            "azurerm_resource_policy_assignment",
            "pod_security_restricted",
            name="pod-security-restricted",
            resource_id=Expr(f"{CLUSTER}.id"),
            policy_definition_id=PSS_RESTRICTED_INITIATIVE,
            display_name="Kubernetes pod security restricted standards (kubeprod SEC-6)",
            parameters=Call("jsonencode", {"effect": {"value": "deny"}}),
        ),
    ]


def _autoscaler_profile(env: Environment) -> Block:
    scaler = env.autoscaler
    return Block.of(
        "auto_scaler_profile",
        balance_similar_node_groups=scaler.balance_similar_node_groups,
        expander="least-waste",
        scale_down_delay_after_add=f"{duration_minutes(scaler.scale_down_delay_after_add)}m",
        scale_down_unneeded=f"{duration_minutes(scaler.scale_down_unneeded_time)}m",
        scale_down_utilization_threshold=f"{scaler.scale_down_utilization_threshold}",
        skip_nodes_with_local_storage=True,
        skip_nodes_with_system_pods=True,
    )


def _schedule(env: Environment, kind: str, index: int) -> Block:
    """A weekly AKS maintenance schedule from the spec's windows (first day, or the next)."""
    windows = env.maintenance.windows
    if windows:
        window = windows[0]
        day = DAYS[window.days[index % len(window.days)]]
        start, tz = window.start, window.timezone
        hours = max(AKS_MIN_WINDOW_HOURS, math.ceil(duration_minutes(window.duration) / 60))
    else:
        day, start, tz, hours = "Sunday", "00:00", "UTC", AKS_MIN_WINDOW_HOURS
    return Block.of(
        kind,
        frequency="Weekly",
        interval=1,
        day_of_week=day,
        start_time=start,
        utc_offset=utc_offset(tz),
        duration=hours,
    )


def _legacy_window(env: Environment) -> Block | None:
    """The 'default' maintenance configuration: the spec's days and hours (start..end)."""
    if not env.maintenance.windows:
        return None
    block = Block.of("maintenance_window")
    seen: dict[str, set[int]] = {}
    for window in env.maintenance.windows:
        offset = utc_offset(window.timezone)
        sign = 1 if offset[0] == "+" else -1
        shift = sign * (int(offset[1:3]) * 60 + int(offset[4:6]))
        start = int(window.start[:2]) * 60 + int(window.start[3:]) - shift
        length = duration_minutes(window.duration)
        order = list(DAYS)
        for day in window.days:
            for minute in range(start, start + length, 60):
                day_index = (order.index(day) + minute // (24 * 60)) % 7
                seen.setdefault(order[day_index], set()).add((minute // 60) % 24)
    for short, full in DAYS.items():
        if short in seen:
            block.add(Block.of("allowed", day=full, hours=sorted(seen[short])))
    return block


def _aks(env: Environment, azure: AzureCloud, zones: list[str]) -> list[Block | Comment]:
    system = env.node_groups.system
    workload = env.node_groups.workload
    version = env.kubernetes.version
    identity = "azurerm_user_assigned_identity.cluster"
    # SEC-3: Managed OS disks. The disk encryption set rotates its key automatically, and
    # rotating the key of ephemeral OS disks needs the pool scaled to zero
    # (azure-disk-customer-managed-keys.md), which a system pool and a KMS cluster cannot take.
    disk = {
        "host_encryption_enabled": True,
        "os_disk_type": "Managed",
        "os_disk_size_gb": system.disk_size_gb,
        "node_public_ip_enabled": False,
    }
    network = Block.of(
        "network_profile",
        network_plugin="azure",
        network_plugin_mode="overlay",
        network_policy=azure.network_policy,
        network_data_plane="cilium" if azure.network_policy == "cilium" else "azure",
        pod_cidr=pod_cidr(env),
        service_cidr=env.network.service_cidr,
        dns_service_ip=str(ipaddress.ip_network(env.network.service_cidr)[10]),
        load_balancer_sku="standard",
        outbound_type="userAssignedNATGateway",
    )
    cluster = Block.of(
        "resource",
        "azurerm_kubernetes_cluster",
        "this",
        name=f"aks-{env.name}",
        **_common(
            dns_prefix=env.name,
            kubernetes_version=version,
            sku_tier="Standard",
            automatic_upgrade_channel="patch",
            node_os_upgrade_channel="NodeImage",
            private_cluster_enabled=False,
            local_account_disabled=True,
            run_command_enabled=False,
            role_based_access_control_enabled=True,
            oidc_issuer_enabled=True,
            workload_identity_enabled=True,
            azure_policy_enabled=True,
            disk_encryption_set_id=Expr("azurerm_disk_encryption_set.this.id"),
            tags=TAGS,
        ),
    )
    cluster.add(
        Comment(
            f"K8S-2: system capacity, critical add-ons only, one pool per zone. This default\n"
            f"pool is zone {zones[0]}'s; the other zones' system pools are below. A pool sits in\n"
            "one subnet, so per-zone pools are what keep each zone's egress on its own NAT."
        ),
        Block.of(
            "default_node_pool",
            name="system",
            vm_size=system.instance_types.azure,
            zones=[zones[0]],
            vnet_subnet_id=Expr(f'azurerm_subnet.nodes["{zones[0]}"].id'),
            orchestrator_version=version,
            only_critical_addons_enabled=True,
            auto_scaling_enabled=True,
            min_count=Expr(f'local.zones["{zones[0]}"].system_min'),
            max_count=Expr(f'local.zones["{zones[0]}"].system_max'),
            max_pods=system.max_pods_per_node or MAX_PODS,
            temporary_name_for_rotation="systemtmp",
            **{**disk, "os_disk_size_gb": system.disk_size_gb},
            tags=TAGS,
            upgrade_settings=Block.of("upgrade_settings", max_surge="33%"),
        ),
        Block.of("identity", type="UserAssigned", identity_ids=[Expr(f"{identity}.id")]),
        Comment(
            "K8S-4 / K8S-5 / SEC-1 / SEC-2: private API server IP in the VNet + allow-listed "
            "public endpoint."
        ),
        Block.of(
            "api_server_access_profile",
            virtual_network_integration_enabled=True,
            subnet_id=Expr("azurerm_subnet.apiserver.id"),
            authorized_ip_ranges=list(env.api_endpoint.public_allowed_cidrs),
        ),
        Block.of(
            "azure_active_directory_role_based_access_control",
            azure_rbac_enabled=True,
            tenant_id=Expr("data.azurerm_client_config.current.tenant_id"),
        ),
        Comment("SEC-5 / NET-6 / CHR-5"),
        network,
        Comment(
            "SEC-8: etcd secrets encrypted with our Key Vault key, public-vault KMS mode. The\n"
            "versioned key ID is what AKS takes: after Key Vault rotates the key, the next plan\n"
            "moves the cluster to the new version (docs/azure.md, KMS key rotation)."
        ),
        Block.of(
            "key_management_service",
            key_vault_key_id=Expr("azurerm_key_vault_key.etcd.id"),
            key_vault_network_access="Public",
        ),
        Block.of("key_vault_secrets_provider", secret_rotation_enabled=True),
        Comment("CHR-6"),
        _autoscaler_profile(env),
        Comment("CHR-7"),
        Block.of(
            "oms_agent",
            log_analytics_workspace_id=Expr("azurerm_log_analytics_workspace.this.id"),
            msi_auth_for_monitoring_enabled=True,
        ),
        Block.of("monitor_metrics"),
        Block.of(
            "microsoft_defender",
            log_analytics_workspace_id=Expr("azurerm_log_analytics_workspace.this.id"),
        ),
        Comment("SEC-4 / K8S-1: patch upgrades and node images only inside the spec's windows."),
    )
    legacy = _legacy_window(env)
    if legacy is not None:
        cluster.add(legacy)
    cluster.add(
        _schedule(env, "maintenance_window_auto_upgrade", 0),
        _schedule(env, "maintenance_window_node_os", 1),
    )
    cluster.set(
        depends_on=[
            Expr("time_sleep.cluster_rbac"),
            Expr("azurerm_resource_provider_registration.compute"),
            Expr("azurerm_subnet_nat_gateway_association.nodes"),
            Expr("azurerm_nat_gateway_public_ip_association.this"),
            Expr("azurerm_subnet_network_security_group_association.apiserver"),
        ],
        lifecycle=Block.of(
            "lifecycle",
            prevent_destroy=True,
            ignore_changes=[Expr("default_node_pool[0].node_count")],
        ),
    )
    system_pools = _zonal_pool(
        "system",
        system,
        version,
        disk,
        mode="System",
        name_prefix="system",
        zones_expr=f'{{ for zone, z in local.zones : zone => z if zone != "{zones[0]}" }}',
        node_taints=["CriticalAddonsOnly=true:NoSchedule"],
    )
    pools = _zonal_pool("workload", workload, version, disk, mode="User", name_prefix="work")
    return [
        tag(
            Req.K8S_1,
            Req.CHR_2,
            note=f"AKS {version} (N-1), Standard tier (uptime SLA), Azure CNI Overlay,\n"
            "API Server VNet Integration, Entra ID RBAC, workload identity, KMS and CMK disks.",
        ),
        cluster,
        tag(
            Req.K8S_2,
            Req.CHR_3,
            Req.CHR_5,
            note="the system pools of the other zones, tainted like the default pool\n"
            "(only_critical_addons_enabled applies that taint there).",
        ),
        system_pools,
        tag(
            Req.K8S_3,
            Req.CHR_3,
            Req.CHR_4,
            Req.CHR_5,
            note="workload pools, one per zone, pinned to that zone's\n"
            "subnet (and so its NAT gateway). Regular priority: never Spot.",
        ),
        pools,
    ]


def _zonal_pool(
    role: str,
    group: NodeGroup,
    version: str,
    disk: dict[str, object],
    *,
    mode: str,
    name_prefix: str,
    zones_expr: str = "local.zones",
    node_taints: list[str] | None = None,
) -> Block:
    """One node pool per zone, pinned to the zone's subnet (and so its NAT gateway)."""
    return Block.of(
        "resource",
        "azurerm_kubernetes_cluster_node_pool",
        role,
        for_each=Expr(zones_expr),
        name=Expr(f'"{name_prefix}${{each.key}}"'),
        kubernetes_cluster_id=Expr(f"{CLUSTER}.id"),
        vm_size=group.instance_types.azure,
        mode=mode,
        priority="Regular",
        zones=[Expr("each.key")],
        vnet_subnet_id=Expr("azurerm_subnet.nodes[each.key].id"),
        orchestrator_version=version,
        auto_scaling_enabled=True,
        min_count=Expr(f"each.value.{role}_min"),
        max_count=Expr(f"each.value.{role}_max"),
        max_pods=group.max_pods_per_node or MAX_PODS,
        node_taints=node_taints,
        node_labels={**group.labels, "kubeprod.io/pool": role},
        **{**disk, "os_disk_size_gb": group.disk_size_gb},
        tags=TAGS,
        upgrade_settings=Block.of("upgrade_settings", max_surge="33%"),
        lifecycle=Block.of("lifecycle", ignore_changes=[Expr("node_count")]),
    )


def _webhook_targets(env: Environment) -> list[str]:
    return [t.webhook_env for t in env.monitoring.alert_targets if t.webhook_env]


def _variables(env: Environment) -> list[Block | Comment]:
    return [
        Block.of(
            "variable",
            "alert_webhook_urls",
            type=Expr("map(string)"),
            sensitive=True,
            description="CHR-7: webhook URL per alert target, keyed by the spec's webhook_env "
            "name (export TF_VAR_alert_webhook_urls; never in the spec)",
        )
    ]


# CHR-7: node recording rules evaluated in the Azure Monitor workspace, in the spirit of the
# AVM monitoring module's node rule group (the dashboards and alerts read these series).
NODE_RECORDING_RULES = (
    (
        "instance:node_cpu_utilisation:rate5m",
        '1 - avg without (cpu) (sum without (mode) (rate(node_cpu_seconds_total{job="node", '
        'mode=~"idle|iowait|steal"}[5m])))',
    ),
    (
        "instance:node_memory_utilisation:ratio",
        '1 - (node_memory_MemAvailable_bytes{job="node"} / node_memory_MemTotal_bytes{job="node"})',
    ),
    (
        "instance_device:node_disk_io_time_seconds:rate5m",
        'rate(node_disk_io_time_seconds_total{job="node", device!=""}[5m])',
    ),
)
PROMETHEUS_STREAM = "Microsoft-PrometheusMetrics"
CONTAINER_INSIGHTS_STREAM = "Microsoft-ContainerInsights-Group-Default"


def _prometheus(env: Environment) -> list[Block | Comment]:
    """CHR-7: managed Prometheus wired as the AVM monitoring module wires it.

    Azure Monitor workspace <- data collection rule (Microsoft-PrometheusMetrics) through a
    data collection endpoint; the rule and the endpoint (configurationAccessEndpoint) are
    associated with the cluster, and a recording rule group runs on the workspace.
    """
    rule_group = Block.of(
        "resource",
        "azurerm_monitor_alert_prometheus_rule_group",
        "node",
        name=f"{env.name}-node-recording-rules",
        **_common(
            cluster_name=Expr(f"{CLUSTER}.name"),
            rule_group_enabled=True,
            interval="PT1M",
            scopes=[Expr("azurerm_monitor_workspace.this.id")],
            tags=TAGS,
        ),
    )
    for record, expression in NODE_RECORDING_RULES:
        rule_group.add(Block.of("rule", enabled=True, record=record, expression=expression))
    return [
        Comment(
            "CHR-7: managed Prometheus. monitor_metrics on the cluster turns the agent on;\n"
            "these resources say where its metrics go (AVM modules/monitoring/main.tf)."
        ),
        Block.of(
            "resource",
            "azurerm_monitor_workspace",
            "this",
            name=f"amw-{env.name}",
            **_common(tags=TAGS),
        ),
        Block.of(
            "resource",
            "azurerm_monitor_data_collection_endpoint",
            "prometheus",
            name=f"dce-{env.name}-prometheus",
            **_common(kind="Linux", tags=TAGS),
        ),
        Block.of(
            "resource",
            "azurerm_monitor_data_collection_rule",
            "prometheus",
            name=f"dcr-{env.name}-prometheus",
            **_common(
                kind="Linux",
                data_collection_endpoint_id=Expr(
                    "azurerm_monitor_data_collection_endpoint.prometheus.id"
                ),
                tags=TAGS,
            ),
            destinations=Block.of(
                "destinations",
                monitor_account=Block.of(
                    "monitor_account",
                    monitor_account_id=Expr("azurerm_monitor_workspace.this.id"),
                    name="prometheus",
                ),
            ),
            data_flow=Block.of(
                "data_flow", streams=[PROMETHEUS_STREAM], destinations=["prometheus"]
            ),
            data_sources=Block.of(
                "data_sources",
                prometheus_forwarder=Block.of(
                    "prometheus_forwarder", name="PrometheusDataSource", streams=[PROMETHEUS_STREAM]
                ),
            ),
        ),
        Block.of(
            "resource",
            "azurerm_monitor_data_collection_rule_association",
            "prometheus",
            name=f"dcra-{env.name}-prometheus",
            target_resource_id=Expr(f"{CLUSTER}.id"),
            data_collection_rule_id=Expr("azurerm_monitor_data_collection_rule.prometheus.id"),
        ),
        Block.of(
            "resource",
            "azurerm_monitor_data_collection_rule_association",
            "prometheus_endpoint",
            name="configurationAccessEndpoint",
            target_resource_id=Expr(f"{CLUSTER}.id"),
            data_collection_endpoint_id=Expr(
                "azurerm_monitor_data_collection_endpoint.prometheus.id"
            ),
        ),
        rule_group,
    ]


def _container_insights(env: Environment) -> list[Block | Comment]:
    """CHR-7: the data collection rule Container Insights needs with managed identity auth
    (Azure/terraform-azurerm-aks log_analytics.tf: `azurerm_monitor_data_collection_rule.dcr`
    and its association)."""
    return [
        Comment(
            "CHR-7: Container Insights with managed-identity auth collects what this rule\n"
            "says, into the Log Analytics workspace."
        ),
        Block.of(
            "resource",
            "azurerm_monitor_data_collection_rule",
            "container_insights",
            name=f"dcr-{env.name}-container-insights",
            **_common(tags=TAGS),
            destinations=Block.of(
                "destinations",
                log_analytics=Block.of(
                    "log_analytics",
                    workspace_resource_id=Expr("azurerm_log_analytics_workspace.this.id"),
                    name="logs",
                ),
            ),
            data_flow=Block.of(
                "data_flow", streams=[CONTAINER_INSIGHTS_STREAM], destinations=["logs"]
            ),
            data_sources=Block.of(
                "data_sources",
                extension=Block.of(
                    "extension",
                    name="ContainerInsightsExtension",
                    extension_name="ContainerInsights",
                    streams=[CONTAINER_INSIGHTS_STREAM],
                    extension_json=Call(
                        "jsonencode",
                        {
                            "dataCollectionSettings": {
                                "interval": "1m",
                                "namespaceFilteringMode": "Off",
                                "enableContainerLogV2": True,
                            }
                        },
                    ),
                ),
            ),
        ),
        Block.of(
            "resource",
            "azurerm_monitor_data_collection_rule_association",
            "container_insights",
            name=f"dcra-{env.name}-container-insights",
            target_resource_id=Expr(f"{CLUSTER}.id"),
            data_collection_rule_id=Expr(
                "azurerm_monitor_data_collection_rule.container_insights.id"
            ),
        ),
    ]


def _monitoring(env: Environment) -> list[Block | Comment]:
    retention = min(env.logging.retention_days, LOG_ANALYTICS_MAX_RETENTION)
    group = Block.of(
        "resource",
        "azurerm_monitor_action_group",
        "oncall",
        name=f"ag-{env.name}-oncall",
        resource_group_name=Expr(f"{RG}.name"),
        short_name=_alnum(f"kp{env.name}")[:12],
        tags=TAGS,
    )
    for i, target in enumerate(env.monitoring.alert_targets):
        if target.email:
            group.add(
                Block.of(
                    "email_receiver",
                    name=f"email-{i}",
                    email_address=target.email,
                    use_common_alert_schema=True,
                )
            )
        if target.webhook_env:
            group.add(
                Block.of(
                    "webhook_receiver",
                    name=f"webhook-{i}",
                    service_uri=Expr(f'var.alert_webhook_urls["{target.webhook_env}"]'),
                    use_common_alert_schema=True,
                )
            )
    diagnostics = Block.of(
        "resource",
        "azurerm_monitor_diagnostic_setting",
        "aks",
        name="aks-control-plane",
        target_resource_id=Expr(f"{CLUSTER}.id"),
        log_analytics_workspace_id=Expr("azurerm_log_analytics_workspace.this.id"),
        log_analytics_destination_type="Dedicated",
    )
    for category in DIAGNOSTIC_CATEGORIES:
        diagnostics.add(Block.of("enabled_log", category=category))
    diagnostics.add(Block.of("enabled_metric", category="AllMetrics"))
    alerts: list[Block | Comment] = []
    for name, metric, aggregation, operator, threshold, severity in METRIC_ALERTS:
        alerts.append(
            Block.of(
                "resource",
                "azurerm_monitor_metric_alert",
                name.replace("-", "_"),
                name=f"{env.name}-aks-{name}",
                resource_group_name=Expr(f"{RG}.name"),
                scopes=[Expr(f"{CLUSTER}.id")],
                severity=severity,
                frequency="PT5M",
                window_size="PT15M",
                tags=TAGS,
                criteria=Block.of(
                    "criteria",
                    metric_namespace="Microsoft.ContainerService/managedClusters",
                    metric_name=metric,
                    aggregation=aggregation,
                    operator=operator,
                    threshold=threshold,
                ),
                action=Block.of(
                    "action", action_group_id=Expr("azurerm_monitor_action_group.oncall.id")
                ),
            )
        )
    kv_diagnostics = Block.of(
        "resource",
        "azurerm_monitor_diagnostic_setting",
        "key_vault",
        name="key-vault-audit",
        target_resource_id=Expr(f"{KEY_VAULT}.id"),
        log_analytics_workspace_id=Expr("azurerm_log_analytics_workspace.this.id"),
        enabled_log=Block.of("enabled_log", category_group="audit"),
    )
    return [
        Comment(
            f"K8S-7 / SEC-7 / CHR-7: control-plane logs kept {retention} days"
            + (
                f" (spec asks {env.logging.retention_days}; Log Analytics keeps at most "
                f"{LOG_ANALYTICS_MAX_RETENTION} interactive days: archive beyond that)."
                if retention != env.logging.retention_days
                else "."
            )
        ),
        Block.of(
            "resource",
            "azurerm_log_analytics_workspace",
            "this",
            name=f"log-{env.name}-aks",
            **_common(
                sku="PerGB2018",
                retention_in_days=retention,
                local_authentication_enabled=False,
                tags=TAGS,
            ),
        ),
        diagnostics,
        kv_diagnostics,
        *_container_insights(env),
        *_prometheus(env),
        group,
        *alerts,
    ]


def _outputs() -> list[Block | Comment]:
    def out(name: str, value: str, description: str) -> Block:
        return Block.of("output", name, value=Expr(value), description=description)

    return [
        out("resource_group_name", f"{RG}.name", "Resource group of the environment"),
        out("cluster_id", f"{CLUSTER}.id", "AKS cluster resource ID"),
        out("cluster_name", f"{CLUSTER}.name", "AKS cluster name"),
        out("oidc_issuer_url", f"{CLUSTER}.oidc_issuer_url", "Workload identity issuer"),
        out("key_vault_id", f"{KEY_VAULT}.id", "Key Vault with the KMS and disk keys"),
        out(
            "kms_key_id",
            "azurerm_key_vault_key.etcd.id",
            "Versioned KMS key the cluster should use (compare with az aks show "
            "--query securityProfile.azureKeyVaultKms.keyId after a rotation)",
        ),
        out(
            "nat_public_ips",
            "{ for zone, ip in azurerm_public_ip.nat : zone => ip.ip_address }",
            "Egress IP per zone (allow-list these downstream)",
        ),
        out(
            "node_subnet_ids",
            "{ for zone, subnet in azurerm_subnet.nodes : zone => subnet.id }",
            "Node subnet per zone",
        ),
        out(
            "log_analytics_workspace_id",
            "azurerm_log_analytics_workspace.this.id",
            "Control-plane logs and Container Insights",
        ),
    ]


def bootstrap_files(env: Environment) -> Files:
    """DR-2: a small separate module creating the azurerm state backend's storage."""
    azure = _azure(env)
    group, account = state_names(env)
    rg = "azurerm_resource_group.state"
    return {
        "versions.tf": [
            Block.of(
                "terraform",
                required_version=">= 1.9",
                required_providers=Block.of(
                    "required_providers",
                    azurerm={"source": "hashicorp/azurerm", "version": AZURERM_VERSION},
                ),
            )
        ],
        "providers.tf": _providers(azure),
        "state.tf": [
            Comment(
                "DR-2: terraform state for the AKS module, with blob versioning and soft\n"
                "delete so a bad write or a deletion can be undone. Apply this once, locally\n"
                "state, before the main module (its backend points here)."
            ),
            Block.of(
                "resource",
                "azurerm_resource_group",
                "state",
                name=group,
                location=azure.location,
                tags={**env.tags, "kubeprod-environment": env.name},
            ),
            Block.of(
                "resource",
                "azurerm_management_lock",
                "state",
                name="kubeprod-cannot-delete",
                scope=Expr(f"{rg}.id"),
                lock_level="CanNotDelete",
                notes="Terraform state of a production environment (kubeprod DR-2).",
            ),
            Block.of(
                "resource",
                "azurerm_storage_account",
                "state",
                name=account,
                resource_group_name=Expr(f"{rg}.name"),
                location=Expr(f"{rg}.location"),
                account_tier="Standard",
                account_kind="StorageV2",
                account_replication_type="GZRS",
                min_tls_version="TLS1_2",
                https_traffic_only_enabled=True,
                allow_nested_items_to_be_public=False,
                shared_access_key_enabled=False,
                default_to_oauth_authentication=True,
                infrastructure_encryption_enabled=True,
                cross_tenant_replication_enabled=False,
                tags={**env.tags, "kubeprod-environment": env.name},
                blob_properties=Block.of(
                    "blob_properties",
                    versioning_enabled=True,
                    change_feed_enabled=True,
                    delete_retention_policy=Block.of("delete_retention_policy", days=30),
                    container_delete_retention_policy=Block.of(
                        "container_delete_retention_policy", days=30
                    ),
                ),
                network_rules=Block.of(
                    "network_rules",
                    default_action="Deny",
                    bypass=["AzureServices"],
                    ip_rules=[_ip_rule(c) for c in env.api_endpoint.public_allowed_cidrs],
                ),
                lifecycle=Block.of("lifecycle", prevent_destroy=True),
            ),
            Block.of(
                "resource",
                "azurerm_storage_container",
                "tfstate",
                name="tfstate",
                storage_account_id=Expr("azurerm_storage_account.state.id"),
                container_access_type="private",
            ),
        ],
    }


def _ip_rule(cidr: str) -> str:
    """Storage firewalls take single IPs without /32 and ranges up to /30."""
    return cidr[:-3] if cidr.endswith("/32") else cidr
