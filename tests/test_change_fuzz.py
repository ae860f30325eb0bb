"""Issue 11, bad input: every command and every file kubeprod reads back, fed malformed
values, answers with one clear error and exit 2, never a traceback."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import EXAMPLE
from test_change_bundle import SCALE, make_bundle

from kubeprod.change import approval, changelog
from kubeprod.cli import main


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("KUBEPROD_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("KUBEPROD_NOW", raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path / "home"


def run(argv: list[str], capsys) -> tuple[int, str]:
    """Exit code and stderr of one command; any exception escaping main fails the test."""
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's own usage errors exit 2
        code = exc.code if isinstance(exc.code, int) else 2
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err + captured.out
    return code, captured.err


def bad(argv: list[str], capsys, *, expect: str = "") -> str:
    code, err = run(argv, capsys)
    assert code == 2, f"{argv}: exit {code}: {err}"
    assert err.strip(), f"{argv}: no message"
    assert expect.lower() in err.lower(), err
    return err


SPEC = str(EXAMPLE)


@pytest.mark.parametrize(
    "argv",
    [
        ["windows", SPEC, "--at", "9999-12-31T23:59:59"],
        ["windows", SPEC, "--at", "0001-01-01"],
        ["windows", SPEC, "--at", ""],
        ["windows", SPEC, "--at", "next tuesday"],
        ["windows", SPEC, "--count", "-1"],
        ["windows", SPEC, "--count", "0"],
        ["windows", SPEC, "--count", "x"],
        ["history", SPEC, "--limit", "-5"],
        ["review", "a***"],
        ["review", ""],
        ["approve", "nope", "--by", "x"],
        ["apply", "nope"],
        ["apply", "nope", "--emergency"],
        ["apply", "nope", "--by", " "],
        ["rollback", SPEC, "--to", "c9999"],
        ["rollback", SPEC, "--to", "no-such-revision"],
        ["state", "restore", "missing.tfstate", "--yes"],
        ["unlock", SPEC, "ID"],
        ["ci", "github", "--spec", "missing.yaml"],
        ["ci", "atlantis", "--spec", "missing.yaml"],
        ["validate", "missing.yaml"],
        ["plan", "missing.yaml"],
        ["drift", "missing.yaml"],
        ["history", "missing.yaml"],
        ["render", SPEC, "--out", "/proc/kubeprod-cannot-write-here"],
        ["check", "missing-plan.json"],
        ["check", "PLAN", "--min-zones", "-1"],
        ["check", "PLAN", "--kubernetes-version", "abc"],
        ["check", "PLAN", "--max-public-prefix", "40"],
    ],
)
def test_every_command_refuses_bad_arguments_with_exit_2(argv, capsys, tmp_path):
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps({"format_version": "1.2", "resource_changes": []}))
    bad([str(plan) if a == "PLAN" else a for a in argv], capsys)


def test_simulated_now_out_of_range(monkeypatch, capsys):
    monkeypatch.setenv("KUBEPROD_NOW", "9999-12-31T23:59:59")
    bad(["windows", SPEC], capsys, expect="KUBEPROD_NOW")


@pytest.mark.parametrize(
    "plan",
    [
        {"format_version": "1.2", "resource_changes": "x"},
        {"format_version": "1.2", "resource_changes": [5]},
        {"format_version": "1.2", "resource_changes": [{"change": None}]},
        {"format_version": "1.2", "planned_values": []},
        {"format_version": "1.2", "planned_values": {"root_module": 3}},
        [],
        "x",
    ],
)
def test_check_on_malformed_plan_json(tmp_path, capsys, plan):
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan))
    bad(["check", str(path)], capsys)


def test_check_out_into_a_missing_directory(tmp_path, capsys):
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps({"format_version": "1.2", "resource_changes": []}))
    bad(["check", str(plan), "--out", str(tmp_path / "no" / "such" / "report.json")], capsys)


LOG_LINES = [
    b"[]\n",
    b"{}\n",
    b'"x"\n',
    b'{"id": "c0001", "result": null}\n',
    b'{"id": "c0001", "result": "success", "error": 5}\n',
    b'{"id": "c0001", "snapshot": "s"}\n',
    b"\xff\xfe\n",
    b"{not json\n",
]


@pytest.mark.parametrize("line", LOG_LINES)
def test_damaged_change_log_lines_name_file_and_line(line, capsys):
    changelog.append("production", {"result": "success", "target": "local"})
    with changelog.log_path("production").open("ab") as handle:
        handle.write(line)
    err = bad(["history", SPEC], capsys, expect="production.jsonl:2")
    assert "Fix:" in err


def _bundle(tmp_path: Path):
    return make_bundle(tmp_path, [SCALE])


MANIFESTS = [
    b"[]",
    b"{}",
    b"not json",
    b"\xff",
    b'{"id": 5}',
]


@pytest.mark.parametrize("text", MANIFESTS)
@pytest.mark.parametrize("command", ["review", "approve", "apply"])
def test_malformed_manifest(tmp_path, capsys, text, command):
    found = _bundle(tmp_path)
    (found.path / "manifest.json").write_bytes(text)
    extra = ["--by", "alice"] if command == "approve" else []
    bad([command, str(found.path), *extra], capsys, expect="manifest.json")


def test_manifest_with_wrong_field_types(tmp_path, capsys):
    found = _bundle(tmp_path)
    manifest = {**found.manifest, "counts": {"add": "many"}, "module": []}
    (found.path / "manifest.json").write_text(json.dumps(manifest))
    bad(["review", str(found.path)], capsys, expect="counts")


@pytest.mark.parametrize("text", [b"not json", b"{}", b"[1]", b"\xff"])
def test_malformed_plan_json_in_a_bundle(tmp_path, capsys, text):
    found = _bundle(tmp_path)
    (found.path / "plan.json").write_bytes(text)
    bad(["review", str(found.path)], capsys, expect="plan")


@pytest.mark.parametrize("text", [b"not json", b"{}", b"[1]", b"\xff"])
def test_malformed_approvals_file(tmp_path, capsys, text):
    found = _bundle(tmp_path)
    (found.path / "approvals.json").write_bytes(text)
    bad(["approve", str(found.path), "--by", "alice"], capsys, expect="approvals.json")


@pytest.mark.parametrize("text", [b"not json\n", b"\xff\n"])
def test_malformed_approvals_log(tmp_path, home, capsys, monkeypatch, text):
    from gate_harness import build

    found = build(tmp_path, monkeypatch).bundle
    approval.approve(found, "alice")
    with (home / "approvals.jsonl").open("ab") as handle:
        handle.write(text)
    bad(["apply", str(found.path), "--at", "2026-03-31T01:30:00Z"], capsys, expect="jsonl:2")


SNAPSHOTS = [
    (b"", b'{"environment": "production"}'),
    (b"not json", b"{}"),
    (b'{"serial": 1, "lineage": "L"}', b""),
    (b'{"serial": 1, "lineage": "L"}', b"not json"),
    (b'{"serial": 1, "lineage": "L"}', b"[]"),
    (
        b'{"serial": "x"}',
        b'{"environment": "p", "spec": "s", "workdir": "w", "local_target": true}',
    ),
]


@pytest.mark.parametrize(("state", "sidecar"), SNAPSHOTS)
def test_malformed_snapshot_or_sidecar(tmp_path, capsys, state, sidecar):
    path = tmp_path / "snap.tfstate"
    path.write_bytes(state)
    path.with_suffix(".json").write_bytes(sidecar)
    bad(["state", "restore", str(path), "--yes"], capsys)


def test_rollback_to_an_entry_without_a_bundle(capsys):
    changelog.append("production", {"kind": "bootstrap", "result": "success"})
    bad(["rollback", SPEC, "--to", "c0001"], capsys, expect="has no plan bundle")


def test_home_that_is_not_a_directory(tmp_path, monkeypatch, capsys):
    blocker = tmp_path / "blocked"
    blocker.write_text("a file where KUBEPROD_HOME should be")
    monkeypatch.setenv("KUBEPROD_HOME", str(blocker))
    found_home = tmp_path / "ok"
    monkeypatch.setenv("KUBEPROD_HOME", str(found_home))
    found = _bundle(tmp_path)
    monkeypatch.setenv("KUBEPROD_HOME", str(blocker))
    bad(["approve", str(found.path), "--by", "alice"], capsys)


@pytest.mark.parametrize(
    ("old", "new", "expect"),
    [
        ("timezone: Europe/London", "timezone: localtime", "depends on the machine"),
        ("duration: 4h", "duration: 0m", "never opens"),
        ("freezes: []", "freezes: [{start: 2026-12-20, end: 9999-12-31}]", "1970..2999"),
        ("freezes: []", "freezes: [{start: 2026-12-20, end: 2026-12-01}]", "before start"),
        ("url_env: KUBEPROD_NOTIFY_URL", "url_env: https://hooks.example.com/x", "variable"),
        (
            "zones: [eu-west-1a, eu-west-1b, eu-west-1c]",
            "zones: [eu-west-1a, eu-west-1b, us-east-1c]",
            "not in region eu-west-1",
        ),
        ("zones: [europe-west1-b,", "zones: [us-central1-b,", "not in region europe-west1"),
        ("service_cidr: 172.20.0.0/16", "service_cidr: 10.1.128.0/20", "overlaps network.vpc_cidr"),
        ("email: platform-oncall@example.com", "email: platform-oncall", "not an email"),
        ("project: my-gcp-project", "project: My_Project", "not a GCP project ID"),
        ("tags:", "tags:\n  aws:team: platform", "reserves"),
    ],
)
def test_spec_values_that_must_not_pass(tmp_path, capsys, old, new, expect):
    text = EXAMPLE.read_text()
    assert old in text, old
    spec = tmp_path / "production.yaml"
    spec.write_text(text.replace(old, new))
    err = bad(["validate", str(spec)], capsys, expect=expect)
    assert "production.yaml:" in err


def test_the_freeze_example_in_the_docs_validates(tmp_path, capsys):
    docs = (Path(__file__).parents[1] / "docs" / "change-management.md").read_text()
    block = docs.split("```yaml\nmaintenance:", 1)[1].split("```", 1)[0]
    text = EXAMPLE.read_text()
    start = text.index("maintenance:")
    end = text.index("\n\n", start)
    spec = tmp_path / "production.yaml"
    spec.write_text(text[:start] + "maintenance:" + block.rstrip() + text[end:])
    code, err = run(["validate", str(spec)], capsys)
    assert code == 0, err


def test_up_local_without_the_local_extra_names_it(monkeypatch, capsys):
    import builtins

    real_import = builtins.__import__

    def no_crypto(name, *args, **kwargs):
        if name.startswith("cryptography"):
            raise ModuleNotFoundError("No module named 'cryptography'", name="cryptography")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_crypto)
    from kubeprod.local import server

    monkeypatch.setattr(server, "status", lambda: {"running": False})
    err = bad(["up", SPEC, "--local"], capsys, expect="kubeprod[local]")
    assert "cryptography" in err


def test_bundles_folder_blocked(tmp_path, home, capsys):
    home.mkdir(parents=True, exist_ok=True)
    (home / "bundles").write_text("not a folder")
    shutil.rmtree(tmp_path / "nothing", ignore_errors=True)
    bad(["review", "anything"], capsys)


DRILLS = [
    b"[]",
    b"\xff",
    b"{not json",
    b'{"id": 5}',
    b'{"id": "d1", "status": "passed", "cloud": "aws", "steps": 5}',
    b'{"id": "d1", "status": "passed", "cloud": "aws", "steps": {"declared": "x"}}',
    b'{"id": "d1", "status": "passed", "cloud": "aws"}',
    b'{"id": "d1", "status": 7}',
    b'{"id": "d1", "rto_minutes": "fast"}',
]


@pytest.mark.parametrize("line", DRILLS)
def test_damaged_drill_history_read_back_by_check(tmp_path, home, capsys, line):
    folder = home / "dr"
    folder.mkdir(parents=True)
    (folder / "production.jsonl").write_bytes(line + b"\n")
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps({"format_version": "1.2", "resource_changes": []}))
    bad(["check", str(plan), "--cloud", "aws", "--spec", SPEC], capsys, expect="production.jsonl:1")


WAIVERS = [
    b"\xff\xfe",
    b"waivers: 5\n",
    b"- just a list\n",
    b"waivers:\n  - rule: CHR-1\n",
    b"waivers: [\n",
]


@pytest.mark.parametrize("text", WAIVERS)
def test_damaged_waiver_file(tmp_path, capsys, text):
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps({"format_version": "1.2", "resource_changes": []}))
    waivers = tmp_path / "kubeprod-waivers.yaml"
    waivers.write_bytes(text)
    bad(["check", str(plan), "--cloud", "aws", "--waivers", str(waivers)], capsys)
