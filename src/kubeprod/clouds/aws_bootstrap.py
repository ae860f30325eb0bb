"""The S3 state backend's own small root module (DR-2).

The bucket cannot live in the state it holds, so `kubeprod bootstrap` applies
this module first (its state stays beside it) and writes the backend settings
the main module's `terraform init` reads. With `dr.recovery_region.aws` the bucket
also replicates continuously to a replica bucket in that region (replication.tf,
kubeprod.clouds.aws_state_replication: S3 Cross-Region Replication,
https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-how-setup.html).
"""

from __future__ import annotations

from kubeprod.clouds.aws_backup import recovery_region
from kubeprod.clouds.aws_common import PROVIDER_CONSTRAINT, TERRAFORM_CONSTRAINT
from kubeprod.clouds.aws_iam import ACCOUNT, PARTITION
from kubeprod.clouds.aws_state_bucket import state_bucket_blocks
from kubeprod.clouds.aws_state_replication import replica_outputs, state_replication_blocks
from kubeprod.clouds.base import Files, section
from kubeprod.hcl import Block, Comment
from kubeprod.hcl.shorthand import B, D, E, ref, template
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
    outputs: list[Block | Comment] = [
        B("output", "bucket", value=ref("aws_s3_bucket.state", "bucket")),
        B("output", "kms_key_arn", value=E("aws_kms_key.state.arn")),
        B("output", "region", value=aws.region),
        B("output", "account_id", value=E(ACCOUNT)),
        B("output", "partition", value=E(PARTITION)),
    ]
    files: Files = {
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
        "state.tf": state_bucket_blocks(
            "state",
            bucket_expr,
            f"{env.name}: Terraform state",
            f"alias/kubeprod-{env.name}-state",
        ),
        "outputs.tf": outputs,
    }
    recovery = recovery_region(env)
    if recovery:
        files["replication.tf"] = state_replication_blocks(env, recovery)
        outputs += replica_outputs(recovery)
    return files
