"""Lookups several rules share: node groups split into system and workload, clusters."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from kubeprod.policy.plan_model import UNKNOWN, Model, Ref, Resource
from kubeprod.policy.rules.base import blocks

SYSTEM_TAINT = "CriticalAddonsOnly"


def _named_system(*names: Any) -> bool:
    return any(isinstance(n, str) and "system" in n.lower() for n in names)


def _instance_key(res: Resource) -> str:
    m = re.findall(r'\["([^"]+)"\]', res.module)
    return m[-1] if m else ""


def aws_node_groups(model: Model) -> tuple[list[Resource], list[Resource]]:
    """(system, workload) aws_eks_node_group: system = tainted CriticalAddonsOnly or named so."""
    system: list[Resource] = []
    workload: list[Resource] = []
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
    system: list[Resource] = []
    workload: list[Resource] = []
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


# -- EKS node shapes and clusters ------------------------------------------------------------

MANAGED = "managed node group"
SELF_MANAGED = "self-managed node group (launch template + Auto Scaling group)"
AUTO_MODE = "EKS Auto Mode"


@dataclass
class NodeShape:
    """One set of EKS nodes, whatever resource makes them."""

    res: Resource
    shape: str  # MANAGED | SELF_MANAGED | AUTO_MODE
    cluster: str  # the cluster's name (or address) the nodes join
    system: bool
    min_attr: str = ""
    max_attr: str = ""
    subnets_attr: str = ""

    def min(self) -> Any:
        return self.res.get(self.min_attr) if self.min_attr else None

    def max(self) -> Any:
        return self.res.get(self.max_attr) if self.max_attr else None

    def subnets(self) -> Any:
        return self.res.get(self.subnets_attr)

    def instance_types(self, model: Model) -> Any:
        """The instance types the nodes run (None for Auto Mode, which picks them)."""
        if self.shape == MANAGED:
            types = self.res.get("instance_types")
            if types is None:
                types = _template_value(
                    model, self.res.get("launch_template.0.id"), "instance_type"
                )
                types = [types] if isinstance(types, str) else types
            return types
        if self.shape == SELF_MANAGED:
            overrides = self.res.get("mixed_instances_policy.0.launch_template.0.override")
            if isinstance(overrides, list) and overrides:
                return [o.get("instance_type") for o in blocks(overrides)]
            for path in (
                "launch_template.0.id",
                "mixed_instances_policy.0.launch_template.0."
                "launch_template_specification.0.launch_template_id",
            ):
                found = _template_value(model, self.res.get(path), "instance_type")
                if found is not None:
                    return [found] if isinstance(found, str) else found
            return None
        return None


def _template_value(model: Model, template_id: Any, attr: str) -> Any:
    """An attribute of the aws_launch_template a node group names by ID (literal or Ref)."""
    if template_id is UNKNOWN:
        return UNKNOWN
    for lt in model.of("aws_launch_template"):
        if template_id is not None and lt.get("id") == template_id:
            return lt.get(attr)
    return None


def cluster_label(cluster: Resource) -> str:
    name = cluster.get("name")
    return name if isinstance(name, str) and not isinstance(name, Ref) else cluster.address


def cluster_of(res: Resource, model: Model, name: Any = None) -> str:
    """The cluster a node resource joins: by its cluster name, else by a reference to the
    cluster, else the cluster in the same module (or the only one)."""
    clusters = model.of("aws_eks_cluster")
    if isinstance(name, Ref):
        for c in clusters:
            if name.rsplit(".", 1)[0] == c.address:
                return cluster_label(c)
    elif isinstance(name, str):
        return name
    nearest = [c for c in clusters if res.module.startswith(c.module)]
    if nearest:
        return cluster_label(max(nearest, key=lambda c: len(c.module)))
    return cluster_label(clusters[0]) if len(clusters) == 1 else "(unnamed cluster)"


def _asg_cluster(asg: Resource) -> str | None:
    """The cluster an Auto Scaling group's nodes join, from the tags EKS requires."""
    tags = blocks(asg.get("tag"))
    for attr in ("tags", "tags_all"):
        if isinstance(asg.get(attr), dict):
            tags += [{"key": k, "value": v} for k, v in asg.get(attr).items()]
    for t in tags:
        key = t.get("key")
        if isinstance(key, str) and key.startswith("kubernetes.io/cluster/"):
            return key.split("/", 2)[2]
    return None


def aws_node_shapes(model: Model) -> list[NodeShape]:
    """Every set of EKS nodes: managed node groups, self-managed Auto Scaling groups (tagged
    kubernetes.io/cluster/NAME, as EKS requires) and clusters with Auto Mode compute."""
    out: list[NodeShape] = []
    system, _ = aws_node_groups(model)
    for g in model.of("aws_eks_node_group"):
        out.append(
            NodeShape(
                g,
                MANAGED,
                cluster_of(g, model, g.get("cluster_name")),
                g in system,
                "scaling_config.0.min_size",
                "scaling_config.0.max_size",
                "subnet_ids",
            )
        )
    for asg in model.of("aws_autoscaling_group"):
        name = _asg_cluster(asg)
        if name is None:
            continue
        named = _named_system(asg.get("name"), asg.get("name_prefix"), asg.name, _instance_key(asg))
        out.append(
            NodeShape(
                asg,
                SELF_MANAGED,
                cluster_of(asg, model, name),
                named,
                "min_size",
                "max_size",
                "vpc_zone_identifier",
            )
        )
    for c in model.of("aws_eks_cluster"):
        if c.get("compute_config.0.enabled") is True:
            pools = c.get("compute_config.0.node_pools")
            has_system = isinstance(pools, list) and "system" in pools
            out.append(
                NodeShape(
                    c,
                    AUTO_MODE,
                    cluster_label(c),
                    has_system,
                    subnets_attr="vpc_config.0.subnet_ids",
                )
            )
    return out


def by_cluster(shapes: list[NodeShape]) -> dict[str, list[NodeShape]]:
    out: dict[str, list[NodeShape]] = {}
    for s in shapes:
        out.setdefault(s.cluster, []).append(s)
    return out


def subnet_zones(model: Model, ids: Any) -> Any:
    """The distinct zones of subnet IDs (literal IDs or Refs to aws_subnet resources);
    UNKNOWN when any of them cannot be followed to a subnet with a known zone."""
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        return UNKNOWN
    zones_by_id = {
        s.get("id"): s.get("availability_zone")
        for s in model.of("aws_subnet")
        if isinstance(s.get("id"), str)
    }
    zones = [zones_by_id.get(i, UNKNOWN) for i in ids]
    if any(z is UNKNOWN or z is None for z in zones):
        return UNKNOWN
    return sorted(set(zones))
