"""What every file of the AKS module shares: the spec's Azure section, names, references
and the address plan (NET-6).

The AKS module is one file per concern, each written by its own module:
`azure_versions` (versions.tf, providers.tf), `azure_locals` (locals.tf), `azure_network`
(network.tf), `azure_security` (security.tf), `azure_aks` (aks.tf), `azure_monitoring`
(monitoring.tf, variables.tf), `azure_outputs` (outputs.tf); `azure_bootstrap` writes the
state-backend module and `azure` puts the root module together. See docs/azure.md.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
import re
from typing import Any

from kubeprod.clouds.base import section
from kubeprod.errors import InputError
from kubeprod.spec.model import AzureCloud, Environment
from kubeprod.terraform.shorthand import E, ref

RG = "azurerm_resource_group.this"
CLUSTER = "azurerm_kubernetes_cluster.this"
KEY_VAULT = "azurerm_key_vault.this"
TAGS = E("local.tags")
# Azure reserves 5 addresses in every subnet.
AZURE_RESERVED_PER_SUBNET = 5
# CNI Overlay gives every node a /24 of the pod range.
OVERLAY_NODE_PREFIX = 24
API_SERVER_SUBNET_PREFIX = 28


def azure_of(env: Environment) -> AzureCloud:
    """The spec's clouds.azure section; a clear input error when it is missing."""
    return section(env, "azure")


def short_hash(*parts: str, length: int = 6) -> str:
    """A short, stable hash of `parts`: makes global names unique per environment."""
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:length]


def alnum(text: str) -> str:
    """`text` lowercased, letters and digits only (storage account, vault names)."""
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
    """The CNI Overlay pod range: network.pod_cidr, else the Azure section's default."""
    return env.network.pod_cidr or azure_of(env).pod_cidr


def check_addresses(env: Environment) -> None:
    """NET-6 on AKS: nodes fit their subnets, the overlay pod range holds a /24 per node."""
    zones = azure_of(env).zones
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


def state_names(env: Environment) -> tuple[str, str]:
    """(resource group, storage account) of the terraform state (DR-2)."""
    azure = azure_of(env)
    group = azure.state_resource_group or f"rg-{env.name}-tfstate"
    account = azure.state_storage_account or (
        "kpst" + alnum(env.name)[:14] + short_hash(env.name, azure.location)
    )
    return group, account[:24]


def key_vault_name(env: Environment) -> str:
    """Globally unique, 3-24 characters, stable for the environment."""
    azure = azure_of(env)
    return f"kv-{alnum(env.name)[:12]}-{short_hash(env.name, azure.location, 'kv')}"[:24]


def common(**extra: Any) -> dict[str, Any]:
    """Location and resource group of a resource in the environment's group, then `extra`."""
    return {"location": ref(RG, "location"), "resource_group_name": ref(RG, "name"), **extra}


def webhook_targets(env: Environment) -> list[str]:
    """The webhook_env names of the alert targets (each a sensitive variable entry)."""
    return [t.webhook_env for t in env.monitoring.alert_targets if t.webhook_env]
