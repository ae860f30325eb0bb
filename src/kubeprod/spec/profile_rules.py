"""What a production-profile rule is: a function of the Environment yielding Violations,
registered with `@rule`. The profile's modules (`profile`, `profile_dr`) import this, so
none imports another to register its rules."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from kubeprod.spec.model import CLOUDS, Environment

Loc = tuple[str | int, ...]


@dataclass(frozen=True)
class Violation:
    loc: Loc
    rule: str
    message: str
    fix: str


Rule = Callable[[Environment], Iterator[Violation]]
RULES: list[Rule] = []


def rule(func: Rule) -> Rule:
    RULES.append(func)
    return func


def configured_clouds(env: Environment) -> list[str]:
    return [c for c in CLOUDS if getattr(env.clouds, c) is not None]
