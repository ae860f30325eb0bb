"""The change log (CHG-4/5 record): JSON lines, appended, never rewritten.

Lives at `$KUBEPROD_HOME/changelog/<environment>.jsonl`. A change writes a
`started` record before anything is touched and a `finished` record (same id)
with the result after; `read` merges them, so a kubeprod that died mid-change
still leaves "started, no result". Each record is one whole line written with a
single write and fsync; a short write (full disk) is cut back so no torn line
stays. A torn last line left by an older writer or a crash is reported and kept
aside (`<log>.torn`), never allowed to hide the rest of the log.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

from kubeprod.change.records_model import ChangeEntry, problems
from kubeprod.errors import InputError, KubeprodError
from kubeprod.paths import home

ID_RE = re.compile(r"^c(\d{4,})$")
MIN_FREE_BYTES = 1 << 20


def log_path(env_name: str) -> Path:
    return home() / "changelog" / f"{env_name}.jsonl"


class LogNotWritable(KubeprodError):
    """The change log cannot take a record: nothing is changed without one."""

    exit_code = 4


def _records(path: Path, raw: bytes) -> tuple[list[dict[str, Any]], list[str]]:
    """Parsed records and notes about a torn last line; InputError on a damaged line."""
    records: list[dict[str, Any]] = []
    notes: list[str] = []
    lines = raw.split(b"\n")
    torn = lines.pop() if lines else b""  # after the last newline: "" when the log is whole
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        records.append(_parse(path, number, line))
    if torn.strip():
        notes.append(
            f"{path}:{len(lines) + 1}: the last line is torn (a write was cut short, e.g. a "
            f"full disk); ignored: {torn[:80]!r}. The next record moves it to {path}.torn"
        )
    return records, notes


def _parse(path: Path, number: int, line: bytes) -> dict[str, Any]:
    fix = (
        "Fix: restore the line from a backup copy (the log is append-only), or move the "
        "damaged line to a separate file and keep a note of why"
    )
    try:
        value = json.loads(line.decode("utf-8"))
    except UnicodeDecodeError:
        raise InputError(f"{path}:{number}: the line is not UTF-8 text. {fix}") from None
    except json.JSONDecodeError:
        raise InputError(f"{path}:{number}: not a JSON line. {fix}") from None
    if not isinstance(value, dict):
        raise InputError(
            f"{path}:{number}: a change-log record is a JSON object, not "
            f"{type(value).__name__}. {fix}"
        )
    if not isinstance(value.get("id"), str) or not ID_RE.match(value["id"]):
        raise InputError(f"{path}:{number}: the record has no change id like c0001. {fix}")
    wrong = problems(ChangeEntry, value)
    if wrong:
        raise InputError(f"{path}:{number}: {value['id']}: {'; '.join(wrong)}. {fix}")
    return value


def read_with_notes(env_name: str) -> tuple[list[dict[str, Any]], list[str]]:
    """Every change, oldest first (started + finished records merged), and notes."""
    path = log_path(env_name)
    if not path.exists():
        return [], []
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read the change log ({exc.strerror})") from None
    records, notes = _records(path, raw)
    merged: dict[str, dict[str, Any]] = {}
    for record in records:
        entry = merged.setdefault(record["id"], {})
        entry.update(record)
    for entry in merged.values():
        if entry.get("phase") == "started":  # kubeprod stopped before the result
            entry["result"] = "started, no result recorded"
    return list(merged.values()), notes


def read(env_name: str) -> list[dict[str, Any]]:
    return read_with_notes(env_name)[0]


def check_writable(env_name: str) -> Path:
    """Refuse before a change when the log's folder cannot take a record."""
    path = log_path(env_name)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        free = shutil.disk_usage(path.parent).free
    except OSError as exc:
        raise LogNotWritable(
            f"the change log folder {path.parent} cannot be created ({exc.strerror}); nothing "
            "was changed. Fix: make KUBEPROD_HOME writable"
        ) from None
    if free < MIN_FREE_BYTES:
        raise LogNotWritable(
            f"only {free} bytes are free under {path.parent}; a change is not started when "
            "its record may not fit. Fix: free disk space, then run the command again"
        )
    return path


def _repair_torn_tail(fd: int, path: Path) -> None:
    """Move bytes after the last newline to `<log>.torn` and cut them off."""
    size = os.fstat(fd).st_size
    if size == 0:
        return
    os.lseek(fd, 0, os.SEEK_SET)
    data = b""
    while chunk := os.read(fd, 1 << 20):
        data += chunk
    if data.endswith(b"\n"):
        return
    cut = data.rfind(b"\n") + 1
    with open(f"{path}.torn", "ab") as aside:
        aside.write(data[cut:] + b"\n")
    os.ftruncate(fd, cut)


def _next_id(fd: int) -> str:
    os.lseek(fd, 0, os.SEEK_SET)
    data = b""
    while chunk := os.read(fd, 1 << 20):
        data += chunk
    numbers = [int(m) for m in re.findall(rb'"id": "c(\d{4,})"', data)]
    return f"c{max(numbers, default=0) + 1:04d}"


def _write(env_name: str, record: dict[str, Any] | None, entry: dict[str, Any]) -> dict[str, Any]:
    path = check_writable(env_name)
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
    except OSError as exc:
        raise LogNotWritable(
            f"cannot open the change log {path} ({exc.strerror}). Fix: make it writable"
        ) from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        _repair_torn_tail(fd, path)
        full = {"id": _next_id(fd), **entry} if record is None else {**record, **entry}
        data = (json.dumps(full, sort_keys=True, default=str) + "\n").encode()
        before = os.fstat(fd).st_size
        try:
            written = os.write(fd, data)
            if written != len(data):
                raise OSError(errno.ENOSPC, "short write")
            os.fsync(fd)
        except OSError as exc:
            os.ftruncate(fd, before)  # no torn line: the record is whole or absent
            raise LogNotWritable(
                f"could not write to the change log {path} ({exc.strerror}); the record "
                f"was not written: {json.dumps(full, default=str)[:400]}. Fix: free disk "
                "space and add the record by hand, or re-run the command"
            ) from None
        return full
    finally:
        os.close(fd)


def append(env_name: str, entry: dict[str, Any]) -> dict[str, Any]:
    """Append one complete record with the next id (c0001, c0002 ...); return it."""
    return _write(env_name, None, entry)


def start(env_name: str, entry: dict[str, Any]) -> dict[str, Any]:
    """The `started` record, written before a change touches anything."""
    return _write(env_name, None, {**entry, "phase": "started"})


def finish(env_name: str, started: dict[str, Any], entry: dict[str, Any]) -> dict[str, Any]:
    """The `finished` record of a started change (same id); returns the merged record."""
    written = _write(env_name, {"id": started["id"]}, {**entry, "phase": "finished"})
    return {**started, **written}


def find(env_name: str, change_id: str) -> dict[str, Any] | None:
    return next((e for e in read(env_name) if e.get("id") == change_id), None)


def last_success(env_name: str, target: str) -> dict[str, Any] | None:
    done = [e for e in read(env_name) if e.get("result") == "success" and e.get("target") == target]
    return done[-1] if done else None


def _first_line(value: Any) -> str:
    text = str(value)
    return text.splitlines()[0] if text.strip() else text


def describe(entries: list[dict[str, Any]]) -> str:
    if not entries:
        return "no changes recorded yet"
    lines = []
    for e in entries:
        override = e.get("override")
        why = (
            "; ".join(f"{k}: {v}" for k, v in override.items() if v)
            if isinstance(override, dict)
            else ""
        )
        snap = e.get("snapshot") if isinstance(e.get("snapshot"), dict) else None
        simulated = f" (simulated {e['simulated_at']})" if e.get("simulated_at") else ""
        lines.append(
            f"{e.get('id')}  {e.get('finished_at') or e.get('started_at')}{simulated}  "
            f"{e.get('kind') or 'change'}  {e.get('result')!s:<8} "
            f"by {e.get('who')}  plan {str(e.get('plan_sha256'))[:12]}  "
            f"rev {str(e.get('spec_revision') or '-')[:12]}  {e.get('duration_s')}s  "
            f"{e.get('target')}"
            + (f"\n       snapshot {snap.get('local')}" if snap else "")
            + (f"\n       override {why}" if why else "")
            + (f"\n       error {_first_line(e['error'])}" if e.get("error") else "")
        )
    return "\n".join(lines)
