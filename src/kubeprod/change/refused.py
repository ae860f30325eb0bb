"""The change process's refusal: a rule of CHG-1..5 does not hold, nothing was touched."""

from __future__ import annotations

from kubeprod.errors import KubeprodError


class GateRefused(KubeprodError):
    """The change may not be applied now; nothing was touched (exit 4)."""

    exit_code = 4
