"""EKS module: iam.tf, one role per AWS service that acts for the cluster, each trusting
that service alone and holding only the managed policies EKS documents for it, plus
scoped inline policies (the policy building blocks are in `aws_iam`)."""

from __future__ import annotations

from kubeprod.clouds.aws_common import role
from kubeprod.clouds.aws_iam import policy_document, statement
from kubeprod.hcl import Block, Call, Comment
from kubeprod.hcl.shorthand import E, R, template
from kubeprod.spec.model import Environment


def iam_tf(env: Environment) -> list[Block | Comment]:
    """iam.tf: the roles of the control plane, the nodes, the add-ons, backup and flow logs."""
    blocks: list[Block | Comment] = [
        Comment(
            "Least privilege: each role trusts one service and holds only the AWS\n"
            "managed policies EKS documents for it, plus scoped inline policies."
        ),
    ]
    blocks += role("cluster", "eks.amazonaws.com", ["AmazonEKSClusterPolicy"], "EKS control plane")
    blocks += [
        policy_document(
            "cluster_kms",
            statement(
                "EnvelopeEncryption",
                ["kms:Encrypt", "kms:Decrypt", "kms:ListGrants", "kms:DescribeKey"],
                resources=[E("aws_kms_key.eks.arn")],
            ),
        ),
        R(
            "aws_iam_role_policy",
            "cluster_kms",
            name="secrets-envelope-encryption",
            role=E("aws_iam_role.cluster.id"),
            policy=E("data.aws_iam_policy_document.cluster_kms.json"),
        ),
    ]
    blocks += role(
        "node",
        "ec2.amazonaws.com",
        ["AmazonEKSWorkerNodePolicy", "AmazonEC2ContainerRegistryReadOnly"],
        "EKS managed node groups",
    )
    blocks += [
        Comment(
            "The VPC CNI's ENI and IP permissions belong to aws-node alone, not to every\n"
            "process on a node (EKS user guide: attach AmazonEKS_CNI_Policy to a separate\n"
            "role for the aws-node service account; here through EKS Pod Identity)."
        ),
        *role(
            "vpc_cni",
            "pods.eks.amazonaws.com",
            ["AmazonEKS_CNI_Policy"],
            "VPC CNI aws-node (EKS Pod Identity)",
        ),
    ]
    blocks += role(
        "ebs_csi",
        "pods.eks.amazonaws.com",
        ["service-role/AmazonEBSCSIDriverPolicy"],
        "EBS CSI driver (EKS Pod Identity)",
    )
    blocks += [
        Comment(
            "SEC-3: the EBS CSI driver creates encrypted volumes with the CMK, so its role\n"
            "may use the key and create grants for EC2 only (EKS user guide, Amazon EBS CSI\n"
            "driver IAM role, custom KMS key)."
        ),
        R(
            "aws_iam_role_policy",
            "ebs_csi_kms",
            name="ebs-volumes-cmk",
            role=E("aws_iam_role.ebs_csi.id"),
            policy=Call(
                "jsonencode",
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "GrantsForEc2Only",
                            "Effect": "Allow",
                            "Action": ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"],
                            "Resource": [E("aws_kms_key.ebs.arn")],
                            "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}},
                        },
                        {
                            "Sid": "UseTheVolumeKey",
                            "Effect": "Allow",
                            "Action": [
                                "kms:Encrypt",
                                "kms:Decrypt",
                                "kms:ReEncrypt*",
                                "kms:GenerateDataKey*",
                                "kms:DescribeKey",
                            ],
                            "Resource": [E("aws_kms_key.ebs.arn")],
                        },
                    ],
                },
            ),
        ),
    ]
    blocks += role(
        "cloudwatch_agent",
        "pods.eks.amazonaws.com",
        ["CloudWatchAgentServerPolicy"],
        "Container Insights agent (EKS Pod Identity)",
    )
    blocks += role(
        "backup",
        "backup.amazonaws.com",
        [
            "service-role/AWSBackupServiceRolePolicyForBackup",
            "service-role/AWSBackupServiceRolePolicyForRestores",
        ],
        "AWS Backup of the cluster",
    )
    if env.network.flow_logs:
        blocks += role("flow_logs", "vpc-flow-logs.amazonaws.com", [], "VPC flow logs delivery")
        blocks += [
            policy_document(
                "flow_logs",
                statement(
                    "DeliverFlowLogs",
                    [
                        "logs:CreateLogStream",
                        "logs:PutLogEvents",
                        "logs:DescribeLogGroups",
                        "logs:DescribeLogStreams",
                    ],
                    resources=[
                        E("aws_cloudwatch_log_group.flow_logs.arn"),
                        template(E("aws_cloudwatch_log_group.flow_logs.arn"), ":*"),
                    ],
                ),
            ),
            R(
                "aws_iam_role_policy",
                "flow_logs",
                name="deliver-flow-logs",
                role=E("aws_iam_role.flow_logs.id"),
                policy=E("data.aws_iam_policy_document.flow_logs.json"),
            ),
        ]
    return blocks
