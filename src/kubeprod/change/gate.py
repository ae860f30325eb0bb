"""The apply gate (CHG-1..5): a bundle is applied only when every rule holds.

Refusals, all reported together, each naming its rule and fix: not approved;
outside a maintenance window (unless --emergency with a reason); stale (spec,
module files or state serial moved since the plan; or terraform says so);
policy gate failed; production planned from a dirty tree or a branch other
than main (unless overridden with a reason). Then: snapshot, notify, apply
with progress, notify, change log.
"""

from __future__ import annotations

import getpass
import re
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from kubeprod.change import approval, changelog, clock, notify, snapshot, windows
from kubeprod.change.bundle import Bundle, load, state_identity
from kubeprod.errors import InputError, KubeprodError

MAIN_BRANCHES = ("main",)


class GateRefused(KubeprodError):
    """The change may not be applied now; nothing was touched."""

    exit_code = 4


class StateLocked(KubeprodError):
    exit_code = 5


def lock_info(message: str) -> dict[str, str] | None:
    """ID, Who, Created, Operation of a state lock from terraform's error text."""
    if "state lock" not in message.lower():
        return None
    info = {}
    for field in ("ID", "Path", "Operation", "Who", "Version", "Created"):
        match = re.search(rf"^\s*{field}:\s*(.+)$", message, re.M)
        if match:
            info[field.lower()] = match.group(1).strip()
    return info


def provenance_problems(bundle: Bundle) -> list[str]:
    """CHG-1: production is planned from a clean tree on main."""
    manifest = bundle.manifest
    if manifest.get("profile") != "production":
        return []
    git = manifest.get("git", {})
    problems = []
    if not git.get("commit"):
        problems.append("the spec was not in a git repository when planned")
    else:
        if not git.get("clean"):
            problems.append(f"the work tree was dirty when planned ({str(git['commit'])[:12]})")
        if git.get("branch") not in MAIN_BRANCHES:
            problems.append(f"it was planned on branch {git.get('branch') or '(detached)'}")
    return problems


def _policy_problem(bundle: Bundle) -> str | None:
    policy = bundle.manifest.get("policy", {})
    if policy.get("available") and not policy.get("passed"):
        rules = (policy.get("report") or {}).get("rules") or {}
        failed = sorted(rule for rule, status in rules.items() if status == "fail")
        detail = policy.get("error") or (
            f"rules {', '.join(failed)} fail" if failed else "see `kubeprod review`"
        )
        return f"the policy gate failed for this plan: {detail}"
    return None


def check(
    bundle: Bundle,
    maintenance: Any,
    moment: Any,
    *,
    emergency: bool,
    override_provenance: bool,
) -> tuple[list[str], dict[str, Any]]:
    """Every offline rule: (refusal reasons, facts to record). No terraform here."""
    reasons: list[str] = []
    facts: dict[str, Any] = {}
    problems = bundle.integrity_problems()
    if problems:
        reasons.append(
            "[CHG-2 bundle changed] " + "; ".join(problems) + ". Fix: plan again and re-approve"
        )
    try:
        facts["approved_by"] = [a["by"] for a in approval.require(bundle)]
    except approval.NotApproved as exc:
        reasons.append(f"[CHG-2 approval] {exc}")
    decision = windows.decide(maintenance, moment)
    facts["window"] = decision.as_dict()
    if not decision.allowed and not emergency:
        reasons.append(f"[CHG-3 window] {decision.reason}")
    stale = bundle.spec_problems() + bundle.workdir_problems()
    if stale:
        reasons.append(
            "[stale plan] "
            + "; ".join(stale)
            + f" (in {bundle.manifest['workdir']}). Fix: `kubeprod plan` again, review, approve"
        )
    policy = _policy_problem(bundle)
    if policy:
        reasons.append(f"[policy gate] {policy}. Fix: change the spec so the plan passes")
    origin = provenance_problems(bundle)
    if origin and not override_provenance:
        reasons.append(
            "[CHG-1 provenance] production changes come from a clean tree on main, but "
            + "; ".join(origin)
            + ". Fix: commit, merge to main and plan there (CI does), or pass "
            "--override-provenance --reason '...'"
        )
    facts["provenance_problems"] = origin
    return reasons, facts


def _say(quiet: bool, message: str) -> None:
    if not quiet:
        print(message, file=sys.stderr)


def _body(bundle: Bundle, who: str, extra: str = "") -> str:
    m = bundle.manifest
    counts = m.get("counts", {})
    return (
        f"environment {m['environment']} ({m.get('target')}); plan {bundle.plan_sha256[:12]}; "
        f"spec revision {str((m.get('git') or {}).get('commit') or '-')[:12]}; by {who}; "
        f"{counts.get('add', 0)} add, {counts.get('change', 0)} change, "
        f"{counts.get('replace', 0)} replace, {counts.get('destroy', 0)} destroy" + extra
    )


def apply_bundle(
    ref: str,
    *,
    at: str | None = None,
    emergency: bool = False,
    override_provenance: bool = False,
    reason: str = "",
    who: str | None = None,
    quiet: bool = False,
) -> dict[str, Any]:
    """Check every gate, then snapshot, apply, notify and record. Returns the record."""
    from kubeprod.terraform.runner import Progress, TerraformError
    from kubeprod.workflow import target_for, terraform_for

    if (emergency or override_provenance) and not reason.strip():
        raise InputError(
            "an override needs a reason that goes into the change log and the notices. "
            "Fix: add --reason '...'"
        )
    bundle = load(ref)
    manifest = bundle.manifest
    who = who or getpass.getuser()
    if not manifest.get("changes"):
        return {"bundle": str(bundle.path), "result": "nothing to apply", "record": None}
    moment = clock.now(at)
    target = target_for(manifest["spec_path"], manifest["cloud"], manifest["local"])
    if Path(target.workdir).resolve() != Path(manifest["workdir"]):
        raise GateRefused(
            f"the bundle was planned in {manifest['workdir']} but this target works in "
            f"{target.workdir}. Fix: apply from where it was planned (same KUBEPROD_HOME)"
        )
    reasons, facts = check(
        bundle,
        target.env.maintenance,
        moment,
        emergency=emergency,
        override_provenance=override_provenance,
    )
    tf = terraform_for(target.workdir, target)
    state_now = state_identity(tf)
    planned = {k: manifest["state"].get(k) for k in ("serial", "lineage")}
    if state_now != planned:
        reasons.append(
            f"[stale plan] the state moved since the plan (serial {planned['serial']} -> "
            f"{state_now['serial']}): someone applied in between. Fix: plan again, review, "
            "approve"
        )
    if reasons:
        raise GateRefused(
            f"apply of {bundle.id} refused:\n" + "\n".join(f"  - {r}" for r in reasons)
        )
    targets = target.env.notifications.targets
    deliveries: list[dict[str, Any]] = []
    override = {
        "emergency": reason if emergency else None,
        "provenance": reason if override_provenance and facts["provenance_problems"] else None,
    }
    if emergency:
        window = facts["window"]
        deliveries += [
            d.as_dict()
            for d in notify.notify(
                targets,
                "emergency",
                f"kubeprod EMERGENCY change: {manifest['environment']}",
                _body(bundle, who, f"; window rule overridden: {reason}; {window['reason']}"),
            )
        ]
    _say(quiet, "state snapshot ...")
    snap = snapshot.take(
        target, tf, manifest["state"], bundle.plan_sha256[:12], moment, manifest["spec_path"]
    )
    _say(quiet, f"  saved {snap['local']}" + (f" and {snap['s3']}" if snap.get("s3") else ""))
    deliveries += [
        d.as_dict()
        for d in notify.notify(
            targets,
            "start",
            f"kubeprod change starting: {manifest['environment']}",
            _body(bundle, who),
        )
    ]
    counts = manifest["counts"]
    total = counts["add"] + counts["change"] + counts["destroy"] + 2 * counts["replace"]
    started = time.monotonic()
    error = ""
    lock = None
    _say(quiet, f"apply {bundle.id} ...")
    try:
        tf.apply(str(bundle.plan_file), total=total, on_event=Progress(total, quiet=quiet))
        result = "success"
    except TerraformError as exc:
        result, error = "failure", str(exc)
        lock = lock_info(error)
    duration = round(time.monotonic() - started, 1)
    finished = moment + timedelta(seconds=duration)
    deliveries += [
        d.as_dict()
        for d in notify.notify(
            targets,
            result,
            f"kubeprod change {'succeeded' if result == 'success' else 'FAILED'}: "
            f"{manifest['environment']}",
            _body(bundle, who, f"; {duration}s" + (f"; {error.splitlines()[-1]}" if error else "")),
        )
    ]
    record = changelog.append(
        manifest["environment"],
        {
            "who": who,
            "approved_by": facts.get("approved_by", []),
            "started_at": moment.isoformat(),
            "finished_at": finished.isoformat(),
            "duration_s": duration,
            "target": manifest.get("target"),
            "kind": manifest.get("kind", "change"),
            "bundle": str(bundle.path),
            "plan_sha256": bundle.plan_sha256,
            "spec_revision": (manifest.get("rollback_to") or {}).get("revision")
            or (manifest.get("git") or {}).get("commit"),
            "spec_sha256": manifest["spec_sha256"],
            "counts": counts,
            "result": result,
            "error": error or None,
            "lock": lock,
            "snapshot": snap,
            "override": override,
            "window": facts["window"]["reason"],
            "notifications": deliveries,
        },
    )
    if result != "success":
        if lock and lock.get("id"):
            raise StateLocked(
                f"the state is locked (lock ID {lock['id']}, held by {lock.get('who', '?')} "
                f"for {lock.get('operation', '?')} since {lock.get('created', '?')}); nothing "
                "was applied. If no terraform is still running (e.g. one was killed), clear it: "
                f"`kubeprod unlock {manifest['spec_path']} {lock['id']}"
                + (" --local" if manifest.get("local") else "")
                + f" --yes` (or `terraform force-unlock {lock['id']}` in {target.workdir}), "
                f"then apply again. Recorded as {record['id']}; snapshot {snap['local']}"
            )
        if "stale" in error.lower():
            raise GateRefused(
                "terraform says the saved plan is stale: the state changed after the plan. "
                f"Nothing was applied. Fix: plan again, review, approve. Recorded as {record['id']}"
            )
        raise KubeprodError(
            f"apply failed; recorded as {record['id']}; state before it: {snap['local']}. "
            f"Roll back with `kubeprod rollback` or restore the snapshot.\n{error}"
        )
    return {"bundle": str(bundle.path), "result": result, "record": record}


def unlock(spec: str, lock_id: str, *, local: bool, yes: bool) -> dict[str, Any]:
    """Clear a state lock left by a terraform that is no longer running."""
    from kubeprod.workflow import target_for, terraform_for

    if not yes:
        raise InputError(
            f"clearing lock {lock_id} while a terraform still holds it can corrupt the state. "
            "Check that no apply is running (CI, a colleague), then re-run with --yes"
        )
    target = target_for(spec, "aws", local)
    tf = terraform_for(target.workdir, target)
    tf.run("force-unlock", "-force", lock_id)
    return {"unlocked": lock_id, "workdir": str(target.workdir)}
