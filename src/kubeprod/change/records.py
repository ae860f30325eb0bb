"""Durable change records (CHG-4): the change log and the approvals log kept beside the
state, in the state bucket, so they outlive a CI runner whose KUBEPROD_HOME starts empty.

Objects: `s3://<state bucket>/<env>/kubeprod/records/<name>` (the bucket is versioned,
so every earlier version stays). Both files are append-only JSON lines, so syncing is
a union: lines the bucket has and this machine lacks are added here, then the union
goes back. A line is never dropped or rewritten, and a torn last line is never synced.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kubeprod import workflow
from kubeprod.change import snapshot
from kubeprod.change.changelog import home, log_path
from kubeprod.errors import KubeprodError

PREFIX = "kubeprod/records"


def files(env_name: str) -> dict[str, Path]:
    """Object name -> local file, for one environment."""
    return {
        f"changelog/{env_name}.jsonl": log_path(env_name),
        "approvals.jsonl": home() / "approvals.jsonl",
    }


def _lines(data: bytes) -> list[bytes]:
    """Whole lines only (a torn tail stays local, where `history` reports it)."""
    whole = data[: data.rfind(b"\n") + 1] if b"\n" in data else b""
    return [line for line in whole.split(b"\n") if line.strip()]


def merge(local: bytes, remote: bytes) -> bytes:
    """Remote lines first, then local lines the remote lacks; order kept, none lost."""
    seen = set()
    out = []
    for line in _lines(remote) + _lines(local):
        if line not in seen:
            seen.add(line)
            out.append(line)
    return b"".join(line + b"\n" for line in out)


class Records:
    """Sync with one bucket through an S3-like client (get_object / put_object)."""

    def __init__(self, client: Any, bucket: str, env_name: str):
        self.client, self.bucket, self.env_name = client, bucket, env_name

    def _key(self, name: str) -> str:
        return f"{self.env_name}/{PREFIX}/{name}"

    def _remote(self, name: str) -> bytes:
        try:
            return bytes(
                self.client.get_object(Bucket=self.bucket, Key=self._key(name))["Body"].read()
            )
        except Exception as exc:  # NoSuchKey: nothing kept yet
            if "NoSuchKey" in type(exc).__name__ or "NoSuchKey" in str(exc):
                return b""
            raise KubeprodError(
                f"cannot read the kept change records s3://{self.bucket}/{self._key(name)} "
                f"({type(exc).__name__}: {exc}). Fix: check the role may read the state bucket"
            ) from None

    def pull(self) -> dict[str, int]:
        """Add to the local files every line the bucket holds; return lines added."""
        added = {}
        for name, path in files(self.env_name).items():
            local = path.read_bytes() if path.exists() else b""
            merged = merge(local, self._remote(name))
            added[name] = len(_lines(merged)) - len(_lines(local))
            if added[name]:
                path.parent.mkdir(parents=True, exist_ok=True)
                tail = local[local.rfind(b"\n") + 1 :] if b"\n" in local else local
                path.write_bytes(merged + tail)
        return added

    def push(self) -> dict[str, int]:
        """Pull, then write the union back (a new object version); return lines kept."""
        self.pull()
        kept = {}
        for name, path in files(self.env_name).items():
            if not path.exists():
                continue
            body = merge(path.read_bytes(), b"")
            self.client.put_object(Bucket=self.bucket, Key=self._key(name), Body=body)
            kept[name] = len(_lines(body))
        return kept


def for_spec(spec: str, local: bool) -> Records:
    """The records of the environment `spec` describes, in its state bucket."""
    target = workflow.target_for(spec, "aws", local)
    outputs = workflow.backend_outputs(target)
    aws = target.env.clouds.aws
    client = snapshot._s3_client(target, aws.region if aws else "us-east-1")
    return Records(client, outputs["bucket"], target.env.name)
