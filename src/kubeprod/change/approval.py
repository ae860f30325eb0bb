"""Approvals (CHG-2) bound to one plan: its hash and the bundle manifest's hash.

An approval names the plan it approves. It counts only for a bundle whose plan
file and manifest still hash to what was approved: another plan, or the same
bundle with any file changed, needs a new approval. It counts only when the same
record is in the append-only approvals log (`$KUBEPROD_HOME/approvals.jsonl`): a
hand-written approvals.json proves nothing. For production, the approver must not
be who made the plan (`planner` in the manifest), unless the spec names a
single-operator exception (`change_control.single_operator`).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from kubeprod.change import clock, records_model
from kubeprod.change.bundle import Bundle, sha256_file
from kubeprod.change.changelog import home
from kubeprod.change.records_model import Approval
from kubeprod.errors import InputError, KubeprodError
from kubeprod.spec import load_spec

APPROVALS = "approvals.json"


class NotApproved(KubeprodError):
    exit_code = 4


MIN_HASH = 12


def audit_path() -> Path:
    return home() / "approvals.jsonl"


def _read(bundle: Bundle) -> list[dict[str, Any]]:
    path = bundle.path / APPROVALS
    if not path.exists():
        return []
    try:
        value = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        raise InputError(
            f"{path} is damaged (not JSON). Fix: delete it and approve again"
        ) from None
    if not isinstance(value, list):
        raise InputError(f"{path} must be a JSON list of approvals. Fix: delete it, approve again")
    for index, item in enumerate(value):
        wrong = records_model.problems(Approval, item)
        if wrong:
            raise InputError(
                f"{path}: approval [{index}]: {'; '.join(wrong)}. Fix: delete the file and "
                "approve again (approvals are written by `kubeprod approve`)"
            )
    return value


def _audit() -> list[dict[str, Any]]:
    """The append-only approvals log; a damaged line is an input error naming it."""
    path = audit_path()
    if not path.exists():
        return []
    records = []
    for number, line in enumerate(path.read_bytes().split(b"\n"), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise InputError(
                f"{path}:{number}: not a JSON line. Fix: restore it from a backup copy"
            ) from None
        wrong = records_model.problems(Approval, record)
        if wrong:
            raise InputError(
                f"{path}:{number}: not an approval: {'; '.join(wrong)}. Fix: restore the "
                "line from a backup copy (the log is append-only)"
            )
        records.append(record)
    return records


def _key(record: dict[str, Any]) -> tuple[str, ...]:
    return records_model.parse(Approval, record).key()


def _norm(name: str) -> set[str]:
    """`github-environment:production:alice` and `Alice <a@x>` name alice too."""
    text = name.strip().lower()
    out = {text, text.rsplit(":", 1)[-1]}
    return out | {o.split("@", 1)[0] for o in out if "@" in o}


def same_person(by: str, identities: list[str]) -> bool:
    mine = _norm(by)
    return any(mine & _norm(i) for i in identities)


def _single_operator(bundle: Bundle) -> str | None:
    spec = Path(bundle.path / "spec.yaml")
    try:
        env = load_spec(str(spec), profile_rules=False)
    except Exception:  # the gate reports a bad spec copy through integrity checks
        return None
    control = getattr(env, "change_control", None)
    return getattr(control, "single_operator", None) if control else None


def self_approval(bundle: Bundle, by: str) -> str | None:
    """Why `by` may not approve this plan, or None."""
    if bundle.manifest.get("profile") != "production":
        return None
    planner = bundle.manifest.get("planner")
    if not isinstance(planner, list) or not planner:
        return "the bundle does not record who made the plan (planned by an older kubeprod)"
    if not same_person(by, [str(p) for p in planner]):
        return None
    single = _single_operator(bundle)
    if single and same_person(by, [single]):
        return None
    return (
        f"{by} made this plan ({', '.join(str(p) for p in planner)}), and a production change "
        "needs a second person to approve it (CHG-2). Fix: ask a reviewer to approve; a "
        "team of one names itself in the spec: change_control.single_operator"
    )


def approve(
    bundle: Bundle, by: str, *, plan_hash: str | None = None, at: str | None = None
) -> dict[str, Any]:
    """Record `by`'s approval of exactly this plan; refuses a changed bundle."""
    if not by.strip():
        raise InputError("--by is empty. Fix: name who approves, e.g. --by alice")
    if plan_hash is not None and not re.fullmatch(rf"[0-9a-fA-F]{{{MIN_HASH},64}}", plan_hash):
        raise InputError(
            f"--plan-hash '{plan_hash}' is not a plan hash: give at least {MIN_HASH} hex "
            "characters of the hash the review shows (the full 64 is best)"
        )
    moment = clock.change_moment(at, local=bool(bundle.manifest.get("local")), what="an approval")
    refused = self_approval(bundle, by)
    if refused:
        raise NotApproved(refused)
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
    record = Approval(
        by=by.strip(),
        at=moment.real.isoformat(),
        simulated_at=moment.effective.isoformat() if moment.simulated else None,
        plan_sha256=actual,
        manifest_sha256=bundle.manifest_sha256(),
        bundle=bundle.id,
        environment=bundle.manifest["environment"],
    ).as_dict()
    approvals = [*_read(bundle), record]
    audit = audit_path()
    try:
        audit.parent.mkdir(parents=True, exist_ok=True)
        with audit.open("a") as handle:  # the log first: an approval only it holds is void
            handle.write(json.dumps(record, sort_keys=True) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        (bundle.path / APPROVALS).write_text(json.dumps(approvals, indent=2) + "\n")
    except OSError as exc:
        raise InputError(
            f"cannot record the approval ({exc.strerror}: {exc.filename}). Fix: make "
            "KUBEPROD_HOME and the bundle writable, then approve again"
        ) from None
    return record


def valid_approvals(bundle: Bundle) -> list[dict[str, Any]]:
    """Approvals of exactly this plan and manifest, present in the approvals log, and
    not by the planner (production)."""
    plan, manifest = sha256_file(bundle.plan_file), bundle.manifest_sha256()
    logged = {_key(r) for r in _audit()}
    return [
        a
        for a in _read(bundle)
        if a.get("plan_sha256") == plan
        and a.get("manifest_sha256") == manifest
        and plan == bundle.plan_sha256
        and _key(a) in logged
        and self_approval(bundle, str(a.get("by"))) is None
    ]


def require(bundle: Bundle) -> list[dict[str, Any]]:
    """The approvals that count, or NotApproved saying why none does."""
    good = valid_approvals(bundle)
    if good:
        return good
    stale = _read(bundle)
    audit = _audit()
    logged = {_key(r) for r in audit}
    others = [
        r
        for r in audit
        if r.get("environment") == bundle.manifest["environment"]
        and r.get("plan_sha256") != bundle.plan_sha256
    ]
    why = f"plan {bundle.plan_sha256[:12]} (bundle {bundle.id}) is not approved (CHG-2)"
    unlogged = [a for a in stale if _key(a) not in logged]
    selfish = [a for a in stale if self_approval(bundle, str(a.get("by")))]
    if unlogged:
        why += (
            f"; {len(unlogged)} approval(s) in {APPROVALS} are not in the approvals log "
            f"{audit_path()}: written by hand, they do not count"
        )
    elif selfish:
        why += f"; {self_approval(bundle, str(selfish[0].get('by')))}"
    elif stale:
        why += (
            f"; {len(stale)} approval(s) on this bundle no longer match it: the plan or the "
            "manifest changed after they were given"
        )
    elif others:
        last = others[-1]
        why += (
            f"; the latest approval for {bundle.manifest['environment']} is by {last.get('by')} "
            f"for another plan ({str(last.get('plan_sha256'))[:12]}, bundle {last.get('bundle')}), "
            "which does not count for this one"
        )
    raise NotApproved(
        why + f". Fix: review it (`kubeprod review {bundle.path}`) and "
        f"`kubeprod approve {bundle.path} --by NAME`"
    )
