"""One state bucket of the S3 state backend (DR-2), in the primary or the recovery region.

The state bucket and its DR-4 replica (kubeprod.clouds.aws_state_replication) are built
here alike: a customer-managed KMS key with rotation, a versioned bucket encrypted with
it (S3 Bucket Keys on), public access blocked, ACLs off (BucketOwnerEnforced), old
versions kept a year, and a bucket policy that refuses every request not made over TLS.
"""

from __future__ import annotations

from kubeprod.clouds.aws_iam import key_policy, policy_document, root_admin_statement, statement
from kubeprod.hcl import Block, Comment, Expr
from kubeprod.hcl.shorthand import B, E, R, lifecycle, ref, template

# how long old state versions stay: a year of history to roll back to
NONCURRENT_DAYS = 365


def state_bucket_blocks(
    name: str, bucket: str | Expr, description: str, alias: str, provider: str | None = None
) -> list[Block | Comment]:
    """Key, alias, bucket and its settings for `aws_s3_bucket.<name>`; `provider`: an
    aliased provider (`aws.recovery`) for a bucket outside the primary region."""
    where = {"provider": E(provider)} if provider else {}
    address = f"aws_s3_bucket.{name}"
    key_arn = ref("aws_kms_key", name, "arn")

    def setting(type_: str, **attrs: object) -> Block:
        return R(type_, name, **where, bucket=ref(address, "id"), **attrs)

    return [
        R(
            "aws_kms_key",
            name,
            **where,
            description=description,
            enable_key_rotation=True,
            deletion_window_in_days=30,
            policy=key_policy(root_admin_statement()),
            lifecycle=lifecycle(prevent_destroy=True),
        ),
        R(
            "aws_kms_alias",
            name,
            **where,
            name=alias,
            target_key_id=ref("aws_kms_key", name, "key_id"),
        ),
        R("aws_s3_bucket", name, **where, bucket=bucket, lifecycle=lifecycle(prevent_destroy=True)),
        setting(
            "aws_s3_bucket_versioning",
            versioning_configuration=B("versioning_configuration", status="Enabled"),
        ),
        setting(
            "aws_s3_bucket_server_side_encryption_configuration",
            rule=B(
                "rule",
                bucket_key_enabled=True,
                apply_server_side_encryption_by_default=B(
                    "apply_server_side_encryption_by_default",
                    sse_algorithm="aws:kms",
                    kms_master_key_id=key_arn,
                ),
            ),
        ),
        setting(
            "aws_s3_bucket_public_access_block",
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
        ),
        setting(
            "aws_s3_bucket_ownership_controls",
            rule=B("rule", object_ownership="BucketOwnerEnforced"),
        ),
        setting(
            "aws_s3_bucket_lifecycle_configuration",
            rule=B(
                "rule",
                id="keep-old-state-versions-a-year",
                status="Enabled",
                filter=B("filter"),
                noncurrent_version_expiration=B(
                    "noncurrent_version_expiration", noncurrent_days=NONCURRENT_DAYS
                ),
                abort_incomplete_multipart_upload=B(
                    "abort_incomplete_multipart_upload", days_after_initiation=7
                ),
            ),
        ),
        policy_document(
            f"{name}_tls_only",
            statement(
                "DenyInsecureTransport",
                ["s3:*"],
                ("*", ["*"]),
                resources=[ref(address, "arn"), template(ref(address, "arn"), "/*")],
                effect="Deny",
                conditions=[("Bool", "aws:SecureTransport", ["false"])],
            ),
        ),
        setting(
            "aws_s3_bucket_policy",
            policy=ref("data.aws_iam_policy_document", f"{name}_tls_only", "json"),
        ),
    ]
