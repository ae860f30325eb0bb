"""Reports (SARIF against the 2.1.0 schema, JUnit, markdown, table, JSON), waivers and
the `kubeprod check` command with its exit codes, on rendered Azure/GCP directories."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path
from xml.etree import ElementTree as ET

import jsonschema
import pytest
from conftest import EXAMPLE, ROOT

from kubeprod.policy.engine import check_directory
from kubeprod.policy.reports import render

SCHEMA = ROOT / "tests" / "data" / "policy" / "sarif-2.1.0-subset.schema.json"
KUBEPROD = [sys.executable, "-m", "kubeprod"]


@pytest.fixture(scope="module")
def azure_dir(tmp_path_factory):
    from kubeprod.render import render_module
    from kubeprod.render.output import write_module
    from kubeprod.spec import load_spec

    directory = tmp_path_factory.mktemp("azure")
    write_module(
        render_module(load_spec(EXAMPLE), "azure", str(EXAMPLE), str(directory)), directory
    )
    return directory


@pytest.fixture
def broken(azure_dir, tmp_path):
    """Public endpoint open to the internet (K8S-5, SEC-2) and Spot pools (CHR-4)."""
    work = tmp_path / "azure"
    shutil.copytree(azure_dir, work)
    aks = work / "aks.tf"
    text = aks.read_text().replace('["203.0.113.0/24"]', '["0.0.0.0/0"]')
    aks.write_text(
        text.replace('priority              = "Regular"', 'priority              = "Spot"')
    )
    return work


def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*KUBEPROD, *args], capture_output=True, text=True, cwd=cwd, timeout=120)


def test_sarif_validates_and_points_at_file_and_line(broken):
    report = check_directory(broken)
    doc = json.loads(render(report, "sarif"))
    validator = jsonschema.Draft7Validator(
        json.loads(SCHEMA.read_text()), format_checker=jsonschema.FormatChecker()
    )
    assert not list(validator.iter_errors(doc))
    results = doc["runs"][0]["results"]
    k8s5 = next(r for r in results if r["ruleId"] == "K8S-5")
    location = k8s5["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"].endswith("aks.tf")
    line = location["region"]["startLine"]
    assert (
        (broken / "aks.tf")
        .read_text()
        .splitlines()[line - 1]
        .startswith('resource "azurerm_kubernetes_cluster" "this"')
    )
    assert k8s5["level"] == "error" and k8s5["kind"] == "fail"
    rules = doc["runs"][0]["tool"]["driver"]["rules"]
    assert rules[k8s5["ruleIndex"]]["id"] == "K8S-5"


def test_sarif_schema_rejects_a_broken_document():
    validator = jsonschema.Draft7Validator(json.loads(SCHEMA.read_text()))
    bad = {"version": "2.0.0", "runs": [{"tool": {"driver": {}}, "results": [{"level": "fatal"}]}]}
    assert len(list(validator.iter_errors(bad))) >= 3


def test_junit_parses_and_counts(broken):
    report = check_directory(broken)
    root = ET.fromstring(render(report, "junit"))
    suite = root.find("testsuite")
    assert suite is not None
    failures = suite.findall("testcase/failure")
    assert int(suite.get("failures")) == len(failures) == report.counts()["fail"] > 0
    assert int(suite.get("tests")) == len(report.findings)
    names = [c.get("name") for c in suite.findall("testcase") if c.find("failure") is not None]
    assert any(n.startswith("K8S-5 azurerm_kubernetes_cluster.this") for n in names)


def test_markdown_and_table_name_the_violations(broken):
    report = check_directory(broken)
    md = render(report, "markdown")
    assert md.startswith("### kubeprod policy gate: ❌ **failed**")
    assert "| CHR-4 | ❌ FAIL |" in md and "`azurerm_kubernetes_cluster.this`" in md
    table = render(report, "table")
    assert "FAIL" in table and "fix: azurerm_kubernetes_cluster.this: set" in table


def _waiver_file(
    path: Path, expires: str, rule: str = "K8S-5", resource: str = "azurerm_kubernetes_cluster.this"
) -> Path:
    path.write_text(
        "waivers:\n"
        f"  - rule: {rule}\n"
        f"    resource: {resource}\n"
        "    reason: office range during the VPN migration\n"
        "    approver: jane@example.com\n"
        f"    expires: {expires}\n"
    )
    return path


def test_waiver_marks_finding_waived_and_still_reports_it(broken, tmp_path):
    waivers = _waiver_file(tmp_path / "w.yaml", "2999-01-01")
    report = check_directory(broken, waivers=waivers)
    k8s5 = [f for f in report.findings if f.rule_id == "K8S-5" and f.status == "fail"]
    assert k8s5 and all(f.waived for f in k8s5)
    assert {f.rule_id for f in report.blocking()} == {"SEC-2", "CHR-4"}
    assert "🟡 waived" in render(report, "markdown")
    sarif = json.loads(render(report, "sarif"))
    waived = [r for r in sarif["runs"][0]["results"] if r["ruleId"] == "K8S-5"]
    assert waived[0]["suppressions"][0]["kind"] == "external"


def test_expired_waiver_is_a_violation(broken, tmp_path):
    waivers = _waiver_file(tmp_path / "w.yaml", "2020-01-01")
    report = check_directory(broken, waivers=waivers, today=date(2026, 1, 1))
    expired = [f for f in report.findings if f.rule_id == "WAIVER"]
    assert expired and expired[0].status == "fail" and expired[0].line == 2
    assert not any(f.waived for f in report.findings)


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("waivers:\n  - rule: K8S-5\n    resource: x\n", 2, "lacks reason, approver, expires"),
        (
            "waivers:\n  - rule: K8S-99\n    resource: x\n    reason: r\n    approver: a\n"
            "    expires: 2030-01-01\n",
            2,
            "unknown rule `K8S-99`",
        ),
        (
            "waivers:\n  - rule: K8S-5\n    resource: x\n    reason: r\n    approver: a\n"
            "    expires: someday\n",
            6,
            "not a date",
        ),
        ("waivers:\n  - rule: [\n", 3, "not valid YAML"),
        ("waivers:\n  - rule: K8S-5\n    owner: me\n", 3, "unknown field `owner`"),
    ],
)
def test_malformed_waivers_exit_2_with_file_and_line(azure_dir, tmp_path, text, line, words):
    path = tmp_path / "kubeprod-waivers.yaml"
    path.write_text(text)
    proc = run("check", str(azure_dir), "--waivers", str(path))
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert f"{path}:{line}:" in proc.stderr and words in proc.stderr
    assert "Traceback" not in proc.stderr


def test_cli_exit_codes_and_formats(azure_dir, broken, tmp_path):
    ok = run("check", str(azure_dir))
    assert ok.returncode == 0 and "policy gate passed" in ok.stdout
    bad = run("check", str(broken), "--format", "sarif", "--out", str(tmp_path / "r.sarif"))
    assert bad.returncode == 1 and "policy gate FAILED" in bad.stdout
    assert json.loads((tmp_path / "r.sarif").read_text())["version"] == "2.1.0"
    js = run("--output", "json", "check", str(broken))
    assert js.returncode == 1 and json.loads(js.stdout)["passed"] is False
    missing = run("check", str(tmp_path / "nope.json"))
    assert missing.returncode == 2 and "no such file" in missing.stderr
    junk = tmp_path / "junk.json"
    junk.write_text("{not json")
    assert run("check", str(junk)).returncode == 2
    junk.write_text('{"resources": []}')
    notplan = run("check", str(junk))
    assert notplan.returncode == 2 and "not a terraform plan JSON" in notplan.stderr


def test_default_waiver_file_in_cwd(broken, tmp_path):
    _waiver_file(tmp_path / "kubeprod-waivers.yaml", "2999-01-01", rule="SEC-2")
    proc = run("--output", "json", "check", str(broken), cwd=tmp_path)
    data = json.loads(proc.stdout)
    assert any(f["waived"] and f["rule_id"] == "SEC-2" for f in data["findings"])


def test_max_public_prefix_option(azure_dir, tmp_path):
    work = tmp_path / "azure"
    shutil.copytree(azure_dir, work)
    aks = work / "aks.tf"
    aks.write_text(aks.read_text().replace('["203.0.113.0/24"]', '["203.0.113.0/26"]'))
    assert run("check", str(work)).returncode == 0
    assert run("check", str(work), "--max-public-prefix", "28").returncode == 1


def test_render_runs_the_gate(tmp_path):
    out = tmp_path / "gcp"
    proc = run("render", str(EXAMPLE), "--cloud", "gcp", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    waivers = tmp_path / "kubeprod-waivers.yaml"
    spec = tmp_path / "production.yaml"
    shutil.copy(EXAMPLE, spec)
    _waiver_file(waivers, "2020-01-01")  # expired: the gate must stop render
    proc = run("render", str(spec), "--cloud", "azure", "--out", str(tmp_path / "az"))
    assert proc.returncode == 1
    assert "render stopped by the policy gate" in proc.stderr and "[WAIVER]" in proc.stderr


@pytest.mark.checkov
def test_checkov_alongside(azure_dir):
    proc = run("--output", "json", "check", str(azure_dir), "--with-checkov")
    data = json.loads(proc.stdout)
    assert "checkov" in data and data["checkov"]["failed"] == 0, data.get("checkov")
    assert proc.returncode == 0


@pytest.mark.checkov
def test_checkov_on_a_plan_file_names_its_failed_checks(tmp_path):
    """The plan path of --with-checkov (`-f plan.json --framework terraform_plan`)."""
    from kubeprod.policy.checkov_merge import run_checkov_plan

    values = {
        "name": "c",
        "role_arn": "arn:aws:iam::1:role/r",
        "vpc_config": [
            {"endpoint_public_access": True, "public_access_cidrs": ["0.0.0.0/0"],
             "endpoint_private_access": False, "subnet_ids": ["s-1", "s-2"]}
        ],
    }  # fmt: skip
    resource = {"address": "aws_eks_cluster.c", "mode": "managed", "type": "aws_eks_cluster",
                "name": "c", "provider_name": "registry.terraform.io/hashicorp/aws",
                "schema_version": 0, "values": values}  # fmt: skip
    plan = {
        "format_version": "1.2",
        "terraform_version": "1.11.0",
        "planned_values": {"root_module": {"resources": [resource]}},
        "resource_changes": [
            {**{k: resource[k] for k in ("address", "mode", "type", "name", "provider_name")},
             "change": {"actions": ["create"], "before": None, "after": values}}
        ],
    }  # fmt: skip
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan))
    found = {f["check_id"] for f in run_checkov_plan(path, "aws")}
    assert "CKV_AWS_38" in found  # EKS public endpoint open to 0.0.0.0/0
