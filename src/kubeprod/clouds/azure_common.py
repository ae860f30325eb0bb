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
import re
from typing import Any

from kubeprod.clouds.base import section
from kubeprod.errors import InputError
from kubeprod.hcl import Block, Expr
from kubeprod.hcl.shorthand import E, R, ref
from kubeprod.spec.azure_sizing import (  # noqa: F401  (re-exported for the renderer)
    AZURE_RESERVED_PER_SUBNET,
    OVERLAY_NODE_PREFIX,
    address_problems,
    pod_cidr,
)
from kubeprod.spec.model import AzureCloud, Environment

RG = "azurerm_resource_group.this"
CLUSTER = "azurerm_kubernetes_cluster.this"
KEY_VAULT = "azurerm_key_vault.this"
TAGS = E("local.tags")
API_SERVER_SUBNET_PREFIX = 28
# The hardening every storage account kubeprod renders shares (state backend, backup
# staging): zone- and geo-redundant, TLS 1.2, Entra ID only, no public blobs, no keys.
HARDENED_STORAGE_ACCOUNT: dict[str, Any] = {
    "account_tier": "Standard",
    "account_kind": "StorageV2",
    "account_replication_type": "GZRS",
    "min_tls_version": "TLS1_2",
    "https_traffic_only_enabled": True,
    "allow_nested_items_to_be_public": False,
    "shared_access_key_enabled": False,
    "default_to_oauth_authentication": True,
    "infrastructure_encryption_enabled": True,
    "cross_tenant_replication_enabled": False,
}


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


def check_addresses(env: Environment) -> None:
    """NET-6 on AKS (kubeprod.spec.azure_sizing): the profile reports these with file:line;
    here the first one stops a render of a spec that skipped the profile."""
    for _loc, message, fix in address_problems(env):
        raise InputError(f"{message}. Fix: {fix}")


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


def role_assignment(name: str, scope: Expr, role: str, principal: Expr) -> Block:
    """`azurerm_role_assignment` of a built-in role, by name, to a principal on a scope."""
    return R(
        "azurerm_role_assignment",
        name,
        scope=scope,
        role_definition_name=role,
        principal_id=principal,
    )
