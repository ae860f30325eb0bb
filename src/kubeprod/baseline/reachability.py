"""Who may talk to whom under a set of NetworkPolicies (namespace x namespace x port).

Implements the NetworkPolicy semantics of networking.k8s.io/v1: a pod is isolated
in a direction when a policy selecting it lists that policy type; an isolated pod
accepts (or sends) only what some selecting policy's rule allows, and a connection
needs the sender's egress and the receiver's ingress both to allow it. Namespaces
carry the automatic `kubernetes.io/metadata.name` label. ipBlock peers never
match pods (pod traffic is judged by selectors); named ports are not resolved,
so they never open a numeric port here (conservative for "is it open").
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from kubeprod.baseline.load import labels_of, name_of, namespace_of, of_kind
from kubeprod.baseline.selectors import matches

NAME_LABEL = "kubernetes.io/metadata.name"


@dataclass(frozen=True)
class Pod:
    namespace: str
    labels: tuple[tuple[str, str], ...] = ()

    @property
    def label_map(self) -> dict[str, str]:
        return dict(self.labels)

    def __str__(self) -> str:
        shown = ",".join(f"{k}={v}" for k, v in self.labels)
        return f"{self.namespace}[{shown}]" if shown else self.namespace


@dataclass(frozen=True)
class Flow:
    src: Pod
    dst: Pod
    port: int
    protocol: str

    def __str__(self) -> str:
        return f"{self.src} -> {self.dst}:{self.port}/{self.protocol}"


class Policies:
    """The NetworkPolicies and namespace labels of one manifest set."""

    def __init__(self, objs: list[dict[str, Any]], extra_namespaces: Iterable[str] = ()):
        self.policies = of_kind(objs, "NetworkPolicy")
        self.ns_labels: dict[str, dict[str, str]] = {}
        for ns in [*extra_namespaces, *(namespace_of(p) for p in self.policies)]:
            self.ns_labels.setdefault(ns, {NAME_LABEL: ns})
        for obj in of_kind(objs, "Namespace"):
            self.ns_labels[name_of(obj)] = {**labels_of(obj), NAME_LABEL: name_of(obj)}

    @staticmethod
    def _types(policy: dict[str, Any]) -> list[str]:
        spec = policy.get("spec") or {}
        if spec.get("policyTypes"):
            return list(spec["policyTypes"])
        return ["Ingress", *(["Egress"] if spec.get("egress") else [])]

    def _peer_matches(self, peer: dict[str, Any], home: str, other: Pod) -> bool:
        if "ipBlock" in peer:
            return False
        if "namespaceSelector" in peer:
            ns_ok = matches(peer["namespaceSelector"], self.ns_labels.get(other.namespace, {}))
        else:
            ns_ok = other.namespace == home
        return ns_ok and matches(peer.get("podSelector"), other.label_map)

    @staticmethod
    def _port_matches(ports: list[dict[str, Any]] | None, port: int, protocol: str) -> bool:
        if not ports:
            return True
        for p in ports:
            if p.get("protocol", "TCP") != protocol:
                continue
            value = p.get("port")
            if value is None:
                return True
            if isinstance(value, int) and value <= port <= p.get("endPort", value):
                return True
        return False

    def _allows(self, direction: str, subject: Pod, other: Pod, port: int, protocol: str) -> bool:
        key, peers_key = ("ingress", "from") if direction == "Ingress" else ("egress", "to")
        selecting = [
            p
            for p in self.policies
            if namespace_of(p) == subject.namespace
            and direction in self._types(p)
            and matches((p.get("spec") or {}).get("podSelector") or {}, subject.label_map)
        ]
        if not selecting:
            return True
        for policy in selecting:
            for rule in (policy.get("spec") or {}).get(key) or []:
                peers = rule.get(peers_key)
                peer_ok = not peers or any(
                    self._peer_matches(peer, subject.namespace, other) for peer in peers
                )
                if peer_ok and self._port_matches(rule.get("ports"), port, protocol):
                    return True
        return False

    def allowed(self, flow: Flow) -> bool:
        """The sender's egress and the receiver's ingress both allow the flow."""
        return self._allows(
            "Egress", flow.src, flow.dst, flow.port, flow.protocol
        ) and self._allows("Ingress", flow.dst, flow.src, flow.port, flow.protocol)

    def pods(self) -> list[Pod]:
        """One unlabelled pod per namespace plus every label set a policy names there."""
        found: set[Pod] = {Pod(ns) for ns in self.ns_labels}
        found.add(Pod("kube-system", (("k8s-app", "kube-dns"),)))
        for policy in self.policies:
            spec = policy.get("spec") or {}
            own = (spec.get("podSelector") or {}).get("matchLabels") or {}
            found.add(Pod(namespace_of(policy), tuple(sorted(own.items()))))
            for rule in [*(spec.get("ingress") or []), *(spec.get("egress") or [])]:
                for peer in [*(rule.get("from") or []), *(rule.get("to") or [])]:
                    pod_labels = (peer.get("podSelector") or {}).get("matchLabels") or {}
                    ns_labels = (peer.get("namespaceSelector") or {}).get("matchLabels") or {}
                    ns = ns_labels.get(NAME_LABEL, namespace_of(policy))
                    if ns in self.ns_labels:
                        found.add(Pod(ns, tuple(sorted(pod_labels.items()))))
        return sorted(found, key=str)

    def matrix(self, ports: Iterable[tuple[int, str]]) -> set[Flow]:
        """Every allowed flow between the pods of `pods()` on the given ports."""
        pods = self.pods()
        return {
            flow
            for src in pods
            for dst in pods
            for port, protocol in ports
            if self.allowed(flow := Flow(src, dst, port, protocol))
        }
