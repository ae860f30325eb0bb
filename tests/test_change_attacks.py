"""Issue 11, gate bypasses: each attack first reproduced, then refused (CHG-1..5).

Terraform and the target are fakes at the boundary (tests/gate_harness.py); the
gate logic, the change log and the approvals log are the real ones."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import EXAMPLE
from gate_harness import IN_WINDOW, build
from test_change_bundle import SCALE, rc

from kubeprod import workflow
from kubeprod.change import apply, approval, changelog, clock, gitinfo
from kubeprod.change import bundle as bundles
from kubeprod.cli import main
from kubeprod.errors import InputError


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("KUBEPROD_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("KUBEPROD_NOW", raising=False)
    for var in ("GITHUB_ACTOR", "GITHUB_TRIGGERING_ACTOR", "USER_NAME", "ATLANTIS_USER"):
        monkeypatch.delenv(var, raising=False)
    return tmp_path / "home"


# 1. the clock can be chosen --------------------------------------------------------


def test_chg3_simulated_time_is_refused_against_a_real_cloud(tmp_path, monkeypatch, capsys):
    world = build(tmp_path, monkeypatch, local=False)
    approval.approve(world.bundle, "alice")
    assert main(["apply", str(world.bundle.path), "--at", IN_WINDOW]) == 4
    assert "real clock" in capsys.readouterr().err
    monkeypatch.setenv("KUBEPROD_NOW", IN_WINDOW)
    assert main(["apply", str(world.bundle.path)]) == 4
    assert "KUBEPROD_NOW" in capsys.readouterr().err
    with pytest.raises(clock.SimulatedTimeRefused):
        approval.approve(world.bundle, "bob", at=IN_WINDOW)
    assert world.tf.applied == 0 and changelog.read("production") == []


def test_chg3_real_clock_judges_a_real_cloud_and_an_empty_at_is_refused(
    tmp_path, monkeypatch, capsys
):
    world = build(tmp_path, monkeypatch, local=False)
    approval.approve(world.bundle, "alice")
    real_now = clock.real()
    decision_now = apply.windows.decide(world.target.env.maintenance, real_now)
    code = main(["apply", str(world.bundle.path)])
    assert code == (0 if decision_now.allowed else 4)
    assert main(["apply", str(world.bundle.path), "--at", ""]) == 2
    assert "--at is empty" in capsys.readouterr().err


def test_chg3_local_simulated_time_is_recorded_beside_the_real_times(tmp_path, monkeypatch):
    world = build(tmp_path, monkeypatch, local=True)
    approval.approve(world.bundle, "alice", at=IN_WINDOW)
    before = clock.real()
    record = apply.apply_bundle(str(world.bundle.path), at=IN_WINDOW, quiet=True)["record"]
    assert record["simulated_at"] == "2026-03-31T01:30:00+00:00"
    started = datetime.fromisoformat(record["started_at"])
    finished = datetime.fromisoformat(record["finished_at"])
    assert before - timedelta(seconds=1) <= started <= finished <= clock.real()
    assert "(simulated 2026-03-31T01:30:00+00:00)" in changelog.describe([record])


# 2. provenance from a spec that is not the committed one ----------------------------


def _repo(tmp_path: Path) -> tuple[Path, Path]:
    repo = tmp_path / "repo"
    spec = repo / "environments" / "production.yaml"
    spec.parent.mkdir(parents=True)
    spec.write_text(EXAMPLE.read_text())

    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)

    git("init", "-q", "-b", "main")
    git("config", "user.email", "pat@example.com")
    git("config", "user.name", "pat")
    git("add", ".")
    git("commit", "-q", "-m", "spec")
    return repo, spec


def test_chg1_skip_worktree_spec_is_not_the_committed_one(tmp_path):
    repo, spec = _repo(tmp_path)
    subprocess.run(
        ["git", "update-index", "--skip-worktree", "environments/production.yaml"],
        cwd=repo,
        check=True,
    )
    spec.write_text(spec.read_text().replace("max_size: 20", "max_size: 99"))
    status = subprocess.run(
        ["git", "status", "--porcelain"], cwd=repo, capture_output=True, text=True
    )
    assert status.stdout == ""  # the attack: git status is blind to it
    found = gitinfo.provenance(spec)
    assert found["clean"] is True and found["branch"] == "main"
    (item,) = found["files"]
    assert item["matches_head"] is False and item["blob"] != item["head_blob"]
    fake = type("B", (), {"manifest": {"profile": "production", "git": found}})()
    (problem,) = apply.provenance_problems(fake)
    assert "is not the committed one" in problem


def test_chg1_gitignored_spec_never_committed_and_waiver_blob_recorded(tmp_path):
    repo, spec = _repo(tmp_path)
    (repo / ".gitignore").write_text("secret.yaml\nkubeprod-waivers.yaml\n")
    subprocess.run(["git", "add", ".gitignore"], cwd=repo, check=True)
    subprocess.run(["git", "commit", "-q", "-m", "ignore"], cwd=repo, check=True)
    hidden = spec.parent / "secret.yaml"
    hidden.write_text(spec.read_text())
    waivers = spec.parent / "kubeprod-waivers.yaml"
    waivers.write_text("waivers: []\n")
    found = gitinfo.provenance(hidden, [waivers])
    assert found["clean"] is True  # ignored files do not dirty the tree
    assert [f["head_blob"] for f in found["files"]] == [None, None]
    fake = type("B", (), {"manifest": {"profile": "production", "git": found}})()
    assert len(apply.provenance_problems(fake)) == 2
    committed = gitinfo.provenance(spec)
    assert (
        apply.provenance_problems(
            type("B", (), {"manifest": {"profile": "production", "git": committed}})()
        )
        == []
    )


# 3. plan and drift never change anything ------------------------------------------


def _target(tmp_path: Path):
    from types import SimpleNamespace

    from kubeprod.spec import load_spec

    return SimpleNamespace(
        env=load_spec(EXAMPLE),
        spec=str(EXAMPLE),
        local=False,
        endpoint=None,
        workdir=tmp_path / "infra" / "aws",
        bootstrap_dir=tmp_path / "infra" / "aws-bootstrap",
    )


def test_plan_reads_the_backend_and_never_applies_the_bootstrap_module(tmp_path, monkeypatch):
    target = _target(tmp_path)
    monkeypatch.setattr(workflow, "target_for", lambda *a: target)

    def forbidden(_target):
        raise AssertionError("plan applied the state-backend module")

    monkeypatch.setattr(workflow, "ensure_backend", forbidden)
    monkeypatch.setattr(workflow, "_discover_backend", lambda t: None)
    with pytest.raises(workflow.NoBackend, match="kubeprod bootstrap"):
        workflow.make_plan(str(EXAMPLE), "aws", local=False)
    target.bootstrap_dir.mkdir(parents=True)
    outputs = {"bucket": {"value": "b"}, "kms_key_arn": {"value": "arn:k"}}
    (target.bootstrap_dir / "terraform.tfstate").write_text(json.dumps({"outputs": outputs}))
    seen = {}

    def stop(t, outs):
        seen.update(outs)
        raise RuntimeError("stop here")

    monkeypatch.setattr(workflow, "prepare", stop)
    with pytest.raises(RuntimeError, match="stop here"):
        workflow.make_plan(str(EXAMPLE), "aws", local=False)
    assert seen == {"bucket": "b", "kms_key_arn": "arn:k"}


def test_a_change_to_an_existing_backend_needs_a_second_person(tmp_path, monkeypatch):
    from gate_harness import FakeTf

    target = _target(tmp_path)
    target.bootstrap_dir.mkdir(parents=True)
    (target.bootstrap_dir / "terraform.tfstate").write_text("{}")
    tf = FakeTf(target.bootstrap_dir, {})
    tf.init = lambda **kw: None
    tf.plan = lambda out: True
    tf.output_json = lambda: {"bucket": "b", "kms_key_arn": "k"}
    from kubeprod.change import bootstrapping

    monkeypatch.setattr(workflow, "bootstrap_tf", lambda t: tf)
    monkeypatch.setenv("GITHUB_ACTOR", "pat")
    with pytest.raises(apply.GateRefused, match="--approve-by NAME"):
        bootstrapping.recorded(target, None)
    with pytest.raises(apply.GateRefused):
        bootstrapping.recorded(target, "pat")
    assert tf.applied == 0
    bootstrapping.recorded(target, "bob")
    (entry,) = changelog.read("production")
    assert entry["kind"] == "backend change" and entry["approved_by"] == ["bob"]


# 4. up on production outside --local ---------------------------------------------


def test_up_refuses_a_production_spec_against_a_real_cloud(capsys):
    assert main(["up", str(EXAMPLE)]) == 4
    err = capsys.readouterr().err
    assert "kubeprod plan" in err and "kubeprod approve" in err and "--local" in err


# 5. approvals are authenticated ---------------------------------------------------


@pytest.mark.parametrize("bad", ["7", "", "zz" * 8, "abc"])
def test_chg2_plan_hash_must_be_twelve_hex_characters(tmp_path, monkeypatch, capsys, bad):
    world = build(tmp_path, monkeypatch)
    assert main(["approve", str(world.bundle.path), "--by", "alice", "--plan-hash", bad]) == 2
    assert "at least 12 hex" in capsys.readouterr().err


def test_chg2_hand_written_approval_absent_from_the_log_does_not_count(tmp_path, monkeypatch):
    world = build(tmp_path, monkeypatch)
    forged = {
        "by": "mallory",
        "at": "2026-03-31T01:00:00+00:00",
        "plan_sha256": world.bundle.plan_sha256,
        "manifest_sha256": world.bundle.manifest_sha256(),
        "bundle": world.bundle.id,
        "environment": "production",
    }
    (world.bundle.path / "approvals.json").write_text(json.dumps([forged]))
    with pytest.raises(approval.NotApproved, match="not in the approvals log"):
        approval.require(world.bundle)
    with pytest.raises(apply.GateRefused, match=r"\[CHG-2 approval\]"):
        apply.apply_bundle(str(world.bundle.path), at=IN_WINDOW, quiet=True)
    assert world.tf.applied == 0


@pytest.mark.parametrize("me", ["pat", "PAT@example.com", "github-environment:production:pat"])
def test_chg2_the_planner_cannot_approve_their_own_production_plan(tmp_path, monkeypatch, me):
    world = build(tmp_path, monkeypatch)
    with pytest.raises(approval.NotApproved, match="needs a second person"):
        approval.approve(world.bundle, me)


def test_chg2_single_operator_exception_is_named_in_the_spec(tmp_path, monkeypatch):
    world = build(tmp_path, monkeypatch)
    copy = world.bundle.path / "spec.yaml"
    copy.write_text(copy.read_text() + "\nchange_control:\n  single_operator: pat\n")
    manifest = {**world.bundle.manifest, "spec_sha256": bundles.sha256_file(copy)}
    (world.bundle.path / "manifest.json").write_text(json.dumps(manifest))
    found = bundles.load(str(world.bundle.path))
    assert approval.approve(found, "pat")["by"] == "pat"
    assert [a["by"] for a in approval.require(found)] == ["pat"]


def test_chg2_rollback_planner_is_the_operator(monkeypatch):
    import getpass

    monkeypatch.setenv("GITHUB_ACTOR", "ci-bot")
    found = bundles.planner_identities(str(EXAMPLE), "rollback")
    assert getpass.getuser() in found and "ci-bot" in found


def test_chg2_review_json_must_be_the_binary_plan(tmp_path, monkeypatch):
    world = build(tmp_path, monkeypatch)
    approval.approve(world.bundle, "alice")
    many = [rc(f"aws_kms_key.k{i}", ["create"], after={}) for i in range(47)]
    world.tf.shown = {"resource_changes": many}
    with pytest.raises(apply.GateRefused, match=r"CHG-2 reviewed plan.*1 change\(s\).*47"):
        apply.apply_bundle(str(world.bundle.path), at=IN_WINDOW, quiet=True)
    assert world.tf.applied == 0


def test_chg2_review_refuses_a_bundle_whose_json_is_not_its_plan(tmp_path, monkeypatch):
    from kubeprod.change import review
    from kubeprod.terraform import runner

    world = build(tmp_path, monkeypatch)
    (Path(world.bundle.manifest["workdir"]) / ".terraform").mkdir()
    monkeypatch.setattr(
        runner.Terraform, "show_json", lambda self, plan: {"resource_changes": [SCALE, SCALE]}
    )
    with pytest.raises(apply.GateRefused, match="cannot be reviewed"):
        review.verify_against_binary(world.bundle)
    monkeypatch.setattr(runner.Terraform, "show_json", lambda self, plan: world.bundle.plan_json())
    assert "matches" in review.verify_against_binary(world.bundle)


# 6. state restore is a gated change of its own ------------------------------------


def _snapshot(home: Path, workdir: Path, local: bool = True) -> Path:
    folder = home / "snapshots" / "production"
    folder.mkdir(parents=True)
    path = folder / "20260331T013000Z-abc.tfstate"
    path.write_text(json.dumps({"serial": 3, "lineage": "L", "resources": []}))
    sidecar = {
        "environment": "production",
        "spec": str(EXAMPLE),
        "workdir": str(workdir),
        "local_target": local,
        "resources": 0,
    }
    path.with_suffix(".json").write_text(json.dumps(sidecar))
    return path


def test_chg4_state_restore_goes_through_the_gate_logs_and_notifies(
    tmp_path, monkeypatch, home, capsys
):
    world = build(tmp_path, monkeypatch)
    snap = _snapshot(home, world.tf.workdir)
    assert main(["state", "restore", str(snap), "--yes", "--at", IN_WINDOW]) == 4
    assert "second person" in capsys.readouterr().err
    outside = "2026-03-30T12:00:00Z"
    args = ["state", "restore", str(snap), "--yes", "--approve-by", "bob"]
    assert main([*args, "--at", outside]) == 4
    assert "[CHG-3 window]" in capsys.readouterr().err
    assert world.tf.state["serial"] == 7
    assert main(["--output", "json", *args, "--at", IN_WINDOW]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["serial"] == world.tf.state["serial"] == 8  # what the backend holds
    (entry,) = changelog.read("production")
    assert entry["kind"] == "restore" and entry["result"] == "success"
    assert entry["approved_by"] == ["bob"] and entry["simulated_at"]
    assert [n[0] for n in world.notices] == ["start", "success"]


# 7. a window cannot be made permanently open -------------------------------------


def _spec_with(tmp_path: Path, old: str, new: str) -> Path:
    text = EXAMPLE.read_text()
    assert old in text
    path = tmp_path / "production.yaml"
    path.write_text(text.replace(old, new))
    return path


@pytest.mark.parametrize(
    ("duration", "message"),
    [("1000000h", "longer than 24h"), ("0m", "never opens"), ("0h", "never opens")],
)
def test_chg3_window_length_is_bounded(tmp_path, capsys, duration, message):
    spec = _spec_with(tmp_path, "duration: 4h", f"duration: {duration}")
    assert main(["validate", str(spec)]) == 2
    err = capsys.readouterr().err
    line = EXAMPLE.read_text().splitlines().index("      duration: 4h") + 1
    assert message in err and f"{spec.name}:{line}" in err and "Traceback" not in err


def test_chg3_windows_per_week_and_open_hours_are_bounded(tmp_path, capsys):
    spec = _spec_with(
        tmp_path, "days: [tue, wed, thu]", "days: [mon, tue, wed, thu, fri, sat, sun]"
    )
    spec.write_text(spec.read_text().replace("duration: 4h", "duration: 12h"))
    assert main(["validate", str(spec)]) == 2
    assert "84h a week" in capsys.readouterr().err
    from kubeprod.spec.profile import MAX_WINDOWS_PER_WEEK

    assert MAX_WINDOWS_PER_WEEK == 7


def test_clock_parse_refuses_out_of_range_instants():
    for text in ("9999-12-31T23:59:59", "0001-01-01", "  "):
        with pytest.raises(InputError):
            clock.parse_instant(text)
    assert clock.parse_instant("2026-03-31T01:30:00Z") == datetime(2026, 3, 31, 1, 30, tzinfo=UTC)


def test_a_manifest_edited_to_another_profile_is_refused(tmp_path, monkeypatch):
    """Beyond the list: `profile: staging` in the manifest would skip provenance and the
    second-person rule; the spec decides the profile."""
    world = build(tmp_path, monkeypatch, profile="staging")
    approval.approve(world.bundle, "pat")  # the planner: allowed only for non-production
    with pytest.raises(apply.GateRefused, match="manifest was edited"):
        apply.apply_bundle(str(world.bundle.path), at=IN_WINDOW, quiet=True)
    assert world.tf.applied == 0
