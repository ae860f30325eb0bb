"""What the policy gate needs to judge DR-3 and DR-5: targets from the spec, drill history."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kubeprod.spec.model import Environment


def dr_fields(env: Environment) -> dict[str, Any]:
    """Options fields for the DR rules (Options.from_spec adds them)."""
    from kubeprod.dr.history import drills

    targets = env.dr.targets
    return {
        "rpo_minutes": targets.region_loss.rpo_minutes,
        "completion_window_minutes": env.backup.completion_window_minutes,
        "drill_interval_days": env.dr.drill_interval_days,
        "dr_targets": {
            "zone-loss": (targets.zone_loss.rto_minutes, targets.zone_loss.rpo_minutes),
            "region-loss": (targets.region_loss.rto_minutes, targets.region_loss.rpo_minutes),
        },
        "drills": drills(env.name),
    }
