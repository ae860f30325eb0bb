"""The renderer protocol every cloud implements.

A renderer is stateless: `render(env)` returns the module as file name -> blocks.
Where the module meets a requirement is not declared here but tagged on what it
emits (`kubeprod.clouds.tags.tag`), and what a cloud does not cover is declared in
`kubeprod.facts.<cloud>.NOT_COVERED`; coverage is computed from the render
(`kubeprod.explain`), and a test fails when a requirement is neither tagged nor
declared not covered.
"""

from __future__ import annotations

from typing import ClassVar, Protocol

from kubeprod.spec.model import CloudName, Environment
from kubeprod.terraform.hcl import Block, Comment

Files = dict[str, list[Block | Comment]]


class CloudRenderer(Protocol):
    name: ClassVar[CloudName]

    def render(self, env: Environment) -> Files:
        """The root module for `env`, as file name -> blocks, files grouped by concern."""
        ...
