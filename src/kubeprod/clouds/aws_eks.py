"""EKS module: eks.tf, the cluster (private endpoint, allow-listed public endpoint, secrets
envelope encryption, access entries only), its control-plane log group and its admins."""

from __future__ import annotations

from kubeprod.clouds.aws_iam import PARTITION
from kubeprod.hcl import Block, Call, Comment
from kubeprod.hcl.shorthand import B, E, R, lifecycle, list_of, template
from kubeprod.spec.model import Environment


def eks_tf(env: Environment) -> list[Block | Comment]:
    """eks.tf: the control-plane log group, the cluster, its admins' access entries."""
    api = env.api_endpoint
    vpc_config = B(
        "vpc_config",
        subnet_ids=E("local.private_subnet_ids"),
        endpoint_private_access=api.private,
        endpoint_public_access=api.public,
        public_access_cidrs=list(api.public_allowed_cidrs) if api.public else None,
    )
    cluster = R(
        "aws_eks_cluster",
        "this",
        name=E("local.cluster_name"),
        version=E("local.kubernetes_version"),
        role_arn=E("aws_iam_role.cluster.arn"),
        enabled_cluster_log_types=list(env.logging.control_plane),
        bootstrap_self_managed_addons=False,
    )
    cluster.add(
        vpc_config,
        B(
            "access_config",
            authentication_mode="API",
            bootstrap_cluster_creator_admin_permissions=False,
        ),
        B(
            "encryption_config",
            resources=["secrets"],
            provider=B("provider", key_arn=E("aws_kms_key.eks.arn")),
        ),
        B(
            "kubernetes_network_config",
            service_ipv4_cidr=env.network.service_cidr,
            ip_family="ipv4",
        ),
        B("upgrade_policy", support_type=env.kubernetes.support_type),
        B("zonal_shift_config", enabled=True),
        lifecycle(prevent_destroy=True),
    )
    cluster.set(
        depends_on=[
            E("aws_cloudwatch_log_group.cluster"),
            E("aws_iam_role_policy_attachment.cluster"),
        ]
    )
    blocks: list[Block | Comment] = [
        Comment(
            "K8S-7 / SEC-7: every control-plane log type, audit included, into a\n"
            "KMS-encrypted log group with retention. EKS writes to this exact name."
        ),
        R(
            "aws_cloudwatch_log_group",
            "cluster",
            name=template("/aws/eks/", E("local.cluster_name"), "/cluster"),
            retention_in_days=env.logging.retention_days,
            kms_key_id=E("aws_kms_key.logs.arn"),
        ),
        Comment(
            "K8S-4 / K8S-5 / SEC-1 / SEC-2: private endpoint on; the public endpoint\n"
            "answers only the allow-list. SEC-8: secrets envelope-encrypted with a CMK.\n"
            "K8S-1: version pinned to N-1 in standard support. Access entries only\n"
            "(authentication mode API): no aws-auth ConfigMap. CHR-3: zonal shift on, so\n"
            "traffic can be moved away from an impaired zone (ARC zonal shift)."
        ),
        cluster,
        R(
            "aws_eks_access_entry",
            "admin",
            for_each=Call("toset", E("var.cluster_admin_arns")),
            cluster_name=E("aws_eks_cluster.this.name"),
            principal_arn=E("each.value"),
            type="STANDARD",
        ),
        R(
            "aws_eks_access_policy_association",
            "admin",
            for_each=Call("toset", E("var.cluster_admin_arns")),
            cluster_name=E("aws_eks_cluster.this.name"),
            principal_arn=E("aws_eks_access_entry.admin[each.value].principal_arn"),
            policy_arn=template(
                "arn:", E(PARTITION), ":eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
            ),
            access_scope=B("access_scope", type="cluster"),
        ),
        B(
            "variable",
            "cluster_admin_arns",
            description="IAM principals with cluster admin through EKS access entries",
            type=list_of("string"),
            default=list(env.access.cluster_admin_arns),
        ),
    ]
    return blocks
