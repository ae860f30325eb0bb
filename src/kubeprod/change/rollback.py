"""Rollback (CHG-4): re-render the spec as it was at a revision (git, or the copy kept
with a change-log entry), plan it into a bundle, review it; apply through the same gate.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from kubeprod import workflow
from kubeprod.change import bundle as bundles
from kubeprod.change import changelog, gitinfo
from kubeprod.errors import InputError
from kubeprod.spec import load_spec


def spec_at(spec: str, to: str, env_name: str) -> tuple[str, str, str]:
    """(spec text, revision, where it came from) for a change id or a git revision."""
    if re.fullmatch(r"c\d{4,}", to):
        entry = changelog.find(env_name, to)
        if entry is None:
            raise InputError(f"no change {to} in the change log. Fix: see `kubeprod history`")
        if not isinstance(entry.get("bundle"), str) or not entry["bundle"]:
            raise InputError(
                f"change {to} ({entry.get('kind') or 'change'}) has no plan bundle, so it "
                "keeps no spec. Fix: roll back to a git revision or another change id"
            )
        copy = Path(entry["bundle"]) / bundles.SPEC_COPY
        if not copy.exists():
            raise InputError(f"the spec kept with {to} is gone ({copy}). Fix: use a git revision")
        return copy.read_text(), str(entry.get("spec_revision") or to), f"change {to}"
    text, commit = gitinfo.show(spec, to)
    return text, commit, f"git {to}"


def plan_rollback(spec: str, to: str, cloud: str, *, local: bool) -> dict[str, Any]:
    """Write the old spec under $KUBEPROD_HOME, plan it, and bundle the plan."""
    env = load_spec(spec)
    text, revision, source = spec_at(spec, to, env.name)
    folder = changelog.home() / "rollback" / env.name / revision[:12]
    folder.mkdir(parents=True, exist_ok=True)
    old_spec = folder / Path(spec).name
    old_spec.write_text(text)
    target = workflow.target_for(str(old_spec), cloud, local)
    if target.env.name != env.name:
        raise InputError(
            f"at {to} the spec describes environment '{target.env.name}', not '{env.name}'. "
            "Fix: pick a revision of this environment"
        )
    tf = workflow.prepare(target, workflow.backend_outputs(target))
    changed = workflow.plan_checked(target, tf, workflow.PLAN_FILE)
    plan_json = tf.show_json(workflow.PLAN_FILE)
    made = bundles.create(
        target,
        tf,
        plan_json,
        workflow.change_counts(plan_json),
        changed,
        plan_file=Path(target.workdir) / workflow.PLAN_FILE,
        kind="rollback",
        provenance_of=spec,
        extra={"rollback_to": {"revision": revision, "source": source, "spec": str(old_spec)}},
    )
    return {"bundle": made, "revision": revision, "source": source, "changes": changed}
