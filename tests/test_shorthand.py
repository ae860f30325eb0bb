"""The shorthand's expression builders write the HCL their docstrings promise."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from kubeprod.clouds.base import environment_tags, terraform_block
from kubeprod.hcl import Block, Call, block_lines
from kubeprod.hcl.shorthand import (
    E,
    at,
    compare,
    cond,
    for_expr,
    for_list,
    for_map,
    lifecycle,
    list_of,
    map_of,
    obj,
    one_line_list,
    ref,
    set_of,
    template,
)
from kubeprod.policy.hcl_expr import Scope, evaluate, parse
from kubeprod.spec import load_spec


def test_ref_and_at_build_references():
    assert ref("azurerm_resource_group.this", "name").text == "azurerm_resource_group.this.name"
    assert ref(at("local.zones", "1"), "system_min").text == 'local.zones["1"].system_min'
    assert at(E("var.urls"), 'a"b').text == 'var.urls["a\\"b"]'


def test_template_escapes_literal_text_and_interpolates_expressions():
    built = template("/subscriptions/", E("data.x.id"), "/p-${not}")
    assert built.text == '"/subscriptions/${data.x.id}/p-$${not}"'


def _value(expr, **variables):
    """What terraform makes of a built expression (kubeprod's console-checked evaluator)."""
    return evaluate(parse(expr.text), Scope({"var": variables}))


@pytest.mark.parametrize(
    "text",
    ["plain", "${x}", "%{ if x }", 'quote " and \\ backslash', "$", "100%", "$${x}", "a$$b"],
)
def test_template_literal_text_reads_back_unchanged(text):
    assert _value(template(text)) == text
    assert _value(template(text, E("var.v"), text), v="V") == text + "V" + text


def test_template_dollar_before_an_interpolation_stays_a_dollar():
    built = template("cost: $", E("var.n"), " or $", "{x}")
    assert built.text == '"cost: ${"$"}${var.n} or $${x}"'
    assert _value(built, n=3) == "cost: $3 or ${x}"


def test_template_interpolates_calls():
    built = template("n=", Call("length", E("var.l")))
    assert built.text == '"n=${length(var.l)}"'
    assert _value(built, l=[1, 2]) == "n=2"


def test_cond_quotes_strings_and_parenthesizes_nested_conditionals():
    test = Call("contains", Call("keys", E("var.m")), "role_arn")
    built = cond(test, [E("var.m")], [])
    assert built.text == 'contains(keys(var.m), "role_arn") ? [var.m] : []'
    assert _value(built, m={"role_arn": "r"}) == [{"role_arn": "r"}]
    assert _value(built, m={}) == []
    inner = cond(compare(E("var.n"), ">", 1), "many", "one")
    nested = cond(compare(E("var.n"), "==", 0), "none", inner)
    assert nested.text == 'var.n == 0 ? "none" : (var.n > 1 ? "many" : "one")'
    assert [_value(nested, n=n) for n in (0, 1, 2)] == ["none", "one", "many"]


def test_obj_is_one_line_with_quoted_keys_where_needed():
    built = obj({"k/v": 1}, id=E("var.s"), groups=[E("var.g")])
    assert built.text == '{ "k/v" = 1, id = var.s, groups = [var.g] }'
    assert _value(built, s="S", g="G") == {"k/v": 1, "id": "S", "groups": ["G"]}
    assert obj().text == "{}"
    with pytest.raises(ValueError):
        obj(long=[str(i) * 20 for i in range(10)])


def test_one_line_list_ignores_the_wrap_width():
    items = [E(f"google_kms_crypto_key_iam_member.member_{i}") for i in range(3)]
    built = one_line_list(*items)
    assert "\n" not in built.text and len(built.text) > 80
    assert one_line_list().text == "[]"
    assert block_lines(Block.of("x", depends_on=built))[1] == f"  depends_on = {built.text}"


def test_for_expr_over_any_collection_with_key_and_condition():
    groups = Call("concat", [E("var.a")], Call("values", E("var.b")))
    built = for_expr("g", groups, E("g.size"), key=E("g.name"))
    assert built.text == "{ for g in concat([var.a], values(var.b)) : g.name => g.size }"
    a, b = {"name": "a", "size": 1}, {"name": "b", "size": 2}
    assert _value(built, a=a, b={"x": b}) == {"a": 1, "b": 2}
    listed = for_expr(("i", "z"), E("var.zones"), E("z"), where=compare(E("i"), ">", 0))
    assert listed.text == "[for i, z in var.zones : z if i > 0]"
    assert _value(listed, zones=["a", "b", "c"]) == ["b", "c"]


def test_type_constraints():
    assert list_of().text == "list(string)"
    assert map_of("string").text == "map(string)"
    assert set_of("number").text == "set(number)"
    assert map_of(list_of("bool")).text == "map(list(bool))"
    with pytest.raises(ValueError):
        list_of("strng")


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


CLOUDS = Path(__file__).resolve().parents[1] / "src" / "kubeprod" / "clouds"
PLAIN_REFERENCE = re.compile(r"[A-Za-z_][\w-]*(\.[A-Za-z_][\w-]*|\[([0-9]+|\*|[A-Za-z_][\w.]*)\])*")


def _is_block_model_call(func: ast.expr) -> bool:
    """`Block.of(...)`, `Block(...)` or `Expr(...)`: every renderer uses the one shorthand."""
    if isinstance(func, ast.Attribute):
        return getattr(func.value, "id", None) == "Block" and func.attr == "of"
    return getattr(func, "id", None) in ("Block", "Expr")


def _hand_written(source: str) -> list[str]:
    """E()/Expr() calls on anything but a plain reference (or a name holding one), and
    string constants holding template syntax, in Python source."""
    problems = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and _is_block_model_call(node.func):
            problems.append(f"line {node.lineno}: {ast.unparse(node.func)}: use R/D/B/E")
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) in ("E", "Expr"):
            (arg,) = node.args
            plain = isinstance(arg, ast.Constant) and PLAIN_REFERENCE.fullmatch(arg.value)
            if not (plain or isinstance(arg, ast.Name)):
                problems.append(f"line {node.lineno}: {ast.unparse(node)}")
        elif isinstance(node, ast.Constant) and re.search(r"[$%]\{", str(node.value)):
            problems.append(f"line {node.lineno}: template text {node.value!r}")
    return problems


@pytest.mark.parametrize("path", sorted(CLOUDS.glob("*.py")), ids=lambda p: p.name)
def test_renderers_write_expressions_as_values_not_text(path):
    """Issue 9 item 4: renderers build operators, calls, templates and references with
    hcl.shorthand; E()/Expr() only wrap plain references."""
    assert _hand_written(path.read_text()) == [], f"{path.name}: build these with the shorthand"


@pytest.mark.parametrize(
    "source",
    [
        'E("a ? b : c")',
        'E(f"{X}.id")',
        'Expr("[a, b]")',
        'E("f(x)")',
        'n = "${local.name}-x"',
        'Block.of("resource", "t", "n")',
        'Expr("local.tags")',
    ],
)
def test_the_expression_guard_catches_hand_written_expressions(source):
    assert _hand_written(source)


def test_the_expression_guard_accepts_plain_references():
    source = 'E("aws_subnet.private[each.key].id"), E("a.b[0].c"), E("n[*].x"), E(NAME)'
    assert _hand_written(source) == []
