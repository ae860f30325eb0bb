"""AKS module: versions.tf (Terraform, providers and the azurerm state backend) and
providers.tf (the azurerm provider), shared with the bootstrap module."""

from __future__ import annotations

from kubeprod.clouds.azure_common import azure_of, state_names
from kubeprod.clouds.base import terraform_block
from kubeprod.hcl import Block, Comment
from kubeprod.hcl.shorthand import B, D
from kubeprod.spec.model import Environment

TERRAFORM_CONSTRAINT = ">= 1.9"
AZURERM_VERSION = "~> 4.55"
# hashicorp/time: time_sleep waits for Azure RBAC propagation (as the AVM modules do).
TIME_VERSION = "~> 0.13"
# Resource providers the module uses. The provider registers these itself
# (resource_provider_registrations = "none" + this list) except Microsoft.Compute, which the
# module manages to register its EncryptionAtHost feature (azurerm refuses to manage a
# registration it also registers automatically).
RESOURCE_PROVIDERS = (
    "Microsoft.AlertsManagement",
    "Microsoft.Authorization",
    "Microsoft.ContainerService",
    "Microsoft.Insights",
    "Microsoft.KeyVault",
    "Microsoft.ManagedIdentity",
    "Microsoft.Monitor",
    "Microsoft.Network",
    "Microsoft.OperationalInsights",
    "Microsoft.OperationsManagement",
    "Microsoft.PolicyInsights",
    "Microsoft.Resources",
    "Microsoft.Security",
    "Microsoft.Storage",
)
AZURERM = ("hashicorp/azurerm", AZURERM_VERSION)


def versions_tf(env: Environment) -> list[Block | Comment]:
    """versions.tf: azurerm and time, state in the bootstrap module's storage account (DR-2)."""
    group, account = state_names(env)
    backend = B(
        "backend",
        "azurerm",
        resource_group_name=group,
        storage_account_name=account,
        container_name="tfstate",
        key=f"{env.name}/aks.tfstate",
        use_azuread_auth=True,
    )
    providers = {"azurerm": AZURERM, "time": ("hashicorp/time", TIME_VERSION)}
    return [terraform_block(TERRAFORM_CONSTRAINT, providers, backend)]


def providers_tf(env: Environment, *, manage_compute: bool = False) -> list[Block | Comment]:
    """providers.tf: azurerm (Entra ID auth for storage) and the deployer's client config.

    `manage_compute`: the main module registers Microsoft.Compute itself (security.tf), so the
    provider registers only RESOURCE_PROVIDERS; the bootstrap module leaves the defaults.
    """
    azure = azure_of(env)
    provider = B("provider", "azurerm")
    if azure.subscription_id:
        provider.set(subscription_id=azure.subscription_id)
    else:
        provider.add(Comment("subscription_id comes from ARM_SUBSCRIPTION_ID."))
    provider.set(storage_use_azuread=True)
    if manage_compute:
        provider.add(
            Comment(
                "Microsoft.Compute is registered by azurerm_resource_provider_registration\n"
                ".compute (with its EncryptionAtHost feature), so it is left out of automatic\n"
                "registration."
            )
        )
        provider.set(
            resource_provider_registrations="none",
            resource_providers_to_register=list(RESOURCE_PROVIDERS),
        )
    provider.add(
        B(
            "features",
            key_vault=B(
                "key_vault",
                purge_soft_delete_on_destroy=False,
                recover_soft_deleted_key_vaults=True,
            ),
            resource_group=B("resource_group", prevent_deletion_if_contains_resources=True),
        )
    )
    return [provider, D("azurerm_client_config", "current")]
