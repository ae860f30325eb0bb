"""The result type every rule returns: the production profile's checks on a spec and the
policy gate's rules on a plan or a configuration judge alike, so both report a Finding
(the profile's carry `loc`, the path of the spec field, which the loader turns into
file:line)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

PASS, FAIL, UNKNOWN_STATUS, NOT_JUDGED = "pass", "fail", "unknown", "not-judged"
SEVERITIES = ("critical", "high", "medium", "low")


@dataclass
class Finding:
    """The verdict of one rule on one resource (or on the configuration as a whole)."""

    rule_id: str
    title: str
    severity: str
    status: str  # pass | fail | unknown | not-judged
    address: str
    message: str
    attribute: str = ""
    remediation: str = ""
    cloud: str = ""
    file: str | None = None
    line: int | None = None
    source: str = "kubeprod"  # or "checkov"
    waiver: dict[str, Any] | None = None
    loc: tuple[str | int, ...] = ()  # profile findings: the path of the spec field

    @property
    def waived(self) -> bool:
        return self.waiver is not None

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule_id": self.rule_id,
            "title": self.title,
            "severity": self.severity,
            "status": self.status,
            "waived": self.waived,
            "waiver": self.waiver,
            "address": self.address,
            "attribute": self.attribute,
            "message": self.message,
            "remediation": self.remediation,
            "cloud": self.cloud,
            "file": self.file,
            "line": self.line,
            "source": self.source,
        }
