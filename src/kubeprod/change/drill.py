"""`kubeprod dr drill`: break the environment for real, recover through the change process,
and time it against the spec's RTO/RPO (DR-3, DR-5).

Steps, each timed: declared -> recovery started -> infrastructure ready -> verified.

- zone-loss: one zone's NAT gateway, route table association and a node group are
  deleted through the cloud API (kubeprod.change.drill_breaks); then drift detection,
  a plan bundle, an emergency approval and apply through the apply gate (its change-log
  record carries the drill ID), and the checks `up` reports plus a clean second plan.
  No data is restored, so the RPO is zero by construction and recorded as such.
- region-loss: kubeprod.change.drill_region (the failover runbook of docs/dr.md).

RTO = verified - declared. The history entry is written when the drill is declared and
again when it ends (passed, failed, or interrupted with the step it stopped at), so a
drill killed mid-way leaves a record; the apply itself always leaves its change-log record.
"""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from kubeprod.change import drill_region, drill_zone, notify
from kubeprod.change.drill_record import Drill
from kubeprod.dr import history
from kubeprod.errors import InputError, KubeprodError
from kubeprod.spec import load_spec

SCENARIOS = ("zone-loss", "region-loss")


class DrillInterrupted(KubeprodError):
    """The drill stopped before it was verified; its history entry says where."""

    exit_code = 1


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM stops a drill like Ctrl-C does, so the history entry is written."""

    def handler(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def guard_real_cloud(env_name: str, *, local: bool, confirm: str | None) -> None:
    """A drill breaks the environment on purpose: a real cloud needs its name typed back."""
    if local:
        return
    if confirm != env_name:
        raise InputError(
            f"a DR drill deletes parts of '{env_name}' on purpose, against the real cloud. "
            f"Fix: run it on the local cloud with --local, or type the environment's name "
            f"back to confirm: --confirm {env_name}"
        )


def _notify(env: Any, entry: dict[str, Any]) -> list[dict[str, Any]]:
    ok = entry["status"] == "passed"
    rto, rpo = entry.get("rto_minutes"), entry.get("rpo_minutes")
    body = f"drill {entry['id']} ({entry['scenario']}, {entry['target']}): {entry['status']}; " + (
        f"RTO {rto} min (target {entry['targets']['rto_minutes']}), "
        f"RPO {rpo} min (target {entry['targets']['rpo_minutes']})"
        if rto is not None
        else f"stopped at {entry.get('stopped_at')}: {entry.get('error')}"
    )
    return [
        d.as_dict()
        for d in notify.notify(
            env.notifications.targets,
            "success" if ok else "failure",
            f"kubeprod DR drill {'passed' if ok else entry['status'].upper()}: {env.name}",
            body,
        )
    ]


def run(
    spec: str,
    scenario: str,
    *,
    local: bool,
    confirm: str | None = None,
    approve_by: str | None = None,
    say: Callable[[str], None] = lambda _: None,
) -> dict[str, Any]:
    """Run one drill; return its history entry (raises DrillInterrupted when it stops)."""
    if scenario not in SCENARIOS:
        raise InputError(f"unknown scenario '{scenario}'. Fix: use {' or '.join(SCENARIOS)}")
    env = load_spec(spec)
    guard_real_cloud(env.name, local=local, confirm=confirm)
    if not local and not approve_by:
        raise InputError(
            "against a real cloud the repair is a normal change: it needs the approval of "
            "someone other than the operator. Fix: pass --approve-by NAME (a second person)"
        )
    if env.clouds.aws is None:
        raise InputError("the drill runs the AWS module: the spec has no clouds.aws section")
    if scenario == "region-loss" and not env.dr.recovery_region.aws:
        raise InputError(
            "a region-loss drill rebuilds into the recovery region, and none is set. "
            "Fix: set dr.recovery_region.aws (e.g. eu-central-1)"
        )

    runner = drill_zone.run if scenario == "zone-loss" else drill_region.run
    drill = Drill(env, scenario, "local" if local else "aws")
    entry: dict[str, Any]
    with _sigterm_as_interrupt():
        try:
            entry = runner(drill, spec, local=local, approve_by=approve_by, say=say)
        except (KeyboardInterrupt, Exception) as exc:
            drill.stopped(exc)
            drill.entry["notifications"] = _notify(env, drill.entry)
            history.record(env.name, drill.entry)
            raise DrillInterrupted(
                f"drill {drill.id} stopped at '{drill.entry['stopped_at']}': "
                f"{drill.entry['error']}. The history records it (`kubeprod dr history "
                f"{spec}`); the change log holds any apply it made (`kubeprod history {spec}`)"
            ) from None
    entry["notifications"] = _notify(env, entry)
    history.record(env.name, entry)
    return entry
