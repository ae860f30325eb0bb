"""Per-cloud facts, each written once: renderers emit them, rules judge by them.

One module per cloud (`aws`, `azure`, `gcp`) holds the values the cloud's
documentation fixes (log categories, logging components, built-in policy IDs, ...)
and `NOT_COVERED`: every requirement the cloud's module does not meet, with the
reason. A leaf package: it imports only the requirement catalogue, so the spec,
the renderers, the policy gate and `kubeprod explain` can all use it.
"""

from __future__ import annotations

from importlib import import_module

from kubeprod.requirements import Req

CLOUDS = ("aws", "azure", "gcp")

# Requirements no cloud's module meets yet, and why.
EVERY_CLOUD: dict[Req, str] = {
    Req.DR_3: "a drill is an operation, not a rendered resource: `kubeprod dr drill` runs and "
    "times it (AWS, on the local cloud), the gate's DR-3 judges the drill history (docs/dr.md)",
}


def not_covered(cloud: str) -> dict[Req, str]:
    """Requirement -> why `cloud`'s module does not meet it (its own gaps and EVERY_CLOUD)."""
    own: dict[Req, str] = import_module(f"kubeprod.facts.{cloud}").NOT_COVERED
    return {**EVERY_CLOUD, **own}
