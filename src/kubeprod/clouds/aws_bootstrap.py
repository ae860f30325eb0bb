"""The S3 state backend's own small root module (DR-2).

The bucket cannot live in the state it holds, so `kubeprod bootstrap` applies
this module first (its state stays beside it) and writes the backend settings
the main module's `terraform init` reads.
"""

from __future__ import annotations

from kubeprod.clouds.aws_common import PROVIDER_CONSTRAINT, TERRAFORM_CONSTRAINT
from kubeprod.clouds.aws_iam import (
    ACCOUNT,
    PARTITION,
    key_policy,
    policy_document,
    root_admin_statement,
    statement,
)
from kubeprod.clouds.base import Files, section
from kubeprod.hcl.shorthand import B, D, E, R, lifecycle, ref, template
from kubeprod.spec.model import Environment


def bucket_name(env: Environment, account: str) -> str:
    aws = section(env, "aws")
    return env.state.aws.bucket or f"kubeprod-{env.name}-{account}-{aws.region}"


def bootstrap_files(env: Environment) -> Files:
    aws = section(env, "aws")
    bucket_expr = env.state.aws.bucket or template(
        f"kubeprod-{env.name}-", E(ACCOUNT), f"-{aws.region}"
    )
    provider = B("provider", "aws", region=aws.region)
    provider.add(B("default_tags", tags={**env.tags, "kubeprod-environment": env.name}))
    state_bucket = "aws_s3_bucket.state"
    return {
        "versions.tf": [
            B(
                "terraform",
                required_version=TERRAFORM_CONSTRAINT,
                required_providers=B(
                    "required_providers",
                    aws={"source": "hashicorp/aws", "version": PROVIDER_CONSTRAINT},
                ),
            ),
            provider,
            D("aws_caller_identity", "current"),
            D("aws_partition", "current"),
        ],
        "state.tf": [
            R(
                "aws_kms_key",
                "state",
                description=f"{env.name}: Terraform state",
                enable_key_rotation=True,
                deletion_window_in_days=30,
                policy=key_policy(root_admin_statement()),
                lifecycle=lifecycle(prevent_destroy=True),
            ),
            R(
                "aws_kms_alias",
                "state",
                name=f"alias/kubeprod-{env.name}-state",
                target_key_id=E("aws_kms_key.state.key_id"),
            ),
            R(
                "aws_s3_bucket",
                "state",
                bucket=bucket_expr,
                lifecycle=lifecycle(prevent_destroy=True),
            ),
            R(
                "aws_s3_bucket_versioning",
                "state",
                bucket=ref(state_bucket, "id"),
                versioning_configuration=B("versioning_configuration", status="Enabled"),
            ),
            R(
                "aws_s3_bucket_server_side_encryption_configuration",
                "state",
                bucket=ref(state_bucket, "id"),
                rule=B(
                    "rule",
                    bucket_key_enabled=True,
                    apply_server_side_encryption_by_default=B(
                        "apply_server_side_encryption_by_default",
                        sse_algorithm="aws:kms",
                        kms_master_key_id=E("aws_kms_key.state.arn"),
                    ),
                ),
            ),
            R(
                "aws_s3_bucket_public_access_block",
                "state",
                bucket=ref(state_bucket, "id"),
                block_public_acls=True,
                block_public_policy=True,
                ignore_public_acls=True,
                restrict_public_buckets=True,
            ),
            R(
                "aws_s3_bucket_ownership_controls",
                "state",
                bucket=ref(state_bucket, "id"),
                rule=B("rule", object_ownership="BucketOwnerEnforced"),
            ),
            R(
                "aws_s3_bucket_lifecycle_configuration",
                "state",
                bucket=ref(state_bucket, "id"),
                rule=B(
                    "rule",
                    id="keep-old-state-versions-a-year",
                    status="Enabled",
                    filter=B("filter"),
                    noncurrent_version_expiration=B(
                        "noncurrent_version_expiration", noncurrent_days=365
                    ),
                    abort_incomplete_multipart_upload=B(
                        "abort_incomplete_multipart_upload", days_after_initiation=7
                    ),
                ),
            ),
            policy_document(
                "state_tls_only",
                statement(
                    "DenyInsecureTransport",
                    ["s3:*"],
                    ("*", ["*"]),
                    resources=[ref(state_bucket, "arn"), template(ref(state_bucket, "arn"), "/*")],
                    effect="Deny",
                    conditions=[("Bool", "aws:SecureTransport", ["false"])],
                ),
            ),
            R(
                "aws_s3_bucket_policy",
                "state",
                bucket=ref(state_bucket, "id"),
                policy=E("data.aws_iam_policy_document.state_tls_only.json"),
            ),
        ],
        "outputs.tf": [
            B("output", "bucket", value=ref(state_bucket, "bucket")),
            B("output", "kms_key_arn", value=E("aws_kms_key.state.arn")),
            B("output", "region", value=aws.region),
            B("output", "account_id", value=E(ACCOUNT)),
            B("output", "partition", value=E(PARTITION)),
        ],
    }
