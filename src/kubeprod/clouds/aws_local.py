"""The local target for AWS: what differs when the module applies to moto.

The production files are rendered unchanged; this adds one Terraform override
file (`*_override.tf` merges into the module) and a backend configuration that
point at the embedded cloud. Every difference is listed in LOCAL_DIFFERENCES and
in the README, so nobody mistakes the local target for production.
"""

from __future__ import annotations

from kubeprod.hcl import Block, Comment
from kubeprod.hcl.shorthand import B, D, E, R, one_line_list
from kubeprod.local.moto_server import LOCAL_AMI_DATE

OVERRIDE_FILE = "kubeprod_local_override.tf"
SERVICES = (
    "autoscaling",
    "backup",
    "cloudwatch",
    "ec2",
    "eks",
    "iam",
    "kms",
    "logs",
    "s3",
    "sns",
    "ssm",
    "sts",
)

# resource address -> why it is not created on the local cloud
SKIPPED: dict[str, str] = {
    "aws_eks_addon.before_nodes": "moto has no EKS add-on API",
    "aws_eks_addon.after_nodes": "moto has no EKS add-on API",
    "aws_eks_access_entry.admin": "moto has no EKS access-entry API",
    "aws_eks_access_policy_association.admin": "moto has no EKS access-entry API",
    "aws_backup_selection.cluster": "moto has no AWS Backup selection API",
    "aws_eks_pod_identity_association.cluster_autoscaler": "moto has no EKS Pod Identity API",
    "aws_eks_pod_identity_association.vpc_cni": "moto has no EKS Pod Identity API",
}
# data source address -> why it is not read on the local cloud (emptied like SKIPPED)
SKIPPED_DATA: dict[str, str] = {
    "data.aws_eks_addon_version.this": "moto has no EKS DescribeAddonVersions (the add-ons "
    "it pins are not created locally either)",
}
# the same, for the state-backend module
SKIPPED_BOOTSTRAP: dict[str, str] = {
    "aws_s3_bucket_policy.state": "moto applies a bucket policy's Deny without evaluating its "
    "conditions, so the TLS-only deny (aws:SecureTransport) would refuse every request",
}
# the same, for the state-backend module's DR-4 replication (with a recovery region)
SKIPPED_REPLICA: dict[str, str] = {
    "aws_s3_bucket_policy.state_replica": "as aws_s3_bucket_policy.state, for the replica "
    "bucket's TLS-only policy",
}
# the state-backend module's resource address -> attributes moto does not store or return
IGNORED_BOOTSTRAP: dict[str, list[str]] = {
    # moto stores the replication configuration but reads every rule back with delete-marker
    # replication Disabled and without source_selection_criteria, and never replicates
    "aws_s3_bucket_replication_configuration.state": ["rule"],
}
# resource address -> attributes moto does not store or return
IGNORED: dict[str, list[str]] = {
    "aws_eks_cluster.this": [
        "access_config",
        "upgrade_policy",
        "bootstrap_self_managed_addons",
        "kubernetes_network_config",
        "zonal_shift_config",
    ],
    "aws_eks_node_group.system": ["remote_access", "update_config"],
    "aws_eks_node_group.workload": ["remote_access", "update_config"],
    "aws_launch_template.system": ["tag_specifications"],
    "aws_launch_template.workload": ["tag_specifications"],
    "aws_backup_vault.this": ["tags_all"],
    "aws_backup_plan.this": ["tags_all"],
}

LOCAL_DIFFERENCES = [
    *(
        f"{addr} is not created: {why}"
        for addr, why in {**SKIPPED, **SKIPPED_BOOTSTRAP, **SKIPPED_REPLICA}.items()
    ),
    *(f"{addr} is not read: {why}" for addr, why in SKIPPED_DATA.items()),
    "EBS default KMS key (GetEbsDefaultKmsKeyId) and the EKS AMI release SSM parameters are "
    "served by kubeprod's additions to moto (kubeprod/local/moto_server.py); the AMI "
    "release it answers is invented (<minor>.0-" + LOCAL_AMI_DATE + ")",
    *(
        f"{addr} ignores changes to {', '.join(attrs)}: moto does not store them"
        for addr, attrs in {**IGNORED, **IGNORED_BOOTSTRAP}.items()
    ),
    "the state bucket's DR-4 replication configuration is stored but nothing replicates: "
    "moto never copies objects to the replica bucket",
    "provider endpoints point at 127.0.0.1 and test credentials come from the environment",
    "the S3 backend uses path-style addressing against the local cloud's S3",
]


def _provider(region: str, endpoint: str, alias: str | None = None) -> Block:
    provider = B("provider", "aws")
    if alias:
        provider.set(alias=alias)
    provider.set(
        region=region,
        skip_credentials_validation=True,
        skip_metadata_api_check=True,
        skip_region_validation=True,
        s3_use_path_style=True,
        endpoints=B("endpoints", **{s: endpoint for s in SERVICES}),
    )
    return provider


def override_file(
    region: str, endpoint: str, *, main_module: bool = True, recovery_region: str | None = None
) -> list[Block | Comment]:
    """The override blocks; the bootstrap module only needs the provider's.

    `recovery_region`: the DR-4 `aws.recovery` provider (backup.tf of the main module,
    replication.tf of the bootstrap module) also points at the local cloud (moto keeps
    every region apart, as AWS does).
    """
    blocks: list[Block | Comment] = [
        Comment(
            "Local target only: merges into the production module when it applies to\n"
            "kubeprod's embedded cloud (moto). Never present in infra/."
        ),
        _provider(region, endpoint),
    ]
    if recovery_region:
        blocks.append(_provider(recovery_region, endpoint, alias="recovery"))
    skipped = SKIPPED if main_module else SKIPPED_BOOTSTRAP
    if recovery_region and not main_module:
        skipped = {**skipped, **SKIPPED_REPLICA}
    for address, why in skipped.items():
        type_, name = address.split(".")
        blocks.append(Comment(why))
        blocks.append(R(type_, name, for_each={}))
    for address, why in SKIPPED_DATA.items() if main_module else ():
        _, type_, name = address.split(".")
        blocks.append(Comment(why))
        blocks.append(D(type_, name, for_each={}))
    ignored = dict(IGNORED) if main_module else {}
    if recovery_region and main_module:
        ignored["aws_backup_vault.recovery"] = ["tags_all"]  # DR-4 copy vault, as above
    elif recovery_region:
        ignored.update(IGNORED_BOOTSTRAP)
    for address, attrs in ignored.items():
        type_, name = address.split(".")
        blocks.append(
            B(
                "resource",
                type_,
                name,
                lifecycle=B("lifecycle", ignore_changes=one_line_list(*(E(a) for a in attrs))),
            )
        )
    return blocks


def backend_settings(endpoint: str) -> dict[str, object]:
    return {
        "endpoints": {"s3": endpoint, "sts": endpoint, "iam": endpoint},
        "use_path_style": True,
        "skip_credentials_validation": True,
        "skip_requesting_account_id": True,
        "skip_metadata_api_check": True,
        "skip_region_validation": True,
    }
