"""`kubeprod plan`: make and gate a plan (kubeprod.workflow), then freeze it into a bundle.

The change process sits above the workflow: it calls the workflow's public steps,
and the workflow never imports the change process.
"""

from __future__ import annotations

from typing import Any

from kubeprod import workflow
from kubeprod.change import bundle


def plan(spec: str, cloud: str, *, local: bool) -> dict[str, Any]:
    """Plan `spec` on `cloud`, gate it, and save the plan bundle to review and approve."""
    made = workflow.make_plan(spec, cloud, local=local)
    workdir = made.target.workdir
    saved = bundle.create(
        made.target,
        made.tf,
        made.plan_json,
        made.counts,
        made.changed,
        plan_file=workdir / workflow.PLAN_FILE,
    )
    return {
        "workdir": str(workdir),
        "plan_file": str(workdir / workflow.PLAN_FILE),
        "changes": made.changed,
        "counts": made.counts,
        "bundle": str(saved.path),
        "plan_sha256": saved.plan_sha256,
        "summary_text": f"{workdir}: {workflow.describe_counts(made.counts)}\n"
        f"bundle {saved.path}: review it with `kubeprod review {saved.path}`",
    }
