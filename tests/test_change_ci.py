"""CHG-1: the CI files `kubeprod ci` writes parse, do the right jobs, and pass actionlint."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import EXAMPLE

from kubeprod.change import ci_templates
from kubeprod.cli import main

SPEC = "environments/production.yaml"


def actionlint() -> str | None:
    beside = Path(sys.executable).parent / "actionlint"
    return str(beside) if beside.exists() else shutil.which("actionlint")


def test_github_workflow_plans_on_prs_and_applies_only_from_main_in_a_window():
    flow = yaml.safe_load(ci_templates.github_workflow(SPEC, "production"))
    triggers = flow[True] if True in flow else flow["on"]  # YAML 1.1 reads `on` as true
    assert set(triggers) == {"pull_request", "push", "workflow_dispatch"}
    assert triggers["push"]["branches"] == ["main"]
    plan, apply = flow["jobs"]["plan"], flow["jobs"]["apply"]
    assert "pull_request" in plan["if"]
    assert "refs/heads/main" in apply["if"] and apply["environment"] == "production"
    runs = [s.get("run", "") for s in apply["steps"]]
    window = next(i for i, r in enumerate(runs) if "windows" in r and "--check" in r)
    applying = next(i for i, r in enumerate(runs) if "kubeprod apply" in r)
    assert window < applying
    plan_runs = " ".join(s.get("run", "") for s in plan["steps"])
    assert "review" in plan_runs and "--format md" in plan_runs and "gh pr comment" in plan_runs
    assert "kubeprod apply" not in plan_runs


@pytest.mark.skipif(actionlint() is None, reason="actionlint is not installed (dev extra)")
def test_github_workflow_passes_actionlint(tmp_path):
    path = tmp_path / ".github" / "workflows" / "kubeprod.yml"
    path.parent.mkdir(parents=True)
    path.write_text(ci_templates.github_workflow(SPEC, "production"))
    proc = subprocess.run(
        [str(actionlint()), "-no-color", str(path)], capture_output=True, text=True, cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_actionlint_catches_a_broken_workflow(tmp_path):
    if actionlint() is None:
        pytest.skip("actionlint is not installed (dev extra)")
    path = tmp_path / "bad.yml"
    path.write_text(
        ci_templates.github_workflow(SPEC, "production").replace("runs-on:", "runs_on:", 1)
    )
    proc = subprocess.run([str(actionlint()), "-no-color", str(path)], capture_output=True)
    assert proc.returncode != 0


def test_atlantis_config_uses_kubeprod_workflows():
    config = yaml.safe_load(ci_templates.atlantis_yaml(SPEC, "production"))
    assert config["version"] == 3
    (project,) = config["projects"]
    assert project["workflow"] == "kubeprod" and SPEC in project["autoplan"]["when_modified"]
    assert project["apply_requirements"] == ["approved", "mergeable"]
    steps = config["workflows"]["kubeprod"]
    plan_runs = " ".join(s["run"] for s in steps["plan"]["steps"])
    apply_runs = " ".join(s["run"] for s in steps["apply"]["steps"])
    assert "kubeprod --output json plan" in plan_runs and "kubeprod review" in plan_runs
    assert "windows" in apply_runs and "kubeprod apply" in apply_runs and "--reason" in apply_runs


def test_cli_writes_and_refuses_to_overwrite(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["ci", "github"]) == 2  # issue 11: a missing spec no longer writes silently
    assert "does not exist" in capsys.readouterr().err
    assert not (tmp_path / ".github").exists()
    (tmp_path / "environments").mkdir()
    shutil.copy(EXAMPLE, tmp_path / "environments" / "production.yaml")
    assert main(["ci", "github"]) == 0
    assert (tmp_path / ".github" / "workflows" / "kubeprod.yml").exists()
    assert main(["ci", "github"]) == 2
    assert "--force" in capsys.readouterr().err
    assert main(["ci", "atlantis", "--out", "atlantis.yaml"]) == 0
    assert yaml.safe_load((tmp_path / "atlantis.yaml").read_text())["version"] == 3
