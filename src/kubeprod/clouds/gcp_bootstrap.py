"""GKE: the bootstrap module, the GCS bucket holding the main module's state (DR-2)."""

from __future__ import annotations

from kubeprod.clouds.base import Files, environment_tags, terraform_block
from kubeprod.clouds.gcp_common import (
    TERRAFORM_CONSTRAINT,
    crypto_key,
    gcp_of,
    state_bucket,
)
from kubeprod.clouds.gcp_versions import GOOGLE
from kubeprod.hcl import Call, Comment
from kubeprod.hcl.shorthand import B, D, E, R, lifecycle
from kubeprod.spec.model import Environment


def bootstrap_files(env: Environment) -> Files:
    """A separate module creating the GCS state bucket (DR-2) the main module's backend uses.

    Its own state is local: it runs once, and re-running it is idempotent.
    """
    gcp = gcp_of(env)
    storage_agent = "data.google_storage_project_service_account.this.member"
    bucket = R(
        "google_storage_bucket",
        "state",
        name=state_bucket(env),
        location=gcp.region,
        storage_class="STANDARD",
        uniform_bucket_level_access=True,
        public_access_prevention="enforced",
        force_destroy=False,
        labels=environment_tags(env),
        versioning=B("versioning", enabled=True),
        encryption=B("encryption", default_kms_key_name=E("google_kms_crypto_key.state.id")),
        soft_delete_policy=B("soft_delete_policy", retention_duration_seconds=30 * 86400),
        lifecycle_rule=B(
            "lifecycle_rule",
            action=B("action", type="Delete"),
            condition=B("condition", num_newer_versions=50, with_state="ARCHIVED"),
        ),
        lifecycle=lifecycle(prevent_destroy=True),
        depends_on=[E("google_kms_crypto_key_iam_member.storage")],
    )
    return {
        "versions.tf": [
            Comment("Creates the state bucket; its own state stays local (run once)."),
            terraform_block(TERRAFORM_CONSTRAINT, {"google": GOOGLE}),
        ],
        "providers.tf": [
            B(
                "provider",
                "google",
                project=gcp.project,
                region=gcp.region,
                default_labels=environment_tags(env),
            ),
        ],
        "main.tf": [
            R(
                "google_project_service",
                "this",
                for_each=Call("toset", ["cloudkms.googleapis.com", "storage.googleapis.com"]),
                service=E("each.value"),
                disable_on_destroy=False,
            ),
            Comment("SEC-3: the state is encrypted with a customer-managed, rotating key."),
            R(
                "google_kms_key_ring",
                "state",
                name=f"{env.name}-tfstate",
                location=gcp.region,
                depends_on=[E("google_project_service.this")],
            ),
            crypto_key("state", "tfstate", env, ring="state"),
            Comment("The Cloud Storage service agent (created on read) uses the key."),
            D("google_storage_project_service_account", "this"),
            R(
                "google_kms_crypto_key_iam_member",
                "storage",
                crypto_key_id=E("google_kms_crypto_key.state.id"),
                role="roles/cloudkms.cryptoKeyEncrypterDecrypter",
                member=E(storage_agent),
            ),
            Comment(
                "DR-2: versioned, CMEK-encrypted, uniform access, never public; old versions\n"
                "beyond 50 are pruned, deleted objects recoverable for 30 days."
            ),
            bucket,
        ],
        "outputs.tf": [
            B(
                "output",
                "state_bucket",
                value=E("google_storage_bucket.state.name"),
                description="Bucket of the main module's gcs backend",
            ),
        ],
    }
