"""AKS module: locals.tf, the environment's name, location, tags and zone map (NET-5 / CHR-5)."""

from __future__ import annotations

from kubeprod.clouds.azure_common import azure_of
from kubeprod.clouds.base import environment_tags
from kubeprod.hcl import Block, Comment
from kubeprod.hcl.shorthand import B
from kubeprod.spec.model import Environment


def split_range(minimum: int, maximum: int, parts: int) -> list[tuple[int, int]]:
    """Split a node range over `parts` per-zone pools; the sums equal the totals (K8S-3)."""

    def spread(total: int) -> list[int]:
        base, extra = divmod(total, parts)
        return [base + (1 if i < extra else 0) for i in range(parts)]

    return list(zip(spread(minimum), spread(maximum), strict=True))


def locals_tf(env: Environment) -> list[Block | Comment]:
    """locals.tf: name, location, tags and the per-zone map every zonal resource iterates."""
    azure = azure_of(env)
    zones = list(azure.zones)
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
        B(
            "locals",
            name=env.name,
            location=azure.location,
            tags=environment_tags(env),
            zones=zone_map,
        ),
    ]
