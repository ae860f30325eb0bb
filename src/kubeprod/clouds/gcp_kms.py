"""GKE module: kms.tf, the key ring and customer-managed keys for secrets, boot disks and
the notification topic, each granted to its service agent (SEC-3 / SEC-8)."""

from __future__ import annotations

from kubeprod.clouds.gcp_common import crypto_key, kms_binding
from kubeprod.hcl import Block, Comment
from kubeprod.hcl.shorthand import E, R, template
from kubeprod.spec.model import Environment


def kms_tf(env: Environment) -> list[Block | Comment]:
    """kms.tf: key ring, keys and the service agents' grants."""
    return [
        Comment(
            "SEC-3 / SEC-8: customer-managed keys in the cluster's region, rotated every\n"
            "90 days, kept from deletion (CHR-1). Key rings cannot be deleted in GCP."
        ),
        R(
            "google_kms_key_ring",
            "this",
            name=template(E("local.name"), "-gke"),
            location=E("local.region"),
            depends_on=[E("google_project_service.this")],
        ),
        crypto_key("secrets", "gke-secrets", env),
        crypto_key("disks", "gke-boot-disks", env),
        crypto_key("notifications", "gke-notifications", env),
        Comment("The GKE service agent envelope-encrypts Kubernetes secrets (SEC-8)."),
        kms_binding("gke_secrets", "secrets", E("google_project_service_identity.gke.member")),
        Comment("The Compute Engine service agent encrypts node boot disks (SEC-3)."),
        kms_binding("compute_disks", "disks", E("local.compute_service_agent")),
        Comment("The Pub/Sub service agent encrypts the cluster-notification topic (SEC-3)."),
        kms_binding(
            "pubsub_notifications",
            "notifications",
            E("google_project_service_identity.pubsub.member"),
        ),
    ]
