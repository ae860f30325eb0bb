"""Plan mode never reads an unknown value as a pass: a value terraform knows only after
apply is "unknown" unless the configuration or a documented provider default proves it,
and an unknown leaf does not hide its known siblings."""

from __future__ import annotations

from typing import Any

from kubeprod.policy.engine import check_plan_json


def plan_of(*resources: tuple[str, dict[str, Any], dict[str, Any]], config=None) -> dict:
    """A minimal plan JSON: (address, known values, after_unknown) per resource."""
    planned, changes = [], []
    for address, values, unknown in resources:
        rtype, name = address.split(".")[-2:]
        planned.append(
            {"address": address, "mode": "managed", "type": rtype, "name": name, "values": values}
        )
        changes.append(
            {
                "address": address,
                "mode": "managed",
                "type": rtype,
                "name": name,
                "change": {"actions": ["create"], "after": values, "after_unknown": unknown},
            }
        )
    return {
        "format_version": "1.2",
        "planned_values": {"root_module": {"resources": planned}},
        "resource_changes": changes,
        "configuration": {"root_module": {"resources": config or []}},
    }


def findings(plan: dict, rule_id: str, cloud: str = "aws") -> list:
    return [f for f in check_plan_json(plan, cloud=cloud).findings if f.rule_id == rule_id]


GROUP = {
    "node_group_name": "work",
    "instance_types": ["m5.large"],
    "scaling_config": [{"min_size": 3, "max_size": 20, "desired_size": 3}],
    "subnet_ids": ["subnet-a", "subnet-b", "subnet-c"],
}


def test_unknown_update_config_is_unknown_not_rolling():
    plan = plan_of(("aws_eks_node_group.work", GROUP, {"update_config": True, "ami_type": True}))
    sec4 = {f.attribute: f.status for f in findings(plan, "SEC-4")}
    assert sec4["update_config"] == "unknown"


def test_capacity_type_default_only_when_the_configuration_leaves_it_out():
    unset = [{"address": "aws_eks_node_group.work", "expressions": {}}]
    plan = plan_of(("aws_eks_node_group.work", GROUP, {"capacity_type": True}), config=unset)
    chr4 = [f for f in findings(plan, "CHR-4") if f.attribute == "capacity_type"]
    assert chr4[0].status == "pass" and "ON_DEMAND" in chr4[0].message
    from_ref = [
        {
            "address": "aws_eks_node_group.work",
            "expressions": {"capacity_type": {"references": ["aws_ssm_parameter.x.value"]}},
        }
    ]
    plan = plan_of(("aws_eks_node_group.work", GROUP, {"capacity_type": True}), config=from_ref)
    chr4 = [f for f in findings(plan, "CHR-4") if f.attribute == "capacity_type"]
    assert chr4[0].status == "unknown"


def test_unknown_kms_key_leaf_keeps_the_known_encrypted_flag():
    template = {
        "block_device_mappings": [{"device_name": "/dev/xvda", "ebs": [{"encrypted": "true"}]}]
    }
    unknown = {"block_device_mappings": [{"ebs": [{"kms_key_id": True}]}]}
    plan = plan_of(("aws_launch_template.nodes", template, unknown))
    k8s6 = findings(plan, "K8S-6")
    assert [f.status for f in k8s6] == ["pass"], [f.message for f in k8s6]


def test_subnet_ids_unknown_zones_are_unknown_not_three_zones():
    plan = plan_of(
        (
            "aws_eks_node_group.work",
            {**GROUP, "subnet_ids": None},
            {"subnet_ids": [True, True, True]},
        )
    )
    chr3 = findings(plan, "CHR-3")
    assert [f.status for f in chr3] == ["unknown"]


def test_gke_unknown_boot_disk_key_and_private_endpoint_are_unknown():
    pool = {"name": "work", "node_config": [{"machine_type": "e2-standard-4"}]}
    cluster = {
        "name": "c",
        "location": "europe-west1",
        "private_cluster_config": [{"enable_private_nodes": True}],
        "master_authorized_networks_config": [{"cidr_blocks": [{"cidr_block": "10.0.0.0/24"}]}],
    }
    plan = plan_of(
        ("google_container_node_pool.work", pool, {"node_config": [{"boot_disk_kms_key": True}]}),
        (
            "google_container_cluster.c",
            cluster,
            {"private_cluster_config": [{"enable_private_endpoint": True}]},
        ),
    )
    k8s6 = [
        f for f in findings(plan, "K8S-6", "gcp") if f.address.startswith("google_container_node")
    ]
    assert {f.status for f in k8s6} == {"unknown"}
    k8s5 = [f for f in findings(plan, "K8S-5", "gcp") if f.address == "google_container_cluster.c"]
    assert k8s5 and all(f.status != "pass" for f in k8s5)


def test_two_clusters_are_judged_apart_and_named():
    def group(name: str, cluster: str, minimum: int) -> tuple[str, dict, dict]:
        values = {
            **GROUP,
            "node_group_name": name,
            "cluster_name": cluster,
            "scaling_config": [{"min_size": minimum, "max_size": 20}],
        }
        return (f"aws_eks_node_group.{name}", values, {})

    plan = plan_of(
        ("aws_eks_cluster.a", {"name": "alpha"}, {}),
        ("aws_eks_cluster.b", {"name": "beta"}, {}),
        group("alpha_work", "alpha", 3),
        group("beta_work", "beta", 1),
    )
    k8s3 = findings(plan, "K8S-3")
    failed = [f.message for f in k8s3 if f.status == "fail"]
    assert failed and all("cluster beta" in m for m in failed), [f.message for f in k8s3]
    assert any(f.status == "pass" and "cluster alpha" in f.message for f in k8s3)
