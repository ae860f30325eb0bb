"""NET-6 address capacity of configurations kubeprod did not write: do the node subnets
hold every node and pod at the node groups' largest size?

The arithmetic is the spec profile's (kubeprod.spec.capacity): VPC CNI addresses per
node from the EC2 ENI table (or /28 prefixes with prefix delegation), nodes spread evenly
over a group's subnets at max_size, AWS's five reserved addresses per subnet. For AKS with
Azure CNI (not overlay), each node takes max_pods + 1 addresses from its pool's subnet.
"""

from __future__ import annotations

import ipaddress
import json
import math
from typing import Any

from kubeprod.policy.plan_model import UNKNOWN, Resource
from kubeprod.policy.rules.base import Ctx, blocks
from kubeprod.policy.rules.lookup import (
    AUTO_MODE,
    aws_node_shapes,
    azure_pools,
    gcp_pool_max,
    gcp_pool_zones,
)
from kubeprod.spec import capacity, gcp_sizing

AZURE_RESERVED_PER_SUBNET = 5  # Azure reserves the first four and the last address
AKS_AZURE_CNI_DEFAULT_MAX_PODS = 30  # azurerm: max_pods defaults to 30 with Azure CNI


def _cni_settings(ctx: Ctx) -> dict[str, Any]:
    for addon in ctx.model.of("aws_eks_addon"):
        if addon.get("addon_name") == "vpc-cni" and isinstance(
            addon.get("configuration_values"), str
        ):
            try:
                return json.loads(addon.get("configuration_values")).get("env") or {}
            except (ValueError, AttributeError):
                return {}
    return {}


def aws_capacity(ctx: Ctx) -> None:
    """Per node subnet: addresses the node groups need at max_size vs usable addresses."""
    env = _cni_settings(ctx)
    if str(env.get("AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG", "")).lower() == "true":
        return  # pods take addresses from the ENIConfig subnets, judged by their own CIDRs
    prefix = str(env.get("ENABLE_PREFIX_DELEGATION", "")).lower() == "true"
    subnets = {s.get("id"): s for s in ctx.model.of("aws_subnet") if isinstance(s.get("id"), str)}
    need: dict[str, int] = {}
    users: dict[str, list[str]] = {}
    for shape in aws_node_shapes(ctx.model):
        if shape.shape == AUTO_MODE:
            continue
        ids, top = shape.subnets(), shape.max()
        types = shape.instance_types(ctx.model) or []
        itype = types[0] if isinstance(types, list) and types else None
        if not isinstance(ids, list) or not ids or not isinstance(top, int):
            continue
        if any(i not in subnets for i in ids):
            continue
        per_node = (
            capacity.prefix_ips_per_node(None)
            if prefix
            else (capacity.vpc_cni_ips_per_node(itype) if isinstance(itype, str) else None)
        )
        if per_node is None:
            ctx.unknown(
                shape.res,
                f"addresses per node unknown for instance type {itype!r} (not in the ENI "
                "table kubeprod.spec.capacity.ENI_LIMITS)",
                "instance_types",
            )
            continue
        nodes = capacity.nodes_per_zone(top, len(ids))
        for i in ids:
            need[i] = need.get(i, 0) + nodes * per_node
            users.setdefault(i, []).append(f"{shape.res.address} ({nodes} x {per_node})")
    for sid, needed in need.items():
        subnet = subnets[sid]
        cidr = subnet.get("cidr_block")
        if not isinstance(cidr, str):
            continue
        usable = capacity.usable_addresses(cidr)
        _judge(ctx, subnet, "cidr_block", cidr, usable, needed, users[sid])


def azure_capacity(ctx: Ctx) -> None:
    """Azure CNI (flat): every pool's nodes and their pods at max_count in its subnet."""
    subnets = {
        s.get("id"): s for s in ctx.model.of("azurerm_subnet") if isinstance(s.get("id"), str)
    }
    need: dict[str, int] = {}
    users: dict[str, list[str]] = {}
    for cluster in ctx.model.of("azurerm_kubernetes_cluster"):
        profile = (blocks(cluster.get("network_profile")) or [{}])[0]
        if profile.get("network_plugin") != "azure" or profile.get("network_plugin_mode") in (
            "overlay",
            UNKNOWN,
        ):
            continue
        pools = [
            (res, pool)
            for res, pool, _, _ in azure_pools(ctx.model)
            if res is cluster or res.get("kubernetes_cluster_id") == cluster.get("id")
        ]
        for res, pool in pools:
            sid = pool.get("vnet_subnet_id")
            top = pool.get("max_count") if pool.get("auto_scaling_enabled") else None
            top = top if isinstance(top, int) else pool.get("node_count")
            pods = pool.get("max_pods") or AKS_AZURE_CNI_DEFAULT_MAX_PODS
            if not isinstance(sid, str) or sid not in subnets:
                continue
            if not isinstance(top, int) or not isinstance(pods, int):
                continue
            need[sid] = need.get(sid, 0) + top * (pods + 1)
            users.setdefault(sid, []).append(f"{res.address} ({top} x {pods + 1})")
    for sid, needed in need.items():
        subnet = subnets[sid]
        prefixes = subnet.get("address_prefixes")
        if not isinstance(prefixes, list) or not all(isinstance(p, str) for p in prefixes):
            continue
        usable = sum(
            ipaddress.ip_network(p, strict=False).num_addresses - AZURE_RESERVED_PER_SUBNET
            for p in prefixes
        )
        _judge(ctx, subnet, "address_prefixes", prefixes, usable, needed, users[sid])


def _judge(
    ctx: Ctx,
    subnet: Resource,
    attr: str,
    cidr: Any,
    usable: int,
    needed: int,
    users: list[str],
) -> None:
    if needed <= usable:
        ctx.ok(subnet, f"{attr} {cidr}: {usable} usable addresses >= {needed} at peak", attr)
    else:
        bits = math.ceil(math.log2(needed + AZURE_RESERVED_PER_SUBNET))
        ctx.fail(
            subnet,
            f"{attr} {cidr} has {usable} usable addresses; the nodes and pods at their "
            f"largest need {needed}: {', '.join(users)}",
            attr,
            f"a /{32 - bits} or larger, or fewer nodes / max pods per node",
        )


def gcp_capacity(ctx: Ctx) -> None:
    """GKE: the pods secondary range holds a pod block (2 x max pods, a power of two) per
    node, and the node range one address per node, for every pool at its maximum plus the
    upgrade surge (kubeprod.spec.gcp_sizing, as the profile checks our spec)."""
    for cluster in ctx.model.of("google_container_cluster"):
        subnet = _gke_subnetwork(ctx, cluster)
        if subnet is None:
            continue
        pods_range = cluster.get("ip_allocation_policy.0.cluster_secondary_range_name")
        ranges = {
            r.get("range_name"): r.get("ip_cidr_range")
            for r in blocks(subnet.get("secondary_ip_range"))
        }
        pods_cidr, node_cidr = ranges.get(pods_range), subnet.get("ip_cidr_range")
        pods_need = nodes_need = 0
        users: list[str] = []
        for pool in ctx.model.of("google_container_node_pool"):
            if pool.get("cluster") not in (cluster.get("name"), cluster.get("id")):
                continue
            top, zones = gcp_pool_max(pool, ctx.model), gcp_pool_zones(pool, ctx.model)
            per_node = (
                pool.get("max_pods_per_node")
                or cluster.get("default_max_pods_per_node")
                or gcp_sizing.GKE_DEFAULT_MAX_PODS
            )
            if not isinstance(top, int) or not isinstance(per_node, int):
                return  # a size known only after apply: nothing honest to compare
            surge = gcp_sizing.SURGE_PER_ZONE * (len(zones) if isinstance(zones, list) else 1)
            nodes = top + surge
            pods_need += nodes * gcp_sizing.pod_block_size(per_node)
            nodes_need += nodes
            users.append(f"{pool.address} ({nodes} nodes x {per_node} pods)")
        if not users:
            continue
        if isinstance(pods_cidr, str):
            have = ipaddress.ip_network(pods_cidr, strict=False).num_addresses
            _judge(ctx, subnet, "secondary_ip_range (pods)", pods_cidr, have, pods_need, users)
        if isinstance(node_cidr, str):
            have = gcp_sizing.usable_addresses(node_cidr)
            _judge(ctx, subnet, "ip_cidr_range", node_cidr, have, nodes_need, users)


def _gke_subnetwork(ctx: Ctx, cluster: Resource) -> Resource | None:
    """The google_compute_subnetwork a cluster names (by name, self link or reference)."""
    wanted = cluster.get("subnetwork")
    for s in ctx.model.of("google_compute_subnetwork"):
        if wanted is not None and wanted in (s.get("name"), s.get("id"), s.get("self_link")):
            return s
    return None
