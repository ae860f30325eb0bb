"""Offline OpenAPI validation of manifests, as strict as an API server.

Uses the `kubernetes-validate` package's bundled schemas (strict: unknown fields
fail) for the cluster minor and the next one, so an API removed in the next
release fails before the upgrade. Objects whose kind the core schemas do not
know are errors for built-in API groups (the API was removed) and reported as
skipped for custom resources (Flux, Config Sync, Argo CD objects).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def shipped_minors() -> list[str]:
    """Kubernetes minors whose strict schemas the installed package ships."""
    import kubernetes_validate  # lazy, for start-up time (~0.1 s)

    root = Path(kubernetes_validate.__file__).parent / "kubernetes-json-schema"
    minors = {
        ".".join(p.name[1:].split("-")[0].split(".")[:2])
        for p in root.iterdir()
        if p.name.endswith("-local-strict")
    }
    return sorted(minors, key=lambda v: tuple(int(x) for x in v.split(".")))


def target_minors(cluster_minor: str) -> tuple[list[str], str]:
    """[N, N+1] where shipped (N+1 falls back to the newest shipped), and a note."""
    shipped = shipped_minors()
    major, minor = cluster_minor.split(".")
    nxt = f"{major}.{int(minor) + 1}"
    note = ""
    if nxt not in shipped:
        note = f"{nxt} schemas are not shipped; validated against {shipped[-1]} instead"
        nxt = shipped[-1]
    return sorted({cluster_minor, nxt}), note


def is_builtin(api_version: str) -> bool:
    """Core Kubernetes API groups (v1, apps, policy, *.k8s.io), as opposed to CRDs."""
    group = api_version.rsplit("/", 1)[0] if "/" in api_version else ""
    return "." not in group or group.endswith(".k8s.io")


def validate(objs: list[dict[str, Any]], minor: str) -> tuple[list[str], list[str]]:
    """(errors, skipped kinds) of `objs` against the strict schemas of `minor`."""
    import kubernetes_validate  # lazy, for start-up time (~0.1 s)

    errors: list[str] = []
    skipped: list[str] = []
    for obj in objs:
        where = f"{obj.get('kind')}/{(obj.get('metadata') or {}).get('name')}"
        try:
            kubernetes_validate.validate(obj, f"{minor}.0", strict=True)
        except kubernetes_validate.SchemaNotFoundError:
            if is_builtin(str(obj.get("apiVersion", ""))):
                errors.append(
                    f"{minor}: {where}: {obj.get('apiVersion')} {obj.get('kind')} is not served "
                    f"by Kubernetes {minor} (a removed or unknown API)"
                )
            else:
                skipped.append(f"{where} ({obj.get('apiVersion')})")
        except kubernetes_validate.ValidationError as exc:
            path = ".".join(str(p) for p in exc.path)
            errors.append(f"{minor}: {where}: {path}: {exc.message}")
    return errors, skipped
