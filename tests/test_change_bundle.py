"""CHG-2/CHG-4 offline: review of synthetic plans (risks by kind, rollback plan),
approvals bound to the plan hash, and the gate's offline rules."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import EXAMPLE

from kubeprod.change import apply, approval, bundle, changelog, review
from kubeprod.cli import main
from kubeprod.spec import load_spec

GUARDED_TF = """resource "aws_kms_key" "secrets" {
  description = "x"
  lifecycle {
    prevent_destroy = true
  }
}

resource "aws_eks_node_group" "workload" {
  cluster_name = "x"
}
"""


def rc(address: str, actions: list[str], before=None, after=None, **extra) -> dict:
    rtype, name = address.split(".")[:2]
    return {
        "address": address,
        "mode": "managed",
        "type": rtype,
        "name": name,
        "change": {"actions": actions, "before": before, "after": after, "after_unknown": {},
                   **extra},
    }  # fmt: skip


def make_bundle(tmp_path: Path, changes: list[dict], *, git=None, policy=None, name="b1"):
    """A bundle as `kubeprod plan` writes it, without terraform."""
    path = bundle.bundles_root("production") / name
    (path / "module").mkdir(parents=True)
    (path / "plan.tfplan").write_bytes(name.encode() * 10)
    (path / "plan.json").write_text(
        json.dumps({"format_version": "1.2", "resource_changes": changes})
    )
    shutil.copy(EXAMPLE, path / "spec.yaml")
    workdir = tmp_path / "work"
    workdir.mkdir(exist_ok=True)
    (workdir / "main.tf").write_text(GUARDED_TF)
    (path / "module" / "main.tf").write_text(GUARDED_TF)
    manifest = {
        "id": name,
        "kind": "change",
        "created_at": "2026-03-30T10:00:00+00:00",
        "environment": "production",
        "profile": "production",
        "cloud": "aws",
        "local": True,
        "target": "local",
        "spec_path": str(path / "spec.yaml"),
        "spec_sha256": bundle.sha256_file(path / "spec.yaml"),
        "workdir": str(workdir),
        "plan_sha256": bundle.sha256_file(path / "plan.tfplan"),
        "plan_json_sha256": bundle.sha256_file(path / "plan.json"),
        "module": bundle.module_hashes(workdir),
        "git": git or {"commit": "a" * 40, "branch": "main", "clean": True, "files": [
            {"path": "environments/production.yaml", "blob": "f" * 40, "head_blob": "f" * 40,
             "matches_head": True}]},
        "planner": ["pat", "pat@example.com"],
        "state": {"serial": 7, "lineage": "L", "bucket": "state-bucket", "key": "k"},
        "policy": policy or {"available": True, "passed": True, "report": {"rules": {}}},
        "changes": bool(changes),
        "counts": {"add": 0, "change": 1, "destroy": 0, "replace": 0},
    }  # fmt: skip
    (path / "manifest.json").write_text(json.dumps(manifest))
    return bundle.load(str(path))


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("KUBEPROD_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("KUBEPROD_NOW", raising=False)
    return tmp_path / "home"


SCALE = rc(
    "aws_eks_node_group.workload",
    ["update"],
    before={"scaling_config": [{"max_size": 20, "min_size": 3}], "tags_all": {"a": "1"}},
    after={"scaling_config": [{"max_size": 25, "min_size": 3}], "tags_all": {"a": "2"}},
)


def test_scaling_change_is_one_in_place_node_change_without_risk(tmp_path):
    data = review.review(make_bundle(tmp_path, [SCALE]))
    assert data["counts"] == {"create": 0, "update": 1, "replace": 0, "delete": 0}
    (item,) = data["changes"]["nodes"]
    assert item["attributes"] == [
        {"attribute": "scaling_config[0].max_size", "before": 20, "after": 25}
    ]
    assert data["risks"] == [] and data["rollback"]["irreversible"] == []
    assert data["rollback"]["revision"] == "a" * 40 + "~1"
    md = review.to_markdown(data)
    assert "| update | `aws_eks_node_group.workload` | `scaling_config[0].max_size` 20 → 25 |" in md
    assert "policy: passed" in md and "None found." in md


def test_cluster_replacement_is_risky_and_irreversible(tmp_path):
    cluster = rc(
        "aws_eks_cluster.this",
        ["delete", "create"],
        before={"name": "production", "version": "1.34"},
        after={"name": "production-2", "version": "1.34"},
        replace_paths=[["name"]],
    )
    data = review.review(make_bundle(tmp_path, [cluster]))
    assert data["counts"]["replace"] == 1
    (risk,) = data["risks"]
    assert "the cluster itself is replaced" in risk["why"]
    assert data["changes"]["cluster"][0]["replace_because"] == ["name"]
    assert "new cluster" in data["rollback"]["irreversible"][0]


def test_node_group_rolling_and_replacement_are_called_out(tmp_path):
    roll = rc(
        "aws_eks_node_group.system",
        ["update"],
        before={"launch_template": [{"version": "1"}]},
        after={"launch_template": [{"version": "2"}]},
    )
    replace = rc("aws_eks_node_group.workload", ["create", "delete"], before={"a": 1}, after={})
    whys = [r["why"] for r in review.review(make_bundle(tmp_path, [roll, replace]))["risks"]]
    assert any("rolls every node" in w for w in whys)
    assert any("is replaced" in w and "evicted" in w for w in whys)


def test_kms_deletion_under_prevent_destroy(tmp_path):
    key = rc("aws_kms_key.secrets", ["delete"], before={"key_id": "k"}, after=None)
    data = review.review(make_bundle(tmp_path, [key]))
    whys = " ".join(r["why"] for r in data["risks"])
    assert "prevent_destroy" in whys and "scheduled for deletion" in whys
    assert data["changes"]["security"][0]["action"] == "delete"


def test_wider_allow_list_is_risky_narrower_is_not(tmp_path):
    def cidrs(before, after):
        return rc(
            "aws_eks_cluster.this",
            ["update"],
            before={"vpc_config": [{"public_access_cidrs": before}]},
            after={"vpc_config": [{"public_access_cidrs": after}]},
        )

    wider = review.review(make_bundle(tmp_path, [cidrs(["203.0.113.0/24"], ["0.0.0.0/0"])]))
    assert any("allow-list gets wider: 0.0.0.0/0" in r["why"] for r in wider["risks"])
    narrower = review.review(
        make_bundle(tmp_path, [cidrs(["203.0.113.0/24"], ["203.0.113.0/28"])], name="b2")
    )
    assert narrower["risks"] == []


def test_encryption_and_logging_changes_are_risky(tmp_path):
    change = rc(
        "aws_eks_cluster.this",
        ["update"],
        before={"enabled_cluster_log_types": ["api", "audit"], "encryption_config": [{"k": 1}]},
        after={"enabled_cluster_log_types": ["api"], "encryption_config": []},
    )
    whys = " ".join(r["why"] for r in review.review(make_bundle(tmp_path, [change]))["risks"])
    assert "logging setting changes" in whys and "encryption setting changes" in whys


def test_rollback_revision_is_the_last_successful_apply(tmp_path):
    changelog.append("production", {"result": "success", "target": "local", "spec_revision": "r1"})
    changelog.append("production", {"result": "failure", "target": "local", "spec_revision": "r2"})
    data = review.review(make_bundle(tmp_path, [SCALE]))
    assert data["rollback"]["revision"] == "r1"
    assert "--to r1 --local" in data["rollback"]["command"]


def test_approval_counts_only_for_the_exact_plan_and_manifest(tmp_path):
    found = make_bundle(tmp_path, [SCALE])
    with pytest.raises(approval.NotApproved, match="not approved"):
        approval.require(found)
    approval.approve(found, "alice")
    assert [a["by"] for a in approval.require(found)] == ["alice"]
    manifest = json.loads((found.path / "manifest.json").read_text())
    manifest["counts"]["change"] = 0
    (found.path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(approval.NotApproved, match="no longer match"):
        approval.require(bundle.load(str(found.path)))


def test_a_changed_plan_file_voids_the_approval_and_cannot_be_approved(tmp_path):
    found = make_bundle(tmp_path, [SCALE])
    approval.approve(found, "alice")
    found.plan_file.write_bytes(b"another plan")
    assert approval.valid_approvals(found) == []
    with pytest.raises(approval.NotApproved, match=r"plan\.tfplan in the bundle changed"):
        approval.approve(found, "bob")


def test_approval_of_another_plan_does_not_count(tmp_path):
    first = make_bundle(tmp_path, [SCALE], name="first")
    second = make_bundle(tmp_path, [SCALE], name="second")
    approval.approve(first, "alice")
    with pytest.raises(approval.NotApproved, match="by alice for another plan"):
        approval.require(second)
    with pytest.raises(approval.NotApproved, match="an approval is for one plan only"):
        approval.approve(second, "alice", plan_hash=first.plan_sha256[:12])


IN_WINDOW = datetime(2026, 3, 31, 1, 30, tzinfo=UTC)


def offline_check(found, *, emergency=False, override=False, when=IN_WINDOW):
    env = load_spec(EXAMPLE)
    return apply.check(
        found, env.maintenance, when, emergency=emergency, override_provenance=override
    )[0]


def test_gate_passes_an_approved_fresh_bundle_in_the_window(tmp_path):
    found = make_bundle(tmp_path, [SCALE])
    approval.approve(found, "alice")
    assert offline_check(found) == []


def test_gate_reasons_each_name_their_rule(tmp_path):
    found = make_bundle(
        tmp_path,
        [SCALE],
        git={"commit": "b" * 40, "branch": "feature", "clean": False},
        policy={"available": True, "passed": False},
    )
    Path(found.manifest["workdir"], "main.tf").write_text("# edited\n")
    outside = datetime(2026, 3, 30, 12, tzinfo=UTC)
    reasons = "\n".join(offline_check(found, when=outside))
    for rule in ("[CHG-2 approval]", "[CHG-3 window]", "[stale plan]", "[policy gate]",
                 "[CHG-1 provenance]"):  # fmt: skip
        assert rule in reasons
    assert "main.tf changed since the plan" in reasons
    assert "dirty" in reasons and "branch feature" in reasons
    relaxed = "\n".join(offline_check(found, when=outside, emergency=True, override=True))
    assert "[CHG-3 window]" not in relaxed and "[CHG-1 provenance]" not in relaxed


def test_lock_info_is_read_from_terraforms_error():
    text = (
        "Error: Error acquiring the state lock\n\nLock Info:\n  ID:        4f1c-99\n"
        "  Path:      b/production/aws/terraform.tfstate\n  Operation: OperationTypeApply\n"
        "  Who:       root@ci\n  Version:   1.11.4\n  Created:   2026-03-31 01:30:00 UTC\n"
    )
    info = apply.lock_info(text)
    assert info and info["id"] == "4f1c-99" and info["who"] == "root@ci"
    assert apply.lock_info("some other failure") is None


def test_changelog_is_append_only_with_sequential_ids(home):
    first = changelog.append("production", {"result": "success"})
    second = changelog.append("production", {"result": "failure"})
    assert (first["id"], second["id"]) == ("c0001", "c0002")
    assert [e["id"] for e in changelog.read("production")] == ["c0001", "c0002"]
    with changelog.log_path("production").open("a") as handle:
        handle.write("{not json\n")
    with pytest.raises(Exception, match="append-only"):
        changelog.read("production")


def test_cli_review_and_approve_and_clean_errors(tmp_path, capsys):
    found = make_bundle(tmp_path, [SCALE])
    assert main(["review", str(found.path), "--format", "md"]) == 0
    assert "## kubeprod plan review: production" in capsys.readouterr().out
    assert main(["--output", "json", "approve", found.id, "--by", "carol"]) == 0
    assert json.loads(capsys.readouterr().out)["by"] == "carol"
    assert main(["review", str(tmp_path / "nope")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: no plan bundle at") and "Traceback" not in err
    assert main(["apply", found.id, "--emergency"]) == 2
    assert "--reason" in capsys.readouterr().err


class FakeReport:
    def __init__(self, passed: bool):
        self.passed = passed

    def as_dict(self):
        return {"passed": self.passed, "rules": {"CHR-1": "pass" if self.passed else "fail"}}


def test_policy_result_passes_the_module_dir_and_names_failed_rules(tmp_path, monkeypatch):
    seen = {}

    def check_plan_json(plan, *, cloud, config_dir, waivers, options):
        seen.update(cloud=cloud, config_dir=config_dir, options=options)
        return FakeReport(passed=False)

    monkeypatch.setattr(bundle, "check_plan_json", check_plan_json)
    result = bundle.policy_result({}, "aws", tmp_path, str(EXAMPLE))
    assert seen["cloud"] == "aws" and seen["config_dir"] == tmp_path
    assert seen["options"] is not None  # the spec's thresholds, as `kubeprod plan` enforces
    assert result["available"] and result["passed"] is False
    found = make_bundle(tmp_path, [SCALE], policy=result)
    approval.approve(found, "alice")
    assert any("rules CHR-1 fail" in r for r in offline_check(found))
    assert "policy: FAILED: CHR-1" in review.to_markdown(review.review(found))


def test_policy_gate_crashing_is_a_failed_verdict(monkeypatch):
    def crash(plan, **kwargs):
        raise KeyError("resource_changes")

    monkeypatch.setattr(bundle, "check_plan_json", crash)
    result = bundle.policy_result({}, "aws")
    assert result["passed"] is False and "KeyError" in result["error"]


def test_bundle_without_a_policy_verdict_is_refused(tmp_path):
    """A record from before the gate was always present (or one edited to drop the
    verdict) fails closed: apply refuses it, review says so."""
    found = make_bundle(
        tmp_path, [SCALE], policy={"available": False, "passed": None, "note": "not available"}
    )
    approval.approve(found, "alice")
    assert any("[policy gate]" in r and "no policy verdict" in r for r in offline_check(found))
    assert "policy: not available" in review.to_markdown(review.review(found))
