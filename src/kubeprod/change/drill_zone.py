"""The zone-loss drill: lose one zone's egress and capacity, repair in place, verify."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kubeprod import workflow
from kubeprod.change import drift, drill_breaks
from kubeprod.change.drill_record import Drill, repair, verify
from kubeprod.errors import KubeprodError


def run(
    drill: Drill, spec: str, *, local: bool, approve_by: str | None, say: Callable[[str], None]
) -> dict[str, Any]:
    target = workflow.target_for(spec, "aws", local)
    outputs = workflow.prepare(target, workflow.backend_outputs(target)).output_json()
    if not outputs.get("nat_gateway_ids"):
        raise KubeprodError(
            f"'{target.env.name}' is not up on this target: nothing to break. Fix: "
            f"`kubeprod up {spec}" + (" --local`" if local else "`") + " first"
        )
    aws = target.env.clouds.aws
    assert aws is not None  # drill.run refuses a spec without clouds.aws
    zone = aws.zones[-1]
    say(f"break zone {zone} through the AWS API ...")
    broken = drill_breaks.break_zone(target, outputs, zone)
    drill.note("broken", zone=zone, deleted=broken)
    drill.step("declared")
    say("detect: drift ...")
    drill.step("recovery_started")
    found = drift.detect(spec, "aws", local=local)
    drifted = [r["address"] for r in found["resources"]]
    drill.note("drift", resources=drifted)
    if not drifted:
        raise KubeprodError("drift detection found nothing after the zone was broken")
    repair(drill, spec, local=local, approve_by=approve_by, say=say)
    drill.step("infrastructure_ready")
    verify(drill, target, spec, local=local, say=say)
    # a zone loss restores no data: nothing was lost, so the RPO is zero by construction
    return drill.finish(0.0, None)
