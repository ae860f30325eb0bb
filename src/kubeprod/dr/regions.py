"""DR-4: the regions each cloud offers, so a recovery region is a real one.

Lists as published by each cloud (AWS "Regions and Zones", Azure `az account
list-locations` physical regions, Google Cloud "Regions and zones"), as of 2026-11.
A new region missing here is refused with the list; add it in one line.
"""

from __future__ import annotations

REGIONS: dict[str, frozenset[str]] = {
    "aws": frozenset(
        """
        us-east-1 us-east-2 us-west-1 us-west-2 af-south-1 ap-east-1 ap-east-2
        ap-south-1 ap-south-2 ap-southeast-1 ap-southeast-2 ap-southeast-3
        ap-southeast-4 ap-southeast-5 ap-southeast-7 ap-northeast-1 ap-northeast-2
        ap-northeast-3 ca-central-1 ca-west-1 eu-central-1 eu-central-2 eu-west-1
        eu-west-2 eu-west-3 eu-south-1 eu-south-2 eu-north-1 il-central-1 mx-central-1
        me-south-1 me-central-1 sa-east-1
        """.split()  # noqa: SIM905
    ),
    "azure": frozenset(
        """
        eastus eastus2 southcentralus westus2 westus3 australiaeast southeastasia
        northeurope swedencentral uksouth westeurope centralus southafricanorth
        centralindia eastasia japaneast koreacentral newzealandnorth canadacentral
        francecentral germanywestcentral italynorth norwayeast polandcentral spaincentral
        switzerlandnorth mexicocentral uaenorth brazilsouth israelcentral qatarcentral
        northcentralus westus japanwest westcentralus southindia westindia ukwest
        canadaeast koreasouth australiasoutheast australiacentral australiacentral2
        francesouth
        germanynorth norwaywest switzerlandwest uaecentral southafricawest
        brazilsoutheast swedensouth austriaeast belgiumcentral chilecentral
        indonesiacentral malaysiawest
        """.split()  # noqa: SIM905
    ),
    "gcp": frozenset(
        """
        africa-south1 asia-east1 asia-east2 asia-northeast1 asia-northeast2
        asia-northeast3 asia-south1 asia-south2 asia-southeast1 asia-southeast2
        australia-southeast1 australia-southeast2 europe-central2 europe-north1
        europe-north2 europe-southwest1 europe-west1 europe-west2 europe-west3
        europe-west4 europe-west6 europe-west8 europe-west9 europe-west10 europe-west12
        me-central1 me-central2 me-west1 northamerica-northeast1 northamerica-northeast2
        northamerica-south1 southamerica-east1 southamerica-west1 us-central1 us-east1
        us-east4 us-east5 us-south1 us-west1 us-west2 us-west3 us-west4
        """.split()  # noqa: SIM905
    ),
}


def primary_region(env: object, cloud: str) -> str | None:
    """The region (AWS, GCP) or location (Azure) the environment runs in."""
    section = getattr(env.clouds, cloud, None)  # type: ignore[attr-defined]
    if section is None:
        return None
    return getattr(section, "location" if cloud == "azure" else "region")


def recovery_zones(primary_zones: list[str], primary: str, recovery: str) -> list[str]:
    """The recovery region's zones, same letters/numbers as the primary's (a, b, c)."""
    return [z.replace(primary, recovery, 1) if z.startswith(primary) else z for z in primary_zones]
