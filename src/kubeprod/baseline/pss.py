"""Pod Security Standards, `restricted` level, checked offline on every pod template.

Follows the checks of kubernetes/pod-security-admission (policy/check_*.go) for
the latest policy version: the baseline checks (host namespaces, privileged,
capabilities, hostPath volumes, host ports, AppArmor, SELinux, /proc mount,
seccomp not Unconfined, sysctls, Windows host process) and the restricted ones
(volume types, allowPrivilegeEscalation false, runAsNonRoot, runAsUser != 0,
seccomp RuntimeDefault/Localhost, capabilities drop ALL and add at most
NET_BIND_SERVICE). Reference: https://kubernetes.io/docs/concepts/security/pod-security-standards/
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

ALLOWED_VOLUMES = frozenset(
    {
        "configMap",
        "csi",
        "downwardAPI",
        "emptyDir",
        "ephemeral",
        "persistentVolumeClaim",
        "projected",
        "secret",
    }
)
SAFE_SYSCTLS = frozenset(
    {
        "kernel.shm_rmid_forced",
        "net.ipv4.ip_local_port_range",
        "net.ipv4.ip_unprivileged_port_start",
        "net.ipv4.tcp_syncookies",
        "net.ipv4.ping_group_range",
        "net.ipv4.ip_local_reserved_ports",
        "net.ipv4.tcp_keepalive_time",
        "net.ipv4.tcp_fin_timeout",
        "net.ipv4.tcp_keepalive_intvl",
        "net.ipv4.tcp_keepalive_probes",
    }
)
SELINUX_TYPES = frozenset(
    {"", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"}
)
HOST_NAMESPACES = ("hostNetwork", "hostPID", "hostIPC")
WORKLOAD_TEMPLATE_PATHS = {
    "Pod": (),
    "Deployment": ("spec", "template"),
    "StatefulSet": ("spec", "template"),
    "DaemonSet": ("spec", "template"),
    "ReplicaSet": ("spec", "template"),
    "ReplicationController": ("spec", "template"),
    "Job": ("spec", "template"),
    "CronJob": ("spec", "jobTemplate", "spec", "template"),
    "PodTemplate": ("template",),
}


@dataclass(frozen=True)
class Violation:
    """One failed check: which object, which check (upstream name), what is wrong."""

    obj: str  # Kind/namespace/name
    check: str
    detail: str

    def __str__(self) -> str:
        return f"{self.obj}: [{self.check}] {self.detail}"


def pod_template(obj: dict[str, Any]) -> dict[str, Any] | None:
    """The pod (metadata + spec) of a workload object, or None for other kinds."""
    path = WORKLOAD_TEMPLATE_PATHS.get(obj.get("kind", ""))
    if path is None:
        return None
    node: Any = obj
    for key in path:
        node = node.get(key) if isinstance(node, dict) else None
    return node if isinstance(node, dict) else None


def _containers(spec: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for field in ("initContainers", "containers", "ephemeralContainers"):
        for c in spec.get(field) or []:
            yield f"{field}[{c.get('name', '?')}]", c


def _sc(holder: dict[str, Any]) -> dict[str, Any]:
    return holder.get("securityContext") or {}


def check_pod(pod: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(check, detail) for every restricted-level violation of one pod (metadata + spec)."""
    spec = pod.get("spec") or {}
    annotations = (pod.get("metadata") or {}).get("annotations") or {}
    psc = _sc(spec)
    containers = list(_containers(spec))
    # -- baseline --
    for field in HOST_NAMESPACES:
        if spec.get(field):
            yield "hostNamespaces", f"{field}=true"
    if (spec.get("securityContext") or {}).get("windowsOptions", {}).get("hostProcess") or any(
        _sc(c).get("windowsOptions", {}).get("hostProcess") for _, c in containers
    ):
        yield "windowsHostProcess", "hostProcess=true"
    for name, c in containers:
        sc = _sc(c)
        if sc.get("privileged"):
            yield "privileged", f"{name}: privileged=true"
        if sc.get("procMount") not in (None, "Default"):
            yield "procMount", f"{name}: procMount={sc['procMount']}"
        for port in c.get("ports") or []:
            if port.get("hostPort"):
                yield "hostPorts", f"{name}: hostPort={port['hostPort']}"
    for volume in spec.get("volumes") or []:
        kinds = [k for k in volume if k != "name"]
        if "hostPath" in kinds:
            yield "hostPathVolumes", f"volume {volume.get('name')} is a hostPath"
        bad = [k for k in kinds if k not in ALLOWED_VOLUMES]
        if bad:
            yield "restrictedVolumes", f"volume {volume.get('name')} has type {', '.join(bad)}"
    for key, value in annotations.items():
        if (
            key.startswith("container.apparmor.security.beta.kubernetes.io/")
            and value not in ("runtime/default",)
            and not str(value).startswith("localhost/")
        ):
            yield "appArmorProfile", f"annotation {key}={value}"
    holders = [("pod", psc)] + [(n, _sc(c)) for n, c in containers]
    for name, sc in holders:
        apparmor = (sc.get("appArmorProfile") or {}).get("type")
        if apparmor == "Unconfined":
            yield "appArmorProfile", f"{name}: appArmorProfile Unconfined"
        selinux = sc.get("seLinuxOptions") or {}
        if selinux.get("type", "") not in SELINUX_TYPES:
            yield "seLinuxOptions", f"{name}: seLinuxOptions.type={selinux['type']}"
        if selinux.get("user") or selinux.get("role"):
            yield "seLinuxOptions", f"{name}: seLinuxOptions user/role set"
    for sysctl in psc.get("sysctls") or []:
        if sysctl.get("name") not in SAFE_SYSCTLS:
            yield "sysctls", f"sysctl {sysctl.get('name')} is not in the safe set"
    # -- restricted --
    for name, c in containers:
        sc = _sc(c)
        if sc.get("allowPrivilegeEscalation") is not False:
            yield "allowPrivilegeEscalation", f"{name}: allowPrivilegeEscalation must be false"
        caps = sc.get("capabilities") or {}
        if "ALL" not in (caps.get("drop") or []):
            yield "capabilities", f"{name}: capabilities.drop must include ALL"
        added = [a for a in caps.get("add") or [] if a != "NET_BIND_SERVICE"]
        if added:
            yield "capabilities", f"{name}: adds {', '.join(added)} (only NET_BIND_SERVICE)"
    pod_non_root = psc.get("runAsNonRoot")
    if pod_non_root is False:
        yield "runAsNonRoot", "pod: runAsNonRoot=false"
    for name, c in containers:
        own = _sc(c).get("runAsNonRoot")
        if own is False:
            yield "runAsNonRoot", f"{name}: runAsNonRoot=false"
        elif own is None and pod_non_root is not True:
            yield "runAsNonRoot", f"{name}: runAsNonRoot must be true (pod or container)"
    for name, sc in holders:
        if sc.get("runAsUser") == 0:
            yield "runAsUser", f"{name}: runAsUser=0"
    pod_seccomp = (psc.get("seccompProfile") or {}).get("type")
    if pod_seccomp not in (None, "RuntimeDefault", "Localhost"):
        yield "seccompProfile", f"pod: seccompProfile {pod_seccomp}"
    for name, c in containers:
        own = (_sc(c).get("seccompProfile") or {}).get("type")
        if own is not None and own not in ("RuntimeDefault", "Localhost"):
            yield "seccompProfile", f"{name}: seccompProfile {own}"
        elif own is None and pod_seccomp is None:
            yield "seccompProfile", f"{name}: seccompProfile must be RuntimeDefault or Localhost"


def ident(obj: dict[str, Any]) -> str:
    meta = obj.get("metadata") or {}
    ns = meta.get("namespace")
    return f"{obj.get('kind')}/{ns + '/' if ns else ''}{meta.get('name')}"


def check_objects(objs: list[dict[str, Any]]) -> list[Violation]:
    """Every restricted-level violation of every pod template in `objs`."""
    out: list[Violation] = []
    for obj in objs:
        pod = pod_template(obj)
        if pod is None:
            continue
        out += [Violation(ident(obj), check, detail) for check, detail in check_pod(pod)]
    return out
