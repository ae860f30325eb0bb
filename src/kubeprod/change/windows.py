"""Maintenance windows (CHG-3): weekly windows in a time zone, freezes, and the
rule that an apply must start at least `min_time_before_close` before a window closes.

Time-zone rules, explicitly:
- a window opens on each listed weekday at `start`, local time in its `timezone`,
  and lasts `duration` of real (elapsed) time: a 4h window is 4 hours even on the
  night the clocks change;
- a start time that does not exist that day (inside a spring-forward gap) opens
  at the same offset after the gap, as cron does (01:30 -> 02:30 BST);
- a start time that happens twice (autumn fall-back) opens at the first one;
- a window may cross midnight: it belongs to the day it opens;
- freeze dates are whole local days (inclusive) in the first window's time zone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from kubeprod.errors import InputError
from kubeprod.spec.model import Maintenance, MaintenanceWindow, duration_minutes

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
HORIZON_DAYS = 400


@dataclass(frozen=True)
class Window:
    """One occurrence of a maintenance window."""

    start: datetime  # aware, in the window's zone
    end: datetime
    timezone: str
    freeze: str | None = None  # why it is frozen, when a freeze overlaps it

    def as_dict(self) -> dict[str, str | None]:
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "start_utc": self.start.astimezone(UTC).isoformat(),
            "end_utc": self.end.astimezone(UTC).isoformat(),
            "timezone": self.timezone,
            "freeze": self.freeze,
        }

    def describe(self) -> str:
        fmt = "%a %Y-%m-%d %H:%M %Z"
        text = f"{self.start.strftime(fmt)} - {self.end.strftime(fmt)} ({self.timezone})"
        return text + (f" FROZEN: {self.freeze}" if self.freeze else "")


@dataclass(frozen=True)
class Decision:
    """May an apply start now? With the reason either way."""

    allowed: bool
    reason: str
    window: Window | None = None
    next_window: Window | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "allowed": self.allowed,
            "reason": self.reason,
            "window": self.window.as_dict() if self.window else None,
            "next_window": self.next_window.as_dict() if self.next_window else None,
        }


@dataclass(frozen=True)
class _Freeze:
    start: datetime
    end: datetime
    reason: str


def _freezes(maintenance: Maintenance) -> list[_Freeze]:
    zone = ZoneInfo(maintenance.windows[0].timezone if maintenance.windows else "UTC")
    found = []
    for index, freeze in enumerate(maintenance.freezes):
        try:
            first, last = date.fromisoformat(freeze.start), date.fromisoformat(freeze.end)
        except ValueError:
            raise InputError(
                f"maintenance.freezes[{index}]: '{freeze.start}'..'{freeze.end}' are not ISO "
                "dates. Fix: write them like 2026-12-20"
            ) from None
        if last < first:
            raise InputError(
                f"maintenance.freezes[{index}]: end {last} is before start {first}. Fix: swap them"
            )
        start = datetime.combine(first, time(0), tzinfo=zone)
        end = datetime.combine(last + timedelta(days=1), time(0), tzinfo=zone)
        found.append(_Freeze(start, end, freeze.reason or f"freeze {first}..{last}"))
    return found


def _local_instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    """`day at` in `zone`, normalised through UTC (gap times move forward, fold=0)."""
    naive = datetime.combine(day, at, tzinfo=zone)
    return naive.astimezone(UTC).astimezone(zone)


def occurrences(window: MaintenanceWindow, since: datetime, until: datetime) -> list[Window]:
    """Occurrences of `window` that end after `since` and start before `until`."""
    zone = ZoneInfo(window.timezone)
    length = timedelta(minutes=duration_minutes(window.duration))
    hour, minute = (int(part) for part in window.start.split(":"))
    first = since.astimezone(zone).date() - timedelta(days=length.days + 1)
    last = until.astimezone(zone).date()
    wanted = {DAYS.index(day) for day in window.days}
    found = []
    day = first
    while day <= last:
        if day.weekday() in wanted:
            start = _local_instant(day, time(hour, minute), zone)
            end = (start.astimezone(UTC) + length).astimezone(zone)
            if end > since and start < until:
                found.append(Window(start, end, window.timezone))
        day += timedelta(days=1)
    return found


def _with_freeze(occurrence: Window, freezes: list[_Freeze]) -> Window:
    for freeze in freezes:
        if freeze.start < occurrence.end and occurrence.start < freeze.end:
            return Window(occurrence.start, occurrence.end, occurrence.timezone, freeze.reason)
    return occurrence


def upcoming(
    maintenance: Maintenance, now: datetime, count: int = 5, days: int = HORIZON_DAYS
) -> list[Window]:
    """The next `count` windows (including one open now), frozen ones marked."""
    freezes = _freezes(maintenance)
    until = now + timedelta(days=days)
    every = [o for w in maintenance.windows for o in occurrences(w, now, until)]
    every.sort(key=lambda o: o.start.astimezone(UTC))
    return [_with_freeze(o, freezes) for o in every[:count]]


def _fmt(moment: datetime) -> str:
    return moment.strftime("%a %Y-%m-%d %H:%M %Z")


def decide(maintenance: Maintenance, now: datetime) -> Decision:
    """Whether an apply may start at `now`, and why (or why not, and when it can)."""
    if not maintenance.windows:
        return Decision(
            False,
            "the spec has no maintenance windows (CHG-3). Fix: add maintenance.windows, "
            "or for an emergency pass --emergency --reason '...'",
        )
    freezes = _freezes(maintenance)
    margin = timedelta(minutes=duration_minutes(maintenance.min_time_before_close))
    nxt = _next_open(maintenance, now, freezes, margin)
    after = f" Next window: {nxt.describe()}." if nxt else " No open window in the next year."
    for freeze in freezes:
        if freeze.start <= now < freeze.end:
            return Decision(
                False,
                f"change freeze until {_fmt(freeze.end)}: {freeze.reason} (CHG-3).{after} "
                "For an emergency pass --emergency --reason '...'",
                None,
                nxt,
            )
    for current in upcoming(maintenance, now, count=4, days=2):
        if not current.start <= now < current.end:
            continue
        close = min([current.end] + [f.start for f in freezes if now < f.start < current.end])
        left = close - now
        if left < margin:
            return Decision(
                False,
                f"the maintenance window closes at {_fmt(close.astimezone(current.start.tzinfo))}"
                f", {_minutes(left)} from now; min_time_before_close is "
                f"{maintenance.min_time_before_close}, so a change may not start now (CHG-3)."
                f"{after}",
                current,
                nxt,
            )
        return Decision(
            True,
            f"inside the maintenance window {current.describe()}; closes in {_minutes(left)}",
            current,
            nxt,
        )
    local_now = now.astimezone(ZoneInfo(maintenance.windows[0].timezone))
    return Decision(
        False,
        f"outside every maintenance window (now {_fmt(local_now)}) (CHG-3).{after} "
        "Fix: apply inside a window, or for an emergency pass --emergency --reason '...'",
        None,
        nxt,
    )


def _minutes(delta: timedelta) -> str:
    total = int(delta.total_seconds() // 60)
    return f"{total // 60}h{total % 60:02d}m" if total >= 60 else f"{total}m"


def _next_open(
    maintenance: Maintenance, now: datetime, freezes: list[_Freeze], margin: timedelta
) -> Window | None:
    """The next window, after `now`, with an unfrozen start and room before it closes."""
    for occurrence in upcoming(maintenance, now, count=10_000):
        if occurrence.start <= now or occurrence.freeze:
            continue
        if occurrence.end - occurrence.start >= margin:
            return occurrence
    return None
