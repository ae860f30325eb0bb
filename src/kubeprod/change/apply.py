"""The apply of a plan bundle (CHG-1..5): a bundle is applied only when every rule holds.

Refusals, all reported together, each naming its rule and fix: not approved;
outside a maintenance window (unless --emergency with a reason); stale (spec,
module files or state serial moved since the plan; or terraform says so);
policy gate failed; production planned from a dirty tree or a branch other
than main (unless overridden with a reason). Then: snapshot, notify, apply
with progress, notify, change log.
"""

from __future__ import annotations

import getpass
import json
import signal
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kubeprod import workflow
from kubeprod.change import approval, changelog, clock, notify, snapshot, windows
from kubeprod.change.bundle import Bundle, load, state_identity
from kubeprod.change.refused import GateRefused
from kubeprod.errors import InputError, KubeprodError
from kubeprod.terraform.faults import (
    ERRORED_STATE,
    StateLocked,
    StateNotSaved,
    errored_state_problem,
    lock_info,
    locked_message,
    raise_if_locked,
    refuse_errored_state,
)
from kubeprod.terraform.runner import ApplyInterrupted, Progress, TerraformError

__all__ = [
    "ERRORED_STATE",
    "GateRefused",
    "StateLocked",
    "StateNotSaved",
    "apply_bundle",
    "errored_state_problem",
    "lock_info",
    "raise_if_locked",
    "refuse_errored_state",
    "unlock",
]

MAIN_BRANCHES = ("main",)


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
        files = git.get("files")
        if not isinstance(files, list) or not files:
            problems.append("the bundle does not record the spec's git blob (plan again)")
        for item in files if isinstance(files, list) else []:
            if not isinstance(item, dict) or item.get("matches_head"):
                continue
            problems.append(
                f"{item.get('path')} on disk (blob {str(item.get('blob'))[:12]}) is not the "
                f"committed one (HEAD blob {str(item.get('head_blob') or 'none')[:12]}): "
                "skip-worktree, assume-unchanged or never committed"
            )
    return problems


def _policy_problem(bundle: Bundle) -> str | None:
    policy = bundle.manifest.get("policy") or {}
    if not policy.get("available"):  # a record from before the gate was always present
        return "this bundle carries no policy verdict. Fix: `kubeprod plan` again"
    if not policy.get("passed"):
        rules = (policy.get("report") or {}).get("rules") or {}
        failed = sorted(rule for rule, status in rules.items() if status == "fail")
        detail = policy.get("error") or (
            f"rules {', '.join(failed)} fail" if failed else "see `kubeprod review`"
        )
        return (
            f"the policy gate failed for this plan: {detail}. "
            "Fix: change the spec so the plan passes"
        )
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
        reasons.append(f"[policy gate] {policy}")
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


def remaining_lock(target: Any, state: dict[str, Any]) -> dict[str, str] | None:
    """The S3 lock file (`<state key>.tflock`, use_lockfile) if one is left behind."""
    bucket, key = state.get("bucket"), state.get("key")
    if not bucket or not key:
        return None
    try:
        client = snapshot._s3_client(target, state.get("region") or "us-east-1")
        body = client.get_object(Bucket=bucket, Key=f"{key}.tflock")["Body"].read()
    except Exception:  # no lock object (the normal case), or S3 unreachable
        return None
    try:
        info = json.loads(body)
    except ValueError:
        return {"id": "?"}
    wanted = ("ID", "Who", "Operation", "Created", "Path")
    return (
        {k.lower(): str(v) for k, v in info.items() if k in wanted}
        if isinstance(info, dict)
        else {"id": "?"}
    )


@dataclass(frozen=True)
class Prepared:
    """A bundle that passed every rule, and what the apply needs."""

    bundle: Bundle
    target: Any
    tf: Any
    moment: clock.Moment
    who: str
    facts: dict[str, Any]
    override: dict[str, str | None]


def preflight(
    bundle: Bundle,
    *,
    at: str | None,
    emergency: bool,
    override_provenance: bool,
    reason: str,
    who: str,
) -> Prepared:
    """Every rule, offline and against the state; GateRefused listing all that fail."""
    manifest = bundle.manifest
    moment = clock.change_moment(at, local=bool(manifest.get("local")))
    target = workflow.target_for(
        manifest["spec_path"], manifest["cloud"], bool(manifest.get("local"))
    )
    if Path(target.workdir).resolve() != Path(manifest["workdir"]):
        raise GateRefused(
            f"the bundle was planned in {manifest['workdir']} but this target works in "
            f"{target.workdir}. Fix: apply from where it was planned (same KUBEPROD_HOME)"
        )
    if manifest.get("profile") != target.env.profile:
        raise GateRefused(
            f"the bundle says profile {manifest.get('profile')!r} but the spec is "
            f"{target.env.profile!r}: the manifest was edited. Fix: plan again"
        )
    reasons, facts = check(
        bundle,
        target.env.maintenance,
        moment.effective,
        emergency=emergency,
        override_provenance=override_provenance,
    )
    errored = errored_state_problem(Path(target.workdir))
    if errored:
        reasons.insert(0, errored)
    tf = workflow.terraform_for(target.workdir, target)
    try:
        shown = tf.show_json(str(bundle.plan_file))
        mismatch = bundle.reviewed_plan_problems(shown)
    except (TerraformError, ValueError) as exc:
        mismatch = [f"terraform cannot read plan.tfplan ({str(exc).splitlines()[-1]})"]
    if mismatch:
        reasons.append(
            "[CHG-2 reviewed plan] "
            + "; ".join(mismatch)
            + ". Fix: plan again; never edit a bundle"
        )
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
    override = {
        "emergency": reason if emergency else None,
        "provenance": reason if override_provenance and facts["provenance_problems"] else None,
    }
    return Prepared(bundle, target, tf, moment, who, facts, override)


def _notice(prepared: Prepared, event: str, subject: str, extra: str = "") -> list[dict[str, Any]]:
    env = prepared.bundle.manifest["environment"]
    return [
        d.as_dict()
        for d in notify.notify(
            prepared.target.env.notifications.targets,
            event,
            f"{subject}: {env}",
            _body(prepared.bundle, prepared.who, extra),
        )
    ]


def _started_record(prepared: Prepared) -> dict[str, Any]:
    bundle, manifest = prepared.bundle, prepared.bundle.manifest
    return {
        "who": prepared.who,
        "approved_by": prepared.facts.get("approved_by", []),
        "started_at": prepared.moment.real.isoformat(),
        **prepared.moment.record(),
        "target": manifest.get("target"),
        "kind": manifest.get("kind", "change"),
        "bundle": str(bundle.path),
        "plan_sha256": bundle.plan_sha256,
        "spec_revision": (manifest.get("rollback_to") or {}).get("revision")
        or (manifest.get("git") or {}).get("commit"),
        "spec_sha256": manifest["spec_sha256"],
        "counts": manifest["counts"],
        "override": prepared.override,
        "window": prepared.facts["window"]["reason"],
    }


def execute(prepared: Prepared, *, quiet: bool) -> dict[str, Any]:
    """Record `started`, then run the change; Ctrl-C or SIGTERM before terraform starts
    finishes the record as `interrupted` (nothing applied) and notifies."""
    env_name = prepared.bundle.manifest["environment"]
    started = changelog.start(env_name, _started_record(prepared))
    phase = {"terraform": False}

    def on_term(_signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt

    previous = (
        signal.signal(signal.SIGTERM, on_term)
        if threading.current_thread() is threading.main_thread()
        else None
    )
    try:
        return _run(prepared, started, phase, quiet=quiet)
    except KeyboardInterrupt:
        if phase["terraform"]:
            raise
        deliveries = _notice(
            prepared, "failure", "kubeprod change INTERRUPTED", "; before terraform started"
        )
        record = changelog.finish(
            env_name,
            started,
            {
                "result": "interrupted",
                "error": "interrupted before terraform started; nothing was applied",
                "finished_at": clock.real().isoformat(),
                "notifications": deliveries,
            },
        )
        raise Interrupted(
            f"interrupted before terraform started: nothing was applied. Recorded as "
            f"{record['id']}; apply again when ready"
        ) from None
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _run(
    prepared: Prepared, started: dict[str, Any], phase: dict[str, bool], *, quiet: bool
) -> dict[str, Any]:
    """Snapshot, notify, apply (signals forwarded to terraform), notify, record."""
    bundle, manifest, tf = prepared.bundle, prepared.bundle.manifest, prepared.tf
    env_name = manifest["environment"]
    deliveries: list[dict[str, Any]] = []
    if prepared.override["emergency"]:
        window = prepared.facts["window"]
        deliveries += _notice(
            prepared,
            "emergency",
            "kubeprod EMERGENCY change",
            f"; window rule overridden: {prepared.override['emergency']}; {window['reason']}",
        )
    _say(quiet, "state snapshot ...")
    try:
        snap = snapshot.take(
            prepared.target,
            tf,
            manifest["state"],
            bundle.plan_sha256[:12],
            prepared.moment.real,
            manifest["spec_path"],
        )
    except (OSError, TerraformError) as exc:
        changelog.finish(
            env_name, started, {"result": "not started", "error": f"snapshot failed: {exc}"}
        )
        raise InputError(
            f"the state snapshot could not be taken ({exc}); nothing was applied. Fix: make "
            f"{changelog.home() / 'snapshots'} writable and the state readable, then apply "
            f"again. Recorded as {started['id']}"
        ) from None
    _say(quiet, f"  saved {snap['local']}" + (f" and {snap['s3']}" if snap.get("s3") else ""))
    deliveries += _notice(prepared, "start", "kubeprod change starting")
    counts = manifest["counts"]
    total = counts["add"] + counts["change"] + counts["destroy"] + 2 * counts["replace"]
    clock_started = time.monotonic()
    error, lock, result = "", None, "success"
    _say(quiet, f"apply {bundle.id} ...")
    phase["terraform"] = True
    try:
        tf.apply(str(bundle.plan_file), total=total, on_event=Progress(total, quiet=quiet))
    except ApplyInterrupted as exc:
        result, error = "interrupted", str(exc)
    except TerraformError as exc:
        result, error = "failure", str(exc)
        lock = lock_info(error)
    duration = round(time.monotonic() - clock_started, 1)
    outcome: dict[str, Any] = {"result": result, "snapshot": snap, "lock": lock}
    if result != "success":
        outcome.update(_after_failure(prepared, result))
        outcome["lock"] = remaining_lock(prepared.target, manifest["state"]) or lock
    last = error.splitlines()[-1] if error else ""
    subject = {
        "success": "kubeprod change succeeded",
        "failure": "kubeprod change FAILED",
        "interrupted": "kubeprod change INTERRUPTED",
    }[result]
    extra = f"; {duration}s" + (f"; {last}" if last else "")
    if outcome.get("errored_state"):
        extra += f"; state NOT saved: {outcome['errored_state']} must be pushed"
    deliveries += _notice(prepared, "success" if result == "success" else "failure", subject, extra)
    record = changelog.finish(
        env_name,
        started,
        {
            **outcome,
            "finished_at": clock.real().isoformat(),
            "duration_s": duration,
            "error": error or None,
            "notifications": deliveries,
        },
    )
    _raise_for(prepared, record, error)
    return {"bundle": str(bundle.path), "result": result, "record": record}


def _after_failure(prepared: Prepared, result: str) -> dict[str, Any]:
    """What a failed or interrupted apply left: state serial, errored.tfstate."""
    found: dict[str, Any] = {}
    try:
        found["state_serial_after"] = state_identity(prepared.tf).get("serial")
    except Exception:  # the backend may be the thing that failed
        found["state_serial_after"] = None
    errored = Path(prepared.target.workdir) / ERRORED_STATE
    if errored.exists():
        found["errored_state"] = str(errored)
    return found


def _raise_for(prepared: Prepared, record: dict[str, Any], error: str) -> None:
    manifest, result = prepared.bundle.manifest, record["result"]
    snap, lock = record["snapshot"], record.get("lock")
    spec, local = manifest["spec_path"], bool(manifest.get("local"))
    workdir = Path(prepared.target.workdir)
    if result == "success":
        return
    if record.get("errored_state"):
        raise KubeprodError(
            f"apply failed and terraform could not save the state: what it built is only in "
            f"{record['errored_state']} (recorded as {record['id']}; the team was notified). "
            f"Do not plan or apply again first. Fix: `cd {workdir} && terraform state push "
            f"{ERRORED_STATE}` once the backend is reachable, then `mv {ERRORED_STATE} "
            f"{ERRORED_STATE}.pushed` and plan again.\n{error}"
        )
    tail = f"Recorded as {record['id']}; snapshot {snap['local']}"
    if result == "interrupted":
        note = f" {locked_message(lock, spec, local, workdir)}." if lock else ""
        raise Interrupted(
            f"the apply was interrupted; terraform stopped cleanly at state serial "
            f"{record.get('state_serial_after')}. {tail}.{note} Then plan again: the plan is "
            "stale if anything was applied"
        )
    taken = lock_info(error)
    if taken:  # terraform could not take the lock: it applied nothing
        raise StateLocked(
            locked_message(lock or taken, spec, local, workdir)
            + f"; nothing was applied; then apply "
            f"again. {tail}"
        )
    if "stale" in error.lower():
        raise GateRefused(
            "terraform says the saved plan is stale: the state changed after the plan. "
            f"Nothing was applied. Fix: plan again, review, approve. Recorded as {record['id']}"
        )
    held = f"\nA state lock remains: {locked_message(lock, spec, local, workdir)}." if lock else ""
    raise KubeprodError(
        f"apply failed; recorded as {record['id']}; state before it: {snap['local']}. "
        f"Roll back with `kubeprod rollback` or restore the snapshot.{held}\n{error}"
    )


class Interrupted(KubeprodError):
    """SIGINT/SIGTERM stopped the apply; terraform was let finish cleanly first."""

    exit_code = 130


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
    if (emergency or override_provenance) and not reason.strip():
        raise InputError(
            "an override needs a reason that goes into the change log and the notices. "
            "Fix: add --reason '...'"
        )
    if who is not None and not who.strip():
        raise InputError("--by is empty. Fix: name who applies, or leave --by out")
    bundle = load(ref)
    if not bundle.manifest.get("changes"):
        return {"bundle": str(bundle.path), "result": "nothing to apply", "record": None}
    prepared = preflight(
        bundle,
        at=at,
        emergency=emergency,
        override_provenance=override_provenance,
        reason=reason,
        who=(who or getpass.getuser()).strip(),
    )
    return execute(prepared, quiet=quiet)


def unlock(
    spec: str, lock_id: str, *, local: bool, yes: bool, cloud: str = "aws"
) -> dict[str, Any]:
    """Clear a state lock left by a terraform that is no longer running."""
    if not yes:
        raise InputError(
            f"clearing lock {lock_id} while a terraform still holds it can corrupt the state. "
            "Check that no apply is running (CI, a colleague), then re-run with --yes"
        )
    target = workflow.target_for(spec, cloud, local)
    tf = workflow.terraform_for(target.workdir, target)
    tf.run("force-unlock", "-force", lock_id)
    return {"unlocked": lock_id, "workdir": str(target.workdir)}
