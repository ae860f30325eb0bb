"""GKE module: binauthz.tf, the project's Binary Authorization policy (admitted images)."""

from __future__ import annotations

from kubeprod.clouds.gcp_common import gcp_of
from kubeprod.hcl import Block, Comment
from kubeprod.hcl.shorthand import B, E, R
from kubeprod.spec.model import Environment


def binauthz_tf(env: Environment) -> list[Block | Comment]:
    """binauthz.tf: the project registry and the spec's allow-list admitted, all else denied."""
    gcp = gcp_of(env)
    patterns = [f"{gcp.region}-docker.pkg.dev/{gcp.project}/**", *gcp.image_allowlist]
    return [
        Comment(
            "Supply chain: the project's Binary Authorization policy, which the cluster\n"
            "enforces "
            "(PROJECT_SINGLETON_POLICY_ENFORCE). Images from the project's Artifact\n"
            "Registry and clouds.gcp.image_allowlist are admitted, Google-maintained GKE\n"
            "system images through the global policy; anything else is denied and logged."
        ),
        R(
            "google_binary_authorization_policy",
            "this",
            project=E("local.project"),
            description=f"kubeprod {env.name}: admitted image sources",
            global_policy_evaluation_mode="ENABLE",
            admission_whitelist_patterns=[
                B("admission_whitelist_patterns", name_pattern=pattern) for pattern in patterns
            ],
            default_admission_rule=B(
                "default_admission_rule",
                evaluation_mode="ALWAYS_DENY",
                enforcement_mode="ENFORCED_BLOCK_AND_AUDIT_LOG",
            ),
            depends_on=[E("google_project_service.this")],
        ),
    ]
