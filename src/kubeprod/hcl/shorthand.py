"""Short constructors renderers use so that Python reads close to the HCL it writes.

`R("aws_vpc", "this", cidr_block=...)` is `resource "aws_vpc" "this" { ... }`.

Expressions are built as values: operands are Python values (strings are quoted, `Expr`
is written as is, `Call`, lists and objects nest), so a renderer never writes HCL
operators, templates or quotes by hand. `E("aws_vpc.this.id")` stays for plain references.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from kubeprod.hcl import Block, Call, Expr, key_text, quote, value_lines


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
    """A plain reference (`aws_vpc.this.id`, `each.value`); build anything else from values."""
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


Comparison = Literal["==", "!=", "<", "<=", ">", ">="]


def compare(left: object, operator: Comparison, right: object) -> Expr:
    """A comparison of two values: `compare(E("zone"), "!=", "1")` is `zone != "1"`."""
    return Expr(f"{literal(left)} {operator} {literal(right)}")


def cond(test: object, then: object, else_: object) -> Expr:
    """A conditional: `cond(compare(E("n"), ">", 0), E("n"), 1)` is `n > 0 ? n : 1`.

    Each operand is a one-line value (strings are quoted); an operand that is itself a
    conditional is parenthesized, so the result reads as it was built.
    """
    return Expr(f"{_operand(test)} ? {_operand(then)} : {_operand(else_)}")


def _operand(value: object) -> str:
    text = literal(value)
    return f"({text})" if isinstance(value, Expr) and " ? " in text else text


def obj(fields: Mapping[str, object] | None = None, /, **named: object) -> Expr:
    """An object written on one line: `obj(id=E("s.id"), n=1)` is `{ id = s.id, n = 1 }`.

    Keys that are not Python names (`"k/v"`) come in `fields` and are quoted; values are
    one-line values. No fields is `{}`. (A Python dict is written one key per line.)
    """
    items = {**(fields or {}), **named}
    if not items:
        return Expr("{}")
    return Expr("{ " + ", ".join(f"{key_text(k)} = {literal(v)}" for k, v in items.items()) + " }")


def one_line_list(*items: object) -> Expr:
    """A list written on one line however wide: `one_line_list(E("a"), E("b"))` is `[a, b]`.

    (A Python list wraps one item per line past 80 columns.)
    """
    return Expr("[" + ", ".join(literal(item) for item in items) + "]")


def for_expr(
    names: str | tuple[str, str],
    collection: object,
    value: object,
    *,
    key: object | None = None,
    where: object | None = None,
) -> Expr:
    """A for expression over any one-line collection value.

    Without `key` it builds a list, `[for v in coll : value if where]`; with `key` an
    object, `{ for k, v in coll : key => value if where }`. `names` is the element's name,
    or a (key or index, element) pair.
    """
    head = names if isinstance(names, str) else ", ".join(names)
    body = f"for {head} in {literal(collection)} : "
    body += literal(value) if key is None else f"{literal(key)} => {literal(value)}"
    if where is not None:
        body += f" if {literal(where)}"
    return Expr(f"[{body}]" if key is None else "{ " + body + " }")


def for_map(
    key: str, value: str, collection: str | Expr, result: object, *, where: Expr | None = None
) -> Expr:
    """`{ for key, value in collection : key => result if where }`; a `str` collection is
    a reference (`"aws_subnet.private"`), as in `E`."""
    source = collection if isinstance(collection, Expr) else Expr(collection)
    return for_expr((key, value), source, result, key=Expr(key), where=where)


def for_list(value: str, collection: object, result: object) -> Expr:
    """`[for value in collection : result]`; the collection is any one-line value."""
    return for_expr(value, collection, result)


PRIMITIVE_TYPES = frozenset({"string", "number", "bool", "any"})


def list_of(element: str | Expr = "string") -> Expr:
    """A type constraint: `list_of("string")` is `list(string)`."""
    return _collection_type("list", element)


def set_of(element: str | Expr = "string") -> Expr:
    """A type constraint: `set_of("string")` is `set(string)`."""
    return _collection_type("set", element)


def map_of(element: str | Expr = "string") -> Expr:
    """A type constraint: `map_of("string")` is `map(string)`; `map_of(list_of())` nests."""
    return _collection_type("map", element)


def _collection_type(kind: str, element: str | Expr) -> Expr:
    if isinstance(element, Expr):
        return Expr(f"{kind}({element.text})")
    if element not in PRIMITIVE_TYPES:
        raise ValueError(f"type {element!r} is not one of {sorted(PRIMITIVE_TYPES)}")
    return Expr(f"{kind}({element})")


def template(*parts: str | Expr | Call) -> Expr:
    """A string template: literal text (escaped) and interpolated expressions, in order.

    `template("/s/", E("var.id"), "/p")` is `"/s/${var.id}/p"`. Literal `${` and `%{`
    stay literal (`$${`, `%%{`); a literal `$` just before an interpolation is written
    `${"$"}`, since `$${` would turn the interpolation into literal text.
    """
    out: list[str] = []
    text = ""
    for part in parts:
        if isinstance(part, str):
            text += part
            continue
        dollar = text.endswith("$")
        out.append(quote(text[:-1] if dollar else text)[1:-1])
        if dollar:
            out.append('${"$"}')
        out.append("${" + literal(part) + "}")
        text = ""
    out.append(quote(text)[1:-1])
    return Expr('"' + "".join(out) + '"')


def lifecycle(*, prevent_destroy: bool = False, ignore: list[str] | None = None) -> Block:
    block = Block("lifecycle")
    if prevent_destroy:
        block.set(prevent_destroy=True)
    if ignore:
        block.set(ignore_changes=[E(name) for name in ignore])
    return block
