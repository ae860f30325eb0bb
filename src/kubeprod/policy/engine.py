"""The policy gate: every rule over one model, waivers applied, one Report.

from kubeprod.policy.engine import check_plan_json, check_directory
report = check_plan_json(plan, cloud="aws", waivers=Path("kubeprod-waivers.yaml"))
report.passed, report.findings, report.as_dict()
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from kubeprod.errors import InputError
from kubeprod.policy import waivers as waiver_file
from kubeprod.policy.plan_model import Model, from_plan
from kubeprod.policy.rules import REGISTRY, Finding, Options
from kubeprod.policy.rules.base import FAIL, NOT_JUDGED, PASS, UNKNOWN_STATUS
from kubeprod.policy.static import from_directory
from kubeprod.terraform import plan_shape
from kubeprod.terraform.runner import Terraform, TerraformError

PREFIXES = {"aws": "aws", "azure": "azurerm", "gcp": "google"}


@dataclass
class Report:
    """The verdict: findings of every rule, and whether the gate passes."""

    findings: list[Finding]
    cloud: str
    target: str
    source: str  # plan | directory
    strict: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def blocking(self) -> list[Finding]:
        bad = {FAIL, UNKNOWN_STATUS, NOT_JUDGED} if self.strict else {FAIL}
        return [f for f in self.findings if f.status in bad and not f.waived]

    @property
    def passed(self) -> bool:
        return not self.blocking()

    def counts(self) -> dict[str, int]:
        counts = {PASS: 0, FAIL: 0, UNKNOWN_STATUS: 0, NOT_JUDGED: 0, "waived": 0}
        for f in self.findings:
            counts["waived" if f.waived else f.status] += 1
        return counts

    def rule_status(self) -> dict[str, str]:
        """Rule ID -> worst status (fail > unknown > not-judged > waived > pass)."""
        order = [FAIL, UNKNOWN_STATUS, NOT_JUDGED, "waived", PASS]
        worst: dict[str, str] = {}
        for f in self.findings:
            status = "waived" if f.waived else f.status
            if f.rule_id not in worst or order.index(status) < order.index(worst[f.rule_id]):
                worst[f.rule_id] = status
        return dict(sorted(worst.items()))

    def as_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "cloud": self.cloud,
            "target": self.target,
            "source": self.source,
            "strict": self.strict,
            "counts": self.counts(),
            "rules": self.rule_status(),
            "findings": [f.as_dict() for f in self.findings],
            **self.extra,
        }

    def summary(self) -> str:
        failed = sorted({f.rule_id for f in self.blocking()})
        c = self.counts()
        head = "policy gate passed" if self.passed else f"policy gate FAILED: {', '.join(failed)}"
        return (
            f"{head} ({c[PASS]} pass, {c[FAIL]} fail, {c['waived']} waived, "
            f"{c[UNKNOWN_STATUS]} unknown, {c[NOT_JUDGED]} not judged)"
        )


PROVISIONERS = {
    "ebs.csi.aws.com": "aws",
    "disk.csi.azure.com": "azure",
    "pd.csi.storage.gke.io": "gcp",
}


def detect_cloud(model: Model) -> str:
    if model.source == "manifests":
        for obj in model.manifests or []:
            if obj.get("kind") == "StorageClass" and obj.get("provisioner") in PROVISIONERS:
                return PROVISIONERS[obj["provisioner"]]
        raise InputError(
            f"{model.path}: these manifests do not say which cloud they are for (no "
            "StorageClass of a cloud's CSI driver). Fix: pass --cloud aws|azure|gcp"
        )
    counts = {cloud: 0 for cloud in PREFIXES}
    for r in model.resources:
        for cloud, prefix in PREFIXES.items():
            if r.type.startswith(prefix + "_"):
                counts[cloud] += 1
    best = max(counts, key=lambda c: counts[c])
    if counts[best] == 0:
        raise InputError(
            f"{model.path or 'the plan'}: no AWS, Azure or GCP resources to judge. Fix: pass "
            "a plan or directory of an EKS, AKS or GKE configuration, or --cloud"
        )
    return best


def evaluate(
    model: Model,
    *,
    cloud: str | None = None,
    waivers: Path | None = None,
    options: Options | None = None,
    today: date | None = None,
    target: str = "",
) -> Report:
    """Run every rule on the model; apply the waiver file when given."""
    options = options or Options()
    if cloud is not None and cloud not in PREFIXES:
        raise InputError(f"unknown cloud '{cloud}'. Fix: use aws, azure or gcp")
    cloud = cloud or detect_cloud(model)
    findings: list[Finding] = []
    backend_module = model.source != "manifests" and model.state_backend()
    for rule_id in sorted(REGISTRY, key=_rule_order):
        rule_class = REGISTRY[rule_id]
        if model.source == "manifests" and not getattr(rule_class, "reads_manifests", False):
            continue  # plain manifests: only the rules that read manifests judge them
        if backend_module and not rule_class.judges_state_backend:
            continue  # a state-backend module: only the rules of the state judge it
        findings.extend(rule_class().run(model, cloud, options))
    if waivers is not None:
        findings = waiver_file.apply(findings, waiver_file.load(waivers), today or date.today())
    return Report(findings, cloud, target or model.path, model.source, strict=options.strict)


def _rule_order(rule_id: str) -> tuple[int, int]:
    prefix, number = rule_id.split("-")
    return (["CHR", "NET", "K8S", "SEC", "DR"].index(prefix), int(number))


def check_plan_json(
    plan: dict[str, Any],
    *,
    cloud: str | None = None,
    waivers: Path | None = None,
    config_dir: Path | None = None,
    options: Options | None = None,
    today: date | None = None,
    target: str = "",
) -> Report:
    """Judge a plan (`terraform show -json`). `config_dir`: its .tf files, for prevent_destroy,
    file:line and the backend (without it those are reported as unknown)."""
    model = from_plan(plan, config_dir=config_dir, path=target, evaluate_directory=from_directory)
    return evaluate(
        model, cloud=cloud, waivers=waivers, options=options, today=today, target=target
    )


def check_directory(
    directory: Path,
    *,
    cloud: str | None = None,
    waivers: Path | None = None,
    options: Options | None = None,
    today: date | None = None,
) -> Report:
    """Judge a rendered configuration statically (see kubeprod.policy.static)."""
    model = from_directory(Path(directory))
    return evaluate(
        model, cloud=cloud, waivers=waivers, options=options, today=today, target=str(directory)
    )


def load_target(target: Path) -> tuple[str, Any]:
    """("directory", path) or ("plan", plan JSON dict) for a CLI target."""
    if target.is_dir():
        return "directory", target
    if not target.is_file():
        raise InputError(
            f"{target}: no such file or directory. Fix: pass a plan JSON, a saved plan "
            "or a directory"
        )
    head = target.read_bytes()[:4]
    if head.startswith(b"PK"):
        return "plan", show_saved_plan(target)
    try:
        plan = json.loads(target.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(
            f"{target}: neither JSON nor a saved terraform plan ({exc}). Fix: pass "
            "`terraform show -json PLAN > plan.json`, the plan file itself, or a directory"
        ) from None

    wrong = plan_shape.problems(plan)
    if wrong:
        raise InputError(
            f"{target}: not a terraform plan JSON kubeprod can judge: {'; '.join(wrong)}. Fix: "
            "pass `terraform show -json PLAN > plan.json` unedited"
        )
    return "plan", plan


def show_saved_plan(plan_file: Path) -> dict[str, Any]:
    """`terraform show -json` of a saved binary plan, run in the plan's directory."""
    try:
        proc = Terraform(plan_file.parent.resolve()).run("show", "-json", plan_file.name)
    except TerraformError as exc:
        raise InputError(
            f"{plan_file}: terraform cannot read this saved plan in its directory: {exc}. Fix: "
            "run `terraform init` there, or pass `terraform show -json` output"
        ) from None
    except subprocess.SubprocessError as exc:  # pragma: no cover - defensive
        raise InputError(f"{plan_file}: {exc}") from None
    return json.loads(proc.stdout)


def check_target(
    target: Path,
    *,
    cloud: str | None = None,
    waivers: Path | None = None,
    options: Options | None = None,
    today: date | None = None,
) -> Report:
    """The CLI's entry: a directory, a plan JSON file or a saved plan."""
    kind, loaded = load_target(target)
    if kind == "directory":
        return check_directory(loaded, cloud=cloud, waivers=waivers, options=options, today=today)
    config_dir = target.parent.resolve() if any(target.parent.glob("*.tf")) else None
    return check_plan_json(
        loaded,
        cloud=cloud,
        waivers=waivers,
        config_dir=config_dir,
        options=options,
        today=today,
        target=str(target),
    )
