"""One rule per requirement ID; importing this package registers them all."""

from kubeprod.policy.rules import (  # noqa: F401
    characteristics,
    dr,
    kubernetes,
    network,
    security,
)
from kubeprod.policy.rules.base import REGISTRY, Finding, Options, Rule

__all__ = ["REGISTRY", "Finding", "Options", "Rule"]
