"""State snapshots (CHG-4): `terraform state pull` before every apply, kept locally
and beside the remote state in the state bucket; and putting one back.

Local: `$KUBEPROD_HOME/snapshots/<env>/<timestamp>-<plan hash>.tfstate` plus a
`.json` sidecar naming the spec, target and S3 copy. Remote:
`s3://<state bucket>/<env>/aws/snapshots/<timestamp>-<plan hash>.tfstate`.
"""

from __future__ import annotations

import getpass
import json
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

from kubeprod import workflow
from kubeprod.change import changelog, clock, notify, windows
from kubeprod.change.approval import same_person
from kubeprod.change.bundle import planner_identities
from kubeprod.change.changelog import home
from kubeprod.change.records_model import SnapshotRef
from kubeprod.change.refused import GateRefused
from kubeprod.errors import InputError, KubeprodError
from kubeprod.local.server import TEST_CREDENTIALS, ca_bundle


def _s3_client(target: Any, region: str) -> Any:
    import boto3  # lazy, for start-up time (~0.15 s)
    from botocore.config import Config

    if target.local:
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
    text_sidecar = json.dumps(sidecar, indent=2) + "\n"
    local.with_suffix(".json").write_text(text_sidecar)
    if result.get("s3"):  # the index beside the copy: a fresh CI runner can restore it
        try:
            _s3_client(target, state.get("region") or "us-east-1").put_object(
                Bucket=bucket,
                Key=key.removesuffix(".tfstate") + ".json",
                Body=text_sidecar.encode(),
            )
        except Exception as exc:  # the snapshot itself is kept; say the index is not
            result["s3_error"] = f"sidecar: {type(exc).__name__}: {exc}"
    return SnapshotRef(**result).as_dict()


SIDECAR_FIELDS = {"environment": str, "spec": str, "workdir": str, "local_target": bool}


def _load_snapshot(snapshot: str) -> tuple[Path, dict[str, Any], dict[str, Any]]:
    """(path, sidecar, state) of a snapshot, every field checked: InputError if not."""
    path = Path(snapshot)
    meta_path = path.with_suffix(".json")
    fix = f"Fix: pick a snapshot kubeprod took, from {home() / 'snapshots'}"
    if not path.is_file() or not meta_path.is_file():
        raise InputError(
            f"{snapshot} is not a kubeprod state snapshot (it and its .json sidecar must "
            f"exist). {fix}"
        )
    try:
        meta = json.loads(meta_path.read_text())
        wanted = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{snapshot} or its sidecar is not JSON ({exc}). {fix}") from None
    if not isinstance(meta, dict) or any(
        not isinstance(meta.get(k), t) for k, t in SIDECAR_FIELDS.items()
    ):
        raise InputError(
            f"{meta_path} lacks {', '.join(SIDECAR_FIELDS)} (or has the wrong types). {fix}"
        )
    if (
        not isinstance(wanted, dict)
        or not wanted.get("lineage")
        or not isinstance(wanted.get("serial"), int)
    ):
        raise InputError(
            f"{snapshot} is not a terraform state (no lineage and serial): an empty state "
            f"cannot be restored. {fix}"
        )
    return path, meta, wanted


def restore(
    snapshot: str,
    *,
    yes: bool,
    at: str | None = None,
    who: str | None = None,
    approve_by: str | None = None,
    emergency: bool = False,
    reason: str = "",
) -> dict[str, Any]:
    """Push a snapshot back as the current state (same lineage, next serial), through
    the gate as a change of its own: a second person's approval, a window (or an
    emergency with a reason), a `started` and a result record, and notices."""
    path, meta, wanted = _load_snapshot(snapshot)
    if emergency and not reason.strip():
        raise InputError("--emergency needs --reason '...': it is recorded and notified")
    if not yes:
        raise InputError(
            f"restoring {path.name} replaces the current state of {meta['environment']} with "
            f"serial {wanted.get('serial')} ({len(wanted.get('resources') or [])} resources). "
            "Fix: re-run with --yes to confirm"
        )
    moment = clock.change_moment(at, local=meta["local_target"], what="a state restore")
    target = workflow.target_for(meta["spec"], "aws", meta["local_target"])
    who = (who or getpass.getuser()).strip()
    reasons = []
    decision = windows.decide(target.env.maintenance, moment.effective)
    if not decision.allowed and not emergency:
        reasons.append(f"[CHG-3 window] {decision.reason}")
    me = sorted({who, *planner_identities(meta["spec"], "rollback")})
    single = target.env.change_control.single_operator
    if target.env.profile == "production" and (
        not approve_by
        or (same_person(approve_by, me) and not (single and same_person(approve_by, [single])))
    ):
        reasons.append(
            "[CHG-2 approval] replacing production state needs a second person's approval. "
            f"Fix: --approve-by NAME (someone other than {', '.join(me)})"
        )
    if reasons:
        raise GateRefused(
            f"restore of {path.name} refused:\n" + "\n".join(f"  - {r}" for r in reasons)
        )
    env_name = target.env.name
    started = changelog.start(
        env_name,
        {
            "kind": "restore",
            "who": who,
            "approved_by": [approve_by] if approve_by else [],
            "started_at": moment.real.isoformat(),
            **moment.record(),
            "target": "local" if meta["local_target"] else "aws",
            "restored": str(path),
            "override": {"emergency": reason if emergency else None},
            "window": decision.reason,
        },
    )
    targets = target.env.notifications.targets
    body = f"environment {env_name}; restore {path.name} by {who}, approved by {approve_by}"
    deliveries = [
        d.as_dict()
        for d in notify.notify(targets, "start", "kubeprod state restore starting", body)
    ]
    if emergency:
        deliveries += [
            d.as_dict()
            for d in notify.notify(
                targets, "emergency", "kubeprod EMERGENCY restore", f"{body}; {reason}"
            )
        ]
    tf = workflow.terraform_for(Path(meta["workdir"]), target)
    try:
        current_text = tf.run("state", "pull").stdout
        current = json.loads(current_text) if current_text.strip() else {}
        if current and current.get("lineage") != wanted.get("lineage"):
            raise KubeprodError(
                f"the snapshot's lineage {wanted.get('lineage')} is not the current state's "
                f"{current.get('lineage')}: it belongs to another state. Fix: pick a snapshot "
                "of this environment"
            )
        s3_uri = str(meta.get("s3") or "")
        aws = target.env.clouds.aws
        bucket_info = {
            "bucket": s3_uri[5:].split("/", 1)[0] if s3_uri.startswith("s3://") else None,
            "region": aws.region if aws else None,
        }
        before = take(target, tf, bucket_info, "before-restore", moment.real, meta["spec"])
        wanted["serial"] = int(current.get("serial") or 0) + 1
        with tempfile.NamedTemporaryFile("w", suffix=".tfstate", dir=tf.workdir, delete=False) as f:
            json.dump(wanted, f)
            pushed = Path(f.name)
        try:
            tf.run("state", "push", pushed.name)
        finally:
            pushed.unlink(missing_ok=True)
        held_text = tf.run("state", "pull").stdout
        held = json.loads(held_text).get("serial") if held_text.strip() else None
    except Exception as exc:
        deliveries += [
            d.as_dict()
            for d in notify.notify(
                targets, "failure", "kubeprod state restore FAILED", f"{body}; {exc}"
            )
        ]
        changelog.finish(
            env_name,
            started,
            {
                "result": "failure",
                "error": str(exc),
                "finished_at": clock.real().isoformat(),
                "notifications": deliveries,
            },
        )
        raise
    deliveries += [
        d.as_dict()
        for d in notify.notify(
            targets, "success", "kubeprod state restore done", f"{body}; serial {held}"
        )
    ]
    record = changelog.finish(
        env_name,
        started,
        {
            "result": "success",
            "finished_at": clock.real().isoformat(),
            "serial": held,
            "snapshot": before,
            "notifications": deliveries,
        },
    )
    return {
        "restored": str(path),
        "serial": held,
        "record": record["id"],
        "previous_state_saved": before["local"],
        "next": "run `kubeprod plan` to see how the infrastructure differs from this state",
    }
