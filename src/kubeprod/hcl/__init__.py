"""A small block model for Terraform and a writer whose output is `terraform fmt` clean.

Renderers build `Block`s from plain Python values; `render_file` turns them into
HCL text. Equal input gives equal bytes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Union

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
INDENT = "  "
INLINE_LIST_WIDTH = 80


@dataclass(frozen=True)
class Expr:
    """A raw HCL expression, written as is: `Expr("aws_vpc.this.id")`."""

    text: str


@dataclass(frozen=True)
class Call:
    """A function call whose arguments are values: `Call("jsonencode", {...})`."""

    name: str
    args: tuple[Any, ...]

    def __init__(self, name: str, *args: Any):
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "args", args)


@dataclass(frozen=True)
class Comment:
    text: str


@dataclass(frozen=True)
class Blank:
    pass


BodyItem = Union["Attr", "Block", Comment, Blank]


@dataclass(frozen=True)
class Attr:
    name: str
    value: Any


@dataclass
class Block:
    """A block: `type "label" "label" { body }`."""

    type: str
    labels: Sequence[str] = ()
    body: list[BodyItem] = field(default_factory=list)

    @staticmethod
    def of(type_: str, /, *labels: str, **attrs: Any) -> Block:
        """Block with attributes in keyword order; nested `Block` values become blocks."""
        block = Block(type_, labels)
        block.set(**attrs)
        return block

    def set(self, **attrs: Any) -> Block:
        for name, value in attrs.items():
            if value is None:
                continue
            if isinstance(value, Block):
                self.body.append(value)
            elif isinstance(value, list) and value and all(isinstance(v, Block) for v in value):
                self.body.extend(value)
            else:
                self.body.append(Attr(name.rstrip("_"), value))
        return self

    def add(self, *items: BodyItem) -> Block:
        self.body.extend(items)
        return self

    @property
    def address(self) -> str:
        """`aws_vpc.this` for resources, `data.x.y` for data sources."""
        if self.type == "resource":
            return ".".join(self.labels)
        if self.type == "data":
            return "data." + ".".join(self.labels)
        return f"{self.type}.{'.'.join(self.labels)}"


def quote(text: str) -> str:
    """An HCL string literal; `${` and `%{` are escaped so text stays literal."""
    body = json.dumps(text, ensure_ascii=False)[1:-1]
    return '"' + body.replace("${", "$${").replace("%{", "%%{") + '"'


def key_text(name: str) -> str:
    """An object key or attribute name: bare when it is an identifier, else quoted."""
    return name if _IDENT.match(name) else quote(name)


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool | Expr)


def value_lines(value: Any, depth: int) -> list[str]:
    """Lines of a value; the first has no indent, the rest carry their own."""
    pad = INDENT * depth
    if isinstance(value, bool):
        return ["true" if value else "false"]
    if value is None:
        return ["null"]
    if isinstance(value, int | float):
        return [repr(value)]
    if isinstance(value, str):
        return [quote(value)]
    if isinstance(value, Expr):
        return value.text.split("\n")
    if isinstance(value, Call):
        inner = [value_lines(arg, depth) for arg in value.args]
        if all(len(lines) == 1 for lines in inner):
            return [f"{value.name}({', '.join(lines[0] for lines in inner)})"]
        if len(inner) != 1:
            raise ValueError("multi-line call arguments are limited to one argument")
        lines = inner[0]
        return [f"{value.name}({lines[0]}", *lines[1:-1], f"{lines[-1]})"]
    if isinstance(value, list | tuple):
        if not value:
            return ["[]"]
        if all(_is_scalar(v) for v in value):
            inline = "[" + ", ".join(value_lines(v, 0)[0] for v in value) + "]"
            if len(inline) + len(pad) <= INLINE_LIST_WIDTH:
                return [inline]
        out = ["["]
        for item in value:
            lines = value_lines(item, depth + 1)
            out.append(pad + INDENT + lines[0])
            out.extend(lines[1:-1])
            if len(lines) > 1:
                out.append(lines[-1])
            out[-1] += ","
        out.append(pad + "]")
        return out
    if isinstance(value, dict):
        if not value:
            return ["{}"]
        items = [Attr(str(k), v) for k, v in value.items()]
        return ["{", *_body_lines(items, depth + 1), pad + "}"]
    raise TypeError(f"cannot write {type(value).__name__} as HCL")


def _body_lines(items: Iterable[BodyItem], depth: int) -> list[str]:
    pad = INDENT * depth
    out: list[str] = []
    chain: list[tuple[str, str]] = []

    def flush() -> None:
        width = max((len(k) for k, _ in chain), default=0)
        out.extend(f"{pad}{k.ljust(width)} = {v}" for k, v in chain)
        chain.clear()

    previous: BodyItem | None = None
    for item in items:
        if isinstance(item, Attr):
            lines = value_lines(item.value, depth)
            if len(lines) == 1:
                chain.append((key_text(item.name), lines[0]))
            else:
                flush()
                out.append(f"{pad}{key_text(item.name)} = {lines[0]}")
                out.extend(lines[1:])
        else:
            flush()
            if isinstance(item, Block):
                if isinstance(previous, Attr):
                    out.append("")
                out.extend(block_lines(item, depth))
            elif isinstance(item, Comment):
                out.extend(f"{pad}# {line}".rstrip() for line in item.text.split("\n"))
            else:
                out.append("")
        previous = item
    flush()
    return out


def block_lines(block: Block, depth: int = 0) -> list[str]:
    pad = INDENT * depth
    head = " ".join([block.type, *(quote(label) for label in block.labels)])
    if not block.body:
        return [f"{pad}{head} {{", f"{pad}}}"]
    return [f"{pad}{head} {{", *_body_lines(block.body, depth + 1), f"{pad}}}"]


def render_file(items: Sequence[Block | Comment], header: str = "") -> str:
    """A whole .tf file: optional header comment, then blocks separated by blank lines."""
    chunks: list[str] = []
    if header:
        chunks.append("\n".join(f"# {line}".rstrip() for line in header.split("\n")))
    for item in items:
        if isinstance(item, Comment):
            chunks.append("\n".join(f"# {line}".rstrip() for line in item.text.split("\n")))
        else:
            chunks.append("\n".join(block_lines(item)))
    return "\n\n".join(chunks) + "\n"


def render_attributes(values: dict[str, Any]) -> str:
    """Top-level `name = value` lines, as in a .tfvars or .tfbackend file."""
    return "\n".join(_body_lines([Attr(k, v) for k, v in values.items()], 0)) + "\n"
