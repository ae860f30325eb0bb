"""Approvals (CHG-2) bound to one plan: its hash and the bundle manifest's hash.

An approval names the plan it approves. It counts only for a bundle whose plan
file and manifest still hash to what was approved: another plan, or the same
bundle with any file changed, needs a new approval.
"""

from __future__ import annotations

import json
from typing import Any

from kubeprod.change import clock
from kubeprod.change.bundle import Bundle, sha256_file
from kubeprod.change.changelog import home
from kubeprod.errors import InputError, KubeprodError

APPROVALS = "approvals.json"


class NotApproved(KubeprodError):
    exit_code = 4


def _read(bundle: Bundle) -> list[dict[str, Any]]:
    path = bundle.path / APPROVALS
    return json.loads(path.read_text()) if path.exists() else []


def approve(
    bundle: Bundle, by: str, *, plan_hash: str | None = None, at: str | None = None
) -> dict[str, Any]:
    """Record `by`'s approval of exactly this plan; refuses a changed bundle."""
    if not by.strip():
        raise InputError("--by is empty. Fix: name who approves, e.g. --by alice")
    problems = bundle.integrity_problems()
    if problems:
        raise NotApproved(
            "cannot approve this bundle: " + "; ".join(problems) + ". Fix: plan again"
        )
    actual = sha256_file(bundle.plan_file)
    if plan_hash and not actual.startswith(plan_hash.lower()):
        raise NotApproved(
            f"you reviewed plan {plan_hash[:12]} but this bundle holds plan {actual[:12]}: "
            "an approval is for one plan only. Fix: review this bundle "
            f"(`kubeprod review {bundle.path}`) and approve the hash it shows"
        )
    record = {
        "by": by.strip(),
        "at": clock.now(at).isoformat(),
        "plan_sha256": actual,
        "manifest_sha256": bundle.manifest_sha256(),
        "bundle": bundle.id,
        "environment": bundle.manifest["environment"],
    }
    approvals = [*_read(bundle), record]
    (bundle.path / APPROVALS).write_text(json.dumps(approvals, indent=2) + "\n")
    audit = home() / "approvals.jsonl"
    audit.parent.mkdir(parents=True, exist_ok=True)
    with audit.open("a") as handle:
        handle.write(json.dumps(record, sort_keys=True) + "\n")
    return record


def valid_approvals(bundle: Bundle) -> list[dict[str, Any]]:
    plan, manifest = sha256_file(bundle.plan_file), bundle.manifest_sha256()
    return [
        a
        for a in _read(bundle)
        if a.get("plan_sha256") == plan
        and a.get("manifest_sha256") == manifest
        and plan == bundle.plan_sha256
    ]


def require(bundle: Bundle) -> list[dict[str, Any]]:
    """The approvals that count, or NotApproved saying why none does."""
    good = valid_approvals(bundle)
    if good:
        return good
    stale = _read(bundle)
    others = []
    audit = home() / "approvals.jsonl"
    if audit.exists():
        for line in audit.read_text().splitlines():
            record = json.loads(line)
            if (
                record.get("environment") == bundle.manifest["environment"]
                and record.get("plan_sha256") != bundle.plan_sha256
            ):
                others.append(record)
    why = f"plan {bundle.plan_sha256[:12]} (bundle {bundle.id}) is not approved (CHG-2)"
    if stale:
        why += (
            f"; {len(stale)} approval(s) on this bundle no longer match it: the plan or the "
            "manifest changed after they were given"
        )
    elif others:
        last = others[-1]
        why += (
            f"; the latest approval for {bundle.manifest['environment']} is by {last['by']} "
            f"for another plan ({last['plan_sha256'][:12]}, bundle {last['bundle']}), "
            "which does not count for this one"
        )
    raise NotApproved(
        why + f". Fix: review it (`kubeprod review {bundle.path}`) and "
        f"`kubeprod approve {bundle.path} --by NAME`"
    )
