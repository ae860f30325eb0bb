"""The shorthand's expression builders write the HCL their docstrings promise."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubeprod.clouds.base import environment_tags, terraform_block
from kubeprod.hcl import Call, block_lines
from kubeprod.hcl.shorthand import E, at, compare, for_list, for_map, lifecycle, ref, template
from kubeprod.spec import load_spec


def test_ref_and_at_build_references():
    assert ref("azurerm_resource_group.this", "name").text == "azurerm_resource_group.this.name"
    assert ref(at("local.zones", "1"), "system_min").text == 'local.zones["1"].system_min'
    assert at(E("var.urls"), 'a"b').text == 'var.urls["a\\"b"]'


def test_template_escapes_literal_text_and_interpolates_expressions():
    built = template("/subscriptions/", E("data.x.id"), "/p-${not}")
    assert built.text == '"/subscriptions/${data.x.id}/p-$${not}"'


def test_for_map_with_and_without_condition():
    assert for_map("z", "s", "azurerm_subnet.nodes", E("s.id")).text == (
        "{ for z, s in azurerm_subnet.nodes : z => s.id }"
    )
    where = compare(E("zone"), "!=", "1")
    assert for_map("zone", "z", "local.zones", E("z"), where=where).text == (
        '{ for zone, z in local.zones : zone => z if zone != "1" }'
    )


def test_for_list_takes_a_value_as_collection():
    built = for_list("zone", Call("keys", E("local.zones")), E("aws_subnet.private[zone].id"))
    assert built.text == "[for zone in keys(local.zones) : aws_subnet.private[zone].id]"
    with pytest.raises(ValueError):
        for_list("x", [str(i) * 20 for i in range(10)], E("x"))


def test_compare_refuses_multi_line_values():
    with pytest.raises(ValueError):
        compare(E("x"), "==", [str(i) * 20 for i in range(10)])


def test_lifecycle_ignore_changes_is_a_list_of_references():
    assert block_lines(lifecycle(ignore=["tags", "node_count"])) == [
        "lifecycle {",
        "  ignore_changes = [tags, node_count]",
        "}",
    ]


def test_terraform_block_and_environment_tags():
    block = terraform_block(">= 1.9", {"azurerm": ("hashicorp/azurerm", "~> 4.0")})
    assert block_lines(block) == [
        "terraform {",
        '  required_version = ">= 1.9"',
        "",
        "  required_providers {",
        "    azurerm = {",
        '      source  = "hashicorp/azurerm"',
        '      version = "~> 4.0"',
        "    }",
        "  }",
        "}",
    ]
    env = load_spec(str(Path(__file__).resolve().parents[1] / "examples" / "production.yaml"))
    assert environment_tags(env) == {**env.tags, "kubeprod-environment": env.name}
