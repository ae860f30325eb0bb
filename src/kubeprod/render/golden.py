"""Reviewable renders: the example's modules as checked into tests/golden/.

`render_tree` writes every module `kubeprod render` and `kubeprod bootstrap` write
for examples/production.yaml, each into `<dest>/<cloud>` or `<dest>/<cloud>-bootstrap`,
exactly as those commands write them when run from the repository root (same
functions, same headers, every file they write). tests/test_golden.py compares
the result byte for byte with tests/golden/; `scripts/refresh_golden.py`
rewrites tests/golden/ from it.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from pathlib import Path

from kubeprod.render import bootstrap_module, render_to
from kubeprod.render.output import write_module
from kubeprod.spec import load_spec

SPEC = "examples/production.yaml"
CLOUDS = ("aws", "azure", "gcp")
MODULES = (*CLOUDS, *(f"{cloud}-bootstrap" for cloud in CLOUDS))


def render_tree(repo: Path, dest: Path) -> None:
    """Render the golden modules of `repo`'s example into `dest` (one directory per module)."""
    with tempfile.TemporaryDirectory(prefix="kubeprod-golden-") as tmp:
        work = Path(tmp)
        (work / SPEC).parent.mkdir(parents=True)
        shutil.copyfile(repo / SPEC, work / SPEC)
        # The commands resolve paths against the working directory; render in a scratch
        # copy of the repository root so headers read exactly as a user's render does.
        with contextlib.chdir(work):
            env = load_spec(SPEC)
            base = Path("infra") / env.name
            for cloud in CLOUDS:
                render_to(env, cloud, SPEC, base / cloud)
                out = base / f"{cloud}-bootstrap"
                write_module(bootstrap_module(env, cloud, SPEC, str(out)), out)
        dest.mkdir(parents=True, exist_ok=True)
        for module in MODULES:
            shutil.copytree(work / base / module, dest / module, dirs_exist_ok=True)


def tree_files(root: Path) -> dict[str, bytes]:
    """Relative posix path -> bytes of every file under `root`."""
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }
