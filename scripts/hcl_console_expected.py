#!/usr/bin/env python3
"""Write tests/data/policy/hcl_console.json: what `terraform console` says each expression
of the static evaluator's test list evaluates to, so the fast suite can compare
kubeprod.policy.hcl_expr with terraform without running terraform.

Run it again after adding expressions to EXPRESSIONS (terraform on PATH, works offline).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "tests" / "data" / "policy" / "hcl_console.json"

# Pure expressions of the shapes community modules use (terraform-aws-modules/eks and vpc,
# AKS modules, terraform-google-modules kubernetes-engine).
EXPRESSIONS = [
    "merge({a = 1, b = 2}, {b = 3}, {c = [1, 2]})",
    'merge({}, null, {x = "y"})',
    'try({a = 1}.b, "fallback")',
    'try(["x"][3], null)',
    'lookup({a = "1", b = "2"}, "b", "none")',
    'lookup({a = "1"}, "z", "none")',
    'coalesce("", "second", "third")',
    "coalesce(null, 3)",
    'coalescelist([], ["a"])',
    'concat(["a"], [], ["b", "c"])',
    'cidrsubnet("10.0.0.0/16", 8, 4)',
    'cidrsubnet("10.1.0.0/16", 4, 15)',
    'cidrsubnet("172.16.0.0/12", 8, 0)',
    'cidrsubnets("10.1.0.0/16", 8, 8, 4, 2)',
    'cidrhost("10.0.0.0/24", 5)',
    'cidrhost("10.0.0.0/24", -2)',
    '[for k, v in ["a", "b", "c"] : cidrsubnet("10.0.0.0/16", 8, k + 48)]',
    'slice(["a", "b", "c", "d"], 0, 3)',
    'slice(["a", "b", "c"], 1, 1)',
    'length(["a", "b", "c"])',
    "length({a = 1})",
    'length("hello")',
    'element(["a", "b", "c"], 4)',
    "keys({b = 1, a = 2, c = 3})",
    "values({b = 1, a = 2, c = 3})",
    'contains(["ON_DEMAND", "SPOT"], "SPOT")',
    'contains(["a"], "b")',
    '[for s in ["x", "y"] : upper(s)]',
    "{for k, v in {a = 1, b = 2, c = 3} : k => v * 2 if v != 2}",
    '{for s in ["a", "b", "a"] : s => s...}',
    '[for k, v in {b = 1, a = 2} : "${k}=${v}"]',
    'true ? "yes" : "no"',
    "1 + 2 * 3 - 4 / 2",
    "7 % 3",
    "!false && (1 < 2 || 3 > 4)",
    '"a" == "a" && 1 != 2',
    'format("%s-%d", "pool", 3)',
    'format("%03d", 7)',
    'join(",", ["a", "b"])',
    'split(",", "a,b,c")',
    'replace("a-b-c", "-", "_")',
    'flatten([["a"], [["b"], "c"], []])',
    'distinct(["a", "b", "a"])',
    'compact(["a", "", "b"])',
    'zipmap(["a", "b"], [1, 2])',
    "range(3)",
    "range(1, 10, 3)",
    "min(3, 1, 2)",
    "max(3, 1, 2)",
    'toset(["b", "a", "b"])',
    'tolist(toset(["c", "a"]))',
    "tostring(12)",
    'tonumber("42")',
    'jsonencode({b = [1, true], a = "x"})',
    'upper("eks")',
    'lower("EKS")',
    'substr("hello world", 0, 5)',
    'one(["only"])',
    'index(["a", "b"], "b")',
    "reverse([1, 2, 3])",
    "alltrue([true, true])",
    "anytrue([false, true])",
    "sum([1, 2, 3])",
    'trimprefix("module.eks", "module.")',
    'startswith("eu-west-1a", "eu-west-1")',
    'setunion(["a"], ["b", "a"])',
    '"%{ if true }on%{ else }off%{ endif }"',
    '"%{ for z in ["a", "b"] }${z};%{ endfor }"',
    '{ for i, z in ["eu-west-1a", "eu-west-1b"] : z => cidrsubnet("10.1.0.0/16", 8, i) }',
    "ceil(2.1)",
    "floor(2.9)",
    "abs(-4)",
    'can(["a"][2])',
    'can(["a"][0])',
    '[for x in ["a", "b"] : x if x != "a"]',
    'merge([for k in ["a", "b"] : { (k) = length(k) }]...)',
    'flatten([for k, v in { a = ["1", "2"] } : [for i in v : "${k}${i}"]])',
    "{ for k, v in { x = { enabled = true }, y = { enabled = false } } : k => v if v.enabled }",
    'length([for x in range(20) : x]) > 3 ? "big" : "small"',
]


def main() -> int:
    with tempfile.TemporaryDirectory() as empty:
        # one expression: terraform console reads non-interactive stdin as a single input
        stdin = "jsonencode([" + ", ".join(EXPRESSIONS) + "])\n"
        proc = subprocess.run(
            ["terraform", "console"], input=stdin, capture_output=True, text=True, cwd=empty
        )
    if proc.returncode != 0:
        print(proc.stderr, file=sys.stderr)
        return 1
    values = json.loads(json.loads(proc.stdout.strip()))
    cases = [{"expression": e, "value": v} for e, v in zip(EXPRESSIONS, values, strict=True)]
    version = subprocess.run(["terraform", "version", "-json"], capture_output=True, text=True)
    data = {
        "generated_by": "scripts/hcl_console_expected.py",
        "terraform": json.loads(version.stdout).get("terraform_version"),
        "cases": cases,
    }
    OUT.write_text(json.dumps(data, indent=1) + "\n")
    print(f"wrote {len(cases)} cases to {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
