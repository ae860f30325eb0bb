"""moto's server, plus the one EKS call it lacks that terraform needs for changes.

After UpdateNodegroupConfig the AWS provider polls DescribeUpdate until the update
is Successful; moto returns the update (already Successful) but does not serve
DescribeUpdate, so every in-place node group change failed on the local cloud.
This module records the updates moto hands out and serves them back, then runs
`moto.server` unchanged. Started by `kubeprod.local.server.start`.
"""

from __future__ import annotations

import sys
from typing import Any

_UPDATES: dict[str, dict[str, Any]] = {}


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


def main(argv: list[str] | None = None) -> None:
    patch()
    from moto.server import main as moto_main

    moto_main(argv if argv is not None else sys.argv[1:])


if __name__ == "__main__":
    main()
