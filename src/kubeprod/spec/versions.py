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

# K8S-1 on GKE: the minors each release channel offers as its valid versions, as of AS_OF
# (GKE release schedule; the live answer is `gcloud container get-server-config --region R
# --flatten=channels --format="yaml(channels)"`, field channels[].validVersions). A cluster
# enrolled in a channel can only be created at, and upgraded to, a version that channel
# offers: `min_master_version` outside it fails at apply. The newest minor reaches STABLE
# months after RAPID, so N (1.36) is not yet offered on STABLE while N-1 is.
GKE_CHANNEL_MINORS: dict[str, tuple[str, ...]] = {
    "RAPID": ("1.35", "1.36"),
    "REGULAR": ("1.34", "1.35", "1.36"),
    "STABLE": ("1.34", "1.35"),
}


def gke_channel_offers(channel: str, version: str) -> bool:
    """Whether the GKE release channel offers this minor (or a patch of it) as of AS_OF."""
    minor = ".".join(version.split(".")[:2])
    return minor in GKE_CHANNEL_MINORS.get(channel, ())


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
