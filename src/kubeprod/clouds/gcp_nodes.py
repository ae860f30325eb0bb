"""GKE module: nodes.tf, the nodes' least-privilege service account and the system and
workload node pools over the spec's zones (K8S-2, K8S-3, CHR-4, NET-5)."""

from __future__ import annotations

from kubeprod.clouds.gcp_common import gcp_of
from kubeprod.clouds.gcp_gke import node_config
from kubeprod.clouds.tags import tag
from kubeprod.hcl import Block, Call, Comment
from kubeprod.hcl.shorthand import B, E, R, lifecycle, template
from kubeprod.requirements import Req
from kubeprod.spec import gcp_sizing as sizing
from kubeprod.spec.model import Environment

# Least privilege for nodes: GKE's purpose-built node role, plus pulling images.
NODE_ROLES = (
    "roles/artifactregistry.reader",
    "roles/container.defaultNodeServiceAccount",
)


def nodes_tf(env: Environment) -> list[Block | Comment]:
    """nodes.tf: the node service account and the system and workload pools."""
    gcp = gcp_of(env)
    zones = len(gcp.zones)
    system, workload = env.node_groups.system, env.node_groups.workload
    sys_min = sizing.per_zone(system.min_size, zones)
    sys_max = sizing.per_zone(system.max_size, zones)
    blocks: list[Block | Comment] = [
        Comment("Nodes run as a dedicated account holding only what a node needs."),
        R(
            "google_service_account",
            "nodes",
            account_id=template(E("local.name"), "-nodes"),
            display_name=template("GKE nodes of ", E("local.name")),
        ),
        R(
            "google_project_iam_member",
            "nodes",
            for_each=Call("toset", list(NODE_ROLES)),
            project=E("local.project"),
            role=E("each.value"),
            member=E("google_service_account.nodes.member"),
        ),
    ]
    system_pool = R(
        "google_container_node_pool",
        "system",
        name="system",
        cluster=E("google_container_cluster.this.id"),
        location=E("local.region"),
        node_locations=E("local.zones"),
        initial_node_count=sys_min,
        max_pods_per_node=sizing.max_pods(system),
    )
    system_node_config = node_config(env, "system")
    system_node_config.add(B("taint", key="CriticalAddonsOnly", value="true", effect="NO_SCHEDULE"))
    system_pool.add(
        B(
            "autoscaling",
            min_node_count=sys_min,
            max_node_count=sys_max,
            location_policy="BALANCED",
        ),
        *pool_common(),
        system_node_config,
        lifecycle(ignore=["initial_node_count"]),
    )
    workload_pool = R(
        "google_container_node_pool",
        "workload",
        name="workload",
        cluster=E("google_container_cluster.this.id"),
        location=E("local.region"),
        node_locations=E("local.zones"),
        initial_node_count=sizing.per_zone(workload.min_size, zones),
        max_pods_per_node=sizing.max_pods(workload),
    )
    workload_pool.add(
        Comment("K8S-3: totals over all zones, spread evenly (BALANCED)."),
        B(
            "autoscaling",
            total_min_node_count=workload.min_size,
            total_max_node_count=workload.max_size,
            location_policy="BALANCED",
        ),
        *pool_common(),
        node_config(env, "workload"),
        lifecycle(ignore=["initial_node_count"]),
    )
    blocks += [
        tag(
            Req.K8S_2,
            Req.CHR_4,
            Req.NET_5,
            note=f"{sys_min} system node per zone x {zones} zones = {sys_min * zones} at "
            "least, tainted so only\ncritical add-ons (which tolerate CriticalAddonsOnly) run "
            "there. Never spot; zones named in the spec.",
        ),
        system_pool,
        tag(
            Req.K8S_3,
            Req.CHR_4,
            Req.NET_5,
            note=f"{workload.min_size}-{workload.max_size} workload nodes in total, "
            "on-demand only, over the spec's zones.",
        ),
        workload_pool,
    ]
    return blocks


def pool_common() -> list[Block | Comment]:
    """Management and upgrade settings every pool shares (SEC-4)."""
    return [
        B("management", auto_repair=True, auto_upgrade=True),
        Comment("One extra node per zone during upgrades; none taken away before it is ready."),
        B(
            "upgrade_settings",
            strategy="SURGE",
            max_surge=sizing.SURGE_PER_ZONE,
            max_unavailable=0,
        ),
    ]
