"""What every file of the GKE module shares: the spec's GCP section, the state bucket's
name, the secondary ranges, and customer-managed keys with their grants.

The GKE module is one file per concern, each written by its own module: `gcp_versions`
(versions.tf, providers.tf), `gcp_project` (project.tf), `gcp_network` (network.tf),
`gcp_kms` (kms.tf), `gcp_gke` (gke.tf), `gcp_nodes` (nodes.tf), `gcp_access` (access.tf),
`gcp_binauthz` (binauthz.tf), `gcp_notifications` (notifications.tf), `gcp_monitoring`
(monitoring.tf), `gcp_gitops` (gitops.tf, Config Sync, only with gitops mode config-sync),
`gcp_outputs` (outputs.tf); `gcp_bootstrap` writes the state-bucket
module and `gcp` puts the root module together. See docs/gcp.md.
"""

from __future__ import annotations

from kubeprod.clouds.base import environment_tags, section
from kubeprod.errors import InputError
from kubeprod.hcl import Block, Expr
from kubeprod.hcl.shorthand import R, lifecycle, ref
from kubeprod.spec.model import Environment, GcpCloud

PROVIDER_CONSTRAINT = "~> 6.50"
TERRAFORM_CONSTRAINT = ">= 1.10.0"
KEY_ROTATION_PERIOD = "7776000s"  # 90 days
PROJECT_NUMBER = "data.google_project.this.number"


def gcp_of(env: Environment) -> GcpCloud:
    """The spec's clouds.gcp section; a clear input error when it is missing."""
    return section(env, "gcp")


def state_bucket(env: Environment) -> str:
    """The GCS bucket of the main module's state (DR-2), made by the bootstrap module."""
    gcp = gcp_of(env)
    return gcp.state_bucket or f"{gcp.project}-{env.name}-tfstate"


def secondary_ranges(env: Environment) -> tuple[str, str]:
    """(pods range, services range) of the node subnet."""
    if env.network.pod_cidr is None:
        raise InputError(
            "GKE needs a secondary range for pods (NET-6). Fix: set network.pod_cidr, "
            "e.g. 100.64.0.0/16"
        )
    return env.network.pod_cidr, env.network.service_cidr


def kms_binding(label: str, key: str, member: Expr) -> Block:
    """`member` may encrypt and decrypt with the crypto key `key`."""
    return R(
        "google_kms_crypto_key_iam_member",
        label,
        crypto_key_id=ref("google_kms_crypto_key", key, "id"),
        role="roles/cloudkms.cryptoKeyEncrypterDecrypter",
        member=member,
    )


def crypto_key(label: str, name: str, env: Environment, ring: str = "this") -> Block:
    """A customer-managed key in `ring`, rotated every 90 days, kept from deletion."""
    return R(
        "google_kms_crypto_key",
        label,
        name=name,
        key_ring=ref("google_kms_key_ring", ring, "id"),
        purpose="ENCRYPT_DECRYPT",
        rotation_period=KEY_ROTATION_PERIOD,
        destroy_scheduled_duration=f"{env.encryption.key_deletion_window_days * 86400}s",
        labels=environment_tags(env),
        lifecycle=lifecycle(prevent_destroy=True),
    )
