"""Run checkov, the field's standard scanner, in its own process and environment.

checkov's `bc-python-hcl2` installs a module named `hcl2` that clashes with
`python-hcl2`, so it never shares our interpreter: we call its executable.
Skipped checks live in one checked-in file, `checkov-skips.yaml`, each with a
one-line justification.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from kubeprod.errors import KubeprodError

SKIPS_FILE = Path(__file__).resolve().parents[3] / "checkov-skips.yaml"


@dataclass(frozen=True)
class Finding:
    check_id: str
    name: str
    resource: str
    file: str
    line: int


def checkov_executable() -> str:
    """KUBEPROD_CHECKOV, the project's .venv-checkov, or checkov on PATH."""
    candidates = [
        os.environ.get("KUBEPROD_CHECKOV", ""),
        str(SKIPS_FILE.parent / ".venv-checkov" / "bin" / "checkov"),
        shutil.which("checkov") or "",
    ]
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return candidate
    raise KubeprodError(
        "checkov is not installed. Fix: run scripts/setup.sh (it makes .venv-checkov), "
        "or set KUBEPROD_CHECKOV to a checkov executable"
    )


def load_skips(cloud: str, path: Path = SKIPS_FILE) -> dict[str, str]:
    """Check ID -> justification, for one cloud."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    skips = {}
    for entry in data.get("skips", []):
        if entry.get("cloud") == cloud:
            if not str(entry.get("why", "")).strip():
                raise KubeprodError(f"{path}: {entry.get('id')} has no justification")
            skips[entry["id"]] = entry["why"]
    return skips


def checkov_command(target: Path, framework: str, skips: Iterable[str] = ()) -> list[str]:
    """checkov's command line, JSON output: a plan JSON file for `terraform_plan`, else a
    directory (without downloading external modules)."""
    is_plan = framework == "terraform_plan"
    cmd = [checkov_executable(), "-f" if is_plan else "-d", str(target), "--framework", framework]
    cmd += ["-o", "json", "--quiet", "--compact"]
    if not is_plan:
        cmd += ["--download-external-modules", "false"]
    if skips:
        cmd += ["--skip-check", ",".join(sorted(skips))]
    return cmd


def failed_checks(target: Path, framework: str, skips: Iterable[str]) -> list[dict[str, Any]]:
    """checkov's failed checks (its JSON objects) on `target`, `skips` skipped."""
    env = {**os.environ, "BC_SKIP_MAPPING": "TRUE", "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false"}
    cmd = checkov_command(target, framework, skips)
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if proc.returncode not in (0, 1):
        raise KubeprodError(f"checkov failed ({proc.returncode}): {proc.stderr.strip()[-2000:]}")
    out = proc.stdout.strip()
    reports = json.loads(out) if out else []
    if isinstance(reports, dict):
        reports = [reports]
    return [f for r in reports for f in r.get("results", {}).get("failed_checks", [])]


def run_checkov(directory: Path, cloud: str, framework: str = "terraform") -> list[Finding]:
    """Failed checks on `directory`, with the cloud's justified skips applied.

    framework "kubernetes" judges the baseline manifests; its skips are the
    entries of checkov-skips.yaml with `cloud: kubernetes`."""
    skips = load_skips("kubernetes" if framework == "kubernetes" else cloud)
    findings = [
        Finding(
            failed["check_id"],
            failed.get("check_name", ""),
            failed.get("resource", ""),
            failed.get("file_path", ""),
            (failed.get("file_line_range") or [0])[0],
        )
        for failed in failed_checks(directory, framework, skips)
    ]
    return sorted(findings, key=lambda f: (f.file, f.line, f.check_id))
