"""The production profile: hard rules checked before anything renders.

Each rule names the requirement ID it enforces (see shared/design/requirements-map.md).
`check_profile` returns every violation at once; the loader attaches lines.
"""

from __future__ import annotations

import ipaddress
import itertools
from collections.abc import Iterator

from kubeprod.facts.aws import EKS_LOG_TYPES
from kubeprod.facts.system_namespaces import ALWAYS_PRIVILEGED, is_system, needs_privileged
from kubeprod.results import Finding
from kubeprod.spec import azure_sizing, capacity, gcp_sizing, versions
from kubeprod.spec.model import Environment, NodeGroup, duration_minutes
from kubeprod.spec.profile_rules import (  # noqa: F401  (Loc, Rule: re-exported)
    RULES,
    Loc,
    Rule,
    configured_clouds,
    rule,
    violation,
)
from kubeprod.thresholds import SCALE_DOWN_MAX_THRESHOLD, SCALE_DOWN_MIN_MINUTES


def check_profile(env: Environment) -> list[Finding]:
    """Every production-profile violation in `env` (failing Findings located by `loc`)."""
    return [v for check in RULES for v in check(env)]


@rule
def at_least_one_cloud(env: Environment) -> Iterator[Finding]:
    if not configured_clouds(env):
        yield violation(
            ("clouds",),
            "SPEC-CLOUD",
            "no cloud is configured",
            "add clouds.aws, clouds.azure or clouds.gcp with its region and zones",
        )


@rule
def private_endpoint(env: Environment) -> Iterator[Finding]:
    if not env.api_endpoint.private:
        yield violation(
            ("api_endpoint", "private"),
            "SEC-1",
            "the production profile requires the private cluster endpoint (K8S-4)",
            "set api_endpoint.private: true",
        )


@rule
def public_endpoint_restricted(env: Environment) -> Iterator[Finding]:
    api = env.api_endpoint
    if not api.public:
        return
    if not api.public_allowed_cidrs:
        yield violation(
            ("api_endpoint", "public_allowed_cidrs"),
            "SEC-2",
            "the public endpoint is on but its allow-list is empty",
            "list your egress IP ranges in api_endpoint.public_allowed_cidrs, "
            "or set api_endpoint.public: false",
        )
    for index, cidr in enumerate(api.public_allowed_cidrs):
        net = ipaddress.ip_network(cidr)
        if net.prefixlen == 0:
            yield violation(
                ("api_endpoint", "public_allowed_cidrs", index),
                "SEC-2",
                f"{cidr} opens the API endpoint to the whole internet",
                "list only your own egress IP ranges",
            )
        elif net.prefixlen < api.max_public_prefix:
            yield violation(
                ("api_endpoint", "public_allowed_cidrs", index),
                "SEC-2",
                f"{cidr} is wider than /{api.max_public_prefix}, the widest range allowed",
                f"narrow it to /{api.max_public_prefix} or longer prefixes",
            )


@rule
def no_spot(env: Environment) -> Iterator[Finding]:
    for name in ("system", "workload"):
        if getattr(env.node_groups, name).capacity_type != "on-demand":
            yield violation(
                ("node_groups", name, "capacity_type"),
                "CHR-4",
                "spot/preemptible capacity is not allowed in production",
                "set capacity_type: on-demand",
            )


@rule
def three_zones(env: Environment) -> Iterator[Finding]:
    for cloud in configured_clouds(env):
        zones = env.cloud_zones(cloud)  # type: ignore[arg-type]
        first: dict[str, int] = {}
        for index, zone in enumerate(zones):
            if zone in first:
                yield violation(
                    ("clouds", cloud, "zones", index),
                    "NET-5",
                    f"zone {zone} is listed twice (also at position {first[zone] + 1})",
                    "list each zone once: three distinct zones of the region",
                )
            first.setdefault(zone, index)
        if len(first) < 3:
            yield violation(
                ("clouds", cloud, "zones"),
                "NET-5",
                f"{len(first)} distinct zone(s) given; production needs at least 3 (CHR-3)",
                "list three distinct availability zones of the region",
            )


@rule
def one_subnet_per_zone(env: Environment) -> Iterator[Finding]:
    net = env.network
    by_count: dict[int, list[str]] = {}
    for cloud in configured_clouds(env):
        by_count.setdefault(len(env.cloud_zones(cloud)), []).append(cloud)  # type: ignore[arg-type]
    for field, rule_id in (("public_subnets", "NET-2"), ("private_subnets", "NET-3")):
        given = len(getattr(net, field))
        for zones, clouds in by_count.items():
            if given != zones:
                yield violation(
                    ("network", field),
                    rule_id,
                    f"{given} {field.replace('_', ' ')} for {zones} zones ({', '.join(clouds)}); "
                    "production needs exactly one per zone",
                    f"list one {field[:-1].replace('_', ' ')} per zone, in the zones' order",
                )


@rule
def subnets_fit_vpc(env: Environment) -> Iterator[Finding]:
    net = env.network
    vpc = ipaddress.ip_network(net.vpc_cidr)
    named = [
        (("network", field, i), ipaddress.ip_network(c))
        for field in ("public_subnets", "private_subnets")
        for i, c in enumerate(getattr(net, field))
    ]
    if vpc.version != 4:
        yield violation(
            ("network", "vpc_cidr"),
            "NET-1",
            f"{vpc} is an IPv6 range; the VPC CIDR is IPv4",
            "use an IPv4 range such as 10.1.0.0/16",
        )
        return
    for loc, subnet in named:
        if subnet.version != vpc.version:
            yield violation(
                loc,
                "NET-6",
                f"{subnet} is IPv6 but the VPC CIDR {vpc} is IPv4",
                f"choose an IPv4 subnet inside {vpc}",
            )
        elif not subnet.subnet_of(vpc):
            yield violation(
                loc,
                "NET-6",
                f"{subnet} is outside the VPC CIDR {vpc}",
                f"choose a subnet inside {vpc}",
            )
    for (loc_a, a), (loc_b, b) in itertools.combinations(named, 2):
        if a.version == b.version and a.overlaps(b):
            yield violation(
                loc_b,
                "NET-6",
                f"{b} overlaps {a} (network.{loc_a[1]}[{loc_a[2]}])",
                "give every subnet its own address range",
            )


@rule
def nat_per_zone(env: Environment) -> Iterator[Finding]:
    if not env.network.nat_gateway_per_az:
        yield violation(
            ("network", "nat_gateway_per_az"),
            "NET-4",
            "production needs a NAT gateway in every zone so one zone's loss "
            "does not cut the others' egress (CHR-5)",
            "set network.nat_gateway_per_az: true",
        )


@rule
def node_group_sizes(env: Environment) -> Iterator[Finding]:
    system, workload = env.node_groups.system, env.node_groups.workload
    if system.min_size < 3:
        yield violation(
            ("node_groups", "system", "min_size"),
            "K8S-2",
            f"the system group minimum is {system.min_size}; production needs at least 3",
            "set node_groups.system.min_size: 3 or more",
        )
    if workload.min_size < 3:
        yield violation(
            ("node_groups", "workload", "min_size"),
            "K8S-3",
            f"the workload group minimum is {workload.min_size}; production needs at least 3",
            "set node_groups.workload.min_size: 3 or more",
        )
    for name, group in (("system", system), ("workload", workload)):
        if group.max_size < group.min_size:
            yield violation(
                ("node_groups", name, "max_size"),
                "K8S-3" if name == "workload" else "K8S-2",
                f"max_size {group.max_size} is below min_size {group.min_size}",
                "set max_size to at least min_size",
            )


@rule
def conservative_scale_down(env: Environment) -> Iterator[Finding]:
    """CHR-6: the floor the policy gate holds every configuration to (kubeprod.thresholds)."""
    auto = env.autoscaler
    for field in ("scale_down_delay_after_add", "scale_down_unneeded_time"):
        value = getattr(auto, field)
        if duration_minutes(value) < SCALE_DOWN_MIN_MINUTES:
            yield violation(
                ("autoscaler", field),
                "CHR-6",
                f"{value} scales down faster than production allows "
                f"(at least {SCALE_DOWN_MIN_MINUTES}m)",
                f"set autoscaler.{field}: 20m or more",
            )
    if auto.scale_down_utilization_threshold > SCALE_DOWN_MAX_THRESHOLD:
        yield violation(
            ("autoscaler", "scale_down_utilization_threshold"),
            "CHR-6",
            f"{auto.scale_down_utilization_threshold} removes busy nodes; production allows at "
            f"most {SCALE_DOWN_MAX_THRESHOLD}",
            f"set autoscaler.scale_down_utilization_threshold: {SCALE_DOWN_MAX_THRESHOLD} or less",
        )


@rule
def encryption_on(env: Environment) -> Iterator[Finding]:
    if not env.encryption.secrets:
        yield violation(
            ("encryption", "secrets"),
            "SEC-8",
            "Kubernetes secrets must be envelope-encrypted with a KMS / Key Vault key",
            "set encryption.secrets: true",
        )
    if not env.encryption.volumes:
        yield violation(
            ("encryption", "volumes"),
            "SEC-3",
            "node volumes must be encrypted at rest with a customer-managed key",
            "set encryption.volumes: true",
        )
    if not env.encryption.key_rotation:
        yield violation(
            ("encryption", "key_rotation"),
            "SEC-8",
            "customer-managed keys must rotate",
            "set encryption.key_rotation: true",
        )


@rule
def logging_on(env: Environment) -> Iterator[Finding]:
    types = set(env.logging.control_plane)
    if "audit" not in types:
        yield violation(
            ("logging", "control_plane"),
            "SEC-7",
            "audit logging cannot be turned off in production",
            "add 'audit' to logging.control_plane",
        )
    missing = sorted(set(EKS_LOG_TYPES) - {"audit"} - types)
    if missing:
        yield violation(
            ("logging", "control_plane"),
            "K8S-7",
            f"enhanced logging needs every control-plane log type; missing {', '.join(missing)}",
            f"add {', '.join(missing)} to logging.control_plane",
        )


@rule
def kubernetes_n_minus_one(env: Environment) -> Iterator[Finding]:
    version = env.kubernetes.version
    unsupported = [c for c in configured_clouds(env) if version not in versions.STANDARD_SUPPORT[c]]
    if unsupported:
        lists = {", ".join(versions.STANDARD_SUPPORT[c]) for c in unsupported}
        tables = (
            lists.pop()
            if len(lists) == 1
            else "; ".join(f"{c}: {', '.join(versions.STANDARD_SUPPORT[c])}" for c in unsupported)
        )
        yield violation(
            ("kubernetes", "version"),
            "K8S-1",
            f"{version} is not in standard support on {', '.join(unsupported)} "
            f"({tables}, as of {versions.AS_OF})",
            f'use the N-1 version "{versions.n_minus_one()}"',
        )
    if version == versions.newest_common():
        yield violation(
            ("kubernetes", "version"),
            "K8S-1",
            f"{version} is the newest version (N); production runs the stable N-1",
            f'use "{versions.n_minus_one()}"',
        )
    if env.kubernetes.support_type != "STANDARD":
        yield violation(
            ("kubernetes", "support_type"),
            "K8S-1",
            "production stays on versions in standard support",
            "set kubernetes.support_type: STANDARD",
        )


@rule
def backups_on(env: Environment) -> Iterator[Finding]:
    if not env.backup.enabled:
        yield violation(
            ("backup", "enabled"),
            "DR-1",
            "production needs automated backups of cluster state",
            "set backup.enabled: true",
        )


# Per cloud: the access field that names its cluster admins, and what the render grants them.
ADMIN_FIELDS: dict[str, tuple[str, str, str]] = {
    "aws": (
        "cluster_admin_arns",
        "an EKS access entry with AmazonEKSClusterAdminPolicy",
        'an IAM role ARN, like "arn:aws:iam::<account>:role/platform-admins"',
    ),
    "azure": (
        "azure_admin_group_object_ids",
        "the AKS Azure RBAC Cluster Admin role",
        "an Entra ID group object ID (az ad group show --group NAME --query id)",
    ),
    "gcp": (
        "gcp_admin_members",
        "GKE cluster admin through IAM",
        'an IAM member, like "group:platform-admins@your-domain"',
    ),
}


@rule
def cluster_admin_per_cloud(env: Environment) -> Iterator[Finding]:
    """ACCESS-1: every configured cloud names at least one cluster admin.

    EKS with authentication mode API and no creator admin, AKS with local accounts off and
    Azure RBAC on, and GKE with RBAC all admit nobody unless the module grants someone
    (cloud-review.md, AWS item 6: terraform-aws-eks examples set
    `enable_cluster_creator_admin_permissions`; AVM `examples/waf-aligned/main.tf` assigns
    RBAC Cluster Admin to the deployer). kubeprod grants the principals named here instead
    of whoever happened to run terraform.
    """
    for cloud in configured_clouds(env):
        field, grant, example = ADMIN_FIELDS[cloud]
        if not getattr(env.access, field):
            yield violation(
                ("access", field),
                "ACCESS-1",
                f"{cloud} is configured but access.{field} is empty, so nobody could "
                f"administer the cluster ({grant} is granted only to the principals listed)",
                f"list at least one principal in access.{field}: {example}",
            )


@rule
def pod_addresses_fit(env: Environment) -> Iterator[Finding]:
    """NET-6 on AWS: the VPC CNI gives each pod a VPC address."""
    if env.clouds.aws is None:
        return
    net = env.network
    zones = len(env.clouds.aws.zones)
    if zones == 0 or len(net.private_subnets) != zones:
        return  # reported by one_subnet_per_zone
    groups = {"system": env.node_groups.system, "workload": env.node_groups.workload}
    mode = net.pod_ip_mode
    if mode == "secondary-cidr":
        if net.pod_cidr is None:
            yield violation(
                ("network", "pod_cidr"),
                "NET-6",
                "pod_ip_mode secondary-cidr needs a pod_cidr",
                "set network.pod_cidr, e.g. 100.64.0.0/16",
            )
            return
        pod_net = ipaddress.ip_network(net.pod_cidr)
        if pod_net.version != 4:
            yield violation(
                ("network", "pod_cidr"),
                "NET-6",
                f"pod_cidr {pod_net} is IPv6; the VPC CNI secondary CIDR is IPv4",
                "use an IPv4 range such as 100.64.0.0/16",
            )
            return
        for other, label in ((net.vpc_cidr, "the VPC CIDR"), (net.service_cidr, "service_cidr")):
            other_net = ipaddress.ip_network(other)
            if other_net.version == 4 and pod_net.overlaps(other_net):
                yield violation(
                    ("network", "pod_cidr"),
                    "NET-6",
                    f"pod_cidr {pod_net} overlaps {label} {other_net}",
                    "use a separate range such as 100.64.0.0/16",
                )
                return
        subnets = capacity.split_pod_cidr(net.pod_cidr, zones)
        field: Loc = ("network", "pod_cidr")
    else:
        subnets = list(net.private_subnets)
        field = ("network", "private_subnets")
    need = _zone_need(groups, zones, mode)
    if need is None:
        yield violation(
            ("node_groups",),
            "NET-6",
            "the pod address need of an instance type is unknown to kubeprod",
            "set max_pods_per_node on the node group, or choose a type listed in "
            "kubeprod.spec.capacity.ENI_LIMITS",
        )
        return
    needed, detail = need
    for index, subnet in enumerate(subnets):
        usable = capacity.usable_addresses(subnet)
        if needed <= usable:
            continue
        yield violation(
            (*field, index) if field[1] == "private_subnets" else field,
            "NET-6",
            f"{subnet} holds {usable} usable addresses, but one zone's nodes at full size "
            f"need {detail} = {needed} with pod_ip_mode {mode}: short by {needed - usable}",
            _capacity_fix(groups, zones, mode, usable),
        )
        if field[1] == "pod_cidr":
            return  # the parts of one pod_cidr are equal: one report is enough


def _zone_need(groups: dict[str, NodeGroup], zones: int, mode: str) -> tuple[int, str] | None:
    """Addresses one zone needs with every group at max size, and the sum that shows it."""
    total, parts = 0, []
    for name, group in groups.items():
        per_node = _per_node(group.instance_types.aws, group.max_pods_per_node, mode)
        if per_node is None:
            return None
        nodes = capacity.nodes_per_zone(group.max_size, zones)
        total += nodes * per_node
        parts.append(f"{nodes} {name} x {per_node}")
    return total, " + ".join(parts)


def _capacity_fix(groups: dict[str, NodeGroup], zones: int, mode: str, usable: int) -> str:
    """Say which pod_ip_mode would fit, not just that this one does not."""
    secondary = "set network.pod_ip_mode: secondary-cidr with network.pod_cidr (e.g. 100.64.0.0/16)"
    if mode == "vpc-cni":
        need = _zone_need(groups, zones, "prefix-delegation")
        if need is not None and need[0] <= usable:
            return (
                f"set network.pod_ip_mode: prefix-delegation (needs {need[0]}, fits), "
                f"or {secondary}"
            )
        return f"{secondary}, or use larger private subnets"
    if mode == "prefix-delegation":
        return f"{secondary}, or use larger private subnets"
    return "use a larger network.pod_cidr, or lower max_size / max_pods_per_node"


def _per_node(instance_type: str, max_pods: int | None, mode: str) -> int | None:
    if mode == "prefix-delegation":
        return capacity.prefix_ips_per_node(max_pods)
    if max_pods is not None:
        return max_pods + 1
    return capacity.vpc_cni_ips_per_node(instance_type)


@rule
def gke_channel_offers_version(env: Environment) -> Iterator[Finding]:
    """K8S-1 on GCP: `min_master_version` must be a version the release channel offers.

    GKE release channels docs: a cluster enrolled in a channel runs the versions that
    channel makes available (`get-server-config` channels[].validVersions); the minors per
    channel, dated, are `versions.GKE_CHANNEL_MINORS`.
    """
    if env.clouds.gcp is None:
        return
    channel, version = env.kubernetes.release_channel, env.kubernetes.version
    if not versions.gke_channel_offers(channel, version):
        offered = ", ".join(versions.GKE_CHANNEL_MINORS.get(channel, ()))
        yield violation(
            ("kubernetes", "version"),
            "K8S-1",
            f"GKE's {channel} channel does not offer {version} (it offers {offered}, "
            f"as of {versions.AS_OF}), so the cluster could not be created at that version",
            f"use a version the {channel} channel offers, or another kubernetes.release_channel",
        )


@rule
def gke_image_allowlist_is_narrow(env: Environment) -> Iterator[Finding]:
    """SEC-6 on GCP: every Binary Authorization allow-list pattern names its registry host;
    a pattern starting with a wildcard admits images from anywhere."""
    if env.clouds.gcp is None:
        return
    for index, pattern in enumerate(env.clouds.gcp.image_allowlist):
        host = pattern.split("/", 1)[0]
        if not host or "*" in host or "://" in pattern or pattern != pattern.strip():
            yield violation(
                ("clouds", "gcp", "image_allowlist", index),
                "SEC-6",
                f"'{pattern}' does not name a registry host, so it could admit any image",
                'write the registry and path, like "quay.io/jetstack/**"',
            )


@rule
def aks_addresses_fit(env: Environment) -> Iterator[Finding]:
    """NET-6 on AKS: node subnets, the CNI Overlay pod range and the service range fit."""
    for loc, message, fix in azure_sizing.address_problems(env):
        yield violation(loc, "NET-6", message, fix)


@rule
def gke_addresses_fit(env: Environment) -> Iterator[Finding]:
    """NET-6 on GCP: secondary ranges and the node subnet hold the pools at max + surge."""
    if env.clouds.gcp is None:
        return
    gcp, net = env.clouds.gcp, env.network
    zones = len(gcp.zones)
    if zones == 0 or not net.private_subnets or not net.public_subnets:
        return  # reported by three_zones / one_subnet_per_zone
    if net.pod_cidr is None:
        yield violation(
            ("network", "pod_cidr"),
            "NET-6",
            "GKE gives pods a secondary range of the node subnet and none is set",
            "set network.pod_cidr, e.g. 100.64.0.0/16",
        )
        return
    ranges = [
        (("network", "pod_cidr"), "pods range", net.pod_cidr),
        (("network", "service_cidr"), "services range", net.service_cidr),
        (
            ("clouds", "gcp", "master_ipv4_cidr_block"),
            "control-plane range",
            gcp.master_ipv4_cidr_block,
        ),
        (("network", "private_subnets", 0), "node subnet", net.private_subnets[0]),
        (("network", "public_subnets", 0), "proxy-only subnet", net.public_subnets[0]),
    ]
    overlapping = False
    for (loc_a, name_a, a), (_loc_b, name_b, b) in itertools.combinations(ranges, 2):
        if ipaddress.ip_network(a).overlaps(ipaddress.ip_network(b)):
            overlapping = True
            yield violation(
                loc_a,
                "NET-6",
                f"the GKE {name_a} {a} overlaps the {name_b} {b}",
                f"give the {name_a} an address range of its own",
            )
    if overlapping:
        return
    pods_have = ipaddress.ip_network(net.pod_cidr).num_addresses
    pods_need = gcp_sizing.pod_addresses_needed(env, zones)
    if pods_need > pods_have:
        peak = gcp_sizing.node_addresses_needed(env, zones)
        yield violation(
            ("network", "pod_cidr"),
            "NET-6",
            f"{net.pod_cidr} holds {pods_have} pod addresses, but {peak} nodes at peak "
            f"(node groups at max_size plus one upgrade-surge node per zone and pool) need "
            f"{pods_need}: GKE reserves twice max_pods_per_node, rounded up to a power of "
            f"two, per node; short by {pods_need - pods_have}",
            "use a larger network.pod_cidr (a /16 holds 256 nodes at 110 pods), "
            "or lower max_pods_per_node or max_size",
        )
    nodes_have = gcp_sizing.usable_addresses(net.private_subnets[0])
    nodes_need = gcp_sizing.node_addresses_needed(env, zones)
    if nodes_need > nodes_have:
        yield violation(
            ("network", "private_subnets", 0),
            "NET-6",
            f"the GKE node subnet {net.private_subnets[0]} holds {nodes_have} nodes, but "
            f"{nodes_need} nodes at peak (max_size plus upgrade surge) need an address each",
            "use a larger first private subnet, or lower node_groups max_size",
        )


@rule
def cluster_namespaces(env: Environment) -> Iterator[Finding]:
    """SEC-5 / SEC-6: workload namespaces are not system ones; allows name known namespaces;
    system namespaces whose add-ons need privileged stay privileged."""
    cluster = env.cluster
    names = [ns.name for ns in cluster.namespaces]
    if not names:
        yield violation(
            ("cluster", "namespaces"),
            "SEC-5",
            "no workload namespace: the default-deny and restricted baseline needs one",
            "list at least one namespace, e.g. - name: apps",
        )
    for i, ns in enumerate(cluster.namespaces):
        if is_system(ns.name):
            yield violation(
                ("cluster", "namespaces", i, "name"),
                "SEC-6",
                f"'{ns.name}' is a system namespace; workload namespaces are restricted and "
                "default-deny, which its add-ons cannot run under",
                "name your workload namespace after the workload (e.g. payments)",
            )
        if names.count(ns.name) > 1 and names.index(ns.name) != i:
            yield violation(
                ("cluster", "namespaces", i, "name"),
                "SEC-5",
                f"namespace '{ns.name}' is listed twice",
                "list each namespace once and merge its allows",
            )
    clouds = configured_clouds(env)
    privileged: dict[str, str] = {}
    for cloud in clouds:
        privileged.update(needs_privileged(cloud))
    known = set(names) | set(cluster.system_namespaces) | set(privileged) | ALWAYS_PRIVILEGED
    for i, ns in enumerate(cluster.namespaces):
        for j, allow in enumerate(ns.allows):
            if allow.from_namespace not in known:
                yield violation(
                    ("cluster", "namespaces", i, "allows", j, "from_namespace"),
                    "SEC-5",
                    f"namespace '{allow.from_namespace}' is not declared: an allow from it "
                    "would never match (or would match a namespace nobody reviewed)",
                    f"use one of {', '.join(sorted(known))}, or declare it under "
                    "cluster.namespaces or cluster.system_namespaces",
                )
    for name, level in cluster.system_namespaces.items():
        if name in privileged and level != "privileged":
            yield violation(
                ("cluster", "system_namespaces", name),
                "SEC-6",
                f"system namespace {name} cannot be '{level}': {privileged[name]}",
                f"set {name}: privileged (kubeprod audits and warns it at restricted)",
            )
        if name in names:
            yield violation(
                ("cluster", "system_namespaces", name),
                "SEC-6",
                f"'{name}' is both a workload and a system namespace",
                "keep it in one of cluster.namespaces or cluster.system_namespaces",
            )


MAX_WINDOW_HOURS = 24
MAX_WINDOWS_PER_WEEK = 7
MAX_OPEN_HOURS_PER_WEEK = 72


@rule
def bounded_windows(env: Environment) -> Iterator[Finding]:
    """CHG-3: a maintenance window is a bounded time, never "always open"."""
    windows = env.maintenance.windows
    for index, window in enumerate(windows):
        if duration_minutes(window.duration) > MAX_WINDOW_HOURS * 60:
            yield violation(
                ("maintenance", "windows", index, "duration"),
                "CHG-3",
                f"a {window.duration} window is longer than {MAX_WINDOW_HOURS}h: changes would "
                "never wait for a window",
                f"make it at most {MAX_WINDOW_HOURS}h (use --emergency for the exceptional change)",
            )
    count = sum(len(set(w.days)) for w in windows)
    if count > MAX_WINDOWS_PER_WEEK:
        yield violation(
            ("maintenance", "windows"),
            "CHG-3",
            f"{count} windows a week; the production profile allows {MAX_WINDOWS_PER_WEEK}",
            "merge windows or list fewer days",
        )
    hours = sum(len(set(w.days)) * duration_minutes(w.duration) for w in windows) / 60
    if hours > MAX_OPEN_HOURS_PER_WEEK:
        yield violation(
            ("maintenance", "windows"),
            "CHG-3",
            f"the windows are open {hours:g}h a week; at most {MAX_OPEN_HOURS_PER_WEEK}h leaves "
            "most of the week closed to changes",
            "shorten the windows or list fewer days",
        )


@rule
def zones_in_region(env: Environment) -> Iterator[Finding]:
    """NET-5: every zone named is in the cloud's region (eu-west-1a in eu-west-1)."""
    for cloud in ("aws", "gcp"):
        section = getattr(env.clouds, cloud)
        if section is None:
            continue
        for index, zone in enumerate(section.zones):
            if not (zone.startswith(section.region) and len(zone) > len(section.region)):
                example = f"{section.region}a" if cloud == "aws" else f"{section.region}-b"
                yield violation(
                    ("clouds", cloud, "zones", index),
                    "NET-5",
                    f"zone {zone} is not in region {section.region}",
                    f"name zones of {section.region}, like {example}, or change the region",
                )


@rule
def service_cidr_outside_vpc(env: Environment) -> Iterator[Finding]:
    """NET-6: Kubernetes service addresses must not fall inside the VPC (the pod range
    is checked with the pod addressing rules)."""
    service = ipaddress.ip_network(env.network.service_cidr)
    vpc = ipaddress.ip_network(env.network.vpc_cidr)
    if service.overlaps(vpc):
        yield violation(
            ("network", "service_cidr"),
            "NET-6",
            f"service_cidr {service} overlaps network.vpc_cidr {vpc}: service addresses "
            "would shadow node and load-balancer addresses",
            "pick a range outside the VPC, like 172.20.0.0/16",
        )


@rule
def gitops_option(env: Environment) -> Iterator[Finding]:
    """The GitOps hookup names its repository and a cloud that renders it."""
    gitops = env.cluster.gitops
    if gitops.mode == "none":
        return
    if not gitops.repository:
        yield violation(
            ("cluster", "gitops", "repository"),
            "SEC-5",
            f"gitops mode {gitops.mode} needs the Git repository holding the render",
            "set cluster.gitops.repository (e.g. https://github.com/acme/infra.git)",
        )
    needs = {"flux": ("aws", "azure"), "argocd": ("aws",), "config-sync": ("gcp",)}[gitops.mode]
    if not set(needs) & set(configured_clouds(env)):
        yield violation(
            ("cluster", "gitops", "mode"),
            "SEC-5",
            f"gitops mode {gitops.mode} is rendered for {' and '.join(needs)} only, which "
            "this spec lacks",
            "use mode none and `kubeprod cluster plan/apply`, or add the cloud",
        )
    azure = env.clouds.azure
    if gitops.mode == "flux" and azure is not None and not azure.subscription_id:
        yield violation(
            ("clouds", "azure"),
            "SEC-3",
            "Flux on AKS applies the manifests as they are in Git, and the encrypted "
            "StorageClass names the disk encryption set by its ID, which holds the subscription",
            "set clouds.azure.subscription_id",
        )


# The disaster-recovery rules live in their own module and register on import.
from kubeprod.spec import profile_dr  # noqa: E402,F401
