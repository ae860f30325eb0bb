"""NET-6 on GCP: address and NAT sizing shared by the GKE renderer and the profile rule.

GKE gives every node a slice of the pods secondary range twice the size of its
max pods (rounded up to a power of two: 110 pods -> a /24), and every node one
address of the node subnet. Regional node pools surge one node per zone during
upgrades, so the ranges must hold the node groups at their maximum plus the surge.
"""

from __future__ import annotations

import ipaddress
import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # annotations only: the policy gate uses the arithmetic without pydantic
    from kubeprod.spec.model import Environment, NodeGroup

GKE_DEFAULT_MAX_PODS = 110
GCP_RESERVED_PER_SUBNET = 4  # network, gateway, second-to-last and broadcast addresses
SURGE_PER_ZONE = 1  # upgrade_settings.max_surge of every node pool
NAT_PORTS_PER_IP = 64512  # ports 1024-65535 of one Cloud NAT address
NAT_MIN_PORTS_PER_VM = 2048
NAT_MAX_PORTS_PER_VM = 32768
NAT_MIN_IPS = 2  # one spare, so a quota or abuse block on one address is not an outage


def max_pods(group: NodeGroup) -> int:
    """Max pods per node of a group (GKE's default when the spec leaves it out)."""
    return group.max_pods_per_node or GKE_DEFAULT_MAX_PODS


def pod_block_size(pods: int) -> int:
    """Addresses GKE reserves per node for `pods` pods: 2 x pods, rounded to a power of 2."""
    return 2 ** math.ceil(math.log2(2 * pods))


def per_zone(total: int, zones: int) -> int:
    """A per-zone count that reaches `total` over `zones` zones (regional pools count per zone)."""
    return math.ceil(total / zones)


def system_max_nodes(env: Environment, zones: int) -> int:
    """The system pool's largest size: its per-zone max times the zones."""
    return per_zone(env.node_groups.system.max_size, zones) * zones


def peak_nodes(env: Environment, zones: int) -> list[tuple[NodeGroup, int]]:
    """(group, node count at its max during an upgrade surge) for both node pools."""
    surge = SURGE_PER_ZONE * zones
    system, workload = env.node_groups.system, env.node_groups.workload
    return [(system, system_max_nodes(env, zones) + surge), (workload, workload.max_size + surge)]


def pod_addresses_needed(env: Environment, zones: int) -> int:
    """Pods-range addresses both pools need at their peak."""
    return sum(n * pod_block_size(max_pods(g)) for g, n in peak_nodes(env, zones))


def node_addresses_needed(env: Environment, zones: int) -> int:
    """Node-subnet addresses both pools need at their peak."""
    return sum(n for _, n in peak_nodes(env, zones))


def usable_addresses(cidr: str) -> int:
    """Addresses of a GCP subnet range that a node can take."""
    return ipaddress.ip_network(cidr).num_addresses - GCP_RESERVED_PER_SUBNET


def nat_ip_count(env: Environment, zones: int) -> int:
    """Cloud NAT addresses so every node at peak gets its minimum ports, plus a spare."""
    needed = math.ceil(node_addresses_needed(env, zones) * NAT_MIN_PORTS_PER_VM / NAT_PORTS_PER_IP)
    return max(NAT_MIN_IPS, needed + 1)
