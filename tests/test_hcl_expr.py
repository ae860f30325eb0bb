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


def test_own_body_parser_matches_python_hcl2_on_every_checked_in_configuration(monkeypatch):
    """kubeprod.policy.hcl_body gives the evaluator what python-hcl2 gives it: the same
    resources, values, references, outputs and backend on the corpus and golden renders."""
    from kubeprod.policy import static

    root = Path(__file__).parent
    dirs = [
        *sorted((root / "data" / "corpus").glob("[a-z]*")),
        *sorted((root / "golden").glob("*")),
        root / "data" / "policy" / "eks_modules",
    ]
    monkeypatch.setenv("KUBEPROD_NO_CACHE", "1")

    def model(directory, parser):
        monkeypatch.setenv("KUBEPROD_HCL_PARSER", parser)
        static._PARSED.clear()
        m = static.from_directory(directory)
        return repr(([(r.address, r.values, r.refs, r.line) for r in m.resources], m.outputs))

    checked = 0
    for directory in dirs:
        if directory.is_dir() and any(directory.glob("*.tf")):
            assert model(directory, "kubeprod") == model(directory, "python-hcl2"), directory
            checked += 1
    assert checked >= 10
    static._PARSED.clear()


def test_own_body_parser_shapes():
    from kubeprod.policy.hcl_body import parse_body

    body = parse_body(
        'resource "aws_x" "y" {\n  count = 2\n  name = "n-${var.a}" # c\n'
        '  tags = {\n    Name = var.n\n    "k/v" = 1\n  }\n  nested {\n    on = true\n  }\n}\n'
        "locals {\n  x = <<-EOT\n    hi\n  EOT\n}\n"
    )
    res = body["resource"][0]['"aws_x"']['"y"']
    assert res["count"] == 2 and res["name"] == '${"n-${var.a}"}'
    assert res["tags"] == {"Name": "${var.n}", '"k/v"': 1}
    assert res["nested"] == [{"on": True, "__is_block__": True}]
    assert body["locals"][0]["x"].startswith("${<<-EOT")
