"""What the policy gate needs to judge DR-3, DR-4 and DR-5: targets and recovery regions
from the spec, drill history."""

from __future__ import annotations

from typing import Any


def dr_fields(env: Any) -> dict[str, Any]:
    """Options fields for the DR rules from an Environment (Options.from_spec adds them).

    The drill history is not among them: `kubeprod check --spec` adds it, so an overdue
    drill never blocks render, plan or up. `env` is untyped here so the dr package does
    not import the spec (no import cycle)."""
    targets = env.dr.targets
    regions = env.dr.recovery_region
    return {
        "recovery_regions": {c: getattr(regions, c) for c in ("aws", "azure", "gcp")},
        "rpo_minutes": targets.region_loss.rpo_minutes,
        "completion_window_minutes": env.backup.completion_window_minutes,
        "drill_interval_days": env.dr.drill_interval_days,
        "dr_targets": {
            "zone-loss": (targets.zone_loss.rto_minutes, targets.zone_loss.rpo_minutes),
            "region-loss": (targets.region_loss.rto_minutes, targets.region_loss.rpo_minutes),
        },
    }
