"""One renderer per cloud: Environment -> Terraform files. See `base.py` for the protocol."""

from __future__ import annotations

from kubeprod.clouds.base import CloudRenderer
from kubeprod.errors import InputError


def renderer_for(cloud: str) -> CloudRenderer:
    """The renderer of `cloud`, imported only when asked for: a render of one cloud does
    not pay the start-up of the other two (lazy on purpose, for start-up time)."""
    if cloud == "aws":
        from kubeprod.clouds.aws import AwsRenderer

        return AwsRenderer()
    if cloud == "azure":
        from kubeprod.clouds.azure import AzureRenderer

        return AzureRenderer()
    if cloud == "gcp":
        from kubeprod.clouds.gcp import GcpRenderer

        return GcpRenderer()
    raise InputError(f"unknown cloud '{cloud}'. Fix: use one of aws, azure, gcp")
