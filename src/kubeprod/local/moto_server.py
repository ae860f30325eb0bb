"""moto's server, plus the few calls it lacks that the production module needs.

- EKS DescribeUpdate: after UpdateNodegroupConfig the AWS provider polls it until the
  update is Successful; moto returns the update (already Successful) but does not serve
  DescribeUpdate, so every in-place node group change failed. The updates moto hands out
  are recorded and served back.
- EC2 GetEbsDefaultKmsKeyId / ResetEbsDefaultKmsKeyId: moto stores the default EBS key
  (ModifyEbsDefaultKmsKeyId) but cannot read it back, which `aws_ebs_default_kms_key` does.
- SSM public parameters `/aws/service/eks/optimized-ami/<minor>/amazon-linux-2023/...
  /recommended/release_version`: AWS publishes the EKS AMI release per Kubernetes minor;
  moto has none. The local cloud answers with an invented release `<minor>.0-<LOCAL_AMI_DATE>`
  so the node groups' release tracking applies unchanged.

Then `moto.server` runs unchanged. Started by `kubeprod.local.server.start`.

moto is imported inside the patches on purpose: it is the optional `local` extra, and
the drills import this module for its constants without starting a cloud.
"""

from __future__ import annotations

import re
import sys
from datetime import UTC, datetime
from typing import Any

_UPDATES: dict[str, dict[str, Any]] = {}
LOCAL_AMI_DATE = "20261101"
EKS_AMI_RELEASE = re.compile(
    r"^/aws/service/eks/optimized-ami/(?P<minor>1\.\d+)/amazon-linux-2023/"
    r"(x86_64|arm64)/(standard|nvidia|neuron)/recommended/release_version$"
)


def patch() -> None:
    """Teach moto's EKS backend DescribeUpdate (idempotent)."""
    from moto.core.responses import ActionResult
    from moto.eks import urls
    from moto.eks.exceptions import ResourceNotFoundException
    from moto.eks.models import EKSBackend
    from moto.eks.responses import EKSResponse

    if getattr(EKSBackend, "_kubeprod_patched", False):
        return
    original = EKSBackend.update_nodegroup_config

    def update_nodegroup_config(self: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        update = original(self, *args, **kwargs)
        _UPDATES[update["id"]] = update
        return update

    def describe_update(self: Any) -> Any:
        update = _UPDATES.get(self._get_param("updateId"))
        if update is None:
            raise ResourceNotFoundException(
                clusterName=self._get_param("name"),
                nodegroupName=self._get_param("nodegroupName"),
                fargateProfileName=None,
                addonName=None,
                message="No update found",
            )
        return ActionResult({"update": update})

    EKSBackend.update_nodegroup_config = update_nodegroup_config  # type: ignore[method-assign]
    EKSResponse.describe_update = describe_update  # type: ignore[attr-defined]
    urls.url_paths["{0}/clusters/(?P<name>[^/]+)/updates/(?P<updateId>[^/]+)$"] = (
        urls.response.dispatch
    )
    EKSBackend._kubeprod_patched = True  # type: ignore[attr-defined]


def patch_ebs_default_key() -> None:
    """Teach moto's EC2 GetEbsDefaultKmsKeyId and ResetEbsDefaultKmsKeyId (idempotent)."""
    from moto.core.responses import ActionResult
    from moto.ec2.responses.elastic_block_store import ElasticBlockStore

    if hasattr(ElasticBlockStore, "get_ebs_default_kms_key_id"):
        return

    def get_ebs_default_kms_key_id(self: Any) -> Any:
        backend = self.ec2_backend
        key = getattr(backend, "default_kms_key_id", None)
        return ActionResult({"KmsKeyId": key or backend._create_default_encryption_key()})

    def reset_ebs_default_kms_key_id(self: Any) -> Any:
        return ActionResult({"KmsKeyId": self.ec2_backend._create_default_encryption_key()})

    ElasticBlockStore.get_ebs_default_kms_key_id = get_ebs_default_kms_key_id  # type: ignore[attr-defined]
    ElasticBlockStore.reset_ebs_default_kms_key_id = reset_ebs_default_kms_key_id  # type: ignore[attr-defined]


def patch_eks_ami_parameters() -> None:
    """Serve the EKS AMI release parameters AWS publishes (idempotent)."""
    from moto.ssm.models import Parameter, ParameterDict

    if getattr(ParameterDict, "_kubeprod_patched", False):
        return
    original = ParameterDict._check_loading_status

    def check_loading_status(self: Any, key: str) -> None:
        original(self, key)
        match = EKS_AMI_RELEASE.match(str(key or ""))
        name = self.normalize_name(key) if match else ""
        if match and not dict.__contains__(self, name):
            self.setdefault(name, []).append(
                Parameter(  # type: ignore[abstract]  # moto's concrete at runtime
                    account_id=self.account_id,
                    name=key,
                    value=f"{match['minor']}.0-{LOCAL_AMI_DATE}",
                    parameter_type="String",
                    description=None,
                    allowed_pattern=None,
                    keyid=None,
                    last_modified_date=datetime.now(UTC),
                    version=1,
                    data_type="text",
                )
            )

    ParameterDict._check_loading_status = check_loading_status  # type: ignore[method-assign]
    ParameterDict._kubeprod_patched = True  # type: ignore[attr-defined]


def patch_nat_gateway_delete() -> None:
    """DeleteNatGateway releases the gateway's Elastic IP association, as on AWS (idempotent).

    moto marks the gateway deleted but leaves its EIP associated, so re-creating the zone's
    NAT gateway with the same EIP (a zone-loss drill's repair) failed AlreadyAssociated.
    """
    from moto.ec2.models.nat_gateways import NatGatewayBackend

    if getattr(NatGatewayBackend, "_kubeprod_patched", False):
        return
    original = NatGatewayBackend.delete_nat_gateway

    def delete_nat_gateway(self: Any, nat_gateway_id: str) -> Any:
        gateway = original(self, nat_gateway_id)
        for address in gateway.address_set:
            allocation = address.get("allocationId")
            for eip in self.address_by_allocation([allocation]) if allocation else []:
                if eip.eni is not None and eip.eni is getattr(gateway, "_eni", None):
                    self.disassociate_address(address=eip.public_ip)
        return gateway

    NatGatewayBackend.delete_nat_gateway = delete_nat_gateway  # type: ignore[method-assign]
    NatGatewayBackend._kubeprod_patched = True  # type: ignore[attr-defined]


LOSE_REGION_PATH = "/moto-api/kubeprod/lose-region"


def lose_region(region: str) -> dict[str, Any]:
    """Drop every service's data of one region, as if the region were gone (DR drills).

    Regional backends are removed (the next request finds the region empty); S3 is one
    global backend in moto, so the region's buckets are removed from it. Global services
    (IAM) keep their data, as they do when an AWS region is lost.
    """
    from moto.core.base_backend import BackendDict
    from moto.s3.models import s3_backends

    dropped = 0
    for backend_dict in list(getattr(BackendDict, "_instances")):  # noqa: B009
        for account_backend in backend_dict.values():
            # not `region in account_backend`: its __contains__ also answers for regions
            # never used; only data that exists is dropped
            if region in account_backend.keys():  # noqa: SIM118
                del account_backend[region]
                dropped += 1
    buckets = []
    for account_backend in s3_backends.values():
        for backend in account_backend.values():
            for name, bucket in list(backend.buckets.items()):
                if bucket.region_name == region:
                    del backend.buckets[name]
                    # moto looks unknown names up across accounts: forget it there too
                    s3_backends.bucket_accounts.pop(name, None)
                    buckets.append(name)
    return {"region": region, "regional_backends": dropped, "buckets": buckets}


def patch_lose_region() -> None:
    """Serve POST /moto-api/kubeprod/lose-region?region=R (local cloud only)."""
    import json
    from urllib.parse import parse_qs, urlparse

    from moto.moto_api._internal import urls as api_urls

    def handler(request: Any, full_url: str, headers: Any) -> tuple[int, dict[str, str], str]:
        if request.method != "POST":
            return 400, {}, json.dumps({"error": "POST to lose a region"})
        region = parse_qs(urlparse(full_url).query).get("region", [""])[0]
        if not region:
            return 400, {}, json.dumps({"error": "name the region: ?region=eu-west-1"})
        return 200, {}, json.dumps(lose_region(region))

    api_urls.url_paths["{0}" + LOSE_REGION_PATH] = handler


def main(argv: list[str] | None = None) -> None:
    patch()
    patch_ebs_default_key()
    patch_eks_ami_parameters()
    patch_lose_region()
    patch_nat_gateway_delete()
    from moto.server import main as moto_main

    moto_main(argv if argv is not None else sys.argv[1:])


if __name__ == "__main__":
    main()
