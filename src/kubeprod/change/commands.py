"""The change-management subcommands of `kubeprod`. Registered by cli.py; every heavy
import happens inside a command so `kubeprod --help` stays instant."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kubeprod.errors import InputError

Emit = Callable[[argparse.Namespace, dict[str, Any], str], None]
CLOUDS = ("aws", "azure", "gcp")


def _say(message: str) -> None:
    print(message, file=sys.stderr)


def _json_mode(args: argparse.Namespace) -> bool:
    return getattr(args, "output", "text") == "json"


def register(add: Callable[..., Any], emit: Emit) -> None:
    """Add review, approve, apply, windows, history, rollback, state, drift, unlock, ci."""

    def cmd_review(args: argparse.Namespace) -> int:
        from kubeprod.change import bundle, review

        found = bundle.load(args.bundle)
        damaged = found.integrity_problems()
        if damaged:
            raise InputError(
                f"bundle {found.id} was changed after the plan: " + "; ".join(damaged) + ". A "
                "review of it would not be the review of the plan. Fix: plan again"
            )
        fmt = "json" if _json_mode(args) else args.format
        if found.manifest.get("kind") == "cluster-manifests":
            from kubeprod.change import cluster as delivery

            data = delivery.review(found)
            text = delivery.review_markdown(data)
            print(json.dumps(data, indent=2, sort_keys=True) if fmt == "json" else text, end="")
            return 0
        data = review.review(found)
        data["verified"] = review.verify_against_binary(found)
        if fmt == "json":
            print(json.dumps(data, indent=2, sort_keys=True, default=str))
        else:
            print(review.to_markdown(data) if fmt == "md" else review.to_text(data), end="")
        return 0

    def cmd_approve(args: argparse.Namespace) -> int:
        from kubeprod.change import approval, bundle

        found = bundle.load(args.bundle)
        record = approval.approve(found, args.by, plan_hash=args.plan_hash, at=args.at)
        emit(
            args,
            record,
            f"approved plan {record['plan_sha256'][:12]} (bundle {found.id}) by {record['by']}",
        )
        return 0

    def cmd_apply(args: argparse.Namespace) -> int:
        from kubeprod.change import apply

        result = apply.apply_bundle(
            args.bundle,
            at=args.at,
            emergency=args.emergency,
            override_provenance=args.override_provenance,
            reason=args.reason or "",
            who=args.by,
            quiet=_json_mode(args),
        )
        record = result["record"]
        text = (
            f"{result['result']}: {record['id']} in {record['duration_s']}s; "
            f"snapshot {record['snapshot']['local']}"
            if record
            else f"{result['bundle']}: the plan has no changes; nothing to apply"
        )
        emit(args, result, text)
        return 0

    def cmd_windows(args: argparse.Namespace) -> int:
        from kubeprod.change import clock, windows
        from kubeprod.spec import load_spec

        if not 1 <= args.count <= 1000:
            raise InputError(f"--count {args.count}: give a number from 1 to 1000")
        env = load_spec(args.spec)
        moment = clock.now(args.at)
        decision = windows.decide(env.maintenance, moment)
        upcoming = windows.upcoming(env.maintenance, moment, count=args.count)
        data = {
            "now": moment.isoformat(),
            "decision": decision.as_dict(),
            "upcoming": [w.as_dict() for w in upcoming],
            "min_time_before_close": env.maintenance.min_time_before_close,
        }
        text = "\n".join(
            [("OPEN: " if decision.allowed else "CLOSED: ") + decision.reason, "next windows:"]
            + [f"  {w.describe()}" for w in upcoming]
        )
        emit(args, data, text)
        return 0 if decision.allowed or not args.check else 1

    def cmd_history(args: argparse.Namespace) -> int:
        from kubeprod.change import changelog
        from kubeprod.spec import load_spec

        if args.limit < 0:
            raise InputError(f"--limit {args.limit}: give 0 or more entries to show")
        env = load_spec(args.spec, profile_rules=False)
        entries, notes = changelog.read_with_notes(env.name)
        entries = entries[-args.limit :] if args.limit else []
        for note in notes:
            print(f"warning: {note}", file=sys.stderr)
        emit(
            args,
            {"environment": env.name, "log": str(changelog.log_path(env.name)), "entries": entries},
            changelog.describe(entries),
        )
        return 0

    def cmd_rollback(args: argparse.Namespace) -> int:
        from kubeprod.change import apply, approval, review, rollback

        planned = rollback.plan_rollback(args.spec, args.to, args.cloud, local=args.local)
        found = planned["bundle"]
        data = review.review(found)
        result: dict[str, Any] = {
            "bundle": str(found.path),
            "revision": planned["revision"],
            "source": planned["source"],
            "review": data,
        }
        lines = [review.to_text(data)]
        if args.approve_by and planned["changes"]:
            approval.approve(found, args.approve_by, at=args.at)
            applied = apply.apply_bundle(
                str(found.path),
                at=args.at,
                emergency=args.emergency,
                override_provenance=args.override_provenance,
                reason=args.reason or "",
                who=args.approve_by,
                quiet=_json_mode(args),
            )
            result["apply"] = applied
            lines.append(f"rolled back to {planned['revision'][:12]}: {applied['record']['id']}")
        elif planned["changes"]:
            lines.append(
                f"approve and apply it: `kubeprod approve {found.path} --by NAME` then "
                f"`kubeprod apply {found.path}`"
            )
        else:
            lines.append("nothing to roll back: the infrastructure already matches that revision")
        emit(args, result, "\n".join(lines))
        return 0

    def cmd_state(args: argparse.Namespace) -> int:
        from kubeprod.change import snapshot

        result = snapshot.restore(
            args.snapshot,
            yes=args.yes,
            at=args.at,
            who=args.by,
            approve_by=args.approve_by,
            emergency=args.emergency,
            reason=args.reason or "",
        )
        emit(
            args,
            result,
            f"restored {result['restored']}: the backend holds serial {result['serial']} "
            f"(recorded as {result['record']})",
        )
        return 0

    def cmd_drift(args: argparse.Namespace) -> int:
        from kubeprod.change import drift

        result = drift.detect(args.spec, args.cloud, local=args.local)
        emit(args, result, drift.describe(result))
        return 1 if result["drift"] else 0

    def cmd_unlock(args: argparse.Namespace) -> int:
        from kubeprod.change import apply

        result = apply.unlock(
            args.spec, args.lock_id, local=args.local, yes=args.yes, cloud=args.cloud
        )
        emit(args, result, f"lock {args.lock_id} cleared in {result['workdir']}")
        return 0

    def cmd_ci(args: argparse.Namespace) -> int:
        from kubeprod.change import ci_templates
        from kubeprod.spec import load_spec

        if not Path(args.spec).is_file():
            raise InputError(
                f"--spec {args.spec} does not exist; the workflow would plan nothing. Fix: "
                "pass the spec the workflow should plan (`kubeprod init` writes one)"
            )
        name = load_spec(args.spec, profile_rules=False).name
        path = ci_templates.write(
            args.system, args.spec, name, args.out, args.force, cloud=args.cloud
        )
        emit(args, {"written": str(path)}, f"wrote {path}")
        return 0

    def cmd_records(args: argparse.Namespace) -> int:
        from kubeprod.change import records

        kept = records.for_spec(args.spec, args.local)
        counts = kept.pull() if args.action == "pull" else kept.push()
        verb = "added from" if args.action == "pull" else "kept in"
        emit(
            args,
            {"action": args.action, "bucket": kept.bucket, "lines": counts},
            "\n".join(
                f"{name}: {n} line(s) {verb} s3://{kept.bucket}" for name, n in counts.items()
            )
            or "no records yet",
        )
        return 0

    def cmd_dr(args: argparse.Namespace) -> int:
        from kubeprod.dr import history

        if args.action == "history":
            from kubeprod.spec import load_spec

            env = load_spec(args.spec, profile_rules=False)
            entries = history.drills(env.name)
            emit(
                args,
                {
                    "environment": env.name,
                    "history": str(history.history_path(env.name)),
                    "drills": entries,
                },
                history.table(entries),
            )
            return 0
        if args.action == "replicate":
            from kubeprod.change import dr_replicate
            from kubeprod.workflow import backend_outputs, prepare, target_for

            target = target_for(args.spec, "aws", args.local)
            backend = backend_outputs(target)
            manifest = dr_replicate.replicate(target, prepare(target, backend), backend)
            replica = manifest.get("state_replica")
            emit(
                args,
                manifest,
                f"state, change log and drill history copied to s3://{manifest['bucket']} "
                f"({manifest['region']}) at {manifest['at']}"
                + (
                    f"; the state also replicates continuously to s3://{replica['bucket']} "
                    f"({replica['region']})"
                    if replica
                    else ""
                ),
            )
            return 0
        from kubeprod.change import drill

        entry = drill.run(
            args.spec,
            args.scenario,
            local=args.local,
            confirm=args.confirm,
            approve_by=args.approve_by,
            say=(lambda _: None) if _json_mode(args) else _say,
        )
        emit(args, entry, history.table([entry]))
        return 0 if entry["status"] == "passed" else 1

    def at_option(p: Any) -> None:
        p.add_argument("--at", help="the time to act as now (ISO 8601; also KUBEPROD_NOW)")

    def gate_options(p: Any) -> None:
        at_option(p)
        p.add_argument("--emergency", action="store_true", help="override the window rule")
        p.add_argument(
            "--override-provenance",
            action="store_true",
            help="allow a plan made from a dirty tree or a branch other than main",
        )
        p.add_argument("--reason", help="why an override is needed (recorded and notified)")

    p = add("review", cmd_review, "review a plan bundle: changes, risks, policy, rollback plan")
    p.add_argument("bundle")
    p.add_argument("--format", choices=("md", "text", "json"), default="text")

    p = add("approve", cmd_approve, "approve exactly one plan (bound to its hash)")
    p.add_argument("bundle")
    p.add_argument("--by", required=True, help="who approves")
    p.add_argument("--plan-hash", help="the plan hash you reviewed; refused if it differs")
    at_option(p)

    p = add("apply", cmd_apply, "apply an approved bundle through the change gate")
    p.add_argument("bundle")
    p.add_argument("--by", help="who applies (default: the OS user)")
    gate_options(p)

    def cmd_cluster(args: argparse.Namespace) -> int:
        from kubeprod.change import cluster as delivery

        if args.action == "plan":
            result = delivery.plan(args.target, args.cloud, out=args.out)
            text = (
                f"bundle {result['bundle']}: manifest set {result['manifests_sha256'][:12]}, "
                + (f"{result['diff_lines']} diff lines" if result["changes"] else "no changes")
                + f"; review it with `kubeprod review {result['bundle']}`"
            )
            emit(args, result, text)
            return 0
        result = delivery.apply(
            args.target,
            at=args.at,
            emergency=args.emergency,
            override_provenance=args.override_provenance,
            reason=args.reason or "",
            who=args.by,
            kubeconfig=args.kubeconfig,
            context=args.context,
        )
        emit(args, result, f"{result['result']}: {result['record']['id']}\n{result['kubectl']}")
        return 0

    p = add(
        "cluster",
        cmd_cluster,
        "the in-cluster baseline: plan (bundle the manifests) or apply an approved bundle",
    )
    p.add_argument("action", choices=("plan", "apply"))
    p.add_argument("target", help="plan: the spec; apply: the bundle `cluster plan` printed")
    p.add_argument("--cloud", choices=CLOUDS, default="aws", help="plan: which cloud's manifests")
    p.add_argument("--out", help="plan: the render directory named in headers")
    p.add_argument("--kubeconfig", help="apply: kubeconfig of the cluster (default: kubectl's)")
    p.add_argument("--context", help="apply: kubeconfig context")
    p.add_argument("--by", help="apply: who applies (default: the OS user)")
    gate_options(p)

    p = add("windows", cmd_windows, "the next maintenance windows, and whether one is open")
    p.add_argument("spec")
    p.add_argument("--count", type=int, default=5)
    p.add_argument("--check", action="store_true", help="exit 1 when no window is open now")
    at_option(p)

    p = add("history", cmd_history, "the change log: every apply, newest last")
    p.add_argument("spec")
    p.add_argument("--limit", type=int, default=50)

    p = add("rollback", cmd_rollback, "plan the spec as it was at a revision, then apply it")
    p.add_argument("spec")
    p.add_argument("--to", required=True, help="git revision, or change id from history")
    p.add_argument("--cloud", choices=CLOUDS, default="aws")
    p.add_argument("--local", action="store_true", help="target the embedded local cloud")
    p.add_argument("--approve-by", help="approve the rollback plan as NAME and apply it")
    gate_options(p)

    p = add("state", cmd_state, "state snapshots: restore one (a gated change of its own)")
    p.add_argument("action", choices=("restore",))
    p.add_argument("snapshot")
    p.add_argument("--yes", action="store_true", help="confirm replacing the current state")
    p.add_argument("--by", help="who restores (default: the OS user)")
    p.add_argument("--approve-by", help="the second person approving the restore")
    at_option(p)
    p.add_argument("--emergency", action="store_true", help="override the window rule")
    p.add_argument("--reason", help="why the override is needed (recorded and notified)")

    p = add("drift", cmd_drift, "refresh-only plan; exit 1 and notify when anything drifted")
    p.add_argument("spec")
    p.add_argument("--cloud", choices=CLOUDS, default="aws")
    p.add_argument("--local", action="store_true", help="target the embedded local cloud")

    p = add("unlock", cmd_unlock, "clear a state lock left by a killed terraform")
    p.add_argument("spec")
    p.add_argument("lock_id")
    p.add_argument("--cloud", choices=CLOUDS, default="aws")
    p.add_argument("--local", action="store_true", help="target the embedded local cloud")
    p.add_argument("--yes", action="store_true", help="confirm no terraform holds the lock")

    p = add("records", cmd_records, "keep the change log and approvals beside the state")
    p.add_argument("action", choices=("pull", "push"))
    p.add_argument("spec")
    p.add_argument("--local", action="store_true", help="target the embedded local cloud")

    p = add("dr", cmd_dr, "disaster recovery: timed drills (DR-3/DR-5) and their history")
    p.add_argument("action", choices=("drill", "history", "replicate"))
    p.add_argument("spec")
    p.add_argument("--scenario", choices=("zone-loss", "region-loss"), default="zone-loss")
    p.add_argument("--local", action="store_true", help="drill on the embedded local cloud")
    p.add_argument("--confirm", help="a real cloud: type the environment's name back")
    p.add_argument("--approve-by", help="a real cloud: the second person approving the repair")

    p = add("ci", cmd_ci, "write CI for the pull-request workflow (GitHub Actions or Atlantis)")
    p.add_argument("system", choices=("github", "atlantis"))
    p.add_argument("--spec", default="environments/production.yaml")
    p.add_argument("--cloud", choices=CLOUDS, default="aws", help="whose OIDC login and backend")
    p.add_argument("--out", help="where to write (default .github/workflows/kubeprod.yml)")
    p.add_argument("--force", action="store_true", help="overwrite an existing file")
