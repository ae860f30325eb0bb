"""Types the AKS module uses that the shared azurerm schema subset lacks.

shared/provider-schemas/azurerm.json (azurerm 4.55.0) has no `azurerm_management_lock`
(CHR-1) and no `azurerm_resource_policy_assignment` (SEC-6). The shared directory is
read-only here, so these two entries, written from the azurerm 4.x resource docs
(arguments, required flags and blocks), are merged in before validating. They should
move into the shared subset; until then they are hand-written, not generated.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kubeprod.terraform.schema_check import attribute as _attr
from kubeprod.terraform.schema_check import supplemented

PROVIDER_KEY = "registry.terraform.io/hashicorp/azurerm"


def _timeouts(*names: str) -> dict[str, Any]:
    return {
        "nesting_mode": "single",
        "block": {"attributes": {name: _attr() for name in names}},
    }


SUPPLEMENT: dict[str, dict[str, Any]] = {
    "azurerm_management_lock": {
        "block": {
            "attributes": {
                "id": _attr(computed=True),
                "name": _attr(required=True),
                "scope": _attr(required=True),
                "lock_level": _attr(required=True),
                "notes": _attr(),
            },
            "block_types": {"timeouts": _timeouts("create", "read", "delete")},
        }
    },
    "azurerm_resource_policy_assignment": {
        "block": {
            "attributes": {
                "id": _attr(computed=True),
                "name": _attr(required=True),
                "resource_id": _attr(required=True),
                "policy_definition_id": _attr(required=True),
                "description": _attr(),
                "display_name": _attr(),
                "enforce": _attr("bool"),
                "location": _attr(),
                "metadata": _attr(computed=True),
                "not_scopes": _attr(["list", "string"]),
                "parameters": _attr(),
            },
            "block_types": {
                "identity": {
                    "nesting_mode": "list",
                    "max_items": 1,
                    "block": {
                        "attributes": {
                            "type": _attr(required=True),
                            "identity_ids": _attr(["set", "string"]),
                            "principal_id": {"type": "string", "computed": True},
                            "tenant_id": {"type": "string", "computed": True},
                        }
                    },
                },
                "non_compliance_message": {
                    "nesting_mode": "list",
                    "block": {
                        "attributes": {
                            "content": _attr(required=True),
                            "policy_definition_reference_id": _attr(),
                        }
                    },
                },
                "timeouts": _timeouts("create", "read", "update", "delete"),
            },
        }
    },
}


def azurerm_schema(schema_file: Path) -> dict[str, Any]:
    """The schema file with SUPPLEMENT merged in (types already present win)."""
    return supplemented(schema_file, PROVIDER_KEY, SUPPLEMENT)
