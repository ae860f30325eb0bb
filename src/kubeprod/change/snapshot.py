"""State snapshots (CHG-4): `terraform state pull` before every apply, kept locally
and beside the remote state in the state bucket; and putting one back.

Local: `$KUBEPROD_HOME/snapshots/<env>/<timestamp>-<plan hash>.tfstate` plus a
`.json` sidecar naming the spec, target and S3 copy. Remote:
`s3://<state bucket>/<env>/aws/snapshots/<timestamp>-<plan hash>.tfstate`.
"""

from __future__ import annotations

import json
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

from kubeprod.change import clock
from kubeprod.change.changelog import home
from kubeprod.errors import InputError, KubeprodError


def _s3_client(target: Any, region: str) -> Any:
    import boto3
    from botocore.config import Config

    if target.local:
        from kubeprod.local.server import TEST_CREDENTIALS, ca_bundle

        return boto3.client(
            "s3",
            region_name=region,
            endpoint_url=target.endpoint,
            verify=str(ca_bundle()),
            aws_access_key_id=TEST_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=TEST_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            config=Config(s3={"addressing_style": "path"}),
        )
    return boto3.client("s3", region_name=region)


def take(
    target: Any,
    tf: Any,
    state: dict[str, Any],
    label: str,
    moment: datetime,
    spec: str,
) -> dict[str, Any]:
    """Pull the state and keep it in both places; an S3 failure is reported, not fatal."""
    text = tf.run("state", "pull").stdout
    data = json.loads(text) if text.strip() else {}
    env_name = target.env.name
    folder = home() / "snapshots" / env_name
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{clock.stamp(moment)}-{label}.tfstate"
    attempt = 1
    while (folder / name).exists():  # a retry of the same plan keeps every earlier snapshot
        attempt += 1
        name = f"{clock.stamp(moment)}-{label}-{attempt}.tfstate"
    local = folder / name
    local.write_text(text)
    key = f"{env_name}/aws/snapshots/{name}"
    result: dict[str, Any] = {
        "local": str(local),
        "serial": data.get("serial"),
        "lineage": data.get("lineage"),
        "resources": len(data.get("resources", [])),
    }
    bucket = state.get("bucket")
    if bucket:
        try:
            _s3_client(target, state.get("region") or "us-east-1").put_object(
                Bucket=bucket, Key=key, Body=text.encode()
            )
            result["s3"] = f"s3://{bucket}/{key}"
        except Exception as exc:  # the local copy still protects the change
            result["s3_error"] = f"{type(exc).__name__}: {exc}"
    sidecar = {
        **result,
        "environment": env_name,
        "spec": spec,
        "local_target": bool(target.local),
        "workdir": str(target.workdir),
        "taken_at": moment.isoformat(),
    }
    local.with_suffix(".json").write_text(json.dumps(sidecar, indent=2) + "\n")
    return result


def restore(snapshot: str, *, yes: bool, at: str | None = None) -> dict[str, Any]:
    """Push a snapshot back as the current state (same lineage, next serial)."""
    from kubeprod.workflow import target_for, terraform_for

    path = Path(snapshot)
    meta_path = path.with_suffix(".json")
    if not path.exists() or not meta_path.exists():
        raise InputError(
            f"{snapshot} is not a kubeprod state snapshot (it and its .json sidecar must "
            f"exist). Fix: pick one from {home() / 'snapshots'}"
        )
    meta = json.loads(meta_path.read_text())
    wanted = json.loads(path.read_text() or "{}")
    if not yes:
        raise InputError(
            f"restoring {path.name} replaces the current state of {meta['environment']} with "
            f"serial {wanted.get('serial')} ({meta['resources']} resources). "
            "Fix: re-run with --yes to confirm"
        )
    target = target_for(meta["spec"], "aws", meta["local_target"])
    tf = terraform_for(Path(meta["workdir"]), target)
    current_text = tf.run("state", "pull").stdout
    current = json.loads(current_text) if current_text.strip() else {}
    if current and current.get("lineage") != wanted.get("lineage"):
        raise KubeprodError(
            f"the snapshot's lineage {wanted.get('lineage')} is not the current state's "
            f"{current.get('lineage')}: it belongs to another state. Fix: pick a snapshot of "
            "this environment"
        )
    s3_uri = str(meta.get("s3") or "")
    aws = target.env.clouds.aws
    bucket_info = {
        "bucket": s3_uri[5:].split("/", 1)[0] if s3_uri.startswith("s3://") else None,
        "region": aws.region if aws else None,
    }
    before = take(target, tf, bucket_info, "before-restore", clock.now(at), meta["spec"])
    wanted["serial"] = int(current.get("serial") or 0) + 1
    with tempfile.NamedTemporaryFile("w", suffix=".tfstate", dir=tf.workdir, delete=False) as f:
        json.dump(wanted, f)
        pushed = Path(f.name)
    try:
        tf.run("state", "push", pushed.name)
    finally:
        pushed.unlink(missing_ok=True)
    return {
        "restored": str(path),
        "serial": wanted["serial"],
        "previous_state_saved": before["local"],
        "next": "run `kubeprod plan` to see how the infrastructure differs from this state",
    }
