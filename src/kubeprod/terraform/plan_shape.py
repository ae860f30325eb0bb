"""The shape of `terraform show -json` output that kubeprod relies on, checked before
anything reads it, so a malformed plan is a clear input error instead of a traceback."""

from __future__ import annotations

from typing import Any


def _change_problems(index: int, item: Any) -> list[str]:
    where = f"resource_changes[{index}]"
    if not isinstance(item, dict):
        return [f"{where} is a {type(item).__name__}, not an object"]
    problems = [
        f"{where}.{key} must be a string"
        for key in ("address", "type")
        if not isinstance(item.get(key), str)
    ]
    change = item.get("change")
    if not isinstance(change, dict):
        return [*problems, f"{where}.change must be an object"]
    actions = change.get("actions")
    if not isinstance(actions, list) or not all(isinstance(a, str) for a in actions):
        problems.append(f"{where}.change.actions must be a list of strings")
    for key in ("before", "after"):
        if change.get(key) is not None and not isinstance(change[key], dict):
            problems.append(f"{where}.change.{key} must be an object or null")
    return problems


def _module_problems(where: str, module: Any) -> list[str]:
    if not isinstance(module, dict):
        return [f"{where} must be an object"]
    problems = []
    resources = module.get("resources", [])
    if not isinstance(resources, list) or not all(isinstance(r, dict) for r in resources):
        problems.append(f"{where}.resources must be a list of objects")
    children = module.get("child_modules", [])
    if not isinstance(children, list):
        problems.append(f"{where}.child_modules must be a list")
    else:
        for i, child in enumerate(children):
            problems += _module_problems(f"{where}.child_modules[{i}]", child)
    return problems


def problems(plan: Any) -> list[str]:
    """Why `plan` is not plan JSON kubeprod can read; [] when it is."""
    if not isinstance(plan, dict):
        return [f"it is a JSON {type(plan).__name__}, not an object"]
    if not isinstance(plan.get("format_version"), str):
        return ["it has no format_version: not `terraform show -json` output"]
    found: list[str] = []
    changes = plan.get("resource_changes", [])
    if not isinstance(changes, list):
        found.append("resource_changes must be a list")
    else:
        for index, item in enumerate(changes):
            found += _change_problems(index, item)
    for key in ("planned_values", "prior_state"):
        if key in plan:
            value = plan[key]
            if not isinstance(value, dict):
                found.append(f"{key} must be an object")
            elif "root_module" in value:
                found += _module_problems(f"{key}.root_module", value["root_module"])
    return found[:5]
