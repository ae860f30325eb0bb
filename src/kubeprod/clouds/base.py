"""The renderer protocol every cloud implements.

A renderer is stateless: `render(env)` returns the module as file name -> blocks,
and `COVERAGE` declares, for every requirement ID of
shared/design/requirements-map.md (except DR-* and CHG-*, which live outside the
module), where the module meets it or why it does not apply on that cloud.
A test fails when an ID is unmapped.
"""

from __future__ import annotations

from typing import ClassVar, Protocol

from kubeprod.spec.model import CloudName, Environment
from kubeprod.terraform.hcl import Block, Comment

Files = dict[str, list[Block | Comment]]

# Requirement IDs a rendered module must account for (the non DR-*, non CHG-* rows).
MODULE_REQUIREMENTS: tuple[str, ...] = (
    *(f"CHR-{i}" for i in range(1, 8)),
    *(f"NET-{i}" for i in range(1, 7)),
    *(f"K8S-{i}" for i in range(1, 8)),
    *(f"SEC-{i}" for i in range(1, 9)),
)


class CloudRenderer(Protocol):
    name: ClassVar[CloudName]
    # requirement ID -> "file.tf: resource/attribute that meets it" or "n/a: why"
    COVERAGE: ClassVar[dict[str, str]]

    def render(self, env: Environment) -> Files:
        """The root module for `env`, as file name -> blocks, files grouped by concern."""
        ...
