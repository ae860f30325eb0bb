"""GKE module: versions.tf (Terraform, providers and the gcs state backend) and providers.tf
(google and google-beta, the project data source and the module's locals)."""

from __future__ import annotations

from kubeprod.clouds.base import environment_tags, terraform_block
from kubeprod.clouds.gcp_common import (
    PROJECT_NUMBER,
    PROVIDER_CONSTRAINT,
    TERRAFORM_CONSTRAINT,
    gcp_of,
    state_bucket,
)
from kubeprod.hcl import Block, Comment
from kubeprod.hcl.shorthand import B, D, E, template
from kubeprod.spec.model import Environment

GOOGLE = ("hashicorp/google", PROVIDER_CONSTRAINT)


def versions_tf(env: Environment) -> list[Block | Comment]:
    """versions.tf: google and google-beta, state in the bootstrap module's bucket (DR-2)."""
    return [
        Comment(
            "DR-2: state in GCS (object versioning, CMEK, uniform access); the bucket\n"
            "comes from the bootstrap module. GCS locks state natively."
        ),
        terraform_block(
            TERRAFORM_CONSTRAINT,
            {"google": GOOGLE, "google-beta": ("hashicorp/google-beta", PROVIDER_CONSTRAINT)},
            B("backend", "gcs", bucket=state_bucket(env), prefix=f"{env.name}/gcp"),
        ),
    ]


def providers_tf(env: Environment) -> list[Block | Comment]:
    """providers.tf: google and google-beta with default labels, the project, and locals."""
    gcp = gcp_of(env)
    return [
        *(
            B(
                "provider",
                provider,
                project=gcp.project,
                region=gcp.region,
                default_labels=environment_tags(env),
            )
            for provider in ("google", "google-beta")
        ),
        D("google_project", "this", project_id=gcp.project),
        B(
            "locals",
            name=env.name,
            project=gcp.project,
            region=gcp.region,
            zones=list(gcp.zones),
            compute_service_agent=template(
                "serviceAccount:service-",
                E(PROJECT_NUMBER),
                "@compute-system.iam.gserviceaccount.com",
            ),
        ),
    ]
