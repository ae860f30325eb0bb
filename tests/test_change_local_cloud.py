"""The local cloud serves EKS DescribeUpdate, which terraform polls after a node group
update (moto alone lacks it, so in-place node group changes could not apply)."""

from __future__ import annotations

import boto3
import pytest

from kubeprod.local import server


@pytest.fixture()
def eks(tmp_path, monkeypatch):
    monkeypatch.setenv("KUBEPROD_HOME", str(tmp_path))
    started = server.start()
    try:
        yield boto3.client(
            "eks",
            region_name="eu-west-1",
            endpoint_url=started["endpoint"],
            verify=str(server.ca_bundle()),
            aws_access_key_id="kubeprod-local",
            aws_secret_access_key="kubeprod-local",
        )
    finally:
        server.stop()


def test_node_group_update_can_be_described(eks):
    role = "arn:aws:iam::123456789012:role/eks"
    eks.create_cluster(name="c", roleArn=role, resourcesVpcConfig={"subnetIds": ["subnet-1"]})
    eks.create_nodegroup(
        clusterName="c", nodegroupName="ng", nodeRole=role, subnets=["subnet-1"],
        scalingConfig={"minSize": 1, "maxSize": 2, "desiredSize": 1},
    )  # fmt: skip
    update = eks.update_nodegroup_config(
        clusterName="c", nodegroupName="ng", scalingConfig={"minSize": 1, "maxSize": 5}
    )["update"]
    described = eks.describe_update(name="c", updateId=update["id"], nodegroupName="ng")
    assert described["update"]["id"] == update["id"]
    assert described["update"]["status"] == "Successful"
    with pytest.raises(eks.exceptions.ResourceNotFoundException):
        eks.describe_update(name="c", updateId="nope", nodegroupName="ng")
