"""GKE constraints from Google's documentation and the reference modules.

Each function judges one documented constraint of a GKE configuration and is called by
the rule of the requirement it protects (K8S-1, K8S-4, K8S-7, SEC-4, SEC-6, SEC-7, SEC-8
and the cluster-admin check). The docstrings name the source; docs/gcp.md says which
choice the renderer makes.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from kubeprod.policy.plan_model import UNKNOWN, Resource
from kubeprod.policy.rules.aks import targets
from kubeprod.policy.rules.base import Ctx, blocks, show

# GKE v1 API SecurityPostureConfig.VulnerabilityMode: "VULNERABILITY_BASIC: Deprecated: Basic
# vulnerability scanning is no longer supported"; the enterprise tier (Advanced Vulnerability
# Insights) is deprecated too (GKE docs, deprecations/vulnerability-scanning-gkee).
WITHDRAWN_VULNERABILITY_MODES = ("VULNERABILITY_BASIC", "VULNERABILITY_ENTERPRISE")
WEBHOOK_PORTS = (8443, 9443, 15017)
ADMIN_ROLES = ("roles/container.admin", "roles/container.clusterAdmin", "roles/owner")


def clusters(ctx: Ctx) -> list[Resource]:
    return ctx.model.of("google_container_cluster")


def vulnerability_mode(ctx: Ctx) -> None:
    """SEC-4: no withdrawn vulnerability-scanning tier.

    Source: GKE v1 API reference, SecurityPostureConfig.VulnerabilityMode
    ("VULNERABILITY_BASIC ... Basic vulnerability scanning is no longer supported") and the
    GKE deprecation notice `kubernetes-engine/docs/deprecations/vulnerability-scanning-gkee`
    (standard tier shut down 2025-07-31; Advanced Vulnerability Insights deprecated
    2025-06-16, results gone 2026-06-16). GKE rejects enabling a withdrawn tier.
    """
    for c in clusters(ctx):
        ctx.check(
            c,
            "security_posture_config.0.vulnerability_mode",
            lambda v: v not in WITHDRAWN_VULNERABILITY_MODES,
            '"VULNERABILITY_DISABLED" (scan images with Artifact Analysis instead)',
            missing_ok=True,
        )


def service_agent_identity(ctx: Ctx) -> None:
    """SEC-8: the GKE service agent that uses the secrets key is created, not assumed, and
    the key is granted to that created agent.

    Source: terraform-google-kubernetes-engine `examples/confidential_safer_cluster/kms.tf`
    (`google_project_service_identity` for container.googleapis.com, google-beta, then the
    key grant to its member). A hand-built `service-<number>@container-engine-robot` member
    may not exist in a new project, and the key grant, then the cluster, fail.
    """
    encrypted = [c for c in clusters(ctx) if c.get("database_encryption.0.state") == "ENCRYPTED"]
    identities = {
        i.config_address
        for i in ctx.model.of("google_project_service_identity")
        if i.get("service") in ("container.googleapis.com", UNKNOWN)
    }
    fix = (
        "google_project_service_identity { provider = google-beta, service = "
        '"container.googleapis.com" }, and grant the key to its member'
    )
    for c in encrypted:
        if not identities:
            ctx.fail(
                c,
                "the GKE service agent granted the secrets key is not created in this "
                "configuration: on a new project the grant fails",
                "google_project_service_identity",
                fix,
            )
            continue
        keys = set(targets(c, "database_encryption.0.key_name"))
        if not keys:  # a plan JSON: the wiring is not at hand, the agent is created
            ctx.ok(c, "the GKE service agent is created", "google_project_service_identity")
            continue
        grants = [
            g
            for g in ctx.model.of("google_kms_crypto_key_iam_member")
            if keys & set(targets(g, "crypto_key_id"))
        ]
        wired = [g for g in grants if identities & set(targets(g, "member"))]
        if wired:
            ctx.ok(wired[0], "the secrets key is granted to the created GKE service agent")
        else:
            ctx.fail(
                c,
                "the secrets key is not granted to the created GKE service agent (a member "
                "built by hand, or no grant): the cluster cannot use the key",
                "google_kms_crypto_key_iam_member.member",
                "member = google_project_service_identity.<gke>.member on the secrets key",
            )


def log_bucket_retention(ctx: Ctx) -> None:
    """K8S-7: control-plane logs are kept as long as the spec asks (logging.retention_days).

    Source: Cloud Logging docs (the `_Default` bucket keeps logs 30 days unless configured)
    and the google provider's `google_logging_project_bucket_config` (bucket_id `_Default`,
    `retention_days`). GKE's control-plane logs land in `_Default`.
    """
    if not clusters(ctx):
        return
    want = ctx.opt.log_retention_days
    buckets = [
        b
        for b in ctx.model.of("google_logging_project_bucket_config")
        if b.get("bucket_id") in ("_Default", UNKNOWN)
    ]
    if not buckets:
        ctx.fail(
            None,
            f"the _Default log bucket keeps its default 30 days, not {want}",
            "google_logging_project_bucket_config",
            f'a google_logging_project_bucket_config for bucket_id "_Default" with '
            f"retention_days = {want}",
        )
    for b in buckets:
        ctx.check(
            b,
            "retention_days",
            lambda v: isinstance(v, int) and v >= want,
            f"at least {want} (logging.retention_days)",
        )


def binary_authorization_policy(ctx: Ctx) -> None:
    """SEC-6: an enforced Binary Authorization project policy is rendered, and admits only
    what it names.

    Source: google provider docs, `google_container_cluster.binary_authorization`
    (`PROJECT_SINGLETON_POLICY_ENFORCE` enforces the project's singleton policy) and
    `google_binary_authorization_policy`; Binary Authorization docs: a project without a
    policy of its own gets the default one, which allows all images. Enforcing a policy
    that is never rendered enforces nothing.
    """
    policies = ctx.model.of("google_binary_authorization_policy")
    for c in clusters(ctx):
        mode = c.get("binary_authorization.0.evaluation_mode")
        if mode is UNKNOWN:
            ctx.unknown(c, "binary_authorization known only after apply", "binary_authorization")
        elif mode != "PROJECT_SINGLETON_POLICY_ENFORCE":
            ctx.fail(
                c,
                f"binary_authorization evaluation_mode is {show(mode)}",
                "binary_authorization.0.evaluation_mode",
                '"PROJECT_SINGLETON_POLICY_ENFORCE" with a rendered project policy',
            )
        elif not policies:
            ctx.fail(
                c,
                "the cluster enforces the project's Binary Authorization policy, but the "
                "configuration has none: the default policy allows every image",
                "google_binary_authorization_policy",
                "render google_binary_authorization_policy (default rule ALWAYS_DENY plus "
                "admission_whitelist_patterns)",
            )
        else:
            ctx.ok(c, "enforces the rendered Binary Authorization policy", "binary_authorization")
    for p in policies:
        ctx.check(
            p,
            "default_admission_rule.0.evaluation_mode",
            lambda v: v in ("ALWAYS_DENY", "REQUIRE_ATTESTATION"),
            '"ALWAYS_DENY" or "REQUIRE_ATTESTATION" (ALWAYS_ALLOW admits every image)',
        )


def config_sync_membership(ctx: Ctx) -> None:
    """SEC-6 (GitOps delivery of the baseline): Config Sync is turned on for a fleet
    membership of a cluster in this configuration, under the configmanagement feature.

    Source: Google, "Install Config Sync" (kubernetes-engine/enterprise/config-sync/docs/
    how-to/installing-config-sync): Config Sync is configured per fleet membership, so
    the cluster must be registered to the fleet and the configmanagement feature enabled;
    the Terraform tab registers the cluster with `fleet { project }` and points
    `google_gke_hub_feature_membership.membership` at it. google provider docs,
    `google_container_cluster` `fleet.0.membership_id` ("use this field to configure
    membership_id under google_gkehub_feature_membership"). A membership typed by hand, or
    a cluster without `fleet`, leaves the baseline with no controller to apply it.
    """
    features = [
        f for f in ctx.model.of("google_gke_hub_feature") if f.get("name") == "configmanagement"
    ]
    registered = {c.config_address for c in clusters(ctx) if c.get("fleet")}
    registered |= {m.config_address for m in ctx.model.of("google_gke_hub_membership")}
    for fm in ctx.model.of("google_gke_hub_feature_membership"):
        if not fm.get("configmanagement"):
            continue
        if not fm.refs:
            ctx.unknown(fm, "the configuration's references are not at hand (judge a directory)")
        elif not registered & set(targets(fm, "membership")):
            ctx.fail(
                fm,
                "Config Sync is configured for a membership that is no fleet membership of a "
                "cluster here (a name typed by hand, or a cluster without fleet {}): nothing "
                "installs Config Sync on the cluster",
                "membership",
                "google_container_cluster.<name>.fleet[0].membership_id, with "
                "fleet { project } on that cluster",
            )
        elif not features:
            ctx.fail(
                fm,
                "the configmanagement fleet feature is not enabled in this configuration: "
                "the feature membership is refused",
                "feature",
                'google_gke_hub_feature { name = "configmanagement", location = "global" }',
            )
        else:
            ctx.ok(fm, "Config Sync runs on the cluster's fleet membership", "membership")


def _ports(rule: dict[str, Any]) -> set[int] | None:
    """TCP ports an allow block opens; None means all of them."""
    if rule.get("protocol") not in ("tcp", "all", "6"):
        return set()
    ports = rule.get("ports")
    if not ports:
        return None
    out: set[int] = set()
    for p in ports if isinstance(ports, list) else []:
        text = str(p)
        low, _, high = text.partition("-")
        if low.isdigit() and (not high or high.isdigit()):
            out.update(range(int(low), int(high or low) + 1))
    return out


def webhook_firewall(ctx: Ctx) -> None:
    """K8S-4: with private nodes and a peered control plane, the control plane can reach
    admission webhooks on the nodes.

    Source: terraform-google-kubernetes-engine `modules/private-cluster/firewall.tf`
    (`google_compute_firewall.master_webhooks`: INGRESS from the control-plane range,
    tcp 8443, 9443, 15017) and GKE's private-cluster docs ("add firewall rules": GKE's own
    rule opens only 443 and 10250 from the control plane).
    """
    firewalls = ctx.model.of("google_compute_firewall")
    for c in clusters(ctx):
        if c.get("private_cluster_config.0.enable_private_nodes") is not True:
            continue
        source = c.get("private_cluster_config.0.master_ipv4_cidr_block")
        if source is UNKNOWN:
            ctx.unknown(c, "control-plane range known only after apply", "master_ipv4_cidr_block")
            continue
        if not source:
            continue  # Private Service Connect control plane: no peered range to allow
        master = ipaddress.ip_network(str(source), strict=False)
        open_ports: set[int] = set()
        for f in firewalls:
            if f.get("direction") not in (None, "INGRESS") or f.get("disabled") is True:
                continue
            ranges = f.get("source_ranges")
            if ranges is UNKNOWN or not isinstance(ranges, list):
                continue
            covers = any(
                master.subnet_of(net)  # type: ignore[arg-type]  # same version: filtered
                for net in (ipaddress.ip_network(str(r), strict=False) for r in ranges)
                if net.version == master.version
            )
            if not covers:
                continue
            for allow in blocks(f.get("allow")):
                ports = _ports(allow)
                open_ports |= set(WEBHOOK_PORTS) if ports is None else ports
        missing = [p for p in WEBHOOK_PORTS if p not in open_ports]
        if missing:
            ctx.fail(
                c,
                f"the control plane ({master}) cannot reach admission webhooks on tcp "
                f"{', '.join(map(str, missing))}",
                "google_compute_firewall",
                f"an INGRESS google_compute_firewall from {master} to the nodes allowing tcp "
                f"{', '.join(map(str, WEBHOOK_PORTS))}",
            )
        else:
            ctx.ok(c, f"control plane reaches webhooks on {WEBHOOK_PORTS}", "firewall")


def audit_config_scope(ctx: Ctx) -> None:
    """SEC-7: Cloud Audit Logs for the module's services, not `allServices`.

    Source: google provider docs, `google_project_iam_audit_config` ("authoritative for the
    given service": an `allServices` config replaces the exemptions and log types every
    other configuration of the project set) and Cloud Audit Logs pricing (data-access logs
    of every service are billed as log volume). container.googleapis.com must be covered.
    """
    audits = ctx.model.of("google_project_iam_audit_config")
    if not clusters(ctx):
        return
    services = set()
    for a in audits:
        service = a.get("service")
        services.add(service)
        if service == "allServices":
            ctx.fail(
                a,
                'service is "allServices": authoritative over every service of the project '
                "and costly",
                "service",
                "one google_project_iam_audit_config per service this module owns "
                '("container.googleapis.com", "cloudkms.googleapis.com", ...)',
            )
    if "container.googleapis.com" in services or UNKNOWN in services:
        ctx.ok(None, "Cloud Audit Logs configured for container.googleapis.com", "service")
    else:
        ctx.fail(
            None,
            "no google_project_iam_audit_config for container.googleapis.com",
            "google_project_iam_audit_config",
            'service = "container.googleapis.com" with ADMIN_READ, DATA_READ, DATA_WRITE',
        )


def channel_offers_version(ctx: Ctx, versions: Any) -> None:
    """K8S-1: `min_master_version` is a version the cluster's release channel offers.

    Source: GKE release channels docs (a cluster enrolled in a channel gets the versions that
    channel makes available; `gcloud container get-server-config` channels[].validVersions),
    recorded per channel in `kubeprod.spec.versions.GKE_CHANNEL_MINORS`.
    """
    for c in clusters(ctx):
        channel = c.get("release_channel.0.channel")
        version = c.get("min_master_version")
        if channel is UNKNOWN or version is UNKNOWN:
            ctx.unknown(c, "release channel or version known only after apply", "release_channel")
        elif not isinstance(channel, str) or not isinstance(version, str):
            continue
        elif versions.gke_channel_offers(channel, version):
            ctx.ok(c, f"the {channel} channel offers {version}", "min_master_version")
        else:
            offered = ", ".join(versions.GKE_CHANNEL_MINORS.get(channel, ()))
            ctx.fail(
                c,
                f"the {channel} channel does not offer {version} (it offers {offered} as of "
                f"{versions.AS_OF})",
                "min_master_version",
                f"a version the {channel} channel offers",
            )


def cluster_admins(ctx: Ctx) -> None:
    """Someone can administer the GKE cluster: an IAM grant of a GKE admin role.

    Source: GKE access-control docs (IAM roles `roles/container.admin` /
    `roles/container.clusterAdmin` grant access to clusters and the Kubernetes API; without
    a grant, or RBAC bindings made by someone who has one, nobody administers the cluster)
    and cloud-review.md (GKE IAM as the admin path for item AWS 6).
    """
    if not clusters(ctx):
        return
    grants = [
        g
        for g in ctx.model.of("google_project_iam_member", "google_project_iam_binding")
        if g.get("role") in (*ADMIN_ROLES, UNKNOWN)
    ]
    if grants:
        ctx.ok(grants[0], f"cluster admin granted ({show(grants[0].get('role'))})", "role")
    else:
        ctx.fail(
            None,
            "no principal is granted a GKE admin role: nobody can administer the cluster",
            "google_project_iam_member",
            'role = "roles/container.admin" for each of access.gcp_admin_members',
        )


NOTIFICATION_LOG = "container.googleapis.com%2Fnotifications"


def cluster_notifications(ctx: Ctx) -> None:
    """CHR-7 / CHG-5: GKE's upgrade and security-bulletin notifications reach the team.

    Source: GKE docs, "Cluster notifications" and "Receive cluster notifications through
    Pub/Sub" (`notification_config.pubsub` with a topic in the cluster's project; the same
    notifications are written to Cloud Logging, `logs/container.googleapis.com%2Fnotifications`,
    for log-based alerting policies). Without either, an upgrade GKE schedules or a security
    bulletin for the cluster's version reaches nobody.
    """
    for c in clusters(ctx):
        enabled = c.get("notification_config.0.pubsub.0.enabled")
        topic = c.get("notification_config.0.pubsub.0.topic")
        if enabled is UNKNOWN:
            ctx.unknown(c, "notification_config known only after apply", "notification_config")
        elif enabled is True and topic is not None:
            ctx.ok(c, "cluster notifications published to Pub/Sub", "notification_config")
        else:
            ctx.fail(
                c,
                "GKE cluster notifications are not published (notification_config pubsub off)",
                "notification_config.0.pubsub",
                "pubsub { enabled = true, topic = google_pubsub_topic.<name>.id } filtered to "
                "UPGRADE_AVAILABLE_EVENT, UPGRADE_EVENT, SECURITY_BULLETIN_EVENT",
            )
    if not clusters(ctx):
        return
    routed = [
        a
        for a in ctx.model.of("google_monitoring_alert_policy")
        if any(
            NOTIFICATION_LOG in str(m.get("filter"))
            for cond in blocks(a.get("conditions"))
            for m in blocks(cond.get("condition_matched_log"))
        )
    ]
    if not routed:
        ctx.fail(
            None,
            "no alert policy sends the cluster notifications logged by GKE to a channel",
            "google_monitoring_alert_policy",
            f'a condition_matched_log alert on logName ".../logs/{NOTIFICATION_LOG}" with '
            "notification_channels",
        )
    for a in routed:
        ctx.check(
            a,
            "notification_channels",
            lambda v: isinstance(v, list) and len(v) > 0,
            "the alert targets' notification channels",
        )
