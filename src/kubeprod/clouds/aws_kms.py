"""EKS module: kms.tf, the customer-managed keys (SEC-8 / SEC-3) with their key policies,
the Auto Scaling service-linked role the EBS key names, and default EBS encryption."""

from __future__ import annotations

from kubeprod.clouds.aws_common import aws_of
from kubeprod.clouds.aws_iam import (
    ACCOUNT,
    PARTITION,
    key_policy,
    key_statement,
    root_admin_statement,
)
from kubeprod.hcl import Block, Call, Comment
from kubeprod.hcl.shorthand import B, E, R, lifecycle, ref, template
from kubeprod.spec.model import Environment


def kms_tf(env: Environment) -> list[Block | Comment]:
    """kms.tf: one rotated, undeletable CMK per purpose, the Auto Scaling role the EBS key
    names, and the region's default EBS encryption."""
    enc = env.encryption
    blocks: list[Block | Comment] = [
        Comment(
            "SEC-8 / SEC-3: customer-managed keys, rotated, with explicit policies.\n"
            "CHR-1: a deleted key takes its data with it, so keys cannot be "
            "destroyed by accident."
        ),
    ]
    keys = {
        "eks": ("EKS secrets envelope encryption", "default"),
        "ebs": ("EBS volumes of the nodes", "ebs"),
        "logs": ("CloudWatch log groups", "logs"),
        "sns": ("SNS alert topic", "sns"),
        "backup": ("AWS Backup vault", "default"),
    }
    for key, (purpose, policy) in keys.items():
        blocks += [
            R(
                "aws_kms_key",
                key,
                description=template(E("local.name"), f": {purpose}"),
                enable_key_rotation=enc.key_rotation,
                deletion_window_in_days=enc.key_deletion_window_days,
                policy=key_policy_for(policy, env),
                lifecycle=lifecycle(prevent_destroy=True),
            ),
            R(
                "aws_kms_alias",
                key,
                name=template("alias/", E("local.name"), f"-{key}"),
                target_key_id=ref("aws_kms_key", key, "key_id"),
            ),
        ]
    return blocks + _autoscaling_role(env) + _volume_encryption(env)


def _autoscaling_role(env: Environment) -> list[Block | Comment]:
    """Item 1 of the production review: a key policy may only name principals that exist."""
    mode = aws_of(env).autoscaling_service_linked_role
    blocks: list[Block | Comment] = [
        Comment(
            "SEC-3: Auto Scaling launches the nodes, so its service-linked role must use\n"
            "the EBS key, and KMS refuses a key policy naming a role that does not exist\n"
            "(a fresh account has none). The module manages the role and the key policy\n"
            "refers to it, so the role always comes first. Spec switch:\n"
            f"clouds.aws.autoscaling_service_linked_role = {mode} (docs/aws.md)."
        ),
        R(
            "aws_iam_service_linked_role",
            "autoscaling",
            aws_service_name="autoscaling.amazonaws.com",
            lifecycle=lifecycle(prevent_destroy=True),
        ),
    ]
    if mode == "import":
        blocks.append(
            B(
                "import",
                to=E("aws_iam_service_linked_role.autoscaling"),
                id=template(
                    "arn:",
                    E(PARTITION),
                    ":iam::",
                    E(ACCOUNT),
                    ":role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling",
                ),
            )
        )
    return blocks


def _volume_encryption(env: Environment) -> list[Block | Comment]:
    """SEC-3 "all data": every new EBS volume in the region (persistent volumes too)."""
    if not env.encryption.volumes:
        return []
    return [
        Comment(
            "SEC-3: every new EBS volume of the account in this region is encrypted with\n"
            "the CMK, persistent volumes included, whatever a StorageClass says."
        ),
        R("aws_ebs_encryption_by_default", "this", enabled=True),
        R(
            "aws_ebs_default_kms_key",
            "this",
            key_arn=E("aws_kms_key.ebs.arn"),
            depends_on=[E("aws_ebs_encryption_by_default.this")],
        ),
    ]


def key_policy_for(kind: str, env: Environment) -> Call:
    """The key policy of a CMK: the account administers it; `kind` adds the service that
    uses it (logs, ebs, sns; "default" adds none)."""
    region = aws_of(env).region
    statements = [root_admin_statement()]
    if kind == "logs":
        statements.append(
            key_statement(
                "CloudWatchLogsUse",
                [
                    "kms:Encrypt*",
                    "kms:Decrypt*",
                    "kms:ReEncrypt*",
                    "kms:GenerateDataKey*",
                    "kms:Describe*",
                ],
                {"Service": f"logs.{region}.amazonaws.com"},
                {
                    "ArnLike": {
                        "kms:EncryptionContext:aws:logs:arn": template(
                            "arn:", E(PARTITION), f":logs:{region}:", E(ACCOUNT), ":log-group:*"
                        )
                    }
                },
            )
        )
    elif kind == "ebs":
        statements.append(
            key_statement(
                "AutoScalingUsesKeyForNodeVolumes",
                [
                    "kms:Encrypt",
                    "kms:Decrypt",
                    "kms:ReEncrypt*",
                    "kms:GenerateDataKey*",
                    "kms:DescribeKey",
                    "kms:CreateGrant",
                ],
                {"AWS": E("aws_iam_service_linked_role.autoscaling.arn")},
            )
        )
    elif kind == "sns":
        statements.append(
            key_statement(
                "CloudWatchAlarmsPublish",
                ["kms:Decrypt", "kms:GenerateDataKey*"],
                {"Service": "cloudwatch.amazonaws.com"},
            )
        )
    return key_policy(*statements)
