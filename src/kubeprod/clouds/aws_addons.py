"""EKS module: addons.tf, the EKS add-ons (VPC CNI with NetworkPolicy, Pod Identity agent,
CoreDNS, kube-proxy, EBS CSI, Container Insights) and the aws-node Pod Identity."""

from __future__ import annotations

from kubeprod.clouds.aws_common import aws_of
from kubeprod.hcl import Block, Call, Comment, Expr
from kubeprod.hcl.shorthand import B, D, E, R, cond, for_map, obj
from kubeprod.spec.model import Environment


def addons_tf(env: Environment) -> list[Block | Comment]:
    """addons.tf: the VPC CNI and Pod Identity agent before the nodes, the rest after, each
    pinned to the default version EKS names for the cluster's Kubernetes version."""
    cni_env: dict[str, object] = {"ENABLE_PREFIX_DELEGATION": "false"}
    cni_config: dict[str, object] = {"enableNetworkPolicy": "true", "env": cni_env}
    if env.network.pod_ip_mode == "prefix-delegation":
        cni_env.update({"ENABLE_PREFIX_DELEGATION": "true", "WARM_PREFIX_TARGET": "1"})
    elif env.network.pod_ip_mode == "secondary-cidr":
        cni_env.update(
            {
                "AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG": "true",
                "ENI_CONFIG_LABEL_DEF": "topology.kubernetes.io/zone",
            }
        )
        cni_config["eniConfig"] = {
            "create": True,
            "region": aws_of(env).region,
            "subnets": for_map(
                "zone",
                "subnet",
                "aws_subnet.pods",
                obj(
                    id=E("subnet.id"),
                    securityGroups=[
                        E("aws_eks_cluster.this.vpc_config[0].cluster_security_group_id")
                    ],
                ),
            ),
        }
    before = {
        "vpc-cni": {"configuration_values": Call("jsonencode", cni_config)},
        "eks-pod-identity-agent": {},
    }
    after: dict[str, dict[str, object]] = {
        "coredns": {},
        "kube-proxy": {},
        "aws-ebs-csi-driver": {
            "service_account": "ebs-csi-controller-sa",
            "role_arn": E("aws_iam_role.ebs_csi.arn"),
        },
    }
    if env.monitoring.container_insights:
        after["amazon-cloudwatch-observability"] = {
            "service_account": "cloudwatch-agent",
            "role_arn": E("aws_iam_role.cloudwatch_agent.arn"),
        }
    return [
        Comment(
            "SEC-5: the VPC CNI enforces NetworkPolicy (default-deny policies ship in\n"
            "kubernetes/network-policies.yaml). Networking add-ons come up before the\n"
            "nodes; the rest after."
        ),
        B("locals", addons_before_nodes=before, addons_after_nodes=after),
        R(
            "aws_eks_pod_identity_association",
            "vpc_cni",
            cluster_name=E("aws_eks_cluster.this.name"),
            namespace="kube-system",
            service_account="aws-node",
            role_arn=E("aws_iam_role.vpc_cni.arn"),
        ),
        Comment(
            "SEC-4: add-on versions are pinned to the default version EKS names for the\n"
            "cluster's Kubernetes version (terraform-aws-eks main.tf, aws_eks_addon_version):\n"
            "they move when the version moves, or when EKS changes the default, and\n"
            "either shows in a reviewed plan."
        ),
        D(
            "aws_eks_addon_version",
            "this",
            for_each=Call("merge", E("local.addons_before_nodes"), E("local.addons_after_nodes")),
            addon_name=E("each.key"),
            kubernetes_version=E("aws_eks_cluster.this.version"),
            most_recent=False,
        ),
        _addon("before_nodes", "local.addons_before_nodes", []),
        _addon(
            "after_nodes",
            "local.addons_after_nodes",
            [E("aws_eks_node_group.system"), E("aws_eks_node_group.workload")],
        ),
    ]


def _addon(name: str, source: str, depends_on: list[Expr]) -> Block:
    """The add-ons of the `source` map, each with its Pod Identity role when it has one."""
    addon = R(
        "aws_eks_addon",
        name,
        for_each=E(source),
        cluster_name=E("aws_eks_cluster.this.name"),
        addon_name=E("each.key"),
        addon_version=E("data.aws_eks_addon_version.this[each.key].version"),
        configuration_values=Call("lookup", E("each.value"), "configuration_values", None),
        resolve_conflicts_on_create="OVERWRITE",
        resolve_conflicts_on_update="OVERWRITE",
    )
    addon.add(
        B(
            "dynamic",
            "pod_identity_association",
            for_each=cond(
                Call("contains", Call("keys", E("each.value")), "role_arn"), [E("each.value")], []
            ),
            content=B(
                "content",
                role_arn=E("pod_identity_association.value.role_arn"),
                service_account=E("pod_identity_association.value.service_account"),
            ),
        )
    )
    if depends_on:
        addon.set(depends_on=depends_on)
    return addon
