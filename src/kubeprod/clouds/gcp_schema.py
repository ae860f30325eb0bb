"""The provider schemas the GKE module is validated against: google plus google-beta.

The package's `google.json` (google 6.50.0) holds every google type the module uses, copied
from shared/provider-schemas/full/google.json.gz; `google-beta.json` (google-beta 6.50.0,
from full/google-beta.json.gz) holds `google_project_service_identity`, which exists only in
google-beta. A resource with `provider = google-beta` is checked against the latter.

newer-majors/google.json (google 8.7.0) is an older, smaller subset: the types it lacks
(`LATER_TYPES`) are checked there against their 6.50 shape, which is all that is known
offline about them; every type it has is checked against 8.x itself.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from kubeprod.terraform.schema_check import SCHEMA_DIR, load_schema

PROVIDER_KEY = "registry.terraform.io/hashicorp/google"
BETA_KEY = "registry.terraform.io/hashicorp/google-beta"
GOOGLE_6 = SCHEMA_DIR / "google.json"
GOOGLE_BETA = SCHEMA_DIR / "google-beta.json"
KINDS = ("resource_schemas", "data_source_schemas")


def later_types(schema_file: Path | str) -> dict[str, set[str]]:
    """Types of the 6.50 subset that `schema_file` lacks, per kind."""
    have = load_schema(schema_file)["provider_schemas"][PROVIDER_KEY]
    base = load_schema(GOOGLE_6)["provider_schemas"][PROVIDER_KEY]
    return {kind: set(base[kind]) - set(have.get(kind) or {}) for kind in KINDS}


def supplemented_schema(schema_file: Path | str) -> dict[str, Any]:
    """`schema_file` (a google schema) with google-beta added and, for the types it lacks,
    their google 6.50 shape (existing entries win)."""
    schema = copy.deepcopy(load_schema(schema_file))
    provider = schema["provider_schemas"][PROVIDER_KEY]
    base = load_schema(GOOGLE_6)["provider_schemas"][PROVIDER_KEY]
    for kind in KINDS:
        table = provider.setdefault(kind, {})
        for type_, body in base[kind].items():
            table.setdefault(type_, copy.deepcopy(body))
    beta = load_schema(GOOGLE_BETA)["provider_schemas"][BETA_KEY]
    schema["provider_schemas"].setdefault(BETA_KEY, copy.deepcopy(beta))
    return schema
