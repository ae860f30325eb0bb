"""Who may talk to whom under the rendered NetworkPolicies (namespace x namespace x port).

For a spec with several workload namespaces and declared allows, the test computes
every allowed flow between the pods the policies distinguish and asserts: default
deny both ways for every workload namespace; only DNS egress (to kube-dns, port 53)
and exactly the declared allows are open.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import EXAMPLE

from kubeprod.baseline import render
from kubeprod.baseline.reachability import Flow, Pod, Policies
from kubeprod.spec import load_spec

NAMESPACES = """  namespaces:
    - name: frontend
      allows:
        - {from_namespace: kube-system, port: 8443}
    - name: backend
      allows:
        - {from_namespace: frontend, from_labels: {app: web}, port: 8080}
    - name: data
      allows:
        - {from_namespace: backend, port: 5432}
        - {from_namespace: data, from_labels: {app: replica}, port: 5432}
        - {from_namespace: backend, port: 9000, protocol: UDP}
"""
PORTS = [
    (53, "UDP"),
    (53, "TCP"),
    (80, "TCP"),
    (443, "TCP"),
    (5432, "TCP"),
    (5432, "UDP"),
    (8080, "TCP"),
    (8443, "TCP"),
    (9000, "UDP"),
    (9000, "TCP"),
]
DNS = Pod("kube-system", (("k8s-app", "kube-dns"),))


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    text = EXAMPLE.read_text()
    start = text.index("  namespaces:\n")
    end = text.index("  system_namespaces:")
    path = tmp_path_factory.mktemp("spec") / "spec.yaml"
    path.write_text(text[:start] + NAMESPACES + text[end:])
    return load_spec(path)


def expected(env, flow: Flow) -> bool:
    """The spec's intent, computed without the policies."""
    if flow.dst == DNS and flow.port == 53:
        return True
    for target in env.cluster.namespaces:
        for allow in target.allows:
            if (
                flow.dst.namespace == target.name
                and flow.src.namespace == allow.from_namespace
                and allow.from_labels.items() <= flow.src.label_map.items()
                and (flow.port, flow.protocol) == (allow.port, allow.protocol)
            ):
                return True
    return False


def objs_for(env, cloud: str) -> list[dict]:
    files = render.manifest_files(env, cloud)
    return [o for docs in files.values() for o in docs]


@pytest.mark.parametrize("cloud", ["aws", "azure", "gcp"])
def test_only_dns_and_declared_allows_are_open(env, cloud):
    policies = Policies(objs_for(env, cloud))
    workload = {ns.name for ns in env.cluster.namespaces}
    pods = policies.pods()
    assert {p.namespace for p in pods} >= workload | {"kube-system"}
    allowed = policies.matrix(PORTS)
    checked = 0
    for src in pods:
        for dst in pods:
            if src.namespace not in workload and dst.namespace not in workload:
                continue  # system-to-system traffic is not the baseline's to restrict
            for port, protocol in PORTS:
                flow = Flow(src, dst, port, protocol)
                assert (flow in allowed) is expected(env, flow), str(flow)
                checked += 1
    assert checked > 400


def test_the_matrix_has_the_declared_flows(env):
    allowed = {str(f) for f in Policies(objs_for(env, "aws")).matrix(PORTS)}
    assert "frontend[app=web] -> backend:8080/TCP" in allowed
    assert "frontend -> backend:8080/TCP" not in allowed  # only app=web may
    assert "backend -> data:5432/TCP" in allowed
    assert "backend -> data:9000/UDP" in allowed and "backend -> data:9000/TCP" not in allowed
    assert "data[app=replica] -> data:5432/TCP" in allowed
    assert "data -> data:5432/TCP" not in allowed  # not even within the namespace
    assert "kube-system -> frontend:8443/TCP" in allowed
    assert "frontend -> kube-system:53/UDP" not in allowed  # DNS only to kube-dns
    assert "data -> kube-system[k8s-app=kube-dns]:53/UDP" in allowed


def test_removing_the_default_deny_opens_the_namespace(env):
    objs = [
        o
        for o in objs_for(env, "aws")
        if not (
            o["kind"] == "NetworkPolicy"
            and o["metadata"]["name"] == "default-deny-all"
            and o["metadata"]["namespace"] == "frontend"
        )
    ]
    allowed = Policies(objs).matrix(PORTS)
    # frontend still has allow policies for ingress (8443) and egress (DNS, backend):
    # those isolate it, so the reachability stays exact; delete them all and it opens.
    assert Flow(Pod("data"), Pod("frontend"), 80, "TCP") not in allowed
    bare = [
        o
        for o in objs
        if o["metadata"].get("namespace") != "frontend" or o["kind"] != "NetworkPolicy"
    ]
    assert Flow(Pod("data"), Pod("frontend"), 80, "TCP") not in Policies(bare).matrix(PORTS)
    assert Flow(Pod("kube-system"), Pod("frontend"), 80, "TCP") in Policies(bare).matrix(PORTS)


@pytest.mark.parametrize("cloud", ["aws", "azure", "gcp"])
def test_example_render_is_dns_only(cloud, example_env):
    allowed = Policies(objs_for(example_env, cloud)).matrix(PORTS)
    touching = {f for f in allowed if "apps" in (f.src.namespace, f.dst.namespace)}
    assert {str(f) for f in touching} == {
        "apps -> kube-system[k8s-app=kube-dns]:53/UDP",
        "apps -> kube-system[k8s-app=kube-dns]:53/TCP",
    }


def test_rendered_directory_round_trip(tmp_path, env):
    from kubeprod.baseline.load import load_objects

    texts = render.render_bodies(env, "gcp")
    for name, text in texts.items():
        (tmp_path / name).write_text(text)
    loaded = load_objects(Path(tmp_path))
    assert Policies(loaded).matrix(PORTS) == Policies(objs_for(env, "gcp")).matrix(PORTS)
