"""`kubeprod init`: the commented production spec with the brief's defaults."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from kubeprod.errors import InputError


def example_text() -> str:
    return files("kubeprod").joinpath("data/production.yaml").read_text(encoding="utf-8")


def write_example(path: Path, *, force: bool = False) -> Path:
    if path.exists() and not force:
        raise InputError(
            f"{path} already exists; kubeprod will not overwrite it. "
            "Fix: pass another path, or --force to replace it"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(example_text(), encoding="utf-8")
    return path
