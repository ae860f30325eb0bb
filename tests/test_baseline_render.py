"""The in-cluster baseline (issue 13): what `kubeprod render` writes under kubernetes/.

Per cloud: restricted workload namespaces with pinned versions, default deny both ways
plus DNS, the encrypted default StorageClass, the EKS Cluster Autoscaler; strict
OpenAPI validation for the cluster minor and the next; checkov's Kubernetes checks;
pod security restricted on every pod template; no PDB that blocks a drain.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from conftest import EXAMPLE, parse_dir, resources

from kubeprod.baseline import load, pdb_lint, pss, schema
from kubeprod.render import render_to
from kubeprod.render.output import HandEdited, is_hand_edited

CLOUDS = ("aws", "azure", "gcp")


@pytest.fixture(scope="module")
def renders(baseline_renders) -> dict[str, Path]:
    return baseline_renders


def objects(directory: Path) -> list[dict]:
    return load.load_objects(directory / "kubernetes")


def find(objs: list[dict], kind: str, name: str, namespace: str | None = None) -> dict:
    hits = [
        o
        for o in objs
        if o["kind"] == kind
        and o["metadata"]["name"] == name
        and (namespace is None or o["metadata"].get("namespace") == namespace)
    ]
    assert len(hits) == 1, f"{kind} {namespace}/{name}: {len(hits)} found"
    return hits[0]


@pytest.mark.parametrize("cloud", CLOUDS)
def test_kustomization_lists_every_manifest_file(renders, cloud):
    directory = renders[cloud] / "kubernetes"
    text = (directory / "kustomization.yaml").read_text()
    assert not is_hand_edited(text)
    kustomization = yaml.safe_load(text)
    files = sorted(p.name for p in directory.glob("*.yaml") if p.name != "kustomization.yaml")
    assert kustomization["resources"] == files
    expected = {"namespaces.yaml", "network-policies.yaml", "storage-class.yaml"}
    if cloud == "aws":
        expected.add("cluster-autoscaler.yaml")
    assert set(files) == expected


@pytest.mark.parametrize("cloud", CLOUDS)
def test_workload_namespace_is_restricted_and_pinned(renders, cloud, example_env):
    ns = find(objects(renders[cloud]), "Namespace", "apps")
    labels = ns["metadata"]["labels"]
    pinned = f"v{example_env.kubernetes.version}"
    for mode in ("enforce", "audit", "warn"):
        assert labels[f"pod-security.kubernetes.io/{mode}"] == "restricted"
        assert labels[f"pod-security.kubernetes.io/{mode}-version"] == pinned
    system = find(objects(renders[cloud]), "Namespace", "kube-system")
    assert system["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "privileged"
    assert "hostNetwork" in system["metadata"]["annotations"]["kubeprod.io/why"]


@pytest.mark.parametrize("cloud", CLOUDS)
def test_default_deny_both_ways_and_dns(renders, cloud):
    objs = objects(renders[cloud])
    deny = find(objs, "NetworkPolicy", "default-deny-all", "apps")["spec"]
    assert deny == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    dns = find(objs, "NetworkPolicy", "allow-dns-egress", "apps")["spec"]
    (rule,) = dns["egress"]
    assert rule["ports"] == [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}]
    assert rule["to"][0]["podSelector"] == {"matchLabels": {"k8s-app": "kube-dns"}}


def test_storage_classes_use_the_customer_key(renders, example_env):
    aws = find(objects(renders["aws"]), "StorageClass", "encrypted-cmk")
    assert aws["provisioner"] == "ebs.csi.aws.com"
    assert aws["parameters"]["encrypted"] == "true"
    assert aws["parameters"]["type"] == "gp3"
    assert aws["parameters"]["kmsKeyId"] == f"alias/{example_env.name}-ebs"
    azure = find(objects(renders["azure"]), "StorageClass", "encrypted-cmk")
    assert azure["provisioner"] == "disk.csi.azure.com"
    des = azure["parameters"]["diskEncryptionSetID"]
    assert des.endswith(
        f"/resourceGroups/rg-{example_env.name}-aks/providers/"
        f"Microsoft.Compute/diskEncryptionSets/des-{example_env.name}"
    )
    gcp = find(objects(renders["gcp"]), "StorageClass", "encrypted-cmk")
    assert gcp["provisioner"] == "pd.csi.storage.gke.io"
    assert gcp["parameters"]["disk-encryption-kms-key"].endswith(
        f"/keyRings/{example_env.name}-gke/cryptoKeys/gke-boot-disks"
    )
    for sc in (aws, azure, gcp):
        annotations = sc["metadata"]["annotations"]
        assert annotations["storageclass.kubernetes.io/is-default-class"] == "true"
        assert sc["volumeBindingMode"] == "WaitForFirstConsumer"


def test_key_names_match_the_terraform_modules(renders, example_env):
    """The StorageClass names keys the renderers create (a rename breaks this test)."""
    parsed = parse_dir(renders["aws"])
    aliases = resources(parsed, "aws_kms_alias")
    assert any("${local.name}-ebs" in str(a["name"]) for a in aliases.values())
    parsed = parse_dir(renders["azure"])
    des = resources(parsed, "azurerm_disk_encryption_set")["this"]
    assert des["name"] == f"des-{example_env.name}"
    rg = resources(parsed, "azurerm_resource_group")["this"]
    assert rg["name"] == f"rg-{example_env.name}-aks"
    parsed = parse_dir(renders["gcp"])
    assert resources(parsed, "google_kms_crypto_key")["disks"]["name"] == "gke-boot-disks"
    assert resources(parsed, "google_kms_key_ring")["this"]["name"] == "${local.name}-gke"


def test_eks_cluster_autoscaler(renders, example_env):
    objs = objects(renders["aws"])
    deployment = find(objs, "Deployment", "cluster-autoscaler", "kube-system")
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    minor = example_env.kubernetes.version
    assert container["image"].endswith(f"cluster-autoscaler:v{minor}.0")
    flags = container["command"]
    assert "--scale-down-delay-after-add=30m" in flags
    assert "--scale-down-unneeded-time=30m" in flags
    assert "--scale-down-utilization-threshold=0.4" in flags
    assert "--balance-similar-node-groups=true" in flags
    assert "--balancing-ignore-label=eks.amazonaws.com/nodegroup" in flags
    assert (
        "--node-group-auto-discovery=asg:tag=k8s.io/cluster-autoscaler/enabled,"
        f"k8s.io/cluster-autoscaler/{example_env.name}"
    ) in flags
    assert {"key": "CriticalAddonsOnly", "operator": "Exists"} in pod["tolerations"]
    assert pod["nodeSelector"] == {"kubeprod.io/node-group": "system"}
    pdb = find(objs, "PodDisruptionBudget", "cluster-autoscaler", "kube-system")
    assert pdb["spec"]["maxUnavailable"] == 1
    assert deployment["spec"]["replicas"] == 2
    account = find(objs, "ServiceAccount", "cluster-autoscaler", "kube-system")
    assert account["metadata"]["name"] == "cluster-autoscaler"


def test_eks_autoscaler_identity_in_terraform(renders):
    parsed = parse_dir(renders["aws"])
    association = resources(parsed, "aws_eks_pod_identity_association")["cluster_autoscaler"]
    assert association["namespace"] == "kube-system"
    assert association["service_account"] == "cluster-autoscaler"
    assert association["role_arn"] == "${aws_iam_role.cluster_autoscaler.arn}"
    documents = {}
    for entry in parsed["data"]:
        documents.update(entry.get("aws_iam_policy_document", {}))
    statements = documents["cluster_autoscaler"]["statement"]
    scale = next(s for s in statements if s["sid"] == "ScaleOwnedGroups")
    assert "autoscaling:SetDesiredCapacity" in scale["actions"]
    assert scale["condition"][0]["values"] == ["owned"]


def test_aks_and_gke_keep_their_managed_autoscaler(renders):
    for cloud in ("azure", "gcp"):
        assert not any(o["kind"] == "Deployment" for o in objects(renders[cloud]))


@pytest.mark.parametrize("cloud", CLOUDS)
def test_strict_schema_for_the_cluster_minor_and_the_next(renders, cloud, example_env):
    minors, note = schema.target_minors(example_env.kubernetes.version)
    assert len(minors) == 2 and note == ""  # 1.35 and 1.36 are both shipped
    for minor in minors:
        errors, skipped = schema.validate(objects(renders[cloud]), minor)
        assert errors == [] and skipped == []


def test_strict_schema_rejects_unknown_fields_and_removed_apis():
    bad_field = {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": "x", "lables": {}},
    }
    errors, _ = schema.validate([bad_field], "1.35")
    assert errors and "lables" in errors[0]
    removed = {
        "apiVersion": "policy/v1beta1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": "x"},
        "spec": {"maxUnavailable": 1},
    }
    errors, skipped = schema.validate([removed], "1.35")
    assert skipped == [] and "not served by Kubernetes 1.35" in errors[0]
    flow = {
        "apiVersion": "flowcontrol.apiserver.k8s.io/v1beta3",
        "kind": "FlowSchema",
        "metadata": {"name": "x"},
    }
    assert schema.validate([flow], "1.31") == ([], [])  # served in 1.31 ...
    assert schema.validate([flow], "1.32")[0]  # ... removed in 1.32: N+1 catches it
    crd = {"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "GitRepository", "metadata": {}}
    assert schema.validate([crd], "1.35")[1]  # custom resources: skipped, not failed


def test_next_minor_falls_back_to_the_newest_shipped():
    newest = schema.shipped_minors()[-1]
    minors, note = schema.target_minors(newest)
    assert minors == [newest]
    assert "not shipped" in note


@pytest.mark.parametrize("cloud", CLOUDS)
def test_every_pod_template_is_restricted_and_no_pdb_blocks_a_drain(renders, cloud):
    objs = objects(renders[cloud])
    assert pss.check_objects(objs) == []
    assert pdb_lint.lint(objs) == []


@pytest.mark.checkov
@pytest.mark.parametrize("cloud", CLOUDS)
def test_checkov_kubernetes_passes_with_justified_skips(renders, cloud):
    from kubeprod.policy.checkov import load_skips, run_checkov

    skips = load_skips("kubernetes")
    assert skips and all(len(why) > 40 for why in skips.values())
    assert run_checkov(renders[cloud] / "kubernetes", cloud, framework="kubernetes") == []


@pytest.mark.checkov
def test_checkov_kubernetes_catches_a_privileged_pod(tmp_path):
    from kubeprod.policy.checkov import run_checkov

    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "bad", "namespace": "apps"},
        "spec": {
            "containers": [{"name": "c", "image": "x", "securityContext": {"privileged": True}}]
        },
    }
    (tmp_path / "pod.yaml").write_text(yaml.safe_dump(pod))
    found = {f.check_id for f in run_checkov(tmp_path, "aws", framework="kubernetes")}
    assert "CKV_K8S_16" in found  # privileged containers


def test_hand_edited_manifest_is_refused(tmp_path, example_env):
    render_to(example_env, "aws", str(EXAMPLE), tmp_path)
    path = tmp_path / "kubernetes" / "network-policies.yaml"
    path.write_text(path.read_text().replace("Egress", "Ingres", 1))
    with pytest.raises(HandEdited):
        render_to(example_env, "aws", str(EXAMPLE), tmp_path)


def test_own_manifests_are_kept(tmp_path, example_env):
    render_to(example_env, "gcp", str(EXAMPLE), tmp_path)
    own = tmp_path / "kubernetes" / "team-extras.yaml"
    own.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: apps}\n")
    result = render_to(example_env, "gcp", str(EXAMPLE), tmp_path)
    assert own.exists() and "kubernetes/team-extras.yaml" in result.kept_own
