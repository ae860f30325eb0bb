"""The current time, injectable for tests and rehearsals (`--at` or KUBEPROD_NOW)."""

from __future__ import annotations

import os
from datetime import UTC, datetime

from kubeprod.errors import InputError


def parse_instant(text: str, *, source: str = "--at") -> datetime:
    """An ISO 8601 instant; one without an offset is taken as UTC."""
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise InputError(
            f"{source} '{text}' is not an ISO 8601 time. Fix: write it like "
            "2026-03-31T02:30:00+01:00 or 2026-03-31T01:30:00Z"
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def now(at: str | None = None) -> datetime:
    """`at` if given, else KUBEPROD_NOW if set, else the system clock (all aware, UTC)."""
    if at:
        return parse_instant(at).astimezone(UTC)
    injected = os.environ.get("KUBEPROD_NOW")
    if injected:
        return parse_instant(injected, source="KUBEPROD_NOW").astimezone(UTC)
    return datetime.now(UTC)


def stamp(moment: datetime) -> str:
    """A compact, sortable UTC timestamp for file names: 20260331T013000Z."""
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
