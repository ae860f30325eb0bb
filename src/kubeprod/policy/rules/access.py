"""ACCESS-1: somebody can administer the cluster (the production profile's ACCESS-1 in the gate)."""

from __future__ import annotations

from typing import ClassVar

from kubeprod.policy.rules import aks
from kubeprod.policy.rules.base import Ctx, Rule, rule

EKS_ADMIN_POLICY = "AmazonEKSClusterAdminPolicy"


@rule
class ClusterAdmins(Rule):
    """A cluster that turns its built-in admin credentials off must grant someone admin.

    AKS: `aks.cluster_admins` (AVM `examples/waf-aligned/main.tf`, mspnp/aks-baseline
    `cluster-stamp.bicep`). EKS with authentication mode API and no creator admin: an
    access policy association with AmazonEKSClusterAdminPolicy (terraform-aws-modules/eks
    `enable_cluster_creator_admin_permissions` / `access_entries`). GKE: IAM grants come
    from the project; they are judged when this configuration makes them.
    """

    id = "ACCESS-1"
    title = "At least one cluster admin can get in"
    brief = "(implied) a production cluster somebody can administer"
    severity = "high"
    judged: ClassVar[dict[str, str]] = {
        "aws": "with authentication mode API and bootstrap_cluster_creator_admin_permissions "
        "false: an aws_eks_access_policy_association with AmazonEKSClusterAdminPolicy",
        "azure": "with local_account_disabled: admin_group_object_ids, or an azurerm_role_"
        "assignment of Azure Kubernetes Service RBAC Cluster Admin on the cluster",
        "gcp": "google_project_iam_member / _binding granting roles/container.admin or "
        "roles/container.clusterAdmin, when the configuration grants IAM at all",
    }

    def aws(self, ctx: Ctx) -> None:
        for c in ctx.model.of("aws_eks_cluster"):
            mode = c.get("access_config.0.authentication_mode")
            creator = c.get("access_config.0.bootstrap_cluster_creator_admin_permissions")
            if mode == "CONFIG_MAP" or creator is True:
                ctx.ok(c, "the cluster creator is admin", "access_config")
                continue
            policies = [
                p
                for p in ctx.model.of("aws_eks_access_policy_association")
                if str(p.get("policy_arn") or "").endswith(EKS_ADMIN_POLICY)
            ]
            if policies:
                ctx.ok(policies[0], f"{EKS_ADMIN_POLICY} associated", "policy_arn")
            else:
                ctx.fail(
                    c,
                    "no creator admin and no access entry with the cluster admin policy: nobody "
                    "can administer the cluster",
                    "access_config.0.bootstrap_cluster_creator_admin_permissions",
                    "list admins in access.cluster_admin_arns (access entries with "
                    f"{EKS_ADMIN_POLICY})",
                )

    def azure(self, ctx: Ctx) -> None:
        aks.cluster_admins(ctx)

    def gcp(self, ctx: Ctx) -> None:
        roles = ("roles/container.admin", "roles/container.clusterAdmin")
        grants = [
            g
            for g in ctx.model.of("google_project_iam_member", "google_project_iam_binding")
            if g.get("role") in roles
        ]
        if grants:
            ctx.ok(grants[0], f"{grants[0].get('role')} granted", "role")
        else:
            ctx.not_judged(
                "no GKE admin IAM grant in this configuration: GKE admins come from project IAM"
            )
