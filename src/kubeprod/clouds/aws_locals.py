"""EKS module: locals.tf, the names and the zones map every `for_each` of the module reads
(NET-5: zones are keys named in the spec, so list order can never move them)."""

from __future__ import annotations

from kubeprod.clouds.aws_common import aws_of
from kubeprod.hcl import Block, Call, Comment
from kubeprod.hcl.shorthand import B, E, for_list
from kubeprod.spec import capacity
from kubeprod.spec.model import Environment


def zones_map(env: Environment) -> dict[str, dict[str, str]]:
    """zone -> its public, private and (secondary-CIDR pods) subnet ranges."""
    aws = aws_of(env)
    net = env.network
    pods = (
        capacity.split_pod_cidr(net.pod_cidr, len(aws.zones))
        if net.pod_ip_mode == "secondary-cidr" and net.pod_cidr
        else [None] * len(aws.zones)
    )
    return {
        zone: {
            k: v for k, v in (("public", pub), ("private", priv), ("pods", pod)) if v is not None
        }
        for zone, pub, priv, pod in zip(
            aws.zones, net.public_subnets, net.private_subnets, pods, strict=True
        )
    }


def locals_tf(env: Environment) -> list[Block | Comment]:
    """locals.tf: names, the Kubernetes version, zones and the node subnets."""
    return [
        Comment("NET-5: zones are named in the spec, so list order can never move them."),
        B(
            "locals",
            name=env.name,
            cluster_name=env.name,
            kubernetes_version=env.kubernetes.version,
            zones=zones_map(env),
            private_subnet_ids=for_list(
                "zone", Call("keys", E("local.zones")), E("aws_subnet.private[zone].id")
            ),
        ),
    ]
