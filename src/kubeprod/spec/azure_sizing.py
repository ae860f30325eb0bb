"""NET-6 on AKS: the address plan of Azure CNI Overlay, checked from the spec.

The production profile reports every problem (with the spec's file:line) before anything
renders; the AKS renderer runs the same check as a guard. Constants from the AKS
documentation ("Configure Azure CNI Overlay networking"; "Plan IP addressing").
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Iterator

from kubeprod.spec.model import Environment

# Azure reserves 5 addresses in every subnet (the first four and the last).
AZURE_RESERVED_PER_SUBNET = 5
# CNI Overlay gives every node a /24 of the pod range.
OVERLAY_NODE_PREFIX = 24

Problem = tuple[tuple[str | int, ...], str, str]  # (spec location, message, fix)


def pod_cidr(env: Environment) -> str:
    """The CNI Overlay pod range: network.pod_cidr, else the Azure section's default."""
    assert env.clouds.azure is not None, "callers check clouds.azure first"
    return env.network.pod_cidr or env.clouds.azure.pod_cidr


def address_problems(env: Environment) -> Iterator[Problem]:
    """Every way the AKS address plan does not fit (nothing when clouds.azure is unset)."""
    if env.clouds.azure is None:
        return
    zones = env.clouds.azure.zones
    net, groups = env.network, env.node_groups
    if len(net.private_subnets) < len(zones):
        yield (
            ("network", "private_subnets"),
            f"{len(net.private_subnets)} node subnets for {len(zones)} Azure zones",
            "give one private subnet per zone",
        )
        return
    vnet = ipaddress.ip_network(net.vpc_cidr)
    pods = ipaddress.ip_network(pod_cidr(env))
    services = ipaddress.ip_network(net.service_cidr)
    pod_loc = ("network", "pod_cidr") if net.pod_cidr else ("clouds", "azure", "pod_cidr")
    for loc, label, range_ in (
        (pod_loc, "pod range", pods),
        (("network", "service_cidr"), "service range", services),
    ):
        if range_.overlaps(vnet):
            yield (
                loc,
                f"the AKS {label} {range_} overlaps the VNet {vnet}",
                "choose a range outside it",
            )
    if pods.overlaps(services):
        yield pod_loc, f"pod range {pods} overlaps service range {services}", "separate them"
    # Surge: one extra node per pool during upgrades.
    max_nodes = groups.system.max_size + groups.workload.max_size + 1 + len(zones)
    pod_slots = 2 ** max(0, OVERLAY_NODE_PREFIX - pods.prefixlen)
    if pod_slots < max_nodes:
        yield (
            pod_loc,
            f"CNI Overlay gives each node a /24; the pod range {pods} holds {pod_slots} nodes "
            f"but the node groups can reach {max_nodes} (with upgrade surge)",
            "use a larger network.pod_cidr (a /16 holds 256 nodes)",
        )
    per_zone = math.ceil(groups.system.max_size / len(zones)) + math.ceil(
        groups.workload.max_size / len(zones)
    )
    for index, cidr in enumerate(net.private_subnets[: len(zones)]):
        usable = ipaddress.ip_network(cidr).num_addresses - AZURE_RESERVED_PER_SUBNET
        if usable < per_zone + 2:
            yield (
                ("network", "private_subnets", index),
                f"node subnet {cidr} has {usable} usable addresses for up to {per_zone + 2} "
                "nodes (with surge)",
                "use a larger private subnet",
            )
