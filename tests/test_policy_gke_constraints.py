"""Issue 10, GCP: each documented GKE constraint put back into a correct render fails
`kubeprod check` (judged statically on the render directory); the correct render passes.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import EXAMPLE
from test_policy_static import mutate

from kubeprod.policy.engine import check_directory
from kubeprod.policy.rules import Options

GKE = "google_container_cluster.this"

# rule, where, old, new (old "" appends `new` as extra.tf), failing address
MISTAKES = {
    # 1: a withdrawn vulnerability-scanning tier
    "vulnerability-basic": (
        "SEC-4",
        GKE,
        'vulnerability_mode = "VULNERABILITY_DISABLED"',
        'vulnerability_mode = "VULNERABILITY_BASIC"',
        GKE,
    ),
    "vulnerability-enterprise": (
        "SEC-4",
        GKE,
        'vulnerability_mode = "VULNERABILITY_DISABLED"',
        'vulnerability_mode = "VULNERABILITY_ENTERPRISE"',
        GKE,
    ),
    # 2: the GKE service agent assumed, not created
    "service-agent-assumed": (
        "SEC-8",
        "google_project_service_identity.gke",
        'service = "container.googleapis.com"',
        'service = "sqladmin.googleapis.com"',
        GKE,
    ),
    "service-agent-hand-built": (
        "SEC-8",
        "google_kms_crypto_key_iam_member.gke_secrets",
        "member = google_project_service_identity.gke.member",
        'member = "serviceAccount:service-1@container-engine-robot.iam.gserviceaccount.com"',
        GKE,
    ),
    # 3: the _Default bucket's 30 days
    "log-retention-30-days": (
        "K8S-7",
        "google_logging_project_bucket_config.default",
        "retention_days = 365",
        "retention_days = 30",
        "google_logging_project_bucket_config.default",
    ),
    # 4: enforcing a policy that is not rendered, or one that admits everything
    "binauthz-policy-missing": (
        "SEC-6",
        "binauthz.tf",
        'resource "google_binary_authorization_policy" "this"',
        'resource "google_binary_authorization_policy_not_here" "this"',
        GKE,
    ),
    "binauthz-always-allow": (
        "SEC-6",
        "google_binary_authorization_policy.this",
        'evaluation_mode = "ALWAYS_DENY"',
        'evaluation_mode = "ALWAYS_ALLOW"',
        "google_binary_authorization_policy.this",
    ),
    # 5: no firewall from the peered control plane to the webhooks
    "webhook-firewall-missing": (
        "K8S-4",
        "google_compute_firewall.control_plane_webhooks",
        'ports = ["8443", "9443", "15017"]',
        'ports = ["8443"]',
        GKE,
    ),
    # 6: cluster notifications not published, or published but alerted to nobody
    "notifications-off": (
        "CHR-7",
        GKE,
        "pubsub { enabled = true",
        "pubsub { enabled = false",
        GKE,
    ),
    "notifications-not-alerted": (
        "CHR-7",
        "google_monitoring_alert_policy.gke_notifications",
        "container.googleapis.com%2Fnotifications",
        "container.googleapis.com%2Factivity",
        "(configuration)",
    ),
    # 7: allServices audit config
    "audit-all-services": (
        "SEC-7",
        "google_project_iam_audit_config.this",
        'for_each = toset([ "cloudkms.googleapis.com", "container.googleapis.com", '
        '"storage.googleapis.com", ])',
        'for_each = toset(["allServices"])',
        'google_project_iam_audit_config.this["allServices"]',
    ),
    # 8: a version the STABLE channel does not offer
    "version-not-on-channel": (
        "K8S-1",
        GKE,
        'min_master_version = "1.35"',
        'min_master_version = "1.36"',
        GKE,
    ),
    # admins: nobody granted a GKE admin role
    "no-cluster-admin": (
        "K8S-5",
        "google_project_iam_member.cluster_admins",
        'role = "roles/container.admin"',
        'role = "roles/container.viewer"',
        "(configuration)",
    ),
}


@pytest.fixture(scope="module")
def gcp_render(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from kubeprod.render import render_to
    from kubeprod.spec import load_spec

    directory = tmp_path_factory.mktemp("gcp")
    render_to(load_spec(EXAMPLE), "gcp", str(EXAMPLE), directory)
    return directory


def test_correct_render_passes_every_gke_constraint(gcp_render: Path) -> None:
    report = check_directory(gcp_render)
    assert report.passed, report.summary()
    ids = {m[0] for m in MISTAKES.values()}
    status = report.rule_status()
    assert all(status[i] == "pass" for i in ids), status
    sec6 = [f for f in report.findings if f.rule_id == "SEC-6" and f.status == "pass"]
    # Binary Authorization from the module, the restricted label from kubernetes/
    assert {f.address for f in sec6} == {
        GKE,
        "google_binary_authorization_policy.this",
        "Namespace/apps",
    }


@pytest.mark.parametrize("mistake", sorted(MISTAKES))
def test_mistake_fails_the_gate(gcp_render: Path, tmp_path: Path, mistake: str) -> None:
    rule_id, where, old, new, address = MISTAKES[mistake]
    work = tmp_path / "gcp"
    shutil.copytree(gcp_render, work)
    mutate(work, where, old, new)
    report = check_directory(work)
    failed = [f for f in report.findings if f.rule_id == rule_id and f.status == "fail"]
    assert failed, f"{mistake}: {rule_id} did not fail"
    assert address in {f.address for f in failed}, [f.address for f in failed]
    assert not report.passed
    hit = next(f for f in failed if f.address == address)
    assert hit.remediation.startswith(address)


def test_log_retention_threshold_is_an_option(gcp_render: Path) -> None:
    assert check_directory(gcp_render, options=Options(log_retention_days=365)).passed
    report = check_directory(gcp_render, options=Options(log_retention_days=400))
    assert report.rule_status()["K8S-7"] == "fail"


def test_psc_cluster_needs_no_webhook_firewall(gcp_render: Path, tmp_path: Path) -> None:
    """Without a peered control-plane range (Private Service Connect), nothing to allow."""
    work = tmp_path / "gcp"
    shutil.copytree(gcp_render, work)
    mutate(work, GKE, 'master_ipv4_cidr_block = "172.16.0.0/28"', "")
    mutate(
        work, "google_compute_firewall.control_plane_webhooks", 'ports = ["8443"', 'ports = ["1"'
    )
    findings = [f for f in check_directory(work).findings if f.rule_id == "K8S-4"]
    assert not any("webhooks" in f.message for f in findings)


def test_cli_check_exit_codes(gcp_render: Path, tmp_path: Path) -> None:
    """`kubeprod check DIR` exits 0 on the render and 1 once a mistake is back."""
    run = [sys.executable, "-m", "kubeprod", "check"]
    assert subprocess.run([*run, str(gcp_render)], capture_output=True).returncode == 0
    work = tmp_path / "gcp"
    shutil.copytree(gcp_render, work)
    mutate(work, GKE, 'vulnerability_mode = "VULNERABILITY_DISABLED"', "")
    mutate(work, "google_logging_project_bucket_config.default", "retention_days = 365", "")
    result = subprocess.run([*run, str(work)], capture_output=True, text=True)
    assert result.returncode == 1
    assert "K8S-7" in result.stdout
    result = subprocess.run(
        [*run, str(gcp_render), "--log-retention-days", "400"], capture_output=True, text=True
    )
    assert result.returncode == 1 and "K8S-7" in result.stdout
