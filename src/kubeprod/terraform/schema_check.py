"""Check a Terraform module against a provider schema, offline.

The schema files have the shape of `terraform providers schema -json` (see
shared/provider-schemas/README.md). `validate_module` parses every `*.tf` of a
directory with python-hcl2 and reports, for each resource and data source:

- a type the provider does not have;
- an attribute or nested block the schema does not have (with a close match);
- a missing required attribute or required nested block;
- a block written as an attribute, or an attribute written as a block (except
  list/set-of-object attributes, which terraform accepts in block syntax);
- a read-only (computed-only) attribute being set;
- more blocks than `max_items` (or more than one of a `single` block).

Meta-arguments (count, for_each, depends_on, provider, lifecycle, provisioner,
connection) are never in provider schemas and are accepted; `dynamic "x"` blocks
are checked as an `x` block whose body is the `content` block; `timeouts` is
always accepted as a block.
"""

from __future__ import annotations

import copy
import difflib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

META_ATTRIBUTES = frozenset({"count", "for_each", "depends_on", "provider"})
META_BLOCKS = frozenset({"lifecycle", "provisioner", "connection"})
LIFECYCLE_KEYS = frozenset(
    {
        "create_before_destroy",
        "prevent_destroy",
        "ignore_changes",
        "replace_triggered_by",
        "precondition",
        "postcondition",
    }
)
# Types of terraform's built-in provider, never in a provider schema file.
BUILTIN_PREFIXES = ("terraform_",)

_BLOCK_MARK = "__is_block__"


@dataclass(frozen=True, order=True)
class SchemaProblem:
    """One mismatch: where it is (file, resource address, attribute path) and what."""

    file: str
    address: str
    path: str
    problem: str
    line: int = 0

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        path = f" {self.path}:" if self.path else ""
        return f"{where}: {self.address}:{path} {self.problem}"


@cache
def _load_schema_file(path: str) -> dict[str, Any]:
    return json.loads(Path(path).read_text(encoding="utf-8"))


# The provider schemas kubeprod validates against, shipped with the package (copied from
# `terraform providers schema -json` subsets; provenance in its README.md).
SCHEMA_DIR = Path(__file__).resolve().parents[1] / "data" / "provider-schemas"


def load_schema(schema_file: Path | str) -> dict[str, Any]:
    """The parsed schema file (cached per path)."""
    return _load_schema_file(str(Path(schema_file).resolve()))


def _unquote(label: str) -> str:
    if len(label) >= 2 and label[0] == label[-1] == '"':
        return label[1:-1]
    return label


def _is_block_list(value: Any) -> bool:
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(v, dict) and v.get(_BLOCK_MARK) for v in value)
    )


def _keys(body: Mapping[str, Any]) -> list[str]:
    return [k for k in body if not k.startswith("__")]


def _object_type(type_: Any) -> dict[str, Any] | None:
    """Attribute types of a list/set-of-object attribute (writable as blocks), else None."""
    if (
        isinstance(type_, list)
        and len(type_) == 2
        and type_[0] in ("list", "set")
        and isinstance(type_[1], list)
        and type_[1]
        and type_[1][0] == "object"
    ):
        return type_[1][1]
    return None


def _suggest(name: str, options: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, sorted(options), n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


class _Checker:
    def __init__(self, file: str, address: str, line: int, out: list[SchemaProblem]):
        self.file, self.address, self.line, self.out = file, address, line, out

    def report(self, path: str, problem: str) -> None:
        self.out.append(SchemaProblem(self.file, self.address, path, problem, self.line))

    def block(self, body: Mapping[str, Any], schema: Mapping[str, Any], path: str) -> None:
        """Check one block body against a schema `block` object."""
        attributes: dict[str, Any] = schema.get("attributes", {}) or {}
        block_types: dict[str, Any] = schema.get("block_types", {}) or {}
        prefix = f"{path}." if path else ""
        present: set[str] = set()
        top = not path
        for key in _keys(body):
            value = body[key]
            where = prefix + key
            if top and key in META_ATTRIBUTES:
                continue
            if top and key in META_BLOCKS:
                if key == "lifecycle" and _is_block_list(value):
                    for item in value:
                        for unknown in set(_keys(item)) - LIFECYCLE_KEYS:
                            self.report(f"lifecycle.{unknown}", "not a lifecycle argument")
                continue
            if key == "dynamic" and isinstance(value, list):
                self._dynamic(value, attributes, block_types, prefix, present)
                continue
            present.add(key)
            if key in block_types:
                self._nested(key, value, block_types[key], where, counted=True)
            elif key in attributes:
                self._attribute(key, value, attributes[key], where)
            elif key == "timeouts" and _is_block_list(value):
                continue
            else:
                self.report(
                    where,
                    f"unknown {'block' if _is_block_list(value) else 'attribute'} '{key}'"
                    + _suggest(key, [*attributes, *block_types]),
                )
        for name, spec in sorted(attributes.items()):
            if spec.get("required") and name not in present:
                self.report(prefix + name, "required attribute is missing")
        for name, spec in sorted(block_types.items()):
            if (spec.get("min_items") or 0) >= 1 and name not in present:
                self.report(prefix + name, f"required block '{name}' is missing")

    def _attribute(self, key: str, value: Any, spec: Mapping[str, Any], where: str) -> None:
        if spec.get("computed") and not spec.get("optional") and not spec.get("required"):
            self.report(where, "read-only attribute (computed by the provider) cannot be set")
            return
        if _is_block_list(value):
            fields = _object_type(spec.get("type"))
            if fields is None:
                self.report(where, f"'{key}' is an attribute: write `{key} = ...`, not a block")
                return
            for index, item in enumerate(value):
                for unknown in _keys(item):
                    if unknown not in fields:
                        self.report(
                            f"{where}[{index}].{unknown}",
                            f"unknown field '{unknown}'" + _suggest(unknown, fields),
                        )

    def _nested(
        self, key: str, value: Any, spec: Mapping[str, Any], where: str, *, counted: bool
    ) -> None:
        if not _is_block_list(value):
            self.report(where, f"'{key}' is a block: write `{key} {{ ... }}`, not `{key} = ...`")
            return
        mode = spec.get("nesting_mode", "list")
        limit = 1 if mode == "single" else spec.get("max_items")
        if counted and limit is not None and len(value) > limit:
            self.report(where, f"at most {limit} '{key}' block(s) allowed, found {len(value)}")
        inner = spec.get("block", {})
        for index, item in enumerate(value):
            self.block(item, inner, where if len(value) == 1 else f"{where}[{index}]")

    def _dynamic(
        self,
        value: list[dict[str, Any]],
        attributes: Mapping[str, Any],
        block_types: Mapping[str, Any],
        prefix: str,
        present: set[str],
    ) -> None:
        for wrapper in value:
            if not isinstance(wrapper, dict):
                continue
            for label in _keys(wrapper):
                name = _unquote(label)
                where = f"{prefix}dynamic.{name}"
                present.add(name)
                body = wrapper[label]
                contents = body.get("content") if isinstance(body, dict) else None
                if not _is_block_list(contents):
                    self.report(where, "dynamic block has no content block")
                    continue
                if name in block_types:
                    # The number of generated blocks is unknown here: max_items is not counted.
                    self._nested(name, contents, block_types[name], where, counted=False)
                elif name in attributes and _object_type(attributes[name].get("type")):
                    self._attribute(name, contents, attributes[name], where)
                else:
                    self.report(
                        where,
                        f"dynamic block of unknown block type '{name}'"
                        + _suggest(name, [*attributes, *block_types]),
                    )


def _provider_index(schema: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Short provider name ('azurerm') -> that provider's schema."""
    return {key.rsplit("/", 1)[-1]: value for key, value in schema["provider_schemas"].items()}


def _provider_meta(body: Mapping[str, Any], providers: Mapping[str, Any]) -> str | None:
    """The provider a `provider = google-beta` (or `google-beta.alias`) meta-argument names,
    when the schema file has it: such a resource is checked against that provider."""
    raw = body.get("provider") if isinstance(body, Mapping) else None
    if not isinstance(raw, str):
        return None
    name = raw.strip().removeprefix("${").removesuffix("}").split(".", 1)[0]
    return name if name in providers else None


def _line_of(text: str, kind: str, type_: str, name: str) -> int:
    match = re.search(rf'^\s*{kind}\s+"{re.escape(type_)}"\s+"{re.escape(name)}"', text, re.M)
    return text.count("\n", 0, match.start()) + 1 if match else 0


def validate_parsed(
    modules: Mapping[str, Mapping[str, Any]],
    schema: Mapping[str, Any] | Path | str,
    provider: str | None = None,
    texts: Mapping[str, str] | None = None,
) -> list[SchemaProblem]:
    """Validate already-parsed HCL: file name -> `hcl2.load` result.

    `provider` ('azurerm' or 'registry.terraform.io/hashicorp/azurerm') pins the
    provider; otherwise it is taken from each type's prefix ('azurerm_subnet').
    A `provider = google-beta` meta-argument checks that resource against the google-beta
    provider when the schema file holds it. Types of providers not in the schema file are
    reported, except terraform's built-in ones. `texts` (file name -> source) only adds
    line numbers.
    """
    if not isinstance(schema, Mapping):
        schema = load_schema(schema)
    providers = _provider_index(schema)
    pinned = provider.rsplit("/", 1)[-1] if provider else None
    if pinned is not None and pinned not in providers:
        raise ValueError(f"provider '{provider}' is not in the schema file ({sorted(providers)})")
    problems: list[SchemaProblem] = []
    for file, parsed in sorted(modules.items()):
        text = (texts or {}).get(file, "")
        for kind, schemas_key, address_prefix in (
            ("resource", "resource_schemas", ""),
            ("data", "data_source_schemas", "data."),
        ):
            for group in parsed.get(kind, []) or []:
                for raw_type, named in group.items():
                    if raw_type.startswith("__"):
                        continue
                    type_ = _unquote(raw_type)
                    for raw_name, body in named.items():
                        if raw_name.startswith("__"):
                            continue
                        name = _unquote(raw_name)
                        address = f"{address_prefix}{type_}.{name}"
                        line = _line_of(text, kind, type_, name) if text else 0
                        checker = _Checker(file, address, line, problems)
                        if type_.startswith(BUILTIN_PREFIXES):
                            continue
                        prefix = type_.split("_", 1)[0]
                        chosen = pinned or _provider_meta(body, providers) or prefix
                        if chosen not in providers or (pinned and prefix != pinned):
                            checker.report(
                                "",
                                f"type '{type_}' is not covered by the schema file (providers: "
                                f"{', '.join(sorted(providers))}); add it to the subset",
                            )
                            continue
                        type_schemas = providers[chosen].get(schemas_key, {}) or {}
                        if type_ not in type_schemas:
                            checker.report(
                                "",
                                f"unknown {kind} type '{type_}' in provider '{chosen}'"
                                + _suggest(type_, type_schemas),
                            )
                            continue
                        checker.block(body, type_schemas[type_]["block"], "")
    return sorted(problems)


def parse_module(directory: Path) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    """(file name -> parsed HCL, file name -> text) for every *.tf in `directory`."""
    import hcl2  # lazy, for start-up time: python-hcl2 takes ~0.1-0.4 s to import
    from hcl2.utils import SerializationOptions

    options = SerializationOptions(with_comments=False)
    parsed: dict[str, dict[str, Any]] = {}
    texts: dict[str, str] = {}
    for path in sorted(Path(directory).glob("*.tf")):
        texts[path.name] = path.read_text(encoding="utf-8")
        parsed[path.name] = hcl2.loads(texts[path.name], serialization_options=options)
    return parsed, texts


def validate_module(
    directory: Path, schema_file: Path, provider: str | None = None
) -> list[SchemaProblem]:
    """Problems of every resource and data source of the module in `directory`."""
    parsed, texts = parse_module(directory)
    return validate_parsed(parsed, schema_file, provider=provider, texts=texts)


def attribute(type_: Any = "string", *, required: bool = False, computed: bool = False) -> dict:
    """One attribute entry in terraform's schema format (for hand-written supplements)."""
    flags: dict[str, Any] = {"type": type_}
    flags["required" if required else "optional"] = True
    if computed:
        flags["computed"] = True
    return flags


def supplemented(
    schema_file: Path | str,
    provider_key: str,
    resources: dict[str, Any],
    data_sources: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The schema file with hand-written types added; types the file already has win."""
    schema = copy.deepcopy(load_schema(schema_file))
    provider = schema["provider_schemas"][provider_key]
    for key, extra in (("resource_schemas", resources), ("data_source_schemas", data_sources)):
        table = provider.setdefault(key, {})
        for type_, body in (extra or {}).items():
            table.setdefault(type_, copy.deepcopy(body))
    return schema
