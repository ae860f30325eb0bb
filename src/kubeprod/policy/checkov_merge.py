"""checkov alongside the gate: run it (its own process and venv) on the same target, merge.

Directories are scanned with `--framework terraform`, plans with `--framework
terraform_plan`; checkov-skips.yaml applies either way. checkov's failed checks
become findings with source "checkov"; they fail the gate like the rules do and
can be waived by check ID.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from kubeprod.policy.checkov import failed_checks, load_skips, run_checkov
from kubeprod.policy.engine import Report
from kubeprod.policy.rules.base import FAIL, Finding


def run_checkov_plan(plan_file: Path, cloud: str) -> list[dict[str, Any]]:
    """Failed checks of checkov on a plan JSON file."""
    return failed_checks(plan_file, "terraform_plan", load_skips(cloud))


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
