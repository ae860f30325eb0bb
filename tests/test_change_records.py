"""Issue 11 item 12: the change log and approvals outlive a CI runner, kept append-only
beside the state (a fake S3 client here; the bucket is versioned by bootstrap)."""

from __future__ import annotations

import io

import pytest

from kubeprod.change import changelog, records
from kubeprod.cli import main


class FakeS3:
    def __init__(self):
        self.objects: dict[str, bytes] = {}
        self.versions = 0

    class NoSuchKey(Exception):
        pass

    def get_object(self, Bucket, Key):
        if Key not in self.objects:
            raise FakeS3.NoSuchKey(Key)
        return {"Body": io.BytesIO(self.objects[Key])}

    def put_object(self, Bucket, Key, Body):
        self.objects[Key] = Body
        self.versions += 1


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("KUBEPROD_HOME", str(tmp_path / "run1"))
    return tmp_path


def test_a_second_run_with_an_empty_home_reads_the_history_back(tmp_path, monkeypatch):
    s3 = FakeS3()
    first = changelog.append("production", {"result": "success", "target": "aws"})
    records.Records(s3, "bucket", "production").push()
    assert "production/kubeprod/records/changelog/production.jsonl" in s3.objects
    monkeypatch.setenv("KUBEPROD_HOME", str(tmp_path / "run2"))  # a fresh CI runner
    assert changelog.read("production") == []
    added = records.Records(s3, "bucket", "production").pull()
    assert added["changelog/production.jsonl"] == 1
    assert [e["id"] for e in changelog.read("production")] == [first["id"]]
    second = changelog.append("production", {"result": "success", "target": "aws"})
    assert second["id"] == "c0002"  # ids continue instead of starting again


def test_sync_is_a_union_never_dropping_or_rewriting_a_line():
    remote = b'{"id": "c0001"}\n{"id": "c0002"}\n'
    local = b'{"id": "c0001"}\n{"id": "c0003"}\n{"id": "c0004", "to'  # torn tail
    merged = records.merge(local, remote)
    assert merged == b'{"id": "c0001"}\n{"id": "c0002"}\n{"id": "c0003"}\n'


def test_unreadable_bucket_is_a_clear_error():
    class Denied(FakeS3):
        def get_object(self, Bucket, Key):
            raise PermissionError("AccessDenied")

    with pytest.raises(records.KubeprodError, match="may read the state bucket"):
        records.Records(Denied(), "bucket", "production").pull()


def test_records_command_is_registered(capsys):
    with pytest.raises(SystemExit):
        main(["records", "--help"])
    assert "pull" in capsys.readouterr().out


def test_snapshot_and_its_index_are_kept_beside_the_state(tmp_path, monkeypatch):
    from datetime import UTC, datetime
    from types import SimpleNamespace

    from conftest import EXAMPLE
    from gate_harness import FakeTf

    from kubeprod.change import snapshot
    from kubeprod.spec import load_spec

    s3 = FakeS3()
    monkeypatch.setattr(snapshot, "_s3_client", lambda target, region: s3)
    target = SimpleNamespace(env=load_spec(EXAMPLE), local=False, workdir=tmp_path)
    tf = FakeTf(tmp_path, {})
    moment = datetime(2026, 3, 31, 1, 30, tzinfo=UTC)
    taken = snapshot.take(target, tf, {"bucket": "b"}, "abc", moment, str(EXAMPLE))
    key = "production/aws/snapshots/20260331T013000Z-abc"
    assert taken["s3"] == f"s3://b/{key}.tfstate" and "s3_error" not in taken
    assert set(s3.objects) == {f"{key}.tfstate", f"{key}.json"}


def test_typed_records_parse_what_kubeprod_writes_and_name_wrong_fields():
    from kubeprod.change.records_model import (
        Approval,
        ChangeEntry,
        Manifest,
        RecordInvalid,
        SnapshotRef,
        parse,
        problems,
    )

    approval = Approval("bob", "2026-03-31T01:30:00+00:00", "a" * 64, "b" * 64, "b1", "production")
    assert parse(Approval, approval.as_dict()) == approval  # frozen, round-trips
    with pytest.raises(AttributeError):
        approval.by = "mallory"  # type: ignore[misc]
    assert problems(Approval, {**approval.as_dict(), "by": 5}) == ["by is 5, not <class 'str'>"]
    snap = SnapshotRef(local="/s", serial=None, lineage=None, resources=0)
    assert snap.as_dict() == {"local": "/s", "serial": None, "lineage": None, "resources": 0}
    entry = parse(ChangeEntry, {"id": "c0001", "result": "success", "window": "w", "x": 1})
    assert entry.result == "success" and entry.kind == "change"
    assert problems(ChangeEntry, {"id": "c0001", "result": None}) == [
        "result is None, not <class 'str'>"
    ]
    wrong = problems(Manifest, {"id": "m", "counts": {"add": "many"}, "local": "yes"})
    assert "counts is {'add': 'many'}, not dict[str, int]" in wrong
    assert "local is 'yes', not <class 'bool'>" in wrong and "spec_path is missing" in wrong
    with pytest.raises(RecordInvalid, match="not a Manifest record"):
        parse(Manifest, [])
