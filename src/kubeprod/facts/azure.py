"""Azure (AKS) facts used by both the renderer and the policy rules."""

from __future__ import annotations

from kubeprod.requirements import Req

# K8S-7 / SEC-7: every AKS control-plane log category the brief's "enhanced logging"
# needs (AKS docs, "Monitor AKS: resource logs"; kube-audit-admin is the audit log
# without get/list events).
AKS_LOG_CATEGORIES: tuple[str, ...] = (
    "kube-audit-admin",
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "cluster-autoscaler",
    "guard",
)

# SEC-6: built-in initiative "Kubernetes cluster pod security restricted standards for
# Linux-based workloads" (Azure Policy add-on, Gatekeeper).
PSS_RESTRICTED_INITIATIVE_GUID = "42b8ef37-b724-4e24-bbc8-7a7708edfe00"
PSS_RESTRICTED_INITIATIVE = (
    f"/providers/Microsoft.Authorization/policySetDefinitions/{PSS_RESTRICTED_INITIATIVE_GUID}"
)

# What the rendered Azure module does not meet, and why (the
# cloud-independent gaps are `kubeprod.facts.EVERY_CLOUD`).
NOT_COVERED: dict[Req, str] = {}
