"""End to end on the embedded local cloud: `kubeprod up --local` really applies.

Checks what exists in the cloud afterwards (through the AWS API, not terraform's
word), that a second plan has nothing to do, and that `local stop` leaves no
process behind.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
from conftest import EXAMPLE, ROOT, requires_terraform

pytestmark = [pytest.mark.e2e, requires_terraform]
KUBEPROD = [sys.executable, "-m", "kubeprod"]


def run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*KUBEPROD, *args], capture_output=True, text=True, env=env, cwd=ROOT, timeout=900
    )


@pytest.fixture(scope="module")
def cloud(tmp_path_factory):
    home = tmp_path_factory.mktemp("kubeprod-home")
    env = {**os.environ, "KUBEPROD_HOME": str(home)}
    up = run("--output", "json", "up", str(EXAMPLE), "--local", env=env)
    if up.returncode != 0:
        run("local", "stop", env=env)  # never leave the local cloud running
    assert up.returncode == 0, up.stderr
    status = json.loads(run("--output", "json", "local", "status", env=env).stdout)
    session = boto3.session.Session(
        aws_access_key_id="kubeprod-local",
        aws_secret_access_key="kubeprod-local",
        region_name="eu-west-1",
    )
    cert = str(Path(home) / "local" / "tls" / "cert.pem")

    def client(service: str):
        return session.client(service, endpoint_url=status["endpoint"], verify=cert)

    yield {"env": env, "up": json.loads(up.stdout), "client": client, "status": status}
    run("local", "stop", env=env)


def test_up_summary_names_cluster_endpoint_nat_and_node_groups(cloud):
    summary = cloud["up"]
    assert summary["cluster_name"] == "production"
    assert summary["endpoint_private_access"] is True
    assert summary["public_access_cidrs"] == ["203.0.113.0/24"]
    assert sorted(summary["nat_gateways"]) == ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
    assert set(summary["node_groups"]) == {
        "system",
        "workload-eu-west-1a",
        "workload-eu-west-1b",
        "workload-eu-west-1c",
    }


def test_chr5_three_nat_gateways_in_three_zones(cloud):
    ec2 = cloud["client"]("ec2")
    gateways = ec2.describe_nat_gateways()["NatGateways"]
    subnets = {s["SubnetId"]: s for s in ec2.describe_subnets()["Subnets"]}
    zones = sorted(subnets[g["SubnetId"]]["AvailabilityZone"] for g in gateways)
    assert zones == ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
    # each zone's private route table sends 0.0.0.0/0 to its own zone's gateway
    by_zone = {subnets[g["SubnetId"]]["AvailabilityZone"]: g["NatGatewayId"] for g in gateways}
    for table in ec2.describe_route_tables()["RouteTables"]:
        nat_routes = [r for r in table["Routes"] if r.get("NatGatewayId")]
        for assoc in table.get("Associations", []):
            subnet = subnets.get(assoc.get("SubnetId", ""))
            if subnet and nat_routes:
                assert nat_routes[0]["NatGatewayId"] == by_zone[subnet["AvailabilityZone"]]


def test_net1_to_net3_six_subnets_with_the_brief_cidrs(cloud):
    ec2 = cloud["client"]("ec2")
    vpcs = [v for v in ec2.describe_vpcs()["Vpcs"] if v["CidrBlock"] == "10.1.0.0/16"]
    assert len(vpcs) == 1
    subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpcs[0]["VpcId"]]}])[
        "Subnets"
    ]
    cidrs = {s["CidrBlock"]: s["AvailabilityZone"] for s in subnets}
    assert {c: z for c, z in cidrs.items() if c.startswith("10.1.")} == {
        "10.1.1.0/24": "eu-west-1a",
        "10.1.2.0/24": "eu-west-1b",
        "10.1.3.0/24": "eu-west-1c",
        "10.1.10.0/24": "eu-west-1a",
        "10.1.11.0/24": "eu-west-1b",
        "10.1.12.0/24": "eu-west-1c",
    }


def test_k8s4_k8s5_sec8_cluster_endpoint_and_encryption(cloud):
    cluster = cloud["client"]("eks").describe_cluster(name="production")["cluster"]
    vpc = cluster["resourcesVpcConfig"]
    assert vpc["endpointPrivateAccess"] is True
    assert vpc["endpointPublicAccess"] is True
    assert vpc["publicAccessCidrs"] == ["203.0.113.0/24"]
    assert cluster["version"] == "1.35"
    enc = cluster["encryptionConfig"][0]
    assert enc["resources"] == ["secrets"]
    key = cloud["client"]("kms").describe_key(KeyId=enc["provider"]["keyArn"])["KeyMetadata"]
    assert key["KeyManager"] == "CUSTOMER"
    logging = cluster["logging"]["clusterLogging"][0]
    assert logging["enabled"] is True and "audit" in logging["types"]


def test_k8s2_k8s3_system_group_and_a_workload_group_per_zone(cloud):
    eks = cloud["client"]("eks")
    ec2 = cloud["client"]("ec2")
    zone_of = {s["SubnetId"]: s["AvailabilityZone"] for s in ec2.describe_subnets()["Subnets"]}
    names = sorted(eks.list_nodegroups(clusterName="production")["nodegroups"])
    zones = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
    assert names == ["system", *(f"workload-{z}" for z in zones)]
    groups = {
        n: eks.describe_nodegroup(clusterName="production", nodegroupName=n)["nodegroup"]
        for n in names
    }
    assert groups["system"]["scalingConfig"]["minSize"] == 3
    assert sorted(zone_of[s] for s in groups["system"]["subnets"]) == zones
    workload = [groups[f"workload-{z}"] for z in zones]
    assert sum(g["scalingConfig"]["minSize"] for g in workload) == 3
    assert sum(g["scalingConfig"]["maxSize"] for g in workload) == 20
    for zone, group in zip(zones, workload, strict=True):
        assert [zone_of[s] for s in group["subnets"]] == [zone]  # item 7: one zone each
    assert {g["capacityType"] for g in groups.values()} == {"ON_DEMAND"}


def test_sec3_new_volumes_encrypted_by_default_with_the_cmk(cloud):
    """Issue 10, AWS 3: persistent volumes too, not only the launch templates' root disks."""
    ec2, kms = cloud["client"]("ec2"), cloud["client"]("kms")
    assert ec2.get_ebs_encryption_by_default()["EbsEncryptionByDefault"] is True
    default_key = ec2.get_ebs_default_kms_key_id()["KmsKeyId"]
    ebs_key = kms.describe_key(KeyId="alias/production-ebs")["KeyMetadata"]
    assert default_key == ebs_key["Arn"] and ebs_key["KeyManager"] == "CUSTOMER"


def test_sec3_autoscaling_role_exists_before_the_key_names_it(cloud):
    """Issue 10, AWS 1: the key policy names the Auto Scaling service-linked role, which
    the module created (a fresh account, like the local cloud, has none)."""
    iam, kms = cloud["client"]("iam"), cloud["client"]("kms")
    role = iam.get_role(RoleName="AWSServiceRoleForAutoScaling")["Role"]
    assert role["Path"] == "/aws-service-role/autoscaling.amazonaws.com/"
    key = kms.describe_key(KeyId="alias/production-ebs")["KeyMetadata"]["KeyId"]
    policy = json.loads(kms.get_key_policy(KeyId=key, PolicyName="default")["Policy"])
    principals = [s["Principal"].get("AWS") for s in policy["Statement"]]
    assert role["Arn"] in principals


def test_sec3_import_mode_adopts_the_autoscaling_role_an_account_has(cloud, tmp_path):
    """Issue 10, AWS 1, the other switch position: the fixture's apply created the role, so
    this account now has it; an environment of its own with
    `autoscaling_service_linked_role: import` plans to import it, not to create it again."""
    text = EXAMPLE.read_text(encoding="utf-8")
    zones = "    zones: [eu-west-1a, eu-west-1b, eu-west-1c]\n"
    assert text.count(zones) == 1 and text.count("name: production\n") == 1
    text = text.replace(zones, zones + "    autoscaling_service_linked_role: import\n")
    spec = tmp_path / "adopt.yaml"
    spec.write_text(text.replace("name: production\n", "name: adopt\n"), encoding="utf-8")
    proc = run("--output", "json", "plan", str(spec), "--cloud", "aws", "--local", env=cloud["env"])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    plan = json.loads((Path(json.loads(proc.stdout)["bundle"]) / "plan.json").read_text())
    (role,) = [
        c
        for c in plan["resource_changes"]
        if c["address"] == "aws_iam_service_linked_role.autoscaling"
    ]
    assert role["change"]["importing"]["id"].endswith(
        ":role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"
    )
    assert role["change"]["actions"] in (["no-op"], ["update"])  # tags may differ: no create


def test_sec4_node_groups_track_the_ami_release(cloud):
    """Issue 10, AWS 2: release_version comes from the SSM parameter for the version."""
    eks, ssm = cloud["client"]("eks"), cloud["client"]("ssm")
    name = (
        "/aws/service/eks/optimized-ami/1.35/amazon-linux-2023/x86_64/standard/"
        "recommended/release_version"
    )
    release = ssm.get_parameter(Name=name)["Parameter"]["Value"]
    for group in eks.list_nodegroups(clusterName="production")["nodegroups"]:
        described = eks.describe_nodegroup(clusterName="production", nodegroupName=group)
        assert described["nodegroup"]["releaseVersion"] == release


def test_vpc_cni_policy_is_off_the_node_role(cloud):
    """Issue 10, AWS 5: AmazonEKS_CNI_Policy sits on aws-node's own role."""
    iam = cloud["client"]("iam")

    def policies(role: str) -> set[str]:
        attached = iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]
        return {p["PolicyName"] for p in attached}

    assert "AmazonEKS_CNI_Policy" not in policies("production-node")
    assert policies("production-vpc-cni") == {"AmazonEKS_CNI_Policy"}


def test_dr1_backup_vault_locked_and_insights_log_groups_encrypted(cloud):
    """Issue 10, AWS 8: Vault Lock and Container Insights log groups with KMS and retention."""
    vault = cloud["client"]("backup").describe_backup_vault(BackupVaultName="production")
    assert vault["Locked"] is True
    logs = cloud["client"]("logs")
    groups = logs.describe_log_groups(logGroupNamePrefix="/aws/containerinsights/production/")
    found = {g["logGroupName"].rsplit("/", 1)[1]: g for g in groups["logGroups"]}
    assert set(found) == {"application", "dataplane", "host", "performance"}
    assert all(g.get("kmsKeyId") and g["retentionInDays"] == 365 for g in found.values())


def test_dr2_state_lives_in_the_encrypted_versioned_bucket(cloud):
    s3 = cloud["client"]("s3")
    bucket = "kubeprod-production-123456789012-eu-west-1"
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    head = s3.head_object(Bucket=bucket, Key="production/aws/terraform.tfstate")
    assert head["ServerSideEncryption"] == "aws:kms"


def test_dr1_dr4_backup_vault_locked_and_copied_to_the_recovery_region(cloud):
    """AWS Backup vault with its lock and plan, and the copy's vault in eu-central-1."""
    backup = cloud["client"]("backup")
    vaults = {v["BackupVaultName"]: v for v in backup.list_backup_vaults()["BackupVaultList"]}
    assert vaults["production"]["Locked"] is True
    assert vaults["production"]["MinRetentionDays"] >= 1
    plans = backup.list_backup_plans()["BackupPlansList"]
    plan = backup.get_backup_plan(BackupPlanId=plans[0]["BackupPlanId"])["BackupPlan"]
    (rule,) = plan["Rules"]
    assert rule["ScheduleExpression"] == "cron(0 */2 * * ? *)"
    assert (rule["StartWindowMinutes"], rule["CompletionWindowMinutes"]) == (60, 120)
    recovery = boto3.session.Session(
        aws_access_key_id="kubeprod-local",
        aws_secret_access_key="kubeprod-local",
        region_name="eu-central-1",
    ).client(
        "backup",
        endpoint_url=cloud["status"]["endpoint"],
        verify=str(Path(cloud["env"]["KUBEPROD_HOME"]) / "local" / "tls" / "cert.pem"),
    )
    names = [v["BackupVaultName"] for v in recovery.list_backup_vaults()["BackupVaultList"]]
    assert names == ["production-recovery"]
    (copy,) = rule["CopyActions"]
    assert copy["DestinationBackupVaultArn"].split(":")[3] == "eu-central-1"


def test_second_plan_shows_no_changes(cloud):
    proc = run(
        "--output", "json", "plan", str(EXAMPLE), "--cloud", "aws", "--local", env=cloud["env"]
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["changes"] is False, result["counts"]


def test_local_stop_leaves_no_process(tmp_path):
    """A local cloud of its own (not the module's), so no other test depends on the order."""
    env = {**os.environ, "KUBEPROD_HOME": str(tmp_path)}
    started = run("--output", "json", "local", "start", env=env)
    assert started.returncode == 0, started.stderr
    pid = json.loads(run("--output", "json", "local", "status", env=env).stdout)["pid"]
    stopped = run("--output", "json", "local", "stop", env=env)
    assert json.loads(stopped.stdout)["stopped"] is True
    assert (
        not Path(f"/proc/{pid}").exists()
        or "zombie" in Path(f"/proc/{pid}/status").read_text().lower()
    )
    status = run("--output", "json", "local", "status", env=env)
    assert status.returncode == 3 and json.loads(status.stdout)["running"] is False
