"""AKS module: aks.tf, the cluster (K8S-1, CHR-2) and its per-zone system and workload node
pools (K8S-2, K8S-3, CHR-3..CHR-5), with maintenance windows from the spec (SEC-4)."""

from __future__ import annotations

import ipaddress
import math
from datetime import datetime
from zoneinfo import ZoneInfo

from kubeprod.clouds.azure_common import CLUSTER, TAGS, azure_of, common, pod_cidr
from kubeprod.clouds.tags import tag
from kubeprod.hcl import Block, Comment, Expr
from kubeprod.hcl.shorthand import B, E, R, at, compare, for_map, ref, template
from kubeprod.requirements import Req
from kubeprod.spec.model import Environment, NodeGroup, duration_minutes

MAX_PODS = 110
# AKS planned maintenance windows last at least 4 hours.
AKS_MIN_WINDOW_HOURS = 4
DAYS = {
    "mon": "Monday",
    "tue": "Tuesday",
    "wed": "Wednesday",
    "thu": "Thursday",
    "fri": "Friday",
    "sat": "Saturday",
    "sun": "Sunday",
}
ZONES = E("local.zones")


def utc_offset(timezone: str) -> str:
    """The standard (winter) UTC offset of an IANA zone, as AKS wants it: '+01:00'."""
    offset = datetime(2025, 1, 15, tzinfo=ZoneInfo(timezone)).utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset else 0
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _autoscaler_profile(env: Environment) -> Block:
    """CHR-6: the cluster autoscaler's behaviour, from the spec's autoscaler section."""
    scaler = env.autoscaler
    return B(
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
    return B(
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
    block = B("maintenance_window")
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
            block.add(B("allowed", day=full, hours=sorted(seen[short])))
    return block


def aks_tf(env: Environment) -> list[Block | Comment]:
    """aks.tf: the cluster with zone 1's system pool, the other zones' system pools, and one
    workload pool per zone."""
    azure = azure_of(env)
    zones = list(azure.zones)
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
    network = B(
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
    cluster = R(
        "azurerm_kubernetes_cluster",
        "this",
        name=f"aks-{env.name}",
        **common(
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
            disk_encryption_set_id=E("azurerm_disk_encryption_set.this.id"),
            tags=TAGS,
        ),
    )
    cluster.add(
        Comment(
            f"K8S-2: system capacity, critical add-ons only, one pool per zone. This default\n"
            f"pool is zone {zones[0]}'s; the other zones' system pools are below. A pool sits in\n"
            "one subnet, so per-zone pools are what keep each zone's egress on its own NAT."
        ),
        B(
            "default_node_pool",
            name="system",
            vm_size=system.instance_types.azure,
            zones=[zones[0]],
            vnet_subnet_id=ref(at("azurerm_subnet.nodes", zones[0]), "id"),
            orchestrator_version=version,
            only_critical_addons_enabled=True,
            auto_scaling_enabled=True,
            min_count=ref(at("local.zones", zones[0]), "system_min"),
            max_count=ref(at("local.zones", zones[0]), "system_max"),
            max_pods=system.max_pods_per_node or MAX_PODS,
            temporary_name_for_rotation="systemtmp",
            **{**disk, "os_disk_size_gb": system.disk_size_gb},
            tags=TAGS,
            upgrade_settings=B("upgrade_settings", max_surge="33%"),
        ),
        B("identity", type="UserAssigned", identity_ids=[ref(identity, "id")]),
        Comment(
            "K8S-4 / K8S-5 / SEC-1 / SEC-2: private API server IP in the VNet + allow-listed "
            "public endpoint."
        ),
        B(
            "api_server_access_profile",
            virtual_network_integration_enabled=True,
            subnet_id=E("azurerm_subnet.apiserver.id"),
            authorized_ip_ranges=list(env.api_endpoint.public_allowed_cidrs),
        ),
        B(
            "azure_active_directory_role_based_access_control",
            azure_rbac_enabled=True,
            tenant_id=E("data.azurerm_client_config.current.tenant_id"),
        ),
        Comment("SEC-5 / NET-6 / CHR-5"),
        network,
        Comment(
            "SEC-8: etcd secrets encrypted with our Key Vault key, public-vault KMS mode. The\n"
            "versioned key ID is what AKS takes: after Key Vault rotates the key, the next plan\n"
            "moves the cluster to the new version (docs/azure.md, KMS key rotation)."
        ),
        B(
            "key_management_service",
            key_vault_key_id=E("azurerm_key_vault_key.etcd.id"),
            key_vault_network_access="Public",
        ),
        B("key_vault_secrets_provider", secret_rotation_enabled=True),
        Comment("CHR-6"),
        _autoscaler_profile(env),
        Comment("CHR-7"),
        B(
            "oms_agent",
            log_analytics_workspace_id=E("azurerm_log_analytics_workspace.this.id"),
            msi_auth_for_monitoring_enabled=True,
        ),
        B("monitor_metrics"),
        B(
            "microsoft_defender",
            log_analytics_workspace_id=E("azurerm_log_analytics_workspace.this.id"),
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
            E("time_sleep.cluster_rbac"),
            E("azurerm_resource_provider_registration.compute"),
            E("azurerm_subnet_nat_gateway_association.nodes"),
            E("azurerm_nat_gateway_public_ip_association.this"),
            E("azurerm_subnet_network_security_group_association.apiserver"),
        ],
        lifecycle=B(
            "lifecycle",
            prevent_destroy=True,
            ignore_changes=[E("default_node_pool[0].node_count")],
        ),
    )
    system_pools = _zonal_pool(
        "system",
        system,
        version,
        disk,
        mode="System",
        name_prefix="system",
        zones_expr=for_map(
            "zone", "z", "local.zones", E("z"), where=compare(E("zone"), "!=", zones[0])
        ),
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
    zones_expr: Expr = ZONES,
    node_taints: list[str] | None = None,
) -> Block:
    """One node pool per zone, pinned to the zone's subnet (and so its NAT gateway)."""
    return R(
        "azurerm_kubernetes_cluster_node_pool",
        role,
        for_each=zones_expr,
        name=template(name_prefix, E("each.key")),
        kubernetes_cluster_id=ref(CLUSTER, "id"),
        vm_size=group.instance_types.azure,
        mode=mode,
        priority="Regular",
        zones=[E("each.key")],
        vnet_subnet_id=E("azurerm_subnet.nodes[each.key].id"),
        orchestrator_version=version,
        auto_scaling_enabled=True,
        min_count=ref("each.value", f"{role}_min"),
        max_count=ref("each.value", f"{role}_max"),
        max_pods=group.max_pods_per_node or MAX_PODS,
        node_taints=node_taints,
        node_labels={**group.labels, "kubeprod.io/pool": role},
        **{**disk, "os_disk_size_gb": group.disk_size_gb},
        tags=TAGS,
        upgrade_settings=B("upgrade_settings", max_surge="33%"),
        lifecycle=B("lifecycle", ignore_changes=[E("node_count")]),
    )
