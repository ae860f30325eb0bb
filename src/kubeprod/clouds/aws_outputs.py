"""EKS module: outputs.tf, what operators and the change process read from the module, and
the Cluster Autoscaler's scale-down flags (CHR-6)."""

from __future__ import annotations

from kubeprod.clouds.tags import tag
from kubeprod.hcl import Block, Call, Comment, Expr
from kubeprod.hcl.shorthand import B, E, for_expr, for_map
from kubeprod.requirements import Req
from kubeprod.spec.model import Environment, duration_minutes


def outputs_tf(env: Environment) -> list[Block | Comment]:
    """outputs.tf: the cluster, network and key identifiers, and the autoscaler's flags."""
    a = env.autoscaler
    flags = [
        "--balance-similar-node-groups=" + str(a.balance_similar_node_groups).lower(),
        f"--scale-down-delay-after-add={duration_minutes(a.scale_down_delay_after_add)}m",
        f"--scale-down-unneeded-time={duration_minutes(a.scale_down_unneeded_time)}m",
        f"--scale-down-utilization-threshold={a.scale_down_utilization_threshold}",
        "--skip-nodes-with-local-storage=true",
        "--expander=least-waste",
    ]
    outputs: dict[str, tuple[str | Expr, str]] = {
        "cluster_name": ("aws_eks_cluster.this.name", "EKS cluster name"),
        "cluster_arn": ("aws_eks_cluster.this.arn", "EKS cluster ARN"),
        "cluster_endpoint": ("aws_eks_cluster.this.endpoint", "Kubernetes API endpoint"),
        "cluster_version": ("aws_eks_cluster.this.version", "Kubernetes version"),
        "endpoint_private_access": (
            "aws_eks_cluster.this.vpc_config[0].endpoint_private_access",
            "K8S-4",
        ),
        "public_access_cidrs": (
            "aws_eks_cluster.this.vpc_config[0].public_access_cidrs",
            "K8S-5 allow-list",
        ),
        "vpc_id": ("aws_vpc.this.id", "VPC ID"),
        "private_subnet_ids": (
            for_map("zone", "s", "aws_subnet.private", E("s.id")),
            "Node subnets by zone",
        ),
        "nat_gateway_ids": (
            for_map("zone", "n", "aws_nat_gateway.this", E("n.id")),
            "NAT gateway per zone",
        ),
        "node_groups": (
            for_expr(
                "g",
                Call(
                    "concat",
                    [E("aws_eks_node_group.system")],
                    Call("values", E("aws_eks_node_group.workload")),
                ),
                E("g.scaling_config[0]"),
                key=E("g.node_group_name"),
            ),
            "Node groups and their sizes",
        ),
        "secrets_kms_key_arn": ("aws_kms_key.eks.arn", "SEC-8 key"),
        "alerts_topic_arn": ("aws_sns_topic.alerts.arn", "CHR-7 alert topic"),
    }
    blocks: list[Block | Comment] = [
        B("output", name, description=desc, value=E(expr) if isinstance(expr, str) else expr)
        for name, (expr, desc) in outputs.items()
    ]
    blocks.append(
        B("output", "cluster_autoscaler_flags")
        .add(tag(Req.CHR_6, note="conservative scale-down for Cluster Autoscaler."))
        .set(
            description="CHR-6: conservative scale-down flags for Cluster "
            "Autoscaler (auto-discovery tags are on the node groups)",
            value=flags,
        )
    )
    return blocks
