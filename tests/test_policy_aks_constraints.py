"""Issue 10, Azure: each documented AKS constraint, put back into a correct render, fails
`kubeprod check` on the rule that protects it; the correct render passes.

The constraints and their sources are in kubeprod/policy/rules/aks.py and docs/azure.md.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import EXAMPLE, mutate

from kubeprod.policy.engine import check_directory

AKS = "azurerm_kubernetes_cluster.this"
VAULT = "azurerm_key_vault.this"
NSG_API = "azurerm_network_security_group.apiserver"

PRIVATE_ENDPOINT = """
resource "azurerm_private_endpoint" "vault" {
  name                = "pe-vault"
  location            = "westeurope"
  resource_group_name = "rg"
  subnet_id           = azurerm_subnet.nodes["1"].id

  private_service_connection {
    name                           = "vault"
    private_connection_resource_id = azurerm_key_vault.this.id
    subresource_names              = ["vault"]
    is_manual_connection           = false
  }
}
"""

# (rule, [(resource or file, old, new)], failing address): one documented mistake each.
MISTAKES = {
    # 1. KMS: public mode behind a vault firewall / with public access off; private mode
    #    with an open vault and no private endpoint.
    "kms-public-vault-firewall": (
        "SEC-8",
        [(VAULT, 'default_action = "Allow"', 'default_action = "Deny"')],
        VAULT,
    ),
    "kms-public-vault-public-access-off": (
        "SEC-8",
        [(VAULT, "public_network_access_enabled = true", "public_network_access_enabled = false")],
        VAULT,
    ),
    "kms-private-mode-open-vault": (
        "SEC-8",
        [(AKS, 'key_vault_network_access = "Public"', 'key_vault_network_access = "Private"')],
        VAULT,
    ),
    # 2. Role assignments race key and cluster creation.
    "key-races-role-assignment": (
        "SEC-8",
        [
            (
                "azurerm_key_vault_key.etcd",
                "depends_on = [time_sleep.deployer_rbac]",
                "depends_on = [azurerm_role_assignment.deployer_crypto_officer]",
            )
        ],
        "azurerm_key_vault_key.etcd",
    ),
    "cluster-races-role-assignment": (
        "SEC-8",
        [(AKS, "time_sleep.cluster_rbac,", "azurerm_role_assignment.cluster_kms,")],
        AKS,
    ),
    "sleep-misses-an-assignment": (
        "SEC-8",
        [("time_sleep.cluster_rbac", "azurerm_role_assignment.cluster_kms,", "")],
        AKS,
    ),
    # 3. Managed Prometheus and Container Insights not wired.
    "prometheus-rule-not-associated": (
        "CHR-7",
        [
            (
                "azurerm_monitor_data_collection_rule_association.prometheus",
                "azurerm_monitor_data_collection_rule.prometheus.id",
                "azurerm_monitor_data_collection_rule.container_insights.id",
            )
        ],
        AKS,
    ),
    "prometheus-endpoint-not-associated": (
        "CHR-7",
        [
            (
                "azurerm_monitor_data_collection_rule_association.prometheus_endpoint",
                "target_resource_id = azurerm_kubernetes_cluster.this.id",
                "target_resource_id = azurerm_monitor_workspace.this.id",
            )
        ],
        AKS,
    ),
    "container-insights-rule-missing": (
        "CHR-7",
        [
            (
                "azurerm_monitor_data_collection_rule.container_insights",
                'streams = ["Microsoft-ContainerInsights-Group-Default"]',
                'streams = ["Microsoft-Perf"]',
            )
        ],
        AKS,
    ),
    # 5. Ephemeral OS disks with automatic disk-key rotation.
    "ephemeral-os-disk-with-rotation": (
        "SEC-3",
        [
            (
                "azurerm_kubernetes_cluster_node_pool.workload",
                'os_disk_type = "Managed"',
                'os_disk_type = "Ephemeral"',
            )
        ],
        'azurerm_kubernetes_cluster_node_pool.workload["1"]',
    ),
    "ephemeral-system-pool-with-rotation": (
        "SEC-3",
        [(AKS, 'os_disk_type = "Managed"', 'os_disk_type = "Ephemeral"')],
        AKS,
    ),
    # 6. KMS key rotation: versionless ID, no rotation, expiring versions.
    "kms-versionless-key": (
        "SEC-8",
        [(AKS, "azurerm_key_vault_key.etcd.id", "azurerm_key_vault_key.etcd.versionless_id")],
        AKS,
    ),
    "kms-key-never-rotates": (
        "SEC-8",
        [("azurerm_key_vault_key.etcd", 'automatic { time_after_creation = "P365D" }', "")],
        "azurerm_key_vault_key.etcd",
    ),
    "kms-key-versions-expire": (
        "SEC-8",
        [
            (
                "azurerm_key_vault_key.etcd",
                "rotation_policy {",
                'rotation_policy {\n expire_after = "P400D"',
            )
        ],
        "azurerm_key_vault_key.etcd",
    ),
    # 7. NSGs against API Server VNet Integration traffic and public LoadBalancer Services.
    "apiserver-nsg-blocks-nodes": (
        "K8S-4",
        [
            (NSG_API, 'name = "allow-nodes-api"', 'name = "allow-nodes-api"\n access = "Deny"'),
            (
                NSG_API,
                'access = "Allow"\n protocol = "Tcp"\n source_port_range = "*"\n'
                ' destination_port_ranges = ["443", "4443"]',
                'protocol = "Tcp"\n'
                ' source_port_range = "*"\n destination_port_ranges = ["443", "4443"]',
            ),
        ],
        NSG_API,
    ),
    "apiserver-nsg-blocks-lb-probe": (
        "K8S-4",
        [
            (NSG_API, 'destination_port_range = "9988"', 'destination_port_range = "1"'),
            (NSG_API, 'source_address_prefix = "Internet"', 'source_address_prefix = "*"'),
        ],
        NSG_API,
    ),
    "apiserver-nsg-blocks-allow-list": (
        "K8S-5",
        [
            (
                NSG_API,
                'source_address_prefixes = ["203.0.113.0/24"]',
                'source_address_prefixes = ["198.51.100.0/24"]',
            )
        ],
        NSG_API,
    ),
    "node-nsg-blocks-ingress": (
        "NET-2",
        [
            (
                "azurerm_network_security_group.nodes",
                'destination_port_ranges = ["80", "443"]',
                'destination_port_ranges = ["8080"]',
            )
        ],
        'azurerm_network_security_group.nodes["1"]',
    ),
    # 8. Run command on; EncryptionAtHost not registered as code or not waited for.
    "run-command-on": (
        "SEC-2",
        [(AKS, "run_command_enabled = false", "run_command_enabled = true")],
        AKS,
    ),
    "encryption-at-host-not-registered": (
        "SEC-3",
        [
            (
                "azurerm_resource_provider_registration.compute",
                "registered = true",
                "registered = false",
            )
        ],
        AKS,
    ),
    "cluster-ignores-registration": (
        "SEC-3",
        [(AKS, "azurerm_resource_provider_registration.compute,", "")],
        AKS,
    ),
    # 4. Local accounts off and no admin: the endpoint admits nobody (K8S-5).
    "no-admin-at-all": (
        "K8S-5",
        [
            (
                "azurerm_role_assignment.cluster_admin",
                "scope = azurerm_kubernetes_cluster.this.id",
                "scope = azurerm_resource_group.this.id",
            ),
            (
                "azurerm_role_assignment.cluster_admin",
                "Azure Kubernetes Service RBAC Cluster Admin",
                "Azure Kubernetes Service RBAC Reader",
            ),
        ],
        AKS,
    ),
}


@pytest.fixture(scope="module")
def azure_render(tmp_path_factory):
    from kubeprod.render import render_module
    from kubeprod.render.output import write_module
    from kubeprod.spec import load_spec

    directory = tmp_path_factory.mktemp("azure")
    env = load_spec(EXAMPLE)
    write_module(render_module(env, "azure", str(EXAMPLE), str(directory)), directory)
    return directory


def _copy(azure_render: Path, tmp_path: Path) -> Path:
    work = tmp_path / "azure"
    shutil.copytree(azure_render, work)
    return work


def test_correct_render_passes_every_constraint(azure_render):
    report = check_directory(azure_render)
    assert report.passed, report.summary()
    checked = {f.rule_id for f in report.findings if f.status == "pass"}
    assert {"SEC-2", "SEC-3", "SEC-8", "CHR-7", "K8S-4", "K8S-5", "NET-2"} <= checked


@pytest.mark.parametrize("name", sorted(MISTAKES))
def test_mistake_fails_the_gate(azure_render, tmp_path, name):
    rule_id, edits, address = MISTAKES[name]
    work = _copy(azure_render, tmp_path)
    for where, old, new in edits:
        mutate(work, where, old, new)
    report = check_directory(work)
    failed = [f for f in report.findings if f.rule_id == rule_id and f.status == "fail"]
    assert not report.passed, name
    assert address in {f.address for f in failed}, [(f.address, f.message) for f in failed]


def test_private_kms_mode_done_right_passes(azure_render, tmp_path):
    """The other documented KMS mode end to end: private vault + private endpoint."""
    work = _copy(azure_render, tmp_path)
    mutate(work, AKS, 'key_vault_network_access = "Public"', 'key_vault_network_access = "Private"')
    mutate(
        work, VAULT, "public_network_access_enabled = true", "public_network_access_enabled = false"
    )
    (work / "private_endpoint.tf").write_text(PRIVATE_ENDPOINT)
    sec8 = [f for f in check_directory(work).findings if f.rule_id == "SEC-8"]
    assert all(f.status == "pass" for f in sec8), [f.message for f in sec8 if f.status != "pass"]


def test_admin_group_route_passes(azure_render, tmp_path):
    """aks-baseline's other route: admin groups in the Entra ID block instead of roles."""
    work = _copy(azure_render, tmp_path)
    mutate(
        work,
        "azurerm_role_assignment.cluster_admin",
        "Azure Kubernetes Service RBAC Cluster Admin",
        "Azure Kubernetes Service RBAC Reader",
    )
    mutate(
        work,
        AKS,
        "azure_rbac_enabled = true",
        "azure_rbac_enabled = true\n"
        'admin_group_object_ids = ["00000000-0000-0000-0000-000000000001"]',
    )
    assert check_directory(work).rule_status()["K8S-5"] == "pass"


def test_nsg_evaluation_follows_priority():
    from kubeprod.policy.plan_model import Resource
    from kubeprod.policy.rules.aks import nsg_admits

    def rule(name, priority, access, source, port):
        return {"name": name, "priority": priority, "access": access, "direction": "Inbound",
                "protocol": "Tcp", "source_address_prefix": source,
                "destination_port_range": port}  # fmt: skip

    nsg = Resource(
        "n",
        "azurerm_network_security_group",
        "n",
        {
            "security_rule": [
                rule("deny", 300, "Deny", "Internet", "*"),
                rule("allow", 200, "Allow", "Internet", "443"),
            ]
        },
    )
    assert nsg_admits(nsg, "203.0.113.0/24", 443, {"Internet"}) == (True, "allow")
    assert nsg_admits(nsg, "203.0.113.0/24", 80, {"Internet"}) == (False, "deny")
    assert nsg_admits(nsg, "10.1.10.0/24", 4443, {"VirtualNetwork"}) == (True, "AllowVnetInBound")
    assert nsg_admits(nsg, "AzureLoadBalancer", 9988, {"AzureLoadBalancer"})[0] is True
