"""Builders for the baseline's Kubernetes objects (plain dicts, API field names).

Namespaces with Pod Security Standard labels, NetworkPolicies (default deny both
ways, DNS egress, the spec's allows), PodDisruptionBudgets and the default
StorageClass encrypted with the environment's customer-managed key.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the policy gate imports this module and must start without pydantic
    from kubeprod.spec.model import Environment, NetworkAllow

Obj = dict[str, Any]
MANAGED_BY = {"app.kubernetes.io/managed-by": "kubeprod"}
ROLE_LABEL = "kubeprod.io/namespace-role"
PSS_PREFIX = "pod-security.kubernetes.io/"
NAME_LABEL = "kubernetes.io/metadata.name"
DEFAULT_CLASS = "storageclass.kubernetes.io/is-default-class"
DEFAULT_DENY = "default-deny-all"
DNS_EGRESS = "allow-dns-egress"


def meta(name: str, namespace: str | None = None, **extra: Any) -> Obj:
    out: Obj = {"name": name}
    if namespace is not None:
        out["namespace"] = namespace
    labels = {**MANAGED_BY, **extra.pop("labels", {})}
    out["labels"] = dict(sorted(labels.items()))
    out.update(extra)
    return out


def pss_labels(level: str, version: str, *, audit: str = "restricted") -> dict[str, str]:
    """enforce/audit/warn labels, each version pinned to the cluster minor (v1.35)."""
    pinned = f"v{version}"
    labels = {
        f"{PSS_PREFIX}enforce": level,
        f"{PSS_PREFIX}enforce-version": pinned,
        f"{PSS_PREFIX}audit": audit,
        f"{PSS_PREFIX}audit-version": pinned,
        f"{PSS_PREFIX}warn": level,
        f"{PSS_PREFIX}warn-version": pinned,
    }
    return labels


def namespace(name: str, role: str, level: str, version: str, *, note: str = "") -> Obj:
    extra: dict[str, Any] = {"annotations": {"kubeprod.io/why": note}} if note else {}
    body = meta(name, labels={ROLE_LABEL: role, **pss_labels(level, version)}, **extra)
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": body}


def _ns_selector(name: str) -> Obj:
    return {"matchLabels": {NAME_LABEL: name}}


def _pods(labels: dict[str, str]) -> Obj:
    return {"matchLabels": dict(sorted(labels.items()))} if labels else {}


def network_policy(name: str, ns: str, spec: Obj) -> Obj:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": meta(name, ns),
        "spec": spec,
    }


def default_deny(ns: str) -> Obj:
    """SEC-5: every pod of `ns` isolated for ingress and egress; nothing allowed."""
    return network_policy(
        DEFAULT_DENY, ns, {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    )


def dns_egress(ns: str) -> Obj:
    """The one egress every pod needs: cluster DNS (kube-dns / CoreDNS in kube-system)."""
    return network_policy(
        DNS_EGRESS,
        ns,
        {
            "podSelector": {},
            "policyTypes": ["Egress"],
            "egress": [
                {
                    "to": [
                        {
                            "namespaceSelector": _ns_selector("kube-system"),
                            "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
                        }
                    ],
                    "ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}],
                }
            ],
        },
    )


def _allow_suffix(allow: NetworkAllow) -> str:
    return f"{allow.protocol.lower()}-{allow.port}"


def allow_ingress(ns: str, allow: NetworkAllow, name: str) -> Obj:
    """Pods of `ns` accept `allow.port` from the declared namespace (and labels)."""
    peer: Obj = {"namespaceSelector": _ns_selector(allow.from_namespace)}
    if allow.from_labels:
        peer["podSelector"] = _pods(allow.from_labels)
    return network_policy(
        name,
        ns,
        {
            "podSelector": {},
            "policyTypes": ["Ingress"],
            "ingress": [
                {"from": [peer], "ports": [{"port": allow.port, "protocol": allow.protocol}]}
            ],
        },
    )


def allow_egress(to_ns: str, allow: NetworkAllow, name: str) -> Obj:
    """The sending side (a workload namespace too): its pods may reach `to_ns`:port."""
    return network_policy(
        name,
        allow.from_namespace,
        {
            "podSelector": _pods(allow.from_labels),
            "policyTypes": ["Egress"],
            "egress": [
                {
                    "to": [{"namespaceSelector": _ns_selector(to_ns), "podSelector": {}}],
                    "ports": [{"port": allow.port, "protocol": allow.protocol}],
                }
            ],
        },
    )


def network_policies(env: Environment) -> list[Obj]:
    """Default deny + DNS in every workload namespace, then each declared allow."""
    workload = [ns.name for ns in env.cluster.namespaces]
    out: list[Obj] = []
    for name in workload:
        out += [default_deny(name), dns_egress(name)]
    used: set[tuple[str, str]] = set()

    def unique(ns: str, base: str) -> str:
        name, n = base, 2
        while (ns, name) in used:
            name, n = f"{base}-{n}", n + 1
        used.add((ns, name))
        return name

    for target in env.cluster.namespaces:
        for allow in target.allows:
            suffix = _allow_suffix(allow)
            name = unique(target.name, f"allow-from-{allow.from_namespace}-{suffix}")
            out.append(allow_ingress(target.name, allow, name))
            if allow.from_namespace in workload:
                name = unique(allow.from_namespace, f"allow-to-{target.name}-{suffix}")
                out.append(allow_egress(target.name, allow, name))
    return out


def pdb(name: str, ns: str, match: dict[str, str], *, max_unavailable: int = 1) -> Obj:
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": meta(name, ns),
        "spec": {"maxUnavailable": max_unavailable, "selector": {"matchLabels": match}},
    }


def storage_class_parameters(env: Environment, cloud: str) -> tuple[str, dict[str, str]]:
    """(provisioner, parameters) of the encrypted default class; names follow the renderers.

    AWS: the EBS key's alias (kms.tf `alias/<name>-ebs`), as an alias ARN when the
    spec names the account. Azure: the disk encryption set `des-<name>` in
    `rg-<name>-aks`; the subscription comes from the spec or, like the provider's,
    from ARM_SUBSCRIPTION_ID at delivery. GCP: the `gke-boot-disks` key in the
    `<name>-gke` key ring.
    """
    if cloud == "aws":
        aws = env.clouds.aws
        assert aws is not None
        alias = f"alias/{env.name}-ebs"
        key = f"arn:aws:kms:{aws.region}:{aws.account_id}:{alias}" if aws.account_id else alias
        return "ebs.csi.aws.com", {
            "type": "gp3",
            "encrypted": "true",
            "kmsKeyId": key,
            "csi.storage.k8s.io/fstype": "ext4",
        }
    if cloud == "azure":
        azure = env.clouds.azure
        assert azure is not None
        sub = azure.subscription_id or "${ARM_SUBSCRIPTION_ID}"
        des = (
            f"/subscriptions/{sub}/resourceGroups/rg-{env.name}-aks/providers/"
            f"Microsoft.Compute/diskEncryptionSets/des-{env.name}"
        )
        return "disk.csi.azure.com", {
            "skuName": "Premium_ZRS",
            "diskEncryptionSetID": des,
            "diskEncryptionType": "EncryptionAtRestWithCustomerKey",
        }
    gcp = env.clouds.gcp
    assert gcp is not None
    key = (
        f"projects/{gcp.project}/locations/{gcp.region}/keyRings/{env.name}-gke/"
        "cryptoKeys/gke-boot-disks"
    )
    return "pd.csi.storage.gke.io", {
        "type": "pd-balanced",
        "replication-type": "regional-pd",
        "disk-encryption-kms-key": key,
    }


STORAGE_CLASS_NAME = "encrypted-cmk"


def storage_class(env: Environment, cloud: str) -> Obj:
    """SEC-3: the default class: customer-key encrypted, expandable, kept on PVC delete."""
    provisioner, parameters = storage_class_parameters(env, cloud)
    return {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": meta(STORAGE_CLASS_NAME, annotations={DEFAULT_CLASS: "true"}),
        "provisioner": provisioner,
        "parameters": parameters,
        "reclaimPolicy": "Retain",
        "allowVolumeExpansion": True,
        "volumeBindingMode": "WaitForFirstConsumer",
    }
