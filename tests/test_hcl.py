"""The HCL writer: literal strings stay literal, output is terraform-fmt clean."""

from __future__ import annotations

import subprocess

import hcl2
from conftest import requires_terraform

from kubeprod.hcl import Block, Call, Comment, Expr, quote, render_file


def sample() -> str:
    block = Block.of(
        "resource",
        "aws_vpc",
        "this",
        cidr_block="10.1.0.0/16",
        enable_dns_support=True,
        tags={"Name": "x", "kubernetes.io/role/elb": "1"},
        policy=Call("jsonencode", {"Statement": [{"Effect": "Allow", "Action": ["a", "b"]}]}),
        lifecycle=Block.of("lifecycle", prevent_destroy=True),
        subnet_ids=Expr("local.ids"),
    )
    return render_file([Comment("header"), block])


def test_interpolation_in_a_literal_is_escaped():
    assert quote("${var.x} and %{ if }") == '"$${var.x} and %%{ if }"'
    parsed = hcl2.loads(f"locals {{\n  x = {quote('a${b}')}\n}}\n")
    assert "a$${b}" in str(parsed) or "a${b}" in str(parsed)


def test_expressions_are_written_as_is():
    assert "subnet_ids = local.ids" in sample()


def test_equals_signs_align_within_a_run_of_attributes():
    text = sample()
    assert "  cidr_block         = " in text
    assert "  enable_dns_support = " in text


def test_deterministic():
    assert sample() == sample()


@requires_terraform
def test_output_is_terraform_fmt_clean(tmp_path):
    (tmp_path / "main.tf").write_text(sample())
    proc = subprocess.run(
        ["terraform", "fmt", "-check", "-diff", str(tmp_path)],
        capture_output=True,
        text=True,
        env={"TF_CLI_CONFIG_FILE": "/dev/null", "PATH": "/usr/local/bin:/usr/bin:/bin"},
    )
    assert proc.returncode == 0, proc.stdout
