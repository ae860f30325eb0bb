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


def _flow(cloud: str = "aws") -> dict:
    return yaml.safe_load(ci_templates.github_workflow(SPEC, "production", cloud=cloud))


def _runs(job: dict) -> list[str]:
    return [s.get("run", "") for s in job["steps"]]


def test_github_workflow_plans_on_prs_and_applies_only_from_main_in_a_window():
    flow = _flow()
    triggers = flow[True] if True in flow else flow["on"]  # YAML 1.1 reads `on` as true
    assert set(triggers) == {"pull_request", "push", "workflow_dispatch"}
    assert triggers["push"]["branches"] == ["main"]
    plan, apply = flow["jobs"]["plan"], flow["jobs"]["apply"]
    assert "pull_request" in plan["if"]
    assert "refs/heads/main" in flow["jobs"]["plan-main"]["if"]
    assert apply["environment"] == "production" and apply["needs"] == "plan-main"
    runs = _runs(apply)
    window = next(i for i, r in enumerate(runs) if "windows" in r and "--check" in r)
    applying = next(i for i, r in enumerate(runs) if "kubeprod apply" in r)
    assert window < applying
    plan_runs = " ".join(_runs(plan))
    assert "review" in plan_runs and "--format md" in plan_runs and "gh pr comment" in plan_runs
    assert "kubeprod apply" not in plan_runs


def test_chg2_github_applies_exactly_the_bundle_the_environment_reviewers_saw():
    """Issue 11 item 11: no re-plan between the reviewers' approval and the apply."""
    flow = _flow()
    main_plan, apply = flow["jobs"]["plan-main"], flow["jobs"]["apply"]
    uploads = [s for s in main_plan["steps"] if "upload-artifact" in s.get("uses", "")]
    assert uploads and uploads[0]["with"]["name"] == "kubeprod-bundle"
    assert "GITHUB_STEP_SUMMARY" in " ".join(_runs(main_plan))  # the review they approve
    assert apply["env"]["BUNDLE"] == "${{ needs.plan-main.outputs.bundle }}"
    steps = apply["steps"]
    download = next(i for i, s in enumerate(steps) if "download-artifact" in s.get("uses", ""))
    assert steps[download]["with"]["name"] == "kubeprod-bundle"
    applying = next(i for i, r in enumerate(_runs(apply)) if "kubeprod apply" in r)
    assert download < applying
    script = _runs(apply)[applying]
    assert 'kubeprod apply "$BUNDLE"' in script and '--plan-hash "$PLAN_SHA256"' in script
    assert "actions/runs/$GITHUB_RUN_ID/approvals" in script  # the real environment approver
    prepare = next(r for r in _runs(apply) if "kubeprod plan" in r)
    assert "not applied" in next(s["name"] for s in steps if s.get("run") == prepare)


def test_chg4_change_records_are_read_back_and_kept_beside_the_state():
    """Issue 11 item 12: every job reads the kept records; the apply job keeps them."""
    flow = _flow()
    for job in ("plan", "plan-main", "apply"):
        assert any("kubeprod records pull" in r for r in _runs(flow["jobs"][job])), job
    push = next(s for s in flow["jobs"]["apply"]["steps"] if "records push" in s.get("run", ""))
    assert push["if"] == "always()"


@pytest.mark.parametrize(
    ("cloud", "login", "keys"),
    [
        ("azure", "azure/login@v3", {"client-id", "tenant-id", "subscription-id"}),
        ("gcp", "google-github-actions/auth@v3", {"workload_identity_provider", "service_account"}),
    ],
)
def test_azure_and_gcp_workflows_log_in_by_oidc_and_apply_the_reviewed_plan(cloud, login, keys):
    """Issue 11 item 13: federated logins (no secrets), the saved plan carried and checked."""
    flow = _flow(cloud)
    for job in ("plan", "apply"):
        steps = flow["jobs"][job]["steps"]
        (step,) = [s for s in steps if s.get("uses", "").startswith(login.split("@")[0])]
        assert step["uses"] == login and set(step["with"]) == keys
        assert flow["jobs"][job]["permissions"]["id-token"] == "write"
    text = ci_templates.github_workflow(SPEC, "production", cloud=cloud)
    assert "secrets." not in text.replace("secrets.KUBEPROD_NOTIFY_URL", "")
    apply = " ".join(_runs(flow["jobs"]["apply"]))
    assert "sha256sum --check" in apply and "apply -input=false kubeprod.tfplan" in apply
    assert f"kubeprod check plan.json --cloud {cloud}" in " ".join(_runs(flow["jobs"]["plan"]))


def _kubeprod_lines(cloud: str) -> list[str]:
    """Every `kubeprod ...` command line in the GitHub and Atlantis files for `cloud`."""
    flow = _flow(cloud)
    runs = [r for job in flow["jobs"].values() for r in _runs(job)]
    atlantis = yaml.safe_load(ci_templates.atlantis_yaml(SPEC, "production", cloud))
    for stage in atlantis["workflows"][f"kubeprod-{cloud}"].values():
        runs += [s["run"] for s in stage["steps"]]
    text = "\n".join(runs).replace("\\\n", " ")
    return [line.strip() for line in text.splitlines() if line.strip().startswith("kubeprod ")]


def _without_substitutions(line: str) -> str:
    """Replace each balanced $( ... ) by X."""
    out, depth = [], 0
    i = 0
    while i < len(line):
        if line.startswith("$(", i):
            if depth == 0:
                out.append("X")
            depth += 1
            i += 2
            continue
        if depth:
            depth += {"(": 1, ")": -1}.get(line[i], 0)
        else:
            out.append(line[i])
        i += 1
    return "".join(out)


@pytest.mark.parametrize("cloud", ["aws", "azure", "gcp"])
def test_the_kubeprod_commands_the_workflows_call_parse(cloud, monkeypatch):
    """Every `kubeprod ...` line of a workflow is a command line kubeprod accepts."""
    import re
    import shlex

    from kubeprod.cli import build_parser

    lines = _kubeprod_lines(cloud)
    assert lines
    for line in lines:
        line = _without_substitutions(line)
        line = re.split(r"\s(?:>>?|\|)\s", line)[0]  # redirections and pipes
        words = ["X" if w.startswith("$") else w for w in shlex.split(line)[1:]]
        build_parser().parse_args(words)


@pytest.mark.skipif(actionlint() is None, reason="actionlint is not installed (dev extra)")
@pytest.mark.parametrize("cloud", ["aws", "azure", "gcp"])
def test_github_workflow_passes_actionlint(tmp_path, cloud):
    path = tmp_path / ".github" / "workflows" / "kubeprod.yml"
    path.parent.mkdir(parents=True)
    path.write_text(ci_templates.github_workflow(SPEC, "production", cloud=cloud))
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


@pytest.mark.parametrize("cloud", ["aws", "azure", "gcp"])
def test_atlantis_config_uses_kubeprod_workflows(cloud):
    config = yaml.safe_load(ci_templates.atlantis_yaml(SPEC, "production", cloud))
    assert config["version"] == 3
    (project,) = config["projects"]
    assert project["workflow"] == f"kubeprod-{cloud}"
    assert SPEC in project["autoplan"]["when_modified"]
    assert project["apply_requirements"] == ["approved", "mergeable"]
    steps = config["workflows"][f"kubeprod-{cloud}"]
    apply_runs = " ".join(s["run"] for s in steps["apply"]["steps"])
    assert "kubeprod windows" in apply_runs
    if cloud == "aws":
        plan_runs = " ".join(s["run"] for s in steps["plan"]["steps"])
        assert "kubeprod --output json plan" in plan_runs and "kubeprod review" in plan_runs
        assert "kubeprod apply" in apply_runs and "--reason" in apply_runs
        assert "pulls/$PULL_NUM/reviews" in apply_runs  # the PR's approver, not the applier


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
    assert main(["ci", "github", "--cloud", "gcp"]) == 0
    assert (tmp_path / ".github" / "workflows" / "kubeprod-gcp.yml").exists()
