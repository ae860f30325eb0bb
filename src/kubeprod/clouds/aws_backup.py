"""DR-1 / DR-4 on AWS: AWS Backup for EKS, written to the module's backup.tf.

One recovery point holds the cluster's state and its EBS volumes (a selection of the EKS
cluster; needs authentication mode API or API_AND_CONFIG_MAP). The vault is encrypted with
its own CMK and carries a vault lock, so the newest `min_recovery_points` points cannot be
deleted early. Each recovery point is copied to a vault in the recovery region (DR-4),
encrypted with a key of that region.

Reference: AWS Backup developer guide, "Amazon EKS backups" and "AWS Backup Vault Lock";
terraform aws provider `aws_backup_plan`, `aws_backup_vault_lock_configuration`.
"""

from __future__ import annotations

from kubeprod.dr.cloud_schedules import lock_days
from kubeprod.hcl import Block, Call, Comment
from kubeprod.hcl.shorthand import B, E, R, lifecycle, template
from kubeprod.spec.model import Environment

RECOVERY_PROVIDER = "aws.recovery"
# Vault lock: changeable for 3 days (the AWS minimum), then compliance mode.
LOCK_CHANGEABLE_DAYS = 3


def recovery_region(env: Environment) -> str | None:
    return env.dr.recovery_region.aws


def backup_blocks(env: Environment, key_policy: Call) -> list[Block | Comment]:
    """backup.tf: vault, lock, plan with windows and copy action, selection of the cluster."""
    b = env.backup
    if not b.enabled:
        return [Comment("Backups are off for this environment.")]
    region = recovery_region(env)
    lifecycle_block = B("lifecycle", delete_after=b.retention_days)
    rule = B(
        "rule",
        rule_name="cluster",
        target_vault_name=E("aws_backup_vault.this.name"),
        schedule=b.schedule,
        start_window=b.start_window_minutes,
        completion_window=b.completion_window_minutes,
        lifecycle=lifecycle_block,
        recovery_point_tags={"kubeprod-environment": env.name},
    )
    if region:
        rule.add(
            B(
                "copy_action",
                destination_vault_arn=E("aws_backup_vault.recovery.arn"),
                lifecycle=B("lifecycle", delete_after=b.retention_days),
            )
        )
    blocks: list[Block | Comment] = [
        Comment(
            "DR-1 / DR-5: AWS Backup of the cluster state and its volumes, in a vault\n"
            "encrypted with its own key (needs authentication mode API). The schedule, start\n"
            f"window ({b.start_window_minutes} min) and completion window "
            f"({b.completion_window_minutes} min) are\nproven against the RPO by "
            "`kubeprod validate` and the policy gate."
        ),
        R(
            "aws_backup_vault",
            "this",
            name=E("local.name"),
            kms_key_arn=E("aws_kms_key.backup.arn"),
        ),
        Comment(
            f"The newest {b.min_recovery_points} recovery points can never be deleted early: "
            "the lock keeps\nevery point at least "
            f"{lock_days(b, 'aws')} day(s); it becomes unchangeable after "
            f"{LOCK_CHANGEABLE_DAYS} days."
        ),
        R(
            "aws_backup_vault_lock_configuration",
            "this",
            backup_vault_name=E("aws_backup_vault.this.name"),
            min_retention_days=lock_days(b, "aws"),
            max_retention_days=b.retention_days,
            changeable_for_days=LOCK_CHANGEABLE_DAYS,
        ),
        R("aws_backup_plan", "this", name=E("local.name"), rule=rule),
        R(
            "aws_backup_selection",
            "cluster",
            name="cluster",
            plan_id=E("aws_backup_plan.this.id"),
            iam_role_arn=E("aws_iam_role.backup.arn"),
            resources=[E("aws_eks_cluster.this.arn")],
        ),
    ]
    if region:
        blocks += _recovery_vault(env, region, key_policy)
    return blocks


def _recovery_vault(env: Environment, region: str, key_policy: Call) -> list[Block | Comment]:
    return [
        Comment(
            f"DR-4: every recovery point is copied to {region}, so a region-loss restore\n"
            "has data even when the primary region's vault is gone."
        ),
        recovery_provider(env, region),
        R(
            "aws_kms_key",
            "backup_recovery",
            provider=E(RECOVERY_PROVIDER),
            description=template(E("local.name"), f": AWS Backup vault in {region}"),
            enable_key_rotation=env.encryption.key_rotation,
            deletion_window_in_days=env.encryption.key_deletion_window_days,
            policy=key_policy,
            lifecycle=lifecycle(prevent_destroy=True),
        ),
        R(
            "aws_backup_vault",
            "recovery",
            provider=E(RECOVERY_PROVIDER),
            name=template(E("local.name"), "-recovery"),
            kms_key_arn=E("aws_kms_key.backup_recovery.arn"),
        ),
    ]


def recovery_provider(env: Environment, region: str) -> Block:
    """The second AWS provider, for the recovery region, with the main provider's guards."""
    aws = env.clouds.aws
    provider = B("provider", "aws", alias="recovery", region=region)
    if aws is not None and aws.account_id:
        provider.set(allowed_account_ids=[aws.account_id])
    provider.add(B("default_tags", tags={**env.tags, "kubeprod-environment": env.name}))
    return provider
