"""Short constructors renderers use so that Python reads close to the HCL it writes.

`R("aws_vpc", "this", cidr_block=...)` is `resource "aws_vpc" "this" { ... }`.
"""

from __future__ import annotations

from kubeprod.terraform.hcl import Block, Expr


def R(type_: str, label: str, /, **attrs: object) -> Block:
    """A resource block."""
    return Block.of("resource", type_, label, **attrs)


def D(type_: str, label: str, /, **attrs: object) -> Block:
    """A data block."""
    return Block.of("data", type_, label, **attrs)


def B(type_: str, /, *labels: str, **attrs: object) -> Block:
    """Any other block (nested or top-level)."""
    return Block.of(type_, *labels, **attrs)


def E(text: str) -> Expr:
    """A raw expression: a reference, a function call, a for expression."""
    return Expr(text)


def interp(text: str) -> Expr:
    """A string with interpolations, written as an HCL template."""
    return Expr('"' + text + '"')


def lifecycle(*, prevent_destroy: bool = False, ignore: list[str] | None = None) -> Block:
    block = Block("lifecycle")
    if prevent_destroy:
        block.set(prevent_destroy=True)
    if ignore:
        block.set(ignore_changes=E("[" + ", ".join(ignore) + "]"))
    return block
