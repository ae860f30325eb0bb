"""AKS module: network.tf, the VNet, per-zone node subnets behind NSGs, the API Server VNet
Integration subnet, and one NAT gateway per zone (NET-1..NET-5, CHR-5)."""

from __future__ import annotations

from typing import Any

from kubeprod.clouds.azure_common import (
    API_SERVER_SUBNET_PREFIX,
    RG,
    TAGS,
    api_server_subnet,
    azure_of,
    common,
)
from kubeprod.hcl import Block, Comment
from kubeprod.hcl.shorthand import B, E, R, ref, template
from kubeprod.spec.model import Environment

# Ports of public LoadBalancer Services (the ingress controller) the node subnets admit.
INGRESS_PORTS = ("80", "443")
EACH_KEY = E("each.key")


def _inbound(
    name: str, priority: int, source: str | list[str], ports: list[str], **extra: Any
) -> Block:
    """One inbound NSG rule; `source` is a service tag or a list of CIDRs."""
    prefixes = (
        {"source_address_prefix": source}
        if isinstance(source, str)
        else {"source_address_prefixes": source}
    )
    return B(
        "security_rule",
        name=name,
        priority=priority,
        direction="Inbound",
        access=extra.pop("access", "Allow"),
        protocol=extra.pop("protocol", "Tcp"),
        source_port_range="*",
        **({"destination_port_range": ports[0]} if len(ports) == 1 else {}),
        **({"destination_port_ranges": ports} if len(ports) > 1 else {}),
        **prefixes,
        destination_address_prefix=extra.pop("destination", "*"),
    )


def _deny_internet() -> Block:
    return _inbound("deny-internet-inbound", 4000, "Internet", ["*"], access="Deny", protocol="*")


def _nsg_rules(env: Environment) -> tuple[list[Block], list[Block]]:
    """(node subnet rules, API server subnet rules), after api-server-vnet-integration.md.

    API server subnet: nodes -> 443 and 4443, Azure Load Balancer -> 9988 (the documented
    table), and the allow-listed operators -> 443, since the public endpoint's traffic
    arrives in the delegated subnet and the Internet deny would drop it. Node subnets:
    the Internet reaches public LoadBalancer Services (the ingress controller) on 80/443
    through the load balancer; nothing else from the Internet.
    """
    apiserver_cidr = api_server_subnet(env)
    node_cidrs = list(env.network.private_subnets[: len(azure_of(env).zones)])
    apiserver = [
        _inbound(
            "allow-authorized-api",
            100,
            list(env.api_endpoint.public_allowed_cidrs),
            ["443"],
            destination=apiserver_cidr,
        ),
        _inbound("allow-nodes-api", 110, node_cidrs, ["443", "4443"], destination=apiserver_cidr),
        _inbound(
            "allow-lb-probe-api", 120, "AzureLoadBalancer", ["9988"], destination=apiserver_cidr
        ),
        _deny_internet(),
    ]
    nodes = [
        _inbound("allow-internet-ingress", 200, "Internet", list(INGRESS_PORTS)),
        _deny_internet(),
    ]
    return nodes, apiserver


def network_tf(env: Environment) -> list[Block | Comment]:
    """network.tf: resource group and its lock, VNet, subnets, NSGs and zonal NAT egress."""
    node_rules, apiserver_rules = _nsg_rules(env)
    return [
        R(
            "azurerm_resource_group",
            "this",
            name=f"rg-{env.name}-aks",
            location=E("local.location"),
            tags=TAGS,
        ),
        Comment("CHR-1: nobody deletes the environment's resource group by accident."),
        R(
            "azurerm_management_lock",
            "resource_group",
            name="kubeprod-cannot-delete",
            scope=ref(RG, "id"),
            lock_level="CanNotDelete",
            notes="Production environment (kubeprod CHR-1): remove this lock on purpose only.",
        ),
        Comment("NET-1"),
        R(
            "azurerm_virtual_network",
            "this",
            name=f"vnet-{env.name}",
            **common(address_space=[env.network.vpc_cidr], tags=TAGS),
        ),
        Comment("NET-3: one node subnet per zone, from the private /24s."),
        R(
            "azurerm_subnet",
            "nodes",
            for_each=E("local.zones"),
            name=template("snet-nodes-", EACH_KEY),
            resource_group_name=ref(RG, "name"),
            virtual_network_name=E("azurerm_virtual_network.this.name"),
            address_prefixes=[E("each.value.node_subnet_cidr")],
            default_outbound_access_enabled=False,
        ),
        Comment(
            f"NET-2 / K8S-4: the API server's VNet Integration subnet is carved from the public\n"
            f"/24s: the first /{API_SERVER_SUBNET_PREFIX} of {env.network.public_subnets[0]}. "
            "The rest of the public /24s stay\n"
            "reserved for ingress. NAT egress needs public IPs, not public subnets, on Azure."
        ),
        R(
            "azurerm_subnet",
            "apiserver",
            name="snet-apiserver",
            resource_group_name=ref(RG, "name"),
            virtual_network_name=E("azurerm_virtual_network.this.name"),
            address_prefixes=[api_server_subnet(env)],
            default_outbound_access_enabled=False,
            delegation=B(
                "delegation",
                name="aks-apiserver",
                service_delegation=B(
                    "service_delegation",
                    name="Microsoft.ContainerService/managedClusters",
                    actions=["Microsoft.Network/virtualNetworks/subnets/join/action"],
                ),
            ),
        ),
        R(
            "azurerm_network_security_group",
            "nodes",
            for_each=E("local.zones"),
            name=template("nsg-nodes-", EACH_KEY),
            **common(tags=TAGS),
        ).add(
            Comment(
                "NET-2: public LoadBalancer Services (ingress) reach the nodes on 80/443 through\n"
                "the load balancer; the nodes have no public IPs (SEC-1)."
            ),
            *node_rules,
        ),
        R(
            "azurerm_subnet_network_security_group_association",
            "nodes",
            for_each=E("local.zones"),
            subnet_id=E("azurerm_subnet.nodes[each.key].id"),
            network_security_group_id=E("azurerm_network_security_group.nodes[each.key].id"),
        ),
        R(
            "azurerm_network_security_group",
            "apiserver",
            name="nsg-apiserver",
            **common(tags=TAGS),
        ).add(
            Comment(
                "K8S-4 / K8S-5: the traffic API Server VNet Integration needs "
                "(api-server-vnet-integration.md)."
            ),
            *apiserver_rules,
        ),
        R(
            "azurerm_subnet_network_security_group_association",
            "apiserver",
            subnet_id=E("azurerm_subnet.apiserver.id"),
            network_security_group_id=E("azurerm_network_security_group.apiserver.id"),
        ),
        Comment(
            "CHR-5 / NET-4: Azure NAT Gateway is zonal. One Standard NAT gateway per zone,\n"
            "with its own zonal public IP, serves that zone's node subnet; the user pool of\n"
            "the zone is pinned to it, so losing a zone never takes another zone's egress."
        ),
        R(
            "azurerm_public_ip",
            "nat",
            for_each=E("local.zones"),
            name=template("pip-nat-", EACH_KEY),
            **common(
                allocation_method="Static",
                sku="Standard",
                zones=[EACH_KEY],
                tags=TAGS,
            ),
        ),
        R(
            "azurerm_nat_gateway",
            "this",
            for_each=E("local.zones"),
            name=template("ng-", EACH_KEY),
            **common(
                sku_name="Standard",
                idle_timeout_in_minutes=4,
                zones=[EACH_KEY],
                tags=TAGS,
            ),
        ),
        R(
            "azurerm_nat_gateway_public_ip_association",
            "this",
            for_each=E("local.zones"),
            nat_gateway_id=E("azurerm_nat_gateway.this[each.key].id"),
            public_ip_address_id=E("azurerm_public_ip.nat[each.key].id"),
        ),
        R(
            "azurerm_subnet_nat_gateway_association",
            "nodes",
            for_each=E("local.zones"),
            subnet_id=E("azurerm_subnet.nodes[each.key].id"),
            nat_gateway_id=E("azurerm_nat_gateway.this[each.key].id"),
        ),
    ]
