"""AWS IAM and KMS policy building blocks, shared by the main module, the state-backend
module and the Cluster Autoscaler's role (a leaf of kubeprod.clouds: no cycles)."""

from __future__ import annotations

from collections.abc import Sequence

from kubeprod.hcl import Block, Call, Expr
from kubeprod.hcl.shorthand import B, D, E, template

ACCOUNT = "data.aws_caller_identity.current.account_id"
PARTITION = "data.aws_partition.current.partition"


def statement(
    sid: str,
    actions: list[str],
    principals: tuple[str, list[object]] | None = None,
    resources: list[object] | None = None,
    effect: str = "Allow",
    conditions: Sequence[tuple[str, str | Expr, list[object]]] = (),
) -> Block:
    """One statement of an aws_iam_policy_document."""
    block = B("statement", sid=sid, effect=effect, actions=actions, resources=resources)
    if principals:
        block.add(B("principals", type=principals[0], identifiers=principals[1]))
    for test, variable, values in conditions:
        block.add(B("condition", test=test, variable=variable, values=values))
    return block


def policy_document(name: str, *statements: Block) -> Block:
    block = D("aws_iam_policy_document", name)
    block.add(*statements)
    return block


def key_statement(
    sid: str,
    actions: list[str],
    principal: dict[str, object],
    condition: dict[str, object] | None = None,
) -> dict[str, object]:
    """One key-policy statement. In a key policy, Resource "*" means this key only."""
    stmt: dict[str, object] = {
        "Sid": sid,
        "Effect": "Allow",
        "Principal": principal,
        "Action": actions,
        "Resource": "*",
    }
    if condition:
        stmt["Condition"] = condition
    return stmt


def key_policy(*statements: dict[str, object]) -> Call:
    return Call("jsonencode", {"Version": "2012-10-17", "Statement": list(statements)})


def root_admin_statement() -> dict[str, object]:
    """Key administration stays with the account (IAM decides who), as AWS recommends."""
    return key_statement(
        "AccountAdministers",
        ["kms:*"],
        {"AWS": template("arn:", E(PARTITION), ":iam::", E(ACCOUNT), ":root")},
    )
