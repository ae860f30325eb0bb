"""CHG-3: maintenance windows across time zones, DST changes, midnight and freezes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from kubeprod.change import clock, windows
from kubeprod.errors import InputError
from kubeprod.spec.model import Freeze, Maintenance, MaintenanceWindow

LONDON = ZoneInfo("Europe/London")


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def maint(*wins: MaintenanceWindow, freezes=(), margin="60m") -> Maintenance:
    return Maintenance(windows=list(wins), freezes=list(freezes), min_time_before_close=margin)


EXAMPLE = MaintenanceWindow(days=["tue", "wed", "thu"], start="02:00", duration="4h",
                            timezone="Europe/London")  # fmt: skip


def test_same_local_start_is_a_different_utc_instant_across_the_march_change():
    # UK clocks go forward on Sun 2026-03-29: 02:00 is GMT before, BST after
    found = windows.occurrences(EXAMPLE, utc(2026, 3, 24), utc(2026, 4, 1))
    starts = [w.start.astimezone(UTC) for w in found]
    assert utc(2026, 3, 24, 2) in starts  # Tue 02:00 GMT
    assert utc(2026, 3, 31, 1) in starts  # Tue 02:00 BST
    assert all(w.end - w.start == timedelta(hours=4) for w in found)


def test_start_inside_the_spring_gap_opens_after_the_gap():
    gap = MaintenanceWindow(days=["sun"], start="01:30", duration="1h", timezone="Europe/London")
    (window,) = windows.occurrences(gap, utc(2026, 3, 28, 12), utc(2026, 3, 29, 12))
    assert window.start.astimezone(UTC) == utc(2026, 3, 29, 1, 30)
    assert (window.start.hour, window.start.minute, window.start.tzname()) == (2, 30, "BST")


def test_ambiguous_autumn_start_opens_at_the_first_and_lasts_real_time():
    # Sun 2026-10-25: 01:00-02:00 BST happens, then 01:00-02:00 GMT again
    amb = MaintenanceWindow(days=["sun"], start="01:30", duration="1h", timezone="Europe/London")
    (window,) = windows.occurrences(amb, utc(2026, 10, 24, 12), utc(2026, 10, 25, 12))
    assert window.start.astimezone(UTC) == utc(2026, 10, 25, 0, 30)
    assert window.end.astimezone(UTC) - window.start.astimezone(UTC) == timedelta(hours=1)
    # one real hour later the wall clock reads 01:30 again, now in GMT
    assert (window.end.hour, window.end.minute, window.end.tzname()) == (1, 30, "GMT")


def test_window_across_the_change_is_its_duration_in_elapsed_time():
    night = MaintenanceWindow(days=["sun"], start="00:00", duration="4h", timezone="Europe/London")
    (window,) = windows.occurrences(night, utc(2026, 3, 28, 12), utc(2026, 3, 29, 12))
    assert window.end.astimezone(UTC) == utc(2026, 3, 29, 4)
    assert window.end.hour == 5  # 05:00 BST


def test_window_crossing_midnight_belongs_to_the_day_it_opens():
    late = MaintenanceWindow(days=["sat"], start="23:00", duration="4h", timezone="Europe/London")
    rules = maint(late)
    inside = windows.decide(rules, utc(2026, 1, 11, 1))  # Sunday 01:00 GMT
    assert inside.allowed, inside.reason
    assert inside.window and inside.window.start.strftime("%a %H:%M") == "Sat 23:00"
    late_start = windows.decide(rules, utc(2026, 1, 11, 2, 30))  # 30 minutes before close
    assert not late_start.allowed
    assert "min_time_before_close is 60m" in late_start.reason


def test_other_zones_use_their_own_rules():
    # US clocks change on 2026-03-08, three weeks before the UK's
    ny = MaintenanceWindow(days=["mon"], start="09:00", duration="2h", timezone="America/New_York")
    found = windows.occurrences(ny, utc(2026, 3, 1), utc(2026, 3, 10))
    assert [w.start.astimezone(UTC).hour for w in found] == [14, 13]


def test_decide_inside_before_close_and_outside():
    rules = maint(EXAMPLE)
    assert windows.decide(rules, utc(2026, 3, 31, 1, 30)).allowed
    assert windows.decide(rules, utc(2026, 3, 31, 3, 59)).allowed  # closes 05:00Z: 61m left
    closing = windows.decide(rules, utc(2026, 3, 31, 4, 1))
    assert not closing.allowed and "closes at Tue 2026-03-31 06:00 BST" in closing.reason
    outside = windows.decide(rules, utc(2026, 3, 30, 12))
    assert not outside.allowed
    assert outside.next_window and outside.next_window.start.astimezone(UTC) == utc(2026, 3, 31, 1)
    assert "--emergency" in outside.reason


def test_freeze_blocks_windows_and_next_window_skips_it():
    rules = maint(EXAMPLE, freezes=[Freeze(start="2026-12-20", end="2026-12-31", reason="EOY")])
    frozen = windows.decide(rules, utc(2026, 12, 22, 2, 30))
    assert not frozen.allowed and "EOY" in frozen.reason
    assert frozen.next_window and frozen.next_window.start.date().isoformat() == "2027-01-05"
    listed = windows.upcoming(rules, utc(2026, 12, 21), count=3)
    assert [w.freeze for w in listed] == ["EOY", "EOY", "EOY"]
    assert windows.decide(rules, utc(2027, 1, 5, 2, 30)).allowed


def test_freeze_starting_inside_a_window_closes_it_early():
    late = MaintenanceWindow(days=["thu"], start="22:00", duration="4h", timezone="UTC")
    rules = maint(late, freezes=[Freeze(start="2026-01-02", end="2026-01-02")])
    early = windows.decide(rules, utc(2026, 1, 1, 22, 30))  # freeze at 00:00: 90m left
    assert early.allowed
    assert not windows.decide(rules, utc(2026, 1, 1, 23, 30)).allowed  # 30m to the freeze


def test_no_windows_and_bad_freeze_dates_say_how_to_fix():
    assert "add maintenance.windows" in windows.decide(maint(), utc(2026, 1, 1)).reason
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="is not a date"):
        Freeze(start="20-12-2026", end="2026-12-31")
    with pytest.raises(ValidationError, match=r"outside 1970\.\.2999"):
        Freeze(start="2026-12-20", end="9999-12-31")
    with pytest.raises(ValidationError, match="before start"):
        Freeze(start="2026-12-20", end="2026-12-01")


def test_clock_takes_at_then_env_then_system(monkeypatch):
    monkeypatch.setenv("KUBEPROD_NOW", "2026-03-31T02:30:00+01:00")
    assert clock.now() == utc(2026, 3, 31, 1, 30)
    assert clock.now("2026-01-01T00:00:00") == utc(2026, 1, 1)  # no offset: UTC
    monkeypatch.delenv("KUBEPROD_NOW")
    assert abs(clock.now() - datetime.now(UTC)) < timedelta(minutes=1)
    with pytest.raises(InputError, match="ISO 8601"):
        clock.now("next tuesday")
