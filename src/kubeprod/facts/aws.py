"""AWS (EKS) facts used by both the renderer and the policy rules."""

from __future__ import annotations

from typing import Literal, get_args

from kubeprod.requirements import Req

# K8S-7 / SEC-7: every EKS control-plane log type (EKS User Guide, "Control plane logs").
EksLogType = Literal["api", "audit", "authenticator", "controllerManager", "scheduler"]
EKS_LOG_TYPES: tuple[EksLogType, ...] = get_args(EksLogType)

# What the rendered AWS module does not meet, and why (the
# cloud-independent gaps are `kubeprod.facts.EVERY_CLOUD`).
NOT_COVERED: dict[Req, str] = {}
