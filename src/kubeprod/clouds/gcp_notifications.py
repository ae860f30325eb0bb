"""GKE module: notifications.tf, cluster notifications on a CMEK Pub/Sub topic and the
log-based alert that sends them to the alert channels (CHG-5)."""

from __future__ import annotations

from kubeprod.clouds.base import environment_tags
from kubeprod.clouds.gcp_common import gcp_of
from kubeprod.clouds.gcp_monitoring import channel_list
from kubeprod.hcl import Block, Comment
from kubeprod.hcl.shorthand import B, E, R, template
from kubeprod.spec.model import Environment

NOTIFICATION_RETENTION = "604800s"  # 7 days on the topic


def notifications_tf(env: Environment) -> list[Block | Comment]:
    """notifications.tf: the notification topic and its alert policy."""
    gcp = gcp_of(env)
    log = f"projects/{gcp.project}/logs/container.googleapis.com%2Fnotifications"
    return [
        Comment(
            "CHG-5: GKE cluster notifications (upgrade available, upgrade started and\n"
            "finished, security bulletins) on a CMEK topic kept 7 days in the key's region,\n"
            "for any subscriber (a forwarder, gcloud pubsub). The team's channels get\n"
            "them from the alert policy below: no webhook URL is written into these files."
        ),
        R(
            "google_pubsub_topic",
            "gke_notifications",
            name=template(E("local.name"), "-gke-notifications"),
            kms_key_name=E("google_kms_crypto_key.notifications.id"),
            message_retention_duration=NOTIFICATION_RETENTION,
            message_storage_policy=B(
                "message_storage_policy", allowed_persistence_regions=[E("local.region")]
            ),
            labels=environment_tags(env),
            depends_on=[E("google_kms_crypto_key_iam_member.pubsub_notifications")],
        ),
        Comment(
            "GKE writes the same notifications to Cloud Logging; this log-based alert\n"
            "sends each to the alert channels of monitoring.alert_targets."
        ),
        R(
            "google_monitoring_alert_policy",
            "gke_notifications",
            display_name=template(E("local.name"), ": GKE cluster notification"),
            combiner="OR",
            severity="WARNING",
            notification_channels=channel_list(env),
            user_labels=environment_tags(env),
            conditions=B(
                "conditions",
                display_name="GKE upgrade or security bulletin",
                condition_matched_log=B(
                    "condition_matched_log",
                    filter=(
                        f'logName = "{log}" AND resource.type = "gke_cluster" AND '
                        f'resource.labels.cluster_name = "{env.name}"'
                    ),
                ),
            ),
            alert_strategy=B(
                "alert_strategy",
                auto_close="604800s",
                notification_rate_limit=B("notification_rate_limit", period="300s"),
            ),
            documentation=B(
                "documentation",
                mime_type="text/markdown",
                content=(
                    f"GKE published a cluster notification for {env.name}: an upgrade is "
                    "available or running, or a security bulletin applies. Read the log "
                    "entry; plan the upgrade through kubeprod's change process."
                ),
            ),
            depends_on=[E("google_container_cluster.this")],
        ),
    ]
