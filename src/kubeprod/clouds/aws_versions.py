"""EKS module: versions.tf (Terraform, the aws provider and the S3 state backend) and
providers.tf (the aws provider with default tags, the caller and partition data sources)."""

from __future__ import annotations

from kubeprod.clouds.aws_common import PROVIDER_CONSTRAINT, TERRAFORM_CONSTRAINT, aws_of
from kubeprod.clouds.base import environment_tags, terraform_block
from kubeprod.hcl import Block, Comment
from kubeprod.hcl.shorthand import B, D
from kubeprod.spec.model import Environment

AWS = ("hashicorp/aws", PROVIDER_CONSTRAINT)


def versions_tf(env: Environment) -> list[Block | Comment]:
    """versions.tf: the aws provider, state in S3 with S3-native locking (DR-2)."""
    backend = B(
        "backend",
        "s3",
        key=f"{env.name}/aws/terraform.tfstate",
        region=aws_of(env).region,
        encrypt=True,
        use_lockfile=True,
    )
    return [
        Comment(
            "DR-2: state in S3 (versioned, KMS-encrypted, S3-native locking).\n"
            "bucket and kms_key_id come from backend.s3.tfbackend, written by "
            "`kubeprod bootstrap`."
        ),
        terraform_block(TERRAFORM_CONSTRAINT, {"aws": AWS}, backend),
    ]


def providers_tf(env: Environment) -> list[Block | Comment]:
    """providers.tf: the aws provider, pinned to the spec's account when it names one."""
    aws = aws_of(env)
    provider = B("provider", "aws", region=aws.region)
    if aws.account_id:
        provider.set(allowed_account_ids=[aws.account_id])
    provider.add(B("default_tags", tags=environment_tags(env)))
    return [
        provider,
        D("aws_caller_identity", "current"),
        D("aws_partition", "current"),
    ]
