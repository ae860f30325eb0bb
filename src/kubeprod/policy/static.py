"""A rendered directory as the policy model, for clouds whose provider cannot plan here.

What is judged statically (see docs/policy.md):

- literal attribute values, nested blocks and `locals`/`variable` defaults;
- references `local.x`, `var.x`, `each.key`, `each.value.x`, `count.index`, indexes into
  them and `"${...}"` templates of those;
- `for_each` over a local map/set (`local.zones`), `toset([...])`, a literal collection or
  `{ for k, v in local.x : k => v if k != "..." }`; `count` with a literal number: each
  instance becomes its own resource (`azurerm_nat_gateway.this["1"]`);
- local child modules (`source = "./..."`), with their literal inputs.

Anything else (references to other resources, function calls) is UNKNOWN, as a plan
shows it "known after apply": rules say they could not judge it instead of passing.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from kubeprod.errors import InputError
from kubeprod.policy.plan_model import (
    UNKNOWN,
    Model,
    Resource,
    backend_of,
    is_override,
    scan_resources,
)

_TOKEN = re.compile(r'\.([A-Za-z_][\w-]*)|\[\s*"([^"]*)"\s*\]|\[\s*(\d+)\s*\]')
_REF = re.compile(r"^(local|var|each|count)((?:\.[A-Za-z_][\w-]*|\[\s*(?:\"[^\"]*\"|\d+)\s*\])*)$")
_FOR_FILTER = re.compile(
    r'^\{\s*for\s+(\w+)\s*,\s*(\w+)\s+in\s+([\w.\[\]"]+)\s*:\s*\1\s*=>\s*\2'
    r'(?:\s+if\s+\1\s*(==|!=)\s*"([^"]*)")?\s*\}$'
)
_FOR_LIST = re.compile(r'^\[\s*for\s+\w+(?:\s*,\s*\w+)?\s+in\s+(?:keys\()?([\w.\[\]"]+)\)?\s*:')


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] == '"':
        return text[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    return text


class Scope:
    """What references can resolve to while evaluating one module."""

    def __init__(self, local: dict[str, Any], var: dict[str, Any]):
        self.values: dict[str, Any] = {"local": local, "var": var}

    def with_each(self, key: Any, value: Any) -> Scope:
        scope = Scope(self.values["local"], self.values["var"])
        scope.values["each"] = {"key": key, "value": value}
        return scope

    def with_count(self, index: int) -> Scope:
        scope = Scope(self.values["local"], self.values["var"])
        scope.values["count"] = {"index": index}
        return scope

    def resolve(self, expr: str) -> Any:
        expr = expr.strip()
        m = _REF.match(expr)
        if m:
            if m.group(1) not in self.values:
                return UNKNOWN
            value: Any = self.values[m.group(1)]
            for name, key, index in _TOKEN.findall(m.group(2)):
                part: Any = name or key or (int(index) if index else "")
                in_dict = isinstance(value, dict) and part in value
                in_list = isinstance(value, list) and isinstance(part, int) and part < len(value)
                if in_dict or in_list:
                    value = value[part]
                else:
                    return UNKNOWN
            return value
        encoded = re.match(r"^jsonencode\((.*)\)$", expr, re.S)
        if encoded:
            return self.jsonencode(encoded.group(1))
        lookup = re.match(r'^lookup\(\s*([\w.]+)\s*,\s*"([^"]+)"\s*,\s*(.*)\)$', expr, re.S)
        if lookup:
            source = self.resolve(lookup.group(1))
            if isinstance(source, dict):
                key = lookup.group(2)
                return source[key] if key in source else self.value("${" + lookup.group(3) + "}")
            return UNKNOWN
        if expr == "null":
            return None
        inner = re.match(r"^toset\((.*)\)$", expr, re.S)
        if inner:
            items = self.resolve(inner.group(1))
            return sorted(set(items)) if isinstance(items, list) else UNKNOWN
        m2 = _FOR_FILTER.match(expr)
        if m2:
            source = self.resolve(m2.group(3))
            if not isinstance(source, dict):
                return UNKNOWN
            op, lit = m2.group(4), m2.group(5)
            return {k: v for k, v in source.items() if op is None or (k == lit) == (op == "==")}
        m3 = _FOR_LIST.match(expr)
        if m3:
            source = self.resolve(m3.group(1))
            return [UNKNOWN] * len(source) if isinstance(source, (dict, list)) else UNKNOWN
        if expr.startswith("[") and expr.endswith("]") and not expr[1:].lstrip().startswith("for "):
            parts = [p.strip() for p in expr[1:-1].split(",") if p.strip()]
            items = [self.value(p if p.startswith('"') else "${" + p + "}") for p in parts]
            return items
        return UNKNOWN

    def jsonencode(self, text: str) -> Any:
        """jsonencode of a literal: unknown leaves become a placeholder, so rules can still
        read the literal keys (a plan shows the whole string as known after apply)."""
        import hcl2

        try:
            parsed = hcl2.loads("x = " + text + "\n")["x"]
        except Exception:
            return UNKNOWN

        def plain(v: Any) -> Any:
            if v is UNKNOWN:
                return "(known after apply)"
            if isinstance(v, dict):
                return {k: plain(x) for k, x in v.items()}
            if isinstance(v, list):
                return [plain(x) for x in v]
            return v

        return json.dumps(plain(self.value(parsed)), sort_keys=True)

    def value(self, raw: Any) -> Any:
        """A python-hcl2 value, evaluated as far as static evaluation goes."""
        if isinstance(raw, dict):
            return {_unquote(k): self.value(v) for k, v in raw.items() if not k.startswith("__")}
        if isinstance(raw, list):
            return [self.value(v) for v in raw]
        if not isinstance(raw, str):
            return raw
        if raw.startswith("${") and raw.endswith("}") and raw.count("${") == 1:
            return self.resolve(raw[2:-1])
        if raw.startswith('"') and raw.endswith('"'):
            text = _unquote(raw)
            if "${" not in text:
                return text
            out = []
            for piece in re.split(r"(\$\{[^}]*\})", text):
                if piece.startswith("${"):
                    resolved = self.resolve(piece[2:-1])
                    if isinstance(resolved, (dict, list)) or resolved is UNKNOWN:
                        return UNKNOWN
                    out.append(
                        str(resolved).lower() if isinstance(resolved, bool) else str(resolved)
                    )
                else:
                    out.append(piece)
            return "".join(out)
        return UNKNOWN


def _blocks(parsed: dict[str, dict[str, Any]], kind: str) -> list[tuple[str, Any]]:
    return [(file, entry) for file, body in parsed.items() for entry in body.get(kind, [])]


def _module_model(
    directory: Path, module: str, inputs: dict[str, Any], out: list[Resource], depth: int = 0
) -> dict[str, Any]:
    from kubeprod.terraform.schema_check import parse_module

    try:
        parsed = {
            name: body
            for name, body in parse_module(directory)[0].items()
            if not is_override(Path(name))
        }
    except Exception as exc:  # python-hcl2 raises lark errors of several kinds
        raise InputError(f"{directory}: cannot parse the Terraform files: {exc}") from None
    variables: dict[str, Any] = {}
    scope = Scope({}, variables)
    for _, entry in _blocks(parsed, "variable"):
        for name, body in entry.items():
            name = _unquote(name)
            variables[name] = inputs.get(name, scope.value(body.get("default", UNKNOWN)))
    # locals may refer to each other: evaluate a few rounds until nothing changes
    raw_locals: dict[str, Any] = {}
    for _, entry in _blocks(parsed, "locals"):
        raw_locals.update({k: v for k, v in entry.items() if not k.startswith("__")})
    for _ in range(3):
        scope.values["local"].update({k: scope.value(v) for k, v in raw_locals.items()})
    lines = scan_resources(directory)
    for _, entry in _blocks(parsed, "resource"):
        for rtype, named in entry.items():
            for rname, body in named.items():
                rtype_, rname_ = _unquote(rtype), _unquote(rname)
                file, line, prevent = lines.get((rtype_, rname_), (None, None, False))
                base = f"{module}.{rtype_}.{rname_}" if module else f"{rtype_}.{rname_}"
                for key, inst_scope in _instances(body, scope):
                    address = base if key is None else f"{base}[{_key_text(key)}]"
                    values = inst_scope.value(
                        {k: v for k, v in body.items() if k not in ("for_each", "count")}
                    )
                    values.pop("lifecycle", None)
                    values.pop("depends_on", None)
                    out.append(
                        Resource(address, rtype_, rname_, values, module, key, file, line, prevent)
                    )
    if depth < 5:
        for _, entry in _blocks(parsed, "module"):
            for name, body in entry.items():
                source = scope.value(body.get("source", ""))
                if isinstance(source, str) and source.startswith(("./", "../")):
                    child_inputs = {
                        k: scope.value(v)
                        for k, v in body.items()
                        if k not in ("source", "version", "providers") and not k.startswith("__")
                    }
                    address = (
                        f"{module}.module.{_unquote(name)}"
                        if module
                        else (f"module.{_unquote(name)}")
                    )
                    _module_model(
                        (directory / source).resolve(), address, child_inputs, out, depth + 1
                    )
    outputs = {}
    for _, entry in _blocks(parsed, "output"):
        for name, body in entry.items():
            outputs[_unquote(name)] = scope.value(body.get("value", UNKNOWN))
    return outputs


def _key_text(key: Any) -> str:
    return str(key) if isinstance(key, int) else f'"{key}"'


def _instances(body: dict[str, Any], scope: Scope) -> list[tuple[Any, Scope]]:
    if "for_each" in body:
        collection = scope.value(body["for_each"])
        if isinstance(collection, dict):
            return [(k, scope.with_each(k, v)) for k, v in collection.items()]
        if isinstance(collection, list):
            return [(k, scope.with_each(k, k)) for k in collection]
        return [("*", scope.with_each(UNKNOWN, UNKNOWN))]
    if "count" in body:
        count = scope.value(body["count"])
        if isinstance(count, int) and not isinstance(count, bool):
            return [(i, scope.with_count(i)) for i in range(count)]
        return [("*", scope.with_count(UNKNOWN))]
    return [(None, scope)]


def from_directory(directory: Path) -> Model:
    """The model of the Terraform configuration in `directory` (and its local modules)."""
    directory = Path(directory)
    if not directory.is_dir():
        raise InputError(f"{directory} is not a directory. Fix: pass a rendered module directory")
    if not any(directory.glob("*.tf")):
        raise InputError(
            f"{directory} has no *.tf files. Fix: pass the directory `kubeprod render` wrote"
        )
    resources: list[Resource] = []
    outputs = _module_model(directory, "", {}, resources)
    return Model(
        resources,
        "directory",
        path=str(directory),
        outputs=outputs,
        backend=backend_of(directory),
        config_dir=directory,
    )
