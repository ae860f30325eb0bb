"""EKS: the Cluster Autoscaler, following the cluster-autoscaler AWS README.

Auto-discovery of this cluster's node groups by their tags, the spec's
conservative scale-down flags (CHR-6), `--balance-similar-node-groups` with the
EKS labels that differ between otherwise identical per-zone groups ignored, the
image minor matched to the cluster minor, two replicas (leader election) on the
system nodes (CriticalAddonsOnly toleration), a PDB, and a pod that meets the
`restricted` Pod Security Standard. Its AWS permissions come from EKS Pod
Identity (clouds/aws_autoscaler.py).
"""

from __future__ import annotations

from collections.abc import Sequence

from kubeprod.baseline.objects import Obj, meta, pdb
from kubeprod.spec.model import Environment, duration_minutes

NAME = "cluster-autoscaler"
NAMESPACE = "kube-system"
IMAGE = "registry.k8s.io/autoscaling/cluster-autoscaler"
SELECTOR = {"app.kubernetes.io/name": NAME}
# Labels EKS sets per node group / zone; identical groups differ only in these.
BALANCING_IGNORE = (
    "eks.amazonaws.com/nodegroup",
    "eks.amazonaws.com/nodegroup-image",
    "eks.amazonaws.com/sourceLaunchTemplateId",
    "eks.amazonaws.com/sourceLaunchTemplateVersion",
    "k8s.amazonaws.com/eniConfig",
    "topology.ebs.csi.aws.com/zone",
)


def image_tag(minor: str) -> str:
    """Cluster Autoscaler minors track Kubernetes minors (1.35 -> v1.35.0)."""
    return f"v{minor}.0"


def flags(env: Environment) -> list[str]:
    a = env.autoscaler
    out = [
        "--cloud-provider=aws",
        f"--namespace={NAMESPACE}",
        "--node-group-auto-discovery=asg:tag=k8s.io/cluster-autoscaler/enabled,"
        f"k8s.io/cluster-autoscaler/{env.name}",
        f"--balance-similar-node-groups={str(a.balance_similar_node_groups).lower()}",
        *(f"--balancing-ignore-label={label}" for label in BALANCING_IGNORE),
        "--expander=least-waste",
        f"--scale-down-delay-after-add={duration_minutes(a.scale_down_delay_after_add)}m",
        f"--scale-down-unneeded-time={duration_minutes(a.scale_down_unneeded_time)}m",
        f"--scale-down-utilization-threshold={a.scale_down_utilization_threshold}",
        "--skip-nodes-with-local-storage=true",
        "--skip-nodes-with-system-pods=true",
    ]
    return out


_READ = ["get", "list", "watch"]


def _rule(
    groups: list[str], resources: list[str], verbs: list[str], names: Sequence[str] = ()
) -> Obj:
    rule: Obj = {"apiGroups": groups, "resources": resources, "verbs": verbs}
    if names:
        rule["resourceNames"] = list(names)
    return rule


def rbac() -> list[Obj]:
    cluster_rules = [
        _rule([""], ["events", "endpoints"], ["create", "patch"]),
        _rule([""], ["pods/eviction"], ["create"]),
        _rule([""], ["pods/status"], ["update"]),
        _rule([""], ["endpoints"], ["get", "update"], [NAME]),
        _rule([""], ["nodes"], ["get", "list", "watch", "update"]),
        _rule(
            [""],
            [
                "namespaces",
                "pods",
                "services",
                "replicationcontrollers",
                "persistentvolumeclaims",
                "persistentvolumes",
            ],
            _READ,
        ),
        _rule(["apps"], ["statefulsets", "replicasets", "daemonsets"], _READ),
        _rule(["policy"], ["poddisruptionbudgets"], ["list", "watch"]),
        _rule(
            ["storage.k8s.io"],
            ["storageclasses", "csinodes", "csidrivers", "csistoragecapacities"],
            _READ,
        ),
        _rule(["batch"], ["jobs", "cronjobs"], _READ),
        _rule(["resource.k8s.io"], ["resourceclaims", "resourceslices", "deviceclasses"], _READ),
        _rule(["coordination.k8s.io"], ["leases"], ["create"]),
        _rule(["coordination.k8s.io"], ["leases"], ["get", "update"], [NAME]),
    ]
    role_rules = [
        _rule([""], ["configmaps"], ["create", "list", "watch"]),
        _rule(
            [""],
            ["configmaps"],
            ["delete", "get", "update", "watch"],
            ["cluster-autoscaler-status", "cluster-autoscaler-priority-expander"],
        ),
    ]
    subject = [{"kind": "ServiceAccount", "name": NAME, "namespace": NAMESPACE}]
    return [
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": meta(NAME),
            "rules": cluster_rules,
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": meta(NAME),
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": NAME,
            },
            "subjects": subject,
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": meta(NAME, NAMESPACE),
            "rules": role_rules,
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": meta(NAME, NAMESPACE),
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": NAME},
            "subjects": subject,
        },
    ]


def deployment(env: Environment) -> Obj:
    aws = env.clouds.aws
    assert aws is not None
    probe = {
        "httpGet": {"path": "/health-check", "port": 8085},
        "initialDelaySeconds": 30,
        "periodSeconds": 10,
    }
    container = {
        "name": NAME,
        "image": f"{IMAGE}:{image_tag(env.kubernetes.version)}",
        "imagePullPolicy": "Always",
        "command": ["./cluster-autoscaler", *flags(env)],
        "env": [{"name": "AWS_REGION", "value": aws.region}],
        "ports": [{"name": "metrics", "containerPort": 8085, "protocol": "TCP"}],
        "resources": {
            "requests": {"cpu": "100m", "memory": "600Mi"},
            "limits": {"cpu": "1", "memory": "600Mi"},
        },
        "livenessProbe": probe,
        "readinessProbe": {**probe, "initialDelaySeconds": 5},
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "runAsNonRoot": True,
            "capabilities": {"drop": ["ALL"]},
        },
    }
    spec = {
        "serviceAccountName": NAME,
        "automountServiceAccountToken": True,
        "priorityClassName": "system-cluster-critical",
        "nodeSelector": {"kubeprod.io/node-group": "system"},
        "tolerations": [{"key": "CriticalAddonsOnly", "operator": "Exists"}],
        "topologySpreadConstraints": [
            {
                "maxSkew": 1,
                "topologyKey": "topology.kubernetes.io/zone",
                "whenUnsatisfiable": "ScheduleAnyway",
                "labelSelector": {"matchLabels": SELECTOR},
            }
        ],
        "affinity": {
            "podAntiAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": [
                    {
                        "topologyKey": "kubernetes.io/hostname",
                        "labelSelector": {"matchLabels": SELECTOR},
                    }
                ]
            }
        },
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": 65534,
            "runAsGroup": 65534,
            "fsGroup": 65534,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "containers": [container],
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": meta(NAME, NAMESPACE, labels=SELECTOR),
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": SELECTOR},
            "template": {"metadata": {"labels": {**SELECTOR}}, "spec": spec},
        },
    }


def manifests(env: Environment) -> list[Obj]:
    """ServiceAccount, RBAC, Deployment and PDB of the Cluster Autoscaler."""
    account = {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": meta(NAME, NAMESPACE, labels=SELECTOR),
    }
    return [account, *rbac(), deployment(env), pdb(NAME, NAMESPACE, SELECTOR)]
