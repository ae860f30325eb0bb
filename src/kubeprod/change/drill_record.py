"""A drill's record and the recovery steps both scenarios share (kubeprod.change.drill runs them).

`Drill` writes the history entry as the drill goes (declared, each step, the end);
`repair` carries the recovery through the change process; `clean_second_plan` is the
verification `up` ends with.
"""

from __future__ import annotations

import getpass
import itertools
import os
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from kubeprod import workflow
from kubeprod.change import apply, approval, bundle, drill_breaks
from kubeprod.change.planning import plan
from kubeprod.dr import history
from kubeprod.errors import KubeprodError

DRILL_APPROVER = "kubeprod-dr-drill"


def _now() -> datetime:
    return datetime.now(UTC)


class Drill:
    """One drill's record: steps, times, result; written to the history as it goes."""

    def __init__(self, env: Any, scenario: str, target: str, cloud: str = "aws"):
        moment = _now()
        targets = getattr(env.dr.targets, scenario.replace("-", "_"))
        self.env = env
        self.entry: dict[str, Any] = {
            "id": f"drill-{moment.strftime('%Y%m%dT%H%M%SZ')}-{scenario}",
            "environment": env.name,
            "scenario": scenario,
            "cloud": cloud,
            "target": target,
            "operator": getpass.getuser(),
            "pid": os.getpid(),
            "status": "running",
            "steps": {},
            "timeline": [],
            "targets": {"rto_minutes": targets.rto_minutes, "rpo_minutes": targets.rpo_minutes},
        }
        self.next_step = "declared"

    @property
    def id(self) -> str:
        return str(self.entry["id"])

    def step(self, name: str, at: datetime | None = None) -> datetime:
        moment = at or _now()
        self.entry["steps"][name] = moment.isoformat()
        following = history.STEPS[history.STEPS.index(name) + 1 :]
        self.next_step = following[0] if following else "done"
        history.record(self.env.name, self.entry)
        return moment

    def note(self, what: str, **detail: Any) -> None:
        self.entry["timeline"].append({"at": _now().isoformat(), "what": what, **detail})

    def finish(self, rpo_minutes: float, recovery_point: str | None) -> dict[str, Any]:
        steps = self.entry["steps"]
        declared = history.parse_time(steps["declared"])
        verified = history.parse_time(steps["verified"])
        rto = (verified - declared).total_seconds() / 60
        targets = self.entry["targets"]
        within = rto <= targets["rto_minutes"] and rpo_minutes <= targets["rpo_minutes"]
        self.entry.update(
            {
                "rto_minutes": round(rto, 2),
                "rpo_minutes": round(rpo_minutes, 2),
                "recovery_point": recovery_point,
                "within_targets": within,
                "status": "passed" if within else "failed",
                "step_seconds": _step_seconds(steps),
            }
        )
        history.record(self.env.name, self.entry)
        return self.entry

    def stopped(self, error: BaseException) -> None:
        interrupted = isinstance(error, KeyboardInterrupt)
        self.entry.update(
            {
                "status": "interrupted" if interrupted else "failed",
                "stopped_at": self.next_step,
                "error": (str(error) or type(error).__name__).splitlines()[0][:300],
            }
        )
        history.record(self.env.name, self.entry)


def _step_seconds(steps: dict[str, str]) -> dict[str, float]:
    times = [(s, history.parse_time(steps[s])) for s in history.STEPS if s in steps]
    return {
        f"{a}->{b}": round((tb - ta).total_seconds(), 1)
        for (a, ta), (b, tb) in itertools.pairwise(times)
    }


def repair(
    drill: Drill, spec: str, *, local: bool, approve_by: str | None, say: Callable[[str], None]
) -> dict[str, Any]:
    """Plan, approve and apply the repair through the change gate, as an emergency change
    that carries the drill's ID. Returns the apply result."""
    say("plan the repair ...")
    planned = plan(spec, "aws", local=local)
    drill.note("planned", bundle=planned["bundle"], counts=planned["counts"])
    found = bundle.load(planned["bundle"])
    approver = approve_by or DRILL_APPROVER
    approval.approve(found, approver)
    say(f"apply as an emergency change (drill {drill.id}) ...")
    started = time.monotonic()
    result = apply.apply_bundle(
        planned["bundle"],
        emergency=True,
        override_provenance=True,
        reason=f"DR drill {drill.id} ({drill.entry['scenario']}): recovery",
        who=drill.entry["operator"],
        quiet=True,
    )
    record = result.get("record") or {}
    drill.entry["change_id"] = record.get("id")
    drill.note(
        "applied",
        change_id=record.get("id"),
        seconds=round(time.monotonic() - started, 1),
        approved_by=approver,
    )
    return result


def clean_second_plan(spec: str, *, local: bool) -> dict[str, int]:
    """The verification `up` ends with: a second plan has nothing to do."""
    made = workflow.make_plan(spec, "aws", local=local)
    if made.changed:
        raise KubeprodError(
            f"after the recovery a second plan still has changes: {made.counts}. Fix: "
            "see `kubeprod plan` and docs/dr.md"
        )
    return made.counts


def verify(
    drill: Drill, target: Any, spec: str, *, local: bool, say: Callable[[str], None]
) -> None:
    """The checks `up` reports, read back through the API, and a clean second plan."""
    say("verify: the checks of `up` and a clean second plan ...")
    outputs = workflow.prepare(target, workflow.backend_outputs(target)).output_json()
    problems = drill_breaks.verify_zones(target, outputs)
    if problems:
        raise KubeprodError("verification failed: " + "; ".join(problems))
    clean_second_plan(spec, local=local)
    drill.step("verified")
