"""What every file of the EKS module shares: the spec's AWS section, the versions, and
IAM roles trusted by one AWS service.

The EKS module is one file per concern, each written by its own module: `aws_versions`
(versions.tf, providers.tf), `aws_locals` (locals.tf), `aws_network` (network.tf),
`aws_kms` (kms.tf), `aws_roles` (iam.tf), `aws_eks` (eks.tf), `aws_nodes` (nodes.tf),
`aws_addons` (addons.tf), `aws_autoscaler` (autoscaler.tf), `aws_observability`
(observability.tf), `aws_backup` (backup.tf), `aws_outputs` (outputs.tf);
`aws_bootstrap` writes the state-backend module and `aws` puts the root module together.
IAM and KMS policy building blocks are in `aws_iam`. See docs/aws.md.
"""

from __future__ import annotations

from kubeprod.clouds.aws_iam import PARTITION, policy_document, statement
from kubeprod.clouds.base import section
from kubeprod.hcl import Block, Call, Comment
from kubeprod.hcl.shorthand import E, R, ref, template
from kubeprod.spec.model import AwsCloud, Environment

PROVIDER_CONSTRAINT = "~> 5.100"
TERRAFORM_CONSTRAINT = ">= 1.10.0"
CLUSTER = "aws_eks_cluster.this"


def aws_of(env: Environment) -> AwsCloud:
    """The spec's clouds.aws section; a clear input error when it is missing."""
    return section(env, "aws")


def role(name: str, service: str, policies: list[str], description: str) -> list[Block | Comment]:
    """An IAM role `name` that `service` may assume, with the AWS managed `policies`."""
    doc = policy_document(
        f"assume_{name}",
        statement("AssumeRole", ["sts:AssumeRole", "sts:TagSession"], ("Service", [service])),
    )
    iam_role = R(
        "aws_iam_role",
        name,
        name=template(E("local.name"), "-" + name.replace("_", "-")),
        description=description,
        assume_role_policy=ref("data.aws_iam_policy_document", f"assume_{name}", "json"),
    )
    blocks: list[Block | Comment] = [doc, iam_role]
    if policies:
        blocks.append(
            R(
                "aws_iam_role_policy_attachment",
                name,
                for_each=Call("toset", policies),
                role=ref("aws_iam_role", name, "name"),
                policy_arn=template("arn:", E(PARTITION), ":iam::aws:policy/", E("each.value")),
            )
        )
    return blocks
