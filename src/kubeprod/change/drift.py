"""Drift (CHG-5): a refresh-only plan; what changed outside terraform, and a notice."""

from __future__ import annotations

from typing import Any

from kubeprod import workflow
from kubeprod.change import notify
from kubeprod.change.review import attribute_diff

DRIFT_PLAN = "kubeprod-drift.tfplan"


def detect(spec: str, cloud: str, *, local: bool) -> dict[str, Any]:
    """Render, init, refresh-only plan; notify the team when anything drifted."""
    target = workflow.target_for(spec, cloud, local)
    tf = workflow.prepare(target, workflow.backend_outputs(target))
    workflow.plan_checked(target, tf, DRIFT_PLAN, "-refresh-only")
    plan = tf.show_json(DRIFT_PLAN)
    drifted = []
    for item in plan.get("resource_drift", []):
        actions = item["change"]["actions"]
        diffs = attribute_diff(item["change"])
        drifted.append(
            {
                "address": item["address"],
                "action": "deleted outside terraform" if actions == ["delete"] else "changed",
                "attributes": diffs,
            }
        )
    deliveries = []
    if drifted:
        lines = [
            f"{d['address']}: {d['action']}"
            + "".join(
                f"; {a['attribute']} {a['before']} -> {a['after']}" for a in d["attributes"][:4]
            )
            for d in drifted
        ]
        deliveries = [
            d.as_dict()
            for d in notify.notify(
                target.env.notifications.targets,
                "drift",
                f"kubeprod drift: {target.env.name} ({len(drifted)} resources)",
                "\n".join(lines),
            )
        ]
    return {
        "environment": target.env.name,
        "drift": bool(drifted),
        "resources": drifted,
        "notifications": deliveries,
    }


def describe(result: dict[str, Any]) -> str:
    if not result["drift"]:
        return f"{result['environment']}: no drift; the infrastructure matches the state"
    lines = [f"{result['environment']}: {len(result['resources'])} resource(s) drifted:"]
    for item in result["resources"]:
        lines.append(f"  {item['address']}: {item['action']}")
        lines += [
            f"    {a['attribute']}: {a['before']} -> {a['after']}" for a in item["attributes"][:8]
        ]
    lines.append(
        "Fix: apply the spec again (plan, review, approve, apply) or adopt the change in it"
    )
    return "\n".join(lines)
