"""EKS: the Cluster Autoscaler's AWS identity (autoscaler.tf).

The autoscaler itself is a Deployment in the in-cluster baseline
(`kubeprod.baseline.autoscaler`); here it gets an IAM role through an EKS Pod
Identity association for `kube-system/cluster-autoscaler`. The policy is the
least-privilege one of the cluster-autoscaler AWS README
(cluster-autoscaler/cloudprovider/aws/README.md, "Full Cluster Autoscaler
Features Policy (Recommended)"): writes only on Auto Scaling groups tagged as
owned by this cluster (EKS managed node groups carry the auto-discovery tags),
reads everywhere (the Describe calls support no resource-level permissions, except
eks:DescribeNodegroup, scoped to this cluster's node groups).
"""

from __future__ import annotations

from kubeprod.clouds.aws_common import aws_of, role
from kubeprod.clouds.aws_iam import ACCOUNT, PARTITION, policy_document, statement
from kubeprod.hcl import Block, Comment
from kubeprod.hcl.shorthand import E, R, template
from kubeprod.spec.model import Environment

NAMESPACE = "kube-system"
SERVICE_ACCOUNT = "cluster-autoscaler"
READ_ACTIONS = [
    "autoscaling:DescribeAutoScalingGroups",
    "autoscaling:DescribeAutoScalingInstances",
    "autoscaling:DescribeLaunchConfigurations",
    "autoscaling:DescribeScalingActivities",
    "autoscaling:DescribeTags",
    "ec2:DescribeImages",
    "ec2:DescribeInstanceTypes",
    "ec2:DescribeLaunchTemplateVersions",
    "ec2:GetInstanceTypesFromInstanceRequirements",
]
WRITE_ACTIONS = [
    "autoscaling:SetDesiredCapacity",
    "autoscaling:TerminateInstanceInAutoScalingGroup",
]


def autoscaler_tf(env: Environment) -> list[Block | Comment]:
    """IAM role, its policy and the pod identity association of the Cluster Autoscaler."""
    blocks: list[Block | Comment] = [
        Comment(
            "CHR-6: the Cluster Autoscaler (deployed by the kubernetes/ manifests)\n"
            "gets this role through EKS Pod Identity; writes only on this cluster's groups."
        )
    ]
    blocks += role(
        "cluster_autoscaler",
        "pods.eks.amazonaws.com",
        [],
        "Cluster Autoscaler (EKS Pod Identity)",
    )
    region = aws_of(env).region
    owned_tag = template("aws:ResourceTag/k8s.io/cluster-autoscaler/", E("local.cluster_name"))
    blocks += [
        policy_document(
            "cluster_autoscaler",
            statement(
                "ScaleOwnedGroups",
                WRITE_ACTIONS,
                resources=[
                    template(
                        "arn:",
                        E(PARTITION),
                        f":autoscaling:{region}:",
                        E(ACCOUNT),
                        ":autoScalingGroup:*:autoScalingGroupName/*",
                    )
                ],
                conditions=[("StringEquals", owned_tag, ["owned"])],
            ),
            statement(
                "DescribeOwnNodegroups",
                ["eks:DescribeNodegroup"],
                resources=[
                    template(
                        "arn:",
                        E(PARTITION),
                        f":eks:{region}:",
                        E(ACCOUNT),
                        ":nodegroup/",
                        E("local.cluster_name"),
                        "/*/*",
                    )
                ],
            ),
            statement("DescribeForDiscovery", READ_ACTIONS, resources=["*"]),
        ),
        R(
            "aws_iam_role_policy",
            "cluster_autoscaler",
            name="cluster-autoscaler",
            role=E("aws_iam_role.cluster_autoscaler.id"),
            policy=E("data.aws_iam_policy_document.cluster_autoscaler.json"),
        ),
        R(
            "aws_eks_pod_identity_association",
            "cluster_autoscaler",
            cluster_name=E("aws_eks_cluster.this.name"),
            namespace=NAMESPACE,
            service_account=SERVICE_ACCOUNT,
            role_arn=E("aws_iam_role.cluster_autoscaler.arn"),
            depends_on=[E("aws_eks_addon.before_nodes")],
        ),
    ]
    return blocks
