"""Reviewable renders: a fresh render of the example matches tests/golden/ byte for byte.

On a mismatch after an intended renderer change, refresh with
`.venv/bin/python scripts/refresh_golden.py` and review `git diff tests/golden`.
"""

from __future__ import annotations

import difflib
import shutil
from pathlib import Path

import pytest
from conftest import EXAMPLE, ROOT

from kubeprod.cli import main
from kubeprod.render import portable_path
from kubeprod.render.golden import MODULES, render_tree, tree_files

GOLDEN = ROOT / "tests" / "golden"
REFRESH = ".venv/bin/python scripts/refresh_golden.py"


def _mismatch(expected: dict[str, bytes], actual: dict[str, bytes], where: str) -> str:
    missing = sorted(set(expected) - set(actual))
    extra = sorted(set(actual) - set(expected))
    lines = [f"{where} differs from the golden render; if intended, run `{REFRESH}`"]
    lines += [f"  no longer rendered: {name}" for name in missing]
    lines += [f"  not in tests/golden: {name}" for name in extra]
    for name in sorted(set(expected) & set(actual)):
        if expected[name] != actual[name]:
            diff = difflib.unified_diff(
                expected[name].decode().splitlines(),
                actual[name].decode().splitlines(),
                f"golden/{name}",
                f"render/{name}",
                lineterm="",
                n=1,
            )
            lines += list(diff)[:40]
    return "\n".join(lines)


@pytest.fixture(scope="module")
def fresh(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("golden")
    render_tree(ROOT, out)
    return out


@pytest.mark.parametrize("module", MODULES)
def test_render_matches_golden(fresh, module):
    """Every file each module's render writes (not only *.tf) equals tests/golden/."""
    expected, actual = tree_files(GOLDEN / module), tree_files(fresh / module)
    assert expected, f"tests/golden/{module} is missing; run `{REFRESH}`"
    assert actual == expected, _mismatch(expected, actual, module)


def test_golden_holds_only_known_modules():
    stray = {p.name for p in GOLDEN.iterdir() if p.is_dir()} - set(MODULES)
    assert not stray, f"tests/golden has directories no render writes: {stray}"


@pytest.mark.parametrize(
    ("argv", "module"),
    [(["render", "--cloud", "gcp"], "gcp"), (["bootstrap", "--cloud", "azure"], "azure-bootstrap")],
)
def test_cli_with_an_absolute_spec_path_writes_the_golden_bytes(
    tmp_path, monkeypatch, argv, module
):
    """Headers are portable: no absolute path, so any machine's render is the golden one."""
    spec = tmp_path / "examples" / "production.yaml"
    spec.parent.mkdir()
    shutil.copyfile(EXAMPLE, spec)
    monkeypatch.chdir(tmp_path)
    assert main([argv[0], str(spec), *argv[1:]]) == 0
    actual = tree_files(tmp_path / "infra" / "production" / module)
    assert actual == tree_files(GOLDEN / module), _mismatch(
        tree_files(GOLDEN / module), actual, f"`kubeprod {argv[0]}` from the CLI"
    )
    assert str(tmp_path) not in b"".join(actual.values()).decode()


def test_portable_path_relativizes_absolute_paths(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert portable_path(tmp_path / "infra" / "x") == "infra/x"
    assert portable_path("specs/p.yaml") == "specs/p.yaml"
    outside = portable_path(tmp_path.parent / "elsewhere" / "s.yaml")
    assert not outside.startswith("/") and outside.endswith("elsewhere/s.yaml")
