"""The change process's records as frozen dataclasses: the bundle manifest, an approval,
a change-log entry and a snapshot reference.

Every file kubeprod reads back goes through `parse`, which checks each field against
its declared type and names what is wrong (the callers turn that into an exit-2 error
naming the file); records kubeprod writes are built from these types, so what is
written is what can be read back. Unknown keys are kept out of the typed view (older
or newer kubeprods may add fields) but never rejected.
"""

from __future__ import annotations

import types
import typing
from dataclasses import MISSING, asdict, dataclass, fields
from functools import cache
from typing import Any, TypeVar

T = TypeVar("T")


class RecordInvalid(ValueError):
    """A record read back does not have the fields and types its type declares."""

    def __init__(self, kind: str, problems: list[str]):
        self.problems = problems
        super().__init__(f"not a {kind} record: " + "; ".join(problems))


def _accepts(tp: Any, value: Any) -> bool:
    """Whether `value` fits the annotation `tp` (str, int, bool, dict, list, X | None)."""
    if tp is Any:
        return True
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        return any(_accepts(arg, value) for arg in typing.get_args(tp))
    if tp is type(None):
        return value is None
    if origin in (dict, list):
        if not isinstance(value, origin):
            return False
        args = typing.get_args(tp)
        if origin is dict and args:
            return all(_accepts(args[1], v) for v in value.values())
        if origin is list and args:
            return all(_accepts(args[0], v) for v in value)
        return True
    if tp is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if tp is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    return isinstance(value, tp)


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def problems(cls: type, data: Any) -> list[str]:
    """What keeps `data` from being a `cls` record; [] when it is one."""
    if not isinstance(data, dict):
        return [f"it is a JSON {type(data).__name__}, not an object"]
    found = []
    hints = _hints(cls)
    for field in fields(cls):
        if field.name not in data:
            if _is_required(field):
                found.append(f"{field.name} is missing")
            continue
        if not _accepts(hints[field.name], data[field.name]):
            found.append(
                f"{field.name} is {_show(data[field.name])}, not {_name(hints[field.name])}"
            )
    return found


def _is_required(field: Any) -> bool:
    return field.default is MISSING and field.default_factory is MISSING


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _name(tp: Any) -> str:
    return str(tp).replace("typing.", "").replace("NoneType", "null")


def parse(cls: type[T], data: Any) -> T:
    """The typed record, or RecordInvalid naming every wrong field."""
    found = problems(cls, data)
    if found:
        raise RecordInvalid(cls.__name__, found)
    names = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    return cls(**{k: v for k, v in data.items() if k in names})


@dataclass(frozen=True)
class Approval:
    """One person's approval of exactly one plan (its hash and the manifest's hash)."""

    by: str
    at: str
    plan_sha256: str
    manifest_sha256: str
    bundle: str
    environment: str
    simulated_at: str | None = None

    def key(self) -> tuple[str, ...]:
        """What must match between approvals.json and the append-only approvals log."""
        return (self.by, self.at, self.plan_sha256, self.manifest_sha256, self.bundle,
                self.environment)  # fmt: skip

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


@dataclass(frozen=True)
class SnapshotRef:
    """A state snapshot taken before a change: where it is kept and what it holds."""

    local: str
    serial: int | None
    lineage: str | None
    resources: int
    s3: str | None = None
    s3_error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            k: v for k, v in asdict(self).items() if v is not None or k in ("serial", "lineage")
        }


@dataclass(frozen=True)
class ChangeEntry:
    """One change in the change log (its `started` and `finished` records merged)."""

    id: str
    kind: str = "change"
    phase: str = "finished"
    result: str = ""  # may be absent (a started record), never null
    who: str = ""
    approved_by: list[str] | None = None
    started_at: str | None = None
    finished_at: str | None = None
    simulated_at: str | None = None
    duration_s: float | None = None
    target: str | None = None
    bundle: str | None = None
    plan_sha256: str | None = None
    spec_revision: str | None = None
    spec_sha256: str | None = None
    counts: dict[str, int] | None = None
    error: str | None = None
    lock: dict[str, str] | None = None
    snapshot: dict[str, Any] | None = None
    override: dict[str, str | None] | None = None
    window: str | None = None
    state_serial_after: int | None = None
    errored_state: str | None = None


@dataclass(frozen=True)
class Manifest:
    """A plan bundle's manifest: what was planned, from what, against which state."""

    id: str
    environment: str
    cloud: str
    spec_path: str
    spec_sha256: str
    workdir: str
    plan_sha256: str
    plan_json_sha256: str
    module: dict[str, str]
    state: dict[str, Any]
    counts: dict[str, int]
    kind: str = "change"
    created_at: str | None = None
    planned_by: str | None = None
    planner: list[str] | None = None
    profile: str | None = None
    local: bool = False
    target: str | None = None
    changes: bool = True
    git: dict[str, Any] | None = None
    waivers: dict[str, str | None] | None = None
    policy: dict[str, Any] | None = None
    rollback_to: dict[str, str] | None = None
