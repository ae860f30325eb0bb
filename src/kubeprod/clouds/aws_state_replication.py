"""DR-2 / DR-4: the state bucket replicates continuously to the recovery region (S3 CRR).

When the spec sets `dr.recovery_region.aws`, the state-backend module also creates, in
that region, a replica bucket built like the state bucket (kubeprod.clouds.aws_state_bucket,
with its own customer-managed key of that region), an IAM role S3 assumes to replicate,
and the bucket's replication configuration: one rule for the whole bucket, delete markers
replicated (a deleted state stays deleted in the replica, and older versions stay there to
roll back to), SSE-KMS objects selected (S3 skips them otherwise), replicas encrypted with
the recovery region's key.

Replication Time Control is on: S3 replicates 99.99% of objects within 15 minutes (the
SLA) and reports replication latency and pending operations as CloudWatch metrics, so the
state's recovery point is defined (at most ~15 minutes behind) instead of "usually
seconds, no promise". The state is kilobytes per apply, so RTC's per-GB charge and the
metrics cost cents a month; the spec's region-loss RPO (`dr.targets.region_loss`, e.g.
360 minutes) is far above 15 minutes either way. Docs/dr.md records the decision.

References (AWS, Amazon S3 user guide):
- "Setting up live replication overview" / "Replicating objects within and across
  Regions": https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-how-setup.html
  (versioning on both buckets; the role's s3:GetReplicationConfiguration, s3:ListBucket,
  s3:GetObjectVersionForReplication, s3:GetObjectVersionAcl, s3:GetObjectVersionTagging
  on the source and s3:ReplicateObject, s3:ReplicateDelete, s3:ReplicateTags on the
  destination)
- "Replicating encrypted objects (SSE-S3, SSE-KMS, DSSE-KMS, SSE-C)":
  https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-config-for-kms-objects.html
  (SourceSelectionCriteria.SseKmsEncryptedObjects, ReplicaKmsKeyID, kms:Decrypt on the
  source key and kms:Encrypt on the replica key, limited by kms:ViaService and the
  kms:EncryptionContext:aws:s3:arn condition: the bucket ARN when S3 Bucket Keys are on,
  the object ARN otherwise, so both are listed; kms:GenerateDataKey on the replica key is
  kubeprod's addition, for the replica bucket's S3 Bucket Key)
- "Meeting compliance requirements with S3 Replication Time Control":
  https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-time-control.html
- Shapes: terraform aws provider `aws_s3_bucket_replication_configuration`; the
  terraform-aws-modules/s3-bucket `examples/s3-replication`.
"""

from __future__ import annotations

from kubeprod.clouds.aws_backup import RECOVERY_PROVIDER, recovery_provider
from kubeprod.clouds.aws_iam import ACCOUNT, policy_document, statement
from kubeprod.clouds.aws_state_bucket import state_bucket_blocks
from kubeprod.hcl import Block, Comment, Expr
from kubeprod.hcl.shorthand import B, E, R, ref, template
from kubeprod.spec.model import Environment

SOURCE = "aws_s3_bucket.state"
REPLICA = "aws_s3_bucket.state_replica"
ROLE = "state_replication"
# S3 Replication Time Control: the SLA and the metrics' threshold, in minutes (the only
# value S3 accepts for both)
RTC_MINUTES = 15


def replica_bucket_name(env: Environment, account: str, region: str) -> str:
    """The replica's name, as the module names it (for `kubeprod dr` and the runbook)."""
    if env.state.aws.bucket:
        return f"{env.state.aws.bucket}-replica"[:63]
    return f"kubeprod-{env.name}-{account}-{region}"


def _replica_bucket(env: Environment, region: str) -> str | Expr:
    if env.state.aws.bucket:
        return replica_bucket_name(env, "", region)
    return template(f"kubeprod-{env.name}-", E(ACCOUNT), f"-{region}")


def _kms_statement(sid: str, actions: list[str], key: str, bucket: str, region: str) -> Block:
    """Use of `key` only by S3 in `region`, only for objects of `bucket`."""
    return statement(
        sid,
        actions,
        resources=[ref("aws_kms_key", key, "arn")],
        conditions=[
            ("StringLike", "kms:ViaService", [f"s3.{region}.amazonaws.com"]),
            (
                "StringLike",
                "kms:EncryptionContext:aws:s3:arn",
                [ref(bucket, "arn"), template(ref(bucket, "arn"), "/*")],
            ),
        ],
    )


def _role(env: Environment, primary: str, region: str) -> list[Block]:
    objects = template(ref(SOURCE, "arn"), "/*")
    return [
        policy_document(
            f"assume_{ROLE}",
            statement(
                "S3Replicates",
                ["sts:AssumeRole"],
                ("Service", ["s3.amazonaws.com"]),
                conditions=[("StringEquals", "aws:SourceAccount", [E(ACCOUNT)])],
            ),
        ),
        R(
            "aws_iam_role",
            ROLE,
            name=f"kubeprod-{env.name}-state-replication",
            description=f"{env.name}: S3 replicates the Terraform state to {region}",
            assume_role_policy=ref("data.aws_iam_policy_document", f"assume_{ROLE}", "json"),
        ),
        policy_document(
            ROLE,
            statement(
                "ReadSourceConfiguration",
                ["s3:GetReplicationConfiguration", "s3:ListBucket"],
                resources=[ref(SOURCE, "arn")],
            ),
            statement(
                "ReadSourceVersions",
                [
                    "s3:GetObjectVersionForReplication",
                    "s3:GetObjectVersionAcl",
                    "s3:GetObjectVersionTagging",
                ],
                resources=[objects],
            ),
            statement(
                "WriteReplicas",
                ["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"],
                resources=[template(ref(REPLICA, "arn"), "/*")],
            ),
            _kms_statement("DecryptSource", ["kms:Decrypt"], "state", SOURCE, primary),
            _kms_statement(
                "EncryptReplicas",
                ["kms:Encrypt", "kms:GenerateDataKey"],
                "state_replica",
                REPLICA,
                region,
            ),
        ),
        R(
            "aws_iam_role_policy",
            ROLE,
            name="replicate-state",
            role=ref("aws_iam_role", ROLE, "id"),
            policy=ref("data.aws_iam_policy_document", ROLE, "json"),
        ),
    ]


def _configuration(region: str) -> Block:
    minutes = B("time", minutes=RTC_MINUTES)
    return R(
        "aws_s3_bucket_replication_configuration",
        "state",
        depends_on=[
            E("aws_s3_bucket_versioning.state"),
            E("aws_s3_bucket_versioning.state_replica"),
        ],
        role=ref("aws_iam_role", ROLE, "arn"),
        bucket=ref(SOURCE, "id"),
        rule=B(
            "rule",
            id=f"state-to-{region}",
            status="Enabled",
            filter=B("filter"),
            delete_marker_replication=B("delete_marker_replication", status="Enabled"),
            source_selection_criteria=B(
                "source_selection_criteria",
                sse_kms_encrypted_objects=B("sse_kms_encrypted_objects", status="Enabled"),
            ),
            destination=B(
                "destination",
                bucket=ref(REPLICA, "arn"),
                storage_class="STANDARD",
                encryption_configuration=B(
                    "encryption_configuration",
                    replica_kms_key_id=E("aws_kms_key.state_replica.arn"),
                ),
                replication_time=B("replication_time", status="Enabled", time=minutes),
                metrics=B(
                    "metrics",
                    status="Enabled",
                    event_threshold=B("event_threshold", minutes=RTC_MINUTES),
                ),
            ),
        ),
    )


def state_replication_blocks(env: Environment, region: str) -> list[Block | Comment]:
    """replication.tf of the state-backend module: the recovery region's provider, the
    replica bucket, the role S3 replicates with and the replication configuration."""
    primary = env.clouds.aws.region if env.clouds.aws else ""
    return [
        Comment(
            f"DR-2 / DR-4: every state version replicates to {region} within {RTC_MINUTES} "
            "minutes\n(S3 Cross-Region Replication with Replication Time Control), so a "
            "region loss\nrecovers from current state without anyone copying it."
        ),
        recovery_provider(env, region),
        *state_bucket_blocks(
            "state_replica",
            _replica_bucket(env, region),
            f"{env.name}: Terraform state replica in {region}",
            f"alias/kubeprod-{env.name}-state-replica",
            RECOVERY_PROVIDER,
        ),
        *_role(env, primary, region),
        _configuration(region),
    ]


def replica_outputs(region: str) -> list[Block | Comment]:
    """Where the replica is: `kubeprod dr` and the failover runbook name it."""
    return [
        B("output", "replica_bucket", value=ref(REPLICA, "bucket")),
        B("output", "replica_region", value=region),
        B("output", "replica_kms_key_arn", value=E("aws_kms_key.state_replica.arn")),
    ]
