"""A PodDisruptionBudget must never block a node drain.

A drain evicts every pod of the node through the eviction API; a PDB that allows
no disruption makes the drain (and so node upgrades, SEC-4, and scale-down,
CHR-6) wait forever. Rejected: `maxUnavailable: 0` (or "0%"), `minAvailable:
"100%"`, and `minAvailable` >= the replicas of the workload it selects.
Reference: https://kubernetes.io/docs/tasks/run-application/configure-pdb/
"""

from __future__ import annotations

from typing import Any

from kubeprod.baseline.load import name_of, namespace_of, of_kind
from kubeprod.baseline.selectors import matches

SCALABLE = ("Deployment", "StatefulSet", "ReplicaSet")


def _percent(value: Any) -> int | None:
    if isinstance(value, str) and value.endswith("%"):
        try:
            return int(value[:-1])
        except ValueError:
            return None
    return None


def lint(objs: list[dict[str, Any]]) -> list[str]:
    """One message per PDB that would block a drain; empty when none does."""
    problems: list[str] = []
    workloads = [o for o in objs if o.get("kind") in SCALABLE]
    for pdb in of_kind(objs, "PodDisruptionBudget"):
        spec = pdb.get("spec") or {}
        where = f"PodDisruptionBudget {namespace_of(pdb)}/{name_of(pdb)}"
        fix = "Fix: use maxUnavailable: 1 (or minAvailable below the replica count)"
        max_unavailable = spec.get("maxUnavailable")
        if max_unavailable is not None and (max_unavailable == 0 or _percent(max_unavailable) == 0):
            problems.append(f"{where}: maxUnavailable {max_unavailable} blocks every drain. {fix}")
            continue
        min_available = spec.get("minAvailable")
        if min_available is None:
            continue
        percent = _percent(min_available)
        if percent is not None:
            if percent >= 100:
                problems.append(f"{where}: minAvailable {min_available} blocks every drain. {fix}")
            continue
        selected = [
            w
            for w in workloads
            if namespace_of(w) == namespace_of(pdb)
            and matches(
                spec.get("selector") or {"matchLabels": {"": ""}},
                ((w.get("spec") or {}).get("template") or {}).get("metadata", {}).get("labels")
                or {},
            )
        ]
        for w in selected:
            replicas = (w.get("spec") or {}).get("replicas", 1)
            if isinstance(min_available, int) and min_available >= replicas:
                problems.append(
                    f"{where}: minAvailable {min_available} >= {replicas} replica(s) of "
                    f"{w['kind']} {name_of(w)}: no pod may ever be evicted. {fix}"
                )
    return problems
