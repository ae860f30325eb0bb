"""`kubeprod bootstrap` for a real cloud: the state backend is created, or changed, as a
recorded change. The first creation is explicit (plan and drift never create it); a
later change to the backend module needs a second person (`--approve-by`), as every
production change does. The local cloud bootstraps itself (kubeprod.workflow)."""

from __future__ import annotations

import getpass
from typing import Any

from kubeprod import workflow
from kubeprod.change import changelog, clock
from kubeprod.change.approval import same_person
from kubeprod.change.bundle import planner_identities
from kubeprod.change.refused import GateRefused


def recorded(target: Any, approve_by: str | None) -> dict[str, Any]:
    """Plan the backend module; apply it when new, or when changed and approved by a
    second person; record either in the change log. Returns its outputs."""
    existing = (target.bootstrap_dir / "terraform.tfstate").exists()
    started = clock.real()
    tf = workflow.bootstrap_tf(target)
    changed = tf.plan(workflow.PLAN_FILE)
    if changed and existing:
        me = planner_identities(target.spec, "rollback")
        if not approve_by or same_person(approve_by, me):
            raise GateRefused(
                f"the state-backend module in {target.bootstrap_dir} differs from what is "
                "deployed; changing the backend of production is a change of its own. Fix: "
                f"review `terraform show {workflow.PLAN_FILE}` there, and have a second person "
                "approve: "
                f"`kubeprod bootstrap {target.spec} --approve-by NAME` (not {', '.join(me)})"
            )
    if changed:
        changelog.check_writable(target.env.name)
        tf.apply(workflow.PLAN_FILE)
        changelog.append(
            target.env.name,
            {
                "kind": "bootstrap" if not existing else "backend change",
                "who": getpass.getuser(),
                "approved_by": [approve_by] if approve_by else [],
                "started_at": started.isoformat(),
                "finished_at": clock.real().isoformat(),
                "target": "aws",
                "result": "success",
                "workdir": str(target.bootstrap_dir),
            },
        )
    return dict(tf.output_json())


def bootstrap(spec: str, cloud: str, *, local: bool, approve_by: str | None) -> dict[str, Any]:
    """`kubeprod bootstrap`: the local cloud bootstraps freely; a real cloud is recorded."""
    if local:
        return workflow.bootstrap(spec, cloud, local=True, auto_approve=True)
    if cloud != "aws":
        return workflow.render_bootstrap(spec, cloud)
    target = workflow.target_for(spec, cloud, local)
    return workflow.backend_result(target, recorded(target, approve_by))
