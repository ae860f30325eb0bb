"""The offline pod security (restricted) checker and the PDB drain lint, on fixtures.

Each failing fixture breaks one upstream pod-security-admission check on an
otherwise passing pod, so a check that stops working fails its own case.
"""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from kubeprod.baseline import pdb_lint, pss

DATA = Path(__file__).parent / "data" / "pss"


def good_pod() -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p", "namespace": "apps"},
        "spec": {
            "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [
                {
                    "name": "c",
                    "image": "x",
                    "securityContext": {
                        "allowPrivilegeEscalation": False,
                        "capabilities": {"drop": ["ALL"]},
                    },
                }
            ],
        },
    }


def pod_spec(pod):
    return pod["spec"]


def container(pod):
    return pod["spec"]["containers"][0]


def csc(pod):
    return container(pod)["securityContext"]


MUTATIONS = {
    "hostNamespaces/hostNetwork": (
        lambda p: pod_spec(p).update(hostNetwork=True),
        "hostNamespaces",
    ),
    "hostNamespaces/hostPID": (lambda p: pod_spec(p).update(hostPID=True), "hostNamespaces"),
    "hostNamespaces/hostIPC": (lambda p: pod_spec(p).update(hostIPC=True), "hostNamespaces"),
    "privileged": (lambda p: csc(p).update(privileged=True), "privileged"),
    "capabilities/add": (
        lambda p: csc(p)["capabilities"].update(add=["SYS_ADMIN"]),
        "capabilities",
    ),
    "capabilities/no-drop-all": (
        lambda p: csc(p)["capabilities"].update(drop=["NET_RAW"]),
        "capabilities",
    ),
    "hostPath": (
        lambda p: pod_spec(p).update(volumes=[{"name": "h", "hostPath": {"path": "/"}}]),
        "hostPathVolumes",
    ),
    "volume-type": (
        lambda p: pod_spec(p).update(volumes=[{"name": "n", "nfs": {"server": "s", "path": "/"}}]),
        "restrictedVolumes",
    ),
    "hostPort": (
        lambda p: container(p).update(ports=[{"containerPort": 80, "hostPort": 80}]),
        "hostPorts",
    ),
    "allowPrivilegeEscalation/unset": (
        lambda p: csc(p).pop("allowPrivilegeEscalation"),
        "allowPrivilegeEscalation",
    ),
    "runAsNonRoot/unset": (
        lambda p: pod_spec(p)["securityContext"].pop("runAsNonRoot"),
        "runAsNonRoot",
    ),
    "runAsNonRoot/false-in-container": (
        lambda p: csc(p).update(runAsNonRoot=False),
        "runAsNonRoot",
    ),
    "runAsUser/0": (lambda p: csc(p).update(runAsUser=0), "runAsUser"),
    "seccomp/unset": (
        lambda p: pod_spec(p)["securityContext"].pop("seccompProfile"),
        "seccompProfile",
    ),
    "seccomp/unconfined": (
        lambda p: csc(p).update(seccompProfile={"type": "Unconfined"}),
        "seccompProfile",
    ),
    "procMount": (lambda p: csc(p).update(procMount="Unmasked"), "procMount"),
    "sysctls": (
        lambda p: pod_spec(p)["securityContext"].update(
            sysctls=[{"name": "kernel.msgmax", "value": "1"}]
        ),
        "sysctls",
    ),
    "seLinux": (lambda p: csc(p).update(seLinuxOptions={"type": "spc_t"}), "seLinuxOptions"),
    "appArmor": (
        lambda p: csc(p).update(appArmorProfile={"type": "Unconfined"}),
        "appArmorProfile",
    ),
    "windowsHostProcess": (
        lambda p: csc(p).update(windowsOptions={"hostProcess": True}),
        "windowsHostProcess",
    ),
    "init-container": (
        lambda p: pod_spec(p).update(initContainers=[{"name": "i", "image": "x"}]),
        "allowPrivilegeEscalation",
    ),
}


def test_the_base_pod_passes():
    assert pss.check_objects([good_pod()]) == []


def test_passing_fixtures():
    objs = list(yaml.safe_load_all((DATA / "passing.yaml").read_text()))
    assert len(objs) == 2
    assert pss.check_objects(objs) == []


@pytest.mark.parametrize("case", sorted(MUTATIONS))
def test_each_check_fails_its_fixture(case):
    mutate, check = MUTATIONS[case]
    pod = copy.deepcopy(good_pod())
    mutate(pod)
    found = pss.check_objects([pod])
    assert check in {v.check for v in found}, found


@pytest.mark.parametrize(
    "kind,wrap",
    [
        ("Deployment", lambda spec: {"spec": {"template": spec}}),
        ("StatefulSet", lambda spec: {"spec": {"template": spec}}),
        ("DaemonSet", lambda spec: {"spec": {"template": spec}}),
        ("Job", lambda spec: {"spec": {"template": spec}}),
        ("CronJob", lambda spec: {"spec": {"jobTemplate": {"spec": {"template": spec}}}}),
    ],
)
def test_pod_templates_of_every_workload_kind_are_checked(kind, wrap):
    bad = good_pod()
    bad["spec"]["hostNetwork"] = True
    obj = {"apiVersion": "x", "kind": kind, "metadata": {"name": "w", "namespace": "apps"}}
    obj.update(wrap({"metadata": {}, "spec": bad["spec"]}))
    (violation,) = pss.check_objects([obj])
    assert violation.obj == f"{kind}/apps/w" and violation.check == "hostNamespaces"


def deployment(replicas: int) -> dict:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "apps"},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}}, "spec": {}},
        },
    }


def budget(**spec) -> dict:
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": "web", "namespace": "apps"},
        "spec": {"selector": {"matchLabels": {"app": "web"}}, **spec},
    }


@pytest.mark.parametrize(
    "spec,replicas,blocks",
    [
        ({"maxUnavailable": 1}, 3, False),
        ({"minAvailable": 2}, 3, False),
        ({"minAvailable": "50%"}, 3, False),
        ({"maxUnavailable": 0}, 3, True),
        ({"maxUnavailable": "0%"}, 3, True),
        ({"minAvailable": 3}, 3, True),
        ({"minAvailable": 5}, 3, True),
        ({"minAvailable": 1}, 1, True),
        ({"minAvailable": "100%"}, 3, True),
    ],
)
def test_pdb_lint(spec, replicas, blocks):
    problems = pdb_lint.lint([deployment(replicas), budget(**spec)])
    assert bool(problems) is blocks, problems
    if blocks:
        assert "PodDisruptionBudget apps/web" in problems[0] and "Fix:" in problems[0]


def test_pdb_lint_only_counts_the_selected_workload():
    other = deployment(1)
    other["metadata"]["name"] = "other"
    other["spec"]["template"]["metadata"]["labels"] = {"app": "other"}
    assert pdb_lint.lint([deployment(3), other, budget(minAvailable=2)]) == []
