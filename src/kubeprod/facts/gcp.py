"""GCP (GKE) facts used by both the renderer and the policy rules."""

from __future__ import annotations

from kubeprod.requirements import Req

# K8S-7: the GKE logging components of "enhanced logging" (GKE docs, "Configure
# logging": logging_config enable_components).
GKE_LOGGING_COMPONENTS: tuple[str, ...] = (
    "SYSTEM_COMPONENTS",
    "APISERVER",
    "CONTROLLER_MANAGER",
    "SCHEDULER",
    "WORKLOADS",
)

# CHR-7: the GKE monitoring components sent to Cloud Monitoring.
GKE_MONITORING_COMPONENTS: tuple[str, ...] = (
    "SYSTEM_COMPONENTS",
    "APISERVER",
    "CONTROLLER_MANAGER",
    "SCHEDULER",
    "STORAGE",
    "POD",
    "DEPLOYMENT",
    "STATEFULSET",
    "DAEMONSET",
    "HPA",
)

# What the rendered GCP module does not meet, and why (the
# cloud-independent gaps are `kubeprod.facts.EVERY_CLOUD`).
NOT_COVERED: dict[Req, str] = {}
