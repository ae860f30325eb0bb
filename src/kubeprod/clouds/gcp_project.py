"""GKE module: project.tf, the project's APIs, Cloud Audit Logs (SEC-7), Google service
agents and the retention of the _Default log bucket (K8S-7)."""

from __future__ import annotations

from kubeprod.hcl import Block, Call, Comment
from kubeprod.hcl.shorthand import B, E, R
from kubeprod.spec.model import Environment

REQUIRED_APIS = (
    "binaryauthorization.googleapis.com",
    "cloudkms.googleapis.com",
    "cloudresourcemanager.googleapis.com",
    "compute.googleapis.com",
    "container.googleapis.com",
    "containerscanning.googleapis.com",
    "iam.googleapis.com",
    "logging.googleapis.com",
    "monitoring.googleapis.com",
    "pubsub.googleapis.com",
)
# SEC-7: Cloud Audit Logs (admin and data access) for the services whose resources this
# module owns, not `allServices`: that config is authoritative for every service of the
# project (it overwrites exemptions set elsewhere) and data-access logs of every service are
# costly. storage: the state bucket's reads and writes (docs/gcp.md, CKV_GCP_62).
AUDITED_SERVICES = (
    "cloudkms.googleapis.com",
    "container.googleapis.com",
    "storage.googleapis.com",
)
AUDIT_LOG_TYPES = ("ADMIN_READ", "DATA_READ", "DATA_WRITE")
# Google service agents created with google_project_service_identity (google-beta): a
# hand-built service-<number>@... member may not exist yet in a new project.
SERVICE_IDENTITIES = {"gke": "container.googleapis.com", "pubsub": "pubsub.googleapis.com"}


def api_services(label: str, apis: tuple[str, ...]) -> Block:
    """`google_project_service` for each of `apis`, never disabled on destroy."""
    return R(
        "google_project_service",
        label,
        for_each=Call("toset", list(apis)),
        project=E("local.project"),
        service=E("each.value"),
        disable_on_destroy=False,
    )


def project_tf(env: Environment) -> list[Block | Comment]:
    """project.tf: APIs, audit log configs, service identities, log retention."""
    return [
        Comment("APIs the module uses. Never disabled on destroy: other workloads may use them."),
        api_services("this", REQUIRED_APIS),
        Comment(
            "SEC-7: Cloud Audit Logs, admin and data access, no exempted members, for the\n"
            "services this module owns (not allServices: that config is authoritative for\n"
            "every service and data-access logs of all of them are costly). GKE's own\n"
            "Kubernetes audit log is the APISERVER component."
        ),
        R(
            "google_project_iam_audit_config",
            "this",
            for_each=Call("toset", list(AUDITED_SERVICES)),
            project=E("local.project"),
            service=E("each.value"),
            audit_log_config=[B("audit_log_config", log_type=t) for t in AUDIT_LOG_TYPES],
        ),
        Comment(
            "Google service agents, created rather than assumed: in a new project the GKE\n"
            "and Pub/Sub agents may not exist until their API first needs them, and a key\n"
            "grant to a missing member fails (google-beta: google_project_service_identity)."
        ),
        *(
            R(
                "google_project_service_identity",
                label,
                provider=E("google-beta"),
                project=E("local.project"),
                service=service,
                depends_on=[E("google_project_service.this")],
            )
            for label, service in SERVICE_IDENTITIES.items()
        ),
        Comment(
            f"K8S-7 / SEC-7: the _Default log bucket keeps {env.logging.retention_days} days "
            "(logging.retention_days),\nnot Cloud Logging's default 30. Days beyond 30 are "
            "billed as log storage."
        ),
        R(
            "google_logging_project_bucket_config",
            "default",
            project=E("local.project"),
            location="global",
            bucket_id="_Default",
            retention_days=env.logging.retention_days,
            depends_on=[E("google_project_service.this")],
        ),
    ]
