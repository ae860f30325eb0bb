"""NET-1..6: the brief's networking values."""

from __future__ import annotations

import ipaddress
from typing import Any, ClassVar

from kubeprod.policy.plan_model import UNKNOWN, Resource, from_data_source
from kubeprod.policy.rules import aks
from kubeprod.policy.rules.base import Ctx, Rule, blocks, cidrs, rule, show
from kubeprod.policy.rules.capacity_check import aws_capacity, azure_capacity, gcp_capacity
from kubeprod.policy.rules.lookup import aws_private_subnets, aws_public_subnets, azure_pools


def _private(value: Any) -> bool:
    nets = cidrs(value if isinstance(value, list) else [value])
    return bool(nets) and all(n.is_private for n in nets)


@rule
class VpcCidr(Rule):
    id = "NET-1"
    title = "The network uses private address space"
    brief = "VPC CIDR: 10.1.0.0/16"
    severity = "medium"
    judged: ClassVar[dict[str, str]] = {
        "aws": "aws_vpc cidr_block is private (RFC 1918)",
        "azure": "azurerm_virtual_network address_space is private (RFC 1918)",
        "gcp": "google_compute_subnetwork ip_cidr_range is private (a GCP VPC has no CIDR)",
    }

    def _judge(self, ctx: Ctx, resources: list[Resource], attr: str, what: str) -> None:
        if ctx.need(resources, what):
            for r in resources:
                ctx.check(r, attr, _private, "a private range such as 10.1.0.0/16")

    def aws(self, ctx: Ctx) -> None:
        self._judge(ctx, ctx.model.of("aws_vpc"), "cidr_block", "aws_vpc")

    def azure(self, ctx: Ctx) -> None:
        self._judge(
            ctx, ctx.model.of("azurerm_virtual_network"), "address_space", "azurerm_virtual_network"
        )

    def gcp(self, ctx: Ctx) -> None:
        self._judge(
            ctx,
            ctx.model.of("google_compute_subnetwork"),
            "ip_cidr_range",
            "google_compute_subnetwork",
        )


def _zones_of(resources: list[Resource]) -> set[Any]:
    return {r.get("availability_zone") for r in resources}


def _spread(ctx: Ctx, resources: list[Resource], what: str, fix: str) -> None:
    if not resources:
        ctx.fail(None, f"no {what}", what, fix)
        return
    zones = _zones_of(resources)
    if UNKNOWN in zones:
        ctx.unknown(resources[0], "availability_zone known only after apply", "availability_zone")
    elif len(zones) >= ctx.opt.min_zones:
        for r in resources:
            ctx.ok(r, f"{what} in zones {sorted(zones)}", "availability_zone")
    else:
        ctx.fail(
            resources[-1],
            f"{what} cover {len(zones)} zone(s): {sorted(map(str, zones))}",
            "availability_zone",
            f"one per zone, {ctx.opt.min_zones} zones ({fix})",
        )


@rule
class PublicSubnets(Rule):
    id = "NET-2"
    title = "Public subnets, one per zone, for NAT and public load balancers"
    brief = "Public Subnets: 10.1.1.0/24, 10.1.2.0/24, 10.1.3.0/24"
    severity = "medium"
    judged: ClassVar[dict[str, str]] = {
        "aws": "aws_subnet tagged kubernetes.io/role/elb cover >= 3 zones",
        "azure": "NAT egress uses zonal Standard azurerm_public_ip (Azure needs public IPs, "
        "not public subnets): sku Standard, zones set; node subnet NSGs admit Internet "
        "80/443 for public LoadBalancer Services (ingress)",
        "gcp": "the load-balancer proxy-only subnet (purpose REGIONAL_MANAGED_PROXY) is ACTIVE; "
        "GCP NAT needs no public subnet",
    }

    def aws(self, ctx: Ctx) -> None:
        _spread(
            ctx, aws_public_subnets(ctx.model), "public subnets", "tag kubernetes.io/role/elb = 1"
        )

    def azure(self, ctx: Ctx) -> None:
        ips = ctx.model.of("azurerm_public_ip")
        if not ctx.need(ips, "azurerm_public_ip"):
            return
        for ip in ips:
            ctx.check(ip, "sku", lambda v: v == "Standard", '"Standard"')
            ctx.check(
                ip, "zones", lambda v: isinstance(v, list) and len(v) >= 1, "the NAT gateway's zone"
            )
        aks.ingress_nsg(ctx)

    def gcp(self, ctx: Ctx) -> None:
        proxies = [
            s
            for s in ctx.model.of("google_compute_subnetwork")
            if s.get("purpose") in ("REGIONAL_MANAGED_PROXY", "INTERNAL_HTTPS_LOAD_BALANCER")
        ]
        if not proxies:
            ctx.not_judged("no proxy-only subnet: GCP needs no public subnets for NAT")
            return
        for p in proxies:
            ctx.check(p, "role", lambda v: v == "ACTIVE", '"ACTIVE"')


@rule
class PrivateSubnets(Rule):
    id = "NET-3"
    title = "Nodes live in private subnets"
    brief = "Private Subnets: 10.1.10.0/24, 10.1.11.0/24, 10.1.12.0/24"
    severity = "high"
    judged: ClassVar[dict[str, str]] = {
        "aws": "aws_subnet tagged kubernetes.io/role/internal-elb cover >= 3 zones and do not "
        "map public IPs on launch",
        "azure": "node subnets have default_outbound_access_enabled = false and every pool "
        "sets vnet_subnet_id",
        "gcp": "the node subnetwork has private_ip_google_access and secondary ranges for "
        "pods and services",
    }

    def aws(self, ctx: Ctx) -> None:
        private = aws_private_subnets(ctx.model)
        _spread(ctx, private, "private subnets", "tag kubernetes.io/role/internal-elb = 1")
        for s in private:
            ctx.check(
                s, "map_public_ip_on_launch", lambda v: v is not True, "false", missing_ok=True
            )

    def azure(self, ctx: Ctx) -> None:
        for s in ctx.model.of("azurerm_subnet"):
            ctx.check(s, "default_outbound_access_enabled", lambda v: v is False, "false")
        for res, pool, _, prefix in azure_pools(ctx.model):
            value = pool.get("vnet_subnet_id")
            if value is None:
                ctx.fail(
                    res,
                    "vnet_subnet_id is unset",
                    f"{prefix}vnet_subnet_id",
                    "the zone's node subnet",
                )
            else:
                ctx.ok(res, "pool in its node subnet", f"{prefix}vnet_subnet_id")

    def gcp(self, ctx: Ctx) -> None:
        nodes = [
            s
            for s in ctx.model.of("google_compute_subnetwork")
            if s.get("purpose") in (None, "PRIVATE")
        ]
        if not ctx.need(nodes, "google_compute_subnetwork"):
            return
        for s in nodes:
            ctx.check(s, "private_ip_google_access", lambda v: v is True, "true")
            ranges = s.get("secondary_ip_range")
            if ranges is UNKNOWN:
                ctx.unknown(s, "secondary ranges known after apply", "secondary_ip_range")
            elif len(blocks(ranges)) >= 2:
                ctx.ok(s, "pods and services in secondary ranges", "secondary_ip_range")
            else:
                ctx.fail(
                    s,
                    "no secondary ranges for pods and services",
                    "secondary_ip_range",
                    "pods and services ranges",
                )


@rule
class NatRouting(Rule):
    id = "NET-4"
    title = "Every private zone egresses through a NAT"
    brief = "NAT Gateway per AZ: true"
    severity = "high"
    judged: ClassVar[dict[str, str]] = {
        "aws": "a 0.0.0.0/0 aws_route (or inline route) to a NAT gateway in >= 3 route tables",
        "azure": "azurerm_subnet_nat_gateway_association for >= 3 node subnets",
        "gcp": "google_compute_router_nat translates the node subnetwork (all subnetworks, or "
        "LIST_OF_SUBNETWORKS naming it)",
    }

    def aws(self, ctx: Ctx) -> None:
        routes: list[Resource] = []
        for r in ctx.model.of("aws_route"):
            if (
                r.get("destination_cidr_block") == "0.0.0.0/0"
                and r.get("nat_gateway_id") is not None
            ):
                routes.append(r)
        for t in ctx.model.of("aws_route_table"):
            if any(b.get("nat_gateway_id") for b in blocks(t.get("route"))):
                routes.append(t)
        targets = [r.get("nat_gateway_id") for r in routes if r.type == "aws_route"]
        targets += [
            b.get("nat_gateway_id")
            for t in routes
            if t.type == "aws_route_table"
            for b in blocks(t.get("route"))
            if b.get("nat_gateway_id")
        ]
        distinct = {t for t in targets if isinstance(t, str)}
        if len(routes) >= ctx.opt.min_zones and UNKNOWN in targets:
            ctx.unknown(routes[0], "the NAT gateways routed to are known only after apply")
        elif len(routes) >= ctx.opt.min_zones and len(distinct) < ctx.opt.min_zones:
            ctx.fail(
                routes[0],
                f"{len(routes)} route tables send 0.0.0.0/0 to only {len(distinct)} NAT "
                "gateway(s): a zone's outage cuts the others' egress",
                "nat_gateway_id",
                "each zone's route table to that zone's NAT gateway",
            )
        elif len(routes) >= ctx.opt.min_zones:
            for r in routes:
                ctx.ok(r, "default route to a NAT gateway", "nat_gateway_id")
        else:
            ctx.fail(
                routes[0] if routes else None,
                f"{len(routes)} private route table(s) route 0.0.0.0/0 to a NAT gateway",
                "nat_gateway_id",
                "a private route table per zone with 0.0.0.0/0 -> that zone's NAT gateway",
            )

    def azure(self, ctx: Ctx) -> None:
        assoc = ctx.model.of("azurerm_subnet_nat_gateway_association")
        if len(assoc) >= ctx.opt.min_zones:
            for a in assoc:
                ctx.ok(a, "node subnet egresses through its zone's NAT gateway")
        else:
            ctx.fail(
                assoc[0] if assoc else None,
                f"{len(assoc)} node subnet(s) associated with a NAT gateway",
                "azurerm_subnet_nat_gateway_association",
                "associate every zone's node subnet with that zone's NAT gateway",
            )

    def gcp(self, ctx: Ctx) -> None:
        nats = ctx.model.of("google_compute_router_nat")
        if not ctx.need(nats, "google_compute_router_nat"):
            return
        for n in nats:
            mode = n.get("source_subnetwork_ip_ranges_to_nat")
            if mode is UNKNOWN:
                ctx.unknown(n, "known only after apply", "source_subnetwork_ip_ranges_to_nat")
            elif mode in ("ALL_SUBNETWORKS_ALL_IP_RANGES", "ALL_SUBNETWORKS_ALL_PRIMARY_IP_RANGES"):
                ctx.ok(n, f"translates {mode}", "source_subnetwork_ip_ranges_to_nat")
            elif blocks(n.get("subnetwork")):
                ctx.ok(n, "translates the listed node subnetwork", "subnetwork")
            else:
                ctx.fail(
                    n,
                    "translates no subnetwork",
                    "subnetwork",
                    "a subnetwork block for the node subnetwork",
                )


@rule
class ThreeZones(Rule):
    id = "NET-5"
    title = "Three availability zones, named explicitly"
    brief = "Multi-AZ: 3 availability zones"
    severity = "high"
    judged: ClassVar[dict[str, str]] = {
        "aws": "aws_subnet availability_zone values: >= 3 distinct, literal (not picked by "
        "list order from a data source)",
        "azure": "every zonal resource (pools, NAT gateways, public IPs) names its zones; "
        ">= 3 distinct",
        "gcp": "google_container_cluster node_locations: >= 3 distinct zones",
    }

    def aws(self, ctx: Ctx) -> None:
        subnets = ctx.model.of("aws_subnet")
        positional = False
        for s in subnets:
            for attr in ("availability_zone", "availability_zone_id"):
                source = s.origins.get(attr) or s.get(attr)
                if from_data_source(source):
                    positional = True
                    ctx.fail(
                        s,
                        f"{attr} is taken by list position from {source} (the list, and what "
                        "each position means, changes with the account and region)",
                        attr,
                        'name the zone ("eu-west-1a") in the configuration',
                    )
        if not positional:
            _spread(ctx, subnets, "subnets", "availability_zone")

    def azure(self, ctx: Ctx) -> None:
        zones: set[Any] = set()
        for res, pool, _, prefix in azure_pools(ctx.model):
            z = pool.get("zones")
            if not z:
                ctx.fail(res, "zones unset: not pinned to a zone", f"{prefix}zones", "its zone")
            elif isinstance(z, list):
                zones.update(z)
        for res in ctx.model.of("azurerm_nat_gateway", "azurerm_public_ip"):
            z = res.get("zones")
            if not z:
                ctx.fail(res, "zones unset: not pinned to a zone", "zones", "its zone")
            elif isinstance(z, list):
                zones.update(z)
        zones.discard(UNKNOWN)
        if len(zones) >= ctx.opt.min_zones:
            ctx.ok(None, f"zones {sorted(zones)} in use", "zones")
        else:
            ctx.fail(None, f"only zones {sorted(zones)}", "zones", f"{ctx.opt.min_zones} zones")

    def gcp(self, ctx: Ctx) -> None:
        clusters = ctx.model.of("google_container_cluster")
        if ctx.need(clusters, "google_container_cluster"):
            for c in clusters:
                ctx.check(
                    c,
                    "node_locations",
                    lambda v: isinstance(v, list) and len(set(v)) >= ctx.opt.min_zones,
                    f"{ctx.opt.min_zones} zones of the region",
                )


def _overlaps(ctx: Ctx, named: list[tuple[Resource, str, Any]]) -> None:
    nets = []
    for res, attr, value in named:
        for n in cidrs(value if isinstance(value, list) else [value]):
            nets.append((res, attr, n))
    for i, (r1, a1, n1) in enumerate(nets):
        for r2, a2, n2 in nets[i + 1 :]:
            if n1.overlaps(n2) and not (r1 is r2 and a1 == a2):
                ctx.fail(
                    r2,
                    f"{a2} {n2} overlaps {r1.address} {a1} {n1}",
                    a2,
                    "a range that overlaps nothing else",
                )


def _inside(ctx: Ctx, res: Resource, attr: str, value: Any, parents: list[Any]) -> None:
    for n in cidrs(value if isinstance(value, list) else [value]):
        if not any(n.version == p.version and n.subnet_of(p) for p in parents):
            ctx.fail(
                res,
                f"{attr} {n} is outside the network {[str(p) for p in parents]}",
                attr,
                "a range inside the VPC",
            )
            return
    ctx.ok(res, f"{attr} {show(value)} fits", attr)


@rule
class AddressesFit(Rule):
    id = "NET-6"
    title = "The address plan fits: subnets inside the network, no overlaps"
    brief = "(implied) the addresses must fit"
    severity = "high"
    judged: ClassVar[dict[str, str]] = {
        "aws": "every literal aws_subnet cidr_block inside the VPC CIDR or an associated "
        "secondary CIDR; no two subnets overlap",
        "azure": "subnets inside the VNet; pod and service CIDRs outside it and apart",
        "gcp": "node, pod, service and control-plane ranges do not overlap",
    }

    def aws(self, ctx: Ctx) -> None:
        parents = cidrs(
            [
                v.get("cidr_block")
                for v in ctx.model.of("aws_vpc", "aws_vpc_ipv4_cidr_block_association")
            ]
        )
        subnets = [
            s for s in ctx.model.of("aws_subnet") if s.get("cidr_block") not in (None, UNKNOWN)
        ]
        if not parents or not subnets:
            ctx.not_judged("no literal VPC and subnet CIDRs to compare")
            return
        for s in subnets:
            _inside(ctx, s, "cidr_block", s.get("cidr_block"), parents)
        _overlaps(ctx, [(s, "cidr_block", s.get("cidr_block")) for s in subnets])
        aws_capacity(ctx)

    def azure(self, ctx: Ctx) -> None:
        vnets = ctx.model.of("azurerm_virtual_network")
        parents = cidrs(
            [c for v in vnets for c in (v.get("address_space") or []) if c is not UNKNOWN]
        )
        if not parents:
            ctx.not_judged("no literal VNet address space")
            return
        for s in ctx.model.of("azurerm_subnet"):
            prefixes = s.get("address_prefixes")
            if isinstance(prefixes, list) and prefixes and UNKNOWN not in prefixes:
                _inside(ctx, s, "address_prefixes", prefixes, parents)
        named: list[tuple[Resource, str, Any]] = [
            (vnets[0], "address_space", [str(p) for p in parents])
        ]
        for c in ctx.model.of("azurerm_kubernetes_cluster"):
            profile = (blocks(c.get("network_profile")) or [{}])[0]
            for key in ("pod_cidr", "service_cidr"):
                if isinstance(profile.get(key), str):
                    named.append((c, f"network_profile.0.{key}", profile[key]))
        _overlaps(ctx, named)
        azure_capacity(ctx)

    def gcp(self, ctx: Ctx) -> None:
        named: list[tuple[Resource, str, Any]] = []
        for s in ctx.model.of("google_compute_subnetwork"):
            if isinstance(s.get("ip_cidr_range"), str):
                named.append((s, "ip_cidr_range", s.get("ip_cidr_range")))
            for i, r in enumerate(blocks(s.get("secondary_ip_range"))):
                if isinstance(r.get("ip_cidr_range"), str):
                    named.append((s, f"secondary_ip_range.{i}.ip_cidr_range", r["ip_cidr_range"]))
        for c in ctx.model.of("google_container_cluster"):
            master = c.get("private_cluster_config.0.master_ipv4_cidr_block")
            if isinstance(master, str):
                named.append((c, "private_cluster_config.0.master_ipv4_cidr_block", master))
        if not named:
            ctx.not_judged("no literal ranges")
            return
        before = len(ctx.findings)
        _overlaps(ctx, named)
        if len(ctx.findings) == before:
            for res, attr, value in named:
                ctx.ok(res, f"{attr} {value} overlaps nothing", attr)
        gcp_capacity(ctx)


_ = ipaddress  # the cidr helpers live in base
