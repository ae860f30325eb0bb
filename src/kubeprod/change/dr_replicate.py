"""DR-4: the state, the change log and the drill history, copied to the recovery region.

`replicate` copies the current terraform state (pulled through the backend), the change
log (approvals and overrides are in its records) and the drill history into a versioned,
encrypted bucket in `dr.recovery_region.aws`; `read_back` fetches them from there and
checks them against their hashes. The region-loss drill restores the state it reads back.
Run it after each apply (`kubeprod dr replicate SPEC`; the CI workflow's apply job can).
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kubeprod.change import changelog, drill_breaks
from kubeprod.dr import history
from kubeprod.errors import InputError

STATE_KEY = "state/terraform.tfstate"
CHANGELOG_KEY = "changelog.jsonl"
HISTORY_KEY = "drills.jsonl"
MANIFEST_KEY = "manifest.json"


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def bucket_name(env: Any, account: str, region: str) -> str:
    return f"kubeprod-{env.name}-dr-{account}-{region}"[:63]


def _recovery(env: Any) -> str:
    region = env.dr.recovery_region.aws
    if not region:
        raise InputError(
            "no recovery region to replicate to. Fix: set dr.recovery_region.aws "
            "(e.g. eu-central-1)"
        )
    return str(region)


def _bucket(target: Any, region: str) -> tuple[Any, str]:
    s3 = drill_breaks.client(target, "s3", region)
    account = drill_breaks.client(target, "sts", region).get_caller_identity()["Account"]
    return s3, bucket_name(target.env, account, region)


def replicate(target: Any, tf: Any, backend: dict[str, Any] | None = None) -> dict[str, Any]:
    """Copy state, change log and drill history to the recovery region; return the manifest.

    `backend`: the state-backend module's outputs; where its state replicates continuously
    (S3 CRR, kubeprod.clouds.aws_state_replication) is recorded in the manifest too."""
    region = _recovery(target.env)
    s3, bucket = _bucket(target, region)
    existing = [b["Name"] for b in s3.list_buckets().get("Buckets", [])]
    if bucket not in existing:
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region})
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        s3.put_public_access_block(
            Bucket=bucket,
            PublicAccessBlockConfiguration={
                "BlockPublicAcls": True,
                "IgnorePublicAcls": True,
                "BlockPublicPolicy": True,
                "RestrictPublicBuckets": True,
            },
        )
    state = tf.run("state", "pull").stdout.encode()
    name = target.env.name
    objects = {
        STATE_KEY: state,
        CHANGELOG_KEY: _read(changelog.log_path(name)),
        HISTORY_KEY: _read(history.history_path(name)),
    }
    at = datetime.now(UTC)
    for key, data in objects.items():
        s3.put_object(Bucket=bucket, Key=key, Body=data, ServerSideEncryption="aws:kms")
    manifest = {
        "at": at.isoformat(),
        "bucket": bucket,
        "region": region,
        "sha256": {key: _sha(data) for key, data in objects.items()},
        "state_serial": json.loads(state or b"{}").get("serial"),
    }
    if backend and backend.get("replica_bucket"):
        manifest["state_replica"] = {
            "bucket": backend["replica_bucket"],
            "region": backend.get("replica_region"),
        }
    s3.put_object(
        Bucket=bucket,
        Key=MANIFEST_KEY,
        Body=json.dumps(manifest, sort_keys=True).encode(),
        ServerSideEncryption="aws:kms",
    )
    return manifest


def read_back(target: Any, into: Path) -> dict[str, Any]:
    """Fetch the copies from the recovery region into `into`, each checked against the
    manifest's hash; return the manifest with the local paths."""
    region = _recovery(target.env)
    s3, bucket = _bucket(target, region)
    manifest = json.loads(s3.get_object(Bucket=bucket, Key=MANIFEST_KEY)["Body"].read())
    into.mkdir(parents=True, exist_ok=True)
    paths = {}
    for key, digest in manifest["sha256"].items():
        data = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        if _sha(data) != digest:
            raise InputError(
                f"s3://{bucket}/{key} does not match its recorded hash: the recovery copy is "
                "damaged. Fix: restore an earlier version of it (the bucket is versioned)"
            )
        path = into / Path(key).name
        path.write_bytes(data)
        paths[key] = str(path)
    return {**manifest, "paths": paths}


def _read(path: Path) -> bytes:
    return path.read_bytes() if path.exists() else b""
