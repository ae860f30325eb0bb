"""Where a spec came from in git: commit, branch, clean tree (CHG-1 provenance)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from kubeprod.errors import InputError


def _git(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, check=False, timeout=30
    )


def blob_check(root: Path, path: Path) -> dict[str, object]:
    """The git blob of `path` as it is on disk and as committed at HEAD.

    `git status` can be blinded (`update-index --skip-worktree`, `--assume-unchanged`,
    a gitignored file never committed); comparing the bytes with HEAD's blob cannot."""
    rel = path.resolve().relative_to(root).as_posix()
    disk = _git(root, "hash-object", "--no-filters", "--", rel)
    head = _git(root, "rev-parse", "--verify", "--quiet", f"HEAD:{rel}")
    disk_blob = disk.stdout.strip() if disk.returncode == 0 else None
    head_blob = head.stdout.strip() if head.returncode == 0 else None
    return {
        "path": rel,
        "blob": disk_blob,
        "head_blob": head_blob,
        "matches_head": bool(disk_blob) and disk_blob == head_blob,
    }


def provenance(spec: str | Path, others: list[Path] | None = None) -> dict[str, object]:
    """commit, branch, clean (whole work tree), repo root, and the blobs of the spec
    and of `others` (the waiver file) compared with HEAD; commit None outside git."""
    folder = Path(spec).resolve().parent
    top = _git(folder, "rev-parse", "--show-toplevel")
    if top.returncode != 0:
        return {"commit": None, "branch": None, "clean": False, "repo": None, "files": []}
    root = Path(top.stdout.strip()).resolve()
    commit = _git(root, "rev-parse", "HEAD")
    branch = _git(root, "symbolic-ref", "--short", "-q", "HEAD")
    status = _git(root, "status", "--porcelain", "--untracked-files=normal")
    files = [blob_check(root, Path(p)) for p in [Path(spec), *(others or [])]]
    return {
        "commit": commit.stdout.strip() if commit.returncode == 0 else None,
        "branch": branch.stdout.strip() or None,
        "clean": status.returncode == 0 and not status.stdout.strip(),
        "repo": str(root),
        "files": files,
    }


def author(spec: str | Path, *, operator: bool = False) -> list[str]:
    """Name and email of the author of HEAD (and, with `operator`, of whoever runs git
    here, from git config); empty outside git."""
    folder = Path(spec).resolve().parent
    found: list[str] = []
    head = _git(folder, "log", "-1", "--format=%an%n%ae")
    if head.returncode == 0:
        found += head.stdout.split("\n")
    if operator:
        for key in ("user.name", "user.email"):
            value = _git(folder, "config", key)
            if value.returncode == 0:
                found.append(value.stdout)
    return [f.strip() for f in found if f.strip()]


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
