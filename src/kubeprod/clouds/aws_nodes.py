"""EKS module: nodes.tf, the managed node groups (a system group across the zones, one
workload group per zone for Cluster Autoscaler), their launch templates and the EKS AMI
release they track (SEC-4)."""

from __future__ import annotations

from kubeprod.clouds.aws_common import aws_of
from kubeprod.clouds.tags import tag
from kubeprod.hcl import Block, Call, Comment
from kubeprod.hcl.shorthand import B, D, E, R, lifecycle, ref, template
from kubeprod.requirements import Req
from kubeprod.spec.model import Environment

NODE_AMI_TYPE = "AL2023_x86_64_STANDARD"
# ami_type -> its part of the SSM parameter path AWS publishes the release under
# (terraform-aws-eks modules/eks-managed-node-group, ssm_ami_type_to_ssm_param)
AMI_SSM_PATH = {
    "AL2023_x86_64_STANDARD": "amazon-linux-2023/x86_64/standard",
    "AL2023_ARM_64_STANDARD": "amazon-linux-2023/arm64/standard",
}


def nodes_tf(env: Environment) -> list[Block | Comment]:
    """nodes.tf: the system group across the zones, one workload group per zone, their
    launch templates and the AMI release they follow."""
    zones = aws_of(env).zones
    work = env.node_groups.workload
    per_zone = {
        zone: {"min_size": low, "max_size": high, "desired_size": want}
        for zone, low, high, want in zip(
            zones,
            split_evenly(work.min_size, len(zones)),
            split_evenly(work.max_size, len(zones)),
            split_evenly(work.desired, len(zones)),
            strict=True,
        )
    }
    blocks: list[Block | Comment] = [
        tag(
            Req.K8S_3,
            Req.CHR_6,
            note="one workload group per zone, so Cluster Autoscaler adds a node\n"
            "in the zone a pending pod's EBS volume lives in (EKS user guide, managed node\n"
            "groups; cluster-autoscaler AWS README); --balance-similar-node-groups keeps\n"
            "the zones even. The spec's 3-20 is split over the zones.",
        ),
        B("locals", workload_scaling=per_zone),
        tag(
            Req.SEC_4,
            note="node groups follow the EKS-optimised AMI release AWS publishes for the\n"
            "cluster version. A new release shows in the next plan as an in-place node\n"
            "group update (a rolling replacement, max_unavailable = 1), reviewed, approved\n"
            "and applied inside a maintenance window like any other change.",
        ),
        D(
            "aws_ssm_parameter",
            "node_ami_release",
            name=template(
                "/aws/service/eks/optimized-ami/",
                E("local.kubernetes_version"),
                f"/{AMI_SSM_PATH[NODE_AMI_TYPE]}/recommended/release_version",
            ),
        ),
        tag(
            Req.CHR_4,
            Req.CHR_2,
            note="on-demand only. Launch templates enforce IMDSv2 with hop limit 1\n"
            "(pods cannot reach node credentials) and CMK-encrypted gp3 volumes.",
        ),
    ]
    for group_name in ("system", "workload"):
        group = getattr(env.node_groups, group_name)
        blocks.append(_launch_template(env, group_name, group.disk_size_gb))
        blocks.append(_node_group(env, group_name))
    return blocks


def _launch_template(env: Environment, group_name: str, disk_size_gb: int) -> Block:
    """A group's launch template: IMDSv2 with hop limit 1, a CMK-encrypted gp3 root volume."""
    return R(
        "aws_launch_template",
        group_name,
        name_prefix=template(E("local.name"), f"-{group_name}-"),
        update_default_version=True,
        ebs_optimized=True,
        metadata_options=B(
            "metadata_options",
            http_endpoint="enabled",
            http_tokens="required",
            http_put_response_hop_limit=1,
            instance_metadata_tags="disabled",
        ),
        block_device_mappings=B(
            "block_device_mappings",
            device_name="/dev/xvda",
            ebs=B(
                "ebs",
                volume_size=disk_size_gb,
                volume_type="gp3",
                encrypted=env.encryption.volumes,
                kms_key_id=E("aws_kms_key.ebs.arn"),
                delete_on_termination=True,
            ),
        ),
        monitoring=B("monitoring", enabled=True),
        tag_specifications=B(
            "tag_specifications",
            resource_type="instance",
            tags={"Name": template(E("local.name"), f"-{group_name}")},
        ),
    )


def _node_group(env: Environment, group_name: str) -> Block:
    """The system group spans the zones; the workload group is one group per zone."""
    group = getattr(env.node_groups, group_name)
    zonal = group_name == "workload"
    node_group = R("aws_eks_node_group", group_name)
    if zonal:
        node_group.set(for_each=E("local.workload_scaling"))
    node_group.set(
        cluster_name=E("aws_eks_cluster.this.name"),
        node_group_name=template("workload-", E("each.key")) if zonal else group_name,
        node_role_arn=E("aws_iam_role.node.arn"),
        subnet_ids=[E("aws_subnet.private[each.key].id")]
        if zonal
        else E("local.private_subnet_ids"),
        version=E("aws_eks_cluster.this.version"),
        release_version=Call("nonsensitive", E("data.aws_ssm_parameter.node_ami_release.value")),
        ami_type=NODE_AMI_TYPE,
        capacity_type="ON_DEMAND",
        instance_types=[group.instance_types.aws],
        labels={"kubeprod.io/node-group": group_name, **group.labels},
    )
    scaling = (
        B(
            "scaling_config",
            min_size=E("each.value.min_size"),
            max_size=E("each.value.max_size"),
            desired_size=E("each.value.desired_size"),
        )
        if zonal
        else B(
            "scaling_config",
            min_size=group.min_size,
            max_size=group.max_size,
            desired_size=group.desired,
        )
    )
    node_group.add(
        tag(
            Req.K8S_2 if group_name == "system" else Req.K8S_3,
            Req.CHR_3,
            note="sized from the spec; the system group spans the zones' private subnets, "
            "the workload groups take one zone each.",
        ),
        scaling,
        tag(Req.SEC_4, note="rolling node updates, one node at a time."),
        B("update_config", max_unavailable=1),
        B(
            "launch_template",
            id=ref("aws_launch_template", group_name, "id"),
            version=ref("aws_launch_template", group_name, "latest_version"),
        ),
    )
    if group_name == "system":
        node_group.add(B("taint", key="CriticalAddonsOnly", value="true", effect="NO_SCHEDULE"))
    node_group.set(
        tags={
            "k8s.io/cluster-autoscaler/enabled": "true",
            f"k8s.io/cluster-autoscaler/{env.name}": "owned",
        }
    )
    node_group.add(lifecycle(ignore=["scaling_config[0].desired_size"]))
    node_group.set(
        depends_on=[
            E("aws_iam_role_policy_attachment.node"),
            E("aws_eks_pod_identity_association.vpc_cni"),
        ]
    )
    return node_group


def split_evenly(total: int, parts: int) -> list[int]:
    """`total` nodes over `parts` zones, the remainder on the first zones: 20 / 3 -> 7, 7, 6."""
    if parts <= 0:
        return []
    base, extra = divmod(total, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]
