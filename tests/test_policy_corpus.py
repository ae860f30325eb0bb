"""The policy gate on configurations kubeprod did not write (tests/data/corpus): its
verdicts match the hand-written expectations for at least 95% of (configuration, rule)
pairs in plan mode and 90% in directory mode, an expected "unknown" is never reported
as "pass", and nothing crashes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from kubeprod.policy.engine import check_directory, check_plan_json

CORPUS = Path(__file__).parent / "data" / "corpus"
TARGETS = {"plan": 0.95, "directory": 0.90}


def _cases() -> list[tuple[Path, str, dict[str, str]]]:
    out = []
    for expected_file in sorted(CORPUS.glob("*/expected.yaml")):
        data = yaml.safe_load(expected_file.read_text())
        for mode in data["modes"]:
            out.append((expected_file.parent, mode, data["verdicts"]))
    return out


def judge(directory: Path, mode: str) -> dict[str, str]:
    if mode == "plan":
        plan = json.loads((directory / "plan.json").read_text())
        report = check_plan_json(plan, config_dir=directory, target=str(directory / "plan.json"))
    else:
        report = check_directory(directory)
    return report.rule_status()


@pytest.fixture(scope="module")
def results() -> dict[str, list[tuple[str, str, str, str]]]:
    """mode -> [(configuration, rule, expected, got)] over every case."""
    out: dict[str, list[tuple[str, str, str, str]]] = {"plan": [], "directory": []}
    for directory, mode, expected in _cases():
        got = judge(directory, mode)
        for rule_id, want in expected.items():
            out[mode].append((directory.name, rule_id, want, got.get(rule_id, "missing")))
    return out


def _report(rows: list[tuple[str, str, str, str]]) -> str:
    wrong = [f"{c} {r}: expected {w}, got {g}" for c, r, w, g in rows if w != g]
    return "\n".join(wrong)


@pytest.mark.parametrize("mode", sorted(TARGETS))
def test_accuracy(results, mode):
    rows = results[mode]
    assert rows, f"no {mode} cases in the corpus"
    right = sum(1 for _, _, want, got in rows if want == got)
    accuracy = right / len(rows)
    print(f"{mode}: {right}/{len(rows)} = {accuracy:.1%}\n{_report(rows)}")
    assert accuracy >= TARGETS[mode], f"{mode} accuracy {accuracy:.1%}\n{_report(rows)}"


@pytest.mark.parametrize("mode", sorted(TARGETS))
def test_no_unknown_read_as_pass(results, mode):
    read_as_pass = [r for r in results[mode] if r[2] == "unknown" and r[3] == "pass"]
    assert not read_as_pass, read_as_pass


def test_every_rule_has_an_expectation():
    from kubeprod.policy.rules import REGISTRY

    for directory, _mode, expected in _cases():
        missing = sorted(set(REGISTRY) - set(expected))
        assert not missing, f"{directory.name}/expected.yaml lacks {missing}"


def _findings(name: str, mode: str):
    directory = CORPUS / name
    if mode == "plan":
        plan = json.loads((directory / "plan.json").read_text())
        return check_plan_json(plan, config_dir=directory).findings
    return check_directory(directory).findings


@pytest.mark.parametrize("mode", ["plan", "directory"])
def test_messages_say_why(mode):
    """The verdicts are right for the right reason (each message true)."""
    blueprint = _findings("aws-blueprint-single-nat", mode)
    net5 = [f for f in blueprint if f.rule_id == "NET-5" and f.status == "fail"]
    assert net5 and "data.aws_availability_zones" in net5[0].message
    k8s5 = next(f for f in blueprint if f.rule_id == "K8S-5")
    assert k8s5.status == "fail" and "0.0.0.0/0" in k8s5.message  # the EKS default
    chr4 = next(f for f in blueprint if f.rule_id == "CHR-4")
    assert chr4.status == "pass" and "ON_DEMAND" in chr4.message  # capacity_type unset
    net4 = next(f for f in blueprint if f.rule_id == "NET-4" and f.status == "fail")
    assert "only 1 NAT" in net4.message

    two = _findings("aws-two-clusters", mode)
    sizes = [f for f in two if f.rule_id == "K8S-3" and "workload m" in f.message]
    k8s3 = [f for f in sizes if f.status == "fail"]
    assert k8s3 and all("cluster prod-green" in f.message for f in k8s3)
    assert any(
        f.rule_id == "K8S-3" and f.status == "pass" and "cluster prod-blue" in f.message
        for f in two
    )

    auto = _findings("aws-auto-mode-self-managed", mode)
    sec4 = {f.message.split(" (")[0] for f in auto if f.rule_id == "SEC-4"}
    assert any("Auto Mode" in m for m in sec4) and any("instance_refresh" in m for m in sec4)
    assert not any("no aws_eks_node_group" in f.message for f in auto)
    net6 = next(f for f in auto if f.rule_id == "NET-6" and f.status == "fail")
    assert "59 usable" in net6.message


def test_directory_messages_for_dynamic_blocks():
    aks = _findings("azure-aks-module", "directory")
    assert not any("no System node pool" in f.message for f in aks)
    assert any(f.rule_id == "K8S-2" and f.status == "pass" for f in aks)
    gke = _findings("gcp-safer-cluster", "directory")
    assert not any("release_channel" in f.message and "unset" in f.message for f in gke)
    k8s5 = next(f for f in gke if f.rule_id == "K8S-5")
    assert k8s5.status == "fail" and "public endpoint is off" in k8s5.message


def test_gke_pod_range_too_small_fails_net6(tmp_path):
    """NET-6 on GKE: 33 nodes at peak (pools at max plus one surge node per zone) need a
    /24 pod block each; a /20 pods range holds 16."""
    import shutil

    work = tmp_path / "gke"
    shutil.copytree(CORPUS / "gcp-safer-cluster", work)
    main = work / "main.tf"
    main.write_text(main.read_text().replace('"10.24.0.0/14"', '"10.24.0.0/20"'))
    net6 = [f for f in check_directory(work).findings if f.rule_id == "NET-6"]
    failed = [f for f in net6 if f.status == "fail"]
    assert failed and "4096 usable addresses" in failed[0].message
    assert "8448" in failed[0].message and failed[0].address == "google_compute_subnetwork.nodes"
