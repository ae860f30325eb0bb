"""The Azure AKS module: the brief's values land in the rendered HCL, valid and clean."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import hcl2
import pytest

from kubeprod.clouds.azure import AzureRenderer
from kubeprod.clouds.azure_bootstrap import bootstrap_files
from kubeprod.clouds.azure_common import check_addresses
from kubeprod.clouds.azure_locals import split_range
from kubeprod.clouds.azure_monitoring import DIAGNOSTIC_CATEGORIES
from kubeprod.clouds.azure_schema import PROVIDER_KEY, azurerm_schema
from kubeprod.errors import InputError
from kubeprod.render import render_module, render_to
from kubeprod.render.output import render_texts
from kubeprod.spec import load_spec
from kubeprod.spec.model import Environment
from kubeprod.terraform.schema_check import SCHEMA_DIR, parse_module, validate_parsed

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "production.yaml"
SCHEMAS = SCHEMA_DIR


@pytest.fixture(scope="module")
def env() -> Environment:
    return load_spec(str(EXAMPLE))


@pytest.fixture(scope="module")
def module_dir(env: Environment, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("azure")
    render_to(env, "azure", "examples/production.yaml", out)
    return out


@pytest.fixture(scope="module")
def parsed(module_dir: Path) -> dict[str, dict[str, Any]]:
    return parse_module(module_dir)[0]


def _strip(value: Any) -> Any:
    """hcl2 output -> plain values: quotes off strings, block markers dropped."""
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    if isinstance(value, dict):
        return {_strip(k): _strip(v) for k, v in value.items() if not k.startswith("__")}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


def resources(parsed: dict[str, dict[str, Any]], type_: str) -> dict[str, dict[str, Any]]:
    """name -> body of every resource of `type_` in the module."""
    found: dict[str, dict[str, Any]] = {}
    for body in parsed.values():
        for group in body.get("resource", []):
            for raw_type, named in group.items():
                if _strip(raw_type) == type_:
                    for name, block in named.items():
                        found[_strip(name)] = _strip(block)
    return found


def one(parsed: dict[str, dict[str, Any]], type_: str, name: str = "this") -> dict[str, Any]:
    return resources(parsed, type_)[name]


def cluster(parsed: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return one(parsed, "azurerm_kubernetes_cluster")


def locals_zones(parsed: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return _strip(parsed["locals.tf"]["locals"][0]["zones"])


# --- structure --------------------------------------------------------------------------------


def test_files_grouped_by_concern(module_dir: Path) -> None:
    names = {p.name for p in module_dir.glob("*.tf")}
    expected = {"versions.tf", "providers.tf", "locals.tf", "network.tf", "security.tf"}
    assert expected | {"aks.tf", "monitoring.tf", "outputs.tf"} <= names


def test_versions_pin_azurerm_4_and_azurerm_backend(parsed: dict[str, dict[str, Any]]) -> None:
    terraform = _strip(parsed["versions.tf"]["terraform"][0])
    azurerm = terraform["required_providers"][0]["azurerm"]
    assert azurerm["source"] == "hashicorp/azurerm"
    assert azurerm["version"].startswith("~> 4.")
    backend = terraform["backend"][0]["azurerm"]
    assert backend["container_name"] == "tfstate" and backend["use_azuread_auth"] is True


def test_deterministic(env: Environment) -> None:
    first = render_module(env, "azure", "examples/production.yaml", "out")
    second = render_module(env, "azure", "examples/production.yaml", "out")
    assert first == second
    again = render_texts(AzureRenderer().render(load_spec(str(EXAMPLE))), "h")
    assert again == render_texts(AzureRenderer().render(env), "h")


@pytest.mark.terraform
@pytest.mark.skipif(shutil.which("terraform") is None, reason="terraform not installed")
def test_terraform_fmt_clean(module_dir: Path) -> None:
    proc = subprocess.run(
        ["terraform", "fmt", "-check", "-diff", "."],
        cwd=module_dir,
        capture_output=True,
        text=True,
        env={**os.environ, "TF_CLI_CONFIG_FILE": "/dev/null"},
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


# --- schema and policy --------------------------------------------------------------------------


def test_schema_valid_against_azurerm_4(module_dir: Path) -> None:
    parsed_files, texts = parse_module(module_dir)
    problems = validate_parsed(parsed_files, azurerm_schema(SCHEMAS / "azurerm.json"), texts=texts)
    assert problems == [], "\n".join(map(str, problems))


def test_schema_check_catches_a_broken_render(module_dir: Path, tmp_path: Path) -> None:
    for path in module_dir.glob("*.tf"):
        text = path.read_text(encoding="utf-8")
        text = text.replace("only_critical_addons_enabled", "only_critical_addons")
        (tmp_path / path.name).write_text(text, encoding="utf-8")
    parsed_files, _ = parse_module(tmp_path)
    problems = validate_parsed(parsed_files, azurerm_schema(SCHEMAS / "azurerm.json"))
    assert [p.path for p in problems] == ["default_node_pool.only_critical_addons"]


def test_schema_valid_against_azurerm_5_except_known(module_dir: Path) -> None:
    parsed_files, _ = parse_module(module_dir)
    schema = azurerm_schema(SCHEMAS / "newer-majors" / "azurerm.json")
    problems = validate_parsed(parsed_files, schema)
    # The 5.x subset holds only the types of the original module; types added since are
    # validated against 4.55 above (the complete 5.x schema is not available here).
    known_types = set(schema["provider_schemas"][PROVIDER_KEY]["resource_schemas"])
    checked = [p for p in problems if p.address.split(".")[0] in known_types]
    # azurerm 5 makes node_provisioning_profile a required block that 4.x does not have.
    assert [(p.address, p.path) for p in checked] == [
        ("azurerm_kubernetes_cluster.this", "node_provisioning_profile")
    ]
    assert all("unknown resource type" in p.problem for p in problems if p not in checked)


@pytest.mark.checkov
def test_checkov_clean_with_justified_skips(module_dir: Path) -> None:
    from kubeprod.policy.checkov import load_skips, run_checkov

    findings = run_checkov(module_dir, "azure")
    assert findings == [], "\n".join(f"{f.check_id} {f.resource} {f.name}" for f in findings)
    assert set(load_skips("azure")) == {
        "CKV_AZURE_115",
        "CKV2_AZURE_32",
        "CKV_AZURE_40",
        # issue 10: public-vault KMS (no vault firewall), managed OS disks, ingress on 80.
        "CKV_AZURE_109",
        "CKV_AZURE_189",
        "CKV_AZURE_226",
        "CKV_AZURE_160",
        "CKV2_AZURE_21",
        "CKV_AZURE_33",
    }


# --- networking ------------------------------------------------------------------------------


def test_net1_vnet_cidr(parsed: dict[str, dict[str, Any]], env: Environment) -> None:
    vnet = one(parsed, "azurerm_virtual_network")
    assert vnet["address_space"] == ["10.1.0.0/16"] == [env.network.vpc_cidr]


def test_net3_node_subnet_per_zone(parsed: dict[str, dict[str, Any]]) -> None:
    subnet = one(parsed, "azurerm_subnet", "nodes")
    assert subnet["for_each"] == "${local.zones}"
    assert subnet["address_prefixes"] == ["${each.value.node_subnet_cidr}"]
    zones = locals_zones(parsed)
    assert {z: v["node_subnet_cidr"] for z, v in zones.items()} == {
        "1": "10.1.10.0/24",
        "2": "10.1.11.0/24",
        "3": "10.1.12.0/24",
    }


def test_net2_apiserver_subnet_carved_from_public_and_delegated(
    parsed: dict[str, dict[str, Any]],
) -> None:
    subnet = one(parsed, "azurerm_subnet", "apiserver")
    assert subnet["address_prefixes"] == ["10.1.1.0/28"]
    delegation = subnet["delegation"][0]["service_delegation"][0]
    assert delegation["name"] == "Microsoft.ContainerService/managedClusters"


def test_net_nsgs_on_every_subnet(parsed: dict[str, dict[str, Any]]) -> None:
    assoc = resources(parsed, "azurerm_subnet_network_security_group_association")
    assert assoc["nodes"]["for_each"] == "${local.zones}"
    assert assoc["nodes"]["subnet_id"] == "${azurerm_subnet.nodes[each.key].id}"
    assert assoc["apiserver"]["subnet_id"] == "${azurerm_subnet.apiserver.id}"


def test_net4_nat_gateway_per_zone(parsed: dict[str, dict[str, Any]]) -> None:
    nat = one(parsed, "azurerm_nat_gateway")
    pip = one(parsed, "azurerm_public_ip", "nat")
    for block in (nat, pip):
        assert block["for_each"] == "${local.zones}"
        assert block["zones"] == ["${each.key}"]
    assert nat["sku_name"] == "Standard" and pip["sku"] == "Standard"
    assert len(locals_zones(parsed)) == 3
    link = one(parsed, "azurerm_nat_gateway_public_ip_association")
    assert link["public_ip_address_id"] == "${azurerm_public_ip.nat[each.key].id}"
    assert link["nat_gateway_id"] == "${azurerm_nat_gateway.this[each.key].id}"
    subnet_link = one(parsed, "azurerm_subnet_nat_gateway_association", "nodes")
    assert subnet_link["subnet_id"] == "${azurerm_subnet.nodes[each.key].id}"
    assert subnet_link["nat_gateway_id"] == "${azurerm_nat_gateway.this[each.key].id}"
    assert cluster(parsed)["network_profile"][0]["outbound_type"] == "userAssignedNATGateway"


def test_chr5_user_pools_pinned_one_per_zone(parsed: dict[str, dict[str, Any]]) -> None:
    pool = one(parsed, "azurerm_kubernetes_cluster_node_pool", "workload")
    assert pool["for_each"] == "${local.zones}"
    assert pool["zones"] == ["${each.key}"]
    assert pool["vnet_subnet_id"] == "${azurerm_subnet.nodes[each.key].id}"


def test_net5_three_zones(parsed: dict[str, dict[str, Any]]) -> None:
    assert sorted(locals_zones(parsed)) == ["1", "2", "3"]
    assert cluster(parsed)["default_node_pool"][0]["zones"] == ["1"]


def test_net6_overlay_pod_range_checked(env: Environment) -> None:
    check_addresses(env)
    small = env.model_copy(
        update={"network": env.network.model_copy(update={"pod_cidr": "100.64.0.0/20"})}
    )
    with pytest.raises(InputError, match="pod range"):
        check_addresses(small)
    overlap = env.model_copy(
        update={"network": env.network.model_copy(update={"pod_cidr": "10.1.128.0/17"})}
    )
    with pytest.raises(InputError, match="overlaps"):
        check_addresses(overlap)


# --- kubernetes --------------------------------------------------------------------------------


def test_chr2_standard_tier(parsed: dict[str, dict[str, Any]]) -> None:
    assert cluster(parsed)["sku_tier"] == "Standard"


def test_k8s1_version_and_patch_channel(
    parsed: dict[str, dict[str, Any]], env: Environment
) -> None:
    aks = cluster(parsed)
    assert aks["kubernetes_version"] == env.kubernetes.version == "1.35"
    assert aks["automatic_upgrade_channel"] == "patch"


def test_k8s2_system_pools_one_per_zone_min_3_in_total(parsed: dict[str, dict[str, Any]]) -> None:
    pool = cluster(parsed)["default_node_pool"][0]
    assert pool["only_critical_addons_enabled"] is True
    assert pool["vm_size"] == "Standard_D4s_v3"
    assert pool["zones"] == ["1"]
    assert pool["vnet_subnet_id"] == '${azurerm_subnet.nodes["1"].id}'
    assert pool["min_count"] == '${local.zones["1"].system_min}'
    assert pool["auto_scaling_enabled"] is True
    others = one(parsed, "azurerm_kubernetes_cluster_node_pool", "system")
    assert others["mode"] == "System" and others["priority"] == "Regular"
    assert others["zones"] == ["${each.key}"]
    assert others["vnet_subnet_id"] == "${azurerm_subnet.nodes[each.key].id}"
    assert others["node_taints"] == ["CriticalAddonsOnly=true:NoSchedule"]
    assert others["vm_size"] == "Standard_D4s_v3"
    assert '"1"' in others["for_each"] and "!=" in others["for_each"]
    zones = locals_zones(parsed)
    assert sorted(zones) == ["1", "2", "3"]
    assert sum(z["system_min"] for z in zones.values()) == 3
    assert all(z["system_min"] >= 1 for z in zones.values())


def test_k8s3_workload_pools_sum_to_range(parsed: dict[str, dict[str, Any]]) -> None:
    pool = one(parsed, "azurerm_kubernetes_cluster_node_pool", "workload")
    assert pool["min_count"] == "${each.value.workload_min}"
    assert pool["max_count"] == "${each.value.workload_max}"
    assert pool["auto_scaling_enabled"] is True and pool["mode"] == "User"
    zones = locals_zones(parsed).values()
    assert sum(z["workload_min"] for z in zones) == 3
    assert sum(z["workload_max"] for z in zones) == 20
    assert all(z["workload_min"] <= z["workload_max"] for z in zones)


def test_split_range_sums() -> None:
    for low, high, parts in [(3, 20, 3), (0, 5, 3), (4, 4, 2), (7, 31, 4)]:
        split = split_range(low, high, parts)
        assert sum(a for a, _ in split) == low and sum(b for _, b in split) == high
        assert max(a for a, _ in split) - min(a for a, _ in split) <= 1


def test_chr4_never_spot(parsed: dict[str, dict[str, Any]], module_dir: Path) -> None:
    for pool in resources(parsed, "azurerm_kubernetes_cluster_node_pool").values():
        assert pool["priority"] == "Regular"
        assert "eviction_policy" not in pool and "spot_max_price" not in pool
    assert '"Spot"' not in "".join(p.read_text() for p in module_dir.glob("*.tf"))


def test_chr4_spot_spec_refused(env: Environment) -> None:
    workload = env.node_groups.workload.model_copy(update={"capacity_type": "spot"})
    groups = env.node_groups.model_copy(update={"workload": workload})
    with pytest.raises(InputError, match="CHR-4"):
        AzureRenderer().render(env.model_copy(update={"node_groups": groups}))


def test_k8s4_k8s5_api_server_vnet_integration_and_allow_list(
    parsed: dict[str, dict[str, Any]], env: Environment
) -> None:
    aks = cluster(parsed)
    profile = aks["api_server_access_profile"][0]
    assert profile["virtual_network_integration_enabled"] is True
    assert profile["subnet_id"] == "${azurerm_subnet.apiserver.id}"
    assert profile["authorized_ip_ranges"] == list(env.api_endpoint.public_allowed_cidrs)
    assert profile["authorized_ip_ranges"] == ["203.0.113.0/24"]
    assert aks["private_cluster_enabled"] is False


def test_sec2_allow_list_follows_spec(env: Environment) -> None:
    cidrs = ["198.51.100.0/24", "192.0.2.10/32"]
    changed = env.model_copy(
        update={"api_endpoint": env.api_endpoint.model_copy(update={"public_allowed_cidrs": cidrs})}
    )
    text = render_module(changed, "azure", "s.yaml", "o")["aks.tf"]
    aks = _strip(hcl2.loads(text)["resource"][0]['"azurerm_kubernetes_cluster"']['"this"'])
    assert aks["api_server_access_profile"][0]["authorized_ip_ranges"] == cidrs


def test_identity_entra_rbac_workload_identity(parsed: dict[str, dict[str, Any]]) -> None:
    aks = cluster(parsed)
    assert aks["local_account_disabled"] is True
    assert aks["azure_active_directory_role_based_access_control"][0]["azure_rbac_enabled"] is True
    assert aks["oidc_issuer_enabled"] is True and aks["workload_identity_enabled"] is True


def test_sec5_cni_overlay_with_network_policy(parsed: dict[str, dict[str, Any]]) -> None:
    network = cluster(parsed)["network_profile"][0]
    assert network["network_plugin"] == "azure"
    assert network["network_plugin_mode"] == "overlay"
    # Azure CNI powered by Cilium by default: NPM's Linux support is ending
    # (use-network-policies.md); network_policy and the dataplane go together.
    assert network["network_policy"] == network["network_data_plane"] == "cilium"


def test_chr6_autoscaler_profile_from_spec(
    parsed: dict[str, dict[str, Any]], env: Environment
) -> None:
    profile = cluster(parsed)["auto_scaler_profile"][0]
    assert profile["scale_down_delay_after_add"] == "30m"
    assert profile["scale_down_unneeded"] == "30m"
    assert profile["scale_down_utilization_threshold"] == "0.4"
    assert profile["balance_similar_node_groups"] is True
    slower = env.model_copy(
        update={"autoscaler": env.autoscaler.model_copy(update={"scale_down_unneeded_time": "1h"})}
    )
    assert (
        'scale_down_unneeded              = "60m"'
        in render_module(slower, "azure", "s", "o")["aks.tf"]
    )


# --- security ----------------------------------------------------------------------------------


def test_sec8_kms_with_user_assigned_identity(parsed: dict[str, dict[str, Any]]) -> None:
    aks = cluster(parsed)
    kms = aks["key_management_service"][0]
    assert kms["key_vault_key_id"] == "${azurerm_key_vault_key.etcd.id}"
    assert aks["identity"][0]["type"] == "UserAssigned"
    key = one(parsed, "azurerm_key_vault_key", "etcd")
    assert key["key_type"] == "RSA-HSM"
    assert key["lifecycle"][0]["prevent_destroy"] is True


def test_sec8_key_vault_protected(parsed: dict[str, dict[str, Any]]) -> None:
    vault = one(parsed, "azurerm_key_vault")
    assert vault["purge_protection_enabled"] is True
    assert vault["soft_delete_retention_days"] >= 7
    assert vault["rbac_authorization_enabled"] is True
    # Public-vault KMS: no vault firewall (it blocks the KMS plugin); RBAC is the gate.
    assert vault["network_acls"][0]["default_action"] == "Allow"
    assert vault["public_network_access_enabled"] is True
    assert vault["lifecycle"][0]["prevent_destroy"] is True


def test_sec3_disk_encryption_set_and_host_encryption(parsed: dict[str, dict[str, Any]]) -> None:
    aks = cluster(parsed)
    assert aks["disk_encryption_set_id"] == "${azurerm_disk_encryption_set.this.id}"
    des = one(parsed, "azurerm_disk_encryption_set")
    assert des["key_vault_key_id"] == "${azurerm_key_vault_key.disk.versionless_id}"
    assert aks["default_node_pool"][0]["host_encryption_enabled"] is True
    for pool in resources(parsed, "azurerm_kubernetes_cluster_node_pool").values():
        assert pool["host_encryption_enabled"] is True


def test_sec4_node_image_channel_and_maintenance_windows(
    parsed: dict[str, dict[str, Any]],
) -> None:
    aks = cluster(parsed)
    assert aks["node_os_upgrade_channel"] == "NodeImage"
    upgrade = aks["maintenance_window_auto_upgrade"][0]
    node_os = aks["maintenance_window_node_os"][0]
    assert (upgrade["day_of_week"], upgrade["start_time"], upgrade["duration"]) == (
        "Tuesday",
        "02:00",
        4,
    )
    assert node_os["day_of_week"] == "Wednesday" and node_os["frequency"] == "Weekly"
    assert upgrade["utc_offset"] == "+00:00"  # Europe/London, standard time
    allowed = {a["day"]: a["hours"] for a in aks["maintenance_window"][0]["allowed"]}
    assert allowed == {d: [2, 3, 4, 5] for d in ("Tuesday", "Wednesday", "Thursday")}


def test_sec6_azure_policy_and_pod_security(parsed: dict[str, dict[str, Any]]) -> None:
    assert cluster(parsed)["azure_policy_enabled"] is True
    assignment = one(parsed, "azurerm_resource_policy_assignment", "pod_security_restricted")
    assert assignment["resource_id"] == "${azurerm_kubernetes_cluster.this.id}"
    assert assignment["policy_definition_id"].endswith("42b8ef37-b724-4e24-bbc8-7a7708edfe00")


def test_chr1_prevent_destroy_and_resource_group_lock(parsed: dict[str, dict[str, Any]]) -> None:
    assert cluster(parsed)["lifecycle"][0]["prevent_destroy"] is True
    assert one(parsed, "azurerm_key_vault_key", "disk")["lifecycle"][0]["prevent_destroy"] is True
    lock = one(parsed, "azurerm_management_lock", "resource_group")
    assert lock["lock_level"] == "CanNotDelete"
    assert lock["scope"] == "${azurerm_resource_group.this.id}"


# --- logging and monitoring --------------------------------------------------------------------


def test_k8s7_sec7_diagnostic_categories(parsed: dict[str, dict[str, Any]]) -> None:
    setting = one(parsed, "azurerm_monitor_diagnostic_setting", "aks")
    categories = [log["category"] for log in setting["enabled_log"]]
    assert categories == list(DIAGNOSTIC_CATEGORIES)
    assert "kube-audit-admin" in categories and "guard" in categories
    assert setting["target_resource_id"] == "${azurerm_kubernetes_cluster.this.id}"
    workspace = one(parsed, "azurerm_log_analytics_workspace")
    assert workspace["retention_in_days"] == 365


def test_chr7_container_insights_metrics_and_alerts(
    parsed: dict[str, dict[str, Any]], env: Environment
) -> None:
    aks = cluster(parsed)
    assert aks["oms_agent"][0]["msi_auth_for_monitoring_enabled"] is True
    assert "monitor_metrics" in aks
    group = one(parsed, "azurerm_monitor_action_group", "oncall")
    emails = [r["email_address"] for r in group["email_receiver"]]
    assert emails == [t.email for t in env.monitoring.alert_targets if t.email]
    alerts = resources(parsed, "azurerm_monitor_metric_alert")
    assert len(alerts) >= 3
    for alert in alerts.values():
        assert alert["action"][0]["action_group_id"] == "${azurerm_monitor_action_group.oncall.id}"
        assert alert["scopes"] == ["${azurerm_kubernetes_cluster.this.id}"]


def test_webhook_targets_become_sensitive_variable(env: Environment) -> None:
    from kubeprod.spec.model import AlertTarget

    monitoring = env.monitoring.model_copy(
        update={"alert_targets": [AlertTarget(webhook_env="ONCALL_HOOK")]}
    )
    texts = render_module(env.model_copy(update={"monitoring": monitoring}), "azure", "s", "o")
    assert 'var.alert_webhook_urls["ONCALL_HOOK"]' in texts["monitoring.tf"]
    assert "sensitive   = true" in texts["variables.tf"]


# --- bootstrap ---------------------------------------------------------------------------------


def test_bootstrap_state_storage(env: Environment, tmp_path: Path) -> None:
    texts = render_texts(bootstrap_files(env), "bootstrap")
    for name, text in texts.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    parsed_files, _ = parse_module(tmp_path)
    account = one(parsed_files, "azurerm_storage_account", "state")
    blob = account["blob_properties"][0]
    assert blob["versioning_enabled"] is True
    assert blob["delete_retention_policy"][0]["days"] >= 7
    assert account["shared_access_key_enabled"] is False
    problems = validate_parsed(parsed_files, azurerm_schema(SCHEMAS / "azurerm.json"))
    assert problems == [], "\n".join(map(str, problems))
    main = render_module(env, "azure", "s", "o")["versions.tf"]
    assert f'storage_account_name = "{account["name"]}"' in main


def test_no_azure_section_is_a_clear_error(env: Environment) -> None:
    bare = env.model_copy(update={"clouds": env.clouds.model_copy(update={"azure": None})})
    with pytest.raises(InputError, match=r"clouds\.azure"):
        AzureRenderer().render(bare)


# --- issue 10: what a real Azure apply needs ------------------------------------------------------


def test_time_provider_declared_and_time_sleep_schema_checked(
    parsed: dict[str, dict[str, Any]], module_dir: Path, tmp_path: Path
) -> None:
    terraform = _strip(parsed["versions.tf"]["terraform"][0])
    assert terraform["required_providers"][0]["time"]["source"] == "hashicorp/time"
    sleeps = resources(parsed, "time_sleep")
    assert set(sleeps) == {"deployer_rbac", "cluster_rbac"}
    for path in module_dir.glob("*.tf"):
        text = path.read_text(encoding="utf-8").replace("create_duration", "create_durations")
        (tmp_path / path.name).write_text(text, encoding="utf-8")
    problems = validate_parsed(parse_module(tmp_path)[0], azurerm_schema(SCHEMAS / "azurerm.json"))
    assert {(p.address, p.path) for p in problems} == {
        ("time_sleep.deployer_rbac", "create_durations"),
        ("time_sleep.cluster_rbac", "create_durations"),
    }


def test_rbac_waits_before_keys_and_cluster(parsed: dict[str, dict[str, Any]]) -> None:
    sleeps = resources(parsed, "time_sleep")
    assert sleeps["deployer_rbac"]["depends_on"] == [
        "${azurerm_role_assignment.deployer_crypto_officer}"
    ]
    assert set(sleeps["cluster_rbac"]["depends_on"]) == {
        f"${{azurerm_role_assignment.{n}}}"
        for n in ("cluster_kms", "cluster_network", "des_crypto", "cluster_des_reader")
    }
    for key in ("etcd", "disk"):
        assert one(parsed, "azurerm_key_vault_key", key)["depends_on"] == [
            "${time_sleep.deployer_rbac}"
        ]
    assert "${time_sleep.cluster_rbac}" in cluster(parsed)["depends_on"]


def test_kms_public_vault_mode_and_versioned_key(parsed: dict[str, dict[str, Any]]) -> None:
    kms = cluster(parsed)["key_management_service"][0]
    assert kms["key_vault_network_access"] == "Public"
    assert kms["key_vault_key_id"] == "${azurerm_key_vault_key.etcd.id}"
    roles = {
        r["role_definition_name"] for r in resources(parsed, "azurerm_role_assignment").values()
    }
    assert "Key Vault Contributor" not in roles  # only the private mode needs it
    rotation = one(parsed, "azurerm_key_vault_key", "etcd")["rotation_policy"][0]
    assert "expire_after" not in rotation and rotation["automatic"]


def test_managed_os_disks_and_run_command_off(parsed: dict[str, dict[str, Any]]) -> None:
    aks = cluster(parsed)
    assert aks["run_command_enabled"] is False
    assert aks["default_node_pool"][0]["os_disk_type"] == "Managed"
    for pool in resources(parsed, "azurerm_kubernetes_cluster_node_pool").values():
        assert pool["os_disk_type"] == "Managed"
    assert one(parsed, "azurerm_disk_encryption_set")["auto_key_rotation_enabled"] is True


def test_encryption_at_host_registered_as_code(parsed: dict[str, dict[str, Any]]) -> None:
    registration = one(parsed, "azurerm_resource_provider_registration", "compute")
    assert registration["name"] == "Microsoft.Compute"
    assert registration["feature"] == [{"name": "EncryptionAtHost", "registered": True}]
    assert "${azurerm_resource_provider_registration.compute}" in cluster(parsed)["depends_on"]
    provider = _strip(parsed["providers.tf"]["provider"][0])["azurerm"]
    assert provider["resource_provider_registrations"] == "none"
    assert "Microsoft.Compute" not in provider["resource_providers_to_register"]
    assert "Microsoft.ContainerService" in provider["resource_providers_to_register"]
    imports = _strip(parsed["security.tf"]["import"][0])
    assert imports["to"] == "${azurerm_resource_provider_registration.compute}"


def test_admin_groups_from_both_spec_fields(env: Environment) -> None:
    from kubeprod.clouds.azure_security import admin_groups

    access = env.access.model_copy(update={"azure_admin_group_object_ids": ["g1", "g2"]})
    azure = env.clouds.azure.model_copy(update={"admin_group_object_ids": ["g2", "g3"]})
    clouds = env.clouds.model_copy(update={"azure": azure})
    both = env.model_copy(update={"access": access, "clouds": clouds})
    assert admin_groups(both) == ["g1", "g2", "g3"]
    text = render_module(both, "azure", "x.yaml", "out")
    security = next(v for k, v in text.items() if k.endswith("security.tf"))
    assert 'for_each             = toset(["g1", "g2", "g3"])' in str(security)


def test_admin_role_assignments(parsed: dict[str, dict[str, Any]]) -> None:
    admin = one(parsed, "azurerm_role_assignment", "cluster_admin")
    assert admin["role_definition_name"] == "Azure Kubernetes Service RBAC Cluster Admin"
    assert admin["scope"] == "${azurerm_kubernetes_cluster.this.id}"
    assert admin["principal_type"] == "Group"
    user = one(parsed, "azurerm_role_assignment", "cluster_admin_user")
    assert user["role_definition_name"] == "Azure Kubernetes Service Cluster User Role"
    rbac = cluster(parsed)["azure_active_directory_role_based_access_control"][0]
    assert rbac["azure_rbac_enabled"] is True and "admin_group_object_ids" not in rbac


def test_nsg_rules_for_api_server_vnet_integration_and_ingress(
    parsed: dict[str, dict[str, Any]],
) -> None:
    api = {r["name"]: r for r in one(parsed, "azurerm_network_security_group", "apiserver")[
        "security_rule"]}  # fmt: skip
    assert api["allow-nodes-api"]["destination_port_ranges"] == ["443", "4443"]
    assert api["allow-nodes-api"]["source_address_prefixes"] == [
        "10.1.10.0/24", "10.1.11.0/24", "10.1.12.0/24"
    ]  # fmt: skip
    assert api["allow-lb-probe-api"]["source_address_prefix"] == "AzureLoadBalancer"
    assert api["allow-lb-probe-api"]["destination_port_range"] == "9988"
    assert api["allow-authorized-api"]["source_address_prefixes"] == ["203.0.113.0/24"]
    assert all(r["priority"] < api["deny-internet-inbound"]["priority"]
               for n, r in api.items() if n.startswith("allow"))  # fmt: skip
    nodes = {r["name"]: r for r in one(parsed, "azurerm_network_security_group", "nodes")[
        "security_rule"]}  # fmt: skip
    assert nodes["allow-internet-ingress"]["destination_port_ranges"] == ["80", "443"]


def test_chr7_prometheus_and_container_insights_wired(parsed: dict[str, dict[str, Any]]) -> None:
    prom = one(parsed, "azurerm_monitor_data_collection_rule", "prometheus")
    assert prom["data_flow"][0]["streams"] == ["Microsoft-PrometheusMetrics"]
    assert prom["destinations"][0]["monitor_account"][0]["monitor_account_id"] == (
        "${azurerm_monitor_workspace.this.id}"
    )
    ci = one(parsed, "azurerm_monitor_data_collection_rule", "container_insights")
    assert ci["data_sources"][0]["extension"][0]["extension_name"] == "ContainerInsights"
    associations = resources(parsed, "azurerm_monitor_data_collection_rule_association")
    assert {a["target_resource_id"] for a in associations.values()} == {
        "${azurerm_kubernetes_cluster.this.id}"
    }
    assert associations["prometheus_endpoint"]["name"] == "configurationAccessEndpoint"
    rules = one(parsed, "azurerm_monitor_alert_prometheus_rule_group", "node")["rule"]
    assert len(rules) >= 3 and all(r["record"] for r in rules)


def test_compute_registration_import_id_uses_the_spec_subscription(env: Environment) -> None:
    from kubeprod.clouds.azure_security import compute_provider_id

    sub = "11111111-2222-3333-4444-555555555555"
    azure = env.clouds.azure.model_copy(update={"subscription_id": sub})
    pinned = env.model_copy(update={"clouds": env.clouds.model_copy(update={"azure": azure})})
    assert compute_provider_id(pinned) == f"/subscriptions/{sub}/providers/Microsoft.Compute"
    assert "data.azurerm_client_config.current" in str(compute_provider_id(env))
