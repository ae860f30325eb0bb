"""AKS module: outputs.tf."""

from __future__ import annotations

from kubeprod.clouds.azure_common import CLUSTER, KEY_VAULT, RG
from kubeprod.hcl import Block, Comment, Expr
from kubeprod.hcl.shorthand import B, E, for_map, ref


def outputs_tf() -> list[Block | Comment]:
    """outputs.tf: what operators and downstream modules read from the environment."""

    def out(name: str, value: Expr, description: str) -> Block:
        return B("output", name, value=value, description=description)

    return [
        out("resource_group_name", ref(RG, "name"), "Resource group of the environment"),
        out("cluster_id", ref(CLUSTER, "id"), "AKS cluster resource ID"),
        out("cluster_name", ref(CLUSTER, "name"), "AKS cluster name"),
        out("oidc_issuer_url", ref(CLUSTER, "oidc_issuer_url"), "Workload identity issuer"),
        out("key_vault_id", ref(KEY_VAULT, "id"), "Key Vault with the KMS and disk keys"),
        out(
            "kms_key_id",
            E("azurerm_key_vault_key.etcd.id"),
            "Versioned KMS key the cluster should use (compare with az aks show "
            "--query securityProfile.azureKeyVaultKms.keyId after a rotation)",
        ),
        out(
            "nat_public_ips",
            for_map("zone", "ip", "azurerm_public_ip.nat", E("ip.ip_address")),
            "Egress IP per zone (allow-list these downstream)",
        ),
        out(
            "node_subnet_ids",
            for_map("zone", "subnet", "azurerm_subnet.nodes", E("subnet.id")),
            "Node subnet per zone",
        ),
        out(
            "log_analytics_workspace_id",
            E("azurerm_log_analytics_workspace.this.id"),
            "Control-plane logs and Container Insights",
        ),
    ]
