"""Re-plan the example against the local cloud and check the plan in as test data.

Run from anywhere: `.venv/bin/python scripts/refresh_plan_data.py` (needs terraform and
the AWS provider mirror; takes about a minute). It starts a local cloud of its own,
renders examples/production.yaml for the local target, plans it (no apply) and writes

- tests/data/aws_plan/plan.json    the `terraform show -json` of that plan
- tests/data/aws_plan/local/       what the local target adds to the render it planned
                                   (kubeprod_local_override.tf, local.s3.tfbackend); the
                                   rest of that directory is tests/golden/aws, which the
                                   tests copy beside them
- tests/data/aws_plan/render.sha256  the hash of tests/golden/aws it corresponds to

so the AWS plan rules run in the fast suite (tests/test_policy_aws_plan.py) without
terraform. tests/test_policy_aws_plan.py fails with this command when the AWS golden
render moved on. Run it after refreshing the goldens when the AWS render changed.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

DATA = REPO / "tests" / "data" / "aws_plan"
GOLDEN_AWS = REPO / "tests" / "golden" / "aws"
SPEC = "examples/production.yaml"
SCRATCH = ".kubeprod-plan-data"  # KUBEPROD_HOME under the repo: headers stay relative


def render_hash(directory: Path) -> str:
    """sha256 over every file of a render directory (names and bytes, sorted)."""
    digest = hashlib.sha256()
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        digest.update(path.relative_to(directory).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def main() -> int:
    os.chdir(REPO)
    os.environ["KUBEPROD_HOME"] = SCRATCH
    from kubeprod import workflow
    from kubeprod.clouds.aws_local import OVERRIDE_FILE
    from kubeprod.local import server

    try:
        target = workflow.target_for(SPEC, "aws", True)
        tf = workflow.prepare(target, workflow.ensure_backend(target))
        tf.plan(workflow.PLAN_FILE)
        plan = tf.show_json(workflow.PLAN_FILE)
        shutil.rmtree(DATA, ignore_errors=True)
        (DATA / "local").mkdir(parents=True)
        (DATA / "plan.json").write_text(json.dumps(plan, indent=1, sort_keys=True) + "\n")
        for name in (OVERRIDE_FILE, "local.s3.tfbackend"):
            shutil.copyfile(target.workdir / name, DATA / "local" / name)
        (DATA / "render.sha256").write_text(render_hash(GOLDEN_AWS) + "\n")
    finally:
        server.stop()
        shutil.rmtree(REPO / SCRATCH, ignore_errors=True)
    print(f"wrote {DATA.relative_to(REPO)}: plan.json, local/, render.sha256")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
