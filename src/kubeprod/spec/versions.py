"""Kubernetes minor versions in standard support, per cloud (K8S-1).

Dated table, read from the providers' published release calendars
(EKS "Kubernetes version lifecycle", AKS "Supported Kubernetes versions",
GKE "release schedule") as of AS_OF. Update it when the calendars move;
`kubeprod versions` prints what it implies.
"""

from __future__ import annotations

AS_OF = "2026-11-28"

STANDARD_SUPPORT: dict[str, tuple[str, ...]] = {
    "aws": ("1.34", "1.35", "1.36"),
    "azure": ("1.34", "1.35", "1.36"),
    "gcp": ("1.34", "1.35", "1.36"),
}


def _key(version: str) -> tuple[int, int]:
    major, minor = version.split(".")
    return int(major), int(minor)


def newest_common() -> str:
    """N: the newest minor every cloud supports in standard support."""
    common = set.intersection(*(set(v) for v in STANDARD_SUPPORT.values()))
    return max(common, key=_key)


def n_minus_one() -> str:
    """N-1: the version production runs (K8S-1)."""
    major, minor = _key(newest_common())
    return f"{major}.{minor - 1}"
