"""EKS module: network.tf, the VPC with public and private subnets in every zone, a NAT
gateway per zone (CHR-5 / NET-4), the pods' secondary CIDR (NET-6) and VPC flow logs."""

from __future__ import annotations

from kubeprod.clouds.tags import tag
from kubeprod.hcl import Block, Comment
from kubeprod.hcl.shorthand import E, R, template
from kubeprod.requirements import Req
from kubeprod.spec.model import Environment


def network_tf(env: Environment) -> list[Block | Comment]:
    """network.tf: VPC, subnets per zone, NAT per zone, pod subnets and flow logs."""
    net = env.network
    blocks: list[Block | Comment] = [
        tag(Req.NET_1, note="the VPC holds the spec's address range (network.vpc_cidr)."),
        R(
            "aws_vpc",
            "this",
            cidr_block=net.vpc_cidr,
            enable_dns_support=True,
            enable_dns_hostnames=True,
            tags={"Name": E("local.name")},
        ),
        Comment("No rules: the default security group denies everything."),
        R("aws_default_security_group", "this", vpc_id=E("aws_vpc.this.id")),
        R(
            "aws_internet_gateway",
            "this",
            vpc_id=E("aws_vpc.this.id"),
            tags={"Name": E("local.name")},
        ),
        Comment("NET-2: public subnets hold the NAT gateways and public load balancers."),
        R(
            "aws_subnet",
            "public",
            for_each=E("local.zones"),
            vpc_id=E("aws_vpc.this.id"),
            availability_zone=E("each.key"),
            cidr_block=E("each.value.public"),
            map_public_ip_on_launch=False,
            tags={
                "Name": template(E("local.name"), "-public-", E("each.key")),
                "kubernetes.io/role/elb": "1",
            },
        ),
        Comment("NET-3: private subnets hold the nodes."),
        R(
            "aws_subnet",
            "private",
            for_each=E("local.zones"),
            vpc_id=E("aws_vpc.this.id"),
            availability_zone=E("each.key"),
            cidr_block=E("each.value.private"),
            tags={
                "Name": template(E("local.name"), "-private-", E("each.key")),
                "kubernetes.io/role/internal-elb": "1",
            },
        ),
        R(
            "aws_route_table",
            "public",
            vpc_id=E("aws_vpc.this.id"),
            tags={"Name": template(E("local.name"), "-public")},
        ),
        R(
            "aws_route",
            "public_internet",
            route_table_id=E("aws_route_table.public.id"),
            destination_cidr_block="0.0.0.0/0",
            gateway_id=E("aws_internet_gateway.this.id"),
        ),
        R(
            "aws_route_table_association",
            "public",
            for_each=E("aws_subnet.public"),
            subnet_id=E("each.value.id"),
            route_table_id=E("aws_route_table.public.id"),
        ),
        Comment(
            "CHR-5 / NET-4: one Elastic IP, NAT gateway and private route table per\n"
            "zone, so losing a zone never cuts another zone's egress."
        ),
        R(
            "aws_eip",
            "nat",
            for_each=E("local.zones"),
            domain="vpc",
            tags={"Name": template(E("local.name"), "-nat-", E("each.key"))},
        ),
        R(
            "aws_nat_gateway",
            "this",
            for_each=E("local.zones"),
            allocation_id=E("aws_eip.nat[each.key].id"),
            subnet_id=E("aws_subnet.public[each.key].id"),
            tags={"Name": template(E("local.name"), "-", E("each.key"))},
            depends_on=[E("aws_internet_gateway.this")],
        ),
        R(
            "aws_route_table",
            "private",
            for_each=E("local.zones"),
            vpc_id=E("aws_vpc.this.id"),
            tags={"Name": template(E("local.name"), "-private-", E("each.key"))},
        ),
        R(
            "aws_route",
            "private_nat",
            for_each=E("local.zones"),
            route_table_id=E("aws_route_table.private[each.key].id"),
            destination_cidr_block="0.0.0.0/0",
            nat_gateway_id=E("aws_nat_gateway.this[each.key].id"),
        ),
        R(
            "aws_route_table_association",
            "private",
            for_each=E("local.zones"),
            subnet_id=E("aws_subnet.private[each.key].id"),
            route_table_id=E("aws_route_table.private[each.key].id"),
        ),
    ]
    if net.pod_ip_mode == "secondary-cidr" and net.pod_cidr:
        blocks += [
            Comment(
                "NET-6: pods take addresses from a secondary CIDR (VPC CNI custom\n"
                "networking), so the private /24s only hold node addresses."
            ),
            R(
                "aws_vpc_ipv4_cidr_block_association",
                "pods",
                vpc_id=E("aws_vpc.this.id"),
                cidr_block=net.pod_cidr,
            ),
            R(
                "aws_subnet",
                "pods",
                for_each=E("local.zones"),
                vpc_id=E("aws_vpc_ipv4_cidr_block_association.pods.vpc_id"),
                availability_zone=E("each.key"),
                cidr_block=E("each.value.pods"),
                tags={"Name": template(E("local.name"), "-pods-", E("each.key"))},
            ),
            R(
                "aws_route_table_association",
                "pods",
                for_each=E("local.zones"),
                subnet_id=E("aws_subnet.pods[each.key].id"),
                route_table_id=E("aws_route_table.private[each.key].id"),
            ),
        ]
    if net.flow_logs:
        blocks += [
            R(
                "aws_cloudwatch_log_group",
                "flow_logs",
                name=template("/aws/vpc/", E("local.name"), "/flow-logs"),
                retention_in_days=env.logging.retention_days,
                kms_key_id=E("aws_kms_key.logs.arn"),
            ),
            R(
                "aws_flow_log",
                "this",
                vpc_id=E("aws_vpc.this.id"),
                traffic_type="ALL",
                log_destination_type="cloud-watch-logs",
                log_destination=E("aws_cloudwatch_log_group.flow_logs.arn"),
                iam_role_arn=E("aws_iam_role.flow_logs.arn"),
                max_aggregation_interval=60,
            ),
        ]
    return blocks
