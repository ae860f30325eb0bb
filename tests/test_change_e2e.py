"""CHG-1..5 end to end on the embedded local cloud, one scenario in order.

A temp git repo holds the example spec. Workload max 20 -> 21 (zone c's group 6 -> 7:
the workload groups are one per zone) is planned, reviewed
(one in-place change, no risk), refused outside the window and with another plan's
approval, applied inside the window (notices reach a real HTTP receiver through
Apprise), logged; then rolled back to the previous revision, with a changed
module file refused, terraform SIGKILLed mid-apply, the S3 lock reported and
cleared, and the environment converging. Drift is detected and notified.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import boto3
import pytest
from conftest import EXAMPLE, requires_terraform

pytestmark = [pytest.mark.e2e, requires_terraform]
KUBEPROD = [sys.executable, "-m", "kubeprod"]
IN_WINDOW = "2026-03-31T01:30:00Z"  # Tue 02:30 BST, the example's Tue-Thu 02:00 London window
OUTSIDE = "2026-03-30T12:00:00Z"  # Monday noon
BUCKET = "kubeprod-production-123456789012-eu-west-1"
STATE_KEY = "production/aws/terraform.tfstate"


class Receiver(BaseHTTPRequestHandler):
    received: ClassVar[list[dict]] = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        Receiver.received.append({"path": self.path, **json.loads(body or b"{}")})
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=repo, check=True, capture_output=True, text=True
    ).stdout.strip()


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    home = tmp_path_factory.mktemp("kubeprod-home")
    repo = tmp_path_factory.mktemp("repo")
    spec = repo / "environments" / "production.yaml"
    spec.parent.mkdir()
    shutil.copy(EXAMPLE, spec)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.email", "ci@example.com")
    git(repo, "config", "user.name", "ci")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "production at max 20")
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env = {k: v for k, v in os.environ.items() if k != "KUBEPROD_NOW"}
    env.update(
        {
            "KUBEPROD_HOME": str(home),
            "KUBEPROD_NOTIFY_URL": f"json://127.0.0.1:{server.server_port}/hook",
        }
    )
    state: dict = {"env": env, "home": home, "repo": repo, "spec": str(spec)}

    def run(*args: str, check: bool | None = None) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            [*KUBEPROD, *args], capture_output=True, text=True, env=env, cwd=repo, timeout=900
        )
        if check:
            assert proc.returncode == 0, proc.stdout + proc.stderr
        return proc

    state["run"] = run
    yield state
    run("local", "stop")
    server.shutdown()


def client(world, service: str):
    status = json.loads(world["run"]("--output", "json", "local", "status").stdout)
    return boto3.session.Session(
        aws_access_key_id="kubeprod-local",
        aws_secret_access_key="kubeprod-local",
        region_name="eu-west-1",
    ).client(
        service,
        endpoint_url=status["endpoint"],
        verify=str(world["home"] / "local" / "tls" / "cert.pem"),
    )


ZONE_C_GROUP = "workload-eu-west-1c"  # 20 over three zones is 7, 7, 6; 21 is 7, 7, 7
ZONE_C = 'aws_eks_node_group.workload["eu-west-1c"]'


def workload_max(world) -> int:
    group = client(world, "eks").describe_nodegroup(
        clusterName="production", nodegroupName=ZONE_C_GROUP
    )
    return group["nodegroup"]["scalingConfig"]["maxSize"]


def plan(world) -> dict:
    proc = world["run"]("--output", "json", "plan", world["spec"], "--local", check=True)
    return json.loads(proc.stdout)


def history(world) -> list[dict]:
    proc = world["run"]("--output", "json", "history", world["spec"], check=True)
    return json.loads(proc.stdout)["entries"]


def titles() -> list[str]:
    return [n.get("title", "") for n in Receiver.received]


def test_01_baseline_up(world):
    world["run"]("up", world["spec"], "--local", check=True)
    assert workload_max(world) == 6


def test_02_change_reviews_as_one_in_place_change_without_risk(world):
    spec = Path(world["spec"])
    spec.write_text(spec.read_text().replace("max_size: 20", "max_size: 21", 1))
    git(world["repo"], "commit", "-q", "-am", "workload max 21")
    world["first"] = plan(world)
    world["bundle"] = plan(world)  # planned again: the first plan's approval must not count
    assert world["first"]["plan_sha256"] != world["bundle"]["plan_sha256"]
    proc = world["run"]("review", world["bundle"]["bundle"], "--format", "json", check=True)
    data = json.loads(proc.stdout)
    assert data["counts"] == {"create": 0, "update": 1, "replace": 0, "delete": 0}
    assert list(data["changes"]) == ["nodes"]
    (item,) = data["changes"]["nodes"]
    assert item["address"] == ZONE_C
    assert {"attribute": "scaling_config[0].max_size", "before": 6, "after": 7} in item[
        "attributes"
    ]
    assert data["risks"] == []
    assert data["git"]["branch"] == "main" and data["git"]["clean"] is True
    markdown = world["run"]("review", world["bundle"]["bundle"], "--format", "md").stdout
    assert "1 to change in place" in markdown and "### Rollback plan" in markdown
    assert "None found." in markdown


def test_03_refused_with_another_plans_approval_and_outside_the_window(world):
    run = world["run"]
    run("approve", world["first"]["bundle"], "--by", "alice", check=True)
    wrong = run("approve", world["bundle"]["bundle"], "--by", "eve", "--plan-hash", "0" * 12)
    assert wrong.returncode == 4 and "an approval is for one plan only" in wrong.stderr
    refused = run("apply", world["bundle"]["bundle"], "--at", IN_WINDOW)
    assert refused.returncode == 4, refused.stderr
    assert "[CHG-2 approval]" in refused.stderr and "another plan" in refused.stderr
    run("approve", world["bundle"]["bundle"], "--by", "bob", check=True)
    outside = run("apply", world["bundle"]["bundle"], "--at", OUTSIDE)
    assert outside.returncode == 4
    assert "[CHG-3 window]" in outside.stderr and "Next window: Tue 2026-03-31 02:00 BST" in (
        outside.stderr
    )
    assert "[CHG-2" not in outside.stderr
    assert workload_max(world) == 6


def test_04_apply_inside_the_window_notifies_logs_and_snapshots(world):
    before = len(Receiver.received)
    world["run"]("apply", world["bundle"]["bundle"], "--at", IN_WINDOW, check=True)
    assert workload_max(world) == 7
    new = titles()[before:]
    assert any("starting" in t for t in new) and any("succeeded" in t for t in new)
    entry = history(world)[-1]
    assert entry["result"] == "success"
    assert entry["plan_sha256"] == world["bundle"]["plan_sha256"]
    assert entry["approved_by"] == ["bob"]
    assert entry["spec_revision"] == git(world["repo"], "rev-parse", "HEAD")
    assert Path(entry["snapshot"]["local"]).exists()
    key = entry["snapshot"]["s3"].split("/", 3)[3]
    assert key.startswith("production/aws/snapshots/")
    client(world, "s3").head_object(Bucket=BUCKET, Key=key)
    assert all(n["ok"] for n in entry["notifications"])
    assert "127.0.0.1" not in json.dumps(entry)  # the URL is a secret: never recorded


def test_05_rollback_plan_and_a_changed_module_file_is_refused(world):
    proc = world["run"](
        "--output", "json", "rollback", world["spec"], "--to", "HEAD~1", "--local", check=True
    )
    result = json.loads(proc.stdout)
    (item,) = result["review"]["changes"]["nodes"]
    assert {"attribute": "scaling_config[0].max_size", "before": 7, "after": 6} in item[
        "attributes"
    ]
    world["rollback"] = result["bundle"]
    world["run"]("approve", result["bundle"], "--by", "bob", check=True)
    workdir = Path(json.loads((Path(result["bundle"]) / "manifest.json").read_text())["workdir"])
    target = workdir / "eks.tf"
    original = target.read_bytes()
    target.write_bytes(original + b"\n# edited after approval\n")
    try:
        refused = world["run"]("apply", result["bundle"], "--at", IN_WINDOW)
    finally:
        target.write_bytes(original)
    assert refused.returncode == 4
    assert "eks.tf changed since the plan" in refused.stderr
    assert workload_max(world) == 7


def _terraform_child(pid: int) -> int | None:
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            stat = (proc / "stat").read_text()
        except OSError:
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        ppid = int(stat[stat.rindex(")") + 2 :].split()[1])
        if ppid == pid and name == "terraform":
            return int(proc.name)
    return None


def test_06_terraform_killed_mid_apply_loses_nothing(world):
    s3 = client(world, "s3")
    before = len(history(world))
    proc = subprocess.Popen(
        [*KUBEPROD, "apply", world["rollback"], "--at", IN_WINDOW],
        env=world["env"],
        cwd=world["repo"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    killed = None
    while proc.poll() is None and killed is None:
        try:
            s3.head_object(Bucket=BUCKET, Key=STATE_KEY + ".tflock")
        except s3.exceptions.ClientError:
            time.sleep(0.05)
            continue
        killed = _terraform_child(proc.pid)
        if killed:
            os.kill(killed, signal.SIGKILL)
    _, err = proc.communicate(timeout=300)
    assert killed, f"terraform finished before it could be killed: {err}"
    assert proc.returncode == 1, err
    assert "apply failed; recorded as" in err and "killed by signal 9" in err
    entries = history(world)
    assert len(entries) == before + 1 and entries[-1]["result"] == "failure"
    assert Path(entries[-1]["snapshot"]["local"]).exists()
    assert any("FAILED" in t for t in titles())
    world["lock_left"] = True


def test_07_the_left_lock_is_reported_cleared_and_the_environment_converges(world):
    run = world["run"]
    locked = run("apply", world["rollback"], "--at", IN_WINDOW)
    assert locked.returncode == 5, locked.stderr
    match = re.search(r"lock ID ([0-9a-f-]+)", locked.stderr)
    assert match and "kubeprod unlock" in locked.stderr and "force-unlock" in locked.stderr
    run("unlock", world["spec"], match.group(1), "--local", "--yes", check=True)
    again = run("apply", world["rollback"], "--at", IN_WINDOW)
    if again.returncode != 0:  # terraform had saved state before dying: plan anew
        assert "stale" in again.stderr, again.stderr
        run("rollback", world["spec"], "--to", "HEAD~1", "--local", "--approve-by", "bob",
            "--at", IN_WINDOW, check=True)  # fmt: skip
    assert workload_max(world) == 6
    entries = history(world)
    assert entries[-1]["result"] == "success" and entries[-1]["kind"] == "rollback"
    snapshots = [e["snapshot"]["local"] for e in entries]
    assert len(set(snapshots)) == len(snapshots)  # retries never overwrite a snapshot
    assert all(Path(p).exists() for p in snapshots)


def test_08_after_reverting_in_git_a_new_plan_shows_no_changes(world):
    git(world["repo"], "revert", "--no-edit", "HEAD")
    assert plan(world)["changes"] is False


def test_09_drift_is_detected_and_notified(world):
    clean = world["run"]("drift", world["spec"], "--local")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    client(world, "eks").update_nodegroup_config(
        clusterName="production",
        nodegroupName=ZONE_C_GROUP,
        scalingConfig={"minSize": 1, "maxSize": 9, "desiredSize": 1},
    )
    before = len(Receiver.received)
    drifted = world["run"]("drift", world["spec"], "--local")
    assert drifted.returncode == 1, drifted.stderr
    assert ZONE_C in drifted.stdout
    assert any("drift" in t for t in titles()[before:])
