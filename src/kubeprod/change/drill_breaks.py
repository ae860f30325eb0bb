"""Breaking the environment out of band for a DR drill: through the cloud's API, never terraform.

The zone-loss drill takes away what one zone's loss takes away from the module: the zone's
NAT gateway, its private route table association, and the zone's node group (the workload
group pinned to that zone; a group spanning the zones when there is none).
"""

from __future__ import annotations

from typing import Any

from kubeprod.local.server import TEST_CREDENTIALS, ca_bundle


def client(target: Any, service: str, region: str) -> Any:
    """A boto3 client for the target: the local cloud (its endpoint and CA) or AWS."""
    import boto3  # lazy, for start-up time (~0.15 s)

    if target.local:
        return boto3.client(
            service,
            region_name=region,
            endpoint_url=target.endpoint,
            verify=str(ca_bundle()),
            aws_access_key_id=TEST_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=TEST_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        )
    return boto3.client(service, region_name=region)


def break_zone(target: Any, outputs: dict[str, Any], zone: str) -> list[str]:
    """Delete the zone's NAT gateway, route table association and the workload node group.

    Returns what was deleted, as `kind id` strings, for the drill record.
    """
    aws = target.env.clouds.aws
    ec2 = client(target, "ec2", aws.region)
    eks = client(target, "eks", aws.region)
    done: list[str] = []
    nat = outputs["nat_gateway_ids"][zone]
    ec2.delete_nat_gateway(NatGatewayId=nat)
    done.append(f"nat-gateway {nat}")
    subnet = outputs["private_subnet_ids"][zone]
    tables = ec2.describe_route_tables(
        Filters=[{"Name": "association.subnet-id", "Values": [subnet]}]
    )["RouteTables"]
    for table in tables:
        for assoc in table.get("Associations", []):
            if assoc.get("SubnetId") == subnet:
                ec2.disassociate_route_table(AssociationId=assoc["RouteTableAssociationId"])
                done.append(f"route-table-association {assoc['RouteTableAssociationId']}")
    cluster = outputs["cluster_name"]
    groups = eks.list_nodegroups(clusterName=cluster)["nodegroups"]
    # the zone's own node group when groups are per zone, else the workload group
    workload = next((g for g in groups if g.endswith(zone)), None) or next(
        (g for g in groups if "workload" in g), None
    )
    if workload:
        eks.delete_nodegroup(clusterName=cluster, nodegroupName=workload)
        done.append(f"node-group {workload}")
    return done


def verify_zones(target: Any, outputs: dict[str, Any]) -> list[str]:
    """The checks `up` reports, read back through the API: problems, or [] when healthy."""
    aws = target.env.clouds.aws
    ec2 = client(target, "ec2", aws.region)
    eks = client(target, "eks", aws.region)
    problems = []
    nats = outputs["nat_gateway_ids"]
    for zone in aws.zones:
        nat_id = nats.get(zone)
        found = ec2.describe_nat_gateways(NatGatewayIds=[nat_id])["NatGateways"] if nat_id else []
        if not found or found[0]["State"] != "available":
            problems.append(f"no available NAT gateway in {zone}")
        subnet = outputs["private_subnet_ids"].get(zone)
        tables = ec2.describe_route_tables(
            Filters=[{"Name": "association.subnet-id", "Values": [subnet]}]
        )["RouteTables"]
        if not tables:
            problems.append(f"the private subnet of {zone} has no route table")
    cluster = outputs["cluster_name"]
    groups = eks.list_nodegroups(clusterName=cluster)["nodegroups"]
    for name in outputs["node_groups"]:
        if name not in groups:
            problems.append(f"node group {name} is missing")
    return problems
