"""Gate rules DR-1, DR-3, DR-4, DR-5: pass on the example's renders, fail on a mistake put back.

Static renders of all three clouds, judged with the spec's targets (as `render`, `plan`
and `up` do) and with synthetic drill histories for the drill halves of DR-3 and DR-5.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import EXAMPLE

from kubeprod.dr.gate_options import dr_fields
from kubeprod.facts.azure import AZURE_PAIRS_DOC
from kubeprod.policy.engine import check_directory
from kubeprod.policy.plan_model import UNKNOWN, Model, Resource
from kubeprod.policy.rules import REGISTRY, Options
from kubeprod.render import render_to
from kubeprod.spec import load_spec

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def renders(tmp_path_factory) -> dict[str, Path]:
    env = load_spec(EXAMPLE)
    out = {}
    for cloud in ("aws", "azure", "gcp"):
        out[cloud] = tmp_path_factory.mktemp(cloud)
        render_to(env, cloud, str(EXAMPLE), out[cloud])
    return out


def _options(drills: list[dict] | None = None, **extra: object) -> Options:
    fields = dr_fields(load_spec(EXAMPLE))
    fields["drills"] = drills if drills is not None else []  # `check --spec` adds them
    fields.update(extra)
    return Options(**fields, now=NOW)


def _status(directory: Path, rule: str, options: Options) -> dict[str, list[str]]:
    report = check_directory(directory, options=options)
    out: dict[str, list[str]] = {}
    for f in report.findings:
        if f.rule_id == rule:
            out.setdefault(f.status, []).append(f"{f.address}: {f.message}")
    return out


def _mutated(src: Path, tmp_path: Path, old: str, new: str) -> Path:
    dst = tmp_path / src.name
    dst.mkdir()
    for path in src.glob("*.tf"):
        (dst / path.name).write_text(path.read_text())
    backup = dst / "backup.tf"
    text = backup.read_text()
    assert old in text, old
    backup.write_text(text.replace(old, new))
    return dst


def _drill(
    scenario: str, *, days_ago: float, rto: float, rpo: float, status: str = "passed"
) -> dict:
    declared = NOW - timedelta(days=days_ago)
    return {
        "id": f"d-{scenario}-{days_ago}",
        "cloud": "aws",
        "scenario": scenario,
        "status": status,
        "steps": {"declared": declared.isoformat()},
        "rto_minutes": rto,
        "rpo_minutes": rpo,
    }


@pytest.mark.parametrize("cloud", ["aws", "azure", "gcp"])
def test_dr1_and_dr5_schedule_pass_on_the_example(renders: dict[str, Path], cloud: str) -> None:
    dr1 = _status(renders[cloud], "DR-1", _options())
    assert set(dr1) == {"pass"}, dr1
    dr5 = _status(renders[cloud], "DR-5", _options())
    assert "fail" not in dr5 and dr5["pass"], dr5
    # no drill yet: the measured half is unknown, never a pass
    assert any("no zone-loss drill" in m for m in dr5["unknown"])


DR1_MUTATIONS = {
    "aws": [
        ("resources    = [aws_eks_cluster.this.arn]", 'resources    = ["arn:aws:s3:::x"]'),
        ("    lifecycle {\n      delete_after = 35\n    }\n    recovery", "    recovery"),
        ('resource "aws_backup_vault_lock_configuration"', 'resource "aws_s3_bucket"'),
    ],
    "azure": [
        ('extension_type    = "microsoft.dataprotection.kubernetes"', 'extension_type = "x"'),
        (
            'resource "azurerm_kubernetes_cluster_trusted_access_role_binding"',
            'resource "azurerm_resource_group"',
        ),
    ],
    "gcp": [
        ("backup_retain_days      = 35", "backup_retain_days      = 0"),
        (
            'resource "google_gke_backup_backup_plan" "cluster"',
            'resource "google_storage_bucket" "cluster"',
        ),
    ],
}


@pytest.mark.parametrize(
    ("cloud", "old", "new"),
    [(c, o, n) for c, pairs in DR1_MUTATIONS.items() for o, n in pairs],
)
def test_dr1_fails_when_a_backup_piece_is_taken_out(
    renders: dict[str, Path], tmp_path: Path, cloud: str, old: str, new: str
) -> None:
    broken = _mutated(renders[cloud], tmp_path, old, new)
    assert "fail" in _status(broken, "DR-1", _options())


def test_dr1_gke_agent_off_fails(renders: dict[str, Path], tmp_path: Path) -> None:
    dst = tmp_path / "gcp"
    dst.mkdir()
    for path in renders["gcp"].glob("*.tf"):
        text = path.read_text()
        if path.name == "gke.tf":
            old = "gke_backup_agent_config {\n      enabled = true"
            assert old in text
            text = text.replace(old, old.replace("true", "false"))
        (dst / path.name).write_text(text)
    assert "fail" in _status(dst, "DR-1", _options())


DR5_MUTATIONS = {
    # a daily schedule against the 6-hour RPO
    "aws": ('schedule          = "cron(0 */2 * * ? *)"', 'schedule          = "cron(0 3 * * ? *)"'),
    "azure": ("/PT4H", "/P1D"),
    "gcp": ('cron_schedule = "0 */2 * * *"', 'cron_schedule = "0 3 * * *"'),
}


@pytest.mark.parametrize("cloud", ["aws", "azure", "gcp"])
def test_dr5_fails_on_a_schedule_that_misses_the_rpo(
    renders: dict[str, Path], tmp_path: Path, cloud: str
) -> None:
    broken = _mutated(renders[cloud], tmp_path, *DR5_MUTATIONS[cloud])
    failed = _status(broken, "DR-5", _options())["fail"]
    assert any("more than the RPO of 360" in m for m in failed), failed


def test_dr5_aws_start_window_counts(renders: dict[str, Path], tmp_path: Path) -> None:
    broken = _mutated(renders["aws"], tmp_path, "start_window      = 60", "start_window = 180")
    assert "fail" in _status(broken, "DR-5", _options())


def test_dr5_unreadable_schedule_fails(renders: dict[str, Path], tmp_path: Path) -> None:
    broken = _mutated(renders["gcp"], tmp_path, '"0 */2 * * *"', '"every two hours"')
    assert "fail" in _status(broken, "DR-5", _options())


def test_dr5_without_spec_is_unknown_not_pass(renders: dict[str, Path]) -> None:
    statuses = _status(renders["aws"], "DR-5", Options())
    assert set(statuses) == {"unknown"}


def test_dr5_drills_within_targets_pass_and_over_targets_fail(renders: dict[str, Path]) -> None:
    good = [
        _drill("zone-loss", days_ago=2, rto=4.0, rpo=0.0),
        _drill("region-loss", days_ago=1, rto=9.0, rpo=3.0),
    ]
    assert set(_status(renders["aws"], "DR-5", _options(good))) == {"pass"}
    slow = [*good, _drill("region-loss", days_ago=0.5, rto=300.0, rpo=3.0, status="failed")]
    failed = _status(renders["aws"], "DR-5", _options(slow))["fail"]
    assert any("RTO 300.0" in m and "targets RTO 240" in m for m in failed), failed
    stopped = _drill("zone-loss", days_ago=0.1, rto=0, rpo=0, status="failed")
    stopped.update(rto_minutes=None, rpo_minutes=None, stopped_at="verified", error="boom")
    failed = _status(renders["aws"], "DR-5", _options([*good, stopped]))["fail"]
    assert any("did not recover (stopped at verified: boom)" in m for m in failed), failed


def test_dr3_recent_passing_drill_passes_old_one_fails_none_is_unknown(
    renders: dict[str, Path],
) -> None:
    assert set(_status(renders["aws"], "DR-3", _options([]))) == {"unknown"}
    recent = [_drill("zone-loss", days_ago=10, rto=4, rpo=0)]
    assert set(_status(renders["aws"], "DR-3", _options(recent))) == {"pass"}
    stale = [_drill("zone-loss", days_ago=120, rto=4, rpo=0)]
    failed = _status(renders["aws"], "DR-3", _options(stale))["fail"]
    assert any("120 days ago, more than 90" in m for m in failed)
    # a failed or interrupted drill does not count as a passing one
    broken = [_drill("zone-loss", days_ago=1, rto=4, rpo=0, status="interrupted")]
    assert set(_status(renders["aws"], "DR-3", _options(broken))) == {"unknown"}


def test_an_overdue_drill_never_blocks_render_plan_or_up(
    renders: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The gate inside render/plan/up (Options.from_spec) leaves the drill history out."""
    from kubeprod.dr import history

    monkeypatch.setenv("KUBEPROD_HOME", str(tmp_path))
    history.record("production", _drill("zone-loss", days_ago=400, rto=500, rpo=0))
    options = Options.from_spec(load_spec(EXAMPLE))
    assert options.drills is None
    report = check_directory(renders["aws"], options=options)
    assert report.rule_status()["DR-3"] == "unknown" and report.passed


# -- DR-4 on Azure: the vault replicates to the primary's pair, and only there -----------------

VAULT_LOCATION = (
    "location                     = azurerm_resource_group.this.location\n"
    "  resource_group_name          = azurerm_resource_group.this.name\n"
    "  datastore_type"
)
DR4_AZURE_MUTATIONS = {
    # a vault in a nonpaired region has no pair to replicate to
    "nonpaired-location": (
        VAULT_LOCATION,
        VAULT_LOCATION.replace("azurerm_resource_group.this.location", '"italynorth"'),
        "italynorth has no Azure pair",
    ),
    "locally-redundant": (
        'redundancy                   = "GeoRedundant"',
        'redundancy                   = "LocallyRedundant"',
        "redundancy is 'LocallyRedundant'",
    ),
    "no-cross-region-restore": (
        "cross_region_restore_enabled = true",
        "cross_region_restore_enabled = false",
        "cross_region_restore_enabled is false",
    ),
}


def test_dr4_azure_vault_replicates_to_the_pair(renders: dict[str, Path]) -> None:
    dr4 = _status(renders["azure"], "DR-4", _options())
    assert set(dr4) == {"pass"}, dr4
    assert any("westeurope replicates to its pair northeurope" in m for m in dr4["pass"])


@pytest.mark.parametrize("case", sorted(DR4_AZURE_MUTATIONS))
def test_dr4_azure_vault_mistake_fails(renders: dict[str, Path], tmp_path: Path, case: str) -> None:
    old, new, says = DR4_AZURE_MUTATIONS[case]
    report = check_directory(_mutated(renders["azure"], tmp_path, old, new), options=_options())
    failed = [f for f in report.findings if f.rule_id == "DR-4" and f.status == "fail"]
    assert failed and any(says in f.message for f in failed), failed
    assert all(f.file and f.file.endswith("backup.tf") and f.line for f in failed)
    if case == "nonpaired-location":
        assert AZURE_PAIRS_DOC in failed[0].remediation


def test_dr4_azure_spec_recovering_outside_the_pair_fails(renders: dict[str, Path]) -> None:
    """The configuration replicates to northeurope; a spec that recovers in uksouth fails."""
    options = _options(recovery_regions={"aws": None, "azure": "uksouth", "gcp": None})
    dr4 = _status(renders["azure"], "DR-4", options)
    assert any("recovers in uksouth" in m and "northeurope" in m for m in dr4["fail"]), dr4


def test_dr4_azure_unknown_location_is_unknown() -> None:
    vault = Resource(
        "azurerm_data_protection_backup_vault.this",
        "azurerm_data_protection_backup_vault",
        "this",
        {"location": UNKNOWN, "redundancy": "GeoRedundant", "cross_region_restore_enabled": True},
    )
    findings = REGISTRY["DR-4"]().run(Model([vault], "plan"), "azure", Options())
    assert {f.status for f in findings if f.attribute == "location"} == {"unknown"}


@pytest.mark.parametrize("cloud", ["aws", "gcp"])
def test_dr4_backups_leave_the_primary_region(renders: dict[str, Path], cloud: str) -> None:
    dr4 = _status(renders[cloud], "DR-4", _options())
    assert set(dr4) == {"pass"}, dr4


DR4_MUTATIONS = {
    # AWS: no copy action, so every recovery point stays in eu-west-1
    "aws": (
        "    copy_action {",
        "    no_copy_action {",
        "copies no recovery point out of the region",
    ),
    # GCP: the plan in the cluster's own region
    "gcp": ('location = "europe-west4"', 'location = "europe-west1"', "the cluster's own region"),
}


@pytest.mark.parametrize("cloud", sorted(DR4_MUTATIONS))
def test_dr4_backups_in_the_primary_region_fail(
    renders: dict[str, Path], tmp_path: Path, cloud: str
) -> None:
    old, new, says = DR4_MUTATIONS[cloud]
    dr4 = _status(_mutated(renders[cloud], tmp_path, old, new), "DR-4", _options())
    assert any(says in m for m in dr4.get("fail", [])), dr4


def test_dr4_aws_copy_to_another_region_than_the_spec_fails(
    renders: dict[str, Path], tmp_path: Path
) -> None:
    arn = "arn:aws:backup:us-east-1:111122223333:backup-vault:elsewhere"
    broken = _mutated(
        renders["aws"],
        tmp_path,
        "destination_vault_arn = aws_backup_vault.recovery.arn",
        f'destination_vault_arn = "{arn}"',
    )
    dr4 = _status(broken, "DR-4", _options())
    assert any("us-east-1, but the spec recovers in eu-central-1" in m for m in dr4["fail"]), dr4


@pytest.mark.parametrize("cloud", ["aws", "azure", "gcp"])
def test_dr4_spec_without_a_recovery_region_renders_and_is_not_judged(
    tmp_path: Path, cloud: str
) -> None:
    """DR-4 is a future line of the brief: `validate` accepts a spec that names no recovery
    region, so the gate inside render does not refuse what validate accepted."""
    text = EXAMPLE.read_text()
    block = "  recovery_region:"
    start = text.index(block)
    end = text.index("\n", text.index("    gcp:", start)) + 1
    spec = tmp_path / "production.yaml"
    spec.write_text(text[:start] + text[end:])
    env = load_spec(str(spec))
    assert getattr(env.dr.recovery_region, cloud) is None
    out = tmp_path / cloud
    render_to(env, cloud, str(spec), out)  # the gate inside render passes
    report = check_directory(out, options=Options(**dr_fields(env), drills=[], now=NOW))
    dr4 = [f for f in report.findings if f.rule_id == "DR-4"]
    assert {f.status for f in dr4} == {"not-judged"}, dr4
    assert f"no dr.recovery_region.{cloud}" in dr4[0].message


def test_dr4_without_backups_is_left_to_dr1() -> None:
    findings = REGISTRY["DR-4"]().run(Model([], "plan"), "aws", Options())
    assert [f.status for f in findings] == ["not-judged"]
    assert "see DR-1" in findings[0].message
