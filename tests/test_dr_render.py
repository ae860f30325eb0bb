"""DR-1 / DR-4 renders: backup resources on AWS, Azure and GCP, schema-valid, from the spec.

Each module is checked against the packaged provider schemas and, when present, the full
provider schemas of shared/provider-schemas/full (every type of the provider).
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from conftest import EXAMPLE, parse_dir, resources

from kubeprod.render import render_to
from kubeprod.spec import load_spec
from kubeprod.terraform.schema_check import parse_module, validate_parsed

# The full provider schemas: shared/ beside the checkout (as for the requirements map), else
# the workplace's shared/ (a clone elsewhere on the same machine); the tests skip without it.
FULL = next(
    (
        p
        for p in (
            Path(__file__).resolve().parents[2] / "shared" / "provider-schemas" / "full",
            Path("/work/shared/provider-schemas/full"),
        )
        if p.is_dir()
    ),
    Path(__file__).resolve().parents[2] / "shared" / "provider-schemas" / "full",
)
PACKAGED = Path(__file__).resolve().parents[1] / "src" / "kubeprod" / "data" / "provider-schemas"
PROVIDER = {"aws": "aws", "azure": "azurerm", "gcp": "google"}


def _render(tmp_path: Path, cloud: str, text: str | None = None) -> Path:
    spec = EXAMPLE
    if text is not None:
        spec = tmp_path / "spec.yaml"
        spec.write_text(text, encoding="utf-8")
    out = tmp_path / cloud
    render_to(load_spec(spec), cloud, str(spec), out)
    return out


@pytest.fixture(scope="module", params=["aws", "azure", "gcp"])
def module(request, tmp_path_factory) -> tuple[str, Path]:
    cloud = request.param
    return cloud, _render(tmp_path_factory.mktemp(cloud), cloud)


def test_schema_valid_packaged_and_full(module: tuple[str, Path], tmp_path: Path) -> None:
    cloud, directory = module
    parsed, texts = parse_module(directory)
    provider = PROVIDER[cloud]
    # the packaged subsets hold the backup types (other types are the renderers' tests' own)
    problems = validate_parsed(parsed, PACKAGED / f"{provider}.json", texts=texts)
    problems = [p for p in problems if p.file == "backup.tf"]
    assert problems == [], "\n".join(map(str, problems))
    full = FULL / f"{provider}.json.gz"
    if not full.is_file():
        pytest.skip("the full provider schemas are not on this machine")
    unpacked = tmp_path / f"{provider}.json"
    with gzip.open(full) as packed:
        unpacked.write_text(json.dumps(json.load(packed)), encoding="utf-8")
    problems = validate_parsed(parsed, unpacked, texts=texts)
    problems = [p for p in problems if p.file == "backup.tf"]  # the other files: their tests
    assert problems == [], "\n".join(map(str, problems))


def test_aws_backup_for_eks(tmp_path: Path) -> None:
    parsed = parse_dir(_render(tmp_path, "aws"))
    vault = resources(parsed, "aws_backup_vault")
    assert vault["this"]["kms_key_arn"] == "${aws_kms_key.backup.arn}"
    lock = resources(parsed, "aws_backup_vault_lock_configuration")["this"]
    assert lock["min_retention_days"] >= 1 and lock["max_retention_days"] == 35
    assert lock["changeable_for_days"] == 3
    (rule,) = resources(parsed, "aws_backup_plan")["this"]["rule"]
    assert rule["schedule"] == "cron(0 */2 * * ? *)"
    assert (rule["start_window"], rule["completion_window"]) == (60, 120)
    assert rule["lifecycle"][0]["delete_after"] == 35
    (copy,) = rule["copy_action"]
    assert copy["destination_vault_arn"] == "${aws_backup_vault.recovery.arn}"
    # DR-4: the copy's vault and key live in the recovery region
    (recovery,) = [p["aws"] for p in parsed["provider"] if p["aws"].get("alias") == "recovery"]
    assert recovery["region"] == "eu-central-1" and recovery["default_tags"]
    assert vault["recovery"]["provider"] == "${aws.recovery}"
    key = resources(parsed, "aws_kms_key")["backup_recovery"]
    assert key["provider"] == "${aws.recovery}" and key["enable_key_rotation"] is True
    selection = resources(parsed, "aws_backup_selection")["cluster"]
    assert selection["resources"] == ["${aws_eks_cluster.this.arn}"]


def test_aks_backup(tmp_path: Path) -> None:
    parsed = parse_dir(_render(tmp_path, "azure"))
    vault = resources(parsed, "azurerm_data_protection_backup_vault")["this"]
    assert vault["redundancy"] == "GeoRedundant" and vault["cross_region_restore_enabled"]
    assert vault["immutability"] == "Unlocked" and vault["soft_delete"] == "On"
    policy = resources(parsed, "azurerm_data_protection_backup_policy_kubernetes_cluster")["this"]
    # every 2 hours in the spec; AKS's most frequent interval is 4 hours
    assert policy["backup_repeating_time_intervals"] == ["R/2026-01-01T00:00:00+00:00/PT4H"]
    assert policy["default_retention_rule"][0]["life_cycle"][0]["duration"] == "P35D"
    vault_tier = policy["retention_rule"][0]["life_cycle"][0]
    assert vault_tier["data_store_type"] == "VaultStore"
    extension = resources(parsed, "azurerm_kubernetes_cluster_extension")["backup"]
    assert extension["extension_type"] == "microsoft.dataprotection.kubernetes"
    settings = extension["configuration_settings"]
    assert settings["configuration.backupStorageLocation.bucket"] == (
        "${azurerm_storage_container.backup.name}"
    )
    binding = resources(parsed, "azurerm_kubernetes_cluster_trusted_access_role_binding")
    assert binding["backup"]["roles"] == ["Microsoft.DataProtection/backupVaults/backup-operator"]
    roles = {
        name: body["role_definition_name"]
        for name, body in resources(parsed, "azurerm_role_assignment").items()
        if name.startswith("backup_")
    }
    assert set(roles.values()) >= {
        "Reader",
        "Disk Snapshot Contributor",
        "Data Operator for Managed Disks",
        "Storage Blob Data Contributor",
        "Contributor",
    }
    instance = resources(parsed, "azurerm_data_protection_backup_instance_kubernetes_cluster")
    params = instance["this"]["backup_datasource_parameters"][0]
    assert params["volume_snapshot_enabled"] and params["cluster_scoped_resources_enabled"]
    storage = resources(parsed, "azurerm_storage_account")["backup"]
    assert storage["shared_access_key_enabled"] is False
    assert storage["public_network_access_enabled"] is False
    assert "customer_managed_key" in storage


def test_backup_for_gke(tmp_path: Path) -> None:
    parsed = parse_dir(_render(tmp_path, "gcp"))
    cluster = resources(parsed, "google_container_cluster")["this"]
    agent = cluster["addons_config"][0]["gke_backup_agent_config"][0]
    assert agent["enabled"] is True
    plan = resources(parsed, "google_gke_backup_backup_plan")["cluster"]
    assert plan["location"] == "europe-west4"  # DR-4: the recovery region
    assert plan["backup_schedule"][0]["cron_schedule"] == "0 */2 * * *"
    config = plan["backup_config"][0]
    assert config["include_volume_data"] and config["include_secrets"]
    assert config["encryption_key"][0]["gcp_kms_encryption_key"] == (
        "${google_kms_crypto_key.backup.id}"
    )
    retention = plan["retention_policy"][0]
    assert retention["backup_retain_days"] == 35 and retention["backup_delete_lock_days"] >= 1
    ring = resources(parsed, "google_kms_key_ring")["backup"]
    assert ring["location"] == "europe-west4"
    restore = resources(parsed, "google_gke_backup_restore_plan")["cluster"]
    assert restore["backup_plan"] == "${google_gke_backup_backup_plan.cluster.id}"


def test_gke_target_rpo_renders_rpo_config(tmp_path: Path) -> None:
    text = EXAMPLE.read_text().replace(
        "  min_recovery_points: 3", "  min_recovery_points: 3\n  gcp_target_rpo_minutes: 180"
    )
    parsed = parse_dir(_render(tmp_path, "gcp", text))
    schedule = resources(parsed, "google_gke_backup_backup_plan")["cluster"]["backup_schedule"][0]
    assert schedule["rpo_config"][0]["target_rpo_minutes"] == 180
    assert "cron_schedule" not in schedule


def test_lock_keeps_min_recovery_points(tmp_path: Path) -> None:
    """A daily schedule keeping 5 points locks each point 5 days (never the last good one)."""
    text = (
        EXAMPLE.read_text()
        .replace("schedule: cron(0 */2 * * ? *)", "schedule: cron(0 3 * * ? *)")
        .replace("min_recovery_points: 3", "min_recovery_points: 5")
        .replace("rpo_minutes: 360}", "rpo_minutes: 2000}")
    )
    aws = parse_dir(_render(tmp_path, "aws", text))
    assert resources(aws, "aws_backup_vault_lock_configuration")["this"]["min_retention_days"] == 5
    gcp = parse_dir(_render(tmp_path, "gcp", text))
    plan = resources(gcp, "google_gke_backup_backup_plan")["cluster"]
    assert plan["retention_policy"][0]["backup_delete_lock_days"] == 5


def test_backups_off_renders_none(tmp_path: Path) -> None:
    from kubeprod.clouds import aws_backup, azure_backup, gcp_backup

    env = load_spec(EXAMPLE).model_copy(deep=True)
    off = env.model_copy(update={"backup": env.backup.model_copy(update={"enabled": False})})
    for blocks in (
        aws_backup.backup_blocks(off, None),  # type: ignore[arg-type]
        azure_backup.backup_blocks(off, None),  # type: ignore[arg-type]
        gcp_backup.backup_blocks(off, None),  # type: ignore[arg-type]
    ):
        assert all(not hasattr(b, "labels") for b in blocks)
