"""GKE module: monitoring.tf, notification channels for the spec's alert targets and the
node and container alert policies (CHR-7)."""

from __future__ import annotations

from kubeprod.clouds.base import environment_tags
from kubeprod.hcl import Block, Comment, Expr
from kubeprod.hcl.shorthand import B, E, R, ref, template
from kubeprod.spec.model import Environment


def channel_list(env: Environment) -> list[Expr] | None:
    """The notification channels of monitoring.alert_targets, as a list expression."""
    labels = []
    for index, target in enumerate(env.monitoring.alert_targets):
        if target.email:
            labels.append(f"email_{index}")
        if target.webhook_env:
            labels.append(f"webhook_{index}")
    return [ref("google_monitoring_notification_channel", label, "id") for label in labels] or None


def monitoring_tf(env: Environment) -> list[Block | Comment]:
    """monitoring.tf: channels (webhook URLs as sensitive variables) and alert policies."""
    blocks: list[Block | Comment] = [
        Comment("CHR-7: alert policies notify the spec's alert targets."),
    ]
    for index, target in enumerate(env.monitoring.alert_targets):
        if target.email:
            label = f"email_{index}"
            blocks.append(
                R(
                    "google_monitoring_notification_channel",
                    label,
                    display_name=f"{env.name} alerts: {target.email}",
                    type="email",
                    labels={"email_address": target.email},
                    force_delete=False,
                )
            )
        if target.webhook_env:
            label = f"webhook_{index}"
            var = f"alert_webhook_url_{index}"
            blocks += [
                Comment(
                    f"The webhook URL may carry a secret: export "
                    f'TF_VAR_{var}="${target.webhook_env}".'
                ),
                B(
                    "variable",
                    var,
                    type=E("string"),
                    sensitive=True,
                    description=f"Alert webhook URL (from ${target.webhook_env})",
                ),
                R(
                    "google_monitoring_notification_channel",
                    label,
                    display_name=f"{env.name} alerts: webhook {index}",
                    type="webhook_tokenauth",
                    labels={"url": ref("var", var)},
                    force_delete=False,
                ),
            ]
    channels = channel_list(env)
    if channels is None:
        blocks.append(
            Comment("No alert_targets in the spec: the policies alert in the console only.")
        )
    cluster = f'resource.label.cluster_name = "{env.name}"'
    specs = [
        (
            "node_cpu",
            "Node CPU over 90% of allocatable",
            f'resource.type = "k8s_node" AND {cluster} AND '
            'metric.type = "kubernetes.io/node/cpu/allocatable_utilization"',
            0.9,
            "ALIGN_MEAN",
        ),
        (
            "node_memory",
            "Node memory over 90% of allocatable",
            f'resource.type = "k8s_node" AND {cluster} AND '
            'metric.type = "kubernetes.io/node/memory/allocatable_utilization"',
            0.9,
            "ALIGN_MEAN",
        ),
        (
            "container_restarts",
            "Containers restarting (crash loop)",
            f'resource.type = "k8s_container" AND {cluster} AND '
            'metric.type = "kubernetes.io/container/restart_count"',
            5,
            "ALIGN_DELTA",
        ),
    ]
    for label, title, metric_filter, threshold, aligner in specs:
        blocks.append(
            R(
                "google_monitoring_alert_policy",
                label,
                display_name=template(E("local.name"), f": {title}"),
                combiner="OR",
                severity="WARNING",
                notification_channels=channels,
                user_labels=environment_tags(env),
                conditions=B(
                    "conditions",
                    display_name=title,
                    condition_threshold=B(
                        "condition_threshold",
                        filter=metric_filter,
                        comparison="COMPARISON_GT",
                        threshold_value=threshold,
                        duration="600s",
                        aggregations=B(
                            "aggregations",
                            alignment_period="300s",
                            per_series_aligner=aligner,
                        ),
                    ),
                ),
                documentation=B(
                    "documentation",
                    mime_type="text/markdown",
                    content=f"{title} on GKE cluster {env.name} for 10 minutes.",
                ),
                depends_on=[E("google_container_cluster.this")],
            )
        )
    return blocks
