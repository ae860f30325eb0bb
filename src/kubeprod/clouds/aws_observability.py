"""EKS module: observability.tf, Container Insights alarms into an encrypted SNS topic and
the log groups Container Insights writes to (CHR-7 / SEC-3)."""

from __future__ import annotations

from kubeprod.hcl import Block, Call, Comment
from kubeprod.hcl.shorthand import E, R, template
from kubeprod.spec.model import Environment

ALERTS = E("aws_sns_topic.alerts.arn")
CONTAINER_INSIGHTS_LOG_GROUPS = ["application", "dataplane", "host", "performance"]


def observability_tf(env: Environment) -> list[Block | Comment]:
    """observability.tf: the encrypted alert topic, its e-mail subscriptions, the node alarms
    and the Container Insights log groups (CHR-7)."""
    blocks: list[Block | Comment] = [
        Comment("CHR-7: Container Insights metrics alarm into an encrypted SNS topic."),
        R(
            "aws_sns_topic",
            "alerts",
            name=template(E("local.name"), "-alerts"),
            kms_master_key_id=E("aws_kms_key.sns.id"),
        ),
    ]
    emails = [t.email for t in env.monitoring.alert_targets if t.email]
    if emails:
        blocks.append(
            R(
                "aws_sns_topic_subscription",
                "email",
                for_each=Call("toset", emails),
                topic_arn=E("aws_sns_topic.alerts.arn"),
                protocol="email",
                endpoint=E("each.value"),
            )
        )
    # treat_missing_data "missing": no alarm before Container Insights reports (a
    # new cluster); the failed-nodes alarm also notifies when its data stops.
    alarms = {
        "failed_nodes": (
            "cluster_failed_node_count",
            "GreaterThanThreshold",
            0,
            "A node of the cluster is failing",
        ),
        "node_cpu": (
            "node_cpu_utilization",
            "GreaterThanThreshold",
            80,
            "Average node CPU above 80% for 15 minutes",
        ),
        "node_memory": (
            "node_memory_utilization",
            "GreaterThanThreshold",
            85,
            "Average node memory above 85% for 15 minutes",
        ),
    }
    for name, (metric, op, threshold, text) in alarms.items():
        blocks.append(
            R(
                "aws_cloudwatch_metric_alarm",
                name,
                alarm_name=template(E("local.name"), "-" + name.replace("_", "-")),
                alarm_description=text,
                namespace="ContainerInsights",
                metric_name=metric,
                dimensions={"ClusterName": E("aws_eks_cluster.this.name")},
                statistic="Average",
                period=300,
                evaluation_periods=3,
                comparison_operator=op,
                threshold=threshold,
                treat_missing_data="missing",
                alarm_actions=[ALERTS],
                ok_actions=[ALERTS],
                insufficient_data_actions=[ALERTS] if name == "failed_nodes" else None,
            )
        )
    if env.monitoring.container_insights:
        blocks += [
            Comment(
                "CHR-7 / SEC-3: the log groups Container Insights writes to, made here\n"
                "first so they carry the logs CMK and the spec's retention (the agent\n"
                "would otherwise create them unencrypted, kept forever)."
            ),
            R(
                "aws_cloudwatch_log_group",
                "container_insights",
                for_each=Call("toset", CONTAINER_INSIGHTS_LOG_GROUPS),
                name=template(
                    "/aws/containerinsights/", E("local.cluster_name"), "/", E("each.value")
                ),
                retention_in_days=env.logging.retention_days,
                kms_key_id=E("aws_kms_key.logs.arn"),
            ),
        ]
    return blocks
