"""DR-1 / DR-4 on Azure: AKS Backup, written to the module's backup.tf.

The pieces AKS Backup needs (learn.microsoft.com, "Back up AKS using Azure Backup" and
"AKS backup prerequisites"; terraform azurerm `data_protection_backup_instance_kubernetes_cluster`
example):

- a Backup vault (geo-redundant, cross-region restore on, immutable, soft delete on);
- the `microsoft.dataprotection.kubernetes` cluster extension, with a storage account
  and blob container where it stages backups, and its identity allowed on that account;
- trusted access: the vault bound to the cluster with the backup-operator role;
- role assignments: the vault reads the cluster and the snapshot resource group and may
  snapshot disks there; the cluster's identity may write snapshots there;
- a Kubernetes backup policy (ISO 8601 repeating interval, retention per data store) and
  the backup instance that ties cluster, policy and vault together.

DR-4: daily recovery points are kept in the vault tier too; the geo-redundant vault with
cross-region restore makes them restorable in the paired region (docs/dr.md).
"""

from __future__ import annotations

import hashlib

from kubeprod.clouds.azure_common import HARDENED_STORAGE_ACCOUNT, role_assignment
from kubeprod.dr.cloud_schedules import schedule_for
from kubeprod.hcl import Block, Comment
from kubeprod.hcl.shorthand import B, E, R, at, ref, template
from kubeprod.spec.model import Environment

RG = "azurerm_resource_group.this"
CLUSTER = "azurerm_kubernetes_cluster.this"
VAULT = "azurerm_data_protection_backup_vault.this"
VAULT_PRINCIPAL = ref(VAULT, "identity[0].principal_id")
EXTENSION = "azurerm_kubernetes_cluster_extension.backup"
SNAPSHOTS_RG = "azurerm_resource_group.backup_snapshots"
STORAGE = "azurerm_storage_account.backup"
STORAGE_IDENTITY = "azurerm_user_assigned_identity.backup_storage"
BACKUP_OPERATOR = "Microsoft.DataProtection/backupVaults/backup-operator"


def storage_account_name(env: Environment) -> str:
    """3-24 lowercase letters and digits, globally unique, stable for the environment."""
    location = env.clouds.azure.location if env.clouds.azure else ""
    digest = hashlib.sha256(f"{env.name}/{location}/backup".encode()).hexdigest()[:6]
    return ("kpbk" + "".join(c for c in env.name.lower() if c.isalnum())[:14] + digest)[:24]


def backup_blocks(env: Environment, storage_key: Block) -> list[Block | Comment]:
    """backup.tf for AKS; `storage_key` is the renderer's Key Vault key block "backup"."""
    b = env.backup
    if not b.enabled:
        return [Comment("Backups are off for this environment.")]
    schedule = schedule_for(b, "azure")[0]
    retention = f"P{b.retention_days}D"
    common = {"location": ref(RG, "location"), "resource_group_name": ref(RG, "name")}
    return [
        Comment(
            "DR-1 / DR-4: AKS Backup. The vault is geo-redundant with cross-region restore,\n"
            "immutable (recovery points cannot be deleted before they expire) and soft-deletes."
        ),
        R(
            "azurerm_data_protection_backup_vault",
            "this",
            name=f"bv-{env.name}",
            **common,
            datastore_type="VaultStore",
            redundancy="GeoRedundant",
            cross_region_restore_enabled=True,
            immutability="Unlocked",
            soft_delete="On",
            retention_duration_in_days=14,
            identity=B("identity", type="SystemAssigned"),
            tags=E("local.tags"),
        ),
        Comment(
            "DR-5: AKS runs this ISO 8601 repeating interval; the DR-5 rule proves it against\n"
            f"the RPO ({schedule.expression}). Operational-tier points live "
            f"{b.retention_days} days; the first of each\nday is also kept in the vault tier, "
            "which cross-region restore reads."
        ),
        R(
            "azurerm_data_protection_backup_policy_kubernetes_cluster",
            "this",
            name=f"bp-{env.name}-aks",
            resource_group_name=ref(RG, "name"),
            vault_name=ref(VAULT, "name"),
            backup_repeating_time_intervals=[schedule.expression],
            time_zone="UTC",
            retention_rule=B(
                "retention_rule",
                name="Daily",
                priority=25,
                life_cycle=B("life_cycle", duration=retention, data_store_type="VaultStore"),
                criteria=B("criteria", absolute_criteria="FirstOfDay"),
            ),
            default_retention_rule=B(
                "default_retention_rule",
                life_cycle=B("life_cycle", duration=retention, data_store_type="OperationalStore"),
            ),
        ),
        Comment("Disk snapshots of the persistent volumes go to their own resource group."),
        R(
            "azurerm_resource_group",
            "backup_snapshots",
            name=f"rg-{env.name}-backup-snapshots",
            location=ref(RG, "location"),
            tags=E("local.tags"),
        ),
        Comment(
            "SEC-3: the staging account is encrypted with a Key Vault key of its own, used\n"
            "through a user-assigned identity."
        ),
        storage_key,
        R(
            "azurerm_user_assigned_identity",
            "backup_storage",
            name=f"id-{env.name}-backup-storage",
            **common,
            tags=E("local.tags"),
        ),
        role_assignment(
            "backup_storage_key",
            E("azurerm_key_vault.this.id"),
            "Key Vault Crypto Service Encryption User",
            ref(STORAGE_IDENTITY, "principal_id"),
        ),
        Comment(
            "The backup extension stages cluster state in this account (blob, Entra ID only,\n"
            "no shared keys, no public network access: reached through a private endpoint\n"
            "in the node subnets' VNet; TLS 1.2, geo-zone-redundant, soft delete, versioning)."
        ),
        R(
            "azurerm_storage_account",
            "backup",
            name=storage_account_name(env),
            **common,
            **HARDENED_STORAGE_ACCOUNT,
            local_user_enabled=False,
            blob_properties=B(
                "blob_properties",
                versioning_enabled=True,
                delete_retention_policy=B("delete_retention_policy", days=30),
                container_delete_retention_policy=B("container_delete_retention_policy", days=30),
            ),
            public_network_access_enabled=False,
            network_rules=B("network_rules", default_action="Deny", bypass=["AzureServices"]),
            identity=B(
                "identity",
                type="UserAssigned",
                identity_ids=[ref(STORAGE_IDENTITY, "id")],
            ),
            customer_managed_key=B(
                "customer_managed_key",
                key_vault_key_id=E("azurerm_key_vault_key.backup.versionless_id"),
                user_assigned_identity_id=ref(STORAGE_IDENTITY, "id"),
            ),
            tags=E("local.tags"),
            depends_on=[E("azurerm_role_assignment.backup_storage_key")],
        ),
        *_storage_private_access(env),
        Comment("No queues live here; queue requests are logged all the same."),
        R(
            "azurerm_storage_account_queue_properties",
            "backup",
            storage_account_id=ref(STORAGE, "id"),
            logging=B(
                "logging",
                delete=True,
                read=True,
                write=True,
                version="1.0",
                retention_policy_days=90,
            ),
        ),
        R(
            "azurerm_storage_container",
            "backup",
            name="aks-backup",
            storage_account_id=ref(STORAGE, "id"),
            container_access_type="private",
        ),
        Comment("The data-protection extension runs the backups inside the cluster."),
        R(
            "azurerm_kubernetes_cluster_extension",
            "backup",
            name="azure-aks-backup",
            cluster_id=ref(CLUSTER, "id"),
            extension_type="microsoft.dataprotection.kubernetes",
            release_train="stable",
            release_namespace="dataprotection-microsoft",
            configuration_settings={
                "configuration.backupStorageLocation.bucket": E(
                    "azurerm_storage_container.backup.name"
                ),
                "configuration.backupStorageLocation.config.resourceGroup": ref(RG, "name"),
                "configuration.backupStorageLocation.config.storageAccount": ref(STORAGE, "name"),
                "configuration.backupStorageLocation.config.subscriptionId": E(
                    "data.azurerm_client_config.current.subscription_id"
                ),
                "credentials.tenantId": E("data.azurerm_client_config.current.tenant_id"),
            },
        ),
        Comment("Trusted access: the vault may operate backups on the cluster."),
        R(
            "azurerm_kubernetes_cluster_trusted_access_role_binding",
            "backup",
            name="backup",
            kubernetes_cluster_id=ref(CLUSTER, "id"),
            roles=[BACKUP_OPERATOR],
            source_resource_id=ref(VAULT, "id"),
        ),
        role_assignment(
            "backup_extension_storage",
            ref(STORAGE, "id"),
            "Storage Blob Data Contributor",
            ref(EXTENSION, "aks_assigned_identity[0].principal_id"),
        ),
        role_assignment(
            "backup_vault_reads_cluster", ref(CLUSTER, "id"), "Reader", VAULT_PRINCIPAL
        ),
        role_assignment(
            "backup_vault_reads_snapshots", ref(SNAPSHOTS_RG, "id"), "Reader", VAULT_PRINCIPAL
        ),
        role_assignment(
            "backup_vault_snapshots",
            ref(SNAPSHOTS_RG, "id"),
            "Disk Snapshot Contributor",
            VAULT_PRINCIPAL,
        ),
        role_assignment(
            "backup_vault_disk_data",
            ref(SNAPSHOTS_RG, "id"),
            "Data Operator for Managed Disks",
            VAULT_PRINCIPAL,
        ),
        role_assignment(
            "backup_vault_storage",
            ref(STORAGE, "id"),
            "Storage Blob Data Reader",
            VAULT_PRINCIPAL,
        ),
        Comment(
            "The cluster's identity writes the volume snapshots; granted once the cluster\n"
            "exists (the cluster itself needs nothing of it, so it does not wait for it)."
        ),
        role_assignment(
            "backup_cluster_snapshots",
            ref(SNAPSHOTS_RG, "id"),
            "Contributor",
            E("azurerm_user_assigned_identity.cluster.principal_id"),
        ).set(depends_on=[E(CLUSTER)]),
        Comment("The backup instance: this cluster, this policy, this vault."),
        R(
            "azurerm_data_protection_backup_instance_kubernetes_cluster",
            "this",
            name=f"bi-{env.name}-aks",
            location=ref(RG, "location"),
            vault_id=ref(VAULT, "id"),
            kubernetes_cluster_id=ref(CLUSTER, "id"),
            snapshot_resource_group_name=ref(SNAPSHOTS_RG, "name"),
            backup_policy_id=E("azurerm_data_protection_backup_policy_kubernetes_cluster.this.id"),
            backup_datasource_parameters=B(
                "backup_datasource_parameters",
                cluster_scoped_resources_enabled=True,
                volume_snapshot_enabled=True,
            ),
            depends_on=[
                E("azurerm_kubernetes_cluster_trusted_access_role_binding.backup"),
                E("azurerm_role_assignment.backup_extension_storage"),
                E("azurerm_role_assignment.backup_vault_reads_cluster"),
                E("azurerm_role_assignment.backup_vault_reads_snapshots"),
                E("azurerm_role_assignment.backup_vault_snapshots"),
                E("azurerm_role_assignment.backup_vault_disk_data"),
                E("azurerm_role_assignment.backup_vault_storage"),
                E("azurerm_role_assignment.backup_cluster_snapshots"),
            ],
        ),
    ]


def _storage_private_access(env: Environment) -> list[Block | Comment]:
    """Private endpoint + private DNS for the staging account, and its access logs."""
    zone = "privatelink.blob.core.windows.net"
    first_zone = env.clouds.azure.zones[0] if env.clouds.azure else "1"
    return [
        R(
            "azurerm_private_dns_zone",
            "blob",
            name=zone,
            resource_group_name=ref(RG, "name"),
            tags=E("local.tags"),
        ),
        R(
            "azurerm_private_dns_zone_virtual_network_link",
            "blob",
            name="blob",
            resource_group_name=ref(RG, "name"),
            private_dns_zone_name=E("azurerm_private_dns_zone.blob.name"),
            virtual_network_id=E("azurerm_virtual_network.this.id"),
            tags=E("local.tags"),
        ),
        R(
            "azurerm_private_endpoint",
            "backup_storage",
            name=f"pe-{env.name}-backup-blob",
            location=ref(RG, "location"),
            resource_group_name=ref(RG, "name"),
            subnet_id=ref(at("azurerm_subnet.nodes", first_zone), "id"),
            private_service_connection=B(
                "private_service_connection",
                name="backup-blob",
                private_connection_resource_id=ref(STORAGE, "id"),
                subresource_names=["blob"],
                is_manual_connection=False,
            ),
            private_dns_zone_group=B(
                "private_dns_zone_group",
                name="blob",
                private_dns_zone_ids=[E("azurerm_private_dns_zone.blob.id")],
            ),
            tags=E("local.tags"),
        ),
        Comment("Every read, write and delete on the staging blobs is logged."),
        R(
            "azurerm_monitor_diagnostic_setting",
            "backup_storage_blob",
            name="backup-blob-access",
            target_resource_id=template(ref(STORAGE, "id"), "/blobServices/default"),
            log_analytics_workspace_id=E("azurerm_log_analytics_workspace.this.id"),
            enabled_log=[
                B("enabled_log", category=c)
                for c in ("StorageRead", "StorageWrite", "StorageDelete")
            ],
        ),
    ]
