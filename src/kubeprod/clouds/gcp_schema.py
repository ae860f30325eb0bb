"""Types the GKE module uses that the shared google schema subset lacks.

shared/provider-schemas/google.json (google 6.50.0) has no
`google_project_iam_audit_config` resource (SEC-7) and no
`google_storage_project_service_account` data source (state bucket CMEK, DR-2). The
shared directory is read-only here, so these entries, written from the google 6.x
resource docs (arguments, required flags, nesting), are merged in before validating.
They should move into the shared subset; until then they are hand-written, not generated.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kubeprod.terraform.schema_check import attribute as _attr
from kubeprod.terraform.schema_check import supplemented

PROVIDER_KEY = "registry.terraform.io/hashicorp/google"


def _computed(type_: Any = "string") -> dict:
    return {"type": type_, "computed": True}


RESOURCES: dict[str, dict[str, Any]] = {
    "google_project_iam_audit_config": {
        "block": {
            "attributes": {
                "etag": _computed(),
                "id": _attr(computed=True),
                "project": _attr(computed=True),
                "service": _attr(required=True),
            },
            "block_types": {
                "audit_log_config": {
                    "nesting_mode": "set",
                    "min_items": 1,
                    "block": {
                        "attributes": {
                            "exempted_members": _attr(["set", "string"]),
                            "log_type": _attr(required=True),
                        }
                    },
                }
            },
        }
    },
}
DATA_SOURCES: dict[str, dict[str, Any]] = {
    "google_storage_project_service_account": {
        "block": {
            "attributes": {
                "email_address": _computed(),
                "id": _attr(computed=True),
                "member": _computed(),
                "project": _attr(),
                "user_project": _attr(),
            }
        }
    },
}


def supplemented_schema(schema_file: Path | str) -> dict[str, Any]:
    """The schema file with the missing google types added (existing entries win)."""
    return supplemented(schema_file, PROVIDER_KEY, RESOURCES, DATA_SOURCES)
