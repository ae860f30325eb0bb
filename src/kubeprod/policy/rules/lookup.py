"""Lookups several rules share: node groups split into system and workload, clusters."""

from __future__ import annotations

import re
from typing import Any

from kubeprod.policy.plan_model import UNKNOWN, Model, Resource
from kubeprod.policy.rules.base import blocks

SYSTEM_TAINT = "CriticalAddonsOnly"


def _named_system(*names: Any) -> bool:
    return any(isinstance(n, str) and "system" in n.lower() for n in names)


def _instance_key(res: Resource) -> str:
    m = re.findall(r'\["([^"]+)"\]', res.module)
    return m[-1] if m else ""


def aws_node_groups(model: Model) -> tuple[list[Resource], list[Resource]]:
    """(system, workload) aws_eks_node_group: system = tainted CriticalAddonsOnly or named so."""
    system, workload = [], []
    for r in model.of("aws_eks_node_group"):
        tainted = any(t.get("key") == SYSTEM_TAINT for t in blocks(r.get("taint")))
        named = _named_system(r.get("node_group_name"), r.name, _instance_key(r), r.index)
        (system if tainted or named else workload).append(r)
    return system, workload


def azure_pools(model: Model) -> list[tuple[Resource, dict[str, Any], str, str]]:
    """(resource, pool values, mode, attribute prefix) for the default pool and every pool."""
    pools = []
    for c in model.of("azurerm_kubernetes_cluster"):
        for pool in blocks(c.get("default_node_pool")):
            pools.append((c, pool, "System", "default_node_pool.0."))
    for p in model.of("azurerm_kubernetes_cluster_node_pool"):
        mode = p.get("mode") or "User"
        pools.append((p, p.values, mode if mode is not UNKNOWN else "User", ""))
    return pools


def gcp_pools(model: Model) -> tuple[list[Resource], list[Resource]]:
    system, workload = [], []
    for r in model.of("google_container_node_pool"):
        config = (blocks(r.get("node_config")) or [{}])[0]
        tainted = any(t.get("key") == SYSTEM_TAINT for t in blocks(config.get("taint")))
        (system if tainted or _named_system(r.get("name"), r.name) else workload).append(r)
    return system, workload


def gcp_pool_zones(pool: Resource, model: Model) -> Any:
    zones = pool.get("node_locations")
    if zones is None:
        for c in model.of("google_container_cluster"):
            zones = c.get("node_locations")
    return zones


def gcp_pool_min(pool: Resource, model: Model) -> Any:
    """Total minimum nodes of a GKE pool (total_min_node_count, or per-zone min x zones)."""
    scaling = (blocks(pool.get("autoscaling")) or [{}])[0]
    total = scaling.get("total_min_node_count")
    if total not in (None, 0):
        return total
    per_zone = scaling.get("min_node_count", pool.get("node_count"))
    zones = gcp_pool_zones(pool, model)
    if per_zone is UNKNOWN or zones is UNKNOWN or per_zone is None:
        return UNKNOWN if (per_zone is UNKNOWN or zones is UNKNOWN) else None
    return per_zone * (len(zones) if isinstance(zones, list) and zones else 1)


def gcp_pool_max(pool: Resource, model: Model) -> Any:
    scaling = (blocks(pool.get("autoscaling")) or [{}])[0]
    total = scaling.get("total_max_node_count")
    if total not in (None, 0):
        return total
    per_zone = scaling.get("max_node_count")
    zones = gcp_pool_zones(pool, model)
    if per_zone is UNKNOWN or zones is UNKNOWN or per_zone is None:
        return UNKNOWN if (per_zone is UNKNOWN or zones is UNKNOWN) else None
    return per_zone * (len(zones) if isinstance(zones, list) and zones else 1)


def tag(res: Resource, key: str) -> Any:
    for attr in ("tags", "tags_all"):
        tags = res.get(attr)
        if isinstance(tags, dict) and key in tags:
            return tags[key]
    return None


def aws_public_subnets(model: Model) -> list[Resource]:
    return [
        s
        for s in model.of("aws_subnet")
        if tag(s, "kubernetes.io/role/elb") is not None or s.get("map_public_ip_on_launch") is True
    ]


def aws_private_subnets(model: Model) -> list[Resource]:
    return [
        s for s in model.of("aws_subnet") if tag(s, "kubernetes.io/role/internal-elb") is not None
    ]


def known(values: list[Any]) -> bool:
    return all(v is not UNKNOWN for v in values)
