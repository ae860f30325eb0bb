"""AKS module: monitoring.tf, control-plane and Key Vault audit logs (K8S-7 / SEC-7), Container
Insights, managed Prometheus and alerts to the on-call targets (CHR-7); and variables.tf,
the webhook URLs those alerts post to, which exists only when a target has a webhook."""

from __future__ import annotations

from kubeprod.clouds.azure_common import CLUSTER, KEY_VAULT, RG, TAGS, alnum, common
from kubeprod.facts.azure import AKS_LOG_CATEGORIES
from kubeprod.hcl import Block, Call, Comment
from kubeprod.hcl.shorthand import B, E, R, at, map_of, ref
from kubeprod.spec.model import Environment

# Log Analytics keeps data at most 730 days in the interactive tier.
LOG_ANALYTICS_MAX_RETENTION = 730
# K8S-7 / SEC-7 log categories: kubeprod.facts.azure.
DIAGNOSTIC_CATEGORIES = AKS_LOG_CATEGORIES
# CHR-7: platform metrics of Microsoft.ContainerService/managedClusters worth paging on.
METRIC_ALERTS: tuple[tuple[str, str, str, str, float, int], ...] = (
    # (name, metric, aggregation, operator, threshold, severity)
    ("node-cpu-high", "node_cpu_usage_percentage", "Average", "GreaterThan", 80, 2),
    ("node-memory-high", "node_memory_working_set_percentage", "Average", "GreaterThan", 80, 2),
    ("node-disk-high", "node_disk_usage_percentage", "Average", "GreaterThan", 80, 2),
    (
        "pods-unschedulable",
        "cluster_autoscaler_unschedulable_pods_count",
        "Average",
        "GreaterThan",
        0,
        1,
    ),
)


def variables_tf(env: Environment) -> list[Block | Comment]:
    """variables.tf: the alert webhook URLs, secret, set at apply time (only with webhooks)."""
    return [
        B(
            "variable",
            "alert_webhook_urls",
            type=map_of("string"),
            sensitive=True,
            description="CHR-7: webhook URL per alert target, keyed by the spec's webhook_env "
            "name (export TF_VAR_alert_webhook_urls; never in the spec)",
        )
    ]


# CHR-7: node recording rules evaluated in the Azure Monitor workspace, in the spirit of the
# AVM monitoring module's node rule group (the dashboards and alerts read these series).
NODE_RECORDING_RULES = (
    (
        "instance:node_cpu_utilisation:rate5m",
        '1 - avg without (cpu) (sum without (mode) (rate(node_cpu_seconds_total{job="node", '
        'mode=~"idle|iowait|steal"}[5m])))',
    ),
    (
        "instance:node_memory_utilisation:ratio",
        '1 - (node_memory_MemAvailable_bytes{job="node"} / node_memory_MemTotal_bytes{job="node"})',
    ),
    (
        "instance_device:node_disk_io_time_seconds:rate5m",
        'rate(node_disk_io_time_seconds_total{job="node", device!=""}[5m])',
    ),
)
PROMETHEUS_STREAM = "Microsoft-PrometheusMetrics"
PROMETHEUS_ENDPOINT = "azurerm_monitor_data_collection_endpoint.prometheus"
CONTAINER_INSIGHTS_STREAM = "Microsoft-ContainerInsights-Group-Default"


def _prometheus(env: Environment) -> list[Block | Comment]:
    """CHR-7: managed Prometheus wired as the AVM monitoring module wires it.

    Azure Monitor workspace <- data collection rule (Microsoft-PrometheusMetrics) through a
    data collection endpoint; the rule and the endpoint (configurationAccessEndpoint) are
    associated with the cluster, and a recording rule group runs on the workspace.
    """
    rule_group = R(
        "azurerm_monitor_alert_prometheus_rule_group",
        "node",
        name=f"{env.name}-node-recording-rules",
        **common(
            cluster_name=ref(CLUSTER, "name"),
            rule_group_enabled=True,
            interval="PT1M",
            scopes=[E("azurerm_monitor_workspace.this.id")],
            tags=TAGS,
        ),
    )
    for record, expression in NODE_RECORDING_RULES:
        rule_group.add(B("rule", enabled=True, record=record, expression=expression))
    return [
        Comment(
            "CHR-7: managed Prometheus. monitor_metrics on the cluster turns the agent on;\n"
            "these resources say where its metrics go (AVM modules/monitoring/main.tf)."
        ),
        R(
            "azurerm_monitor_workspace",
            "this",
            name=f"amw-{env.name}",
            **common(tags=TAGS),
        ),
        R(
            "azurerm_monitor_data_collection_endpoint",
            "prometheus",
            name=f"dce-{env.name}-prometheus",
            **common(kind="Linux", tags=TAGS),
        ),
        R(
            "azurerm_monitor_data_collection_rule",
            "prometheus",
            name=f"dcr-{env.name}-prometheus",
            **common(
                kind="Linux",
                data_collection_endpoint_id=ref(PROMETHEUS_ENDPOINT, "id"),
                tags=TAGS,
            ),
            destinations=B(
                "destinations",
                monitor_account=B(
                    "monitor_account",
                    monitor_account_id=E("azurerm_monitor_workspace.this.id"),
                    name="prometheus",
                ),
            ),
            data_flow=B("data_flow", streams=[PROMETHEUS_STREAM], destinations=["prometheus"]),
            data_sources=B(
                "data_sources",
                prometheus_forwarder=B(
                    "prometheus_forwarder", name="PrometheusDataSource", streams=[PROMETHEUS_STREAM]
                ),
            ),
        ),
        R(
            "azurerm_monitor_data_collection_rule_association",
            "prometheus",
            name=f"dcra-{env.name}-prometheus",
            target_resource_id=ref(CLUSTER, "id"),
            data_collection_rule_id=E("azurerm_monitor_data_collection_rule.prometheus.id"),
        ),
        R(
            "azurerm_monitor_data_collection_rule_association",
            "prometheus_endpoint",
            name="configurationAccessEndpoint",
            target_resource_id=ref(CLUSTER, "id"),
            data_collection_endpoint_id=ref(PROMETHEUS_ENDPOINT, "id"),
        ),
        rule_group,
    ]


def _container_insights(env: Environment) -> list[Block | Comment]:
    """CHR-7: the data collection rule Container Insights needs with managed identity auth
    (Azure/terraform-azurerm-aks log_analytics.tf: `azurerm_monitor_data_collection_rule.dcr`
    and its association)."""
    return [
        Comment(
            "CHR-7: Container Insights with managed-identity auth collects what this rule\n"
            "says, into the Log Analytics workspace."
        ),
        R(
            "azurerm_monitor_data_collection_rule",
            "container_insights",
            name=f"dcr-{env.name}-container-insights",
            **common(tags=TAGS),
            destinations=B(
                "destinations",
                log_analytics=B(
                    "log_analytics",
                    workspace_resource_id=E("azurerm_log_analytics_workspace.this.id"),
                    name="logs",
                ),
            ),
            data_flow=B("data_flow", streams=[CONTAINER_INSIGHTS_STREAM], destinations=["logs"]),
            data_sources=B(
                "data_sources",
                extension=B(
                    "extension",
                    name="ContainerInsightsExtension",
                    extension_name="ContainerInsights",
                    streams=[CONTAINER_INSIGHTS_STREAM],
                    extension_json=Call(
                        "jsonencode",
                        {
                            "dataCollectionSettings": {
                                "interval": "1m",
                                "namespaceFilteringMode": "Off",
                                "enableContainerLogV2": True,
                            }
                        },
                    ),
                ),
            ),
        ),
        R(
            "azurerm_monitor_data_collection_rule_association",
            "container_insights",
            name=f"dcra-{env.name}-container-insights",
            target_resource_id=ref(CLUSTER, "id"),
            data_collection_rule_id=E("azurerm_monitor_data_collection_rule.container_insights.id"),
        ),
    ]


def monitoring_tf(env: Environment) -> list[Block | Comment]:
    """monitoring.tf: Log Analytics with control-plane and Key Vault logs, Container Insights,
    managed Prometheus, the on-call action group and metric alerts."""
    retention = min(env.logging.retention_days, LOG_ANALYTICS_MAX_RETENTION)
    group = R(
        "azurerm_monitor_action_group",
        "oncall",
        name=f"ag-{env.name}-oncall",
        resource_group_name=ref(RG, "name"),
        short_name=alnum(f"kp{env.name}")[:12],
        tags=TAGS,
    )
    for i, target in enumerate(env.monitoring.alert_targets):
        if target.email:
            group.add(
                B(
                    "email_receiver",
                    name=f"email-{i}",
                    email_address=target.email,
                    use_common_alert_schema=True,
                )
            )
        if target.webhook_env:
            group.add(
                B(
                    "webhook_receiver",
                    name=f"webhook-{i}",
                    service_uri=at("var.alert_webhook_urls", target.webhook_env),
                    use_common_alert_schema=True,
                )
            )
    diagnostics = R(
        "azurerm_monitor_diagnostic_setting",
        "aks",
        name="aks-control-plane",
        target_resource_id=ref(CLUSTER, "id"),
        log_analytics_workspace_id=E("azurerm_log_analytics_workspace.this.id"),
        log_analytics_destination_type="Dedicated",
    )
    for category in DIAGNOSTIC_CATEGORIES:
        diagnostics.add(B("enabled_log", category=category))
    diagnostics.add(B("enabled_metric", category="AllMetrics"))
    alerts: list[Block | Comment] = []
    for name, metric, aggregation, operator, threshold, severity in METRIC_ALERTS:
        alerts.append(
            R(
                "azurerm_monitor_metric_alert",
                name.replace("-", "_"),
                name=f"{env.name}-aks-{name}",
                resource_group_name=ref(RG, "name"),
                scopes=[ref(CLUSTER, "id")],
                severity=severity,
                frequency="PT5M",
                window_size="PT15M",
                tags=TAGS,
                criteria=B(
                    "criteria",
                    metric_namespace="Microsoft.ContainerService/managedClusters",
                    metric_name=metric,
                    aggregation=aggregation,
                    operator=operator,
                    threshold=threshold,
                ),
                action=B("action", action_group_id=E("azurerm_monitor_action_group.oncall.id")),
            )
        )
    kv_diagnostics = R(
        "azurerm_monitor_diagnostic_setting",
        "key_vault",
        name="key-vault-audit",
        target_resource_id=ref(KEY_VAULT, "id"),
        log_analytics_workspace_id=E("azurerm_log_analytics_workspace.this.id"),
        enabled_log=B("enabled_log", category_group="audit"),
    )
    return [
        Comment(
            f"K8S-7 / SEC-7 / CHR-7: control-plane logs kept {retention} days"
            + (
                f" (spec asks {env.logging.retention_days}; Log Analytics keeps at most "
                f"{LOG_ANALYTICS_MAX_RETENTION} interactive days: archive beyond that)."
                if retention != env.logging.retention_days
                else "."
            )
        ),
        R(
            "azurerm_log_analytics_workspace",
            "this",
            name=f"log-{env.name}-aks",
            **common(
                sku="PerGB2018",
                retention_in_days=retention,
                local_authentication_enabled=False,
                tags=TAGS,
            ),
        ),
        diagnostics,
        kv_diagnostics,
        *_container_insights(env),
        *_prometheus(env),
        group,
        *alerts,
    ]
