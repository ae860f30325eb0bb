"""The policy gate on real AWS plans. The example's plan against the local cloud is checked
in (tests/data/aws_plan, refreshed by `.venv/bin/python scripts/refresh_plan_data.py`), so
the rule tests run in the fast suite: each requirement is broken in the plan JSON, one at
a time, and its own rule must fail on the right address. Two tests plan for real (marked
e2e): a mutation of the configuration, and a configuration built from child modules
(terraform-aws-modules layout).
"""

from __future__ import annotations

import copy
import importlib.util
import json
import os
import re
import shutil
from typing import Any

import pytest
from conftest import EXAMPLE, ROOT, requires_terraform

from kubeprod.policy.engine import check_plan_json
from kubeprod.policy.plan_model import strip_keys

MODULES = ROOT / "tests" / "data" / "policy" / "eks_modules"
PLAN_DATA = ROOT / "tests" / "data" / "aws_plan"
REFRESH = ".venv/bin/python scripts/refresh_plan_data.py"


@pytest.fixture(scope="module")
def aws_plan(tmp_path_factory):
    """The checked-in plan of the example against the local cloud, and the directory it was
    planned from: the golden AWS render plus what the local target adds."""
    workdir = tmp_path_factory.mktemp("aws-plan") / "aws"
    shutil.copytree(ROOT / "tests" / "golden" / "aws", workdir)
    for path in (PLAN_DATA / "local").iterdir():
        shutil.copyfile(path, workdir / path.name)
    plan = json.loads((PLAN_DATA / "plan.json").read_text())
    return {"plan": plan, "workdir": workdir}


def test_plan_data_matches_the_current_aws_render():
    """The checked-in plan was made from the render tests/golden/aws holds."""
    spec = importlib.util.spec_from_file_location(
        "refresh", ROOT / "scripts" / "refresh_plan_data.py"
    )
    assert spec is not None and spec.loader is not None
    refresh = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(refresh)
    recorded = (PLAN_DATA / "render.sha256").read_text().strip()
    assert recorded == refresh.render_hash(ROOT / "tests" / "golden" / "aws"), (
        f"tests/data/aws_plan is stale (the AWS render changed): run `{REFRESH}`"
    )


@pytest.fixture(scope="module")
def aws_plan_live(tmp_path_factory):
    """Plan the example once against the local cloud (no apply); keep its workdir."""
    home = tmp_path_factory.mktemp("kubeprod-home")
    saved = os.environ.get("KUBEPROD_HOME")
    os.environ["KUBEPROD_HOME"] = str(home)
    from kubeprod import workflow
    from kubeprod.local import server

    try:
        target = workflow.target_for(str(EXAMPLE), "aws", True)
        tf = workflow.prepare(target, workflow.ensure_backend(target))
        tf.plan(workflow.PLAN_FILE)
        plan = tf.show_json(workflow.PLAN_FILE)
        (home / "plan.json").write_text(json.dumps(plan))
        yield {"plan": plan, "workdir": target.workdir, "tf": tf, "target": target, "home": home}
    finally:
        server.stop()
        if saved is None:
            os.environ.pop("KUBEPROD_HOME", None)
        else:
            os.environ["KUBEPROD_HOME"] = saved


# -- plan JSON surgery ----------------------------------------------------------------------


def _resources(plan: dict[str, Any]) -> list[dict[str, Any]]:
    out = []

    def walk(module: dict[str, Any]) -> None:
        out.extend(module.get("resources", []))
        for child in module.get("child_modules", []):
            walk(child)

    walk(plan["planned_values"]["root_module"])
    return out


def set_attr(plan: dict[str, Any], address: str, key: str, value: Any) -> dict[str, Any]:
    """Set a top-level attribute of one resource in planned_values and resource_changes."""
    hits = 0
    for res in _resources(plan):
        if res["address"] == address:
            res["values"][key] = value
            hits += 1
    for change in plan["resource_changes"]:
        if change["address"] == address:
            change["change"]["after"][key] = value
            change["change"].get("after_unknown", {}).pop(key, None)
            hits += 1
    assert hits == 2, f"{address} not in the plan"
    return plan


def drop(plan: dict[str, Any], *addresses: str) -> dict[str, Any]:
    def walk(module: dict[str, Any]) -> None:
        module["resources"] = [
            r for r in module.get("resources", []) if r["address"] not in addresses
        ]
        for child in module.get("child_modules", []):
            walk(child)

    walk(plan["planned_values"]["root_module"])
    before = len(plan["resource_changes"])
    plan["resource_changes"] = [
        c for c in plan["resource_changes"] if c["address"] not in addresses
    ]
    assert before - len(plan["resource_changes"]) == len(addresses)
    return plan


def add(plan: dict[str, Any], rtype: str, name: str, values: dict[str, Any]) -> dict[str, Any]:
    address = f"{rtype}.{name}"
    plan["planned_values"]["root_module"]["resources"].append(
        {"address": address, "mode": "managed", "type": rtype, "name": name, "values": values}
    )
    plan["resource_changes"].append(
        {
            "address": address,
            "mode": "managed",
            "type": rtype,
            "name": name,
            "change": {"actions": ["create"], "after": values, "after_unknown": {}},
        }
    )
    return plan


def value(plan: dict[str, Any], address: str, key: str) -> Any:
    return copy.deepcopy(
        next(r for r in _resources(plan) if r["address"] == address)["values"][key]
    )


def edit(plan, address, key, fn):
    return set_attr(plan, address, key, fn(value(plan, address, key)))


def two_zones(plan: dict[str, Any]) -> dict[str, Any]:
    for kind in ("public", "private", "pods"):
        set_attr(plan, f'aws_subnet.{kind}["eu-west-1c"]', "availability_zone", "eu-west-1a")
    return plan


CLUSTER = "aws_eks_cluster.this"
WORKLOAD = 'aws_eks_node_group.workload["eu-west-1a"]'


def vpc_config(**changes):
    def fn(blocks):
        blocks[0].update(changes)
        return blocks

    return fn


MUTATIONS = {
    "CHR-1": (
        lambda p: set_attr(p, "aws_kms_key.eks", "deletion_window_in_days", 7),
        "aws_kms_key.eks",
    ),
    "CHR-2": (lambda p: set_attr(p, WORKLOAD, "instance_types", ["t3.large"]), WORKLOAD),
    "CHR-3": (  # workload groups left in one zone only
        lambda p: drop(
            p,
            'aws_eks_node_group.workload["eu-west-1b"]',
            'aws_eks_node_group.workload["eu-west-1c"]',
        ),
        WORKLOAD,
    ),
    "CHR-4": (lambda p: set_attr(p, WORKLOAD, "capacity_type", "SPOT"), WORKLOAD),
    "CHR-5": (
        lambda p: drop(
            p, 'aws_nat_gateway.this["eu-west-1b"]', 'aws_nat_gateway.this["eu-west-1c"]'
        ),
        'aws_nat_gateway.this["eu-west-1a"]',
    ),
    "CHR-6": (
        lambda p: (
            p["planned_values"]["outputs"]["cluster_autoscaler_flags"].update(
                value=[
                    "--scale-down-delay-after-add=2m",
                    "--scale-down-unneeded-time=30m",
                    "--scale-down-utilization-threshold=0.4",
                ]
            )
            or p
        ),
        "output.cluster_autoscaler_flags",
    ),
    "CHR-7": (
        lambda p: set_attr(p, "aws_cloudwatch_metric_alarm.node_cpu", "alarm_actions", []),
        "aws_cloudwatch_metric_alarm.node_cpu",
    ),
    "NET-1": (lambda p: set_attr(p, "aws_vpc.this", "cidr_block", "54.1.0.0/16"), "aws_vpc.this"),
    "NET-2": (
        lambda p: drop(p, 'aws_subnet.public["eu-west-1b"]', 'aws_subnet.public["eu-west-1c"]'),
        'aws_subnet.public["eu-west-1a"]',
    ),
    "NET-3": (
        lambda p: set_attr(p, 'aws_subnet.private["eu-west-1a"]', "map_public_ip_on_launch", True),
        'aws_subnet.private["eu-west-1a"]',
    ),
    "NET-4": (
        lambda p: drop(
            p, 'aws_route.private_nat["eu-west-1b"]', 'aws_route.private_nat["eu-west-1c"]'
        ),
        'aws_route.private_nat["eu-west-1a"]',
    ),
    "NET-5": (  # two AZs: zone c's subnets moved into zone a
        lambda p: two_zones(p),
        'aws_subnet.public["eu-west-1c"]',
    ),
    "NET-6": (
        lambda p: set_attr(p, 'aws_subnet.private["eu-west-1b"]', "cidr_block", "10.1.10.128/25"),
        'aws_subnet.private["eu-west-1b"]',
    ),
    "K8S-1": (lambda p: set_attr(p, CLUSTER, "version", "1.36"), CLUSTER),
    "K8S-2": (
        lambda p: edit(
            p, "aws_eks_node_group.system", "scaling_config", lambda b: [{**b[0], "min_size": 2}]
        ),
        "aws_eks_node_group.system",
    ),
    "K8S-3": (
        lambda p: edit(p, WORKLOAD, "scaling_config", lambda b: [{**b[0], "min_size": 0}]),
        WORKLOAD,
    ),
    "K8S-4": (
        lambda p: edit(p, CLUSTER, "vpc_config", vpc_config(endpoint_private_access=False)),
        CLUSTER,
    ),
    "K8S-5": (
        lambda p: edit(p, CLUSTER, "vpc_config", vpc_config(public_access_cidrs=["0.0.0.0/0"])),
        CLUSTER,
    ),
    "K8S-6": (
        lambda p: edit(
            p,
            "aws_launch_template.workload",
            "block_device_mappings",
            lambda b: [{**b[0], "ebs": [{**b[0]["ebs"][0], "encrypted": "false"}]}],
        ),
        "aws_launch_template.workload",
    ),
    "K8S-7": (
        lambda p: edit(
            p, CLUSTER, "enabled_cluster_log_types", lambda t: [x for x in t if x != "scheduler"]
        ),
        CLUSTER,
    ),
    "SEC-1": (
        lambda p: set_attr(
            p,
            "aws_launch_template.workload",
            "network_interfaces",
            [{"associate_public_ip_address": "true"}],
        ),
        "aws_launch_template.workload",
    ),
    "SEC-2": (
        lambda p: edit(
            p, CLUSTER, "vpc_config", vpc_config(public_access_cidrs=["198.51.100.0/22"])
        ),
        CLUSTER,
    ),
    "SEC-3": (
        lambda p: set_attr(p, "aws_cloudwatch_log_group.cluster", "kms_key_id", None),
        "aws_cloudwatch_log_group.cluster",
    ),
    "SEC-4": (lambda p: set_attr(p, WORKLOAD, "ami_type", "CUSTOM"), WORKLOAD),
    "SEC-5": (
        lambda p: add(
            p,
            "aws_eks_addon",
            "cni",
            {
                "addon_name": "vpc-cni",
                "configuration_values": json.dumps({"enableNetworkPolicy": "false"}),
            },
        ),
        "aws_eks_addon.cni",
    ),
    "SEC-6": (
        lambda p: add(
            p,
            "kubernetes_namespace_v1",
            "apps",
            {
                "metadata": [
                    {"name": "apps", "labels": {"pod-security.kubernetes.io/enforce": "baseline"}}
                ]
            },
        ),
        "kubernetes_namespace_v1.apps",
    ),
    "SEC-7": (
        lambda p: edit(
            p, CLUSTER, "enabled_cluster_log_types", lambda t: [x for x in t if x != "audit"]
        ),
        CLUSTER,
    ),
    "SEC-8": (lambda p: set_attr(p, CLUSTER, "encryption_config", []), CLUSTER),
}

# SEC-5 and SEC-6 pass only when their resources are there: these add passing ones.
PASSING_EXTRAS = {
    "SEC-5": lambda p: add(
        p,
        "aws_eks_addon",
        "cni",
        {"addon_name": "vpc-cni", "configuration_values": '{"enableNetworkPolicy":"true"}'},
    ),
    "SEC-6": lambda p: add(
        p,
        "kubernetes_namespace_v1",
        "apps",
        {
            "metadata": [
                {"name": "apps", "labels": {"pod-security.kubernetes.io/enforce": "restricted"}}
            ]
        },
    ),
}


def statuses(report, rule_id: str) -> set[str]:
    return {f.status for f in report.findings if f.rule_id == rule_id}


def test_every_requirement_has_a_mutation():
    from kubeprod.policy.rules import REGISTRY

    # DR-1/DR-3/DR-4/DR-5: mutations in tests/test_dr_policy.py (they need the spec, its
    # recovery region and drills)
    assert set(MUTATIONS) | {"DR-1", "DR-2", "DR-3", "DR-4", "DR-5"} == set(REGISTRY)


def test_production_plan_passes_with_its_directory(aws_plan, example_env):
    """Judged as `kubeprod plan` judges it: beside its directory, by the spec's thresholds."""
    from kubeprod.policy.rules import Options

    report = check_plan_json(
        aws_plan["plan"], config_dir=aws_plan["workdir"], options=Options.from_spec(example_env)
    )
    assert report.passed, report.summary()
    rules = report.rule_status()
    # `kubeprod plan` writes the kubernetes/ manifests beside the module: all judged, except
    # what only a drill history can show (none has been run for the checked-in plan)
    not_passed = {r: s for r, s in rules.items() if s != "pass"}
    assert set(not_passed) <= {"DR-3", "DR-5"} and set(not_passed.values()) <= {"unknown"}, rules
    assert rules["SEC-5"] == rules["SEC-6"] == rules["CHR-6"] == "pass", rules
    cluster = next(f for f in report.findings if f.address == CLUSTER and f.rule_id == "CHR-1")
    assert cluster.file.endswith("eks.tf") and cluster.line


def test_plan_without_directory_reports_unknown_not_pass(aws_plan):
    report = check_plan_json(aws_plan["plan"])
    chr1 = {f.address: f.status for f in report.findings if f.rule_id == "CHR-1"}
    assert chr1[CLUSTER] == "unknown"
    assert statuses(report, "DR-2") == {"unknown"}
    strict = report.__class__(report.findings, "aws", "", "plan", strict=True)
    assert len(strict.blocking()) > len(report.blocking())


# Rules that read the baseline's kubernetes/ manifests first: their plan mutation is judged
# on the module without them (the manifests' own mutation is tested below).
MANIFESTS_FIRST = {"CHR-6"}


def _module_without_manifests(workdir, tmp_path):
    copied = tmp_path / "module"
    shutil.copytree(workdir, copied, ignore=shutil.ignore_patterns("kubernetes"))
    return copied


@pytest.mark.parametrize("rule_id", sorted(MUTATIONS))
def test_mutation_fails_its_rule_on_the_right_address(aws_plan, rule_id, tmp_path):
    mutate, address = MUTATIONS[rule_id]
    base = copy.deepcopy(aws_plan["plan"])
    workdir = aws_plan["workdir"]
    if rule_id in MANIFESTS_FIRST:
        workdir = _module_without_manifests(workdir, tmp_path)
    if rule_id in PASSING_EXTRAS:
        passing = check_plan_json(PASSING_EXTRAS[rule_id](copy.deepcopy(base)), config_dir=workdir)
        assert statuses(passing, rule_id) == {"pass"}, rule_id
    else:
        assert statuses(check_plan_json(base, config_dir=workdir), rule_id) == {"pass"}
    report = check_plan_json(mutate(base), config_dir=workdir)
    failed = [f for f in report.findings if f.rule_id == rule_id and f.status == "fail"]
    assert failed, f"{rule_id} did not fail"
    assert address in {f.address for f in failed}, [f.address for f in failed]
    assert not report.passed
    assert all(f.remediation.startswith(f.address) for f in failed)


def test_chr6_autoscaler_deployment_flags_are_judged_from_the_manifests(aws_plan, tmp_path):
    work = tmp_path / "module"
    shutil.copytree(aws_plan["workdir"], work)
    manifest = work / "kubernetes" / "cluster-autoscaler.yaml"
    text = manifest.read_text()
    assert "--scale-down-delay-after-add=30m" in text
    manifest.write_text(
        text.replace("--scale-down-delay-after-add=30m", "--scale-down-delay-after-add=2m")
    )
    report = check_plan_json(aws_plan["plan"], config_dir=work)
    failed = [f for f in report.findings if f.rule_id == "CHR-6" and f.status == "fail"]
    assert [f.address for f in failed] == ["Deployment/kube-system/cluster-autoscaler"]


def test_dr2_backend(aws_plan, tmp_path):
    assert statuses(check_plan_json(aws_plan["plan"], config_dir=aws_plan["workdir"]), "DR-2") == {
        "pass"
    }
    (tmp_path / "versions.tf").write_text('terraform {\n  backend "local" {}\n}\n')
    report = check_plan_json(aws_plan["plan"], config_dir=tmp_path)
    failed = [f for f in report.findings if f.rule_id == "DR-2"]
    assert [f.status for f in failed] == ["fail"] and failed[0].line == 2


@pytest.mark.e2e
@requires_terraform
def test_mutated_configuration_planned_for_real(aws_plan_live):
    """Spot capacity written into the configuration: terraform plans it, the gate stops it."""
    from kubeprod.policy.gate import PolicyViolation, enforce_plan

    nodes = aws_plan_live["workdir"] / "nodes.tf"
    original = nodes.read_text()
    try:
        nodes.write_text(re.sub(r'(capacity_type\s*)= "ON_DEMAND"', r'\1= "SPOT"', original))
        assert nodes.read_text() != original
        tf = aws_plan_live["tf"]
        tf.plan("mutated.tfplan")
        plan = tf.show_json("mutated.tfplan")
        report = check_plan_json(plan, config_dir=aws_plan_live["workdir"])
        failed = {f.address for f in report.findings if f.rule_id == "CHR-4" and f.status == "fail"}
        zonal = {f'aws_eks_node_group.workload["eu-west-1{z}"]' for z in "abc"}
        assert failed == {"aws_eks_node_group.system", *zonal}
        fails = [f for f in report.findings if f.status == "fail"]
        assert fails[0].file.endswith("nodes.tf")
        with pytest.raises(PolicyViolation) as info:
            enforce_plan(plan, aws_plan_live["workdir"], str(EXAMPLE))
        assert info.value.exit_code == 1 and "CHR-4" in str(info.value)
    finally:
        nodes.write_text(original)


@pytest.mark.e2e
@requires_terraform
def test_module_built_cluster_is_judged_in_child_modules(aws_plan_live, tmp_path):
    """terraform-aws-modules layout: module.vpc, module.eks, module.eks.module.x["name"]."""
    from kubeprod.clouds.aws_local import OVERRIDE_FILE, override_file
    from kubeprod.local.server import status
    from kubeprod.render.output import render_texts
    from kubeprod.terraform.runner import Terraform

    work = tmp_path / "modular"
    shutil.copytree(MODULES, work)
    endpoint = status()["endpoint"]
    text = render_texts({OVERRIDE_FILE: override_file("eu-west-1", endpoint)}, "")[OVERRIDE_FILE]
    provider_only = text[: text.index("\nresource ")]  # the endpoints, none of kubeprod's skips
    (work / OVERRIDE_FILE).write_text(provider_only)
    tf = Terraform(work, env=aws_plan_live["target"].tf_env())
    tf.init(backend=False)
    tf.plan("modular.tfplan")
    plan = tf.show_json("modular.tfplan")
    report = check_plan_json(plan, config_dir=work)
    assert report.cloud == "aws"
    by_rule: dict[str, dict[str, str]] = {}
    for f in report.findings:
        seen = by_rule.setdefault(f.rule_id, {})
        if seen.get(f.address) != "fail":  # the worst verdict on each address
            seen[f.address] = f.status
    node = 'module.eks.module.eks_managed_node_group["workload"].aws_eks_node_group.this[0]'
    system = 'module.eks.module.eks_managed_node_group["system"].aws_eks_node_group.this[0]'
    assert by_rule["CHR-1"]["module.eks.aws_eks_cluster.this[0]"] == "fail"  # no prevent_destroy
    assert by_rule["CHR-1"]["module.eks.aws_kms_key.this"] == "pass"
    assert by_rule["CHR-4"][node] == "pass" and by_rule["CHR-4"][system] == "pass"
    assert by_rule["CHR-5"]["module.vpc.aws_nat_gateway.this[0]"] == "fail"  # single NAT
    assert by_rule["K8S-2"][system] == "pass"  # found by its taint inside the child module
    assert by_rule["K8S-3"][node] == "fail"  # workload min 2
    assert by_rule["K8S-5"]["module.eks.aws_eks_cluster.this[0]"] == "fail"  # 0.0.0.0/0
    assert by_rule["K8S-7"]["module.eks.aws_eks_cluster.this[0]"] == "fail"  # 3 log types
    # enableNetworkPolicy is on, but aws-node runs on the node role (issue 10, AWS 5)
    cni = 'module.eks.aws_eks_addon.this["vpc-cni"]'
    sec5 = [f for f in report.findings if f.rule_id == "SEC-5" and f.address == cni]
    assert {f.status for f in sec5} == {"pass", "fail"}
    assert [f.attribute for f in sec5 if f.status == "fail"] == ["pod_identity_association"]
    assert by_rule["SEC-8"]["module.eks.aws_eks_cluster.this[0]"] == "pass"
    assert by_rule["NET-2"]["module.vpc.aws_subnet.public[2]"] == "pass"
    cluster = next(f for f in report.findings if f.address == "module.eks.aws_eks_cluster.this[0]")
    assert cluster.file == str(work / "modules" / "eks" / "main.tf")
    assert {strip_keys(a) for a in by_rule["CHR-3"]} == {
        "module.eks.module.eks_managed_node_group.aws_eks_node_group.this"
    }


def test_local_cloud_ignored_settings_are_judged_from_the_configuration(aws_plan):
    """After an apply on the local cloud the plan shows moto's empty upgrade_policy and
    update_config (kubeprod's override ignores them): the configuration's values count."""
    plan = copy.deepcopy(aws_plan["plan"])
    set_attr(plan, CLUSTER, "upgrade_policy", [])
    for group in ("aws_eks_node_group.system", WORKLOAD):
        set_attr(plan, group, "update_config", [])
    bare = check_plan_json(plan)
    assert "fail" in statuses(bare, "K8S-1") and "fail" in statuses(bare, "SEC-4")
    judged = check_plan_json(plan, config_dir=aws_plan["workdir"])
    assert statuses(judged, "K8S-1") == {"pass"} and statuses(judged, "SEC-4") == {"pass"}
