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

from kubeprod.errors import KubeprodError

STEPS = ("declared", "recovery_started", "infrastructure_ready", "verified")


def home() -> Path:
    return Path(os.environ.get("KUBEPROD_HOME", ".kubeprod")).resolve()


def history_path(env_name: str) -> Path:
    return home() / "dr" / f"{env_name}.jsonl"


def read_lines(path: Path) -> list[dict[str, Any]]:
    """Every line, oldest first; a damaged line is reported, not skipped silently."""
    if not path.exists():
        return []
    entries = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            entries.append(json.loads(line))
        except json.JSONDecodeError:
            raise KubeprodError(
                f"{path}:{number}: not a JSON line: the drill history was edited by hand. "
                "Fix: restore it from the recovery-region copy (docs/dr.md)"
            ) from None
    return entries


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
