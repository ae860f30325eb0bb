"""GKE GitOps hookup (spec `cluster.gitops.mode: config-sync`): gitops.tf, fleet registration.

Config Sync is a fleet feature. As Google documents it for Terraform ("Install Config Sync",
Terraform tab,
https://cloud.google.com/kubernetes-engine/enterprise/config-sync/docs/how-to/installing-config-sync)
and as GoogleCloudPlatform's samples do, the cluster joins the project's fleet with a
`fleet { project }` block (google_container_cluster, google 6.x; the membership GKE creates
is exposed as `fleet[0].membership_id` / `membership_location`), the project enables the
`configmanagement` feature (`google_gke_hub_feature`), and a
`google_gke_hub_feature_membership` turns Config Sync on for that membership with the
repository, branch and directory of the render's kubernetes/ tree. Config Sync then creates
and owns the `root-sync` RootSync itself, so no RootSync manifest is rendered for GKE
(baseline/gitops.py): configuring it twice would make two owners of one object.

`management = "MANAGEMENT_AUTOMATIC"`: Google upgrades Config Sync (no pinned version to
chase). `secret_type = "none"`: the repository is read without credentials, as the other
clouds' hookups do; a private repository needs `gcpserviceaccount` or a token (docs/baseline.md).
Nothing here is rendered for any other mode, so other renders stay byte-identical.
"""

from __future__ import annotations

from kubeprod.clouds.gcp_project import api_services
from kubeprod.clouds.tags import tag
from kubeprod.hcl import Block, Comment, Expr
from kubeprod.hcl.shorthand import B, E, R, ref
from kubeprod.requirements import Req
from kubeprod.spec.model import Environment

CLUSTER = "google_container_cluster.this"
FEATURE = "google_gke_hub_feature.configmanagement"
# The Fleet (GKE Hub) API registers the membership; the Config Management API runs the
# feature. Never disabled on destroy, like the module's other APIs (project.tf).
FLEET_APIS = ("anthosconfigmanagement.googleapis.com", "gkehub.googleapis.com")
FLEET_SERVICES = "google_project_service.fleet"


def config_sync_on(env: Environment) -> bool:
    """Whether the spec asks for Config Sync (the only GitOps mode rendered for GKE)."""
    return env.cluster.gitops.mode == "config-sync"


def fleet_registration(env: Environment) -> list[Block | Comment]:
    """The cluster's `fleet` block (gke.tf) when Config Sync is on, else nothing."""
    if not config_sync_on(env):
        return []
    return [
        tag(Req.SEC_5, Req.SEC_6, note="the cluster joins the project's fleet (Config Sync)."),
        B("fleet", project=E("local.project")),
    ]


def fleet_dependencies(env: Environment) -> list[Expr]:
    """What the cluster waits for when it joins the fleet: the Fleet APIs."""
    return [E(FLEET_SERVICES)] if config_sync_on(env) else []


def gitops_path(env: Environment) -> str:
    """The render's kubernetes/ directory in the repository."""
    return env.cluster.gitops.path_for(env.name, "gcp")


def gitops_tf(env: Environment) -> list[Block | Comment]:
    """gitops.tf: Fleet APIs, the configmanagement feature, Config Sync on the cluster."""
    gitops = env.cluster.gitops
    return [
        Comment("Fleet and Config Management APIs. Never disabled on destroy."),
        api_services("fleet", FLEET_APIS),
        tag(
            Req.SEC_5,
            Req.SEC_6,
            note="Config Sync applies the in-cluster baseline (default deny, restricted\n"
            "namespaces) from the repository. The configmanagement feature is one per\n"
            "project: where it exists already, import it (docs/baseline.md).",
        ),
        R(
            "google_gke_hub_feature",
            "configmanagement",
            name="configmanagement",
            location="global",
            project=E("local.project"),
            depends_on=[E(FLEET_SERVICES)],
        ),
        R(
            "google_gke_hub_feature_membership",
            "config_sync",
            project=E("local.project"),
            location="global",
            feature=ref(FEATURE, "name"),
            membership=ref(CLUSTER, "fleet[0]", "membership_id"),
            membership_location=ref(CLUSTER, "fleet[0]", "membership_location"),
            configmanagement=B(
                "configmanagement",
                management="MANAGEMENT_AUTOMATIC",
                config_sync=B(
                    "config_sync",
                    enabled=True,
                    source_format="unstructured",
                    git=B(
                        "git",
                        sync_repo=str(gitops.repository),
                        sync_branch=gitops.branch,
                        policy_dir=gitops_path(env),
                        secret_type="none",
                    ),
                ),
            ),
        ),
    ]
