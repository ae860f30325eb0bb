"""SEC-2-ADMIN: somebody can administer the cluster (the gate's side of the profile's ACCESS-1).

The production profile (ACCESS-1) refuses a spec without admin principals; this rule judges
the module itself, so a hand-edited or third-party configuration that turns the built-in
admin credentials off and grants nobody fails the gate too. Filed under SEC-2 (who may
reach and operate the API server) as a sub-rule, since the brief has no line of its own
for it.
"""

from __future__ import annotations

from typing import ClassVar

from kubeprod.policy.rules import aks
from kubeprod.policy.rules.base import Ctx, Rule, rule


@rule
class ClusterAdmins(Rule):
    """A cluster that turns its local admin credentials off must grant someone admin.

    AKS: `aks.cluster_admins` (AVM managed cluster `examples/waf-aligned/main.tf`,
    mspnp/aks-baseline `cluster-stamp.bicep`). EKS access entries and GKE IAM are not
    judged here yet: the production profile's ACCESS-1 requires their principals.
    """

    id = "SEC-2-ADMIN"
    title = "At least one cluster admin can get in"
    brief = "Public endpoint with strict IP restrictions (and somebody allowed through)"
    severity = "high"
    judged: ClassVar[dict[str, str]] = {
        "aws": "not judged here: the production profile's ACCESS-1 requires "
        "access.cluster_admin_arns (EKS access entries)",
        "azure": "with local_account_disabled: admin_group_object_ids, or an azurerm_role_"
        "assignment of Azure Kubernetes Service RBAC Cluster Admin on the cluster",
        "gcp": "not judged here: the production profile's ACCESS-1 requires "
        "access.gcp_admin_members (project IAM)",
    }

    def aws(self, ctx: Ctx) -> None:
        ctx.not_judged("EKS admins are access entries; the spec's ACCESS-1 requires them")

    def azure(self, ctx: Ctx) -> None:
        aks.cluster_admins(ctx)

    def gcp(self, ctx: Ctx) -> None:
        ctx.not_judged("GKE admins are project IAM; the spec's ACCESS-1 requires them")
