"""The gate on the in-cluster baseline: SEC-5, SEC-6 and (EKS) CHR-6 read the manifests.

One mutation per rule and cloud puts a mistake back into a real render and sees the
rule fail; without manifests the manifest parts say "not judged: no manifests".
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from kubeprod.cli import main
from kubeprod.policy.engine import check_directory

CLOUDS = ("aws", "azure", "gcp")


@pytest.fixture(scope="module")
def renders(baseline_renders) -> dict[str, Path]:
    return baseline_renders


@pytest.fixture
def copy_of(renders, tmp_path):
    def make(cloud: str) -> Path:
        target = tmp_path / cloud
        shutil.copytree(renders[cloud], target)
        return target

    return make


def statuses(report, rule_id: str) -> list:
    return [f for f in report.findings if f.rule_id == rule_id]


def rewrite(path: Path, change) -> None:
    docs = [d for d in yaml.safe_load_all(path.read_text()) if d is not None]
    docs = [d for d in (change(doc) for doc in docs) if d is not None]
    path.write_text(yaml.safe_dump_all(docs, sort_keys=False))


@pytest.mark.parametrize("cloud", CLOUDS)
def test_rules_pass_on_the_render(renders, cloud):
    report = check_directory(renders[cloud])
    rules = report.rule_status()
    assert rules["SEC-5"] == rules["SEC-6"] == rules["CHR-6"] == "pass"
    sec5 = {f.message for f in statuses(report, "SEC-5")}
    assert "namespace apps: default deny ingress and egress" in sec5


@pytest.mark.parametrize("cloud", CLOUDS)
def test_sec5_fails_without_the_default_deny(copy_of, cloud):
    directory = copy_of(cloud)

    def drop_deny(doc):
        return None if doc["metadata"]["name"] == "default-deny-all" else doc

    rewrite(directory / "kubernetes" / "network-policies.yaml", drop_deny)
    report = check_directory(directory)
    assert report.rule_status()["SEC-5"] == "fail"
    (failed,) = [f for f in statuses(report, "SEC-5") if f.status == "fail"]
    assert "apps has no default-deny for Ingress and Egress" in failed.message


@pytest.mark.parametrize("cloud", CLOUDS)
def test_sec6_fails_without_the_namespace_label(copy_of, cloud):
    directory = copy_of(cloud)

    def unlabel(doc):
        if doc["metadata"]["name"] == "apps":
            del doc["metadata"]["labels"]["pod-security.kubernetes.io/enforce"]
        return doc

    rewrite(directory / "kubernetes" / "namespaces.yaml", unlabel)
    report = check_directory(directory)
    assert report.rule_status()["SEC-6"] == "fail"
    assert any("enforce is unset" in f.message for f in statuses(report, "SEC-6"))


@pytest.mark.parametrize("cloud", CLOUDS)
def test_sec6_fails_on_a_pod_restricted_would_reject(copy_of, cloud):
    directory = copy_of(cloud)
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "root", "namespace": "apps"},
        "spec": {"containers": [{"name": "c", "image": "x"}]},
    }
    (directory / "kubernetes" / "extra.yaml").write_text(yaml.safe_dump(pod))
    report = check_directory(directory)
    assert report.rule_status()["SEC-6"] == "fail"
    assert any("Pod/apps/root" in f.address for f in statuses(report, "SEC-6"))


@pytest.mark.parametrize(
    "old,new,says",
    [
        ("--scale-down-unneeded-time=30m", "--scale-down-unneeded-time=1m", "unneeded-time"),
        (
            "--scale-down-utilization-threshold=0.4",
            "--scale-down-utilization-threshold=0.9",
            "threshold",
        ),
        ("--balance-similar-node-groups=true", "--balance-similar-node-groups=false", "balance"),
    ],
)
def test_chr6_judges_the_eks_autoscaler_flags(copy_of, old, new, says):
    directory = copy_of("aws")
    path = directory / "kubernetes" / "cluster-autoscaler.yaml"
    path.write_text(path.read_text().replace(old, new))
    report = check_directory(directory)
    assert report.rule_status()["CHR-6"] == "fail"
    failed = [f for f in statuses(report, "CHR-6") if f.status == "fail"]
    assert any(says in f.message for f in failed)
    assert failed[0].address == "Deployment/kube-system/cluster-autoscaler"


@pytest.mark.parametrize("cloud", CLOUDS)
def test_without_manifests_the_manifest_parts_are_not_judged(copy_of, cloud):
    directory = copy_of(cloud)
    shutil.rmtree(directory / "kubernetes")
    report = check_directory(directory)
    assert report.passed  # not judged is not a failure (unless --strict)
    for rule_id in ("SEC-5", "SEC-6"):
        notes = [f for f in statuses(report, rule_id) if f.status == "not-judged"]
        assert notes and "no manifests" in notes[0].message
    assert report.rule_status()["SEC-6"] == "not-judged"


@pytest.mark.parametrize("cloud", CLOUDS)
def test_check_on_a_directory_of_plain_manifests(renders, cloud, tmp_path, capsys):
    manifests = tmp_path / "manifests"
    shutil.copytree(renders[cloud] / "kubernetes", manifests)
    assert main(["--output", "json", "check", str(manifests)]) == 0
    import json

    out = json.loads(capsys.readouterr().out)
    assert out["cloud"] == cloud and out["source"] == "manifests"
    assert set(out["rules"]) == {"SEC-5", "SEC-6", "CHR-6"}
    (manifests / "network-policies.yaml").unlink()
    assert main(["check", str(manifests)]) == 1


def test_plain_manifests_without_a_cloud_need_cloud(tmp_path, capsys):
    ns = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "apps"}}
    (tmp_path / "ns.yaml").write_text(yaml.safe_dump(ns))
    assert main(["check", str(tmp_path)]) == 2
    assert "--cloud" in capsys.readouterr().err
    assert main(["check", str(tmp_path), "--cloud", "gcp"]) == 1  # no label, no deny
