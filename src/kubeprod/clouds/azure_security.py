"""AKS module: security.tf, Key Vault with the KMS and disk keys (SEC-8 / SEC-3), the
cluster's identity and roles with their RBAC propagation waits, host encryption, the
cluster admins (K8S-5) and Pod Security Standards enforcement (SEC-6)."""

from __future__ import annotations

from kubeprod.clouds.azure_common import (
    CLUSTER,
    KEY_VAULT,
    TAGS,
    azure_of,
    common,
    key_vault_name,
    role_assignment,
)
from kubeprod.facts.azure import PSS_RESTRICTED_INITIATIVE
from kubeprod.hcl import Block, Call, Comment, Expr
from kubeprod.hcl.shorthand import B, E, R, ref, template
from kubeprod.spec.model import Environment

# Azure RBAC assignments take effect after a delay; the AVM Key Vault module waits 30 s
# (`wait_for_rbac_before_key_operations`). Doubled for a production first apply.
RBAC_PROPAGATION = "60s"
# Built-in roles that let an Entra ID group administer an AKS cluster with Azure RBAC
# (mspnp/aks-baseline assigns both to the cluster admin group).
AKS_ADMIN_ROLES = {
    "admin": "Azure Kubernetes Service RBAC Cluster Admin",
    "admin_user": "Azure Kubernetes Service Cluster User Role",
}


def vault_key(name: str, purpose: str) -> Block:
    """An RSA-HSM key in the environment's Key Vault, rotated yearly, never destroyed."""
    return R(
        "azurerm_key_vault_key",
        name,
        name=f"{name}-{purpose}",
        key_vault_id=ref(KEY_VAULT, "id"),
        key_type="RSA-HSM",
        key_size=3072,
        key_opts=["decrypt", "encrypt", "sign", "unwrapKey", "verify", "wrapKey"],
        tags=TAGS,
        # A new key version every year; no expiry date (see checkov-skips.yaml, CKV_AZURE_40).
        rotation_policy=B(
            "rotation_policy",
            automatic=B("automatic", time_after_creation="P365D"),
        ),
        # Key operations wait until the deployer's Crypto Officer role has propagated.
        depends_on=[E("time_sleep.deployer_rbac")],
        lifecycle=B("lifecycle", prevent_destroy=True),
    )


def _wait(name: str, assignments: list[str], purpose: str) -> list[Block | Comment]:
    """A time_sleep after role assignments, before what needs them (AVM's RBAC wait)."""
    return [
        Comment(purpose),
        R(
            "time_sleep",
            name,
            create_duration=RBAC_PROPAGATION,
            depends_on=[ref("azurerm_role_assignment", a) for a in assignments],
        ),
    ]


def admin_groups(env: Environment) -> list[str]:
    """Entra ID groups that administer the cluster: access.* first, then clouds.azure.*."""
    groups = [*env.access.azure_admin_group_object_ids, *azure_of(env).admin_group_object_ids]
    return list(dict.fromkeys(groups))


def _admins(env: Environment) -> list[Block | Comment]:
    """ACCESS-1 / K8S-5: Azure RBAC roles for the admin groups, as mspnp/aks-baseline does."""
    out: list[Block | Comment] = [
        Comment(
            "K8S-5: local accounts are off and Kubernetes authorization is Azure RBAC, so only\n"
            "these role assignments admit anyone: the spec's admin groups get RBAC Cluster\n"
            "Admin on the cluster and the Cluster User role (to fetch a kubeconfig)."
        )
    ]
    for name, role in AKS_ADMIN_ROLES.items():
        out.append(
            R(
                "azurerm_role_assignment",
                f"cluster_{name}",
                for_each=Call("toset", admin_groups(env)),
                scope=ref(CLUSTER, "id"),
                role_definition_name=role,
                principal_id=E("each.value"),
                principal_type="Group",
            )
        )
    return out


def compute_provider_id(env: Environment) -> str | Expr:
    """The Microsoft.Compute registration's ID: literal when the spec names the subscription
    (an import ID must be known at plan time), else from the provider's client config."""
    subscription = azure_of(env).subscription_id
    if subscription:
        return f"/subscriptions/{subscription}/providers/Microsoft.Compute"
    return template(
        "/subscriptions/",
        E("data.azurerm_client_config.current.subscription_id"),
        "/providers/Microsoft.Compute",
    )


def security_tf(env: Environment) -> list[Block | Comment]:
    """security.tf: Key Vault and keys, identities and role assignments, disk encryption,
    EncryptionAtHost, cluster admins and the pod security policy assignment."""
    cluster_identity = E("azurerm_user_assigned_identity.cluster.principal_id")
    return [
        Comment(
            "SEC-8 / SEC-3: Key Vault (RBAC only, purge protection, soft delete) holding the\n"
            "KMS key for etcd encryption and the disk encryption key. KMS runs in the\n"
            "documented public-vault mode: a vault firewall (IP rules or public access off)\n"
            "blocks the KMS plugin (use-kms-etcd-encryption.md, Limitations), so the network\n"
            "stays open and Entra ID RBAC is the gate: only the deployer (Crypto Officer)\n"
            "and the cluster identity (Crypto User) can use the keys. See docs/azure.md."
        ),
        R(
            "azurerm_key_vault",
            "this",
            name=key_vault_name(env),
            **common(
                tenant_id=E("data.azurerm_client_config.current.tenant_id"),
                sku_name="premium",
                rbac_authorization_enabled=True,
                purge_protection_enabled=True,
                soft_delete_retention_days=90,
                enabled_for_disk_encryption=True,
                public_network_access_enabled=True,
                tags=TAGS,
            ),
            network_acls=B(
                "network_acls",
                default_action="Allow",
                bypass="AzureServices",
            ),
            lifecycle=B("lifecycle", prevent_destroy=True),
        ),
        Comment("Whoever runs terraform creates the keys."),
        role_assignment(
            "deployer_crypto_officer",
            ref(KEY_VAULT, "id"),
            "Key Vault Crypto Officer",
            E("data.azurerm_client_config.current.object_id"),
        ),
        *_wait(
            "deployer_rbac",
            ["deployer_crypto_officer"],
            "Role assignments take a while to reach Key Vault: create keys only after it.",
        ),
        vault_key("etcd", "kms"),
        vault_key("disk", "des"),
        Comment("SEC-8: the cluster's identity (KMS needs a user-assigned one)."),
        R(
            "azurerm_user_assigned_identity",
            "cluster",
            name=f"id-{env.name}-aks",
            **common(tags=TAGS),
        ),
        role_assignment(
            "cluster_kms", ref(KEY_VAULT, "id"), "Key Vault Crypto User", cluster_identity
        ),
        Comment("API Server VNet Integration and node subnets live in our VNet."),
        role_assignment(
            "cluster_network",
            E("azurerm_virtual_network.this.id"),
            "Network Contributor",
            cluster_identity,
        ),
        Comment("SEC-3: OS and data disks encrypted with our key."),
        R(
            "azurerm_disk_encryption_set",
            "this",
            name=f"des-{env.name}",
            **common(
                key_vault_key_id=E("azurerm_key_vault_key.disk.versionless_id"),
                auto_key_rotation_enabled=True,
                encryption_type="EncryptionAtRestWithCustomerKey",
                tags=TAGS,
            ),
            identity=B("identity", type="SystemAssigned"),
        ),
        role_assignment(
            "des_crypto",
            ref(KEY_VAULT, "id"),
            "Key Vault Crypto Service Encryption User",
            E("azurerm_disk_encryption_set.this.identity[0].principal_id"),
        ),
        role_assignment(
            "cluster_des_reader",
            E("azurerm_disk_encryption_set.this.id"),
            "Reader",
            cluster_identity,
        ),
        *_wait(
            "cluster_rbac",
            ["cluster_kms", "cluster_network", "des_crypto", "cluster_des_reader"],
            "The cluster (KMS, disks, subnets) starts only once its roles have propagated.",
        ),
        Comment(
            "SEC-3: host encryption needs the EncryptionAtHost feature of Microsoft.Compute\n"
            "(enable-host-encryption.md). Registered here as code; the bootstrap module's\n"
            "provider has already registered Microsoft.Compute itself, so it is imported."
        ),
        B(
            "import",
            to=E("azurerm_resource_provider_registration.compute"),
            id=compute_provider_id(env),
        ),
        R(
            "azurerm_resource_provider_registration",
            "compute",
            name="Microsoft.Compute",
            feature=B("feature", name="EncryptionAtHost", registered=True),
        ),
        *_admins(env),
        Comment(
            "SEC-6: Pod Security Standards 'restricted', enforced (deny) by the Azure Policy\n"
            "add-on. kube-system and the add-on namespaces are excluded by the initiative."
        ),
        R(
            "azurerm_resource_policy_assignment",
            "pod_security_restricted",
            name="pod-security-restricted",
            resource_id=ref(CLUSTER, "id"),
            policy_definition_id=PSS_RESTRICTED_INITIATIVE,
            display_name="Kubernetes pod security restricted standards (kubeprod SEC-6)",
            parameters=Call("jsonencode", {"effect": {"value": "deny"}}),
        ),
    ]
