"""Where a spec came from in git: commit, branch, clean tree (CHG-1 provenance)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from kubeprod.errors import InputError


def _git(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, check=False, timeout=30
    )


def provenance(spec: str | Path) -> dict[str, object]:
    """commit, branch, clean (whole work tree), repo root; commit None outside git."""
    folder = Path(spec).resolve().parent
    top = _git(folder, "rev-parse", "--show-toplevel")
    if top.returncode != 0:
        return {"commit": None, "branch": None, "clean": False, "repo": None}
    root = Path(top.stdout.strip())
    commit = _git(root, "rev-parse", "HEAD")
    branch = _git(root, "symbolic-ref", "--short", "-q", "HEAD")
    status = _git(root, "status", "--porcelain", "--untracked-files=normal")
    return {
        "commit": commit.stdout.strip() if commit.returncode == 0 else None,
        "branch": branch.stdout.strip() or None,
        "clean": status.returncode == 0 and not status.stdout.strip(),
        "repo": str(root),
    }


def show(spec: str | Path, revision: str) -> tuple[str, str]:
    """(text of `spec` at `revision`, full commit id), via `git show REV:path`."""
    path = Path(spec).resolve()
    top = _git(path.parent, "rev-parse", "--show-toplevel")
    if top.returncode != 0:
        raise InputError(
            f"{spec} is not in a git repository, so --to {revision} cannot name a revision. "
            "Fix: pass a change id from `kubeprod history` instead"
        )
    root = Path(top.stdout.strip())
    rel = path.relative_to(root).as_posix()
    commit = _git(root, "rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}")
    if commit.returncode != 0:
        raise InputError(
            f"'{revision}' is not a revision of {root}. Fix: pass a commit, tag or "
            "branch (`git log -- " + rel + "`) or a change id from `kubeprod history`"
        )
    full = commit.stdout.strip()
    shown = _git(root, "show", f"{full}:{rel}")
    if shown.returncode != 0:
        raise InputError(f"{rel} does not exist at {revision} ({full[:12]}). Fix: pick another")
    return shown.stdout, full
