"""Shared fixtures and helpers: the example spec, parsing rendered modules."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import hcl2
import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "production.yaml"


@pytest.fixture(scope="session")
def example_env():
    from kubeprod.spec import load_spec

    return load_spec(EXAMPLE)


def plain(value):
    """python-hcl2 8.x keeps string quotes and block markers; drop both for assertions."""
    if isinstance(value, dict):
        return {unquote(k): plain(v) for k, v in value.items() if k != "__is_block__"}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, str):
        return unquote(value)
    return value


def parse_dir(directory: Path) -> dict[str, list]:
    """All top-level blocks of a module, merged by block type, quotes removed."""
    merged: dict[str, list] = {}
    for path in sorted(directory.glob("*.tf")):
        for key, value in plain(hcl2.loads(path.read_text())).items():
            merged.setdefault(key, []).extend(value)
    return merged


def unquote(text: str) -> str:
    return text[1:-1] if text.startswith('"') and text.endswith('"') else text


def resources(parsed: dict[str, list], type_: str) -> dict[str, dict]:
    """name -> body of every resource of `type_`."""
    found: dict[str, dict] = {}
    for entry in parsed.get("resource", []):
        for rtype, named in entry.items():
            if unquote(rtype) == type_:
                for name, body in named.items():
                    found[unquote(name)] = body
    return found


requires_terraform = pytest.mark.skipif(
    shutil.which("terraform") is None, reason="terraform is not on PATH"
)


def mutate(directory: Path, where: str, old: str, new: str) -> None:
    """Replace `old` (whitespace-insensitive) inside one block: "type.name" for a resource,
    or "file.tf" for a whole file."""
    pattern = r"\s*".join(re.escape(part) for part in old.split())
    if where.endswith(".tf"):
        path = directory / where
        text, count = re.subn(pattern, new, path.read_text(), count=1)
        assert count == 1, f"{old!r} not in {where}"
        path.write_text(text)
        return
    rtype, name = where.split(".")
    for path in directory.glob("*.tf"):
        text = path.read_text()
        m = re.search(rf'^resource "{rtype}" "{name}" \{{.*?^\}}', text, re.M | re.S)
        if m:
            block, count = re.subn(pattern, new, m.group(0), count=1)
            assert count == 1, f"{old!r} not in {where}"
            path.write_text(text[: m.start()] + block + text[m.end() :])
            return
    raise AssertionError(f"no resource {where}")


@pytest.fixture(scope="session")
def baseline_renders(tmp_path_factory, example_env) -> dict[str, Path]:
    """The example rendered for each cloud (module + kubernetes/ baseline), read-only."""
    from kubeprod.render import render_to

    out = {}
    for cloud in ("aws", "azure", "gcp"):
        directory = tmp_path_factory.mktemp(f"baseline-{cloud}")
        render_to(example_env, cloud, str(EXAMPLE), directory)
        out[cloud] = directory
    return out


def _checkov_available() -> bool:
    from kubeprod.errors import KubeprodError
    from kubeprod.policy.checkov import checkov_executable

    try:
        checkov_executable()
    except KubeprodError:
        return False
    return True


def pytest_collection_modifyitems(config, items):
    """Tests marked `checkov` are skipped, saying why, where checkov is not installed."""
    marked = [item for item in items if item.get_closest_marker("checkov")]
    if marked and not _checkov_available():
        skip = pytest.mark.skip(reason="checkov not installed (scripts/setup.sh installs it)")
        for item in marked:
            item.add_marker(skip)
