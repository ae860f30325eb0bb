"""The GCP GKE module: the brief's values land in the rendered HCL, valid and clean."""

from __future__ import annotations

import ipaddress
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubeprod.clouds.gcp import GcpRenderer
from kubeprod.clouds.gcp_bootstrap import bootstrap_files
from kubeprod.clouds.gcp_common import KEY_ROTATION_PERIOD, state_bucket
from kubeprod.clouds.gcp_gke import LOGGING_COMPONENTS
from kubeprod.clouds.gcp_schema import BETA_KEY, PROVIDER_KEY, later_types, supplemented_schema
from kubeprod.errors import InputError, SpecInvalid
from kubeprod.render import render_module, render_to
from kubeprod.render.output import render_texts, write_module
from kubeprod.spec import gcp_sizing, load_spec
from kubeprod.spec.model import Environment
from kubeprod.spec.profile import gke_addresses_fit
from kubeprod.terraform.schema_check import SCHEMA_DIR, parse_module, validate_parsed

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "production.yaml"
SCHEMAS = SCHEMA_DIR
GOOGLE_6 = SCHEMAS / "google.json"
GOOGLE_8 = SCHEMAS / "newer-majors" / "google.json"

Parsed = dict[str, dict[str, Any]]


# -- helpers --------------------------------------------------------------------------------


def _strip(value: Any) -> Any:
    """hcl2 output -> plain values: quotes off strings, block markers dropped."""
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    if isinstance(value, dict):
        return {_strip(k): _strip(v) for k, v in value.items() if not k.startswith("__")}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


def resources(parsed: Parsed, type_: str, kind: str = "resource") -> dict[str, dict[str, Any]]:
    """name -> body of every resource (or data source) of `type_` in the module."""
    found: dict[str, dict[str, Any]] = {}
    for body in parsed.values():
        for group in body.get(kind, []):
            for raw_type, named in group.items():
                if _strip(raw_type) == type_:
                    for name, block in named.items():
                        found[_strip(name)] = _strip(block)
    return found


def one(parsed: Parsed, type_: str, name: str = "this") -> dict[str, Any]:
    return resources(parsed, type_)[name]


def locals_of(parsed: Parsed) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for body in parsed.values():
        for block in body.get("locals", []):
            merged.update(_strip(block))
    return merged


def cluster(parsed: Parsed) -> dict[str, Any]:
    return one(parsed, "google_container_cluster")


def nested(body: dict[str, Any], *path: str) -> Any:
    """body['a'][0]['b'][0]... for single nested blocks."""
    for key in path:
        body = body[key]
        if isinstance(body, list) and body and isinstance(body[0], dict):
            body = body[0]
    return body


def render_dir(env: Environment, out: Path) -> Parsed:
    render_to(env, "gcp", "spec.yaml", out)
    return parse_module(out)[0]


def spec_with(tmp_path: Path, edit: Any) -> Path:
    """The example spec with `edit(data)` applied, written to a temporary file."""
    data = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    edit(data)
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def net6_problems(exc: SpecInvalid) -> list[Any]:
    return [p for p in exc.problems if p.rule == "NET-6"]


@pytest.fixture(scope="module")
def env() -> Environment:
    return load_spec(str(EXAMPLE))


@pytest.fixture(scope="module")
def module_dir(env: Environment, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("gcp")
    render_to(env, "gcp", "examples/production.yaml", out)
    return out


@pytest.fixture(scope="module")
def bootstrap_dir(env: Environment, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("gcp-bootstrap")
    write_module(render_texts(bootstrap_files(env), "bootstrap"), out)
    return out


@pytest.fixture(scope="module")
def parsed(module_dir: Path) -> Parsed:
    return parse_module(module_dir)[0]


# -- coverage, files, determinism, fmt ------------------------------------------------------


def test_files_by_concern(module_dir: Path) -> None:
    assert sorted(p.name for p in module_dir.glob("*.tf")) == sorted(
        [
            "versions.tf",
            "providers.tf",
            "project.tf",
            "network.tf",
            "kms.tf",
            "gke.tf",
            "nodes.tf",
            "access.tf",
            "binauthz.tf",
            "notifications.tf",
            "monitoring.tf",
            "backup.tf",
            "outputs.tf",
        ]
    )


def test_dr2_versions_provider_and_gcs_backend(parsed: Parsed, env: Environment) -> None:
    terraform = _strip(parsed["versions.tf"]["terraform"][0])
    google = terraform["required_providers"][0]["google"]
    assert google["source"] == "hashicorp/google"
    assert google["version"].startswith("~> 6.")
    beta = terraform["required_providers"][0]["google-beta"]
    assert beta == {"source": "hashicorp/google-beta", "version": google["version"]}
    providers = [next(iter(_strip(p))) for p in parsed["providers.tf"]["provider"]]
    assert providers == ["google", "google-beta"]
    backend = terraform["backend"][0]["gcs"]
    assert backend["bucket"] == state_bucket(env)
    assert backend["prefix"] == "production/gcp"


def test_render_is_deterministic(env: Environment) -> None:
    first = render_module(env, "gcp", "spec.yaml", "out")
    second = render_module(load_spec(str(EXAMPLE)), "gcp", "spec.yaml", "out")
    assert first == second
    assert render_texts(bootstrap_files(env), "b") == render_texts(bootstrap_files(env), "b")


@pytest.mark.skipif(shutil.which("terraform") is None, reason="terraform not installed")
def test_terraform_fmt_clean(module_dir: Path, bootstrap_dir: Path) -> None:
    for directory in (module_dir, bootstrap_dir):
        proc = subprocess.run(
            ["terraform", "fmt", "-check", "-diff", str(directory)],
            capture_output=True,
            text=True,
            env={**os.environ, "TF_CLI_CONFIG_FILE": "/dev/null"},
            check=False,
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr


# -- provider schema ------------------------------------------------------------------------


@pytest.mark.parametrize("schema", [GOOGLE_6, GOOGLE_8], ids=["google6", "google8"])
def test_schema_valid(module_dir: Path, bootstrap_dir: Path, schema: Path) -> None:
    for directory in (module_dir, bootstrap_dir):
        problems = validate_parsed(parse_module(directory)[0], supplemented_schema(schema))
        assert problems == [], "\n".join(map(str, problems))


def test_schema_google6_has_every_type_and_beta_is_added(parsed: Parsed) -> None:
    """Every google type the module uses is in the 6.50 subset itself; the google-beta one
    (google_project_service_identity) is checked against google-beta 6.50."""
    assert later_types(GOOGLE_6) == {"resource_schemas": set(), "data_source_schemas": set()}
    schema = supplemented_schema(GOOGLE_6)
    beta = schema["provider_schemas"][BETA_KEY]["resource_schemas"]
    assert "google_project_service_identity" in beta
    assert (
        "google_project_service_identity"
        not in (schema["provider_schemas"][PROVIDER_KEY]["resource_schemas"])
    )
    identities = resources(parsed, "google_project_service_identity")
    assert identities
    assert all(i["provider"].strip("${}") == "google-beta" for i in identities.values())


def test_schema_beta_resource_is_validated_against_beta(module_dir: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(module_dir, broken)
    project = (broken / "project.tf").read_text()
    project = project.replace('service    = "container.googleapis.com"', 'servise = "x"', 1)
    (broken / "project.tf").write_text(project)
    problems = validate_parsed(parse_module(broken)[0], supplemented_schema(GOOGLE_6))
    text = "\n".join(map(str, problems))
    assert "google_project_service_identity.gke" in text and "servise" in text
    # without the provider meta-argument, the google provider has no such type
    project = project.replace("provider   = google-beta\n", "", 1)
    (broken / "project.tf").write_text(project)
    problems = validate_parsed(parse_module(broken)[0], supplemented_schema(GOOGLE_6))
    assert any(
        "unknown resource type 'google_project_service_identity'" in str(p) for p in problems
    )


def test_schema_catches_broken_gcp_module(module_dir: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(module_dir, broken)
    nodes = (broken / "nodes.tf").read_text()
    nodes = nodes.replace("total_max_node_count", "total_max_nodes", 1)
    (broken / "nodes.tf").write_text(nodes)
    gke = (broken / "gke.tf").read_text()
    gke = gke.replace('    state    = "ENCRYPTED"\n', "", 1)  # required attribute
    (broken / "gke.tf").write_text(gke)
    network = (broken / "network.tf").read_text()
    network = network.replace("private_ip_google_access = true", "enable_flow_logs = true", 1)
    (broken / "network.tf").write_text(network)
    parsed = parse_module(broken)[0]
    problems6 = validate_parsed(parsed, supplemented_schema(GOOGLE_6))
    text = "\n".join(map(str, problems6))
    assert "total_max_nodes" in text
    assert "database_encryption" in text and "state" in text
    problems8 = validate_parsed(parsed, supplemented_schema(GOOGLE_8))
    assert any("enable_flow_logs" in str(p) for p in problems8)


# -- checkov --------------------------------------------------------------------------------


@pytest.mark.checkov
def test_checkov_clean_with_justified_skips(module_dir: Path, bootstrap_dir: Path) -> None:
    from kubeprod.policy.checkov import load_skips, run_checkov

    skips = load_skips("gcp")
    assert all(len(why) > 40 for why in skips.values())
    for directory in (module_dir, bootstrap_dir):
        findings = run_checkov(directory, "gcp")
        assert findings == [], "\n".join(f"{f.check_id} {f.resource} {f.name}" for f in findings)


# -- network --------------------------------------------------------------------------------


def test_net1_custom_mode_vpc(parsed: Parsed) -> None:
    vpc = one(parsed, "google_compute_network")
    assert vpc["auto_create_subnetworks"] is False


def test_net3_node_subnet_with_secondary_ranges(parsed: Parsed, env: Environment) -> None:
    subnet = one(parsed, "google_compute_subnetwork", "nodes")
    assert subnet["ip_cidr_range"] == env.network.private_subnets[0]
    assert ipaddress.ip_network(subnet["ip_cidr_range"]).subnet_of(
        ipaddress.ip_network(env.network.vpc_cidr)
    )
    ranges = {r["range_name"]: r["ip_cidr_range"] for r in subnet["secondary_ip_range"]}
    assert ranges == {"pods": env.network.pod_cidr, "services": env.network.service_cidr}
    assert subnet["private_ip_google_access"] is True
    flow = nested(subnet, "log_config")
    assert flow["metadata"] == "INCLUDE_ALL_METADATA" and flow["flow_sampling"] > 0
    policy = nested(cluster(parsed), "ip_allocation_policy")
    assert policy["cluster_secondary_range_name"] == "pods"
    assert policy["services_secondary_range_name"] == "services"


def test_net2_public_range_is_proxy_only_subnet(parsed: Parsed, env: Environment) -> None:
    proxy = one(parsed, "google_compute_subnetwork", "proxy_only")
    assert proxy["ip_cidr_range"] == env.network.public_subnets[0]
    assert proxy["purpose"] == "REGIONAL_MANAGED_PROXY"
    assert proxy["role"] == "ACTIVE"


def test_sec5_firewall_denies_by_default(parsed: Parsed) -> None:
    rules = resources(parsed, "google_compute_firewall")
    deny = rules["deny_all_ingress"]
    assert deny["direction"] == "INGRESS" and deny["source_ranges"] == ["0.0.0.0/0"]
    assert deny["deny"] == [{"protocol": "all"}]
    assert "log_config" in deny
    for name, rule in rules.items():
        if "allow" in rule:
            assert "0.0.0.0/0" not in rule.get("source_ranges", []), name
            assert rule["priority"] < deny["priority"]


def test_chr5_net4_regional_cloud_nat_sized_for_max_nodes(parsed: Parsed, env: Environment) -> None:
    nat = one(parsed, "google_compute_router_nat")
    assert nat["router"] == "${google_compute_router.nat.name}"
    assert nat["nat_ip_allocate_option"] == "MANUAL_ONLY"
    assert nested(nat, "log_config")["enable"] is True
    subnet = nested(nat, "subnetwork")
    assert subnet["name"] == "${google_compute_subnetwork.nodes.id}"
    assert subnet["source_ip_ranges_to_nat"] == ["ALL_IP_RANGES"]
    ips = one(parsed, "google_compute_address", "nat")["count"]
    peak_nodes = env.node_groups.system.max_size + env.node_groups.workload.max_size
    assert ips * gcp_sizing.NAT_PORTS_PER_IP >= peak_nodes * nat["min_ports_per_vm"]
    assert ips >= 2


def test_nat_addresses_grow_with_max_nodes(env: Environment) -> None:
    big = env.model_copy(
        update={
            "node_groups": env.node_groups.model_copy(
                update={"workload": env.node_groups.workload.model_copy(update={"max_size": 300})}
            )
        }
    )
    assert gcp_sizing.nat_ip_count(big, 3) > gcp_sizing.nat_ip_count(env, 3)
    assert gcp_sizing.nat_ip_count(big, 3) * gcp_sizing.NAT_PORTS_PER_IP >= (
        gcp_sizing.node_addresses_needed(big, 3) * gcp_sizing.NAT_MIN_PORTS_PER_VM
    )


# -- cluster --------------------------------------------------------------------------------


def test_chr2_chr3_net5_regional_cluster_over_three_zones(parsed: Parsed, env: Environment) -> None:
    assert env.clouds.gcp is not None
    local = locals_of(parsed)
    assert local["zones"] == env.clouds.gcp.zones and len(set(local["zones"])) == 3
    assert local["region"] == env.clouds.gcp.region
    gke = cluster(parsed)
    assert gke["location"] == "${local.region}"
    assert gke["node_locations"] == "${local.zones}"
    for pool in resources(parsed, "google_container_node_pool").values():
        assert pool["node_locations"] == "${local.zones}"


def test_chr1_deletion_protection(parsed: Parsed) -> None:
    gke = cluster(parsed)
    assert gke["deletion_protection"] is True
    assert gke["lifecycle"][0]["prevent_destroy"] is True
    for key in resources(parsed, "google_kms_crypto_key").values():
        assert key["lifecycle"][0]["prevent_destroy"] is True
        assert key["destroy_scheduled_duration"] == "2592000s"


def test_k8s1_release_channel_and_min_master_version(parsed: Parsed, env: Environment) -> None:
    gke = cluster(parsed)
    assert nested(gke, "release_channel")["channel"] == "STABLE"
    assert gke["min_master_version"] == env.kubernetes.version


def test_k8s4_k8s5_sec1_private_nodes_public_endpoint_restricted(parsed: Parsed) -> None:
    private = nested(cluster(parsed), "private_cluster_config")
    assert private["enable_private_nodes"] is True
    assert private["enable_private_endpoint"] is False


def test_sec2_master_authorized_networks_are_the_spec_list(tmp_path: Path) -> None:
    allowed = ["198.51.100.0/24", "203.0.113.8/29"]
    spec = spec_with(tmp_path, lambda d: d["api_endpoint"].update(public_allowed_cidrs=allowed))
    man = nested(
        cluster(render_dir(load_spec(spec), tmp_path / "out")), "master_authorized_networks_config"
    )
    assert sorted(b["cidr_block"] for b in man["cidr_blocks"]) == sorted(allowed)
    assert man["gcp_public_cidrs_access_enabled"] is False


def test_k8s4_private_only_when_public_endpoint_off(tmp_path: Path) -> None:
    spec = spec_with(
        tmp_path, lambda d: d["api_endpoint"].update(public=False, public_allowed_cidrs=[])
    )
    gke = cluster(render_dir(load_spec(spec), tmp_path / "out"))
    assert nested(gke, "private_cluster_config")["enable_private_endpoint"] is True


def test_sec8_database_encryption_kms(parsed: Parsed) -> None:
    enc = nested(cluster(parsed), "database_encryption")
    assert enc == {"state": "ENCRYPTED", "key_name": "${google_kms_crypto_key.secrets.id}"}
    key = one(parsed, "google_kms_crypto_key", "secrets")
    assert key["rotation_period"] == KEY_ROTATION_PERIOD
    assert int(key["rotation_period"].rstrip("s")) <= 90 * 86400
    binding = one(parsed, "google_kms_crypto_key_iam_member", "gke_secrets")
    assert binding["crypto_key_id"] == "${google_kms_crypto_key.secrets.id}"
    # item 2: the service agent is created (google-beta), not a hand-built member string
    assert binding["member"] == "${google_project_service_identity.gke.member}"
    identity = one(parsed, "google_project_service_identity", "gke")
    assert identity["service"] == "container.googleapis.com"
    assert "gke_service_agent" not in locals_of(parsed)
    assert "google_kms_crypto_key_iam_member.gke_secrets" in str(cluster(parsed)["depends_on"])


def test_sec3_cmek_boot_disks_on_every_pool(parsed: Parsed) -> None:
    configs = [
        nested(p, "node_config") for p in resources(parsed, "google_container_node_pool").values()
    ]
    configs.append(nested(cluster(parsed), "node_config"))
    for config in configs:
        assert config["boot_disk_kms_key"] == "${google_kms_crypto_key.disks.id}"
    assert "compute-system" in locals_of(parsed)["compute_service_agent"]


def test_k8s7_sec7_logging_components_and_audit_logs(parsed: Parsed) -> None:
    components = nested(cluster(parsed), "logging_config")["enable_components"]
    assert set(components) == {
        "SYSTEM_COMPONENTS",
        "APISERVER",
        "CONTROLLER_MANAGER",
        "SCHEDULER",
        "WORKLOADS",
    }
    assert tuple(components) == LOGGING_COMPONENTS
    audit = one(parsed, "google_project_iam_audit_config")
    assert audit["for_each"] == (
        '${toset(["cloudkms.googleapis.com", "container.googleapis.com", '
        '"storage.googleapis.com"])}'
    )
    assert audit["service"] == "${each.value}"
    types = {c["log_type"] for c in audit["audit_log_config"]}
    assert types == {"ADMIN_READ", "DATA_READ", "DATA_WRITE"}
    assert all("exempted_members" not in c for c in audit["audit_log_config"])


def test_chr7_monitoring_and_alerts_to_spec_targets(parsed: Parsed, env: Environment) -> None:
    monitoring = nested(cluster(parsed), "monitoring_config")
    assert nested(monitoring, "managed_prometheus")["enabled"] is True
    assert "SYSTEM_COMPONENTS" in monitoring["enable_components"]
    channels = resources(parsed, "google_monitoring_notification_channel")
    emails = {c["labels"]["email_address"] for c in channels.values() if c["type"] == "email"}
    assert emails == {t.email for t in env.monitoring.alert_targets if t.email}
    policies = resources(parsed, "google_monitoring_alert_policy")
    assert len(policies) >= 3
    for policy in policies.values():
        assert policy["notification_channels"] == [
            f"${{google_monitoring_notification_channel.{name}.id}}" for name in channels
        ]


def test_chr7_webhook_target_is_a_sensitive_variable(tmp_path: Path) -> None:
    spec = spec_with(
        tmp_path,
        lambda d: d["monitoring"].update(alert_targets=[{"webhook_env": "ONCALL_WEBHOOK"}]),
    )
    out = tmp_path / "out"
    parsed = render_dir(load_spec(spec), out)
    channel = one(parsed, "google_monitoring_notification_channel", "webhook_0")
    assert channel["labels"]["url"] == "${var.alert_webhook_url_0}"
    variable = _strip(parsed["monitoring.tf"]["variable"][0])["alert_webhook_url_0"]
    assert variable["sensitive"] is True
    assert "ONCALL_WEBHOOK" in (out / "monitoring.tf").read_text()


def test_security_hardening(parsed: Parsed, env: Environment) -> None:
    assert env.clouds.gcp is not None
    gke = cluster(parsed)
    assert gke["datapath_provider"] == "ADVANCED_DATAPATH"  # SEC-5 Dataplane V2
    assert gke["enable_shielded_nodes"] is True
    assert gke["enable_legacy_abac"] is False
    assert gke["remove_default_node_pool"] is True
    cert = nested(gke, "master_auth", "client_certificate_config")
    assert cert["issue_client_certificate"] is False
    assert (
        nested(gke, "workload_identity_config")["workload_pool"] == "${local.project}.svc.id.goog"
    )
    assert nested(gke, "binary_authorization")["evaluation_mode"].endswith("_ENFORCE")


def test_chr6_balanced_autoscaling_profile(parsed: Parsed) -> None:
    autoscaling = nested(cluster(parsed), "cluster_autoscaling")
    assert autoscaling["autoscaling_profile"] == "BALANCED"
    assert autoscaling["enabled"] is False  # no auto-provisioned pools outside the module


def test_sec4_maintenance_window_from_spec(parsed: Parsed) -> None:
    window = nested(cluster(parsed), "maintenance_policy", "recurring_window")
    # 02:00 Europe/London (UTC+0 in standard time), 4h, tue/wed/thu.
    assert window["start_time"].endswith("T02:00:00Z")
    assert window["end_time"].endswith("T06:00:00Z")
    assert window["recurrence"] == "FREQ=WEEKLY;BYDAY=TU,WE,TH"


def test_sec4_maintenance_window_crossing_midnight_moves_the_day(tmp_path: Path) -> None:
    window = {"days": ["tue"], "start": "02:00", "duration": "6h", "timezone": "Asia/Tokyo"}
    spec = spec_with(tmp_path, lambda d: d["maintenance"].update(windows=[window]))
    gke = cluster(render_dir(load_spec(spec), tmp_path / "out"))
    rw = nested(gke, "maintenance_policy", "recurring_window")
    assert rw["start_time"].endswith("T17:00:00Z")  # 02:00 JST = 17:00 UTC the day before
    assert rw["end_time"].endswith("T23:00:00Z")
    assert rw["recurrence"] == "FREQ=WEEKLY;BYDAY=MO"


def test_sec4_windows_of_different_shapes_are_refused(env: Environment) -> None:
    windows = [
        {"days": ["tue"], "start": "02:00", "duration": "4h", "timezone": "UTC"},
        {"days": ["sat"], "start": "10:00", "duration": "4h", "timezone": "UTC"},
    ]
    data = env.model_dump()
    data["maintenance"]["windows"] = windows
    with pytest.raises(InputError, match="one recurring maintenance window"):
        GcpRenderer().render(Environment.model_validate(data))


# -- node pools -----------------------------------------------------------------------------


def test_k8s2_system_pool_one_per_zone_tainted(parsed: Parsed, env: Environment) -> None:
    pool = one(parsed, "google_container_node_pool", "system")
    autoscaling = nested(pool, "autoscaling")
    assert autoscaling["min_node_count"] * 3 >= env.node_groups.system.min_size == 3
    assert autoscaling["min_node_count"] == 1
    config = nested(pool, "node_config")
    assert config["machine_type"] == "e2-standard-4"
    assert config["taint"] == [
        {"key": "CriticalAddonsOnly", "value": "true", "effect": "NO_SCHEDULE"}
    ]


def test_k8s3_workload_pool_total_3_to_20(parsed: Parsed) -> None:
    autoscaling = nested(one(parsed, "google_container_node_pool", "workload"), "autoscaling")
    assert autoscaling["total_min_node_count"] == 3
    assert autoscaling["total_max_node_count"] == 20
    assert "min_node_count" not in autoscaling


def test_chr4_never_spot_or_preemptible(parsed: Parsed) -> None:
    configs = [
        nested(p, "node_config") for p in resources(parsed, "google_container_node_pool").values()
    ]
    configs.append(nested(cluster(parsed), "node_config"))
    assert len(configs) == 3
    for config in configs:
        assert config["spot"] is False and config["preemptible"] is False


def test_sec4_pools_auto_repair_upgrade_shielded(parsed: Parsed) -> None:
    for pool in resources(parsed, "google_container_node_pool").values():
        assert nested(pool, "management") == {"auto_repair": True, "auto_upgrade": True}
        config = nested(pool, "node_config")
        shielded = nested(config, "shielded_instance_config")
        assert shielded == {"enable_secure_boot": True, "enable_integrity_monitoring": True}
        assert nested(config, "workload_metadata_config")["mode"] == "GKE_METADATA"
        assert nested(pool, "upgrade_settings")["max_unavailable"] == 0


def test_dedicated_least_privilege_node_service_account(parsed: Parsed) -> None:
    configs = [
        nested(p, "node_config") for p in resources(parsed, "google_container_node_pool").values()
    ]
    configs.append(nested(cluster(parsed), "node_config"))
    for config in configs:
        assert config["service_account"] == "${google_service_account.nodes.email}"
    grants = one(parsed, "google_project_iam_member", "nodes")
    roles = re.findall(r'"(roles/[^"]+)"', grants["for_each"])
    assert roles and not {"roles/editor", "roles/owner", "roles/container.admin"} & set(roles)


# -- NET-6 profile rule ---------------------------------------------------------------------


def test_net6_pods_range_too_small_is_a_clear_error(tmp_path: Path) -> None:
    spec = spec_with(tmp_path, lambda d: d["network"].update(pod_cidr="100.64.0.0/20"))
    with pytest.raises(SpecInvalid) as caught:
        load_spec(spec)
    problems = [p for p in net6_problems(caught.value) if "pod addresses" in p.message]
    assert len(problems) == 1
    problem = problems[0]
    assert problem.field == "network.pod_cidr" and problem.line > 0
    # 32 nodes at peak x /24 each = 8192 needed; a /20 has 4096.
    assert "4096" in problem.message and "8192" in problem.message
    assert "pod_cidr" in problem.fix


def test_net6_pods_range_sized_for_max_pods(tmp_path: Path) -> None:
    def edit(d: dict[str, Any]) -> None:
        d["network"].update(pod_cidr="100.64.0.0/20")
        for group in d["node_groups"].values():
            group["max_pods_per_node"] = 32  # 64 addresses per node: 32 x 64 = 2048 fit
        # A GKE-only spec: AKS CNI Overlay takes a /24 per node, which a /20 cannot hold
        # (the profile's AKS NET-6 rule refuses it for a spec that also targets Azure).
        d["clouds"].pop("azure")
        for section in d.values():
            if isinstance(section, dict):
                for value in section.values():
                    if isinstance(value, dict):
                        value.pop("azure", None)

    env = load_spec(spec_with(tmp_path, edit))
    assert list(gke_addresses_fit(env)) == []
    pools = resources(render_dir(env, tmp_path / "out"), "google_container_node_pool")
    assert {p["max_pods_per_node"] for p in pools.values()} == {32}


def test_net6_overlapping_gke_ranges(tmp_path: Path) -> None:
    spec = spec_with(tmp_path, lambda d: d["network"].update(service_cidr="100.64.128.0/20"))
    with pytest.raises(SpecInvalid) as caught:
        load_spec(spec)
    messages = [p.message for p in net6_problems(caught.value)]
    assert any("overlaps the services range" in m for m in messages)


def test_net6_node_subnet_too_small(env: Environment) -> None:
    small = env.model_copy(
        update={"network": env.network.model_copy(update={"private_subnets": ["10.1.10.0/27"] * 3})}
    )
    problems = list(gke_addresses_fit(small))
    assert [p.loc for p in problems] == [("network", "private_subnets", 0)]
    assert "28 nodes" in problems[0].message and "32 nodes" in problems[0].message


def test_net6_missing_pod_cidr(env: Environment) -> None:
    bare = env.model_copy(update={"network": env.network.model_copy(update={"pod_cidr": None})})
    assert [p.loc for p in gke_addresses_fit(bare)] == [("network", "pod_cidr")]
    with pytest.raises(InputError, match="pod_cidr"):
        GcpRenderer().render(bare)


def test_net6_rule_silent_without_gcp(env: Environment) -> None:
    tiny = env.model_copy(
        update={
            "clouds": env.clouds.model_copy(update={"gcp": None}),
            "network": env.network.model_copy(update={"pod_cidr": "100.64.0.0/28"}),
        }
    )
    assert list(gke_addresses_fit(tiny)) == []
    assert list(gke_addresses_fit(env)) == []


# -- bootstrap ------------------------------------------------------------------------------


def test_dr2_bootstrap_state_bucket(bootstrap_dir: Path, env: Environment) -> None:
    parsed = parse_module(bootstrap_dir)[0]
    bucket = one(parsed, "google_storage_bucket", "state")
    assert bucket["name"] == state_bucket(env)
    assert nested(bucket, "versioning")["enabled"] is True
    assert (
        nested(bucket, "encryption")["default_kms_key_name"] == "${google_kms_crypto_key.state.id}"
    )
    assert bucket["uniform_bucket_level_access"] is True
    assert bucket["public_access_prevention"] == "enforced"
    assert bucket["lifecycle"][0]["prevent_destroy"] is True
    key = one(parsed, "google_kms_crypto_key", "state")
    assert key["rotation_period"] == KEY_ROTATION_PERIOD
    assert "backend" not in _strip(parsed["versions.tf"]["terraform"][0])


# -- cloud review (issue 10, GCP items 1-8) -------------------------------------------------


def test_item1_no_withdrawn_vulnerability_mode(parsed: Parsed) -> None:
    posture = nested(cluster(parsed), "security_posture_config")
    assert posture == {"mode": "BASIC", "vulnerability_mode": "VULNERABILITY_DISABLED"}
    apis = one(parsed, "google_project_service")["for_each"]
    assert "containerscanning.googleapis.com" in apis  # Artifact Analysis scans the images


def test_item3_default_log_bucket_keeps_spec_retention(tmp_path: Path) -> None:
    spec = spec_with(tmp_path, lambda d: d["logging"].update(retention_days=400))
    bucket = one(
        render_dir(load_spec(spec), tmp_path / "out"),
        "google_logging_project_bucket_config",
        "default",
    )
    assert bucket["bucket_id"] == "_Default"
    assert bucket["location"] == "global"
    assert bucket["retention_days"] == 400


def test_item4_binary_authorization_policy_rendered(parsed: Parsed, tmp_path: Path) -> None:
    assert nested(cluster(parsed), "binary_authorization")["evaluation_mode"] == (
        "PROJECT_SINGLETON_POLICY_ENFORCE"
    )
    policy = one(parsed, "google_binary_authorization_policy")
    assert nested(policy, "default_admission_rule") == {
        "evaluation_mode": "ALWAYS_DENY",
        "enforcement_mode": "ENFORCED_BLOCK_AND_AUDIT_LOG",
    }
    assert policy["global_policy_evaluation_mode"] == "ENABLE"
    patterns = [p["name_pattern"] for p in policy["admission_whitelist_patterns"]]
    assert patterns == ["europe-west1-docker.pkg.dev/my-gcp-project/**"]
    spec = spec_with(
        tmp_path, lambda d: d["clouds"]["gcp"].update(image_allowlist=["quay.io/jetstack/**"])
    )
    policy = one(
        render_dir(load_spec(spec), tmp_path / "out"), "google_binary_authorization_policy"
    )
    assert [p["name_pattern"] for p in policy["admission_whitelist_patterns"]][1:] == [
        "quay.io/jetstack/**"
    ]


def test_item5_control_plane_reaches_webhooks(parsed: Parsed, env: Environment) -> None:
    assert env.clouds.gcp is not None
    rule = one(parsed, "google_compute_firewall", "control_plane_webhooks")
    assert rule["direction"] == "INGRESS"
    assert rule["source_ranges"] == [env.clouds.gcp.master_ipv4_cidr_block]
    assert nested(rule, "allow") == {"protocol": "tcp", "ports": ["8443", "9443", "15017"]}
    assert rule["target_service_accounts"] == ["${google_service_account.nodes.email}"]


def test_item6_notifications_to_pubsub_and_alert_channels(parsed: Parsed) -> None:
    pubsub = nested(cluster(parsed), "notification_config", "pubsub")
    assert pubsub["enabled"] is True
    assert pubsub["topic"] == "${google_pubsub_topic.gke_notifications.id}"
    assert set(pubsub["filter"][0]["event_type"]) == {
        "UPGRADE_AVAILABLE_EVENT",
        "UPGRADE_EVENT",
        "SECURITY_BULLETIN_EVENT",
    }
    topic = one(parsed, "google_pubsub_topic", "gke_notifications")
    assert topic["kms_key_name"] == "${google_kms_crypto_key.notifications.id}"
    binding = one(parsed, "google_kms_crypto_key_iam_member", "pubsub_notifications")
    assert binding["member"] == "${google_project_service_identity.pubsub.member}"
    alert = one(parsed, "google_monitoring_alert_policy", "gke_notifications")
    condition = nested(alert, "conditions", "condition_matched_log")
    assert "container.googleapis.com%2Fnotifications" in condition["filter"]
    assert 'resource.labels.cluster_name = \\"production\\"' in condition["filter"]
    channels = resources(parsed, "google_monitoring_notification_channel")
    assert alert["notification_channels"] == [
        f"${{google_monitoring_notification_channel.{name}.id}}" for name in channels
    ]
    assert nested(alert, "alert_strategy", "notification_rate_limit")["period"] == "300s"


def test_item6_no_secret_url_in_generated_files(tmp_path: Path) -> None:
    os.environ["KUBEPROD_TEST_SECRET_URL"] = "https://hooks.example.com/secret-token-123"
    try:
        spec = spec_with(
            tmp_path,
            lambda d: d["monitoring"].update(
                alert_targets=[{"webhook_env": "KUBEPROD_TEST_SECRET_URL"}]
            ),
        )
        out = tmp_path / "out"
        parsed = render_dir(load_spec(spec), out)
    finally:
        del os.environ["KUBEPROD_TEST_SECRET_URL"]
    text = "".join(p.read_text() for p in out.glob("*.tf"))
    assert "secret-token-123" not in text
    alert = one(parsed, "google_monitoring_alert_policy", "gke_notifications")
    assert alert["notification_channels"] == [
        "${google_monitoring_notification_channel.webhook_0.id}"
    ]


def test_item7_audit_logs_scoped_to_module_services(module_dir: Path) -> None:
    text = "".join(p.read_text() for p in module_dir.glob("*.tf"))
    assert 'service = "allServices"' not in re.sub(r"\s+", " ", text)


def test_item8_stable_channel_offers_the_version(env: Environment) -> None:
    from kubeprod.spec import versions

    assert env.kubernetes.release_channel == "STABLE"
    assert versions.gke_channel_offers("STABLE", env.kubernetes.version)
    assert not versions.gke_channel_offers("STABLE", versions.newest_common())
    assert all(
        set(minors) <= set(versions.STANDARD_SUPPORT["gcp"]) | {"1.33"}
        for minors in versions.GKE_CHANNEL_MINORS.values()
    )


def test_item8_version_the_channel_does_not_offer_is_refused(tmp_path: Path) -> None:
    spec = spec_with(
        tmp_path, lambda d: d["kubernetes"].update(version="1.34", release_channel="RAPID")
    )
    with pytest.raises(SpecInvalid) as caught:
        load_spec(spec)
    problems = [p for p in caught.value.problems if "channel" in p.message]
    assert len(problems) == 1 and problems[0].rule == "K8S-1"
    assert problems[0].field == "kubernetes.version" and problems[0].line > 0
    assert "RAPID" in problems[0].message and "1.34" in problems[0].message


def test_cluster_admins_granted_container_admin(parsed: Parsed, env: Environment) -> None:
    admins = one(parsed, "google_project_iam_member", "cluster_admins")
    assert admins["role"] == "roles/container.admin"
    assert admins["member"] == "${each.value}"
    members = env.access.gcp_admin_members
    assert members and all(m in admins["for_each"] for m in members)


def test_cluster_admins_absent_renders_a_note(tmp_path: Path) -> None:
    from kubeprod.clouds.gcp_access import access_tf

    env = load_spec(str(EXAMPLE))
    env = env.model_copy(update={"access": env.access.model_copy(update={"gcp_admin_members": []})})
    blocks = access_tf(env)
    assert len(blocks) == 1 and "nobody" in str(blocks[0].text)


@pytest.mark.parametrize(
    ("edit", "field", "rule"),
    [
        (
            lambda d: d["clouds"]["gcp"].update(image_allowlist=["ok.io/a/**", "**"]),
            "clouds.gcp.image_allowlist[1]",
            "SEC-6",
        ),
        (
            lambda d: d["clouds"]["gcp"].update(image_allowlist=["https://quay.io/x/**"]),
            "clouds.gcp.image_allowlist[0]",
            "SEC-6",
        ),
    ],
    ids=["allowlist-wildcard-host", "allowlist-url"],
)
def test_gcp_image_allowlist_bad_input(tmp_path: Path, edit: Any, field: str, rule: str):
    with pytest.raises(SpecInvalid) as caught:
        load_spec(spec_with(tmp_path, edit))
    problems = [p for p in caught.value.problems if p.rule == rule]
    assert len(problems) == 1, caught.value.problems
    assert problems[0].field == field and problems[0].line > 0 and problems[0].fix
