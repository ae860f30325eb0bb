"""NET-6: do the node subnets hold the pods of the node groups at their largest size?"""

from __future__ import annotations

import ipaddress
import math
from dataclasses import dataclass

# (max ENIs, IPv4 addresses per ENI) from the EC2 "IP addresses per network interface" table.
ENI_LIMITS: dict[str, tuple[int, int]] = {
    "t3.medium": (3, 6),
    "t3.large": (3, 12),
    "t3.xlarge": (4, 15),
    **{f"{f}.large": (3, 10) for f in ("m5", "m6i", "m7i", "c5", "c6i", "r5", "r6i")},
    **{f"{f}.xlarge": (4, 15) for f in ("m5", "m6i", "m7i", "c5", "c6i", "r5", "r6i")},
    **{f"{f}.2xlarge": (4, 15) for f in ("m5", "m6i", "m7i", "c5", "c6i", "r5", "r6i")},
    **{f"{f}.4xlarge": (8, 30) for f in ("m5", "m6i", "m7i", "c5", "c6i", "r5", "r6i")},
}
AWS_RESERVED_PER_SUBNET = 5
PREFIX_DELEGATION_MAX_PODS = 110


def usable_addresses(cidr: str) -> int:
    return ipaddress.ip_network(cidr).num_addresses - AWS_RESERVED_PER_SUBNET


def vpc_cni_ips_per_node(instance_type: str) -> int | None:
    """Addresses one node can take from its subnet with the VPC CNI (every ENI full)."""
    limits = ENI_LIMITS.get(instance_type)
    return limits[0] * limits[1] if limits else None


def prefix_ips_per_node(max_pods: int | None) -> int:
    """Prefix delegation: /28 prefixes (16 addresses) for the pods, plus the node's own."""
    return math.ceil((max_pods or PREFIX_DELEGATION_MAX_PODS) / 16) * 16 + 1


@dataclass(frozen=True)
class Shortfall:
    subnet: str
    usable: int
    needed: int
    nodes: int
    per_node: int


def nodes_per_zone(max_nodes: int, zones: int) -> int:
    """Largest count of nodes one zone holds when the groups spread evenly at their max."""
    return math.ceil(max_nodes / zones)


def split_pod_cidr(pod_cidr: str, zones: int) -> list[str]:
    """One pod subnet per zone, carved as equal power-of-two parts of the secondary CIDR."""
    net = ipaddress.ip_network(pod_cidr)
    extra_bits = max(1, math.ceil(math.log2(zones)))
    return [str(s) for s in list(net.subnets(prefixlen_diff=extra_bits))[:zones]]
