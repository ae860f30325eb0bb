"""Delivery of the baseline through the change process, up to the kubectl boundary.

There is no Kubernetes API server here: `kubectl` is a fake on KUBEPROD_KUBECTL that
records its arguments and the manifest set it was given, and exits as told. Everything
before it is the real path: render, offline checks, bundle, review diff, hash-bound
approval, window, staleness and provenance rules, change log, last-applied set.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import EXAMPLE

from kubeprod.change import approval, bundle, changelog, clock
from kubeprod.change import cluster as delivery
from kubeprod.change.refused import GateRefused
from kubeprod.cli import main
from kubeprod.errors import InputError, KubeprodError

IN_WINDOW = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)  # Tuesday, in the 02:00-06:00 window
OUT_OF_WINDOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)  # a Saturday
FAKE = """#!/bin/sh
# fake kubectl: records its arguments and the -k directory's files, exits as told
echo "$@" >> "$FAKE_KUBECTL_LOG"
for arg in "$@"; do last="$arg"; done
ls "$last" >> "$FAKE_KUBECTL_LOG"
echo "namespace/apps serverside-applied"
exit "${FAKE_KUBECTL_EXIT:-0}"
"""


@pytest.fixture
def wall(monkeypatch):
    """The system clock as the tests set it (a real cluster's apply has no --at)."""
    now = {"at": IN_WINDOW}
    monkeypatch.setattr(clock, "real", lambda: now["at"])
    return now


@pytest.fixture
def repo(tmp_path, monkeypatch, wall):
    monkeypatch.setenv("KUBEPROD_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("KUBEPROD_NOW", raising=False)
    root = tmp_path / "repo"
    root.mkdir()
    spec = root / "production.yaml"
    spec.write_text(EXAMPLE.read_text())
    for args in (
        ["init", "-q", "-b", "main"],
        ["config", "user.email", "t@example.com"],
        ["config", "user.name", "t"],
        ["add", "."],
        ["commit", "-qm", "spec"],
    ):
        subprocess.run(["git", *args], cwd=root, check=True)
    kubectl = tmp_path / "kubectl"
    kubectl.write_text(FAKE)
    kubectl.chmod(0o755)
    log = tmp_path / "kubectl.log"
    monkeypatch.setenv("KUBEPROD_KUBECTL", str(kubectl))
    monkeypatch.setenv("FAKE_KUBECTL_LOG", str(log))
    return {"root": root, "spec": str(spec), "log": log, "wall": wall}


def commit(repo, text: str) -> None:
    Path(repo["spec"]).write_text(text)
    subprocess.run(["git", "commit", "-qam", "change"], cwd=repo["root"], check=True)


def test_plan_bundles_the_checked_set_with_its_hash_and_diff(repo):
    result = delivery.plan(repo["spec"], "aws")
    found = bundle.load(result["bundle"])
    assert isinstance(found, delivery.ManifestBundle)
    text = (found.path / "manifests.yaml").read_text()
    assert found.plan_sha256 == hashlib.sha256(text.encode()).hexdigest()
    assert found.manifest["changes"] is True and found.manifest["base_sha256"] is None
    assert "+++ planned/network-policies.yaml" in found.manifest["diff"]
    assert set(found.manifest["files"]) == {
        "cluster-autoscaler.yaml",
        "kustomization.yaml",
        "namespaces.yaml",
        "network-policies.yaml",
        "storage-class.yaml",
    }
    assert found.manifest["checks"]["schemas"] == ["1.35", "1.36"]
    assert found.manifest["checks"]["gate"]["SEC-5"] == "pass"
    assert found.integrity_problems() == []


def test_apply_needs_approval_and_a_window_then_applies_server_side(repo, capsys):
    planned = delivery.plan(repo["spec"], "aws")["bundle"]
    with pytest.raises(GateRefused, match=r"CHG-2 approval"):
        delivery.apply(planned)
    assert not repo["log"].exists()  # kubectl never ran
    found = bundle.load(planned)
    approval.approve(found, "alice", plan_hash=found.plan_sha256[:12])
    repo["wall"]["at"] = OUT_OF_WINDOW
    with pytest.raises(GateRefused, match=r"CHG-3 window"):
        delivery.apply(planned)
    assert main(["cluster", "apply", planned, "--at", IN_WINDOW.isoformat()]) == 4  # real clock
    repo["wall"]["at"] = IN_WINDOW
    code = main(["cluster", "apply", planned, "--kubeconfig", "/k/config", "--by", "bob"])
    assert code == 0
    first, *listing = repo["log"].read_text().splitlines()
    ssa = "apply --server-side --field-manager=kubeprod"
    assert first == f"--kubeconfig /k/config {ssa} -k {planned}/manifests"
    assert "kustomization.yaml" in listing
    (entry,) = changelog.read("production")
    assert entry["result"] == "success" and entry["who"] == "bob"
    assert entry["plan_sha256"] == found.plan_sha256 and entry["target"] == "cluster-aws"
    applied = delivery.applied_dir("production", "aws")
    assert sorted(p.name for p in applied.iterdir()) == sorted(found.manifest["files"])


def test_the_next_plan_diffs_against_the_last_applied_set(repo):
    planned = delivery.plan(repo["spec"], "aws")["bundle"]
    approval.approve(bundle.load(planned), "alice")
    delivery.apply(planned)
    again = bundle.load(delivery.plan(repo["spec"], "aws")["bundle"])
    assert again.manifest["changes"] is False and again.manifest["diff"] == ""
    text = Path(repo["spec"]).read_text()
    commit(repo, text.replace("    - name: apps\n", "    - name: payments\n    - name: apps\n", 1))
    changed = bundle.load(delivery.plan(repo["spec"], "aws")["bundle"])
    added = [
        line
        for line in changed.manifest["diff"].splitlines()
        if line.startswith("+") and not line.startswith("+++")
    ]
    assert "+  name: payments" in added
    assert not any(
        line.startswith("-") and "name: apps" in line
        for line in changed.manifest["diff"].splitlines()
    )
    data = delivery.review(changed)
    markdown = delivery.review_markdown(data)
    assert changed.plan_sha256[:12] in markdown and "+  name: payments" in markdown
    assert again.plan_sha256[:12] in markdown  # the last applied set it diffs against


def test_review_command_shows_the_diff(repo, capsys):
    planned = delivery.plan(repo["spec"], "gcp")["bundle"]
    assert main(["review", planned]) == 0
    out = capsys.readouterr().out
    assert "Diff against the last applied set" in out and "+++ planned/namespaces.yaml" in out


def test_a_changed_bundle_is_not_applied(repo):
    planned = delivery.plan(repo["spec"], "aws")["bundle"]
    found = bundle.load(planned)
    approval.approve(found, "alice")
    target = found.path / "manifests" / "network-policies.yaml"
    target.write_text(target.read_text().replace("Egress", "Ingress"))
    with pytest.raises(GateRefused) as refused:
        delivery.apply(planned)
    assert "changed after the plan" in str(refused.value)
    assert not repo["log"].exists()


def test_a_bundle_made_before_another_apply_is_stale(repo):
    first = delivery.plan(repo["spec"], "aws")["bundle"]
    text = Path(repo["spec"]).read_text()
    commit(repo, text.replace("    - name: apps\n", "    - name: payments\n    - name: apps\n", 1))
    second = delivery.plan(repo["spec"], "aws")["bundle"]
    for ref in (first, second):
        approval.approve(bundle.load(ref), "alice")
    delivery.apply(second)
    with pytest.raises(GateRefused, match="another manifest set was applied"):
        delivery.apply(first)


def test_kubectl_failure_is_recorded_and_the_base_kept(repo, monkeypatch):
    planned = delivery.plan(repo["spec"], "aws")["bundle"]
    approval.approve(bundle.load(planned), "alice")
    monkeypatch.setenv("FAKE_KUBECTL_EXIT", "1")
    with pytest.raises(KubeprodError, match="kubectl apply failed"):
        delivery.apply(planned)
    (entry,) = changelog.read("production")
    assert entry["result"] == "failure"
    assert not delivery.applied_dir("production", "aws").exists()


def test_emergency_outside_the_window_needs_a_reason(repo):
    planned = delivery.plan(repo["spec"], "aws")["bundle"]
    approval.approve(bundle.load(planned), "alice")
    repo["wall"]["at"] = OUT_OF_WINDOW
    with pytest.raises(InputError, match="reason"):
        delivery.apply(planned, emergency=True)
    result = delivery.apply(planned, emergency=True, reason="incident 42")
    assert result["record"]["override"]["emergency"] == "incident 42"


def test_dirty_tree_is_refused_like_a_terraform_apply(repo):
    Path(repo["spec"]).write_text(Path(repo["spec"]).read_text() + "\n")
    planned = delivery.plan(repo["spec"], "aws")["bundle"]
    approval.approve(bundle.load(planned), "alice")
    with pytest.raises(GateRefused, match="CHG-1 provenance"):
        delivery.apply(planned)


def test_azure_subscription_comes_from_the_environment(repo, monkeypatch):
    monkeypatch.delenv("ARM_SUBSCRIPTION_ID", raising=False)
    assert main(["cluster", "plan", repo["spec"], "--cloud", "azure"]) == 2
    sub = "11111111-2222-3333-4444-555555555555"
    monkeypatch.setenv("ARM_SUBSCRIPTION_ID", sub)
    found = bundle.load(delivery.plan(repo["spec"], "azure")["bundle"])
    text = (found.path / "manifests" / "storage-class.yaml").read_text()
    assert f"/subscriptions/{sub}/resourceGroups/" in text and "${" not in text


def test_offline_checks_refuse_a_blocking_pdb(tmp_path):
    pdb = {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": "x", "namespace": "apps"},
        "spec": {"maxUnavailable": 0, "selector": {"matchLabels": {"a": "b"}}},
    }
    ns = {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": "apps",
            "labels": {"pod-security.kubernetes.io/enforce": "restricted"},
        },
    }
    (tmp_path / "x.yaml").write_text(json.dumps(pdb) + "\n---\n" + json.dumps(ns))
    with pytest.raises(delivery.ManifestsRefused) as refused:
        delivery._checks(tmp_path, "aws", "1.35")
    message = str(refused.value)
    assert "maxUnavailable 0 blocks every drain" in message
    assert "[SEC-5]" in message  # and no default deny


def test_terraform_apply_refuses_a_manifest_bundle(repo):
    planned = delivery.plan(repo["spec"], "aws")["bundle"]
    assert os.path.isdir(planned)
    assert main(["cluster", "apply", str(Path(planned).parent)]) == 2


def test_missing_kubectl_is_a_clear_error(repo, monkeypatch, capsys):
    planned = delivery.plan(repo["spec"], "aws")["bundle"]
    approval.approve(bundle.load(planned), "alice")
    monkeypatch.setenv("KUBEPROD_KUBECTL", "kubectl-that-is-not-installed")
    assert main(["cluster", "apply", planned]) == 1
    err = capsys.readouterr().err
    assert "is not installed" in err and "Traceback" not in err
    assert changelog.read("production") == []  # nothing was attempted


def test_review_json_binds_the_hash(repo, capsys):
    planned = delivery.plan(repo["spec"], "gcp")["bundle"]
    assert main(["--output", "json", "review", planned]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["kind"] == "cluster-manifests"
    assert data["manifests_sha256"] == bundle.load(planned).plan_sha256
    assert data["approve"].startswith(f"kubeprod approve {planned} --by NAME --plan-hash ")


def test_the_same_set_planned_twice_in_a_second_gets_two_bundles(repo, monkeypatch):
    monkeypatch.setenv("KUBEPROD_NOW", IN_WINDOW.isoformat())  # the bundle's time stamp
    first = delivery.plan(repo["spec"], "aws")["bundle"]
    second = delivery.plan(repo["spec"], "aws")["bundle"]  # same clock reading, same set
    assert first != second and second.endswith("-2")
    assert bundle.load(second).integrity_problems() == []
