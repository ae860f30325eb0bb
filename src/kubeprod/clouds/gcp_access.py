"""GKE module: access.tf, the spec's cluster admins (K8S-5)."""

from __future__ import annotations

from kubeprod.hcl import Block, Call, Comment
from kubeprod.hcl.shorthand import E, R
from kubeprod.spec.model import Environment

# GKE IAM role of the spec's cluster admins (access.gcp_admin_members): full control of the
# project's clusters and every Kubernetes object in them (docs/gcp.md, "Cluster admins").
CLUSTER_ADMIN_ROLE = "roles/container.admin"


def access_tf(env: Environment) -> list[Block | Comment]:
    """access.tf: the cluster admin role for access.gcp_admin_members, or why none."""
    members = list(env.access.gcp_admin_members)
    if not members:
        return [
            Comment(
                "No access.gcp_admin_members in the spec: nobody is granted cluster admin,\n"
                "and the policy gate fails this configuration."
            )
        ]
    return [
        Comment(
            f"K8S-5: cluster admins (access.gcp_admin_members) hold {CLUSTER_ADMIN_ROLE}\n"
            "on the project, so the endpoint admits someone. GKE IAM has no per-cluster\n"
            "binding; the project holds this environment only (docs/gcp.md, Cluster admins)."
        ),
        R(
            "google_project_iam_member",
            "cluster_admins",
            for_each=Call("toset", list(members)),
            project=E("local.project"),
            role=CLUSTER_ADMIN_ROLE,
            member=E("each.value"),
        ),
    ]
