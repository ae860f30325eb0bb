"""The offline provider-schema validator: passes valid modules, catches broken ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubeprod.terraform.schema_check import SCHEMA_DIR, SchemaProblem, validate_module

SCHEMAS = SCHEMA_DIR
AZURERM = SCHEMAS / "azurerm.json"
AWS = SCHEMAS / "aws.json"
GOOGLE = SCHEMAS / "google.json"


VALID_AZURE = """
resource "azurerm_resource_group" "this" {
  name     = "rg"
  location = "westeurope"
}

resource "azurerm_network_security_group" "nodes" {
  for_each            = toset(["1", "2"])
  name                = "nsg-${each.key}"
  location            = azurerm_resource_group.this.location
  resource_group_name = azurerm_resource_group.this.name

  security_rule {
    name                       = "deny"
    priority                   = 4096
    direction                  = "Inbound"
    access                     = "Deny"
    protocol                   = "*"
    source_port_range          = "*"
    destination_port_range     = "*"
    source_address_prefix      = "*"
    destination_address_prefix = "*"
  }

  lifecycle {
    prevent_destroy = true
  }

  timeouts {
    create = "30m"
  }
}

resource "azurerm_kubernetes_cluster" "this" {
  name                = "aks"
  location            = "westeurope"
  resource_group_name = "rg"
  dns_prefix          = "aks"
  depends_on          = [azurerm_resource_group.this]

  default_node_pool {
    name    = "system"
    vm_size = "Standard_D4s_v3"
  }

  identity {
    type = "SystemAssigned"
  }

  dynamic "maintenance_window" {
    for_each = [1]
    content {
      allowed {
        day   = "Tuesday"
        hours = [2, 3]
      }
    }
  }
}

data "azurerm_client_config" "current" {}

resource "terraform_data" "marker" {
  input = "x"
}
"""


def _write(tmp_path: Path, text: str, name: str = "main.tf") -> Path:
    (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


def _problems(tmp_path: Path, text: str, schema: Path = AZURERM) -> list[SchemaProblem]:
    return validate_module(_write(tmp_path, text), schema)


def test_valid_module_has_no_problems(tmp_path: Path) -> None:
    assert _problems(tmp_path, VALID_AZURE) == []


def test_misspelled_attribute_is_reported_with_suggestion(tmp_path: Path) -> None:
    broken = VALID_AZURE.replace('dns_prefix          = "aks"', 'dns_prefx = "aks"')
    problems = _problems(tmp_path, broken)
    assert len(problems) == 1
    problem = problems[0]
    assert problem.file == "main.tf"
    assert problem.address == "azurerm_kubernetes_cluster.this"
    assert problem.path == "dns_prefx"
    assert "dns_prefix" in problem.problem
    assert problem.line > 0
    assert "main.tf:" in str(problem)


def test_missing_required_attribute(tmp_path: Path) -> None:
    broken = VALID_AZURE.replace('    name    = "system"\n', "")
    problems = _problems(tmp_path, broken)
    assert [(p.address, p.path) for p in problems] == [
        ("azurerm_kubernetes_cluster.this", "default_node_pool.name")
    ]
    assert "required" in problems[0].problem


def test_missing_required_block(tmp_path: Path) -> None:
    start = VALID_AZURE.index("  default_node_pool {")
    end = VALID_AZURE.index("  identity {")
    problems = _problems(tmp_path, VALID_AZURE[:start] + VALID_AZURE[end:])
    assert [p.path for p in problems] == ["default_node_pool"]


def test_wrong_nesting_attribute_in_wrong_block(tmp_path: Path) -> None:
    # vm_size belongs inside default_node_pool, not at the top of the cluster.
    broken = VALID_AZURE.replace(
        '  dns_prefix          = "aks"', '  dns_prefix          = "aks"\n  vm_size = "x"'
    )
    problems = _problems(tmp_path, broken)
    assert [p.path for p in problems] == ["vm_size"]


def test_block_written_as_attribute_and_attribute_as_block(tmp_path: Path) -> None:
    broken = VALID_AZURE.replace(
        '  identity {\n    type = "SystemAssigned"\n  }',
        '  identity = { type = "SystemAssigned" }\n  tags {\n    a = "b"\n  }',
    )
    problems = _problems(tmp_path, broken)
    by_path = {p.path: p.problem for p in problems}
    assert "is a block" in by_path["identity"]
    assert "is an attribute" in by_path["tags"]


def test_unknown_resource_type(tmp_path: Path) -> None:
    broken = VALID_AZURE + '\nresource "azurerm_kubernetes_clustr" "x" {\n  name = "a"\n}\n'
    problems = _problems(tmp_path, broken)
    assert len(problems) == 1
    assert problems[0].address == "azurerm_kubernetes_clustr.x"
    assert "unknown resource type" in problems[0].problem
    assert "azurerm_kubernetes_cluster" in problems[0].problem


def test_max_items_exceeded(tmp_path: Path) -> None:
    broken = VALID_AZURE.replace(
        '  identity {\n    type = "SystemAssigned"\n  }',
        '  identity {\n    type = "SystemAssigned"\n  }\n\n'
        '  identity {\n    type = "SystemAssigned"\n  }',
    )
    problems = _problems(tmp_path, broken)
    assert [p.path for p in problems] == ["identity"]
    assert "at most 1" in problems[0].problem


def test_read_only_attribute_cannot_be_set(tmp_path: Path) -> None:
    broken = VALID_AZURE.replace(
        '  dns_prefix          = "aks"', '  dns_prefix          = "aks"\n  fqdn = "x"'
    )
    problems = _problems(tmp_path, broken)
    assert [p.path for p in problems] == ["fqdn"]
    assert "read-only" in problems[0].problem


def test_dynamic_block_content_is_checked(tmp_path: Path) -> None:
    broken = VALID_AZURE.replace('day   = "Tuesday"', 'dayz  = "Tuesday"')
    problems = _problems(tmp_path, broken)
    paths = sorted(p.path for p in problems)
    assert paths == [
        "dynamic.maintenance_window.allowed.day",
        "dynamic.maintenance_window.allowed.dayz",
    ]


def test_unknown_lifecycle_argument(tmp_path: Path) -> None:
    broken = VALID_AZURE.replace("prevent_destroy = true", "prevent_destroyed = true")
    problems = _problems(tmp_path, broken)
    assert [p.path for p in problems] == ["lifecycle.prevent_destroyed"]


def test_list_of_object_attribute_as_block_checks_fields(tmp_path: Path) -> None:
    broken = VALID_AZURE.replace("source_port_range ", "source_port_rnge  ")
    problems = _problems(tmp_path, broken)
    assert len(problems) == 1
    assert problems[0].path.startswith("security_rule")
    assert "source_port_range" in problems[0].problem


def test_type_of_another_provider_is_reported(tmp_path: Path) -> None:
    problems = _problems(tmp_path, 'resource "aws_vpc" "x" {\n  cidr_block = "10.0.0.0/16"\n}\n')
    assert len(problems) == 1
    assert "not covered" in problems[0].problem


def test_aws_schema(tmp_path: Path) -> None:
    good = (
        'resource "aws_eks_cluster" "this" {\n  name     = "x"\n  role_arn = "arn"\n\n'
        '  vpc_config {\n    subnet_ids = ["a"]\n  }\n}\n'
    )
    assert _problems(tmp_path, good, AWS) == []
    problems = _problems(tmp_path, good.replace("  vpc_config", "  vpc_configs"), AWS)
    assert sorted(p.path for p in problems) == ["vpc_config", "vpc_configs"]


def test_google_schema(tmp_path: Path) -> None:
    good = (
        'resource "google_container_cluster" "this" {\n  name     = "x"\n'
        '  location = "europe-west1"\n\n'
        '  release_channel {\n    channel = "STABLE"\n  }\n}\n'
    )
    assert _problems(tmp_path, good, GOOGLE) == []
    twice = good.replace(
        '  release_channel {\n    channel = "STABLE"\n  }\n',
        '  release_channel {\n    channel = "STABLE"\n  }\n\n'
        '  release_channel {\n    channel = "REGULAR"\n  }\n',
    )
    assert [p.path for p in _problems(tmp_path, twice, GOOGLE)] == ["release_channel"]


def test_pinned_provider_key(tmp_path: Path) -> None:
    import hcl2

    from kubeprod.terraform.schema_check import validate_parsed

    parsed = {"main.tf": hcl2.loads(VALID_AZURE)}
    assert (
        validate_parsed(parsed, AZURERM, provider="registry.terraform.io/hashicorp/azurerm") == []
    )
    with pytest.raises(ValueError):
        validate_parsed(parsed, AZURERM, provider="google")


def test_provider_meta_argument_selects_google_beta(tmp_path: Path) -> None:
    """`provider = google-beta` checks the resource against google-beta (its only home)."""
    import hcl2

    from kubeprod.clouds.gcp_schema import supplemented_schema
    from kubeprod.terraform.schema_check import validate_parsed

    good = (
        'resource "google_project_service_identity" "gke" {\n'
        "  provider = google-beta\n"
        '  service  = "container.googleapis.com"\n}\n'
    )
    schema = supplemented_schema(GOOGLE)
    assert validate_parsed({"main.tf": hcl2.loads(good)}, schema) == []
    typo = validate_parsed({"main.tf": hcl2.loads(good.replace("service ", "servic "))}, schema)
    assert [p.path for p in typo] == ["servic", "service"]
    plain = validate_parsed({"main.tf": hcl2.loads(good.replace("google-beta", "google"))}, schema)
    assert len(plain) == 1 and "unknown resource type" in plain[0].problem
