"""The backup schedule each cloud renders, derived from the spec's `backup` section.

One place decides what AWS, AKS and GKE get, so the renderers and the DR-5 profile rule
judge the same thing: AWS the spec's `cron(...)` with its windows, GKE the same cron as
five fields (or `rpo_config` when `gcp_target_rpo_minutes` is set), AKS `azure_schedule`
or the ISO 8601 interval that fires at least as often as the cron.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kubeprod.dr.schedule import Schedule, aks_interval_for, aws_cron_to_cron5, worst_case

if TYPE_CHECKING:  # the spec's DR rules import this module: no runtime import back
    from kubeprod.spec.model import Backup

Loc = tuple[str | int, ...]


def schedule_for(backup: Backup, cloud: str) -> tuple[Schedule, Loc]:
    """The rendered schedule of `cloud` and the spec field it comes from.

    Raises ScheduleError (a user-facing reason) when the field cannot be read.
    """
    done = backup.completion_window_minutes
    if cloud == "aws":
        aws_cron_to_cron5(backup.schedule)
        return (
            Schedule("aws", "aws-cron", backup.schedule, backup.start_window_minutes, done),
            ("backup", "schedule"),
        )
    if cloud == "gcp":
        if backup.gcp_target_rpo_minutes is not None:
            return (
                Schedule("gcp", "target-rpo", str(backup.gcp_target_rpo_minutes)),
                ("backup", "gcp_target_rpo_minutes"),
            )
        return (
            Schedule("gcp", "cron", aws_cron_to_cron5(backup.schedule), 0, done),
            ("backup", "schedule"),
        )
    if cloud == "azure":
        if backup.azure_schedule is not None:
            return (
                Schedule("azure", "iso8601", backup.azure_schedule, 0, done),
                ("backup", "azure_schedule"),
            )
        return (
            Schedule("azure", "iso8601", aks_interval_for(backup.schedule), 0, done),
            ("backup", "schedule"),
        )
    raise ValueError(f"unknown cloud {cloud}")


def lock_days(backup: Backup, cloud: str) -> int:
    """Days a recovery point is locked against deletion: long enough that the newest
    `min_recovery_points` points always survive (the "never lose the last good backup"
    guarantee none of the three clouds offers as a count), never beyond the retention."""
    gap = worst_case(schedule_for(backup, cloud)[0]).max_gap_minutes
    days = -(-backup.min_recovery_points * gap // 1440)
    return max(1, min(days, backup.retention_days))
