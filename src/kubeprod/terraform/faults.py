"""What a failed or interrupted terraform leaves behind, read and explained: an
`errored.tfstate` (the state write failed after an apply) and a state lock.

Below the workflow and the change process so both plan and apply stop on them."""

from __future__ import annotations

import re
from pathlib import Path

from kubeprod.errors import KubeprodError

ERRORED_STATE = "errored.tfstate"


class StateNotSaved(KubeprodError):
    """An errored.tfstate waits to be pushed: planning now would duplicate resources."""

    exit_code = 4


class StateLocked(KubeprodError):
    """The state is locked (by a running or a killed terraform)."""

    exit_code = 5


def errored_state_problem(workdir: Path) -> str | None:
    """terraform could not write the state after an apply: the remote state lacks what
    was built. Planning again would build it all a second time."""
    path = Path(workdir) / ERRORED_STATE
    if not path.exists():
        return None
    return (
        f"[state not saved] {path} exists: an earlier apply built resources but terraform "
        "could not write the state, so the remote state does not know them and a new plan "
        "would create them again. Fix: push it once the backend is reachable: "
        f"`cd {workdir} && terraform state push {ERRORED_STATE}`, then move the file aside "
        f"(`mv {ERRORED_STATE} {ERRORED_STATE}.pushed`) and plan again"
    )


def refuse_errored_state(workdir: Path) -> None:
    """Never plan or apply while an errored.tfstate waits to be pushed."""
    problem = errored_state_problem(workdir)
    if problem:
        raise StateNotSaved(problem)


def lock_info(message: str) -> dict[str, str] | None:
    """ID, Who, Created, Operation of a state lock from terraform's error text."""
    if "state lock" not in message.lower():
        return None
    info = {}
    for field in ("ID", "Path", "Operation", "Who", "Version", "Created"):
        match = re.search(rf"^\s*{field}:\s*(.+)$", message, re.M)
        if match:
            info[field.lower()] = match.group(1).strip()
    return info


def locked_message(lock: dict[str, str], spec: str, local: bool, workdir: Path) -> str:
    """The lock, who holds it, and the exact command that clears it."""
    return (
        f"the state is locked (lock ID {lock.get('id', '?')}, held by {lock.get('who', '?')} "
        f"for {lock.get('operation', '?')} since {lock.get('created', '?')}). If no terraform "
        "is still running (e.g. one was killed or interrupted), clear it: "
        f"`kubeprod unlock {spec} {lock.get('id', '?')}"
        + (" --local" if local else "")
        + " --yes` "
        f"(or `terraform force-unlock {lock.get('id', '?')}` in {workdir})"
    )


def raise_if_locked(exc: Exception, spec: str, local: bool, workdir: Path) -> None:
    """Turn terraform's raw lock error into the unlock command, with the lock ID."""
    lock = lock_info(str(exc))
    if lock and lock.get("id"):
        raise StateLocked(locked_message(lock, spec, local, workdir)) from None
