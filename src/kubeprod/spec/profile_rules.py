"""What a production-profile rule is: a function of the Environment yielding failing
Findings (the result type the policy gate's rules return too, kubeprod.results), built with
`violation`, registered with `@rule`. The profile's modules (`profile`, `profile_dr`)
import this, so none imports another to register its rules."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from kubeprod.results import FAIL, Finding
from kubeprod.spec.model import CLOUDS, Environment

Loc = tuple[str | int, ...]


def violation(loc: Loc, rule: str, message: str, fix: str) -> Finding:
    """A profile rule's failing verdict on the spec field at `loc`."""
    field = ".".join(str(part) for part in loc)
    return Finding(
        rule_id=rule,
        title=rule,
        severity="high",
        status=FAIL,
        address=field,
        message=message,
        attribute=field,
        remediation=fix,
        source="profile",
        loc=tuple(loc),
    )


Rule = Callable[[Environment], Iterator[Finding]]
RULES: list[Rule] = []


def rule(func: Rule) -> Rule:
    RULES.append(func)
    return func


def configured_clouds(env: Environment) -> list[str]:
    return [c for c in CLOUDS if getattr(env.clouds, c) is not None]
