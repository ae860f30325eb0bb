"""Short constructors renderers use so that Python reads close to the HCL it writes.

`R("aws_vpc", "this", cidr_block=...)` is `resource "aws_vpc" "this" { ... }`.
"""

from __future__ import annotations

from kubeprod.hcl import Block, Expr, quote, value_lines


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


def ref(*parts: str | Expr) -> Expr:
    """A reference from its parts: `ref(RG, "name")` is `azurerm_resource_group.this.name`."""
    return Expr(".".join(p.text if isinstance(p, Expr) else p for p in parts))


def at(base: str | Expr, key: str) -> Expr:
    """An index by a string key: `at("local.zones", "1")` is `local.zones["1"]`."""
    return Expr(f"{base.text if isinstance(base, Expr) else base}[{quote(key)}]")


def literal(value: object) -> str:
    """A one-line HCL value (string, number, bool, expression) as text."""
    lines = value_lines(value, 0)
    if len(lines) != 1:
        raise ValueError("literal() takes values written on one line")
    return lines[0]


def compare(left: object, operator: str, right: object) -> Expr:
    """A comparison of two values: `compare(E("zone"), "!=", "1")` is `zone != "1"`."""
    return Expr(f"{literal(left)} {operator} {literal(right)}")


def for_map(
    key: str, value: str, collection: str | Expr, result: object, *, where: Expr | None = None
) -> Expr:
    """`{ for key, value in collection : key => result if where }`."""
    source = collection.text if isinstance(collection, Expr) else collection
    condition = f" if {where.text}" if where is not None else ""
    return Expr(f"{{ for {key}, {value} in {source} : {key} => {literal(result)}{condition} }}")


def for_list(value: str, collection: object, result: object) -> Expr:
    """`[for value in collection : result]`; the collection is any one-line value."""
    return Expr(f"[for {value} in {literal(collection)} : {literal(result)}]")


def template(*parts: str | Expr) -> Expr:
    """A string template: literal text (escaped) and interpolated expressions, in order.

    `template("/s/", E("var.id"), "/p")` is `"/s/${var.id}/p"`.
    """
    text = "".join("${" + p.text + "}" if isinstance(p, Expr) else quote(p)[1:-1] for p in parts)
    return Expr('"' + text + '"')


def interp(text: str) -> Expr:
    """A string with interpolations, written as an HCL template."""
    return Expr('"' + text + '"')


def lifecycle(*, prevent_destroy: bool = False, ignore: list[str] | None = None) -> Block:
    block = Block("lifecycle")
    if prevent_destroy:
        block.set(prevent_destroy=True)
    if ignore:
        block.set(ignore_changes=[E(name) for name in ignore])
    return block
