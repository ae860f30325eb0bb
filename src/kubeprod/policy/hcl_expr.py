"""HCL expressions: a parser for the expression text python-hcl2 hands back, and an evaluator.

python-hcl2 gives every non-literal attribute as text (`"${merge(var.a, {b = 1})}"`,
`"\\"pre-${var.x}\\""`). `parse()` turns that text into a small tree (cached by text, so
a module tree parses each expression once) and `evaluate()` computes it the way terraform
does, with the functions modules actually use. A value terraform would know only after
apply is `UNKNOWN`: references to resource attributes the configuration does not set,
data sources, and anything computed from those. Unknown propagates through operators and
functions, never turning into a known value unless terraform would too (`length` of a
list with unknown elements is known; `try(unknown, x)` is unknown).

The function results are checked against `terraform console` on the same expressions
(tests/data/policy/hcl_console.json, written by scripts/hcl_console_expected.py).
"""

from __future__ import annotations

import ipaddress
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from kubeprod.policy.plan_model import UNKNOWN


class HclError(Exception):
    """An expression terraform would reject (bad syntax, missing key, wrong type)."""


# -- tokens --------------------------------------------------------------------------------

_PUNCT = [
    "...",
    "[*]",
    ".*",
    "==",
    "!=",
    "<=",
    ">=",
    "&&",
    "||",
    "=>",
    "+",
    "-",
    "*",
    "/",
    "%",
    "<",
    ">",
    "!",
    "?",
    ":",
    ".",
    ",",
    "[",
    "]",
    "(",
    ")",
    "{",
    "}",
    "=",
]
_IDENT = re.compile(r"[A-Za-z_][\w-]*")
_NUMBER = re.compile(r"\d+(\.\d+)?([eE][+-]?\d+)?")


@dataclass(frozen=True)
class Tok:
    kind: str  # ident | num | str | heredoc | op | nl | end
    text: str
    start: int = 0  # offsets in the source text
    end: int = 0


def _scan_string(text: str, start: int) -> int:
    """Index just past the closing quote of the string opening at `start`."""
    i = start + 1
    while i < len(text):
        c = text[i]
        if c == "\\":
            i += 2
            continue
        if c == '"':
            return i + 1
        if text.startswith("${", i) or text.startswith("%{", i):
            i = _scan_braces(text, i + 1)
            continue
        i += 1
    raise HclError("unterminated string")


def _scan_braces(text: str, start: int) -> int:
    """Index just past the `}` matching the `{` at `start` (strings inside skipped)."""
    depth, i = 0, start
    while i < len(text):
        c = text[i]
        if c == '"':
            i = _scan_string(text, i)
            continue
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    raise HclError("unbalanced braces")


def tokenize(text: str) -> list[Tok]:
    toks: list[Tok] = []
    i = 0
    while i < len(text):
        c = text[i]
        if c in " \t\r":
            i += 1
        elif c == "\n":
            toks.append(Tok("nl", "\n", i, i + 1))
            i += 1
        elif c == "#" or text.startswith("//", i):
            while i < len(text) and text[i] != "\n":
                i += 1
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = len(text) if end < 0 else end + 2
        elif c == '"':
            end = _scan_string(text, i)
            toks.append(Tok("str", text[i + 1 : end - 1], i, end))
            i = end
        elif text.startswith("<<", i) and re.match(r"<<-?[A-Za-z_]\w*\n", text[i:]):
            m = re.match(r"<<(-?)([A-Za-z_]\w*)\n", text[i:])
            assert m is not None
            body_start = i + m.end()
            end_re = re.compile(r"^[ \t]*" + re.escape(m.group(2)) + r"[ \t]*$", re.M)
            found = end_re.search(text, body_start)
            if not found:
                raise HclError("unterminated heredoc")
            body = text[body_start : found.start()]
            if m.group(1):
                lines = body.split("\n")
                indents = [len(ln) - len(ln.lstrip(" ")) for ln in lines if ln.strip()]
                cut = min(indents) if indents else 0
                body = "\n".join(ln[cut:] for ln in lines)
            toks.append(Tok("heredoc", body, i, found.end()))
            i = found.end()
        elif c.isdigit():
            m = _NUMBER.match(text, i)
            assert m is not None
            toks.append(Tok("num", m.group(0), i, m.end()))
            i = m.end()
        elif _IDENT.match(text, i):
            m = _IDENT.match(text, i)
            assert m is not None
            toks.append(Tok("ident", m.group(0), i, m.end()))
            i = m.end()
        else:
            for p in _PUNCT:
                if text.startswith(p, i):
                    if p == ".*" and i + 2 < len(text) and text[i + 2] == "*":
                        continue
                    toks.append(Tok("op", p, i, i + len(p)))
                    i += len(p)
                    break
            else:
                raise HclError(f"unexpected character {c!r}")
    toks.append(Tok("end", "", len(text), len(text)))
    return toks


# -- tree ----------------------------------------------------------------------------------

Node = tuple  # ("lit", v) ("tpl", parts) ("ref", name) ("attr", node, name) ("index", n, i)
# ("splat", node, [ops]) ("call", name, args, expand_last) ("op", sym, a, b) ("not", a)
# ("neg", a) ("cond", c, a, b) ("tuple", items) ("object", [(k, v)])
# ("for_list", k, v, coll, expr, cond) ("for_map", k, v, coll, kexpr, vexpr, group, cond)
# ("tif", cond, then_parts, else_parts) ("tfor", k, v, coll, parts)

_BINARY = [("||",), ("&&",), ("==", "!="), ("<", ">", "<=", ">="), ("+", "-"), ("*", "/", "%")]


class _Parser:
    def __init__(self, toks: list[Tok]):
        self.toks, self.i = toks, 0
        self.nl_ok = 0  # inside () or [] newlines are insignificant

    def peek(self, skip_nl: bool = True) -> Tok:
        j = self.i
        while skip_nl and self.toks[j].kind == "nl":
            j += 1
        return self.toks[j]

    def next(self) -> Tok:
        while self.toks[self.i].kind == "nl":
            self.i += 1
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def accept(self, text: str) -> bool:
        tok = self.peek()
        if tok.kind == "op" and tok.text == text:
            self.next()
            return True
        return False

    def expect(self, text: str) -> None:
        tok = self.next()
        if not (tok.kind in ("op", "ident") and tok.text == text):
            raise HclError(f"expected {text!r}, found {tok.text!r}")

    def expr(self) -> Node:
        cond = self.binary(0)
        if self.accept("?"):
            a = self.expr()
            self.expect(":")
            b = self.expr()
            return ("cond", cond, a, b)
        return cond

    def binary(self, level: int) -> Node:
        if level == len(_BINARY):
            return self.unary()
        left = self.binary(level + 1)
        while True:
            tok = self.peek()
            if tok.kind == "op" and tok.text in _BINARY[level]:
                self.next()
                left = ("op", tok.text, left, self.binary(level + 1))
            else:
                return left

    def unary(self) -> Node:
        if self.accept("!"):
            return ("not", self.unary())
        if self.accept("-"):
            return ("neg", self.unary())
        return self.postfix(self.primary())

    def postfix(self, node: Node) -> Node:
        while True:
            tok = self.peek()
            if tok.kind != "op":
                return node
            if tok.text == ".":
                self.next()
                name = self.next()
                if name.kind == "num":
                    node = ("index", node, ("lit", int(name.text)))
                else:
                    node = ("attr", node, name.text)
            elif tok.text == "[":
                self.next()
                idx = self.expr()
                self.expect("]")
                node = ("index", node, idx)
            elif tok.text in ("[*]", ".*"):
                self.next()
                ops: list[tuple[str, Any]] = []
                while True:
                    t = self.peek()
                    if t.kind == "op" and t.text == ".":
                        self.next()
                        ops.append(("attr", self.next().text))
                    elif t.kind == "op" and t.text == "[" and tok.text == "[*]":
                        self.next()
                        ops.append(("index", self.expr()))
                        self.expect("]")
                    else:
                        break
                node = ("splat", node, ops)
            else:
                return node

    def primary(self) -> Node:
        tok = self.next()
        if tok.kind == "num":
            text = tok.text
            return ("lit", float(text) if any(c in text for c in ".eE") else int(text))
        if tok.kind == "str":
            return parse_template(tok.text, quoted=True)
        if tok.kind == "heredoc":
            return parse_template(tok.text, quoted=False)
        if tok.kind == "ident":
            if tok.text == "true":
                return ("lit", True)
            if tok.text == "false":
                return ("lit", False)
            if tok.text == "null":
                return ("lit", None)
            if self.peek(skip_nl=False).kind == "op" and self.peek().text == "(":
                self.next()
                args: list[Node] = []
                expand = False
                while not self.accept(")"):
                    args.append(self.expr())
                    if self.accept("..."):
                        expand = True
                    if not self.accept(","):
                        self.expect(")")
                        break
                return ("call", tok.text, tuple(args), expand)
            return ("ref", tok.text)
        if tok.kind == "op" and tok.text == "(":
            inner = self.expr()
            self.expect(")")
            return inner
        if tok.kind == "op" and tok.text == "[":
            if self.peek().kind == "ident" and self.peek().text == "for":
                return self.for_expr("]")
            items: list[Node] = []
            while not self.accept("]"):
                items.append(self.expr())
                if not self.accept(","):
                    self.expect("]")
                    break
            return ("tuple", tuple(items))
        if tok.kind == "op" and tok.text == "{":
            if self.peek().kind == "ident" and self.peek().text == "for":
                return self.for_expr("}")
            pairs: list[tuple[Node, Node]] = []
            while not self.accept("}"):
                key_tok = self.peek()
                if key_tok.kind == "ident" and self.toks_after_is_assign():
                    self.next()
                    key: Node = ("lit", key_tok.text)
                else:
                    key = self.expr()
                if not self.accept("="):
                    self.expect(":")
                pairs.append((key, self.expr()))
                self.accept(",")
            return ("object", tuple(pairs))
        raise HclError(f"unexpected {tok.text or 'end of expression'!r}")

    def toks_after_is_assign(self) -> bool:
        j = self.i
        while self.toks[j].kind == "nl":
            j += 1
        nxt = self.toks[j + 1]
        return nxt.kind == "op" and nxt.text in ("=", ":")

    def for_expr(self, close: str) -> Node:
        self.expect("for")
        first = self.next().text
        second = None
        if self.accept(","):
            second = self.next().text
        self.expect("in")
        coll = self.expr()
        self.expect(":")
        if close == "]":
            body = self.expr()
            cond = self.expr() if self._accept_ident("if") else None
            self.expect("]")
            return ("for_list", first, second, coll, body, cond)
        kexpr = self.expr()
        self.expect("=>")
        vexpr = self.expr()
        group = self.accept("...")
        cond = self.expr() if self._accept_ident("if") else None
        self.expect("}")
        return ("for_map", first, second, coll, kexpr, vexpr, group, cond)

    def _accept_ident(self, word: str) -> bool:
        tok = self.peek()
        if tok.kind == "ident" and tok.text == word:
            self.next()
            return True
        return False


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}


def _unescape(text: str) -> str:
    out, i = [], 0
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            if nxt == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", text[i + 2 : i + 6]):
                out.append(chr(int(text[i + 2 : i + 6], 16)))
                i += 6
                continue
            out.append(_ESCAPES.get(nxt, "\\" + nxt))
            i += 2
            continue
        out.append(c)
        i += 1
    return "".join(out)


def parse_template(text: str, quoted: bool) -> Node:
    """A string template: literal text, `${expr}` and `%{if}`/`%{for}` directives."""
    parts: list[Any] = []
    stack: list[tuple[str, Any, list[Any], Any]] = []
    current = parts
    i = 0
    lit: list[str] = []

    def flush() -> None:
        if lit:
            s = "".join(lit)
            current.append(("lit", _unescape(s) if quoted else s))
            lit.clear()

    while i < len(text):
        if text.startswith("$${", i) or text.startswith("%%{", i):
            lit.append(text[i + 1 : i + 3])
            i += 3
            continue
        if quoted and text[i] == "\\" and i + 1 < len(text):
            lit.append(text[i : i + 2])
            i += 2
            continue
        if text.startswith("${", i) or text.startswith("%{", i):
            end = _scan_braces(text, i + 1)
            inner = text[i + 2 : end - 1].strip().strip("~").strip()
            flush()
            if text[i] == "$":
                current.append(parse(inner))
            else:
                words = inner.split(None, 1)
                head = words[0] if words else ""
                if head == "if":
                    stack.append(("if", parse(words[1]), current, []))
                    current = stack[-1][3]
                elif head == "else":
                    _, cond, parent, then = stack.pop()
                    stack.append(("else", cond, parent, (then, [])))
                    current = stack[-1][3][1]
                elif head == "endif":
                    kind, cond, parent, body = stack.pop()
                    then, other = body if kind == "else" else (body, [])
                    parent.append(("tif", cond, tuple(then), tuple(other)))
                    current = parent
                elif head == "for":
                    m = re.match(r"for\s+(\w+)\s*(?:,\s*(\w+))?\s+in\s+(.*)$", inner, re.S)
                    if not m:
                        raise HclError(f"bad template directive %{{{inner}}}")
                    loop_body: list[Any] = []
                    stack.append(
                        ("for", (m.group(1), m.group(2), parse(m.group(3))), current, loop_body)
                    )
                    current = loop_body
                elif head == "endfor":
                    _, (k, v, coll), parent, body = stack.pop()
                    parent.append(("tfor", k, v, coll, tuple(body or [])))
                    current = parent
                else:
                    raise HclError(f"bad template directive %{{{inner}}}")
            i = end
            continue
        lit.append(text[i])
        i += 1
    flush()
    if stack:
        raise HclError("unterminated template directive")
    if len(parts) == 1 and parts[0][0] != "lit" and parts[0][0] not in ("tif", "tfor"):
        return ("tpl1", parts[0])  # "${x}" alone keeps x's type
    return ("tpl", tuple(parts))


@lru_cache(maxsize=65536)
def parse(text: str) -> Node:
    """The tree of one expression (cached: module trees repeat the same text)."""
    parser = _Parser(tokenize(text))
    node = parser.expr()
    if parser.peek().kind != "end":
        raise HclError(f"unexpected {parser.peek().text!r} after the expression")
    return node


def parse_raw(raw: str) -> Node:
    """The tree of a python-hcl2 string value: `${expr}`, a quoted template, or a word."""
    if raw.startswith("${") and _scan_braces(raw, 1) == len(raw):
        return parse(raw[2:-1])
    if raw.startswith('"<<') and raw.endswith('"'):
        return parse(raw[1:-1])
    if len(raw) >= 2 and raw.startswith('"') and raw.endswith('"'):
        return parse_template(raw[1:-1], quoted=True)
    return parse(raw)


# -- evaluation ----------------------------------------------------------------------------


class Obj(dict):
    """A resource or module object: attributes it does not set are known after apply."""

    def attr(self, name: str) -> Any:
        return self.get(name, UNKNOWN)


class Scope:
    """Name -> value for the roots of references (var, local, each, module, resource types).

    `lookup(name)` may compute lazily (locals, module outputs, resources)."""

    def __init__(self, names: dict[str, Any] | None = None, parent: Scope | None = None):
        self.names = names or {}
        self.parent = parent

    def child(self, **names: Any) -> Scope:
        return Scope(names, self)

    def lookup(self, name: str) -> Any:
        scope: Scope | None = self
        while scope is not None:
            if name in scope.names:
                value = scope.names[name]
                return value() if callable(value) and not isinstance(value, type) else value
            scope = scope.parent
        return self.missing(name)

    def missing(self, name: str) -> Any:
        if self.parent is not None:
            return self.parent.missing(name)
        raise HclError(f"unknown name {name}")


def _is_unknown(v: Any) -> bool:
    return v is UNKNOWN


def _num(v: Any) -> Any:
    if isinstance(v, bool):
        raise HclError("a bool is not a number")
    if isinstance(v, (int, float)):
        return v
    if isinstance(v, str):
        try:
            f = float(v)
        except ValueError:
            raise HclError(f"{v!r} is not a number") from None
        return int(f) if f.is_integer() and re.fullmatch(r"-?\d+", v.strip()) else f
    raise HclError("not a number")


def _norm(n: Any) -> Any:
    if isinstance(n, float) and n.is_integer() and abs(n) < 2**53:
        return int(n)
    return n


def to_str(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return str(_norm(v))
    if isinstance(v, str):
        return v
    if v is None:
        raise HclError("null in a string template")
    raise HclError("a collection cannot become a string")


def _truthy(v: Any) -> bool:
    if isinstance(v, bool):
        return v
    if v in ("true", "false"):
        return v == "true"
    raise HclError("condition is not a bool")


def has_unknown(v: Any) -> bool:
    if v is UNKNOWN:
        return True
    if isinstance(v, dict):
        return any(has_unknown(x) for x in v.values())
    if isinstance(v, list):
        return any(has_unknown(x) for x in v)
    return False


def _get_attr(value: Any, name: str) -> Any:
    if value is UNKNOWN:
        return UNKNOWN
    if isinstance(value, Obj):
        return value.attr(name)
    if isinstance(value, dict):
        if name in value:
            return value[name]
        raise HclError(f"no attribute {name!r}")
    if value is None:
        raise HclError(f"attribute {name!r} of null")
    raise HclError(f"attribute {name!r} of a {type(value).__name__}")


def _get_index(value: Any, key: Any) -> Any:
    if value is UNKNOWN or key is UNKNOWN:
        return UNKNOWN
    if isinstance(value, dict):
        k = to_str(key)
        if k in value:
            return value[k]
        if isinstance(value, Obj):
            return UNKNOWN
        raise HclError(f"no key {k!r}")
    if isinstance(value, list):
        idx = _num(key)
        if not isinstance(idx, int) or not 0 <= idx < len(value):
            raise HclError(f"index {key} out of range")
        return value[idx]
    raise HclError("index of a non-collection")


def _iterate(coll: Any) -> list[tuple[Any, Any]]:
    if isinstance(coll, dict):
        return [(k, coll[k]) for k in sorted(coll)]
    if isinstance(coll, list):
        return list(enumerate(coll))
    raise HclError("for over a non-collection")


def evaluate(node: Node, scope: Scope) -> Any:
    kind = node[0]
    if kind == "lit":
        return node[1]
    if kind == "ref":
        return scope.lookup(node[1])
    if kind == "attr":
        return _get_attr(evaluate(node[1], scope), node[2])
    if kind == "index":
        return _get_index(evaluate(node[1], scope), evaluate(node[2], scope))
    if kind == "splat":
        base = evaluate(node[1], scope)
        if base is UNKNOWN:
            return UNKNOWN
        items = base if isinstance(base, list) else ([] if base is None else [base])
        out = []
        for item in items:
            for op, arg in node[2]:
                item = (
                    _get_attr(item, arg) if op == "attr" else _get_index(item, evaluate(arg, scope))
                )
            out.append(item)
        return out
    if kind == "tpl1":
        return evaluate(node[1], scope)
    if kind == "tpl":
        return _template(node[1], scope)
    if kind == "tuple":
        return [evaluate(n, scope) for n in node[1]]
    if kind == "object":
        out_obj: dict[str, Any] = {}
        for k, v in node[1]:
            key = evaluate(k, scope)
            if key is UNKNOWN:
                return UNKNOWN
            out_obj[to_str(key)] = evaluate(v, scope)
        return out_obj
    if kind == "cond":
        c = evaluate(node[1], scope)
        if c is UNKNOWN:
            a, b = _try_eval(node[2], scope), _try_eval(node[3], scope)
            return a if a == b and not has_unknown(a) else UNKNOWN
        return evaluate(node[2] if _truthy(c) else node[3], scope)
    if kind == "not":
        v = evaluate(node[1], scope)
        return UNKNOWN if v is UNKNOWN else not _truthy(v)
    if kind == "neg":
        v = evaluate(node[1], scope)
        return UNKNOWN if v is UNKNOWN else -_num(v)
    if kind == "op":
        return _binary(node[1], node[2], node[3], scope)
    if kind == "call":
        return call(node[1], node[2], node[3], scope)
    if kind in ("for_list", "for_map"):
        return _for(node, scope)
    raise HclError(f"cannot evaluate {kind}")


def _try_eval(node: Node, scope: Scope) -> Any:
    try:
        return evaluate(node, scope)
    except HclError:
        return UNKNOWN


def _template(parts: tuple, scope: Scope) -> Any:
    out: list[str] = []
    for part in parts:
        if part[0] == "tif":
            c = evaluate(part[1], scope)
            if c is UNKNOWN:
                return UNKNOWN
            v = _template(part[2] if _truthy(c) else part[3], scope)
        elif part[0] == "tfor":
            coll = evaluate(part[3], scope)
            if coll is UNKNOWN:
                return UNKNOWN
            pieces = []
            for k, item in _iterate(coll):
                names = {part[1]: item} if part[2] is None else {part[1]: k, part[2]: item}
                piece = _template(part[4], scope.child(**names))
                if piece is UNKNOWN:
                    return UNKNOWN
                pieces.append(piece)
            v = "".join(pieces)
        else:
            v = evaluate(part, scope)
        if v is UNKNOWN:
            return UNKNOWN
        out.append(to_str(v))
    return "".join(out)


def _binary(op: str, left: Node, right: Node, scope: Scope) -> Any:
    a = evaluate(left, scope)
    if op in ("&&", "||"):
        if a is not UNKNOWN and _truthy(a) == (op == "||"):
            return op == "||"
        b = evaluate(right, scope)
        if a is UNKNOWN or b is UNKNOWN:
            if b is not UNKNOWN and _truthy(b) == (op == "||"):
                return op == "||"
            return UNKNOWN
        return _truthy(b)
    b = evaluate(right, scope)
    if a is UNKNOWN or b is UNKNOWN:
        return UNKNOWN
    if op == "==":
        return _equal(a, b)
    if op == "!=":
        return not _equal(a, b)
    x, y = _num(a), _num(b)
    if op == "+":
        return _norm(x + y)
    if op == "-":
        return _norm(x - y)
    if op == "*":
        return _norm(x * y)
    if op == "/":
        if y == 0:
            raise HclError("division by zero")
        return _norm(x / y)
    if op == "%":
        return _norm(math.fmod(x, y))
    return {"<": x < y, ">": x > y, "<=": x <= y, ">=": x >= y}[op]


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    return bool(a == b)


def _for(node: Node, scope: Scope) -> Any:
    coll = evaluate(node[3], scope)
    if coll is UNKNOWN:
        return UNKNOWN
    k_name, v_name = node[1], node[2]
    items = []
    for k, item in _iterate(coll):
        names = {k_name: item} if v_name is None else {k_name: k, v_name: item}
        inner = scope.child(**names)
        cond = node[-1]
        if cond is not None:
            c = evaluate(cond, inner)
            if c is UNKNOWN:
                return UNKNOWN
            if not _truthy(c):
                continue
        items.append(inner)
    if node[0] == "for_list":
        return [evaluate(node[4], inner) for inner in items]
    out: dict[str, Any] = {}
    for inner in items:
        key = evaluate(node[4], inner)
        if key is UNKNOWN:
            return UNKNOWN
        value = evaluate(node[5], inner)
        key = to_str(key)
        if node[6]:
            out.setdefault(key, []).append(value)
        elif key in out:
            raise HclError(f"duplicate key {key!r} in a for expression")
        else:
            out[key] = value
    return out


# -- functions -----------------------------------------------------------------------------


def call(name: str, arg_nodes: tuple, expand: bool, scope: Scope) -> Any:
    name = name.split("::")[-1]
    if name == "try":
        for node in arg_nodes:
            try:
                return evaluate(node, scope)
            except HclError:
                continue
        raise HclError("no expression in try() succeeded")
    if name == "can":
        try:
            v = evaluate(arg_nodes[0], scope)
        except HclError:
            return False
        return UNKNOWN if v is UNKNOWN else True
    args = [evaluate(n, scope) for n in arg_nodes]
    if expand:
        last = args.pop()
        if last is UNKNOWN:
            return UNKNOWN
        args.extend(last if isinstance(last, list) else list(last.values()))
    if name in _LENIENT:
        return _LENIENT[name](*args)
    fn = _FUNCTIONS.get(name)
    if fn is None:
        if name in _CLOUD_FUNCTIONS:
            return UNKNOWN
        raise HclError(f"function {name}() is not evaluated statically")
    if any(a is UNKNOWN for a in args):
        return UNKNOWN
    return fn(*args)


def _coalesce(*args: Any) -> Any:
    for a in args:
        if a is UNKNOWN:
            return UNKNOWN
        if a is not None and a != "":
            return a
    raise HclError("coalesce: no non-null argument")


def _coalescelist(*args: Any) -> Any:
    for a in args:
        if a is UNKNOWN:
            return UNKNOWN
        if a:
            return a
    return []


def _merge(*args: Any) -> Any:
    out: dict[str, Any] = {}
    for a in args:
        if a is None:
            continue
        if a is UNKNOWN:
            return UNKNOWN
        if not isinstance(a, dict):
            raise HclError("merge of a non-map")
        out.update(a)
    return out


def _length(v: Any) -> Any:
    if v is UNKNOWN:
        return UNKNOWN
    if isinstance(v, (list, dict, str)):
        return len(v)
    raise HclError("length of a non-collection")


def _concat(*args: Any) -> Any:
    out: list[Any] = []
    for a in args:
        if a is UNKNOWN:
            return UNKNOWN
        if not isinstance(a, list):
            raise HclError("concat of a non-list")
        out.extend(a)
    return out


def _lookup(m: Any, key: Any, *default: Any) -> Any:
    if m is UNKNOWN or key is UNKNOWN:
        return UNKNOWN
    if not isinstance(m, dict):
        raise HclError("lookup in a non-map")
    if key in m:
        return m[key]
    if isinstance(m, Obj):
        return UNKNOWN
    if default:
        return default[0]
    raise HclError(f"lookup: no key {key!r} and no default")


def _contains(coll: Any, value: Any) -> Any:
    if coll is UNKNOWN or value is UNKNOWN:
        return UNKNOWN
    if value in coll:
        return True
    return UNKNOWN if has_unknown(coll) else False


def _toset(v: Any) -> Any:
    if not isinstance(v, list):
        raise HclError("toset of a non-list")
    out: list[Any] = []
    for x in v:
        if x not in out:
            out.append(x)
    if all(isinstance(x, str) for x in out):
        out.sort()
    elif all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in out):
        out = sorted(str(_norm(x)) for x in out)
    return out


def _element(v: list[Any], i: Any) -> Any:
    if not v:
        raise HclError("element of an empty list")
    return v[_num(i) % len(v)]


def _slice(v: list[Any], start: Any, end: Any) -> Any:
    s, e = _num(start), _num(end)
    if not 0 <= s <= e <= len(v):
        raise HclError("slice out of range")
    return v[s:e]


def _keys(m: Any) -> list[str]:
    if not isinstance(m, dict):
        raise HclError("keys of a non-map")
    return sorted(m)


def _values(m: Any) -> list[Any]:
    if not isinstance(m, dict):
        raise HclError("values of a non-map")
    return [m[k] for k in sorted(m)]


def _cidrsubnet(prefix: str, newbits: Any, netnum: Any) -> str:
    net = ipaddress.ip_network(prefix, strict=False)
    new_prefix = net.prefixlen + _num(newbits)
    if new_prefix > net.max_prefixlen or _num(netnum) >= 2 ** _num(newbits):
        raise HclError("cidrsubnet: not enough address space")
    size = 2 ** (net.max_prefixlen - new_prefix)
    base = int(net.network_address) + _num(netnum) * size
    return f"{ipaddress.ip_address(base)}/{new_prefix}"


def _cidrsubnets(prefix: str, *newbits: Any) -> list[str]:
    net = ipaddress.ip_network(prefix, strict=False)
    out, current = [], int(net.network_address)
    for bits in newbits:
        plen = net.prefixlen + _num(bits)
        size = 2 ** (net.max_prefixlen - plen)
        current = -(-current // size) * size
        out.append(f"{ipaddress.ip_address(current)}/{plen}")
        current += size
    return out


def _cidrhost(prefix: str, hostnum: Any) -> str:
    net = ipaddress.ip_network(prefix, strict=False)
    n = _num(hostnum)
    base = int(net.broadcast_address) + 1 + n if n < 0 else int(net.network_address) + n
    return str(ipaddress.ip_address(base))


def _format(fmt: str, *args: Any) -> str:
    out, it = [], iter(args)

    def sub(m: re.Match[str]) -> str:
        spec = m.group(0)
        if spec == "%%":
            return "%"
        v = next(it)
        conv = spec[-1]
        if conv == "s":
            return ("%" + spec[1:]) % to_str(v)
        if conv == "d":
            return ("%" + spec[1:-1] + "d") % _num(v)
        if conv == "v":
            return to_str(v) if not isinstance(v, (list, dict)) else json.dumps(v)
        if conv in "fFeEgG":
            return ("%" + spec[1:]) % float(_num(v))
        if conv == "q":
            return json.dumps(to_str(v))
        return spec

    out.append(re.sub(r"%[-+ #0]*\d*(?:\.\d+)?[sdvfFeEgGqt%]", sub, fmt))
    return "".join(out)


def _flatten(v: Any) -> Any:
    out: list[Any] = []
    for x in v:
        if x is UNKNOWN:
            return UNKNOWN
        if isinstance(x, list):
            inner = _flatten(x)
            if inner is UNKNOWN:
                return UNKNOWN
            out.extend(inner)
        else:
            out.append(x)
    return out


def _jsonencode(v: Any) -> str:
    """JSON as terraform writes it. Unknown leaves become the text "(known after apply)":
    a plan shows the whole string unknown, but the policy rules read literal keys beside
    them (e.g. enableNetworkPolicy next to an unknown subnet ID); never a judged leaf."""

    def plain(x: Any) -> Any:
        if x is UNKNOWN:
            return "(known after apply)"
        if isinstance(x, float) and x.is_integer():
            return int(x)
        if isinstance(x, dict):
            return {k: plain(x[k]) for k in sorted(x)}
        if isinstance(x, list):
            return [plain(i) for i in x]
        return x

    return json.dumps(plain(v), separators=(",", ":"))


def _one(v: Any) -> Any:
    if len(v) > 1:
        raise HclError("one() of more than one element")
    return v[0] if v else None


def _index(v: list[Any], x: Any) -> int:
    if x not in v:
        raise HclError("index: no such element")
    return v.index(x)


def _tonumber(v: Any) -> Any:
    return None if v is None else _num(v)


def _tobool(v: Any) -> Any:
    if v is None or isinstance(v, bool):
        return v
    if v in ("true", "false"):
        return v == "true"
    raise HclError("tobool of a non-bool")


def _tostring(v: Any) -> Any:
    return None if v is None else to_str(v)


def _zipmap(keys: list[str], values: list[Any]) -> dict[str, Any]:
    if len(keys) != len(values):
        raise HclError("zipmap: lists of different lengths")
    return {to_str(k): v for k, v in zip(keys, values, strict=True)}


def _range(*args: Any) -> list[Any]:
    nums = [_num(a) for a in args]
    start, stop, step = (0, nums[0], 1) if len(nums) == 1 else [*nums, 1][:3]
    out, x = [], start
    while (step > 0 and x < stop) or (step < 0 and x > stop):
        out.append(_norm(x))
        x += step
    return out


def _substr(s: str, offset: Any, length: Any) -> str:
    o, n = _num(offset), _num(length)
    if o < 0:
        o += len(s)
    return s[o:] if n == -1 else s[o : o + n]


def _setunion(*sets: Any) -> list[Any]:
    return _toset([x for s in sets for x in s])


def _setintersection(first: Any, *rest: Any) -> list[Any]:
    return _toset([x for x in first if all(x in r for r in rest)])


def _regex_replace(s: str, old: str, new: str) -> str:
    if len(old) > 1 and old.startswith("/") and old.endswith("/"):
        return re.sub(old[1:-1], re.sub(r"\$\{?(\d+)\}?", r"\\\1", new), s)
    return s.replace(old, new)


_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "length": _length,
    "concat": _concat,
    "cidrsubnet": _cidrsubnet,
    "cidrsubnets": _cidrsubnets,
    "cidrhost": _cidrhost,
    "cidrnetmask": lambda p: str(ipaddress.ip_network(p, strict=False).netmask),
    "slice": _slice,
    "element": _element,
    "keys": _keys,
    "values": _values,
    "toset": _toset,
    "tolist": lambda v: list(v),
    "tomap": lambda v: dict(v),
    "tostring": _tostring,
    "tonumber": _tonumber,
    "tobool": _tobool,
    "jsondecode": lambda s: json.loads(s),
    "format": _format,
    "join": lambda sep, v: sep.join(to_str(x) for x in v),
    "split": lambda sep, s: s.split(sep),
    "upper": lambda s: s.upper(),
    "lower": lambda s: s.lower(),
    "title": lambda s: s.title(),
    "replace": _regex_replace,
    "trimspace": lambda s: s.strip(),
    "trimprefix": lambda s, p: s[len(p) :] if s.startswith(p) else s,
    "trimsuffix": lambda s, p: s[: -len(p)] if p and s.endswith(p) else s,
    "startswith": lambda s, p: s.startswith(p),
    "endswith": lambda s, p: s.endswith(p),
    "substr": _substr,
    "distinct": lambda v: [x for i, x in enumerate(v) if x not in v[:i]],
    "compact": lambda v: [x for x in v if x not in (None, "")],
    "zipmap": _zipmap,
    "range": _range,
    "min": lambda *v: _norm(min(_num(x) for x in v)),
    "max": lambda *v: _norm(max(_num(x) for x in v)),
    "abs": lambda x: _norm(abs(_num(x))),
    "ceil": lambda x: math.ceil(_num(x)),
    "floor": lambda x: math.floor(_num(x)),
    "pow": lambda x, y: _norm(_num(x) ** _num(y)),
    "log": lambda x, b: math.log(_num(x), _num(b)),
    "sum": lambda v: _norm(sum(_num(x) for x in v)),
    "one": _one,
    "index": _index,
    "reverse": lambda v: list(reversed(v)),
    "sort": lambda v: sorted(to_str(x) for x in v),
    "alltrue": lambda v: all(_truthy(x) for x in v),
    "anytrue": lambda v: any(_truthy(x) for x in v),
    "setunion": _setunion,
    "setintersection": _setintersection,
    "setsubtract": lambda a, b: _toset([x for x in a if x not in b]),
    "chunklist": lambda v, n: [v[i : i + _num(n)] for i in range(0, len(v), _num(n))],
    "base64encode": lambda s: __import__("base64").b64encode(s.encode()).decode(),
    "sensitive": lambda v: v,
    "nonsensitive": lambda v: v,
    "transpose": lambda m: {
        k: sorted(a for a, vs in m.items() if k in vs) for k in {x for vs in m.values() for x in vs}
    },
}
# unknown arguments deep inside are fine for these: they look only at the shape
_LENIENT: dict[str, Callable[..., Any]] = {
    "coalesce": _coalesce,
    "coalescelist": _coalescelist,
    "merge": _merge,
    "length": _length,
    "concat": _concat,
    "lookup": _lookup,
    "contains": _contains,
    "jsonencode": lambda v: UNKNOWN if v is UNKNOWN else _jsonencode(v),
    "flatten": lambda v: UNKNOWN if v is UNKNOWN else _flatten(v),
}
# functions whose result depends on files, time or the cloud: known only at plan/apply
_CLOUD_FUNCTIONS = {
    "file",
    "filebase64",
    "fileexists",
    "fileset",
    "templatefile",
    "timestamp",
    "uuid",
    "bcrypt",
    "filemd5",
    "filesha256",
    "base64gzip",
    "yamlencode",
    "yamldecode",
    "md5",
    "sha1",
    "sha256",
    "plantimestamp",
    "formatdate",
    "timeadd",
    "regex",
    "regexall",
    "urlencode",
    "provider",
}


def evaluate_raw(raw: Any, scope: Scope) -> Any:
    """A python-hcl2 value (dict/list/literal/expression text) evaluated in `scope`;
    anything terraform could not know statically is UNKNOWN (never an error)."""
    if isinstance(raw, dict):
        out: dict[str, Any] = {}
        for k, v in raw.items():
            if not k.startswith("__"):
                key = evaluate_key(k, scope)
                out[k if key is UNKNOWN else to_str(key)] = evaluate_raw(v, scope)
        return out
    if isinstance(raw, list):
        return [evaluate_raw(v, scope) for v in raw]
    if not isinstance(raw, str):
        return raw
    try:
        return evaluate(parse_raw(raw), scope)
    except (HclError, RecursionError, ValueError, TypeError, KeyError, IndexError):
        return UNKNOWN


def evaluate_key(key: str, scope: Scope) -> Any:
    if key.startswith('"') and key.endswith('"'):
        if "${" not in key and "%{" not in key:
            return _unescape(key[1:-1])
        try:
            return evaluate(parse_template(key[1:-1], quoted=True), scope)
        except HclError:
            return UNKNOWN
    if key.startswith("${"):
        try:
            return evaluate(parse_raw(key), scope)
        except HclError:
            return UNKNOWN
    return key
