"""DR spec and profile rules: the `dr` section, RPO from each cloud's schedule, bad input.

Each bad-input case mutates the example and expects one located problem, exit 2, through
the same checks as tests/test_spec_errors.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from test_spec_errors import EXAMPLE, Case, const, sub
from test_spec_errors import test_bad_spec as check_bad_spec

from kubeprod.dr.cloud_schedules import schedule_for
from kubeprod.dr.schedule import (
    Schedule,
    ScheduleError,
    aks_interval_for,
    aws_cron_to_cron5,
    cron_gaps,
    parse_iso_interval,
    worst_case,
)
from kubeprod.spec import load_spec

ROOT = Path(__file__).resolve().parents[1]


# -- the arithmetic -------------------------------------------------------------------------


def test_aws_cron_translates_to_five_fields() -> None:
    assert aws_cron_to_cron5("cron(0 */2 * * ? *)") == "0 */2 * * *"
    # AWS numbers days 1-7 from Sunday; cron 0-6
    assert aws_cron_to_cron5("cron(30 3 ? * 2-6 *)") == "30 3 * * 1-5"
    assert aws_cron_to_cron5("cron(0 5 ? * 2#1 *)") == "0 5 * * 1#1"
    assert aws_cron_to_cron5("cron(0 5 ? * MON *)") == "0 5 * * MON"


@pytest.mark.parametrize(
    ("expression", "gap"),
    [
        ("cron(0 */2 * * ? *)", 120),
        ("cron(0 */4 * * ? *)", 240),
        ("cron(0 5 * * ? *)", 1440),
        # weekdays only: Friday 03:30 to Monday 03:30
        ("cron(30 3 ? * 2-6 *)", 3 * 1440),
        # irregular hours: the largest gap wins, not the average
        ("cron(0 1,2,20 * * ? *)", 18 * 60),
        # monthly on the 1st: the longest month is 31 days
        ("cron(0 0 1 * ? *)", 31 * 1440),
    ],
)
def test_largest_gap_between_firings(expression: str, gap: int) -> None:
    assert cron_gaps(aws_cron_to_cron5(expression), expression) == gap


def test_worst_case_adds_start_and_completion_windows() -> None:
    worst = worst_case(Schedule("aws", "aws-cron", "cron(0 */4 * * ? *)", 60, 120))
    assert worst.minutes == 240 + 60 + 120
    assert "largest gap 240 min + start window 60 min + completion window 120 min" in worst.detail


def test_aks_iso_interval() -> None:
    start, period = parse_iso_interval("R/2026-01-01T02:00:00+00:00/PT6H")
    assert period == 360 and start.hour == 2
    assert worst_case(Schedule("azure", "iso8601", "R/2026-01-01T00:00:00+00:00/P1D", 0, 60))
    assert aks_interval_for("cron(0 */2 * * ? *)").endswith("/PT4H")  # AKS's most frequent
    assert aks_interval_for("cron(15 */8 * * ? *)") == "R/2026-01-01T00:15:00+00:00/PT8H"
    assert aks_interval_for("cron(0 3 * * ? *)") == "R/2026-01-01T03:00:00+00:00/P1D"


def test_gke_target_rpo() -> None:
    assert worst_case(Schedule("gcp", "target-rpo", "180")).minutes == 180


@pytest.mark.parametrize(
    ("schedule", "says"),
    [
        (Schedule("aws", "aws-cron", "0 */2 * * *"), "not an AWS Backup schedule"),
        (Schedule("aws", "aws-cron", "cron(0 */2 * * *)"), "has 5 fields"),
        (Schedule("aws", "aws-cron", "cron(0 */2 * * * *)"), "exactly one"),
        (Schedule("aws", "aws-cron", "cron(0 */2 * * ? 2027)"), "year"),
        (Schedule("aws", "aws-cron", "cron(0 */2 * * ? *"), "not an AWS Backup schedule"),
        (Schedule("aws", "aws-cron", "cron(0 25 * * ? *)"), "croniter"),
        (Schedule("aws", "aws-cron", "cron(*/5 * * * ? *)"), "at most hourly"),
        (Schedule("azure", "iso8601", "R/2026-01-01T00:00:00+00:00/PT1H"), "not an interval"),
        (Schedule("azure", "iso8601", "R5/2026-01-01T00:00:00+00:00/PT4H"), "repeats only"),
        (Schedule("azure", "iso8601", "R/yesterday/PT4H"), "not an ISO 8601 date-time"),
        (Schedule("azure", "iso8601", "PT4H"), "not an ISO 8601 repeating interval"),
        (Schedule("gcp", "target-rpo", "30"), "below"),
    ],
)
def test_unreadable_schedules_say_why(schedule: Schedule, says: str) -> None:
    with pytest.raises(ScheduleError, match=says):
        worst_case(schedule)


def test_example_meets_its_rpo_on_every_cloud() -> None:
    env = load_spec(ROOT / "examples" / "production.yaml")
    rpo = env.dr.targets.region_loss.rpo_minutes
    worst = {c: worst_case(schedule_for(env.backup, c)[0]).minutes for c in ("aws", "azure", "gcp")}
    assert worst == {"aws": 300, "azure": 360, "gcp": 240}
    assert max(worst.values()) <= rpo


# -- bad input through `kubeprod validate` ----------------------------------------------------

SCHEDULE = "schedule: cron(0 */2 * * ? *)"
CASES = [
    Case(
        "DR-5-daily-against-4h",
        sub(SCHEDULE, "schedule: cron(0 3 * * ? *)"),
        "DR-5",
        "backup.schedule",
        SCHEDULE.replace("*/2", "3"),
        ("1440", "region-loss RPO of 360", "every"),
    ),
    Case(
        "DR-5-unparsable-cron",
        sub(SCHEDULE, "schedule: every two hours"),
        "DR-5",
        "backup.schedule",
        "every two hours",
        ("not an AWS Backup schedule",),
    ),
    Case(
        "DR-5-aks-interval-unparsable",
        sub("  min_recovery_points: 3", "  min_recovery_points: 3\n  azure_schedule: PT4H"),
        "DR-5",
        "backup.azure_schedule",
        "azure_schedule: PT4H",
        ("repeating interval",),
    ),
    Case(
        "DR-5-aks-daily-misses-rpo",
        sub(
            "  min_recovery_points: 3",
            "  min_recovery_points: 3\n  azure_schedule: R/2026-01-01T00:00:00+00:00/P1D",
        ),
        "DR-5",
        "backup.azure_schedule",
        "azure_schedule: R/",
        ("on azure", "1560"),
    ),
    Case(
        "DR-5-gke-target-rpo-misses",
        sub("  min_recovery_points: 3", "  min_recovery_points: 3\n  gcp_target_rpo_minutes: 720"),
        "DR-5",
        "backup.gcp_target_rpo_minutes",
        "gcp_target_rpo_minutes",
        ("on gcp", "720"),
    ),
    Case(
        "DR-5-rpo-zero",
        sub("rto_minutes: 240, rpo_minutes: 360", "rto_minutes: 240, rpo_minutes: 0"),
        "DR-5",
        "dr.targets.region_loss.rpo_minutes",
        "rpo_minutes: 0",
        ("above 0",),
    ),
    Case(
        "DR-5-rto-negative",
        sub("{rto_minutes: 60, rpo_minutes: 60}", "{rto_minutes: -5, rpo_minutes: 60}"),
        "DR-5",
        "dr.targets.zone_loss.rto_minutes",
        "rto_minutes: -5",
        ("RTO target -5",),
    ),
    Case(
        "DR-3-interval-zero",
        sub("drill_interval_days: 90", "drill_interval_days: 0"),
        "DR-3",
        "dr.drill_interval_days",
        "drill_interval_days: 0",
    ),
    Case(
        "DR-4-recovery-is-primary",
        sub("    aws: eu-central-1", "    aws: eu-west-1"),
        "DR-4",
        "dr.recovery_region.aws",
        "    aws: eu-west-1",
        ("is the primary region",),
    ),
    Case(
        "DR-4-recovery-not-a-region",
        sub("    gcp: europe-west4", "    gcp: europe-west99"),
        "DR-4",
        "dr.recovery_region.gcp",
        "europe-west99",
        ("not a gcp region", "did you mean"),
    ),
    Case(
        "DR-4-azure-region-of-another-cloud",
        sub("    azure: northeurope", "    azure: eu-north-1"),
        "DR-4",
        "dr.recovery_region.azure",
        "azure: eu-north-1",
        ("not a azure region",),
    ),
    Case(
        "DR-1-retention-shorter-than-rpo-window",
        sub("retention_days: 35", "retention_days: 0"),
        "DR-1",
        "backup.retention_days",
        "retention_days: 0",
    ),
    Case(
        "DR-1-retention-shorter-than-monthly-window",
        const(
            EXAMPLE.replace(SCHEDULE, "schedule: cron(0 0 1 * ? *)")
            .replace("retention_days: 35", "retention_days: 14")
            .replace("rpo_minutes: 360}", "rpo_minutes: 50000}")
        ),
        "DR-1",
        "backup.retention_days",
        "retention_days: 14",
        ("shorter than the RPO window", "44820"),
    ),
    Case(
        "DR-1-retention-under-min-points",
        const(
            EXAMPLE.replace(SCHEDULE, "schedule: cron(0 3 ? * 1 *)")
            .replace("retention_days: 35", "retention_days: 14")
            .replace("rpo_minutes: 360}", "rpo_minutes: 20000}")
        ),
        "DR-1",
        "backup.retention_days",
        "retention_days: 14",
        ("fewer than min_recovery_points",),
    ),
    Case(
        "DR-1-start-window-under-60",
        sub("start_window_minutes: 60", "start_window_minutes: 30"),
        "DR-1",
        "backup.start_window_minutes",
        "start_window_minutes: 30",
        ("at least 60",),
    ),
    Case(
        "SPEC-MOVED-old-rpo-key",
        sub("  min_recovery_points: 3", "  min_recovery_points: 3\n  rpo_minutes: 240"),
        "SPEC-MOVED",
        "backup.rpo_minutes",
        "  rpo_minutes: 240",
        ("dr.targets.region_loss.rpo_minutes",),
    ),
    Case(
        "SPEC-MOVED-old-rto-key",
        sub("  min_recovery_points: 3", "  min_recovery_points: 3\n  rto_minutes: 120"),
        "SPEC-MOVED",
        "backup.rto_minutes",
        "  rto_minutes: 120",
        ("dr.targets.region_loss.rto_minutes",),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_dr_spec(case: Case, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    check_bad_spec(case, tmp_path, capsys)


def test_fix_suggests_a_schedule_that_meets_the_rpo(tmp_path: Path) -> None:
    """The suggested schedule, put in, passes: the fix is real, not boilerplate."""
    from kubeprod.errors import SpecInvalid

    path = tmp_path / "p.yaml"
    path.write_text(EXAMPLE.replace(SCHEDULE, "schedule: cron(0 3 * * ? *)"), encoding="utf-8")
    with pytest.raises(SpecInvalid) as err:
        load_spec(path)
    fix = next(p.fix for p in err.value.problems if p.rule == "DR-5")
    suggested = fix.split("backup.schedule: ")[1].split(",")[0]
    path.write_text(EXAMPLE.replace(SCHEDULE, f"schedule: {suggested}"), encoding="utf-8")
    load_spec(path)
