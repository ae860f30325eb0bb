"""DR drills without the slow apply: the guards, the history, interruption, losing a region.

The drills themselves run end to end in tests/test_dr_drill_e2e.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import EXAMPLE

from kubeprod.change import drill, drill_zone
from kubeprod.cli import main
from kubeprod.dr import history


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("KUBEPROD_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def test_real_cloud_needs_the_environment_name_typed_back(home: Path, capsys) -> None:
    assert main(["dr", "drill", str(EXAMPLE)]) == 2
    err = capsys.readouterr().err
    assert "--confirm production" in err and "Traceback" not in err
    assert main(["dr", "drill", str(EXAMPLE), "--confirm", "prod"]) == 2
    # the name typed back is not enough: a second person approves the repair
    assert main(["dr", "drill", str(EXAMPLE), "--confirm", "production"]) == 2
    assert "--approve-by" in capsys.readouterr().err
    assert history.drills("production") == []  # nothing was started


def test_region_loss_needs_a_recovery_region(home: Path, tmp_path: Path, capsys) -> None:
    text = EXAMPLE.read_text().replace("    aws: eu-central-1\n", "")
    spec = tmp_path / "spec.yaml"
    spec.write_text(text)
    assert main(["dr", "drill", str(spec), "--local", "--scenario", "region-loss"]) == 2
    assert "dr.recovery_region.aws" in capsys.readouterr().err


def test_interrupted_drill_leaves_a_history_entry_saying_where(
    home: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    sent: list[tuple[str, str]] = []

    def broken_then_interrupted(d: drill.Drill, spec: str, **_: object) -> dict:
        d.note("broken", zone="eu-west-1c", deleted=["nat-gateway nat-1"])
        d.step("declared")
        d.step("recovery_started")
        raise KeyboardInterrupt

    def fake_notify(targets, event, title, body, **_):
        sent.append((event, body))
        return []

    monkeypatch.setattr(drill_zone, "run", broken_then_interrupted)
    monkeypatch.setattr(drill.notify, "notify", fake_notify)
    assert main(["dr", "drill", str(EXAMPLE), "--local"]) == 1
    err = capsys.readouterr().err
    assert "stopped at 'infrastructure_ready'" in err
    (entry,) = history.drills("production")
    assert entry["status"] == "interrupted" and entry["stopped_at"] == "infrastructure_ready"
    assert set(entry["steps"]) == {"declared", "recovery_started"}
    assert entry["timeline"][0]["deleted"] == ["nat-gateway nat-1"]
    assert sent and sent[0][0] == "failure" and "stopped at infrastructure_ready" in sent[0][1]
    # every state of the drill is a line of its own: nothing is rewritten
    lines = history.read_lines(history.history_path("production"))
    assert [line["status"] for line in lines][-1] == "interrupted" and len(lines) >= 3


def test_passed_drill_is_judged_against_targets_and_listed(
    home: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    def instant(d: drill.Drill, spec: str, **_: object) -> dict:
        for step in history.STEPS:
            d.step(step)
        return d.finish(0.0, None)

    monkeypatch.setattr(drill_zone, "run", instant)
    assert main(["--output", "json", "dr", "drill", str(EXAMPLE), "--local"]) == 0
    entry = json.loads(capsys.readouterr().out)
    assert entry["status"] == "passed" and entry["within_targets"] is True
    assert entry["rpo_minutes"] == 0.0 and entry["rto_minutes"] < 1
    assert entry["targets"] == {"rto_minutes": 60, "rpo_minutes": 60}
    assert main(["dr", "history", str(EXAMPLE)]) == 0
    table = capsys.readouterr().out
    assert entry["id"] in table and "verified" in table and "RTO 0.0 min (target 60)" in table
    assert main(["--output", "json", "dr", "history", str(EXAMPLE)]) == 0
    assert json.loads(capsys.readouterr().out)["drills"][0]["id"] == entry["id"]


def test_over_target_drill_fails(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from datetime import timedelta

    def slow(d: drill.Drill, spec: str, **_: object) -> dict:
        start = d.step("declared")
        d.step("recovery_started", start)
        d.step("infrastructure_ready", start + timedelta(minutes=50))
        d.step("verified", start + timedelta(minutes=61))
        return d.finish(0.0, None)

    monkeypatch.setattr(drill_zone, "run", slow)
    assert main(["dr", "drill", str(EXAMPLE), "--local"]) == 1
    (entry,) = history.drills("production")
    assert entry["status"] == "failed" and entry["rto_minutes"] == 61.0
    assert entry["step_seconds"]["infrastructure_ready->verified"] == 660.0


def test_lose_region_drops_one_region_and_keeps_the_rest() -> None:
    import boto3
    from moto import mock_aws

    from kubeprod.local.moto_server import lose_region

    with mock_aws():
        west = boto3.client("ec2", region_name="eu-west-1")
        central = boto3.client("ec2", region_name="eu-central-1")
        west.create_vpc(CidrBlock="10.1.0.0/16")
        central.create_vpc(CidrBlock="10.2.0.0/16")
        for region in ("eu-west-1", "eu-central-1"):
            boto3.client("s3", region_name=region).create_bucket(
                Bucket=f"b-{region}", CreateBucketConfiguration={"LocationConstraint": region}
            )
        s3 = boto3.client("s3", region_name="eu-west-1")
        iam = boto3.client("iam", region_name="eu-west-1")
        iam.create_role(RoleName="survivor", AssumeRolePolicyDocument="{}")
        result = lose_region("eu-west-1")
        assert result["buckets"] == ["b-eu-west-1"] and result["regional_backends"] > 0
        cidrs = {v["CidrBlock"] for v in west.describe_vpcs()["Vpcs"]}
        assert "10.1.0.0/16" not in cidrs
        assert "10.2.0.0/16" in {v["CidrBlock"] for v in central.describe_vpcs()["Vpcs"]}
        assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["b-eu-central-1"]
        with pytest.raises(s3.exceptions.ClientError, match=r"404|NoSuchBucket|Not Found"):
            s3.head_bucket(Bucket="b-eu-west-1")  # gone, not a lookup loop
        assert iam.get_role(RoleName="survivor")["Role"]["RoleName"] == "survivor"


def test_recovery_spec_moves_region_and_zones(tmp_path: Path) -> None:
    from kubeprod.change.drill_region import recovery_spec
    from kubeprod.spec import load_spec

    moved = recovery_spec(str(EXAMPLE), load_spec(EXAMPLE), tmp_path)
    env = load_spec(moved)  # still a valid production spec
    assert env.clouds.aws.region == "eu-central-1"
    assert env.clouds.aws.zones == ["eu-central-1a", "eu-central-1b", "eu-central-1c"]
    assert env.dr.recovery_region.aws == "eu-west-1"
    assert env.state.aws.bucket is None  # derived: the replica's name in eu-central-1


def test_recovery_spec_names_the_replica_as_a_named_state_bucket(tmp_path: Path) -> None:
    """With state.aws.bucket set, the moved spec's state bucket is the CRR replica
    (`<bucket>-replica`), so the failover adopts it instead of replacing it."""
    import yaml

    from kubeprod.change.drill_region import recovery_spec
    from kubeprod.spec import load_spec

    data = yaml.safe_load(EXAMPLE.read_text())
    data["state"] = {"aws": {"bucket": "acme-tfstate"}}
    spec = tmp_path / "named.yaml"
    spec.write_text(yaml.safe_dump(data, sort_keys=False))
    moved = recovery_spec(str(spec), load_spec(spec), tmp_path / "moved")
    assert load_spec(moved).state.aws.bucket == "acme-tfstate-replica"


def test_deleting_a_nat_gateway_frees_its_elastic_ip() -> None:
    """The local cloud behaves as AWS: the zone's NAT gateway can be re-created with its EIP."""
    import boto3
    from moto import mock_aws

    from kubeprod.local.moto_server import patch_nat_gateway_delete

    patch_nat_gateway_delete()
    with mock_aws():
        ec2 = boto3.client("ec2", region_name="eu-west-1")
        vpc = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
        subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.1.1.0/24")["Subnet"]["SubnetId"]
        eip = ec2.allocate_address(Domain="vpc")["AllocationId"]
        nat = ec2.create_nat_gateway(SubnetId=subnet, AllocationId=eip)["NatGateway"]
        ec2.delete_nat_gateway(NatGatewayId=nat["NatGatewayId"])
        again = ec2.create_nat_gateway(SubnetId=subnet, AllocationId=eip)["NatGateway"]
        assert again["NatGatewayId"] != nat["NatGatewayId"]
