"""DR drills end to end on the local cloud: one environment, a zone-loss then a region-loss drill.

`kubeprod up --local` once (about a minute), then each drill really breaks the environment
through the AWS API and recovers it through the change process; the assertions read the
drill's JSON, the drill history, the change log and the gate.
"""

from __future__ import annotations

import json
import os

import pytest
from conftest import EXAMPLE, requires_terraform
from test_local_cloud_e2e import run

pytestmark = [pytest.mark.e2e, requires_terraform]


@pytest.fixture(scope="module")
def cloud(tmp_path_factory):
    home = tmp_path_factory.mktemp("kubeprod-home")
    env = {**os.environ, "KUBEPROD_HOME": str(home), "KUBEPROD_NOTIFY_URL": "json://127.0.0.1:9"}
    up = run("--output", "json", "up", str(EXAMPLE), "--local", env=env)
    if up.returncode != 0:
        run("local", "stop", env=env)
    assert up.returncode == 0, up.stderr
    yield {"env": env, "drills": {}}
    run("local", "stop", env=env)


def _drill(cloud, scenario: str) -> dict:
    proc = run(
        "--output",
        "json",
        "dr",
        "drill",
        str(EXAMPLE),
        "--local",
        "--scenario",
        scenario,
        env=cloud["env"],
    )
    assert proc.returncode == 0, proc.stderr + proc.stdout
    entry = json.loads(proc.stdout)
    cloud["drills"][scenario] = entry
    return entry


def test_dr3_dr5_zone_loss_drill_breaks_and_recovers_within_targets(cloud):
    entry = _drill(cloud, "zone-loss")
    assert entry["status"] == "passed" and entry["within_targets"]
    steps = ["declared", "recovery_started", "infrastructure_ready", "verified"]
    times = [entry["steps"][s] for s in steps]  # every step, in order
    assert times == sorted(times)
    broken = next(t for t in entry["timeline"] if t["what"] == "broken")
    kinds = {d.split()[0] for d in broken["deleted"]}
    assert kinds == {"nat-gateway", "route-table-association", "node-group"}
    drift = next(t for t in entry["timeline"] if t["what"] == "drift")
    assert any("aws_nat_gateway" in a for a in drift["resources"])
    assert entry["rpo_minutes"] == 0.0 and 0 < entry["rto_minutes"] <= 60
    # the repair went through the change process, recorded with the drill's ID
    log = json.loads(run("--output", "json", "history", str(EXAMPLE), env=cloud["env"]).stdout)
    record = next(e for e in log["entries"] if e["id"] == entry["change_id"])
    assert record["result"] == "success" and entry["id"] in record["override"]["emergency"]
    assert record["approved_by"] == ["kubeprod-dr-drill"]
    assert entry["notifications"] and entry["notifications"][0]["event"] == "success"


def test_dr4_region_loss_drill_rebuilds_in_the_recovery_region(cloud):
    entry = _drill(cloud, "region-loss")
    assert entry["status"] == "passed" and entry["within_targets"]
    what = [t["what"] for t in entry["timeline"]]
    assert what[:4] == ["recovery-point", "region-lost", "read-back", "state-restored"]
    lost = entry["timeline"][1]
    assert lost["region"] == "eu-west-1" and lost["buckets"]
    assert 0 <= entry["rpo_minutes"] < entry["targets"]["rpo_minutes"]  # seconds, locally
    assert 0 < entry["rto_minutes"] <= entry["targets"]["rto_minutes"]
    recovery = entry["recovery_spec"]
    plan = run("--output", "json", "plan", recovery, "--cloud", "aws", "--local", env=cloud["env"])
    assert plan.returncode == 0 and json.loads(plan.stdout)["changes"] is False


def test_dr3_dr5_history_lists_both_and_the_gate_passes_on_it(cloud, tmp_path):
    proc = run("--output", "json", "dr", "history", str(EXAMPLE), env=cloud["env"])
    drills = json.loads(proc.stdout)["drills"]
    assert {d["scenario"] for d in drills if d["status"] == "passed"} == {
        "zone-loss",
        "region-loss",
    }
    table = run("dr", "history", str(EXAMPLE), env=cloud["env"]).stdout
    assert "infrastructure_ready" in table and "RTO" in table
    out = tmp_path / "aws"
    run("render", str(EXAMPLE), "--cloud", "aws", "--out", str(out), env=cloud["env"])
    check = run("--output", "json", "check", str(out), "--spec", str(EXAMPLE), env=cloud["env"])
    rules = json.loads(check.stdout)["rules"]
    assert rules["DR-3"] == "pass" and rules["DR-5"] == "pass", rules
