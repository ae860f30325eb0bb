"""Azure (AKS) facts used by both the renderer and the policy rules."""

from __future__ import annotations

from kubeprod.requirements import Req

# K8S-7 / SEC-7: every AKS control-plane log category the brief's "enhanced logging"
# needs (AKS docs, "Monitor AKS: resource logs"; kube-audit-admin is the audit log
# without get/list events).
AKS_LOG_CATEGORIES: tuple[str, ...] = (
    "kube-audit-admin",
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "cluster-autoscaler",
    "guard",
)

# SEC-6: built-in initiative "Kubernetes cluster pod security restricted standards for
# Linux-based workloads" (Azure Policy add-on, Gatekeeper).
PSS_RESTRICTED_INITIATIVE_GUID = "42b8ef37-b724-4e24-bbc8-7a7708edfe00"
PSS_RESTRICTED_INITIATIVE = (
    f"/providers/Microsoft.Authorization/policySetDefinitions/{PSS_RESTRICTED_INITIATIVE_GUID}"
)

# DR-4: Azure region pairs. Geo-redundant storage, and so a GeoRedundant Backup vault and its
# Cross Region Restore, replicate only to the primary region's pair (Microsoft Learn, "Azure
# region pairs and nonpaired regions", AZURE_PAIRS_DOC; Backup: "Cross Region Restore ...
# restore in a secondary, Azure paired region"). Read 2026-11-29 from the page's list of
# region pairs and the "Paired region" column of AZURE_REGIONS_DOC, cross-checked against the
# `pairedRegion` metadata of the Azure Resource Manager locations API (`az account
# list-locations`). Region -> the region its geo-redundant data goes to. Most pairs are
# mutual; the one-way ones are marked. Public cloud only (sovereign clouds are not rendered).
AZURE_PAIRS_DOC = "https://learn.microsoft.com/en-us/azure/reliability/regions-paired"
AZURE_REGIONS_DOC = "https://learn.microsoft.com/en-us/azure/reliability/regions-list"
AZURE_PAIRS_READ = "2026-11-29"
AZURE_PAIRS: dict[str, str] = {
    "australiacentral": "australiacentral2",
    "australiacentral2": "australiacentral",
    "australiaeast": "australiasoutheast",
    "australiasoutheast": "australiaeast",
    "brazilsouth": "southcentralus",  # one-way: southcentralus pairs with northcentralus
    "brazilsoutheast": "brazilsouth",  # one-way: brazilsouth pairs with southcentralus
    "canadacentral": "canadaeast",
    "canadaeast": "canadacentral",
    "centralindia": "southindia",
    "southindia": "centralindia",
    "westindia": "southindia",  # one-way: southindia pairs with centralindia
    "centralus": "eastus2",
    "eastus2": "centralus",
    "eastasia": "southeastasia",
    "southeastasia": "eastasia",
    "eastus": "westus",
    "westus": "eastus",
    "westus3": "eastus",  # one-way: eastus pairs with westus
    "francecentral": "francesouth",
    "francesouth": "francecentral",
    "germanywestcentral": "germanynorth",
    "germanynorth": "germanywestcentral",
    "japaneast": "japanwest",
    "japanwest": "japaneast",
    "koreacentral": "koreasouth",
    "koreasouth": "koreacentral",
    "northcentralus": "southcentralus",
    "southcentralus": "northcentralus",
    "northeurope": "westeurope",
    "westeurope": "northeurope",
    "norwayeast": "norwaywest",
    "norwaywest": "norwayeast",
    "southafricanorth": "southafricawest",
    "southafricawest": "southafricanorth",
    "swedencentral": "swedensouth",
    "swedensouth": "swedencentral",
    "switzerlandnorth": "switzerlandwest",
    "switzerlandwest": "switzerlandnorth",
    "uaenorth": "uaecentral",
    "uaecentral": "uaenorth",
    "uksouth": "ukwest",
    "ukwest": "uksouth",
    "westus2": "westcentralus",
    "westcentralus": "westus2",
}
# Regions the same pages list without a pair ("nonpaired regions": they rely on availability
# zones; geo-redundant storage and Cross Region Restore have no pair to replicate to).
AZURE_NONPAIRED: frozenset[str] = frozenset(
    {
        "austriaeast",
        "belgiumcentral",
        "chilecentral",
        "indonesiacentral",
        "israelcentral",
        "italynorth",
        "malaysiawest",
        "mexicocentral",
        "newzealandnorth",
        "polandcentral",
        "qatarcentral",
        "spaincentral",
    }
)


def azure_pair(region: str) -> str | None:
    """DR-4: the region `region`'s geo-redundant copies go to, or None without a pair.

    None also for a region not in the table (a new one: add it here from AZURE_PAIRS_DOC).
    """
    return AZURE_PAIRS.get(region)


# What the rendered Azure module does not meet, and why (the
# cloud-independent gaps are `kubeprod.facts.EVERY_CLOUD`).
NOT_COVERED: dict[Req, str] = {}
