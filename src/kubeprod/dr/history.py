"""The drill history (DR-3 / DR-5): one JSON line per drill, appended, never rewritten.

Lives at `$KUBEPROD_HOME/dr/<environment>.jsonl`. A drill writes its entry when it is
declared (status "running") and again when it ends ("passed", "failed" or "interrupted",
with the step it stopped at), so a drill killed mid-way still leaves a record. Readers
take the last line of each drill ID.
"""

from __future__ import annotations

import fcntl
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kubeprod.errors import InputError
from kubeprod.paths import home as kubeprod_home

STEPS = ("declared", "recovery_started", "infrastructure_ready", "verified")


def home() -> Path:
    return kubeprod_home()


def history_path(env_name: str) -> Path:
    return home() / "dr" / f"{env_name}.jsonl"


def read_lines(path: Path) -> list[dict[str, Any]]:
    """Every line, oldest first; a damaged line is reported, not skipped silently."""
    if not path.exists():
        return []
    entries = []
    fix = "Fix: restore it from the recovery-region copy (docs/dr.md)"
    for number, raw in enumerate(path.read_bytes().splitlines(), 1):
        if not raw.strip():
            continue
        try:
            entry = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise InputError(
                f"{path}:{number}: not a JSON line: the drill history was edited by hand. {fix}"
            ) from None
        if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
            raise InputError(f"{path}:{number}: not a drill record (no drill id). {fix}")
        wrong = _record_problem(entry)
        if wrong:
            raise InputError(f"{path}:{number}: drill {entry['id']}: {wrong}. {fix}")
        entries.append(entry)
    return entries


def _record_problem(entry: dict[str, Any]) -> str | None:
    """Why a drill record cannot be read (wrong types, an unreadable step time), or None."""
    for key in ("status", "cloud", "scenario"):
        if key in entry and not isinstance(entry[key], str):
            return f"{key} must be text"
    for key in ("rto_minutes", "rpo_minutes"):
        value = entry.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            return f"{key} must be a number"
    steps = entry.get("steps", {})
    if not isinstance(steps, dict):
        return "steps must map step names to times"
    if entry.get("status") in ("passed", "failed") and "declared" not in steps:
        return "a finished drill has no declared time"
    for step, at in steps.items():
        try:
            parse_time(at)
        except (TypeError, ValueError):
            return f"steps.{step} {at!r} is not an ISO 8601 time"
    return None


def drills(env_name: str, path: Path | None = None) -> list[dict[str, Any]]:
    """One entry per drill (its latest state), in the order drills were declared."""
    latest: dict[str, dict[str, Any]] = {}
    for entry in read_lines(path or history_path(env_name)):
        latest[entry["id"]] = entry
    return list(latest.values())


def record(env_name: str, entry: dict[str, Any]) -> None:
    """Append the drill's current state under a file lock, flushed to disk."""
    path = history_path(env_name)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        handle.write(json.dumps(entry, sort_keys=True) + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def parse_time(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def last_passing(entries: list[dict[str, Any]], cloud: str) -> dict[str, Any] | None:
    passing = [e for e in entries if e.get("status") == "passed" and e.get("cloud") == cloud]
    return max(passing, key=lambda e: e["steps"]["declared"]) if passing else None


def last_of(entries: list[dict[str, Any]], cloud: str, scenario: str) -> dict[str, Any] | None:
    """The newest finished drill (passed or failed) of one scenario on one cloud."""
    done = [
        e
        for e in entries
        if e.get("cloud") == cloud
        and e.get("scenario") == scenario
        and e.get("status") in ("passed", "failed")
    ]
    return max(done, key=lambda e: e["steps"]["declared"]) if done else None


def table(entries: list[dict[str, Any]]) -> str:
    """The `kubeprod dr history` table: one drill per block, every step's time."""
    if not entries:
        return "no drills recorded yet: run `kubeprod dr drill SPEC --local`"
    lines = []
    for e in entries:
        rto, rpo = e.get("rto_minutes"), e.get("rpo_minutes")
        targets = e.get("targets") or {}
        lines.append(
            f"{e['id']}  {e.get('scenario'):<11} {e.get('status'):<11} {e.get('target')}  "
            f"RTO {_minutes(rto)} (target {targets.get('rto_minutes')})  "
            f"RPO {_minutes(rpo)} (target {targets.get('rpo_minutes')})"
        )
        for step in STEPS:
            at = (e.get("steps") or {}).get(step)
            if at:
                lines.append(f"    {step:<21} {at}")
        if e.get("stopped_at"):
            lines.append(f"    stopped at            {e['stopped_at']}: {e.get('error', '')}")
        if e.get("change_id"):
            lines.append(f"    change                {e['change_id']}")
    return "\n".join(lines)


def _minutes(value: Any) -> str:
    return "-" if value is None else f"{value:.1f} min"
