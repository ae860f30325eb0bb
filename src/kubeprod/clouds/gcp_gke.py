"""GKE module: gke.tf, the regional cluster (K8S-1, K8S-4, K8S-5, K8S-7, SEC-1..SEC-8,
CHR-1..CHR-3, CHR-6, CHR-7), with its maintenance window from the spec (SEC-4), and the
hardened node configuration every pool shares."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from kubeprod.clouds.base import environment_tags
from kubeprod.clouds.gcp_common import gcp_of
from kubeprod.clouds.gcp_gitops import fleet_dependencies, fleet_registration
from kubeprod.clouds.tags import tag
from kubeprod.errors import InputError
from kubeprod.facts.gcp import GKE_LOGGING_COMPONENTS, GKE_MONITORING_COMPONENTS
from kubeprod.hcl import Block, Comment
from kubeprod.hcl.shorthand import B, E, R, lifecycle, template
from kubeprod.requirements import Req
from kubeprod.spec.model import Environment, MaintenanceWindow, duration_minutes

CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform"
LOGGING_COMPONENTS = GKE_LOGGING_COMPONENTS
MONITORING_COMPONENTS = GKE_MONITORING_COMPONENTS
# Cluster notifications GKE publishes to Pub/Sub (NotificationConfig.EventType).
NOTIFICATION_EVENTS = ("UPGRADE_AVAILABLE_EVENT", "UPGRADE_EVENT", "SECURITY_BULLETIN_EVENT")
DAYS = {"mon": "MO", "tue": "TU", "wed": "WE", "thu": "TH", "fri": "FR", "sat": "SA", "sun": "SU"}
DAY_ORDER = list(DAYS)


def recurring_window(windows: list[MaintenanceWindow]) -> tuple[Block, str]:
    """GKE's one recurring window for the spec's windows, and a note on how it was derived.

    GKE windows are UTC; a local start is converted at the zone's January offset,
    so where the zone changes offset (daylight saving time) the window moves locally.
    """
    shapes = {(w.start, w.duration, w.timezone) for w in windows}
    if len(shapes) != 1:
        raise InputError(
            "GKE has one recurring maintenance window; the spec's windows differ in start, "
            "duration or time zone. Fix: give every maintenance window the same start, "
            "duration and timezone (list several days instead)"
        )
    start, duration, tz = shapes.pop()
    hour, minute = (int(x) for x in start.split(":"))
    utc_days: set[str] = set()
    first_utc: datetime | None = None
    for day in sorted({d for w in windows for d in w.days}, key=DAY_ORDER.index):
        # 2024-01-01 is a Monday: a fixed, standard-time reference week.
        local = datetime(2024, 1, 1 + DAY_ORDER.index(day), hour, minute, tzinfo=ZoneInfo(tz))
        utc = local.astimezone(ZoneInfo("UTC"))
        utc_days.add(DAY_ORDER[utc.weekday()])
        first_utc = first_utc or utc
    assert first_utc is not None
    begin = datetime(2024, 1, 1, first_utc.hour, first_utc.minute)
    end = begin + timedelta(minutes=duration_minutes(duration))
    byday = ",".join(DAYS[d] for d in DAY_ORDER if d in utc_days)
    block = B(
        "recurring_window",
        start_time=begin.strftime("%Y-%m-%dT%H:%M:%SZ"),
        end_time=end.strftime("%Y-%m-%dT%H:%M:%SZ"),
        recurrence=f"FREQ=WEEKLY;BYDAY={byday}",
    )
    days = ", ".join(d for d in DAY_ORDER if d in {d for w in windows for d in w.days})
    note = f"{start} {tz} for {duration} on {days} (UTC: {begin:%H:%M} on {byday})"
    return block, note


def node_config(env: Environment, group_name: str) -> Block:
    """Hardened node settings shared by every pool (and the default pool, in gke.tf)."""
    group = getattr(env.node_groups, group_name)
    block = B(
        "node_config",
        machine_type=group.instance_types.gcp,
        image_type="COS_CONTAINERD",
        disk_type="pd-balanced",
        disk_size_gb=group.disk_size_gb,
        boot_disk_kms_key=E("google_kms_crypto_key.disks.id"),
        service_account=E("google_service_account.nodes.email"),
        oauth_scopes=[CLOUD_PLATFORM_SCOPE],
        spot=False,
        preemptible=False,
        labels={**group.labels, "kubeprod.io/node-group": group_name},
        resource_labels=environment_tags(env),
        metadata={"disable-legacy-endpoints": "true"},
        shielded_instance_config=B(
            "shielded_instance_config",
            enable_secure_boot=True,
            enable_integrity_monitoring=True,
        ),
        workload_metadata_config=B("workload_metadata_config", mode="GKE_METADATA"),
    )
    return block


def gke_tf(env: Environment) -> list[Block | Comment]:
    """gke.tf: the regional cluster, its security, logging, monitoring and maintenance."""
    gcp = gcp_of(env)
    api = env.api_endpoint
    default_pool = node_config(env, "system")
    default_pool.body = [
        item for item in default_pool.body if getattr(item, "name", "") != "labels"
    ]
    cluster = R(
        "google_container_cluster",
        "this",
        name=E("local.name"),
        location=E("local.region"),
        node_locations=E("local.zones"),
        deletion_protection=True,
        network=E("google_compute_network.this.id"),
        subnetwork=E("google_compute_subnetwork.nodes.id"),
        networking_mode="VPC_NATIVE",
        datapath_provider="ADVANCED_DATAPATH",
        enable_intranode_visibility=True,
        enable_shielded_nodes=True,
        enable_legacy_abac=False,
        min_master_version=env.kubernetes.version,
        remove_default_node_pool=True,
        initial_node_count=1,
        resource_labels=environment_tags(env),
        depends_on=[
            E("google_kms_crypto_key_iam_member.gke_secrets"),
            E("google_kms_crypto_key_iam_member.compute_disks"),
            E("google_binary_authorization_policy.this"),
            *fleet_dependencies(env),
        ],
    )
    cluster.add(
        Comment("K8S-1 / SEC-4: the release channel upgrades within the maintenance window."),
        B("release_channel", channel=env.kubernetes.release_channel),
        Comment("NET-6: pods and services in the node subnet's secondary ranges (VPC-native)."),
        B(
            "ip_allocation_policy",
            cluster_secondary_range_name="pods",
            services_secondary_range_name="services",
        ),
        tag(
            Req.K8S_4,
            Req.SEC_1,
            Req.K8S_5,
            note="nodes have private addresses only; the private endpoint\n"
            "always exists. The public endpoint stays on, restricted below.",
        ),
        B(
            "private_cluster_config",
            enable_private_nodes=True,
            enable_private_endpoint=not api.public,
            master_ipv4_cidr_block=gcp.master_ipv4_cidr_block,
        ),
        Comment("SEC-2: only the spec's allow-list reaches the control plane."),
        B(
            "master_authorized_networks_config",
            gcp_public_cidrs_access_enabled=False,
            cidr_blocks=[
                B("cidr_blocks", cidr_block=cidr, display_name=f"allowed-{i}")
                for i, cidr in enumerate(api.public_allowed_cidrs)
            ]
            or None,
        ),
        B(
            "master_auth",
            client_certificate_config=B(
                "client_certificate_config", issue_client_certificate=False
            ),
        ),
        Comment(
            "SEC-5: Dataplane V2 enforces NetworkPolicy itself; the Calico add-on and\n"
            "the legacy network_policy setting stay off."
        ),
        B("network_policy", enabled=False),
        B(
            "addons_config",
            network_policy_config=B("network_policy_config", disabled=True),
            http_load_balancing=B("http_load_balancing", disabled=False),
            horizontal_pod_autoscaling=B("horizontal_pod_autoscaling", disabled=False),
            gce_persistent_disk_csi_driver_config=B(
                "gce_persistent_disk_csi_driver_config", enabled=True
            ),
            dns_cache_config=B("dns_cache_config", enabled=True),
            # DR-1: the Backup for GKE agent (backup.tf holds the plan).
            gke_backup_agent_config=B("gke_backup_agent_config", enabled=env.backup.enabled),
        ),
        B("gateway_api_config", channel="CHANNEL_STANDARD"),
        Comment("SEC-8: Kubernetes secrets envelope-encrypted with a Cloud KMS key."),
        B(
            "database_encryption",
            state="ENCRYPTED",
            key_name=E("google_kms_crypto_key.secrets.id"),
        ),
        B("workload_identity_config", workload_pool=template(E("local.project"), ".svc.id.goog")),
        Comment(
            "Only images the project's Binary Authorization policy (binauthz.tf) admits\n"
            "run (the gate judges it with SEC-6; pod security labels are still to come)."
        ),
        B("binary_authorization", evaluation_mode="PROJECT_SINGLETON_POLICY_ENFORCE"),
        Comment(
            "Configuration auditing on. GKE's workload vulnerability scanning is withdrawn\n"
            "(VULNERABILITY_BASIC can no longer be enabled; VULNERABILITY_ENTERPRISE is\n"
            "deprecated): images are scanned by Artifact Analysis in Artifact Registry."
        ),
        B(
            "security_posture_config",
            mode="BASIC",
            vulnerability_mode="VULNERABILITY_DISABLED",
        ),
        Comment(
            "CHG-5: upgrade, available-upgrade and security-bulletin events go to a Pub/Sub\n"
            "topic (notifications.tf); GKE also logs them, and a log-based alert sends them\n"
            "to the alert channels."
        ),
        B(
            "notification_config",
            pubsub=B(
                "pubsub",
                enabled=True,
                topic=E("google_pubsub_topic.gke_notifications.id"),
                filter=B("filter", event_type=list(NOTIFICATION_EVENTS)),
            ),
        ),
    )
    if gcp.rbac_security_group:
        cluster.add(B("authenticator_groups_config", security_group=gcp.rbac_security_group))
    cluster.add(*fleet_registration(env))
    cluster.add(
        Comment("K8S-7 / SEC-7: every control-plane component and workload logs."),
        B("logging_config", enable_components=list(LOGGING_COMPONENTS)),
        Comment("CHR-7: system and control-plane metrics plus Managed Prometheus."),
        B(
            "monitoring_config",
            enable_components=list(MONITORING_COMPONENTS),
            managed_prometheus=B("managed_prometheus", enabled=env.monitoring.managed_prometheus),
        ),
        Comment(
            "CHR-6: GKE has no per-flag scale-down knobs; BALANCED is the conservative\n"
            "profile. Node auto-provisioning stays off: every pool is declared here."
        ),
        B("cluster_autoscaling", enabled=False, autoscaling_profile="BALANCED"),
    )
    if env.maintenance.windows:
        window, note = recurring_window(list(env.maintenance.windows))
        cluster.add(
            Comment(
                f"SEC-4: upgrades only in the spec's window:\n{note}.\n"
                "GKE windows are UTC, converted at the zone's January offset: where the\n"
                "zone changes offset during the year, the window moves by that much locally."
            ),
            B("maintenance_policy", recurring_window=window),
        )
    else:
        cluster.add(Comment("SEC-4: the spec names no maintenance window; GKE picks times."))
    cluster.add(
        Comment(
            "The default pool is removed at once, but while it exists it runs as the\n"
            "least-privilege node account, not the Compute Engine default account."
        ),
        default_pool,
        B("timeouts", create="45m", update="60m", delete="45m"),
        lifecycle(prevent_destroy=True, ignore=["node_config", "initial_node_count"]),
    )
    return [
        Comment(
            "CHR-1 / CHR-2 / CHR-3 / NET-5: a regional cluster (control plane replicated over\n"
            "the region's zones) with nodes in the spec's three zones, named explicitly,\n"
            "protected from deletion."
        ),
        cluster,
    ]
