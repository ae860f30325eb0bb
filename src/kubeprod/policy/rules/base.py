"""What a rule is: one requirement ID, judged per cloud, returning findings.

Like a checkov check, a rule is a small class; defining it (with `@rule`) registers
it. Each cloud method returns the findings for that cloud; `Ctx` helpers build them
with the rule's ID, title and severity filled in.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from kubeprod import thresholds as th
from kubeprod.dr.gate_options import dr_fields
from kubeprod.policy.plan_model import UNKNOWN, Model, Resource
from kubeprod.results import (  # re-exported: rules import them from here
    FAIL as FAIL,
)
from kubeprod.results import (
    NOT_JUDGED as NOT_JUDGED,
)
from kubeprod.results import (
    PASS as PASS,
)
from kubeprod.results import (
    SEVERITIES as SEVERITIES,
)
from kubeprod.results import (
    UNKNOWN_STATUS as UNKNOWN_STATUS,
)
from kubeprod.results import (
    Finding as Finding,
)

if TYPE_CHECKING:
    from kubeprod.spec.model import Environment


@dataclass
class Options:
    """Thresholds the rules use; defaults follow the brief (kubeprod.thresholds)."""

    max_public_prefix: int = th.MAX_PUBLIC_PREFIX  # SEC-2: no allow-listed range wider
    min_zones: int = th.MIN_ZONES  # CHR-3 / NET-5 / CHR-5
    system_min_nodes: int = th.SYSTEM_MIN_NODES  # K8S-2
    workload_min_nodes: int = th.WORKLOAD_MIN_NODES  # K8S-3
    workload_max_nodes: int = th.WORKLOAD_MAX_NODES  # K8S-3: the autoscaling ceiling
    kms_deletion_window_days: int = th.KMS_DELETION_WINDOW_DAYS  # CHR-1
    scale_down_min_minutes: int = th.SCALE_DOWN_MIN_MINUTES  # CHR-6: delays at least this
    scale_down_max_threshold: float = th.SCALE_DOWN_MAX_THRESHOLD  # CHR-6: threshold at most
    kubernetes_version: str | None = None  # K8S-1: None means kubeprod's N-1
    log_retention_days: int = th.LOG_RETENTION_DAYS  # K8S-7
    strict: bool = False  # unknown / not-judged findings fail the gate too
    # DR-3 / DR-5, from the spec and its drill history (None: not at hand -> "unknown")
    rpo_minutes: int | None = None  # region-loss RPO the backup schedule must meet
    completion_window_minutes: int = 120  # job allowance on AKS / GKE (no window setting)
    drill_interval_days: int | None = None
    dr_targets: dict[str, tuple[int, int]] | None = None  # scenario -> (RTO, RPO) minutes
    drills: list[dict[str, Any]] | None = None
    recovery_regions: dict[str, str | None] | None = None  # DR-4: cloud -> the spec's region
    now: datetime | None = None

    @classmethod
    def from_spec(cls, env: Environment, **overrides: Any) -> Options:
        """The thresholds a spec sets for itself, so the gate judges its render by the
        values `validate` accepted (CHR-6's floor is the profile's, see kubeprod.thresholds)."""
        groups = env.node_groups
        values: dict[str, Any] = {
            "max_public_prefix": env.api_endpoint.max_public_prefix,
            "system_min_nodes": groups.system.min_size,
            "workload_min_nodes": groups.workload.min_size,
            "workload_max_nodes": groups.workload.max_size,
            "kms_deletion_window_days": env.encryption.key_deletion_window_days,
            "kubernetes_version": env.kubernetes.version,
            "log_retention_days": env.logging.retention_days,
        }

        values.update(dr_fields(env))  # DR-3 / DR-5: targets and the drill history
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)


class Ctx:
    """Builds one rule's findings for one model."""

    def __init__(self, rule: Rule, model: Model, cloud: str, options: Options):
        self.rule, self.model, self.cloud, self.opt = rule, model, cloud, options
        self.findings: list[Finding] = []

    def _add(
        self,
        status: str,
        res: Resource | None,
        message: str,
        attribute: str,
        fix: str,
        at: tuple[str, str | None, int | None] | None = None,
    ) -> None:
        address = res.address if res else "(configuration)"
        file, line = (res.file, res.line) if res else (None, None)
        if at is not None:
            address, file, line = at
        remediation = ""
        if status != PASS:
            where = f"{address}: set {attribute}" if attribute else address
            remediation = f"{where}: {fix}" if fix else where
        self.findings.append(
            Finding(
                self.rule.id,
                self.rule.title,
                self.rule.severity,
                status,
                address,
                message,
                attribute,
                remediation,
                self.cloud,
                file,
                line,
            )
        )

    def ok(self, res: Resource | None, message: str, attribute: str = "", at: Any = None) -> None:
        self._add(PASS, res, message, attribute, "", at)

    def fail(
        self, res: Resource | None, message: str, attribute: str, fix: str, at: Any = None
    ) -> None:
        self._add(FAIL, res, message, attribute, fix, at)

    def unknown(
        self, res: Resource | None, message: str, attribute: str = "", at: Any = None
    ) -> None:
        self._add(UNKNOWN_STATUS, res, message, attribute, "judge it once the value is known", at)

    def not_judged(self, message: str, res: Resource | None = None) -> None:
        self._add(NOT_JUDGED, res, message, "", "judge it by hand or add the resources")

    def check(
        self,
        res: Resource,
        attribute: str,
        good: Callable[[Any], bool],
        want: str,
        *,
        missing_ok: bool = False,
    ) -> None:
        """Judge one attribute: pass, fail (naming `want`), or unknown until apply."""
        value = res.get(attribute)
        if value is UNKNOWN:
            self.unknown(res, f"{attribute} is known only after apply", attribute)
        elif value is None and missing_ok:
            self.ok(res, f"{attribute} is unset (the provider default meets the rule)", attribute)
        elif good(value):
            self.ok(res, f"{attribute} = {show(value)}", attribute)
        else:
            self.fail(res, f"{attribute} is {show(value)}", attribute, want)

    def need(self, resources: Sequence[object], what: str) -> bool:
        """Record a failure when a resource the rule needs is not in the configuration."""
        if not resources:
            self.fail(None, f"no {what} in the configuration", what, f"add {what}")
            return False
        return True


def show(value: Any) -> str:
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return str(value).lower()
    return repr(value) if isinstance(value, str) else str(value)


def blocks(value: Any) -> list[dict[str, Any]]:
    """A nested block as a list of dicts (plan JSON shape), whatever came in."""
    if isinstance(value, dict):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, dict)]
    return []


def cidrs(values: Iterable[Any]) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    out = []
    for v in values:
        try:
            out.append(ipaddress.ip_network(str(v), strict=False))
        except ValueError:
            continue
    return out


class Rule:
    """One requirement ID. Subclasses set the metadata and implement aws/azure/gcp."""

    id: ClassVar[str]
    title: ClassVar[str]
    brief: ClassVar[str]  # the line of the brief this rule enforces
    severity: ClassVar[str] = "high"
    judged: ClassVar[dict[str, str]]  # cloud -> how it is judged
    # judged on a state-backend module too (Model.state_backend); the others are not
    judges_state_backend: ClassVar[bool] = False

    def run(self, model: Model, cloud: str, options: Options) -> list[Finding]:
        ctx = Ctx(self, model, cloud, options)
        method = getattr(self, cloud, None)
        if method is None:
            ctx.not_judged(f"{self.id} has no judgement for {cloud}")
        else:
            method(ctx)
        if not ctx.findings:
            ctx.not_judged(f"nothing in the configuration for {self.id} to judge")
        return ctx.findings

    @classmethod
    def describe(cls) -> dict[str, Any]:
        return {
            "id": cls.id,
            "title": cls.title,
            "brief": cls.brief,
            "severity": cls.severity,
            "judged": dict(cls.judged),
        }


REGISTRY: dict[str, type[Rule]] = {}


def rule(cls: type[Rule]) -> type[Rule]:
    """Register a rule class (one per requirement ID)."""
    assert cls.id not in REGISTRY, f"two rules for {cls.id}"
    assert cls.severity in SEVERITIES
    assert set(cls.judged) == {"aws", "azure", "gcp"}, f"{cls.id}: say how each cloud is judged"
    REGISTRY[cls.id] = cls
    return cls
