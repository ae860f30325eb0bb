"""The static evaluator agrees with `terraform console` (expected values recorded by
scripts/hcl_console_expected.py), and keeps unknown values unknown."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kubeprod.policy.hcl_expr import Scope, evaluate, evaluate_raw, parse
from kubeprod.policy.plan_model import UNKNOWN

CASES = json.loads((Path(__file__).parent / "data" / "policy" / "hcl_console.json").read_text())


def _json_shape(value):
    """Terraform's jsonencode view: sets are lists, numbers as JSON numbers."""
    return json.loads(json.dumps(value))


@pytest.mark.parametrize("case", CASES["cases"], ids=lambda c: c["expression"][:60])
def test_matches_terraform_console(case):
    assert _json_shape(evaluate(parse(case["expression"]), Scope())) == case["value"]


def _scope():
    return Scope(
        {
            "var": {"zones": ["a", "b", "c"], "cidr": "10.1.0.0/16", "unset": None},
            "local": {"from_cloud": UNKNOWN, "partly": ["x", UNKNOWN]},
        }
    )


@pytest.mark.parametrize(
    "raw",
    [
        "${local.from_cloud}",
        '${local.from_cloud == "x" ? 1 : 2}',
        '${try(local.from_cloud, "x")}',
        '${coalesce(local.from_cloud, "x")}',
        "${upper(local.from_cloud)}",
        '"prefix-${local.from_cloud}"',
        '${contains(local.partly, "y")}',
        "${data.aws_availability_zones.available.names}",
        "${aws_subnet.private[0].id}",
        '${file("x.json")}',
    ],
)
def test_unknown_stays_unknown(raw):
    assert evaluate_raw(raw, _scope()) is UNKNOWN


def test_known_parts_around_unknown_leaves():
    scope = _scope()
    assert evaluate_raw("${length(local.partly)}", scope) == 2
    assert evaluate_raw('${contains(local.partly, "x")}', scope) is True
    assert evaluate_raw("${merge({a = local.from_cloud}, {b = 1})}", scope) == {
        "a": UNKNOWN,
        "b": 1,
    }
    assert evaluate_raw('${local.from_cloud == "x" ? 5 : 5}', scope) == 5
    assert evaluate_raw("${true || local.from_cloud}", scope) is True


def test_variables_and_for_expressions():
    scope = _scope()
    assert evaluate_raw("${[for i, z in var.zones : cidrsubnet(var.cidr, 8, i + 10)]}", scope) == [
        "10.1.10.0/24",
        "10.1.11.0/24",
        "10.1.12.0/24",
    ]
    assert evaluate_raw('${var.unset == null ? "default" : var.unset}', scope) == "default"
    assert evaluate_raw('"<<-EOT\n    z=${var.zones[1]}\n  EOT"', scope) == "z=b\n"


@pytest.mark.parametrize("bad", ["${1 +}", "${(1}", '${"x}', "${a ? b}"])
def test_bad_syntax_is_unknown_not_a_crash(bad):
    assert evaluate_raw(bad, Scope()) is UNKNOWN
