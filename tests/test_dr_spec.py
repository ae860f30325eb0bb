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
from kubeprod.dr.regions import REGIONS
from kubeprod.dr.schedule import (
    Schedule,
    ScheduleError,
    aks_interval_for,
    aws_cron_to_cron5,
    cron_gaps,
    parse_iso_interval,
    worst_case,
)
from kubeprod.errors import SpecInvalid
from kubeprod.facts.azure import AZURE_NONPAIRED, AZURE_PAIRS, AZURE_PAIRS_DOC, azure_pair
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


# DR-4 on Azure: the geo-redundant vault restores only in the primary's pair.
AZURE_PAIR_CASES = [
    Case(
        "DR-4-azure-recovery-not-the-pair",
        sub("    azure: northeurope", "    azure: germanywestcentral"),
        "DR-4",
        "dr.recovery_region.azure",
        "azure: germanywestcentral",
        (
            "not the Azure pair of westeurope",
            "dr.recovery_region.azure: northeurope",
            AZURE_PAIRS_DOC,
        ),
    ),
    Case(
        # one-way pair: westus3 replicates to eastus, while eastus pairs with westus
        "DR-4-azure-one-way-pair",
        const(
            EXAMPLE.replace("    location: westeurope", "    location: westus3").replace(
                "    azure: northeurope", "    azure: westus"
            )
        ),
        "DR-4",
        "dr.recovery_region.azure",
        "azure: westus",
        ("replicate to eastus only", "dr.recovery_region.azure: eastus"),
    ),
    Case(
        "DR-4-azure-primary-nonpaired",
        sub("    location: westeurope", "    location: italynorth"),
        "DR-4",
        "clouds.azure.location",
        "location: italynorth",
        ("nonpaired", "paired region", AZURE_PAIRS_DOC),
    ),
]


@pytest.mark.parametrize("case", AZURE_PAIR_CASES, ids=[c.id for c in AZURE_PAIR_CASES])
def test_dr4_azure_recovery_region_must_be_the_pair(
    case: Case, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    check_bad_spec(case, tmp_path, capsys)


def test_dr4_azure_example_recovers_in_the_pair() -> None:
    """The example (and the packaged copy `init` writes) passes: northeurope pairs westeurope."""
    for path in (ROOT / "examples" / "production.yaml", ROOT / "src/kubeprod/data/production.yaml"):
        env = load_spec(path)
        assert env.clouds.azure is not None
        assert env.dr.recovery_region.azure == azure_pair(env.clouds.azure.location)


def test_dr4_azure_pair_fix_is_accepted(tmp_path: Path) -> None:
    """The pair the fix names, put in, passes (the fix is real, not boilerplate)."""
    path = tmp_path / "p.yaml"
    text = EXAMPLE.replace("    location: westeurope", "    location: brazilsouth")
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SpecInvalid) as err:
        load_spec(path)
    (fix,) = [p.fix for p in err.value.problems if p.field == "dr.recovery_region.azure"]
    pair = fix.split("dr.recovery_region.azure: ")[1].split(" ")[0]
    assert pair == "southcentralus"  # Brazil South's one-way pair
    path.write_text(text.replace("    azure: northeurope", f"    azure: {pair}"), encoding="utf-8")
    load_spec(path)


def test_dr4_azure_unset_recovery_region_is_not_required(tmp_path: Path) -> None:
    """Unset, as before: the vault replicates to the pair whatever the spec says."""
    path = tmp_path / "p.yaml"
    path.write_text(sub("    azure: northeurope\n", "")(EXAMPLE), encoding="utf-8")
    assert load_spec(path).dr.recovery_region.azure is None


def test_dr4_azure_pair_table() -> None:
    """Every Azure region kubeprod accepts is either paired or listed as nonpaired; pairs
    name real regions; the mutual pairs are mutual and the one-way ones are the known four."""
    azure = REGIONS["azure"]
    assert set(AZURE_PAIRS) | set(AZURE_PAIRS.values()) | AZURE_NONPAIRED <= azure
    assert azure == set(AZURE_PAIRS) | AZURE_NONPAIRED
    assert not AZURE_NONPAIRED & set(AZURE_PAIRS)
    one_way = {r for r, p in AZURE_PAIRS.items() if AZURE_PAIRS.get(p) != r}
    assert one_way == {"brazilsouth", "brazilsoutheast", "westindia", "westus3"}
    assert azure_pair("westeurope") == "northeurope" and azure_pair("italynorth") is None


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_dr_spec(case: Case, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    check_bad_spec(case, tmp_path, capsys)


def test_fix_suggests_a_schedule_that_meets_the_rpo(tmp_path: Path) -> None:
    """The suggested schedule, put in, passes: the fix is real, not boilerplate."""
    path = tmp_path / "p.yaml"
    path.write_text(EXAMPLE.replace(SCHEDULE, "schedule: cron(0 3 * * ? *)"), encoding="utf-8")
    with pytest.raises(SpecInvalid) as err:
        load_spec(path)
    fix = next(p.fix for p in err.value.problems if p.rule == "DR-5")
    suggested = fix.split("backup.schedule: ")[1].split(",")[0]
    path.write_text(EXAMPLE.replace(SCHEDULE, f"schedule: {suggested}"), encoding="utf-8")
    load_spec(path)
