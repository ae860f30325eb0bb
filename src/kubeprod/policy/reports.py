"""Reports of one gate run: terminal table, JSON, SARIF 2.1.0, JUnit XML, PR markdown."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

from kubeprod import __version__
from kubeprod.policy.engine import Report
from kubeprod.policy.rules import REGISTRY
from kubeprod.policy.rules.base import FAIL, NOT_JUDGED, PASS, UNKNOWN_STATUS, Finding

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
MARK = {
    PASS: "pass",
    FAIL: "FAIL",
    UNKNOWN_STATUS: "unknown",
    NOT_JUDGED: "not judged",
    "waived": "waived",
}
LEVEL = {"critical": "error", "high": "error", "medium": "warning", "low": "note"}


def render(report: Report, fmt: str) -> str:
    return {
        "table": table,
        "json": lambda r: json.dumps(r.as_dict(), indent=2, sort_keys=True),
        "sarif": lambda r: json.dumps(sarif(r), indent=2),
        "junit": junit,
        "markdown": markdown,
    }[fmt](report)


def _status(f: Finding) -> str:
    return "waived" if f.waived else f.status


def _where(f: Finding) -> str:
    if not f.file:
        return ""
    return f"{_relative(f.file)}:{f.line}" if f.line else _relative(f.file)


def _relative(path: str) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:
        return path


def table(report: Report) -> str:
    """Rule by rule, then every finding that is not a plain pass."""
    titles = {f.rule_id: f.title for f in report.findings}
    lines = [f"policy gate: {report.target} ({report.cloud}, {report.source})", ""]
    lines.append(f"{'RULE':<8} {'STATUS':<11} TITLE")
    for rule_id, status in report.rule_status().items():
        lines.append(f"{rule_id:<8} {MARK[status]:<11} {titles.get(rule_id, '')}")
    details = [f for f in report.findings if _status(f) != PASS]
    if details:
        lines += ["", f"{'STATUS':<11} {'RULE':<8} {'SEVERITY':<9} ADDRESS"]
    for f in details:
        lines.append(f"{MARK[_status(f)]:<11} {f.rule_id:<8} {f.severity:<9} {f.address}")
        lines.append(f"{'':<30}{f.message}")
        if f.waived and f.waiver:
            lines.append(
                f"{'':<30}waived by {f.waiver['approver']} until {f.waiver['expires']}: "
                f"{f.waiver['reason']}"
            )
        elif f.remediation:
            lines.append(f"{'':<30}fix: {f.remediation}")
        if _where(f):
            lines.append(f"{'':<30}at {_where(f)}")
    lines += ["", report.summary()]
    return "\n".join(lines)


def _uri(path: str) -> str:
    p = Path(path)
    try:
        return p.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return p.resolve().as_uri()


def sarif(report: Report) -> dict[str, Any]:
    """SARIF 2.1.0: one result per non-passing finding; waived ones carry a suppression."""
    rule_ids = sorted({f.rule_id for f in report.findings}, key=lambda r: (r not in REGISTRY, r))
    rules = []
    for rid in rule_ids:
        cls = REGISTRY.get(rid)
        title = cls.title if cls else next(f.title for f in report.findings if f.rule_id == rid)
        severity = cls.severity if cls else "high"
        entry: dict[str, Any] = {
            "id": rid,
            "name": rid.replace("-", ""),
            "shortDescription": {"text": title},
            "defaultConfiguration": {"level": LEVEL.get(severity, "warning")},
            "properties": {"severity": severity, "tags": ["kubeprod", "production"]},
        }
        if cls:
            entry["fullDescription"] = {"text": f"Brief: {cls.brief}"}
            entry["help"] = {
                "text": "; ".join(f"{cloud}: {how}" for cloud, how in cls.judged.items())
            }
        rules.append(entry)
    index = {rid: i for i, rid in enumerate(rule_ids)}
    results = []
    for f in report.findings:
        if f.status == PASS:
            continue
        location_file = f.file or (report.target if report.source == "plan" else None)
        physical: dict[str, Any] = {
            "artifactLocation": {"uri": _uri(location_file or report.target)}
        }
        if f.line:
            physical["region"] = {"startLine": int(f.line)}
        result: dict[str, Any] = {
            "ruleId": f.rule_id,
            "ruleIndex": index[f.rule_id],
            "kind": "fail" if f.status == FAIL else "review",
            "level": LEVEL.get(f.severity, "warning") if f.status == FAIL else "note",
            "message": {
                "text": f"{f.address}: {f.message}"
                + (f". Fix: {f.remediation}" if f.remediation else "")
            },
            "locations": [
                {
                    "physicalLocation": physical,
                    "logicalLocations": [{"fullyQualifiedName": f.address, "kind": "resource"}],
                }
            ],
            "properties": {
                "status": f.status,
                "attribute": f.attribute,
                "cloud": f.cloud,
                "source": f.source,
            },
        }
        if f.waived and f.waiver:
            result["suppressions"] = [
                {
                    "kind": "external",
                    "status": "accepted",
                    "justification": f"{f.waiver['reason']} (approved by {f.waiver['approver']}, "
                    f"expires {f.waiver['expires']})",
                }
            ]
        results.append(result)
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "kubeprod-policy",
                        "version": __version__,
                        "informationUri": "https://github.com/kubeprod/kubeprod/blob/main/docs/policy.md",
                        "rules": rules,
                    }
                },
                "results": results,
                "properties": {"passed": report.passed, "counts": report.counts()},
            }
        ],
    }


def junit(report: Report) -> str:
    """JUnit XML: a test case per finding; failures fail, unknown/not-judged/waived skip."""
    c = report.counts()
    suites = ET.Element("testsuites", name="kubeprod policy gate")
    suite = ET.SubElement(
        suites,
        "testsuite",
        name=f"kubeprod-policy.{report.cloud}",
        tests=str(len(report.findings)),
        failures=str(c[FAIL]),
        errors="0",
        skipped=str(c[UNKNOWN_STATUS] + c[NOT_JUDGED] + c["waived"]),
    )
    for f in report.findings:
        case = ET.SubElement(
            suite,
            "testcase",
            classname=f"{f.rule_id}",
            name=f"{f.rule_id} {f.address} {f.attribute}".strip(),
            file=_where(f) or report.target,
        )
        status = _status(f)
        if status == FAIL:
            failure = ET.SubElement(case, "failure", message=f.message, type=f.severity)
            failure.text = f"{f.title}\n{f.address}: {f.message}\nfix: {f.remediation}"
        elif status == "waived" and f.waiver:
            ET.SubElement(
                case,
                "skipped",
                message=_waived_text(f.waiver),
            )
        elif status in (UNKNOWN_STATUS, NOT_JUDGED):
            ET.SubElement(case, "skipped", message=f"{status}: {f.message}")
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode")


def _waived_text(waiver: dict[str, Any]) -> str:
    return f"waived by {waiver['approver']} until {waiver['expires']}: {waiver['reason']}"


def _md(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def markdown(report: Report) -> str:
    """A PR comment: verdict, the rules table, then what to fix."""
    icon = {PASS: "✅", FAIL: "❌", UNKNOWN_STATUS: "❔", NOT_JUDGED: "➖", "waived": "🟡"}
    verdict = "✅ **passed**" if report.passed else "❌ **failed**"
    lines = [
        f"### kubeprod policy gate: {verdict}",
        "",
        f"`{report.target}` ({report.cloud}, {report.source}). {report.summary()}",
        "",
    ]
    titles = {f.rule_id: f.title for f in report.findings}
    lines += ["| Rule | Status | Requirement |", "|---|---|---|"]
    for rid, status in report.rule_status().items():
        lines.append(f"| {rid} | {icon[status]} {MARK[status]} | {_md(titles.get(rid, ''))} |")
    sections = [
        (FAIL, "Violations"),
        ("waived", "Waived"),
        (UNKNOWN_STATUS, "Not known until apply"),
        (NOT_JUDGED, "Not judged"),
    ]
    for status, heading in sections:
        items = [f for f in report.findings if _status(f) == status]
        if not items:
            continue
        lines += [
            "",
            f"<details{' open' if status == FAIL else ''}>"
            f"<summary>{heading} ({len(items)})</summary>",
            "",
        ]
        for f in items:
            where = f" ({_where(f)})" if _where(f) else ""
            text = f"- **{f.rule_id}** `{f.address}`{where}: {_md(f.message)}"
            if status == "waived" and f.waiver:
                text += " — " + _md(_waived_text(f.waiver))
            elif f.remediation:
                text += f". Fix: {_md(f.remediation)}"
            lines.append(text)
        lines += ["", "</details>"]
    return "\n".join(lines) + "\n"
