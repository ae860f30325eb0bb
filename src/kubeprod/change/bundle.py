"""Plan bundles (CHG-2): everything a reviewer and the apply gate need, frozen.

`$KUBEPROD_HOME/bundles/<environment>/<id>/` holds the binary plan, its JSON, a
copy of the spec and of every module file, and `manifest.json` with their
sha256 hashes, the git provenance, the state serial the plan was made against,
the policy result and when it was made. Approvals (approvals.json) sit beside it
and are bound to the plan hash and the manifest hash.
"""

from __future__ import annotations

import getpass
import glob
import hashlib
import json
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kubeprod.change import clock, gitinfo
from kubeprod.change.changelog import home
from kubeprod.change.records_model import Manifest
from kubeprod.change.records_model import problems as record_problems
from kubeprod.errors import InputError
from kubeprod.policy.engine import check_plan_json
from kubeprod.policy.rules import Options
from kubeprod.policy.waivers import default_path
from kubeprod.spec import load_spec
from kubeprod.terraform import plan_shape

PLAN = "plan.tfplan"
PLAN_JSON = "plan.json"
SPEC_COPY = "spec.yaml"
MANIFEST = "manifest.json"
MODULE_DIR = "module"
MODULE_GLOBS = ("*.tf", "*.tfbackend")


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def module_hashes(workdir: Path) -> dict[str, str]:
    """name -> sha256 of every file terraform reads from the module directory."""
    names = sorted({p.name for g in MODULE_GLOBS for p in workdir.glob(g) if p.is_file()})
    return {name: sha256_file(workdir / name) for name in names}


def bundles_root(env_name: str) -> Path:
    return home() / "bundles" / env_name


def policy_result(
    plan_json: dict[str, Any],
    cloud: str,
    config_dir: Path | None = None,
    spec: str | None = None,
    planned_spec: str | None = None,
) -> dict[str, Any]:
    """The policy gate's verdict on this plan, as `kubeprod plan` enforces it.

    Passes the module directory (prevent_destroy, backend), the waiver file beside `spec`
    and the thresholds of `planned_spec` (the spec this plan was made from: for a
    rollback, the old one; default `spec`). `available` stays in the record for bundles
    made before the gate was always part of kubeprod (change/review.py reads it)."""
    judged = planned_spec or spec
    options = Options.from_spec(load_spec(judged)) if judged and Path(judged).is_file() else None
    try:
        report = check_plan_json(
            plan_json,
            cloud=cloud,
            config_dir=config_dir,
            waivers=default_path(spec) if spec else None,
            options=options,
        )
    except Exception as exc:  # the gate crashing is a failed gate, never a pass
        return {"available": True, "passed": False, "error": f"{type(exc).__name__}: {exc}"}
    return {"available": True, "passed": bool(report.passed), "report": report.as_dict()}


def state_identity(tf: Any) -> dict[str, Any]:
    """serial and lineage of the current remote state (None, None before the first apply)."""
    proc = tf.run("state", "pull")
    text = proc.stdout.strip()
    if not text:
        return {"serial": None, "lineage": None}
    data = json.loads(text)
    return {"serial": data.get("serial"), "lineage": data.get("lineage")}


def backend_location(workdir: Path, env_name: str, region: str) -> dict[str, str | None]:
    """The state bucket (from the .tfbackend file bootstrap wrote) and key."""
    bucket = None
    for path in sorted(workdir.glob("*.tfbackend")):
        match = re.search(r'^\s*bucket\s*=\s*"([^"]+)"', path.read_text(), re.M)
        if match:
            bucket = match.group(1)
    return {"bucket": bucket, "key": f"{env_name}/aws/terraform.tfstate", "region": region}


@dataclass(frozen=True)
class Bundle:
    path: Path
    manifest: dict[str, Any]

    @property
    def id(self) -> str:
        return str(self.manifest["id"])

    @property
    def plan_sha256(self) -> str:
        return str(self.manifest["plan_sha256"])

    @property
    def plan_file(self) -> Path:
        return self.path / PLAN

    def plan_json(self) -> dict[str, Any]:
        path = self.path / PLAN_JSON
        try:
            value = json.loads(path.read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InputError(f"{path} is damaged or unreadable ({exc}). Fix: plan again") from None

        wrong = plan_shape.problems(value)
        if wrong:
            raise InputError(
                f"{path} is not a terraform plan JSON: {'; '.join(wrong)}. Fix: plan again"
            )
        return value

    def reviewed_plan_problems(self, shown: dict[str, Any]) -> list[str]:
        """plan.json (what the reviewer read) against `terraform show -json plan.tfplan`
        (what would be applied): they must describe the same changes."""
        reviewed = self.plan_json()
        problems = []
        for key in REVIEWED_KEYS:
            if reviewed.get(key) != shown.get(key):
                problems.append(
                    f"plan.json's {key} is not what plan.tfplan holds (the review showed "
                    f"{_count(reviewed.get(key))}, the binary plan has {_count(shown.get(key))})"
                )
        return problems

    def manifest_sha256(self) -> str:
        return sha256_file(self.path / MANIFEST)

    def expected_files(self) -> dict[str, str]:
        """Bundle file -> the sha256 the manifest recorded for it."""
        return {
            PLAN: self.manifest["plan_sha256"],
            PLAN_JSON: self.manifest["plan_json_sha256"],
            SPEC_COPY: self.manifest["spec_sha256"],
            **{f"{MODULE_DIR}/{n}": h for n, h in self.manifest["module"].items()},
        }

    def integrity_problems(self) -> list[str]:
        """Files of the bundle itself that no longer match the manifest."""
        problems = []
        for name, digest in self.expected_files().items():
            path = self.path / name
            if not path.exists():
                problems.append(f"{name} is missing from the bundle")
            elif sha256_file(path) != digest:
                problems.append(f"{name} in the bundle changed after the plan")
        return problems

    def workdir_problems(self) -> list[str]:
        """Module files in the working directory that differ from what was planned."""
        now = module_hashes(Path(self.manifest["workdir"]))
        then = self.manifest["module"]
        problems = [f"{n} changed since the plan" for n in then if n in now and now[n] != then[n]]
        problems += [f"{n} was removed since the plan" for n in then if n not in now]
        problems += [f"{n} was added since the plan" for n in now if n not in then]
        return problems

    def spec_problems(self) -> list[str]:
        spec = Path(self.manifest["spec_path"])
        if not spec.exists():
            return [f"the spec {spec} no longer exists"]
        problems = []
        if sha256_file(spec) != self.manifest["spec_sha256"]:
            problems.append(f"the spec {spec} changed since the plan")
        waivers = self.manifest.get("waivers") or {}
        now = waiver_file(str(spec))
        if (str(now) if now else None) != waivers.get("path") or (
            now is not None and sha256_file(now) != waivers.get("sha256")
        ):
            problems.append(f"the waiver file {now or waivers.get('path')} changed since the plan")
        return problems


REVIEWED_KEYS = ("resource_changes", "output_changes")


def _count(changes: Any) -> str:
    if not isinstance(changes, list):
        return "nothing" if not changes else f"{len(changes)} outputs"
    acting = [c for c in changes if (c.get("change") or {}).get("actions") not in (["no-op"],)]
    return f"{len(acting)} change(s)"


def waiver_file(spec: str) -> Path | None:
    """The waiver file the policy gate reads for `spec`, if any."""
    found = default_path(spec)
    return Path(found).resolve() if found else None


class ManifestBundle(Bundle):
    """A bundle whose "plan" is a manifest set (`kubeprod cluster plan`, change/cluster.py):
    manifests.yaml is the set's canonical text, manifests/ its files."""

    SET_FILE = "manifests.yaml"
    FILES_DIR = "manifests"

    @property
    def plan_file(self) -> Path:
        return self.path / self.SET_FILE

    def expected_files(self) -> dict[str, str]:
        return {
            self.SET_FILE: self.manifest["plan_sha256"],
            SPEC_COPY: self.manifest["spec_sha256"],
            **{f"{self.FILES_DIR}/{n}": h for n, h in self.manifest["files"].items()},
        }

    def workdir_problems(self) -> list[str]:
        return []


def planner_identities(spec: str, kind: str) -> list[str]:
    """Who made this plan: the CI actor, the OS user, the git author of the planned
    commit; for a rollback (planned now, from an old revision) the operator's git
    identity. An approver must be someone else (CHG-2)."""
    found = [getpass.getuser()]
    for var in ("GITHUB_ACTOR", "GITHUB_TRIGGERING_ACTOR", "USER_NAME", "ATLANTIS_USER"):
        if os.environ.get(var):
            found.append(os.environ[var])
    found += gitinfo.author(spec, operator=kind == "rollback")
    return sorted({f.strip() for f in found if f and f.strip()})


def create(
    target: Any,
    tf: Any,
    plan_json: dict[str, Any],
    counts: dict[str, int],
    changes: bool,
    *,
    plan_file: Path,
    kind: str = "change",
    provenance_of: str | None = None,
    extra: dict[str, Any] | None = None,
) -> Bundle:
    """Freeze the plan just made in `target.workdir` into a new bundle."""
    made = clock.now()
    plan_hash = sha256_file(plan_file)
    root = bundles_root(target.env.name)
    bundle_id = f"{clock.stamp(made)}-{plan_hash[:12]}"
    path = root / bundle_id
    path.mkdir(parents=True, exist_ok=False)
    shutil.copy2(plan_file, path / PLAN)
    (path / PLAN_JSON).write_text(json.dumps(plan_json, sort_keys=True))
    shutil.copy2(target.spec, path / SPEC_COPY)
    workdir = Path(target.workdir).resolve()
    (path / MODULE_DIR).mkdir()
    hashes = module_hashes(workdir)
    for name in hashes:
        shutil.copy2(workdir / name, path / MODULE_DIR / name)
    aws = target.env.clouds.aws
    w = waiver_file(provenance_of or target.spec)
    manifest = {
        "id": bundle_id,
        "kind": kind,
        "created_at": made.isoformat(),
        "planned_by": getpass.getuser(),
        "planner": planner_identities(provenance_of or target.spec, kind),
        "environment": target.env.name,
        "profile": target.env.profile,
        "cloud": target.cloud,
        "local": bool(target.local),
        "target": "local" if target.local else "aws",
        "spec_path": str(Path(target.spec).resolve()),
        "spec_sha256": sha256_file(Path(target.spec)),
        "workdir": str(workdir),
        "plan_sha256": plan_hash,
        "plan_json_sha256": sha256_file(path / PLAN_JSON),
        "module": hashes,
        "git": gitinfo.provenance(provenance_of or target.spec, [w] if w else []),
        "waivers": {"path": str(w) if w else None, "sha256": sha256_file(w) if w else None},
        "state": {
            **state_identity(tf),
            **backend_location(workdir, target.env.name, aws.region if aws else ""),
        },
        "policy": policy_result(
            plan_json,
            target.cloud,
            path / MODULE_DIR,
            provenance_of or target.spec,
            planned_spec=str(target.spec),
        ),
        "changes": changes,
        "counts": counts,
        **(extra or {}),
    }
    (path / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return Bundle(path, manifest)


def load(ref: str) -> Bundle:
    """A bundle by path, or by id under $KUBEPROD_HOME/bundles."""
    path = Path(ref)
    if not (path / MANIFEST).exists():
        root = home() / "bundles"
        matches = sorted(root.glob(f"*/{glob.escape(ref)}*")) if ref and root.is_dir() else []
        matches = [m for m in matches if (m / MANIFEST).exists()]
        if len(matches) != 1:
            raise InputError(
                f"no plan bundle at '{ref}'"
                + (f" ({len(matches)} ids start with it)" if len(matches) > 1 else "")
                + ". Fix: pass the `bundle` path that `kubeprod plan` printed"
            )
        path = matches[0]
    try:
        manifest = json.loads((path / MANIFEST).read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        raise InputError(f"{path / MANIFEST} is damaged. Fix: plan again") from None
    if isinstance(manifest, dict) and manifest.get("kind") == "cluster-manifests":
        return ManifestBundle(path.resolve(), manifest)
    problems = manifest_problems(manifest)
    if problems:
        raise InputError(
            f"{path / MANIFEST} is not a kubeprod bundle manifest: "
            + "; ".join(problems)
            + ". Fix: plan again (a bundle is written by `kubeprod plan`, never by hand)"
        )
    return Bundle(path.resolve(), manifest)


def manifest_problems(manifest: Any) -> list[str]:
    """Fields a manifest must have, with their types."""
    problems = record_problems(Manifest, manifest)
    if not isinstance(manifest, dict):
        return problems
    counts = manifest.get("counts")
    if isinstance(counts, dict) and not all(
        isinstance(counts.get(k), int) for k in ("add", "change", "destroy", "replace")
    ):
        problems.append("counts must hold whole numbers for add, change, destroy, replace")
    if isinstance(manifest.get("git", {}), dict) is False:
        problems.append("git must be an object")
    return problems
