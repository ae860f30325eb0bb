"""Waivers: a checked-in YAML file of accepted exceptions, each with an owner and an end.

```yaml
waivers:
  - rule: SEC-2
    resource: aws_eks_cluster.this        # exact address, or a glob: module.eks.*
    reason: office range until the VPN lands
    approver: jane@example.com
    expires: 2026-12-31
```

A malformed file is bad input (exit 2, file:line). An expired waiver is a failed
finding of its own (rule WAIVER) and does not waive anything.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from kubeprod.errors import InputError
from kubeprod.policy.rules import REGISTRY
from kubeprod.policy.rules.base import FAIL, Finding

DEFAULT_NAME = "kubeprod-waivers.yaml"
FIELDS = ("rule", "resource", "reason", "approver", "expires")


@dataclass(frozen=True)
class Waiver:
    rule: str
    resource: str
    reason: str
    approver: str
    expires: date
    file: str
    line: int

    def matches(self, finding: Finding) -> bool:
        return finding.rule_id == self.rule and (
            finding.address == self.resource or fnmatch.fnmatchcase(finding.address, self.resource)
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "resource": self.resource,
            "reason": self.reason,
            "approver": self.approver,
            "expires": self.expires.isoformat(),
            "file": self.file,
            "line": self.line,
        }


def _bad(path: Path, line: int, message: str) -> InputError:
    return InputError(f"{path}:{line}: {message}")


def load(path: Path) -> list[Waiver]:
    """Parse and validate the waiver file; any problem is an InputError naming file:line."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{path}: cannot read the waiver file: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise InputError(
            f"{path}: the waiver file is not UTF-8 text. Fix: save it as UTF-8"
        ) from None
    try:
        root = yaml.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else 1
        raise _bad(path, line, f"not valid YAML: {getattr(exc, 'problem', exc)}") from None
    if root is None:
        return []
    if not isinstance(root, yaml.MappingNode):
        raise _bad(path, 1, "expected a mapping with a `waivers:` list")
    entries = next((v for k, v in root.value if k.value == "waivers"), None)
    if entries is None:
        raise _bad(path, root.start_mark.line + 1, "no `waivers:` key. Fix: start with `waivers:`")
    if isinstance(entries, yaml.ScalarNode) and entries.value in ("", "null", "~"):
        return []
    if not isinstance(entries, yaml.SequenceNode):
        raise _bad(path, entries.start_mark.line + 1, "`waivers` must be a list")
    waivers = []
    for node in entries.value:
        line = node.start_mark.line + 1
        if not isinstance(node, yaml.MappingNode):
            raise _bad(path, line, "each waiver is a mapping of " + ", ".join(FIELDS))
        fields: dict[str, tuple[str, int]] = {}
        for key, value in node.value:
            if key.value not in FIELDS:
                raise _bad(
                    path,
                    key.start_mark.line + 1,
                    f"unknown field `{key.value}`; a waiver has {', '.join(FIELDS)}",
                )
            if not isinstance(value, yaml.ScalarNode) or not str(value.value).strip():
                raise _bad(
                    path, value.start_mark.line + 1, f"`{key.value}` must be a non-empty value"
                )
            fields[key.value] = (str(value.value).strip(), value.start_mark.line + 1)
        missing = [f for f in FIELDS if f not in fields]
        if missing:
            raise _bad(path, line, f"waiver lacks {', '.join(missing)}")
        rule_id, rule_line = fields["rule"]
        if rule_id not in REGISTRY and not re.fullmatch(r"CKV2?_[A-Z0-9]+_\d+", rule_id):
            raise _bad(
                path, rule_line, f"unknown rule `{rule_id}` (rules: {', '.join(sorted(REGISTRY))})"
            )
        text_date, date_line = fields["expires"]
        try:
            expires = date.fromisoformat(text_date)
        except ValueError:
            raise _bad(
                path, date_line, f"expires `{text_date}` is not a date like 2026-12-31"
            ) from None
        waivers.append(
            Waiver(
                rule_id,
                fields["resource"][0],
                fields["reason"][0],
                fields["approver"][0],
                expires,
                str(path),
                line,
            )
        )
    return waivers


def apply(findings: list[Finding], waivers: list[Waiver], today: date) -> list[Finding]:
    """Mark failed findings a live waiver covers; add a failure for every expired waiver."""
    live = [w for w in waivers if w.expires >= today]
    for f in findings:
        if f.status != FAIL:
            continue
        for w in live:
            if w.matches(f):
                f.waiver = w.as_dict()
                break
    extra = [
        Finding(
            "WAIVER",
            "Waivers stay within their expiry date",
            "high",
            FAIL,
            w.resource,
            f"the waiver of {w.rule} for {w.resource} (approved by {w.approver}) expired on "
            f"{w.expires.isoformat()}",
            "expires",
            f"{w.file}:{w.line}: fix the finding, or renew the waiver with a new approval",
            file=w.file,
            line=w.line,
        )
        for w in waivers
        if w.expires < today
    ]
    return findings + extra


def default_path(spec: str | Path | None = None) -> Path | None:
    """kubeprod-waivers.yaml next to the spec, else in the working directory, if present."""
    candidates = [Path(spec).parent / DEFAULT_NAME] if spec else []
    candidates.append(Path.cwd() / DEFAULT_NAME)
    return next((c for c in candidates if c.is_file()), None)
