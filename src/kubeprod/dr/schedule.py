"""DR-5: the worst-case age of the newest recovery point, from each cloud's schedule syntax.

A backup schedule meets an RPO only if, at every moment, the newest *usable* recovery
point is younger than the RPO. A recovery point is usable once its job has completed, so
the worst case is reached just before a late job completes:

    worst case = largest gap between two firings
               + start window       (the job may start this late: AWS `start_window`)
               + completion window  (the job may run this long before it completes)

The completion window counts because a recovery point that is still being written cannot
be restored (AWS Backup: status COMPLETED; AKS and GKE likewise). AKS Backup and Backup for
GKE have no start window setting; the spec's `completion_window_minutes` is the allowance
for the job's run on every cloud (docs/dr.md, "How the RPO is proven").

Firing times come from croniter (a maintained cron library), never a hand-written parser:
- AWS `cron(min hour day-of-month month day-of-week year)` is translated to croniter's
  five fields (AWS numbers days of the week 1-7 from Sunday, cron 0-6; `?` is `*`);
- AKS Backup takes an ISO 8601 repeating interval `R/<start>/<period>` (PT4H, PT6H, PT8H,
  PT12H, P1D or P1W: learn.microsoft.com, "AKS backup policy");
- Backup for GKE takes a standard five-field cron or `rpo_config.target_rpo_minutes`, which
  the service schedules itself to meet (cloud.google.com, "Backup for GKE: backup plans").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

# AKS Backup for Kubernetes offers only these repeating intervals (minutes).
AKS_INTERVALS = {"PT4H": 240, "PT6H": 360, "PT8H": 480, "PT12H": 720, "P1D": 1440, "P1W": 10080}
MIN_GAP_MINUTES = 60  # AWS Backup and AKS refuse schedules more frequent than hourly
_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
_MAX_FIRINGS = 20_000
_AWS_CRON = re.compile(r"^cron\((.*)\)$")


class ScheduleError(ValueError):
    """A schedule that cannot be parsed or can never bound the RPO; str is the reason."""


@dataclass(frozen=True)
class Schedule:
    """One cloud's backup schedule as it is rendered."""

    cloud: str
    syntax: str  # "aws-cron" | "iso8601" | "cron" | "target-rpo"
    expression: str
    start_window_minutes: int = 0
    completion_window_minutes: int = 0


@dataclass(frozen=True)
class WorstCase:
    """The worst-case age of the newest usable recovery point, and how it adds up."""

    minutes: int
    max_gap_minutes: int
    detail: str


def aws_cron_to_cron5(expression: str) -> str:
    """`cron(0 */2 * * ? *)` -> `0 */2 * * *` (croniter's five fields)."""
    match = _AWS_CRON.match(expression.strip())
    if not match:
        raise ScheduleError(
            f"'{expression}' is not an AWS Backup schedule; write it as cron(minutes hours "
            "day-of-month month day-of-week year), like cron(0 */2 * * ? *)"
        )
    fields = match.group(1).split()
    if len(fields) != 6:
        raise ScheduleError(
            f"'{expression}' has {len(fields)} fields; AWS cron has 6 "
            "(minutes hours day-of-month month day-of-week year), like cron(0 */2 * * ? *)"
        )
    minute, hour, dom, month, dow, year = fields
    if year not in ("*", "?"):
        raise ScheduleError(
            f"'{expression}' is limited to the year(s) {year}: a schedule that stops "
            "firing cannot bound the RPO; use * for the year"
        )
    if (dom == "?") == (dow == "?"):
        raise ScheduleError(
            f"'{expression}': AWS cron needs '?' in exactly one of day-of-month and "
            "day-of-week, like cron(0 */2 * * ? *)"
        )
    cron5 = " ".join((minute, hour, "*" if dom == "?" else dom, month, _aws_dow(dow)))
    _check_cron(cron5, expression)
    return cron5


def _aws_dow(field: str) -> str:
    """AWS numbers days 1-7 from Sunday; cron 0-6. Names pass through."""
    if field == "?":
        return "*"

    def shift(match: re.Match[str]) -> str:
        number = int(match.group(0))
        if not 1 <= number <= 7:
            raise ScheduleError(f"day-of-week {number} is outside AWS's 1-7 (SUN=1)")
        return str(number - 1)

    head, sep, nth = field.partition("#")  # 2#1 = first Monday: the part after # is a count
    return re.sub(r"\d+", shift, head) + sep + nth


def _check_cron(cron5: str, shown: str) -> None:
    from croniter import croniter  # lazy, for start-up time: only cron schedules need it

    if not croniter.is_valid(cron5):
        raise ScheduleError(f"'{shown}' is not a cron expression croniter can read")


def cron_gaps(cron5: str, shown: str | None = None) -> int:
    """The largest gap, in minutes, between consecutive firings of a five-field cron."""
    from croniter import croniter  # lazy, for start-up time: only cron schedules need it

    shown = shown or cron5
    _check_cron(cron5, shown)
    _minute, _hour, dom, month, _dow = cron5.split()
    # A pattern free in day-of-month and month repeats every week; otherwise look over
    # four years and a day, so 29 February and month lengths all come round.
    weekly = dom == "*" and month == "*"
    horizon = timedelta(days=15 if weekly else 4 * 366 + 1)
    it = croniter(cron5, _EPOCH - timedelta(minutes=1))
    previous = it.get_next(datetime)
    first = previous
    largest = 0
    for _ in range(_MAX_FIRINGS):
        current = it.get_next(datetime)
        gap = int((current - previous).total_seconds() // 60)
        if gap < MIN_GAP_MINUTES:
            raise ScheduleError(
                f"'{shown}' fires {gap} minute(s) apart; AWS Backup and AKS Backup run at "
                "most hourly"
            )
        largest = max(largest, gap)
        previous = current
        if current - first > horizon:
            return largest
    raise ScheduleError(f"'{shown}' fires too often to judge; back up at most hourly")


def parse_iso_interval(expression: str) -> tuple[datetime, int]:
    """`R/2026-01-01T00:00:00+00:00/PT4H` -> (start, period in minutes), AKS's periods only."""
    parts = expression.strip().split("/")
    if len(parts) != 3 or not re.fullmatch(r"R\d*", parts[0]):
        raise ScheduleError(
            f"'{expression}' is not an ISO 8601 repeating interval; write it like "
            "R/2026-01-01T00:00:00+00:00/PT4H"
        )
    try:
        start = datetime.fromisoformat(parts[1])
    except ValueError:
        raise ScheduleError(
            f"'{parts[1]}' in '{expression}' is not an ISO 8601 date-time; write it like "
            "2026-01-01T00:00:00+00:00"
        ) from None
    if start.tzinfo is None:
        raise ScheduleError(f"'{parts[1]}' has no UTC offset; add one, like +00:00")
    if parts[0] != "R":
        raise ScheduleError(
            f"'{expression}' repeats only {parts[0][1:]} times: a schedule that stops "
            "cannot bound the RPO; write R/ with no count"
        )
    period = AKS_INTERVALS.get(parts[2])
    if period is None:
        raise ScheduleError(
            f"'{parts[2]}' is not an interval AKS Backup offers; use one of "
            f"{', '.join(AKS_INTERVALS)}"
        )
    return start, period


def worst_case(schedule: Schedule) -> WorstCase:
    """The worst-case age of the newest usable recovery point under `schedule`."""
    if schedule.syntax == "aws-cron":
        gap = cron_gaps(aws_cron_to_cron5(schedule.expression), schedule.expression)
    elif schedule.syntax == "cron":
        gap = cron_gaps(schedule.expression)
    elif schedule.syntax == "iso8601":
        gap = parse_iso_interval(schedule.expression)[1]
    elif schedule.syntax == "target-rpo":
        # Backup for GKE schedules itself to keep the newest backup within the target.
        minutes = int(schedule.expression)
        if minutes < MIN_GAP_MINUTES:
            raise ScheduleError(f"target RPO {minutes} is below Backup for GKE's 60 minutes")
        return WorstCase(minutes, minutes, f"Backup for GKE target RPO {minutes} min")
    else:
        raise ScheduleError(f"unknown schedule syntax {schedule.syntax}")
    start, done = schedule.start_window_minutes, schedule.completion_window_minutes
    total = gap + start + done
    parts = [f"largest gap {gap} min"]
    if start:
        parts.append(f"start window {start} min")
    parts.append(f"completion window {done} min")
    return WorstCase(total, gap, " + ".join(parts) + f" = {total} min")


def cron5_every_hours(cron5: str) -> tuple[int, int, int] | None:
    """(minute, first hour, step) when a cron fires every N hours every day, else None."""
    minute, hour, dom, month, dow = cron5.split()
    if not minute.isdigit() or (dom, month, dow) != ("*", "*", "*"):
        return None
    if hour.isdigit():
        return int(minute), int(hour), 24
    match = re.fullmatch(r"(\*|\d+)/(\d+)", hour)
    if hour == "*":
        return int(minute), 0, 1
    if match and 24 % int(match.group(2)) == 0:
        first = 0 if match.group(1) == "*" else int(match.group(1))
        return int(minute), first, int(match.group(2))
    return None


def aks_interval_for(aws_expression: str) -> str:
    """The AKS repeating interval that fires at least as often as the AWS cron, if any."""
    every = cron5_every_hours(aws_cron_to_cron5(aws_expression))
    if every is None:
        raise ScheduleError(
            f"'{aws_expression}' is not an every-N-hours or daily schedule, the only kind "
            "AKS Backup takes"
        )
    minute, hour, step = every
    minutes = step * 60
    # AKS's most frequent interval is 4 hours: a more frequent AWS schedule gets PT4H,
    # and the DR-5 rule judges that render on its own figures.
    period = next((k for k, v in AKS_INTERVALS.items() if v >= minutes), "P1D")
    return f"R/{_EPOCH.date().isoformat()}T{hour % 24:02d}:{minute:02d}:00+00:00/{period}"
