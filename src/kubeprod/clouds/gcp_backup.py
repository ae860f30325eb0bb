"""DR-1 / DR-4 on GCP: Backup for GKE, written to the module's backup.tf.

The cluster runs the Backup for GKE agent (`addons_config.gke_backup_agent_config`, set in
gke.tf); a backup plan backs up every namespace with secrets and volume data, on the
spec's cron (or `rpo_config.target_rpo_minutes`), encrypted with a CMEK key. The plan
lives in the recovery region (Backup for GKE stores a plan's backups in the plan's
region, which may differ from the cluster's: cloud.google.com, "Backup for GKE:
cross-region backup and restore"), so a region-loss restore still has its backups (DR-4).
A restore plan renders the restore path; docs/dr.md gives the command.

The retention policy keeps backups `retention_days` and locks each against deletion long
enough that the newest `min_recovery_points` always survive.
"""

from __future__ import annotations

from kubeprod.dr.cloud_schedules import lock_days, schedule_for
from kubeprod.hcl import Block, Comment
from kubeprod.hcl.shorthand import B, E, R, one_line_list, ref, template
from kubeprod.spec.model import Environment

CLUSTER = "google_container_cluster.this"
GKE_BACKUP_AGENT = template(
    "serviceAccount:service-",
    E("data.google_project.this.number"),
    "@gcp-sa-gkebackup.iam.gserviceaccount.com",
)


def backup_region(env: Environment) -> str:
    gcp = env.clouds.gcp
    assert gcp is not None
    return env.dr.recovery_region.gcp or gcp.region


def backup_blocks(env: Environment, crypto_key: Block) -> list[Block | Comment]:
    """backup.tf for GKE; `crypto_key` is the renderer's CMEK key block for ring "backup"."""
    b = env.backup
    if not b.enabled:
        return [Comment("Backups are off for this environment.")]
    schedule, _ = schedule_for(b, "gcp")
    region = backup_region(env)
    if schedule.syntax == "target-rpo":
        backup_schedule = B(
            "backup_schedule",
            rpo_config=B("rpo_config", target_rpo_minutes=int(schedule.expression)),
        )
    else:
        backup_schedule = B("backup_schedule", cron_schedule=schedule.expression)
    return [
        Comment("DR-1: the Backup for GKE API (never disabled on destroy)."),
        R(
            "google_project_service",
            "gkebackup",
            project=E("local.project"),
            service="gkebackup.googleapis.com",
            disable_on_destroy=False,
        ),
        Comment(f"CMEK for the backups, in the backup plan's region ({region})."),
        R(
            "google_kms_key_ring",
            "backup",
            name=template(E("local.name"), "-gke-backup"),
            location=region,
            depends_on=[E("google_project_service.this")],
        ),
        crypto_key,
        R(
            "google_kms_crypto_key_iam_member",
            "gke_backup",
            crypto_key_id=E("google_kms_crypto_key.backup.id"),
            role="roles/cloudkms.cryptoKeyEncrypterDecrypter",
            member=GKE_BACKUP_AGENT,
            depends_on=[E("google_project_service.gkebackup")],
        ),
        Comment("Volume backups are disk snapshots: the Compute Engine agent uses the key too."),
        R(
            "google_kms_crypto_key_iam_member",
            "gke_backup_disks",
            crypto_key_id=E("google_kms_crypto_key.backup.id"),
            role="roles/cloudkms.cryptoKeyEncrypterDecrypter",
            member=E("local.compute_service_agent"),
        ),
        Comment(
            f"DR-1 / DR-4: every namespace, secrets and volume data, backed up into {region}.\n"
            f"DR-5: the schedule ({schedule.expression}) is proven against the RPO by "
            "`kubeprod validate`\nand the policy gate."
        ),
        R(
            "google_gke_backup_backup_plan",
            "cluster",
            name=template(E("local.name"), "-cluster"),
            cluster=ref(CLUSTER, "id"),
            location=region,
            backup_config=B(
                "backup_config",
                all_namespaces=True,
                include_secrets=True,
                include_volume_data=True,
                encryption_key=B(
                    "encryption_key",
                    gcp_kms_encryption_key=E("google_kms_crypto_key.backup.id"),
                ),
            ),
            backup_schedule=backup_schedule,
            retention_policy=B(
                "retention_policy",
                backup_retain_days=b.retention_days,
                backup_delete_lock_days=lock_days(b, "gcp"),
            ),
            depends_on=one_line_list(
                E("google_kms_crypto_key_iam_member.gke_backup"),
                E("google_kms_crypto_key_iam_member.gke_backup_disks"),
            ),
        ),
        Comment(
            "The restore path, rendered and ready: restores every namespace of a backup of\n"
            "this plan into the cluster (docs/dr.md gives the command for a new cluster)."
        ),
        R(
            "google_gke_backup_restore_plan",
            "cluster",
            name=template(E("local.name"), "-restore"),
            location=region,
            backup_plan=E("google_gke_backup_backup_plan.cluster.id"),
            cluster=ref(CLUSTER, "id"),
            restore_config=B(
                "restore_config",
                all_namespaces=True,
                namespaced_resource_restore_mode="FAIL_ON_CONFLICT",
                volume_data_restore_policy="RESTORE_VOLUME_DATA_FROM_BACKUP",
                cluster_resource_conflict_policy="USE_EXISTING_VERSION",
                cluster_resource_restore_scope=B(
                    "cluster_resource_restore_scope", all_group_kinds=True
                ),
            ),
        ),
    ]
