"""The main job: spec -> state backend -> module -> init/validate/plan/apply -> summary.

One direction of data flow; every step is a plain function of the previous
step's result, so `plan` and `up` share all but the apply.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from kubeprod.clouds.aws_bootstrap import bucket_name
from kubeprod.clouds.aws_local import OVERRIDE_FILE, backend_settings, override_file
from kubeprod.clouds.aws_state_failover import failover_moves
from kubeprod.errors import InputError, KubeprodError
from kubeprod.hcl import render_attributes
from kubeprod.local import server
from kubeprod.local.server import TEST_CREDENTIALS, ca_bundle
from kubeprod.policy.gate import enforce_plan
from kubeprod.render import bootstrap_module, header_for, render_module, write_baseline
from kubeprod.render.output import render_texts, write_module
from kubeprod.spec import load_spec
from kubeprod.spec.model import Environment
from kubeprod.terraform.faults import raise_if_locked, refuse_errored_state
from kubeprod.terraform.runner import Progress, Terraform, TerraformError

PLAN_FILE = "kubeprod.tfplan"


class NoBackend(KubeprodError):
    """A read-only command found no state backend; bootstrapping is explicit."""

    exit_code = 4


class UpRefused(KubeprodError):
    """`up` applies without the change process; production outside --local refuses."""

    exit_code = 4


@dataclass(frozen=True)
class Target:
    """Where one environment's AWS module lives and what it talks to."""

    cloud: ClassVar[str] = "aws"  # the only cloud kubeprod plans and applies so far
    env: Environment
    spec: str
    workdir: Path
    bootstrap_dir: Path
    endpoint: str | None  # the local cloud, or None for real AWS

    @property
    def local(self) -> bool:
        return self.endpoint is not None

    def tf_env(self) -> dict[str, str]:
        aws = self.env.clouds.aws
        assert aws is not None
        env = {"AWS_REGION": aws.region, "AWS_DEFAULT_REGION": aws.region}
        if self.local:
            env.update(TEST_CREDENTIALS)
            env["AWS_CA_BUNDLE"] = str(ca_bundle())
            env.update({"AWS_PROFILE": "", "AWS_SESSION_TOKEN": ""})
        return env


def _require_aws(env: Environment, cloud: str) -> None:
    if cloud != "aws":
        raise InputError(
            f"kubeprod plans and applies AWS only so far; {cloud} is rendered and checked "
            f"offline. Fix: `kubeprod render SPEC --cloud {cloud}`, then run terraform plan "
            "on that directory where its provider can be installed"
        )
    if env.clouds.aws is None:
        raise InputError(
            "the spec has no clouds.aws section. Fix: add clouds.aws with region and zones"
        )


def target_for(spec: str, cloud: str, local: bool) -> Target:
    env = load_spec(spec)
    _require_aws(env, cloud)
    if local:
        endpoint: str | None = server.start()["endpoint"]
        base = server.home() / "local" / env.name
        return Target(env, spec, base / cloud, base / f"{cloud}-bootstrap", endpoint)
    base = Path("infra") / env.name
    return Target(env, spec, base / cloud, base / f"{cloud}-bootstrap", None)


def terraform_for(workdir: Path, target: Target) -> Any:
    """The terraform runner for a directory of `target`, with its cloud's environment."""
    return Terraform(workdir, env=target.tf_env())


def ensure_backend(target: Target) -> dict[str, Any]:
    """Apply the state-backend module when anything of it is missing; return its outputs
    (the local cloud; a real cloud's backend goes through kubeprod.change.bootstrapping)."""
    tf = bootstrap_tf(target)
    if tf.plan(PLAN_FILE):
        tf.apply(PLAN_FILE)
    return tf.output_json()


def bootstrap_tf(target: Target) -> Any:
    """Write the state-backend module and init it; the runner for it."""
    extra: dict[str, Any] = {}
    if target.endpoint:
        aws = target.env.clouds.aws
        assert aws is not None
        extra[OVERRIDE_FILE] = override_file(
            aws.region,
            target.endpoint,
            main_module=False,
            recovery_region=target.env.dr.recovery_region.aws,
        )
    texts = bootstrap_module(
        target.env, "aws", target.spec, str(target.bootstrap_dir), local=target.local, extra=extra
    )
    write_module(texts, target.bootstrap_dir)
    tf = terraform_for(target.bootstrap_dir, target)
    tf.init(backend=False)
    fail_over_backend(target, tf)
    return tf


def fail_over_backend(target: Target, tf: Any) -> list[tuple[str, str]]:
    """DR-4: when the spec moved to the region the state replicates to, the replica
    becomes the state bucket (kubeprod.clouds.aws_state_failover); the moves made."""
    path = target.bootstrap_dir / "terraform.tfstate"
    aws = target.env.clouds.aws
    if aws is None or not path.is_file():
        return []
    try:
        tfstate = json.loads(path.read_text())
    except (OSError, ValueError):
        return []
    moves = failover_moves(tfstate, aws.region)
    for source, destination in moves:
        tf.run("state", "mv", source, destination)
    return moves


def backend_outputs(target: Target) -> dict[str, Any]:
    """Where the state lives, read-only (plan, drift, rollback never change anything).

    The local cloud keeps bootstrapping itself. For a real cloud the outputs come from
    the bootstrap module's state, else from the account (the bucket and the key alias
    are named from the spec); no backend at all means `kubeprod bootstrap` first."""
    if target.local:
        return ensure_backend(target)
    state = target.bootstrap_dir / "terraform.tfstate"
    if state.exists():
        try:
            outputs = json.loads(state.read_text()).get("outputs") or {}
            found = {name: item.get("value") for name, item in outputs.items()}
        except (OSError, ValueError, AttributeError):
            found = {}
        if found.get("bucket") and found.get("kms_key_arn"):
            return found
    discovered = _discover_backend(target)
    if discovered:
        return discovered
    raise NoBackend(
        f"environment {target.env.name} has no state backend yet; plan and drift are "
        "read-only and never create one. Fix: `kubeprod bootstrap "
        f"{target.spec}` once (recorded in the change log), then plan again"
    )


def _discover_backend(target: Target) -> dict[str, Any] | None:
    """The state bucket and KMS key by their spec-derived names (read-only calls)."""
    try:
        import boto3  # lazy: only the real-AWS path needs it (a second to import)

        aws = target.env.clouds.aws
        assert aws is not None
        account = boto3.client("sts", region_name=aws.region).get_caller_identity()["Account"]
        bucket = bucket_name(target.env, account)
        boto3.client("s3", region_name=aws.region).head_bucket(Bucket=bucket)
        key = boto3.client("kms", region_name=aws.region).describe_key(
            KeyId=f"alias/kubeprod-{target.env.name}-state"
        )
        return {"bucket": bucket, "kms_key_arn": key["KeyMetadata"]["Arn"]}
    except Exception:  # no credentials, no bucket, no key: no backend found
        return None


def backend_config(target: Target, outputs: dict[str, Any]) -> Path:
    """Write the S3 backend settings `terraform init` reads; return the file."""
    settings: dict[str, Any] = {"bucket": outputs["bucket"], "kms_key_id": outputs["kms_key_arn"]}
    name = "backend.s3.tfbackend"
    if target.endpoint:
        settings.update(backend_settings(target.endpoint))
        name = "local.s3.tfbackend"
    path = target.workdir / name
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "# Written by `kubeprod bootstrap`: where this module's state lives.\n"
    path.write_text(text + render_attributes(settings))
    return path


def prepare(target: Target, outputs: dict[str, Any]) -> Any:
    """Render the module (plus the local override), init and validate it."""
    texts = render_module(target.env, "aws", target.spec, str(target.workdir))
    if target.endpoint:
        aws = target.env.clouds.aws
        assert aws is not None
        texts.update(
            render_texts(
                {
                    OVERRIDE_FILE: override_file(
                        aws.region,
                        target.endpoint,
                        recovery_region=target.env.dr.recovery_region.aws
                        if target.env.backup.enabled
                        else None,
                    )
                },
                header_for(target.spec, "aws", str(target.workdir)),
            )
        )

    refuse_errored_state(target.workdir)
    write_module(texts, target.workdir)

    write_baseline(target.env, "aws", target.spec, target.workdir)
    config = backend_config(target, outputs)
    tf = terraform_for(target.workdir, target)
    tf.init(backend_config=[config.name])
    tf.validate()
    return tf


def plan_checked(target: Target, tf: Any, out: str, *extra: str) -> bool:
    """terraform plan; a state lock left by a killed apply names `kubeprod unlock`."""
    try:
        return bool(tf.plan(out, *extra))
    except TerraformError as exc:
        raise_if_locked(exc, target.spec, target.local, target.workdir)
        raise


def change_counts(plan_json: dict[str, Any]) -> dict[str, int]:
    counts = {"add": 0, "change": 0, "destroy": 0, "replace": 0}
    for change in plan_json.get("resource_changes", []):
        actions = change["change"]["actions"]
        if actions == ["create"]:
            counts["add"] += 1
        elif actions == ["update"]:
            counts["change"] += 1
        elif actions == ["delete"]:
            counts["destroy"] += 1
        elif "delete" in actions and "create" in actions:
            counts["replace"] += 1
    return counts


def describe_counts(counts: dict[str, int]) -> str:
    if not any(counts.values()):
        return "no changes: the infrastructure matches the spec"
    return (
        f"{counts['add']} to add, {counts['change']} to change, "
        f"{counts['replace']} to replace, {counts['destroy']} to destroy"
    )


def render_bootstrap(spec: str, cloud: str) -> dict[str, Any]:
    """Azure and GCP: write the state-backend module; applying it needs the provider."""
    env = load_spec(spec)
    if getattr(env.clouds, cloud) is None:
        raise InputError(f"the spec has no clouds.{cloud} section. Fix: add it")
    out = Path("infra") / env.name / f"{cloud}-bootstrap"
    result = write_module(bootstrap_module(env, cloud, spec, str(out)), out)
    return {"rendered": str(out), "written": result.written}


def bootstrap(spec: str, cloud: str, *, local: bool, auto_approve: bool) -> dict[str, Any]:
    """The local cloud's state backend (a real cloud's: kubeprod.change.bootstrapping)."""
    if cloud != "aws" and not local:
        return render_bootstrap(spec, cloud)
    target = target_for(spec, cloud, local)
    return backend_result(target, ensure_backend(target))


def backend_result(target: Target, outputs: dict[str, Any]) -> dict[str, Any]:
    """Write the backend settings for `outputs`; what `kubeprod bootstrap` reports."""
    config = backend_config(target, outputs)
    return {
        "bucket": outputs["bucket"],
        "kms_key_arn": outputs["kms_key_arn"],
        "backend_config": str(config),
    }


@dataclass(frozen=True)
class Planned:
    """A plan made and gated: what the change process freezes into a bundle."""

    target: Target
    tf: Any
    plan_json: dict[str, Any]
    counts: dict[str, int]
    changed: bool


def make_plan(spec: str, cloud: str, *, local: bool) -> Planned:
    """Bootstrap if needed, render, init, validate, plan and gate (no bundle: see
    kubeprod.change.planning, which `kubeprod plan` runs)."""
    target = target_for(spec, cloud, local)
    tf = prepare(target, backend_outputs(target))
    changed = plan_checked(target, tf, PLAN_FILE)
    plan_json = tf.show_json(PLAN_FILE)

    enforce_plan(plan_json, target.workdir, spec, stage="plan", env=target.env)
    return Planned(target, tf, plan_json, change_counts(plan_json), changed)


def up(spec: str, cloud: str, *, local: bool, quiet: bool = False) -> dict[str, Any]:
    started = time.monotonic()
    target = target_for(spec, cloud, local)
    if not local and target.env.profile == "production":
        raise UpRefused(
            f"`kubeprod up` applies without approval, window, snapshot, notice or change log, "
            f"so it never touches a real production environment (CHG-1..5). Fix: "
            f"`kubeprod plan {spec}`, `kubeprod review BUNDLE`, `kubeprod approve BUNDLE --by "
            "NAME` (a second person), `kubeprod apply BUNDLE` inside a window; `up` is for "
            "the embedded local cloud (--local)"
        )
    say = (lambda msg: None) if quiet else (lambda msg: print(msg, file=sys.stderr))
    say(f"state backend ({'local cloud' if local else 'AWS'}) ...")
    outputs = ensure_backend(target)
    say(f"render, init, validate {target.workdir} ...")
    tf = prepare(target, outputs)
    say("plan ...")
    changed = tf.plan(PLAN_FILE)
    plan_json = tf.show_json(PLAN_FILE)

    say("policy gate ...")
    enforce_plan(plan_json, target.workdir, spec, stage="up", env=target.env)
    counts = change_counts(plan_json)
    if changed:
        say(f"apply: {describe_counts(counts)}")
        total = counts["add"] + counts["change"] + counts["destroy"] + 2 * counts["replace"]
        tf.apply(PLAN_FILE, total=total, on_event=Progress(total, quiet=quiet))
    result = summarize(target.env, tf.output_json())
    result.update(
        {
            "counts": counts,
            "workdir": str(target.workdir),
            "seconds": round(time.monotonic() - started, 1),
        }
    )
    result["summary_text"] = summary_text(result)
    return result


def summarize(env: Environment, outputs: dict[str, Any]) -> dict[str, Any]:
    return {
        "cluster_name": outputs.get("cluster_name"),
        "cluster_version": outputs.get("cluster_version"),
        "endpoint": outputs.get("cluster_endpoint"),
        "endpoint_private_access": outputs.get("endpoint_private_access"),
        "public_access_cidrs": outputs.get("public_access_cidrs"),
        "nat_gateways": outputs.get("nat_gateway_ids") or {},
        "node_groups": outputs.get("node_groups") or {},
    }


def summary_text(result: dict[str, Any]) -> str:
    lines = [
        f"cluster        {result['cluster_name']} (Kubernetes {result['cluster_version']})",
        f"endpoint       private={str(result['endpoint_private_access']).lower()}, "
        f"public restricted to {', '.join(result['public_access_cidrs'] or []) or 'nobody'}",
        f"NAT gateways   {len(result['nat_gateways'])}: "
        + ", ".join(f"{zone}={gw}" for zone, gw in sorted(result["nat_gateways"].items())),
    ]
    for name, scaling in sorted(result["node_groups"].items()):
        lines.append(
            f"node group     {name}: min {scaling['min_size']}, max {scaling['max_size']}, "
            f"desired {scaling['desired_size']}"
        )
    lines.append(f"changes        {describe_counts(result['counts'])} ({result['seconds']}s)")
    return "\n".join(lines)
