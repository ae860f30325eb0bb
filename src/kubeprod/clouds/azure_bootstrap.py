"""AKS: the bootstrap module, the storage account holding the main module's state (DR-2)."""

from __future__ import annotations

from kubeprod.clouds.azure_common import HARDENED_STORAGE_ACCOUNT, azure_of, state_names
from kubeprod.clouds.azure_versions import AZURERM, TERRAFORM_CONSTRAINT, providers_tf
from kubeprod.clouds.base import Files, environment_tags, terraform_block
from kubeprod.hcl import Comment
from kubeprod.hcl.shorthand import B, E, R, ref
from kubeprod.spec.model import Environment


def bootstrap_files(env: Environment) -> Files:
    """DR-2: a small separate module creating the azurerm state backend's storage."""
    azure = azure_of(env)
    group, account = state_names(env)
    rg = "azurerm_resource_group.state"
    return {
        "versions.tf": [terraform_block(TERRAFORM_CONSTRAINT, {"azurerm": AZURERM})],
        "providers.tf": providers_tf(env),
        "state.tf": [
            Comment(
                "DR-2: terraform state for the AKS module, with blob versioning and soft\n"
                "delete so a bad write or a deletion can be undone. Apply this once, locally\n"
                "state, before the main module (its backend points here)."
            ),
            R(
                "azurerm_resource_group",
                "state",
                name=group,
                location=azure.location,
                tags=environment_tags(env),
            ),
            R(
                "azurerm_management_lock",
                "state",
                name="kubeprod-cannot-delete",
                scope=ref(rg, "id"),
                lock_level="CanNotDelete",
                notes="Terraform state of a production environment (kubeprod DR-2).",
            ),
            R(
                "azurerm_storage_account",
                "state",
                name=account,
                resource_group_name=ref(rg, "name"),
                location=ref(rg, "location"),
                **HARDENED_STORAGE_ACCOUNT,
                tags=environment_tags(env),
                blob_properties=B(
                    "blob_properties",
                    versioning_enabled=True,
                    change_feed_enabled=True,
                    delete_retention_policy=B("delete_retention_policy", days=30),
                    container_delete_retention_policy=B(
                        "container_delete_retention_policy", days=30
                    ),
                ),
                network_rules=B(
                    "network_rules",
                    default_action="Deny",
                    bypass=["AzureServices"],
                    ip_rules=[_ip_rule(c) for c in env.api_endpoint.public_allowed_cidrs],
                ),
                lifecycle=B("lifecycle", prevent_destroy=True),
            ),
            R(
                "azurerm_storage_container",
                "tfstate",
                name="tfstate",
                storage_account_id=E("azurerm_storage_account.state.id"),
                container_access_type="private",
            ),
        ],
    }


def _ip_rule(cidr: str) -> str:
    """Storage firewalls take single IPs without /32 and ranges up to /30."""
    return cidr[:-3] if cidr.endswith("/32") else cidr
