"""Environment + cloud -> the baseline's YAML files and kustomization.yaml.

Files by concern, each a multi-document YAML with kubeprod's generated-file
header (hash-checked like the Terraform files, so hand edits are refused):
namespaces.yaml, network-policies.yaml, storage-class.yaml, and on EKS
cluster-autoscaler.yaml; kustomization.yaml lists them (`kubectl apply -k`).
"""

from __future__ import annotations

from typing import Any

import yaml

from kubeprod.baseline import autoscaler, gitops, objects
from kubeprod.baseline.objects import Obj
from kubeprod.facts import system_namespaces as system
from kubeprod.spec.model import Environment

SUBDIR = "kubernetes"
KUSTOMIZATION = "kustomization.yaml"


def namespaces(env: Environment, cloud: str) -> list[Obj]:
    """Workload namespaces (restricted) and the cloud's system namespaces (privileged)."""
    version = env.kubernetes.version
    out = [
        objects.namespace(
            ns.name,
            "workload",
            "restricted",
            version,
            note="SEC-5/SEC-6: pod security restricted; default-deny ingress and egress",
        )
        for ns in env.cluster.namespaces
    ]
    levels = {ns.name: "privileged" for ns in present_system_namespaces(env, cloud)}
    notes = {ns.name: f"runs {ns.runs}; {ns.why}" for ns in system.system_namespaces(cloud)}
    levels.update(env.cluster.system_namespaces)
    for name, level in sorted(levels.items()):
        note = notes.get(name, "declared in the spec's cluster.system_namespaces")
        out.append(objects.namespace(name, "system", level, version, note=note))
    return out


def present_system_namespaces(env: Environment, cloud: str) -> list[system.SystemNamespace]:
    """System namespaces the environment's add-ons create on `cloud`."""
    present = []
    for ns in system.system_namespaces(cloud):
        if ns.name == "amazon-cloudwatch" and not env.monitoring.container_insights:
            continue
        if ns.name == "gmp-system" and not env.monitoring.managed_prometheus:
            continue
        present.append(ns)
    return present


def manifest_files(env: Environment, cloud: str) -> dict[str, list[Obj]]:
    """File name -> objects of the baseline for `cloud`. Deterministic, no I/O."""
    files: dict[str, list[Obj]] = {
        "namespaces.yaml": namespaces(env, cloud),
        "network-policies.yaml": objects.network_policies(env),
    }
    if env.encryption.volumes:
        files["storage-class.yaml"] = [objects.storage_class(env, cloud)]
    if cloud == "aws":
        files["cluster-autoscaler.yaml"] = autoscaler.manifests(env)

    files.update(gitops.manifest_files(env, cloud))
    return files


# libyaml's safe dumper when PyYAML has it (the same text, ten times faster)
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)

# The requirement each file meets, written as a tag comment (`kubeprod explain` reads it).
TAGS = {
    "namespaces.yaml": "SEC-6: workload namespaces enforce the restricted Pod Security "
    "Standard (enforce/audit/warn, version pinned); system namespaces say why they cannot",
    "network-policies.yaml": "SEC-5: default deny ingress and egress in every workload "
    "namespace; only DNS egress and the spec's declared allows are open",
    "storage-class.yaml": "SEC-3 / K8S-6: the default StorageClass encrypts volumes with the "
    "environment's customer-managed key",
    "cluster-autoscaler.yaml": "CHR-6 / K8S-3: Cluster Autoscaler with the spec's conservative "
    "scale-down flags and balance-similar-node-groups, on the system nodes",
}


def dump(docs: list[Any], tag: str | None = None) -> str:
    text = yaml.dump_all(docs, Dumper=_DUMPER, sort_keys=False, default_flow_style=False, width=100)
    return f"# {tag}\n{text}" if tag else text


def kustomization(names: list[str]) -> Obj:
    return {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": sorted(names),
    }


def render_bodies(env: Environment, cloud: str) -> dict[str, str]:
    """File name -> text of the kubernetes/ directory, without the generated-file header
    (kubeprod.render adds it, as for the .tf files)."""
    files = manifest_files(env, cloud)
    texts = {name: dump(docs, TAGS.get(name)) for name, docs in files.items()}
    applied = [name for name in files if not name.startswith("gitops-")]
    texts[KUSTOMIZATION] = dump([kustomization(applied)])
    return texts
