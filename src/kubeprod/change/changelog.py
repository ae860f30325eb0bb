"""The change log (CHG-4/5 record): one JSON line per apply, appended, never rewritten.

Lives at `$KUBEPROD_HOME/changelog/<environment>.jsonl`. Each line: id, who, when,
plan hash, spec revision, result, duration, snapshot location, override reasons.
"""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path
from typing import Any

from kubeprod.errors import KubeprodError


def home() -> Path:
    return Path(os.environ.get("KUBEPROD_HOME", ".kubeprod")).resolve()


def log_path(env_name: str) -> Path:
    return home() / "changelog" / f"{env_name}.jsonl"


def read(env_name: str) -> list[dict[str, Any]]:
    """Every entry, oldest first; a damaged line is reported, not skipped silently."""
    path = log_path(env_name)
    if not path.exists():
        return []
    entries = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            entries.append(json.loads(line))
        except json.JSONDecodeError:
            raise KubeprodError(
                f"{path}:{number}: not a JSON line: the change log was edited by hand. "
                "Fix: restore the line from backup; the log is append-only"
            ) from None
    return entries


def append(env_name: str, entry: dict[str, Any]) -> dict[str, Any]:
    """Append `entry` with the next id (c0001, c0002 ...) under a file lock; return it."""
    path = log_path(env_name)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        handle.seek(0)
        count = sum(1 for line in handle if line.strip())
        record = {"id": f"c{count + 1:04d}", **entry}
        handle.seek(0, os.SEEK_END)
        handle.write(json.dumps(record, sort_keys=True) + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    return record


def find(env_name: str, change_id: str) -> dict[str, Any] | None:
    return next((e for e in read(env_name) if e.get("id") == change_id), None)


def last_success(env_name: str, target: str) -> dict[str, Any] | None:
    done = [e for e in read(env_name) if e.get("result") == "success" and e.get("target") == target]
    return done[-1] if done else None


def describe(entries: list[dict[str, Any]]) -> str:
    if not entries:
        return "no changes recorded yet"
    lines = []
    for e in entries:
        override = e.get("override") or {}
        why = "; ".join(f"{k}: {v}" for k, v in override.items() if v)
        lines.append(
            f"{e['id']}  {e.get('finished_at') or e.get('started_at')}  {e.get('result'):<8} "
            f"by {e.get('who')}  plan {str(e.get('plan_sha256'))[:12]}  "
            f"rev {str(e.get('spec_revision') or '-')[:12]}  {e.get('duration_s')}s  "
            f"{e.get('target')}"
            + (f"\n       snapshot {e['snapshot'].get('local')}" if e.get("snapshot") else "")
            + (f"\n       override {why}" if why else "")
            + (f"\n       error {e['error'].splitlines()[0]}" if e.get("error") else "")
        )
    return "\n".join(lines)
