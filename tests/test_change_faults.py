"""Issue 11, faults: a failed state write, a full disk under the change log, and
SIGINT/SIGTERM mid-apply leave a record, the environment whole, and a way back."""

from __future__ import annotations

import errno
import json
import os
import signal
import stat
import sys
import threading
from pathlib import Path

import pytest
from gate_harness import IN_WINDOW, build

from kubeprod import workflow
from kubeprod.change import apply, approval, changelog
from kubeprod.cli import main
from kubeprod.terraform import runner


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("KUBEPROD_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("KUBEPROD_NOW", raising=False)
    return tmp_path / "home"


def approved(tmp_path, monkeypatch):
    world = build(tmp_path, monkeypatch)
    approval.approve(world.bundle, "alice", at=IN_WINDOW)
    return world


# 8. a failed state write must not lead to a second environment -----------------------


def test_errored_state_after_apply_is_recorded_notified_and_blocks_the_next_apply(
    tmp_path, monkeypatch, capsys
):
    world = approved(tmp_path, monkeypatch)

    def cannot_save(tf):
        (tf.workdir / "errored.tfstate").write_text('{"serial": 8}')
        raise runner.TerraformError("Failed to save state: AccessDenied")

    world.tf.on_apply = cannot_save
    assert main(["apply", str(world.bundle.path), "--at", IN_WINDOW]) == 1
    err = capsys.readouterr().err
    assert "terraform state push errored.tfstate" in err and "Do not plan or apply" in err
    (entry,) = changelog.read("production")
    assert entry["result"] == "failure" and entry["errored_state"].endswith("errored.tfstate")
    assert any("state NOT saved" in body for _e, _t, body in world.notices)
    world.tf.on_apply = None
    assert main(["apply", str(world.bundle.path), "--at", IN_WINDOW]) == 4
    assert "[state not saved]" in capsys.readouterr().err
    assert world.tf.applied == 1  # the second apply never reached terraform


def test_plan_refuses_while_an_errored_state_waits(tmp_path):
    (tmp_path / "errored.tfstate").write_text("{}")
    with pytest.raises(apply.StateNotSaved, match=r"terraform state push errored\.tfstate"):
        apply.refuse_errored_state(tmp_path)
    apply.refuse_errored_state(tmp_path / "elsewhere")


# 9. a full disk under the change log --------------------------------------------------


def test_no_apply_when_the_log_cannot_take_a_record(tmp_path, monkeypatch, capsys):
    world = approved(tmp_path, monkeypatch)
    monkeypatch.setattr(changelog.shutil, "disk_usage", lambda p: type("U", (), {"free": 10})())
    assert main(["apply", str(world.bundle.path), "--at", IN_WINDOW]) == 4
    assert "free disk space" in capsys.readouterr().err
    assert world.tf.applied == 0


def test_full_disk_during_the_result_leaves_a_whole_started_record(tmp_path, monkeypatch, capsys):
    world = approved(tmp_path, monkeypatch)
    real_write = os.write
    calls = {"n": 0}

    def short_write(fd, data):
        calls["n"] += 1
        if calls["n"] == 2:  # the result record: half of it fits, then ENOSPC
            real_write(fd, data[: len(data) // 2])
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(fd, data)

    monkeypatch.setattr(changelog.os, "write", short_write)
    assert main(["apply", str(world.bundle.path), "--at", IN_WINDOW]) == 4
    err = capsys.readouterr().err
    assert "No space left on device" in err and "Traceback" not in err
    assert world.tf.applied == 1
    raw = changelog.log_path("production").read_bytes()
    assert raw.endswith(b"\n") and raw.count(b"\n") == 1  # whole started record, no torn line
    (entry,) = changelog.read("production")
    assert entry["result"] == "started, no result recorded"
    monkeypatch.setattr(changelog.os, "write", real_write)
    assert main(["history", str(Path(world.target.spec))]) == 0
    assert "started, no result recorded" in capsys.readouterr().out


def test_a_torn_last_line_is_reported_kept_aside_and_the_rest_kept(tmp_path, capsys):
    from conftest import EXAMPLE

    first = changelog.append("production", {"result": "success"})
    path = changelog.log_path("production")
    with path.open("ab") as handle:
        handle.write(b'{"id": "c0002", "resu')
    entries, notes = changelog.read_with_notes("production")
    assert [e["id"] for e in entries] == [first["id"]] and "torn" in notes[0]
    assert main(["history", str(EXAMPLE)]) == 0
    captured = capsys.readouterr()
    assert "c0001" in captured.out and "torn" in captured.err
    second = changelog.append("production", {"result": "success"})
    assert second["id"] == "c0002"
    assert [e["id"] for e in changelog.read("production")] == ["c0001", "c0002"]
    assert Path(f"{path}.torn").read_bytes() == b'{"id": "c0002", "resu\n'


# 10. SIGINT / SIGTERM mid-apply ---------------------------------------------------------

FAKE_TERRAFORM = """#!{python}
import json, signal, sys, time, pathlib
marker = pathlib.Path({marker!r})
def stop(signum, frame):
    marker.write_text(signal.Signals(signum).name)
    print(json.dumps({{"type": "diagnostic", "@level": "error",
                      "diagnostic": {{"summary": "interrupted", "detail": "stopped"}}}}))
    sys.stdout.flush()
    sys.exit(1)
signal.signal(signal.SIGINT, stop)
signal.signal(signal.SIGTERM, lambda s, f: (marker.write_text("SIGTERM"), sys.exit(9)))
print(json.dumps({{"type": "apply_start"}}), flush=True)
pathlib.Path({ready!r}).write_text("ready")
time.sleep(30)
"""


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_runner_forwards_the_signal_to_terraform_as_sigint_and_waits(tmp_path, sig):
    marker, ready = tmp_path / "got", tmp_path / "ready"
    binary = tmp_path / "terraform"
    binary.write_text(
        FAKE_TERRAFORM.format(python=sys.executable, marker=str(marker), ready=str(ready))
    )
    binary.chmod(binary.stat().st_mode | stat.S_IEXEC)
    tf = runner.Terraform(tmp_path, binary=str(binary))
    handlers = (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM))

    def send() -> None:
        for _ in range(200):
            if ready.exists():
                break
            threading.Event().wait(0.05)
        os.kill(os.getpid(), sig)

    threading.Thread(target=send, daemon=True).start()
    with pytest.raises(runner.ApplyInterrupted, match="interrupted") as caught:
        tf.apply("plan.tfplan")
    assert marker.read_text() == "SIGINT"  # terraform's graceful stop, whatever we got
    assert signal.Signals(sig).name in str(caught.value)
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == handlers


def test_interrupted_apply_is_recorded_notified_and_names_the_lock(tmp_path, monkeypatch, capsys):
    world = approved(tmp_path, monkeypatch)

    def interrupted(tf):
        raise runner.ApplyInterrupted("terraform apply was interrupted (SIGTERM)")

    world.tf.on_apply = interrupted
    lock = {"id": "4f1c-99", "who": "root@ci", "operation": "OperationTypeApply"}
    monkeypatch.setattr(apply, "remaining_lock", lambda target, state: lock)
    assert main(["apply", str(world.bundle.path), "--at", IN_WINDOW]) == 130
    err = capsys.readouterr().err
    assert "interrupted" in err and "kubeprod unlock" in err and "4f1c-99" in err
    (entry,) = changelog.read("production")
    assert entry["result"] == "interrupted" and entry["state_serial_after"] == 7
    assert entry["lock"]["id"] == "4f1c-99"
    assert [e for e, _t, _b in world.notices] == ["start", "failure"]
    assert "INTERRUPTED" in world.notices[-1][1]


def test_plan_names_unlock_when_a_lock_remains(tmp_path):
    from types import SimpleNamespace

    text = (
        "Error: Error acquiring the state lock\n\nLock Info:\n  ID:        4f1c-99\n"
        "  Who:       root@ci\n  Operation: OperationTypeApply\n"
    )

    class Locked:
        def plan(self, out, *extra):
            raise runner.TerraformError(text)

    target = SimpleNamespace(spec="env.yaml", local=True, workdir=tmp_path)
    with pytest.raises(apply.StateLocked, match=r"kubeprod unlock env\.yaml 4f1c-99 --local --yes"):
        workflow.plan_checked(target, Locked(), "p")
    assert json.dumps(apply.lock_info(text))


def test_sigterm_before_terraform_starts_is_recorded_and_nothing_applied(
    tmp_path, monkeypatch, capsys
):
    world = approved(tmp_path, monkeypatch)
    from kubeprod.change import notify

    def terminated(targets, event, title, body, **_kw):
        world.notices.append((event, title, body))
        if event == "start":
            os.kill(os.getpid(), signal.SIGTERM)
        return []

    monkeypatch.setattr(notify, "notify", terminated)
    before = signal.getsignal(signal.SIGTERM)
    assert main(["apply", str(world.bundle.path), "--at", IN_WINDOW]) == 130
    assert "nothing was applied" in capsys.readouterr().err
    assert world.tf.applied == 0 and signal.getsignal(signal.SIGTERM) == before
    (entry,) = changelog.read("production")
    assert entry["result"] == "interrupted" and "before terraform started" in entry["error"]
    assert [e for e, _t, _b in world.notices] == ["start", "failure"]


def test_blocked_snapshots_folder_is_exit_2_with_a_record(tmp_path, monkeypatch, home, capsys):
    world = approved(tmp_path, monkeypatch)
    home.mkdir(parents=True, exist_ok=True)
    (home / "snapshots").write_text("a file where the snapshots folder should be")
    assert main(["apply", str(world.bundle.path), "--at", IN_WINDOW]) == 2
    assert "snapshot could not be taken" in capsys.readouterr().err
    assert world.tf.applied == 0
    (entry,) = changelog.read("production")
    assert entry["result"] == "not started"
