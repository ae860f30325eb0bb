"""Rewrite every generated artefact from a fresh render of examples/production.yaml.

Run from anywhere: `.venv/bin/python scripts/refresh_golden.py`. With the source of
the checkout it lives in, it
- replaces tests/golden/<module>/ wholesale (files the render no longer writes are
  removed), and
- rewrites the README's feature table (between its BEGIN/END markers) from the
  requirement catalogue and the render (`kubeprod.explain.feature_table`),
and lists what changed. Review `git diff tests/golden README.md` like any other change.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from kubeprod.explain import README, refresh_readme  # noqa: E402
from kubeprod.render.golden import MODULES, render_tree, tree_files  # noqa: E402

GOLDEN = REPO / "tests" / "golden"


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="kubeprod-golden-") as tmp:
        fresh = Path(tmp)
        render_tree(REPO, fresh)
        before = {m: tree_files(GOLDEN / m) if (GOLDEN / m).is_dir() else {} for m in MODULES}
        changed = []
        for module in MODULES:
            after = tree_files(fresh / module)
            old = before[module]
            changed += [
                f"{module}/{name}"
                for name in sorted(set(old) | set(after))
                if old.get(name) != after.get(name)
            ]
            shutil.rmtree(GOLDEN / module, ignore_errors=True)
            shutil.copytree(fresh / module, GOLDEN / module)
    for name in changed:
        print(f"updated tests/golden/{name}")
    print(f"tests/golden: {len(changed)} file(s) changed")
    if any(name.startswith("aws/") for name in changed):
        print("the AWS render changed: also run .venv/bin/python scripts/refresh_plan_data.py")
    print(f"README.md feature table: {'updated' if refresh_readme(README) else 'unchanged'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
