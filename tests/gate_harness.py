"""A fake target and terraform for the apply gate: every rule and fault exercised in
milliseconds, with terraform at the boundary (tests/test_change_e2e.py runs the real one)."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from conftest import EXAMPLE
from test_change_bundle import SCALE, make_bundle

from kubeprod.change import bundle as bundles
from kubeprod.spec import load_spec

IN_WINDOW = "2026-03-31T01:30:00Z"  # Tue 02:30 BST: the example's Tue-Thu 02:00 London window


@dataclass
class FakeTf:
    """`terraform` in one directory: state pull/push, show -json, apply."""

    workdir: Path
    shown: dict[str, Any]
    state: dict[str, Any] = field(default_factory=lambda: {"serial": 7, "lineage": "L"})
    on_apply: Any = None
    applied: int = 0

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        if args[:2] == ("state", "pull"):
            out = json.dumps(self.state) if self.state else ""
            return subprocess.CompletedProcess(args, 0, out, "")
        if args[:2] == ("state", "push"):
            self.state = json.loads((self.workdir / args[2]).read_text())
            return subprocess.CompletedProcess(args, 0, "", "")
        raise AssertionError(f"unexpected terraform {args}")

    def show_json(self, plan: str = "") -> dict[str, Any]:
        return self.shown

    def apply(self, plan: str, total: int = 0, on_event: Any = None) -> dict[str, Any]:
        self.applied += 1
        if self.on_apply:
            self.on_apply(self)
        self.state = {**self.state, "serial": self.state["serial"] + 1}
        return {}


@dataclass
class World:
    bundle: bundles.Bundle
    tf: FakeTf
    target: Any
    notices: list[tuple[str, str, str]]


def build(tmp_path: Path, monkeypatch: Any, *, local: bool = True, changes=None, **manifest):
    """An approvable bundle whose target and terraform are fakes; manifest overrides."""
    from kubeprod import workflow
    from kubeprod.change import apply, notify, snapshot

    found = make_bundle(tmp_path, changes or [SCALE])
    data = {**found.manifest, "local": local, "target": "local" if local else "aws", **manifest}
    (found.path / "manifest.json").write_text(json.dumps(data))
    found = bundles.load(str(found.path))
    workdir = Path(found.manifest["workdir"])
    target = SimpleNamespace(
        env=load_spec(EXAMPLE), workdir=workdir, local=local, endpoint=None, spec=str(EXAMPLE)
    )
    tf = FakeTf(workdir, found.plan_json())
    notices: list[tuple[str, str, str]] = []

    def fake_notify(targets, event, title, body, **_kw):
        notices.append((event, title, body))
        return []

    monkeypatch.setattr(workflow, "target_for", lambda spec, cloud, loc: target)
    monkeypatch.setattr(workflow, "terraform_for", lambda wd, t: tf)
    monkeypatch.setattr(notify, "notify", fake_notify)
    monkeypatch.setattr(apply, "remaining_lock", lambda target, state: None)

    def no_s3(*_a, **_k):
        raise RuntimeError("no S3 in unit tests")

    monkeypatch.setattr(snapshot, "_s3_client", no_s3)
    return World(found, tf, target, notices)
