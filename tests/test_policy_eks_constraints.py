"""Documented EKS constraints (issue 10, AWS): the corrected render passes `kubeprod check`;
each mistake put back into a copy of it makes `kubeprod check` fail, on the rule and
resource that guard it. The sources are in the docstrings of kubeprod.policy.rules.eks.
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import EXAMPLE
from test_policy_static import mutate

from kubeprod.cli import main

WORKLOAD_A = 'aws_eks_node_group.workload["eu-west-1a"]'


REMOVE = "(remove the block)"
Edit = tuple[str, str, str]  # (where, old, new): see test_policy_static.mutate


@dataclass(frozen=True)
class Mistake:
    id: str
    edits: tuple[Edit, ...]  # new == REMOVE: drop resource `where` ("type.name") entirely
    rule: str
    address: str


MISTAKES = [
    Mistake(
        "item7-workload-group-spans-zones",
        (
            (
                "aws_eks_node_group.workload",
                "subnet_ids = [aws_subnet.private[each.key].id]",
                "subnet_ids = local.private_subnet_ids",
            ),
        ),
        "K8S-3",
        WORKLOAD_A,
    ),
    Mistake(
        "item7-zonal-groups-not-balanced",
        (
            (
                "outputs.tf",
                '"--balance-similar-node-groups=true"',
                '"--balance-similar-node-groups=false"',
            ),
        ),
        "K8S-3",
        "output.cluster_autoscaler_flags",
    ),
    Mistake(  # the key policy names the role by a literal ARN, and nothing creates it
        "item1-autoscaling-role-not-managed",
        (
            (
                "aws_kms_key.ebs",
                "AWS = aws_iam_service_linked_role.autoscaling.arn",
                'AWS = "arn:${data.aws_partition.current.partition}:iam::'
                "${data.aws_caller_identity.current.account_id}:role/aws-service-role/"
                'autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"',
            ),
            ("aws_iam_service_linked_role.autoscaling", "", REMOVE),
        ),
        "K8S-6",
        "aws_launch_template.system",
    ),
    Mistake(
        "item3-no-ebs-default-encryption",
        (
            ("aws_ebs_default_kms_key.this", "", REMOVE),
            ("aws_ebs_encryption_by_default.this", "", REMOVE),
        ),
        "SEC-3",
        "(configuration)",
    ),
    Mistake(
        "item3-ebs-default-encryption-off",
        (("aws_ebs_encryption_by_default.this", "enabled = true", "enabled = false"),),
        "SEC-3",
        "aws_ebs_encryption_by_default.this",
    ),
    Mistake(
        "item3-default-key-is-aws-managed",
        (("aws_ebs_default_kms_key.this", "", REMOVE),),
        "SEC-3",
        "(configuration)",
    ),
    Mistake(
        "item2-node-group-never-leaves-its-ami",
        (
            (
                "aws_eks_node_group.system",
                "release_version = nonsensitive(data.aws_ssm_parameter.node_ami_release.value)",
                "",
            ),
        ),
        "SEC-4",
        "aws_eks_node_group.system",
    ),
    Mistake(
        "item4-addon-versions-unpinned",
        (
            (
                "aws_eks_addon.before_nodes",
                "addon_version = data.aws_eks_addon_version.this[each.key].version",
                "",
            ),
        ),
        "SEC-4",
        'aws_eks_addon.before_nodes["vpc-cni"]',
    ),
    Mistake(
        "item5-vpc-cni-on-the-node-role",
        (
            ("aws_eks_pod_identity_association.vpc_cni", "", REMOVE),
            (
                "nodes.tf",
                "aws_eks_pod_identity_association.vpc_cni,",
                "",
            ),
        ),
        "SEC-5",
        'aws_eks_addon.before_nodes["vpc-cni"]',
    ),
    Mistake(  # the production profile refuses an empty cluster_admin_arns; a hand edit
        "item6-nobody-can-administer-the-cluster",
        (
            ("aws_eks_access_policy_association.admin", "", REMOVE),
            ("aws_eks_access_entry.admin", "", REMOVE),
        ),
        "K8S-5",
        "aws_eks_cluster.this",
    ),
    Mistake(
        "item6-admin-entry-without-the-admin-policy",
        (
            (
                "aws_eks_access_policy_association.admin",
                "AmazonEKSClusterAdminPolicy",
                "AmazonEKSViewPolicy",
            ),
        ),
        "K8S-5",
        "aws_eks_cluster.this",
    ),
    Mistake(
        "item3-ebs-csi-cannot-use-the-key",
        (("aws_iam_role_policy.ebs_csi_kms", "", REMOVE),),
        "SEC-3",
        'aws_eks_addon.after_nodes["aws-ebs-csi-driver"]',
    ),
]


def remove_block(directory: Path, where: str) -> None:
    rtype, name = where.split(".")
    for path in directory.glob("*.tf"):
        text = path.read_text()
        pattern = rf'^resource "{rtype}" "{name}" \{{.*?^\}}\n'
        new, count = re.subn(pattern, "", text, count=1, flags=re.M | re.S)
        if count:
            path.write_text(new)
            return
    raise AssertionError(f"no resource {where}")


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("aws")
    assert main(["render", str(EXAMPLE), "--cloud", "aws", "--out", str(directory)]) == 0
    return directory


def check(directory: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict]:
    capsys.readouterr()
    code = main(["check", str(directory), "--format", "json"])
    return code, json.loads(capsys.readouterr().out)


def test_corrected_render_passes(rendered, capsys):
    code, report = check(rendered, capsys)
    assert code == 0, [f for f in report["findings"] if f["status"] == "fail"]


@pytest.mark.parametrize("mistake", MISTAKES, ids=[m.id for m in MISTAKES])
def test_mistake_fails_the_gate(rendered, tmp_path, capsys, mistake):
    work = tmp_path / "aws"
    shutil.copytree(rendered, work)
    for where, old, new in mistake.edits:
        if new == REMOVE:
            remove_block(work, where)
        else:
            mutate(work, where, old, new)
    code, report = check(work, capsys)
    assert code == 1
    failed = [
        f for f in report["findings"] if f["status"] == "fail" and f["rule_id"] == mistake.rule
    ]
    assert mistake.address in {f["address"] for f in failed}, failed
