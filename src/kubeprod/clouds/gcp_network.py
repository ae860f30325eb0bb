"""GKE module: network.tf, the custom-mode VPC, node and proxy-only subnets, firewall
rules and the regional Cloud NAT (NET-1..NET-6, SEC-5, CHR-5)."""

from __future__ import annotations

from kubeprod.clouds.base import environment_tags
from kubeprod.clouds.gcp_common import gcp_of, secondary_ranges
from kubeprod.hcl import Block, Comment
from kubeprod.hcl.shorthand import B, E, R, lifecycle, template
from kubeprod.spec import gcp_sizing as sizing
from kubeprod.spec.model import Environment

# Ports the control plane uses to reach admission webhooks on the nodes of a cluster with a
# peered control plane (terraform-google-kubernetes-engine modules/private-cluster/firewall.tf).
WEBHOOK_PORTS = ("8443", "9443", "15017")
# Google's load balancer health-check sources.
HEALTH_CHECK_RANGES = ["35.191.0.0/16", "130.211.0.0/22"]


def network_tf(env: Environment) -> list[Block | Comment]:
    """network.tf: VPC, subnets, firewall rules, Cloud NAT with static addresses."""
    gcp = gcp_of(env)
    net = env.network
    zones = len(gcp.zones)
    pods, services = secondary_ranges(env)
    nat_ips = sizing.nat_ip_count(env, zones)
    return [
        Comment(
            "NET-1: custom-mode VPC. A GCP VPC has no CIDR of its own; its subnets take\n"
            f"their ranges from {net.vpc_cidr}."
        ),
        R(
            "google_compute_network",
            "this",
            name=E("local.name"),
            auto_create_subnetworks=False,
            routing_mode="REGIONAL",
            delete_default_routes_on_create=False,
            depends_on=[E("google_project_service.this")],
        ),
        Comment(
            "NET-3 / NET-6: GCP subnets are regional, so one node subnet spans all three\n"
            f"zones: {net.private_subnets[0]} (the first private range). Pods and services\n"
            "take secondary ranges sized for the node pools at their maximum."
        ),
        R(
            "google_compute_subnetwork",
            "nodes",
            name=template(E("local.name"), "-nodes"),
            network=E("google_compute_network.this.id"),
            region=E("local.region"),
            ip_cidr_range=net.private_subnets[0],
            private_ip_google_access=True,
            secondary_ip_range=[
                B("secondary_ip_range", range_name="pods", ip_cidr_range=pods),
                B("secondary_ip_range", range_name="services", ip_cidr_range=services),
            ],
            log_config=B(
                "log_config",
                aggregation_interval="INTERVAL_5_SEC",
                flow_sampling=0.5,
                metadata="INCLUDE_ALL_METADATA",
            ),
        ),
        Comment(
            "NET-2: GCP has no public subnets (external IPs attach to load balancers, not\n"
            f"to a range). The first public range, {net.public_subnets[0]}, is the proxy-only\n"
            "subnet regional Application Load Balancers (GKE Gateway) need; the others\n"
            "stay reserved, unused, so the address plan matches AWS and Azure."
        ),
        R(
            "google_compute_subnetwork",
            "proxy_only",
            name=template(E("local.name"), "-proxy-only"),
            network=E("google_compute_network.this.id"),
            region=E("local.region"),
            ip_cidr_range=net.public_subnets[0],
            purpose="REGIONAL_MANAGED_PROXY",
            role="ACTIVE",
        ),
        Comment(
            "SEC-5: deny by default. GCP already denies ingress it has no rule for; this\n"
            "rule makes that explicit and logged. GKE adds its own higher-priority allow\n"
            "rules (control plane to nodes, pod to pod) for the cluster."
        ),
        R(
            "google_compute_firewall",
            "deny_all_ingress",
            name=template(E("local.name"), "-deny-all-ingress"),
            network=E("google_compute_network.this.id"),
            direction="INGRESS",
            priority=65534,
            source_ranges=["0.0.0.0/0"],
            deny=B("deny", protocol="all"),
            log_config=B("log_config", metadata="INCLUDE_ALL_METADATA"),
        ),
        Comment("Google load balancer health checks reach the nodes (and nothing else)."),
        R(
            "google_compute_firewall",
            "allow_health_checks",
            name=template(E("local.name"), "-allow-health-checks"),
            network=E("google_compute_network.this.id"),
            direction="INGRESS",
            priority=1000,
            source_ranges=HEALTH_CHECK_RANGES,
            target_service_accounts=[E("google_service_account.nodes.email")],
            allow=B("allow", protocol="tcp"),
            log_config=B("log_config", metadata="INCLUDE_ALL_METADATA"),
        ),
        Comment(
            "K8S-4: the control plane reaches nodes on 443 and 10250 only (GKE's own rule).\n"
            "Admission webhooks listen elsewhere (cert-manager, Gatekeeper 8443, kubebuilder\n"
            "9443, Istio 15017): allow those from the peered control-plane range, as\n"
            "terraform-google-kubernetes-engine modules/private-cluster/firewall.tf does."
        ),
        R(
            "google_compute_firewall",
            "control_plane_webhooks",
            name=template(E("local.name"), "-control-plane-webhooks"),
            network=E("google_compute_network.this.id"),
            direction="INGRESS",
            priority=1000,
            source_ranges=[gcp.master_ipv4_cidr_block],
            target_service_accounts=[E("google_service_account.nodes.email")],
            allow=B("allow", protocol="tcp", ports=list(WEBHOOK_PORTS)),
            log_config=B("log_config", metadata="INCLUDE_ALL_METADATA"),
        ),
        Comment(
            "CHR-5 / NET-4: Cloud NAT is a regional, software-defined service with no\n"
            "zonal gateway to lose: one NAT serves all three zones and survives a zone\n"
            f"outage (docs/gcp.md). {nat_ips} static addresses hold every node at peak with\n"
            f"{sizing.NAT_MIN_PORTS_PER_VM}+ ports each, plus a spare."
        ),
        R(
            "google_compute_router",
            "nat",
            name=template(E("local.name"), "-nat"),
            network=E("google_compute_network.this.id"),
            region=E("local.region"),
        ),
        R(
            "google_compute_address",
            "nat",
            count=nat_ips,
            name=template(E("local.name"), "-nat-", E("count.index")),
            region=E("local.region"),
            address_type="EXTERNAL",
            network_tier="PREMIUM",
            labels=environment_tags(env),
            lifecycle=lifecycle(prevent_destroy=True),
        ),
        R(
            "google_compute_router_nat",
            "this",
            name=template(E("local.name"), "-nat"),
            router=E("google_compute_router.nat.name"),
            region=E("local.region"),
            nat_ip_allocate_option="MANUAL_ONLY",
            nat_ips=E("google_compute_address.nat[*].self_link"),
            source_subnetwork_ip_ranges_to_nat="LIST_OF_SUBNETWORKS",
            enable_dynamic_port_allocation=True,
            enable_endpoint_independent_mapping=False,
            min_ports_per_vm=sizing.NAT_MIN_PORTS_PER_VM,
            max_ports_per_vm=sizing.NAT_MAX_PORTS_PER_VM,
            subnetwork=B(
                "subnetwork",
                name=E("google_compute_subnetwork.nodes.id"),
                source_ip_ranges_to_nat=["ALL_IP_RANGES"],
            ),
            log_config=B("log_config", enable=True, filter="ERRORS_ONLY"),
        ),
    ]
