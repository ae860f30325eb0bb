"""One rule per requirement ID; importing this package registers them all."""

from kubeprod.policy.rules import characteristics, kubernetes, network, security  # noqa: F401
from kubeprod.policy.rules.base import REGISTRY, Finding, Options, Rule

__all__ = ["REGISTRY", "Finding", "Options", "Rule"]
