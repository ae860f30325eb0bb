"""Load a spec file into an `Environment`, with every problem located by file and line."""

from __future__ import annotations

import difflib
from datetime import date
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from kubeprod.errors import InputError, Problem, SpecInvalid
from kubeprod.spec.model import Environment
from kubeprod.spec.profile import check_profile

Loc = tuple[str | int, ...]
PROFILE_SKIPPED = "the production-profile rules (SEC, NET, K8S, CHR, DR) run once these are fixed"
# Keys that moved to another section: the message says where (no silent second source).
MOVED_KEYS: dict[Loc, str] = {
    ("backup", "rpo_minutes"): "dr.targets.region_loss.rpo_minutes",
    ("backup", "rto_minutes"): "dr.targets.region_loss.rto_minutes",
    ("backup", "secondary_region"): "dr.recovery_region.<cloud>",
}


class _Loader(yaml.SafeLoader):
    """SafeLoader that keeps every mapping key as the text the user wrote.

    YAML 1.1 reads `on:`, `yes:` or `1:` as a bool or an int; kubeprod's keys are
    names, so a key stays a string and an unknown one gets a did-you-mean.
    """

    def construct_mapping(self, node: yaml.Node, deep: bool = False) -> dict[str, Any]:
        if not isinstance(node, yaml.MappingNode):
            raise yaml.constructor.ConstructorError(
                None, None, f"expected a mapping, found {node.id}", node.start_mark
            )
        self.flatten_mapping(node)
        mapping: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    f"a key must be a plain name, not a {key_node.id}",
                    key_node.start_mark,
                )
            mapping[str(key_node.value)] = self.construct_object(value_node, deep=deep)
        return mapping


_Loader.add_constructor("tag:yaml.org,2002:map", _Loader.construct_yaml_map)


_OPENERS = {
    "while parsing a flow sequence": "'['",
    "while parsing a flow mapping": "'{'",
    "while scanning a quoted scalar": "quote",
}


def _yaml_problem(exc: Exception, text: str, file: str) -> SpecInvalid:
    """One SPEC-YAML problem for any way PyYAML can fail, located by line."""
    line = 1
    detail = str(exc)
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        detail = exc.problem or exc.context or detail
        context = exc.context or ""
        opened = exc.context_mark
        if opened is not None and exc.problem_mark is not None and opened.line != mark.line:
            opener = _OPENERS.get(context)
            if opener:
                # an unclosed bracket or quote: the fix is where it opened
                detail = f"the {opener} opened here is never closed ({detail} on line {line})"
                line = opened.line + 1
            else:
                detail = f"{detail} ({context} that starts on line {opened.line + 1})"
        if exc.problem and "could not determine a constructor" in exc.problem:
            detail = f"{exc.problem} (kubeprod reads plain YAML: no tags)"
    elif isinstance(exc, yaml.reader.ReaderError):
        line = text[: max(exc.position, 0)].count("\n") + 1
        char = exc.character
        shown = f"#x{char:04x}" if isinstance(char, int) else repr(char)
        detail = f"unacceptable character {shown} ({exc.reason})"
    elif isinstance(exc, RecursionError):
        detail = "it nests too deeply or an alias refers to itself"
    fix = "correct the YAML syntax at that line (indentation, quotes, colons)"
    if "never closed" in detail:
        fix = "close it, or remove the stray character"
    if "could not determine a constructor" in detail:
        fix = "remove the tag (the '!...' before the value)"
    elif "key must be a plain name" in detail:
        fix = "write the key as a plain name, like region"
    elif "'\\t'" in detail:
        fix = "indent with spaces, not tabs"
    elif isinstance(exc, yaml.reader.ReaderError):
        fix = "remove the control character (save the file as plain UTF-8 text)"
    elif isinstance(exc, RecursionError):
        fix = "remove the self-referencing alias (*name) or flatten the nesting"
    return SpecInvalid(
        [
            Problem(
                file,
                line,
                "(document)",
                "SPEC-YAML",
                f"the file is not valid YAML: {detail}",
                fix,
            )
        ]
    )


def _compose(text: str, file: str) -> yaml.Node | None:
    try:
        return yaml.compose(text, Loader=_Loader)
    except (yaml.YAMLError, RecursionError) as exc:
        raise _yaml_problem(exc, text, file) from None


def _construct(text: str, file: str) -> Any:
    try:
        return yaml.load(text, Loader=_Loader)
    except (yaml.YAMLError, RecursionError) as exc:
        raise _yaml_problem(exc, text, file) from None


def _duplicate_keys(
    node: yaml.Node, file: str, path: Loc = (), seen_nodes: set[int] | None = None
) -> list[Problem]:
    """Keys set twice in one mapping (YAML would silently keep the last)."""
    seen_nodes = set() if seen_nodes is None else seen_nodes
    if id(node) in seen_nodes:  # an alias: already checked where it was anchored
        return []
    seen_nodes.add(id(node))
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
                        f"'{name}' is set twice (first on line {seen[name]}); "
                        "YAML would silently keep only the last",
                        "keep one of the two",
                    )
                )
            seen[name] = key.start_mark.line + 1
            problems += _duplicate_keys(value, file, (*path, name), seen_nodes)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            problems += _duplicate_keys(item, file, (*path, index), seen_nodes)
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
    if kind == "extra_forbidden" and loc in MOVED_KEYS:
        return Problem(
            file,
            node_line(root, loc, key=True),
            field,
            "SPEC-MOVED",
            f"'{field}' has moved to {MOVED_KEYS[loc]} (targets per disaster scenario, DR-5)",
            f"move the value to {MOVED_KEYS[loc]} (zone_loss has its own target), "
            "and remove it here",
        )
    if kind == "extra_forbidden":
        name = str(loc[-1])
        model = _model_at(loc)
        known = sorted(model.model_fields) if model else []
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
        fix = (
            f"did you mean '{close[0]}'? Rename it, or remove it"
            if close
            else f"remove it, or use a known key: {', '.join(known)}"
        )
        return Problem(
            file,
            node_line(root, loc, key=True),
            field,
            "SPEC-UNKNOWN-KEY",
            f"unknown key '{name}'",
            fix,
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
    return Problem(
        file,
        node_line(root, loc),
        field,
        "SPEC-TYPE",
        f"{message[0].lower()}{message[1:]} (got {_describe(given)})",
        _type_fix(kind, given),
    )


def _describe(value: Any) -> str:
    """How a YAML value reads back to the user in a message."""
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing (an empty value)"
    if isinstance(value, bool):
        return "a boolean " + str(value).lower()
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, date):
        return f"the date {value.isoformat()}"
    return repr(value)


def _type_fix(kind: str, given: Any) -> str:
    if kind.startswith("string") and isinstance(given, bool | int | float | date):
        shown = given.isoformat() if isinstance(given, date) else str(given)
        shown = shown.lower() if isinstance(given, bool) else shown
        return f'quote it so YAML keeps it as text, like "{shown}"'
    if given is None:
        return "give it a value, or remove the key to take the default"
    return "give a value of the expected type (see `kubeprod schema`)"


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
    except IsADirectoryError:
        raise InputError(
            f"{file}: is a directory, not a spec file. Fix: pass the spec's path, "
            f"like {path / 'production.yaml'}"
        ) from None
    except UnicodeDecodeError as exc:
        line = exc.object[: exc.start].count(b"\n") + 1
        raise SpecInvalid(
            [
                Problem(
                    file,
                    line,
                    "(document)",
                    "SPEC-YAML",
                    f"the file is not UTF-8 text (byte {exc.object[exc.start]:#04x})",
                    "save the spec as UTF-8 text",
                )
            ]
        ) from None
    except OSError as exc:
        raise InputError(
            f"{file}: cannot read the spec ({exc.strerror or exc}). "
            "Fix: check the path and its permissions"
        ) from None
    root = _compose(text, file)
    problems = _duplicate_keys(root, file) if root is not None else []
    data = _construct(text, file) if root is not None else None
    if not isinstance(data, dict):
        raise SpecInvalid(
            [
                Problem(
                    file,
                    node_line(root, ()),
                    "(document)",
                    "SPEC-YAML",
                    "the spec must be a YAML mapping of keys to values, "
                    f"but the file holds {_describe(data) if root is not None else 'nothing'}",
                    "start from `kubeprod init` or examples/production.yaml",
                )
            ]
        )
    try:
        env = Environment.model_validate(data)
    except ValidationError as exc:
        problems += [_problem_from_error(e, root, file) for e in exc.errors()]
        raise SpecInvalid(problems, note=PROFILE_SKIPPED) from None
    if profile_rules:
        for violation in check_profile(env):
            problems.append(
                Problem(
                    file,
                    node_line(root, violation.loc),
                    _dotted(violation.loc),
                    violation.rule_id,
                    violation.message,
                    violation.remediation,
                )
            )
    if problems:
        raise SpecInvalid(problems)
    return env
