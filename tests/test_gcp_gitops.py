"""GKE Config Sync (spec `cluster.gitops.mode: config-sync`): fleet registration, the
configmanagement feature and Config Sync on the cluster, rendered in Terraform (gitops.tf)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import mutate
from test_gcp import resources

from kubeprod.clouds.gcp_gitops import FLEET_APIS
from kubeprod.clouds.gcp_schema import GOOGLE_6, supplemented_schema
from kubeprod.policy.engine import check_directory
from kubeprod.render import render_to
from kubeprod.spec import load_spec
from kubeprod.terraform.schema_check import SCHEMA_DIR, parse_module, validate_parsed

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "production.yaml"
GOOGLE_8 = SCHEMA_DIR / "newer-majors" / "google.json"
REPO = "https://example.com/acme/infra.git"


def _spec(tmp_path: Path, **gitops: Any) -> Path:
    """examples/production.yaml with `cluster.gitops` replaced by `gitops`."""
    data = yaml.safe_load(EXAMPLE.read_text())
    data["cluster"]["gitops"] = gitops
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def _render(tmp_path: Path, **gitops: Any) -> Path:
    spec = _spec(tmp_path, **gitops)
    out = tmp_path / "gcp"
    render_to(load_spec(str(spec)), "gcp", str(spec), out)
    return out


def _blocks(out: Path, type_: str) -> dict[str, dict[str, Any]]:
    """name -> body (plain values) of every resource of `type_` in the rendered module."""
    return resources(parse_module(out)[0], type_)


@pytest.fixture(scope="module")
def config_sync(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("config-sync")
    return _render(tmp, mode="config-sync", repository=REPO, branch="release")


@pytest.mark.parametrize("schema", [GOOGLE_6, GOOGLE_8], ids=["google6", "google8"])
def test_config_sync_module_is_valid_against_the_provider_schema(
    config_sync: Path, schema: Path
) -> None:
    problems = validate_parsed(parse_module(config_sync)[0], supplemented_schema(schema))
    assert problems == [], "\n".join(map(str, problems))


def test_schema_check_catches_a_misspelt_config_sync_attribute(
    config_sync: Path, tmp_path: Path
) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    for tf in config_sync.glob("*.tf"):
        (broken / tf.name).write_text(tf.read_text().replace("sync_branch", "sync_brnch"))
    problems = validate_parsed(parse_module(broken)[0], supplemented_schema(GOOGLE_6))
    assert any("sync_brnch" in str(p) for p in problems)


def test_config_sync_reads_the_specs_repository_branch_and_directory(config_sync: Path) -> None:
    (member,) = _blocks(config_sync, "google_gke_hub_feature_membership").values()
    (management,) = member["configmanagement"]
    assert management["management"] == "MANAGEMENT_AUTOMATIC"
    (sync,) = management["config_sync"]
    assert sync["enabled"] is True and sync["source_format"] == "unstructured"
    (git,) = sync["git"]
    assert git["sync_repo"] == REPO
    assert git["sync_branch"] == "release"
    assert git["policy_dir"] == "infra/production/gcp/kubernetes"
    assert git["secret_type"] == "none"


def test_config_sync_follows_an_explicit_path(tmp_path: Path) -> None:
    out = _render(tmp_path, mode="config-sync", repository=REPO, path="clusters/gke/kubernetes")
    (member,) = _blocks(out, "google_gke_hub_feature_membership").values()
    assert member["configmanagement"][0]["config_sync"][0]["git"][0]["policy_dir"] == (
        "clusters/gke/kubernetes"
    )
    assert member["configmanagement"][0]["config_sync"][0]["git"][0]["sync_branch"] == "main"


def test_the_cluster_joins_the_fleet_and_the_membership_is_the_clusters(config_sync: Path) -> None:
    (cluster,) = _blocks(config_sync, "google_container_cluster").values()
    assert cluster["fleet"] == [{"project": "${local.project}"}]
    assert "${google_project_service.fleet}" in cluster["depends_on"]
    (member,) = _blocks(config_sync, "google_gke_hub_feature_membership").values()
    assert member["membership"] == "${google_container_cluster.this.fleet[0].membership_id}"
    assert member["membership_location"] == (
        "${google_container_cluster.this.fleet[0].membership_location}"
    )
    assert member["feature"] == "${google_gke_hub_feature.configmanagement.name}"
    assert member["location"] == "global"
    (feature,) = _blocks(config_sync, "google_gke_hub_feature").values()
    assert feature["name"] == "configmanagement" and feature["location"] == "global"


def test_the_fleet_apis_are_enabled_and_the_feature_waits_for_them(config_sync: Path) -> None:
    services = _blocks(config_sync, "google_project_service")
    assert set(FLEET_APIS) == {"gkehub.googleapis.com", "anthosconfigmanagement.googleapis.com"}
    text = (config_sync / "gitops.tf").read_text()
    assert all(f'"{api}"' in text for api in FLEET_APIS)
    assert services["fleet"]["disable_on_destroy"] is False
    (feature,) = _blocks(config_sync, "google_gke_hub_feature").values()
    assert feature["depends_on"] == ["${google_project_service.fleet}"]


def test_config_sync_is_tagged_with_the_requirements_it_serves(config_sync: Path) -> None:
    text = (config_sync / "gitops.tf").read_text()
    assert "# SEC-5 / SEC-6: Config Sync applies the in-cluster baseline" in text
    assert (
        "# SEC-5 / SEC-6: the cluster joins the project's fleet"
        in (config_sync / "gke.tf").read_text()
    )


def test_no_rootsync_manifest_when_terraform_configures_config_sync(config_sync: Path) -> None:
    """Config Sync's git block makes the root-sync RootSync itself: not rendered twice."""
    assert list((config_sync / "kubernetes").glob("gitops-*.yaml")) == []
    assert "RootSync" not in "".join(
        p.read_text() for p in (config_sync / "kubernetes").glob("*.yaml")
    )


def test_nothing_is_rendered_for_mode_none(tmp_path: Path) -> None:
    out = _render(tmp_path, mode="none")
    assert not (out / "gitops.tf").exists()
    texts = "".join(p.read_text() for p in out.glob("*.tf"))
    assert "gke_hub" not in texts and "fleet" not in texts


# -- the policy gate (SEC-6): Config Sync on the cluster's fleet membership ------------------

MEMBER = "google_gke_hub_feature_membership.config_sync"
MISTAKES = {
    "cluster-not-in-fleet": (
        "google_container_cluster.this",
        "fleet { project = local.project }",
        "",
        "membership",
    ),
    "membership-typed-by-hand": (
        MEMBER,
        "membership = google_container_cluster.this.fleet[0].membership_id",
        'membership = "production"',
        "membership",
    ),
    "feature-not-configmanagement": (
        "google_gke_hub_feature.configmanagement",
        'name = "configmanagement"',
        'name = "servicemesh"',
        "feature",
    ),
}


def _sec6(directory: Path, status: str) -> list[Any]:
    report = check_directory(directory)
    return [f for f in report.findings if f.rule_id == "SEC-6" and f.status == status]


def test_the_gate_passes_config_sync_on_the_clusters_fleet_membership(config_sync: Path) -> None:
    assert check_directory(config_sync).passed
    assert MEMBER in {f.address for f in _sec6(config_sync, "pass")}


@pytest.mark.parametrize("mistake", sorted(MISTAKES))
def test_the_gate_fails_config_sync_without_a_fleet_membership(
    config_sync: Path, tmp_path: Path, mistake: str
) -> None:
    where, old, new, attribute = MISTAKES[mistake]
    work = tmp_path / "gcp"
    shutil.copytree(config_sync, work)
    mutate(work, where, old, new)
    failed = [f for f in _sec6(work, "fail") if f.address == MEMBER]
    assert failed, f"{mistake}: SEC-6 did not fail at {MEMBER}"
    assert failed[0].remediation.startswith(f"{MEMBER}: set {attribute}:")
    assert not check_directory(work).passed


def test_mode_none_has_no_config_sync_finding(tmp_path: Path) -> None:
    out = _render(tmp_path, mode="none")
    assert not [f for f in check_directory(out).findings if f.address == MEMBER]
