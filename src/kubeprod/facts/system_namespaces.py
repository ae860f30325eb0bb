"""System namespaces per cloud: what runs there and why it cannot be restricted.

Workload namespaces enforce the `restricted` Pod Security Standard. These do not:
the cloud's own node agents (CNI, kube-proxy, CSI node plugins, log and metric
agents) run there with host networking, host paths or privileges, which both the
`baseline` and `restricted` levels forbid. kubeprod labels them `privileged`
explicitly (so the choice is visible and audited) and warns/audits at
`restricted`, and refuses a spec that makes one of them stricter.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SystemNamespace:
    name: str
    runs: str
    why: str  # why the add-ons need privileged


_KUBE_SYSTEM = {
    "aws": SystemNamespace(
        "kube-system",
        "aws-node (VPC CNI + network policy agent), kube-proxy, ebs-csi-node, "
        "eks-pod-identity-agent, CoreDNS, cluster-autoscaler",
        "aws-node, kube-proxy and ebs-csi-node use hostNetwork, hostPath and privileged "
        "containers to program the node's network and mount volumes",
    ),
    "azure": SystemNamespace(
        "kube-system",
        "azure-cns, azure-ip-masq-agent, kube-proxy / cilium, csi-azuredisk-node, "
        "csi-azurefile-node, CoreDNS, konnectivity, ama-logs / ama-metrics",
        "the CNI, kube-proxy and CSI node plugins use hostNetwork, hostPath and "
        "privileged containers",
    ),
    "gcp": SystemNamespace(
        "kube-system",
        "anetd (Dataplane V2), kube-proxy, pdcsi-node, fluentbit-gke, gke-metrics-agent, "
        "kube-dns, konnectivity-agent",
        "anetd, the PD CSI node plugin and the logging agents use hostNetwork, hostPath "
        "and privileged containers",
    ),
}
_EXTRA = {
    "aws": [
        SystemNamespace(
            "amazon-cloudwatch",
            "amazon-cloudwatch-observability (CloudWatch agent, Fluent Bit)",
            "the agents read host paths (/var/log, /proc, the container runtime socket)",
        )
    ],
    # gatekeeper-system is created, labelled and reconciled by the Azure Policy add-on.
    "azure": [],
    "gcp": [
        SystemNamespace(
            "gmp-system",
            "Managed Service for Prometheus collectors",
            "the collectors run as a DaemonSet reading host metrics with host access",
        )
    ],
}
ALWAYS_PRIVILEGED = frozenset({"kube-system"})
PLATFORM_NAMES = frozenset(
    {
        "kube-system",
        "kube-public",
        "kube-node-lease",
        "default",
        "amazon-cloudwatch",
        "gatekeeper-system",
        "gmp-system",
        "gmp-public",
        "gke-managed-system",
        "gke-managed-cim",
        "flux-system",
        "config-management-system",
        "argocd",
    }
)


def system_namespaces(cloud: str) -> list[SystemNamespace]:
    """The cloud's system namespaces kubeprod labels privileged."""
    return [_KUBE_SYSTEM[cloud], *_EXTRA[cloud]]


def needs_privileged(cloud: str) -> dict[str, str]:
    """name -> why, for every system namespace on `cloud`."""
    return {ns.name: ns.why for ns in system_namespaces(cloud)}


def is_system(name: str) -> bool:
    """True for platform namespaces (never treated as workload namespaces)."""
    return name in PLATFORM_NAMES or name.startswith(("kube-", "gke-", "aks-"))
