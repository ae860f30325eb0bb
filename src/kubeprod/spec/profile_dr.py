"""Production-profile rules for disaster recovery (DR-1, DR-3, DR-4, DR-5).

Registered into `kubeprod.spec.profile.RULES` on import (profile.py imports this module).
The RPO arithmetic is in `kubeprod.dr.schedule`; docs/dr.md explains it.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator

from kubeprod.dr.cloud_schedules import schedule_for
from kubeprod.dr.regions import REGIONS, primary_region
from kubeprod.dr.schedule import AKS_INTERVALS, ScheduleError, worst_case
from kubeprod.facts.azure import AZURE_NONPAIRED, AZURE_PAIRS_DOC, azure_pair
from kubeprod.results import Finding
from kubeprod.spec.model import Environment
from kubeprod.spec.profile_rules import configured_clouds, rule, violation

_SCENARIOS = ("zone_loss", "region_loss")


@rule
def dr_targets_positive(env: Environment) -> Iterator[Finding]:
    """DR-5: targets are durations; zero or negative can never be met or measured."""
    for scenario in _SCENARIOS:
        target = getattr(env.dr.targets, scenario)
        for field in ("rto_minutes", "rpo_minutes"):
            value = getattr(target, field)
            if value <= 0:
                yield violation(
                    ("dr", "targets", scenario, field),
                    "DR-5",
                    f"{field.split('_')[0].upper()} target {value} minutes for "
                    f"{scenario.replace('_', ' ')} is not a duration a recovery can meet",
                    f"set dr.targets.{scenario}.{field} to a number of minutes above 0",
                )
    if env.dr.drill_interval_days <= 0:
        yield violation(
            ("dr", "drill_interval_days"),
            "DR-3",
            f"drill interval {env.dr.drill_interval_days} days: drills need a positive interval",
            "set dr.drill_interval_days to the most days allowed between drills, e.g. 90",
        )


@rule
def backup_windows(env: Environment) -> Iterator[Finding]:
    """DR-1: AWS Backup refuses a start window under 60 minutes (BackupRuleInput)."""
    b = env.backup
    if not b.enabled:
        return
    if env.clouds.aws is not None and b.start_window_minutes < 60:
        yield violation(
            ("backup", "start_window_minutes"),
            "DR-1",
            f"start window {b.start_window_minutes} minutes: AWS Backup needs at least 60",
            "set backup.start_window_minutes: 60",
        )
    if b.completion_window_minutes <= 0:
        yield violation(
            ("backup", "completion_window_minutes"),
            "DR-1",
            f"completion window {b.completion_window_minutes} minutes: a job needs time to run",
            "set backup.completion_window_minutes to the longest a backup may take, e.g. 120",
        )
    if b.min_recovery_points < 1:
        yield violation(
            ("backup", "min_recovery_points"),
            "DR-1",
            f"min_recovery_points {b.min_recovery_points}: the last good backup must be kept",
            "set backup.min_recovery_points to 1 or more (3 keeps a margin)",
        )
    if b.retention_days <= 0:
        yield violation(
            ("backup", "retention_days"),
            "DR-1",
            f"retention {b.retention_days} days deletes every recovery point at once",
            "set backup.retention_days to the days a recovery point is kept, e.g. 35",
        )


@rule
def schedule_meets_rpo(env: Environment) -> Iterator[Finding]:
    """DR-5: on every configured cloud, the rendered schedule keeps the RPO."""
    b = env.backup
    if not b.enabled or b.completion_window_minutes <= 0:
        return

    rpo = env.dr.targets.region_loss.rpo_minutes
    reported: set[tuple[str | int, ...]] = set()
    for cloud in configured_clouds(env):
        loc: tuple[str | int, ...] = ("backup", "schedule")
        try:
            schedule, loc = schedule_for(b, cloud)
            worst = worst_case(schedule)
        except ScheduleError as exc:
            if loc not in reported:
                reported.add(loc)
                yield violation(loc, "DR-5", str(exc), _parse_fix(loc))
            continue
        if rpo > 0 and worst.minutes > rpo:
            yield violation(
                loc,
                "DR-5",
                f"on {cloud} the newest usable recovery point can be {worst.minutes} minutes "
                f"old ({worst.detail}, schedule {schedule.expression}), more than the "
                f"region-loss RPO of {rpo} minutes",
                _rpo_fix(cloud, rpo, schedule.start_window_minutes, b.completion_window_minutes),
            )
        retention = b.retention_days * 1440
        if b.retention_days > 0 and retention < max(worst.minutes, 1):
            yield violation(
                ("backup", "retention_days"),
                "DR-1",
                f"retention {b.retention_days} days is shorter than the RPO window on {cloud} "
                f"({worst.minutes} minutes): a recovery point could expire before the next",
                f"keep recovery points at least {-(-worst.minutes // 1440)} day(s)",
            )
        elif b.retention_days > 0 and retention < b.min_recovery_points * worst.max_gap_minutes:
            need = -(-b.min_recovery_points * worst.max_gap_minutes // 1440)
            yield violation(
                ("backup", "retention_days"),
                "DR-1",
                f"retention {b.retention_days} days holds fewer than min_recovery_points "
                f"({b.min_recovery_points}) recovery points on {cloud} "
                f"(one every {worst.max_gap_minutes} minutes at worst)",
                f"keep recovery points at least {need} days, or lower min_recovery_points",
            )


def _parse_fix(loc: tuple[str | int, ...]) -> str:
    field = ".".join(str(p) for p in loc)
    if loc[-1] == "azure_schedule":
        return f"write {field} as R/2026-01-01T00:00:00+00:00/PT4H (PT4H, PT6H, PT8H, PT12H, P1D)"
    if loc[-1] == "gcp_target_rpo_minutes":
        return f"set {field} to 60 minutes or more"
    return f"write {field} as an AWS cron, like cron(0 */2 * * ? *) (every 2 hours, UTC)"


def _rpo_fix(cloud: str, rpo: int, start: int, done: int) -> str:
    """A schedule that would meet the RPO, or the RPO this cloud can reach."""
    budget = rpo - start - done
    if cloud == "azure":
        fits = [k for k, v in AKS_INTERVALS.items() if v <= budget]
        if fits:
            return (
                f"set backup.azure_schedule: R/2026-01-01T00:00:00+00:00/{fits[-1]}, "
                "or raise dr.targets.region_loss.rpo_minutes"
            )
        return (
            f"AKS backs up at most every 4 hours: raise dr.targets.region_loss.rpo_minutes to "
            f"{240 + done} or more, or shorten backup.completion_window_minutes"
        )
    steps = [h for h in (24, 12, 8, 6, 4, 3, 2, 1) if h * 60 <= budget]
    if steps:
        hours = steps[0]
        every = "0 0 * * ? *" if hours == 24 else f"0 */{hours} * * ? *"
        return (
            f"back up every {hours} hour(s): backup.schedule: cron({every}), "
            "or raise dr.targets.region_loss.rpo_minutes"
        )
    return (
        f"even hourly backups need {60 + start + done} minutes: raise "
        "dr.targets.region_loss.rpo_minutes, or shorten the start/completion windows"
    )


@rule
def recovery_region_valid(env: Environment) -> Iterator[Finding]:
    """DR-4: the recovery region is a real region, not the primary, on Azure its pair.

    Azure's geo-redundant vault replicates only to the primary's pair (kubeprod.facts.azure).
    """
    for cloud in ("aws", "azure", "gcp"):
        region = getattr(env.dr.recovery_region, cloud)
        if region is None:
            continue
        loc = ("dr", "recovery_region", cloud)
        primary = primary_region(env, cloud)
        if primary is None:
            yield violation(
                loc,
                "DR-4",
                f"a recovery region is set for {cloud} but clouds.{cloud} is not configured",
                f"remove dr.recovery_region.{cloud}, or configure clouds.{cloud}",
            )
        elif region not in REGIONS[cloud]:
            close = difflib.get_close_matches(region, sorted(REGIONS[cloud]), n=1)
            yield violation(
                loc,
                "DR-4",
                f"'{region}' is not a {cloud} region",
                f"did you mean {close[0]}?" if close else f"name a {cloud} region",
            )
        elif region == primary:
            yield violation(
                loc,
                "DR-4",
                f"the recovery region {region} is the primary region: losing the region "
                "would lose both",
                f"name another {cloud} region, ideally nearby (e.g. for eu-west-1, eu-central-1)",
            )
        elif cloud == "azure" and azure_pair(primary) not in (None, region):
            pair = azure_pair(primary)
            yield violation(
                loc,
                "DR-4",
                f"{region} is not the Azure pair of {primary}: the geo-redundant Backup vault "
                f"and its cross-region restore replicate to {pair} only, so a region-loss "
                f"rebuild in {region} would find no backups",
                f"set dr.recovery_region.azure: {pair} (Azure region pairs: {AZURE_PAIRS_DOC})",
            )


@rule
def azure_primary_has_a_pair(env: Environment) -> Iterator[Finding]:
    """DR-4: on Azure, region-loss recovery restores in the primary's pair; it needs one.

    The Backup vault is geo-redundant with Cross Region Restore, which replicate only to
    the paired region (kubeprod.facts.azure, AZURE_PAIRS_DOC); a nonpaired primary has none.
    """
    azure = env.clouds.azure
    if azure is None or azure.location not in AZURE_NONPAIRED:
        return
    yield violation(
        ("clouds", "azure", "location"),
        "DR-4",
        f"{azure.location} is a nonpaired Azure region: the Backup vault's geo-redundant "
        "storage and cross-region restore need a paired region, so a region-loss "
        "recovery would have no backups",
        "put the cluster in a paired region, e.g. westeurope (pair northeurope) or "
        f"germanywestcentral (pair germanynorth); the pairs: {AZURE_PAIRS_DOC}",
    )
