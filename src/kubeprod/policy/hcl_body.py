"""A Terraform file's body (blocks and attributes) in python-hcl2's output shape, parsed
with kubeprod's own HCL expression tokenizer and parser (kubeprod.policy.hcl_expr).

python-hcl2 takes about 0.4 s to import and build its parser before the first file, most
of a gate run on a plan; this parser needs neither. The shape is python-hcl2's, so the
evaluator reads either: blocks as lists of dicts marked `__is_block__`, labels quoted
(`'"aws_vpc"'`), attribute values as numbers and booleans when literal, else the
expression's source text wrapped as `${...}`. Anything it cannot parse raises HclError;
the caller then falls back to python-hcl2, which reports syntax errors with positions.
"""

from __future__ import annotations

from typing import Any

from kubeprod.policy.hcl_expr import HclError, Tok, _Parser, tokenize


def parse_body(text: str) -> dict[str, Any]:
    """The top-level body of one .tf (or .tfvars) file."""
    parser = _BodyParser(text)
    body = parser.body(closing=False)
    body.pop("__is_block__", None)
    return body


class _BodyParser:
    def __init__(self, text: str):
        self.text = text
        self.toks = tokenize(text)
        self.i = 0

    def _skip_nl(self) -> Tok:
        while self.toks[self.i].kind == "nl":
            self.i += 1
        return self.toks[self.i]

    def body(self, closing: bool) -> dict[str, Any]:
        out: dict[str, Any] = {}
        while True:
            tok = self._skip_nl()
            if tok.kind == "end":
                if closing:
                    raise HclError("unclosed block")
                break
            if tok.kind == "op" and tok.text == "}":
                if not closing:
                    raise HclError("unexpected }")
                self.i += 1
                break
            if tok.kind != "ident":
                raise HclError(f"expected an attribute or block name, found {tok.text!r}")
            self.i += 1
            nxt = self.toks[self.i]
            if nxt.kind == "op" and nxt.text == "=":
                self.i += 1
                if tok.text in out:
                    raise HclError(f"attribute {tok.text} set twice")
                out[tok.text] = self.attribute()
            else:
                labels: list[str] = []
                while self.toks[self.i].kind in ("str", "ident"):
                    word = self.toks[self.i]
                    labels.append(f'"{word.text}"' if word.kind == "str" else word.text)
                    self.i += 1
                brace = self.toks[self.i]
                if not (brace.kind == "op" and brace.text == "{"):
                    raise HclError(f"expected {{ after block {tok.text}")
                self.i += 1
                inner = self.body(closing=True)
                entry: dict[str, Any] = inner
                for label in reversed(labels):
                    entry = {label: entry}
                out.setdefault(tok.text, []).append(entry)
        out["__is_block__"] = True
        return out

    def attribute(self) -> Any:
        """One attribute's value: a literal number/bool/null, an object literal as a dict
        (as python-hcl2 gives it), else `${source text}`."""
        value = self.value()
        after = self.toks[self.i]
        if after.kind not in ("nl", "end") and not (after.kind == "op" and after.text == "}"):
            raise HclError(f"unexpected {after.text!r} after an attribute")
        return value

    def value(self) -> Any:
        first = self._skip_nl()
        nxt = self.toks[self.i + 1]
        if (
            first.kind == "op"
            and first.text == "{"
            and not (nxt.kind == "ident" and nxt.text == "for")
        ):
            return self.object()
        return self.expression()

    def object(self) -> dict[str, Any]:
        self.i += 1  # {
        out: dict[str, Any] = {}
        while True:
            tok = self._skip_nl()
            if tok.kind == "op" and tok.text == "}":
                self.i += 1
                return out
            if tok.kind == "ident":
                key = tok.text
                self.i += 1
            elif tok.kind == "str":
                key = f'"{tok.text}"'
                self.i += 1
            else:
                parser = _Parser(self.toks)
                parser.i = self.i
                start = tok.start
                parser.expr()
                key = "${" + self.text[start : self.toks[parser.i - 1].end] + "}"
                self.i = parser.i
            sep = self._skip_nl()
            if not (sep.kind == "op" and sep.text in ("=", ":")):
                raise HclError(f"expected = after object key {key}")
            self.i += 1
            out[key] = self.value()
            after = self._skip_nl()
            if after.kind == "op" and after.text == ",":
                self.i += 1

    def expression(self) -> Any:
        parser = _Parser(self.toks)
        parser.i = self.i
        start = parser.peek().start
        node = parser.expr()
        last = self.toks[parser.i - 1]
        self.i = parser.i
        if node[0] == "lit" and (node[1] is None or isinstance(node[1], (bool, int, float))):
            return node[1]
        return "${" + self.text[start : last.end] + "}"
