"""DR-4 on an AWS state-backend module: the state bucket replicates to the recovery region.

AWS's answer to "the state must survive a region loss" is S3 Cross-Region Replication of
the versioned bucket (Amazon S3 user guide, "Setting up live replication overview":
https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-how-setup.html). The
configuration is judged as written:

- a versioned state bucket (one the default provider creates and no rule replicates into)
  has an `aws_s3_bucket_replication_configuration`, when the configuration declares a
  provider for another region or the spec names `dr.recovery_region.aws`;
- each rule is Enabled and replicates delete markers (without them a deleted state stays
  readable in the replica, and a recovery reads a state the primary no longer had);
- each rule selects SSE-KMS objects and names a replica key: "By default, Amazon S3
  doesn't replicate objects that are stored at rest using server-side encryption with
  AWS KMS keys" (S3 user guide, "Replicating encrypted objects":
  https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-config-for-kms-objects.html),
  and every kubeprod state object is SSE-KMS;
- the destination bucket is created through a provider of another region (the spec's
  recovery region when the gate knows the spec). A literal destination ARN names no
  region: unknown.
"""

from __future__ import annotations

from typing import Any

from kubeprod.policy.plan_model import UNKNOWN, Resource
from kubeprod.policy.rules.base import Ctx, blocks

CONFIG = "aws_s3_bucket_replication_configuration"
FIX_CONFIG = (
    "an aws_s3_bucket_replication_configuration of the state bucket to a bucket in the "
    "recovery region (render again with dr.recovery_region.aws: `kubeprod bootstrap`)"
)


def _bucket_of(res: Resource, attribute: str, buckets: dict[str, Resource]) -> Resource | None:
    """The aws_s3_bucket resource an attribute refers to (`aws_s3_bucket.state.id`)."""
    for name in res.refs.get(attribute, []):
        address = ".".join(name.split(".")[:2])
        if address in buckets:
            return buckets[address]
    return None


def _region(ctx: Ctx, provider: str) -> Any:
    return (ctx.model.provider_regions or {}).get(provider or "aws")


def state_replication(ctx: Ctx) -> None:
    """Judge the state-backend module's replication (see the module docstring)."""
    regions = ctx.model.provider_regions
    if regions is None or (ctx.model.source == "plan" and ctx.model.config_dir is None):
        ctx.unknown(
            None,
            "the providers and references are not at hand: pass the plan with its directory",
            "provider",
        )
        return
    primary = regions.get("aws")
    recovery = (ctx.opt.recovery_regions or {}).get("aws")
    elsewhere = sorted(
        key for key, region in regions.items() if key.startswith("aws.") and region != primary
    )
    if not elsewhere and not recovery:
        ctx.not_judged(
            "no provider for another region and no recovery region: set "
            "dr.recovery_region.aws for the state to replicate"
        )
        return
    buckets = {b.config_address: b for b in ctx.model.of("aws_s3_bucket")}
    configs = ctx.model.of(CONFIG)
    targets = {
        b.config_address
        for c in configs
        for i in range(len(blocks(c.get("rule"))))
        if (b := _bucket_of(c, f"rule.{i}.destination.0.bucket", buckets)) is not None
    }
    sources = []
    for v in ctx.model.of("aws_s3_bucket_versioning"):
        bucket = _bucket_of(v, "bucket", buckets)
        if bucket is not None and not bucket.provider and bucket.config_address not in targets:
            sources.append(bucket)
    if not ctx.need(sources, "versioned state bucket (aws_s3_bucket_versioning)"):
        return
    for bucket in sources:
        mine = [c for c in configs if _bucket_of(c, "bucket", buckets) is bucket]
        if not mine:
            where = recovery or ", ".join(f"{k} ({regions[k]})" for k in elsewhere)
            ctx.fail(
                bucket,
                f"the versioned state bucket does not replicate out of {primary}, though the "
                f"configuration recovers in {where}: a region loss leaves only state copied "
                "by hand",
                CONFIG,
                FIX_CONFIG,
            )
        for config in mine:
            _rules(ctx, config, buckets, primary, recovery)


def _rules(
    ctx: Ctx, config: Resource, buckets: dict[str, Resource], primary: Any, recovery: Any
) -> None:
    rules = blocks(config.get("rule"))
    if not rules:
        ctx.fail(config, "no replication rule", "rule", "a rule for the whole bucket")
    for i, _ in enumerate(rules):
        at = f"rule.{i}"
        ctx.check(config, f"{at}.status", lambda s: s == "Enabled", '"Enabled"')
        ctx.check(
            config,
            f"{at}.delete_marker_replication.0.status",
            lambda s: s == "Enabled",
            'delete_marker_replication { status = "Enabled" } (a deleted state must be '
            "deleted in the replica too)",
        )
        ctx.check(
            config,
            f"{at}.source_selection_criteria.0.sse_kms_encrypted_objects.0.status",
            lambda s: s == "Enabled",
            'source_selection_criteria { sse_kms_encrypted_objects { status = "Enabled" } } '
            "(S3 skips SSE-KMS objects otherwise)",
        )
        ctx.check(
            config,
            f"{at}.destination.0.encryption_configuration.0.replica_kms_key_id",
            lambda k: bool(k),
            "a KMS key of the recovery region (encryption_configuration.replica_kms_key_id)",
        )
        _destination(ctx, config, at, buckets, primary, recovery)


def _destination(
    ctx: Ctx, config: Resource, at: str, buckets: dict[str, Resource], primary: Any, recovery: Any
) -> None:
    attribute = f"{at}.destination.0.bucket"
    target = _bucket_of(config, attribute, buckets)
    if target is None:
        ctx.unknown(
            config,
            "the destination is not a bucket of this configuration: its region is not known",
            attribute,
        )
        return
    region = _region(ctx, target.provider)
    if region is UNKNOWN or region is None:
        ctx.unknown(config, f"the region of {target.config_address} is not known", attribute)
    elif region == primary:
        ctx.fail(
            config,
            f"replicates to {target.config_address} in {region}, the state's own region",
            attribute,
            "a bucket created through the recovery region's provider (provider = aws.recovery)",
        )
    elif recovery and region != recovery:
        ctx.fail(
            config,
            f"replicates to {region}, but the spec recovers in {recovery}",
            attribute,
            f"a bucket in {recovery}",
        )
    else:
        ctx.ok(config, f"the state replicates to {target.config_address} in {region}", attribute)
