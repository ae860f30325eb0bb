"""Read Kubernetes manifests from a directory (a render's kubernetes/ or plain YAML)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from kubeprod.errors import InputError

SUFFIXES = (".yaml", ".yml", ".json")
# libyaml's safe loader when PyYAML was built with it: the gate reads manifests in ms
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def manifest_dir(directory: Path) -> Path | None:
    """Where a directory's manifests are: its kubernetes/ subdirectory, or itself."""
    sub = directory / "kubernetes"
    if sub.is_dir():
        return sub
    if any(p.suffix in SUFFIXES for p in directory.iterdir() if p.is_file()):
        return directory
    return None


def load_objects(directory: Path) -> list[dict[str, Any]]:
    """Every Kubernetes object (a mapping with apiVersion and kind) under `directory`.

    kustomization files are build instructions, not objects, and are skipped."""
    objs: list[dict[str, Any]] = []
    for path in sorted(directory.rglob("*")):
        if path.suffix not in SUFFIXES or not path.is_file():
            continue
        if path.name in ("kustomization.yaml", "kustomization.yml", "Kustomization"):
            continue
        try:
            docs = list(yaml.load_all(path.read_text(encoding="utf-8"), Loader=_LOADER))
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = f":{mark.line + 1}" if mark else ""
            raise InputError(
                f"{path}{line}: not valid YAML ({getattr(exc, 'problem', exc)}). "
                "Fix: correct the file or move it out of the manifest directory"
            ) from None
        for doc in docs:
            if isinstance(doc, dict) and doc.get("kind") == "List":
                objs += [d for d in doc.get("items") or [] if isinstance(d, dict)]
            elif isinstance(doc, dict) and "kind" in doc and "apiVersion" in doc:
                objs.append(doc)
    return objs


def of_kind(objs: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [o for o in objs if o.get("kind") == kind]


def name_of(obj: dict[str, Any]) -> str:
    return str((obj.get("metadata") or {}).get("name", ""))


def namespace_of(obj: dict[str, Any]) -> str:
    return str((obj.get("metadata") or {}).get("namespace") or "default")


def labels_of(obj: dict[str, Any]) -> dict[str, str]:
    return dict((obj.get("metadata") or {}).get("labels") or {})
