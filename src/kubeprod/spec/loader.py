"""Load a spec file into an `Environment`, with every problem located by file and line."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from kubeprod.errors import InputError, Problem, SpecInvalid
from kubeprod.spec.model import Environment

Loc = tuple[str | int, ...]


class _Loader(yaml.SafeLoader):
    """SafeLoader that keeps nodes so problems can name their line."""


def _compose(text: str, file: str) -> yaml.Node | None:
    try:
        return yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        raise SpecInvalid(
            [
                Problem(
                    file,
                    line,
                    "(document)",
                    "SPEC-YAML",
                    f"the file is not valid YAML: {exc.problem}",
                    "correct the YAML syntax at that line (indentation, quotes, colons)",
                )
            ]
        ) from None


def _duplicate_keys(node: yaml.Node, file: str, path: Loc = ()) -> list[Problem]:
    problems: list[Problem] = []
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key, value in node.value:
            name = str(key.value)
            if name in seen:
                problems.append(
                    Problem(
                        file,
                        key.start_mark.line + 1,
                        _dotted((*path, name)),
                        "SPEC-DUPLICATE-KEY",
                        f"'{name}' is set twice (first on line {seen[name]}); YAML keeps only the last",
                        "keep one of the two",
                    )
                )
            seen[name] = key.start_mark.line + 1
            problems += _duplicate_keys(value, file, (*path, name))
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            problems += _duplicate_keys(item, file, (*path, index))
    return problems


def _dotted(loc: Loc) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(document)"


def node_line(root: yaml.Node | None, loc: Loc, *, key: bool = False) -> int:
    """The 1-based line of the value at `loc`, or of its nearest existing parent."""
    node = root
    line = (root.start_mark.line + 1) if root is not None else 1
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                if k.value == part:
                    line = k.start_mark.line + 1
                    node = v
                    break
            else:
                return line
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                return line
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            return line
    if node is not None and not key and not isinstance(node, yaml.MappingNode):
        line = node.start_mark.line + 1
    return line


def _model_at(loc: Loc) -> type[BaseModel] | None:
    """The pydantic model that owns the field at `loc` (for did-you-mean)."""
    model: Any = Environment
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        field = getattr(model, "model_fields", {}).get(part)
        if field is None:
            return None
        model = _inner_model(field.annotation)
        if model is None:
            return None
    return model


def _inner_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


def _problem_from_error(err: Any, root: yaml.Node | None, file: str) -> Problem:
    loc: Loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and "[" in p))
    kind = err["type"]
    field = _dotted(loc)
    if kind == "extra_forbidden":
        name = str(loc[-1])
        model = _model_at(loc)
        known = sorted(model.model_fields) if model else []
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
        hint = f"did you mean '{close[0]}'?" if close else f"known keys: {', '.join(known)}"
        return Problem(
            file,
            node_line(root, loc, key=True),
            field,
            "SPEC-UNKNOWN-KEY",
            f"unknown key '{name}'",
            f"{hint} Remove or rename it",
        )
    if kind == "missing":
        return Problem(
            file,
            node_line(root, loc[:-1], key=True),
            field,
            "SPEC-REQUIRED",
            f"'{loc[-1]}' is required here",
            f"add '{loc[-1]}' (see `kubeprod schema` or examples/production.yaml)",
        )
    message = str(err["msg"])
    if kind == "value_error":
        message = message.removeprefix("Value error, ")
        text, _, fix = message.partition("; ")
        return Problem(
            file, node_line(root, loc), field, "SPEC-VALUE", text, fix or "correct the value"
        )
    given = err.get("input")
    shown = f" (got {given!r})" if not isinstance(given, dict | list) else ""
    return Problem(
        file,
        node_line(root, loc),
        field,
        "SPEC-TYPE",
        f"{message[0].lower()}{message[1:]}{shown}",
        "give a value of the expected type (see `kubeprod schema`)",
    )


def load_spec(path: str | Path, *, profile_rules: bool = True) -> Environment:
    """Read, validate and (for the production profile) rule-check a spec.

    Raises SpecInvalid with every problem found, each located by line.
    """
    path = Path(path)
    file = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(
            f"{file}: no such spec file. Fix: pass the path of a spec, "
            "or create one with `kubeprod init`"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{file}: cannot read the spec ({exc})") from None
    root = _compose(text, file)
    problems = _duplicate_keys(root, file) if root is not None else []
    data = yaml.load(text, Loader=_Loader) if root is not None else None
    if not isinstance(data, dict):
        raise SpecInvalid(
            [
                Problem(
                    file,
                    1,
                    "(document)",
                    "SPEC-YAML",
                    "the spec must be a YAML mapping of keys to values",
                    "start from `kubeprod init` or examples/production.yaml",
                )
            ]
        )
    try:
        env = Environment.model_validate(data)
    except ValidationError as exc:
        problems += [_problem_from_error(e, root, file) for e in exc.errors()]
        raise SpecInvalid(problems) from None
    if profile_rules:
        from kubeprod.spec.profile import check_profile

        for violation in check_profile(env):
            problems.append(
                Problem(
                    file,
                    node_line(root, violation.loc),
                    _dotted(violation.loc),
                    violation.rule,
                    violation.message,
                    violation.fix,
                )
            )
    if problems:
        raise SpecInvalid(problems)
    return env
