"""Lazy imports are the exception (issue 9, item 5): each one kept names why.

import-linter (`lint-imports`, run by scripts/test.sh) checks the layers and cycles; this
test checks what it cannot: where imports sit inside functions.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "kubeprod"

# Modules whose function-level kubeprod imports keep start-up fast; each says so in its
# module docstring or at the function (cli and change/commands and policy/gate: `--help`;
# clouds: one cloud's renderer; spec: load_spec without pydantic for the gate).
DISPATCH = {"cli.py", "change/commands.py", "policy/gate.py", "clouds/__init__.py",
            "spec/__init__.py"}  # fmt: skip
# Modules whose third-party imports sit inside functions, said in their docstring.
DOCUMENTED = {"local/moto_server.py": "moto is imported inside the patches on purpose"}


def function_imports(tree: ast.Module) -> list[tuple[ast.Import | ast.ImportFrom, bool]]:
    """(import statement, inside `if TYPE_CHECKING`) for every import inside a function."""
    found: list[tuple[ast.Import | ast.ImportFrom, bool]] = []

    def walk(node: ast.AST, in_function: bool, typing_only: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.Import, ast.ImportFrom)) and in_function:
                found.append((child, typing_only))
            walk(
                child,
                in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)),
                typing_only
                or (isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test)),
            )

    walk(tree, False, False)
    return found


def is_kubeprod(node: ast.Import | ast.ImportFrom) -> bool:
    if isinstance(node, ast.ImportFrom):
        return node.level > 0 or (node.module or "").split(".")[0] == "kubeprod"
    return any(alias.name.split(".")[0] == "kubeprod" for alias in node.names)


def problems(path: Path, rel: str) -> list[str]:
    """A `# lazy` comment on an import's line or the line above covers it and the imports
    directly below it."""
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    out = []
    covered_until = 0
    for node, typing_only in function_imports(ast.parse(text)):
        said = "# lazy" in lines[node.lineno - 1] or "# lazy" in lines[node.lineno - 2]
        if said or covered_until == node.lineno - 1:
            covered_until = node.end_lineno or node.lineno
            said = True
        if typing_only:
            continue
        where = f"{rel}:{node.lineno}: {ast.unparse(node)}"
        if is_kubeprod(node):
            if rel not in DISPATCH:
                out.append(f"{where}: import kubeprod modules at module level")
        elif not said and rel not in DOCUMENTED:
            out.append(f"{where}: import at module level, or say why with `# lazy, ...`")
    return out


def all_problems(root: Path) -> list[str]:
    return [
        problem
        for path in sorted(root.rglob("*.py"))
        for problem in problems(path, path.relative_to(root).as_posix())
    ]


def test_lazy_imports_are_the_exception_and_say_why():
    assert all_problems(SRC) == []


def test_documented_exceptions_still_say_so():
    for rel, phrase in DOCUMENTED.items():
        assert phrase in (SRC / rel).read_text(encoding="utf-8"), rel


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("def f():\n    from kubeprod.errors import InputError\n", "at module level"),
        ("def f():\n    from . import sibling\n", "at module level"),
        ("def f():\n    import hashlib\n", "say why"),
        ("def f():\n    if True:\n        import yaml\n", "say why"),
        ("def f():\n    import boto3  # lazy\n\n    import yaml\n", "say why"),
    ],
)
def test_a_new_unexplained_lazy_import_is_caught(tmp_path, body, expected):
    (tmp_path / "mod.py").write_text(body)
    (found,) = all_problems(tmp_path)
    assert found.startswith("mod.py:") and expected in found


@pytest.mark.parametrize(
    "body",
    [
        "import hashlib\n\ndef f():\n    return hashlib\n",
        "def f():\n    import boto3  # lazy, for start-up time\n    from botocore import config\n",
        "def f():\n    # lazy: the optional extra\n    import moto\n",
        "from typing import TYPE_CHECKING\n\ndef f():\n    if TYPE_CHECKING:\n"
        "        from kubeprod.spec.model import Environment\n",
    ],
)
def test_module_level_explained_and_typing_only_imports_pass(tmp_path, body):
    (tmp_path / "mod.py").write_text(body)
    assert all_problems(tmp_path) == []
