"""The gate inside `render`, `plan` and `up`, and the `kubeprod check` command.

The CLI parser imports this module (`add_arguments`), so every heavy import happens
inside a function: `kubeprod --help` stays instant.
"""

from __future__ import annotations

import argparse
import re
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kubeprod.errors import KubeprodError

if TYPE_CHECKING:
    from kubeprod.policy.engine import Report
    from kubeprod.policy.rules import Options
    from kubeprod.spec.model import Environment

FORMATS = ("table", "json", "sarif", "junit", "markdown")


class PolicyViolation(KubeprodError):
    """The policy gate failed: exit 1 with the violations listed."""

    exit_code = 1

    def __init__(self, report: Report, stage: str):
        self.report = report
        lines = [f"{stage} stopped by the policy gate: {report.summary()}"]
        for f in report.blocking():
            lines.append(f"  [{f.rule_id}] {f.address}: {f.message}")
            if f.remediation:
                lines.append(f"      fix: {f.remediation}")
        lines.append(
            "Fix the spec (or add an approved, dated waiver to kubeprod-waivers.yaml); "
            "`kubeprod check` shows the full report"
        )
        super().__init__("\n".join(lines))


def enforce_directory(
    directory: Path, spec: str | None, stage: str = "render", *, env: Environment | None = None
) -> Report:
    """Static gate on a rendered directory; raise PolicyViolation when it fails.

    With the spec's `env`, the gate judges by the spec's own thresholds (Options.from_spec).
    """
    from kubeprod.policy import waivers
    from kubeprod.policy.engine import check_directory

    report = check_directory(directory, waivers=waivers.default_path(spec), options=_options(env))
    if not report.passed:
        raise PolicyViolation(report, stage)
    return report


def _options(env: Environment | None) -> Options | None:
    from kubeprod.policy.rules import Options

    return Options.from_spec(env) if env is not None else None


def enforce_plan(
    plan_json: dict[str, Any],
    workdir: Path,
    spec: str | None,
    stage: str = "plan",
    *,
    env: Environment | None = None,
) -> Report:
    """Gate on a plan before anything is applied; raise PolicyViolation when it fails.

    With the spec's `env`, the gate judges by the spec's own thresholds (Options.from_spec).
    """
    from kubeprod.policy import waivers
    from kubeprod.policy.engine import check_plan_json

    report = check_plan_json(
        plan_json,
        config_dir=workdir,
        waivers=waivers.default_path(spec),
        target=str(workdir / "kubeprod.tfplan"),
        options=_options(env),
    )
    if not report.passed:
        raise PolicyViolation(report, stage)
    return report


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("target", help="plan JSON, saved plan file, or rendered directory")
    p.add_argument("--cloud", choices=("aws", "azure", "gcp"), help="default: detected")
    p.add_argument("--format", choices=FORMATS, help="report format (default table)")
    p.add_argument("--out", help="write the report to this file; the verdict still prints")
    p.add_argument("--waivers", help="waiver file (default kubeprod-waivers.yaml in cwd)")
    p.add_argument("--with-checkov", action="store_true", help="run checkov too; merge findings")
    p.add_argument(
        "--spec", help="take the thresholds from this spec (the flags below override them)"
    )
    p.add_argument("--max-public-prefix", type=int, help="SEC-2 (default 24)")
    p.add_argument("--min-zones", type=int, help="CHR-3/5, NET-2..5 (default 3)")
    p.add_argument("--kubernetes-version", help="K8S-1 version (default kubeprod's N-1)")
    p.add_argument("--log-retention-days", type=int, help="K8S-7 log retention (default 365)")
    p.add_argument("--strict", action="store_true", help="unknown and not-judged fail too")


def run_check(args: argparse.Namespace) -> int:
    """`kubeprod check`: exit 0 when the gate passes, 1 on violations (2 on bad input)."""
    from kubeprod.errors import InputError
    from kubeprod.policy import waivers
    from kubeprod.policy.engine import check_target, load_target
    from kubeprod.policy.reports import render
    from kubeprod.policy.rules import Options

    if args.max_public_prefix is not None and not 0 <= args.max_public_prefix <= 32:
        raise InputError("--max-public-prefix must be 0-32")
    if args.min_zones is not None and not 1 <= args.min_zones <= 10:
        raise InputError(f"--min-zones {args.min_zones}: give a zone count from 1 to 10")
    if args.kubernetes_version is not None and not re.fullmatch(
        r"1\.\d{1,3}", args.kubernetes_version
    ):
        raise InputError(
            f"--kubernetes-version '{args.kubernetes_version}' is not a Kubernetes minor "
            "version. Fix: write it like 1.33"
        )
    flags = {
        "max_public_prefix": args.max_public_prefix,
        "min_zones": args.min_zones,
        "kubernetes_version": args.kubernetes_version,
        "log_retention_days": args.log_retention_days,
        "strict": args.strict,
    }
    if args.spec:
        from kubeprod.dr.history import drills
        from kubeprod.spec import load_spec

        env = load_spec(args.spec)
        # DR-3 / DR-5 judge the drill history here, never inside render/plan/up: an
        # overdue drill must not block a change (least of all a recovery)
        options = Options.from_spec(env, **flags, drills=drills(env.name))
    else:
        options = Options(**{k: v for k, v in flags.items() if v is not None})
    target = Path(args.target)
    waiver_path: Path | None = waivers.default_path(None)
    if args.waivers:
        waiver_path = Path(args.waivers)
        if not waiver_path.is_file():
            raise InputError(f"{waiver_path}: no such waiver file")
    report = check_target(target, cloud=args.cloud, options=options)
    if args.with_checkov:
        from kubeprod.policy.checkov_merge import merge_checkov

        kind, loaded = load_target(target)
        merge_checkov(report, target, kind, loaded)
    if waiver_path is not None:
        report.findings = waivers.apply(report.findings, waivers.load(waiver_path), date.today())
    fmt = args.format or ("json" if getattr(args, "output", "text") == "json" else "table")
    text = render(report, fmt)
    if args.out:
        Path(args.out).write_text(text + ("" if text.endswith("\n") else "\n"), encoding="utf-8")
        print(report.summary())
    else:
        print(text)
    return 0 if report.passed else 1
