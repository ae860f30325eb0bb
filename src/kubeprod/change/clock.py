"""The current time. Simulated time (`--at` or KUBEPROD_NOW) is for the local cloud only.

Read-only commands (`windows`) may look at any moment. A change to a real cloud is
judged and recorded at the real clock, always: an apply, approval or restore with a
simulated time is refused unless the bundle targets the embedded local cloud, and
then the change log keeps the simulated time beside the real one.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime

from kubeprod.errors import InputError, KubeprodError

# Far enough for any maintenance calendar, near enough that a year of windows fits.
EARLIEST_YEAR, LATEST_YEAR = 1970, 2999


class SimulatedTimeRefused(KubeprodError):
    """A simulated clock was offered for a change to a real cloud."""

    exit_code = 4


def parse_instant(text: str, *, source: str = "--at") -> datetime:
    """An ISO 8601 instant between 1970 and 2999; one without an offset is taken as UTC."""
    fix = "Fix: write it like 2026-03-31T02:30:00+01:00 or 2026-03-31T01:30:00Z"
    if not text.strip():
        raise InputError(f"{source} is empty. {fix}")
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
        value = value if value.tzinfo else value.replace(tzinfo=UTC)
        value.astimezone(UTC)
    except (ValueError, OverflowError):
        raise InputError(f"{source} '{text}' is not an ISO 8601 time. {fix}") from None
    if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise InputError(
            f"{source} '{text}' is outside {EARLIEST_YEAR}..{LATEST_YEAR}, the years kubeprod "
            f"plans maintenance windows for. {fix}"
        )
    return value


def injected(at: str | None = None) -> tuple[str, str] | None:
    """(text, source) of a simulated time from `at` or KUBEPROD_NOW, or None."""
    if at is not None:
        return at, "--at"
    env = os.environ.get("KUBEPROD_NOW")
    return (env, "KUBEPROD_NOW") if env is not None else None


def now(at: str | None = None) -> datetime:
    """`at` if given, else KUBEPROD_NOW if set, else the system clock (all aware, UTC)."""
    given = injected(at)
    if given is not None:
        return parse_instant(given[0], source=given[1]).astimezone(UTC)
    return datetime.now(UTC)


def real() -> datetime:
    """The system clock: what every change record says happened when."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class Moment:
    """When a change is judged (`effective`) and when it really happens (`real`)."""

    effective: datetime
    real: datetime
    simulated: bool

    def record(self) -> dict[str, str | None]:
        """The change-log fields: the simulated time, when there is one."""
        return {"simulated_at": self.effective.isoformat() if self.simulated else None}


def change_moment(at: str | None, *, local: bool, what: str = "an apply") -> Moment:
    """The clock for a change: simulated time only for the local cloud (tests, drills)."""
    wall = real()
    given = injected(at)
    if given is None:
        return Moment(wall, wall, False)
    moment = parse_instant(given[0], source=given[1]).astimezone(UTC)
    if not local:
        raise SimulatedTimeRefused(
            f"{given[1]} sets a simulated time, and the clock of {what} against a real cloud "
            "is the real clock, always (CHG-3). Fix: drop "
            + ("--at" if given[1] == "--at" else "KUBEPROD_NOW from the environment")
            + "; outside a window use --emergency --reason '...'. Simulated time is only "
            "for the embedded local cloud (--local)"
        )
    return Moment(moment, wall, True)


def stamp(moment: datetime) -> str:
    """A compact, sortable UTC timestamp for file names: 20260331T013000Z."""
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
