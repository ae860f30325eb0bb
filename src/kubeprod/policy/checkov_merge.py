"""checkov alongside the gate: run it (its own process and venv) on the same target, merge.

Directories are scanned with `--framework terraform`, plans with `--framework
terraform_plan`; checkov-skips.yaml applies either way. checkov's failed checks
become findings with source "checkov"; they fail the gate like the rules do and
can be waived by check ID.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from kubeprod.errors import KubeprodError
from kubeprod.policy.checkov import checkov_executable, load_skips, run_checkov
from kubeprod.policy.engine import Report
from kubeprod.policy.rules.base import FAIL, Finding


def run_checkov_plan(plan_file: Path, cloud: str) -> list[dict[str, Any]]:
    """Failed checks of checkov on a plan JSON file."""
    skips = load_skips(cloud)
    cmd = [checkov_executable(), "-f", str(plan_file), "--framework", "terraform_plan"]
    cmd += ["-o", "json", "--quiet", "--compact"]
    if skips:
        cmd += ["--skip-check", ",".join(sorted(skips))]
    env = {**os.environ, "BC_SKIP_MAPPING": "TRUE", "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false"}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if proc.returncode not in (0, 1):
        raise KubeprodError(f"checkov failed ({proc.returncode}): {proc.stderr.strip()[-2000:]}")
    out = proc.stdout.strip()
    reports = json.loads(out) if out else []
    if isinstance(reports, dict):
        reports = [reports]
    return [f for r in reports for f in r.get("results", {}).get("failed_checks", [])]


def merge_checkov(report: Report, target: Path, kind: str, loaded: Any) -> None:
    """Run checkov on the target and add its failed checks to the report."""
    findings: list[Finding] = []
    if kind == "directory":
        for f in run_checkov(Path(loaded), report.cloud):
            path = Path(loaded) / f.file.lstrip("/") if f.file else None
            findings.append(
                _finding(
                    f.check_id,
                    f.name,
                    f.resource,
                    str(path) if path else None,
                    f.line,
                    report.cloud,
                )
            )
    else:
        plan_file = target
        if target.read_bytes()[:2] == b"PK":
            plan_file = write_plan_json(loaded)
        for raw in run_checkov_plan(plan_file, report.cloud):
            line = (raw.get("file_line_range") or [0])[0]
            findings.append(
                _finding(
                    raw["check_id"],
                    raw.get("check_name", ""),
                    raw.get("resource", ""),
                    str(target),
                    line or None,
                    report.cloud,
                )
            )
    report.findings.extend(findings)
    report.extra["checkov"] = {"failed": len(findings)}


def _finding(
    check_id: str, name: str, resource: str, file: str | None, line: int | None, cloud: str
) -> Finding:
    return Finding(
        check_id,
        name,
        "medium",
        FAIL,
        resource,
        f"checkov {check_id}: {name}",
        "",
        f"{resource}: see https://www.checkov.io for {check_id}, or justify a skip in "
        "checkov-skips.yaml",
        cloud,
        file,
        line,
        source="checkov",
    )


def write_plan_json(plan: dict[str, Any]) -> Path:
    """A saved plan's JSON in a temporary file, for checkov."""
    fd, name = tempfile.mkstemp(suffix=".json", prefix="kubeprod-plan-")
    with open(fd, "w", encoding="utf-8") as handle:
        json.dump(plan, handle)
    return Path(name)
