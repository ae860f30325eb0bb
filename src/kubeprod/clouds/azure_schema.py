"""The provider schemas an AKS module is validated against: azurerm plus hashicorp/time.

The AKS module uses two providers: azurerm (4.55, `data/provider-schemas/azurerm.json`)
and hashicorp/time (0.13, `data/provider-schemas/time.json`, for the `time_sleep` that
waits for Azure RBAC propagation). Both files are subsets of the complete schemas in
shared/provider-schemas/full/, copied per type (provenance in their `_meta`).
`azurerm_schema` merges the time provider into whichever azurerm file is validated
(the 4.x subset or the 5.x one in newer-majors/), so one call checks every type.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from kubeprod.terraform.schema_check import SCHEMA_DIR, load_schema

PROVIDER_KEY = "registry.terraform.io/hashicorp/azurerm"
TIME_SCHEMA = SCHEMA_DIR / "time.json"


def azurerm_schema(schema_file: Path) -> dict[str, Any]:
    """The azurerm schema file with the hashicorp/time provider merged in."""
    schema = copy.deepcopy(load_schema(schema_file))
    schema["provider_schemas"].update(load_schema(TIME_SCHEMA)["provider_schemas"])
    return schema
