"""The renderer protocol every cloud implements.

A renderer is stateless: `render(env)` returns the module as file name -> blocks.
Where the module meets a requirement is not declared here but tagged on what it
emits (`kubeprod.clouds.tags.tag`), and what a cloud does not cover is declared in
`kubeprod.facts.<cloud>.NOT_COVERED`; coverage is computed from the render
(`kubeprod.explain`), and a test fails when a requirement is neither tagged nor
declared not covered.
"""

from __future__ import annotations

from typing import ClassVar, Literal, Protocol, overload

from kubeprod.errors import InputError
from kubeprod.hcl import Block, Comment
from kubeprod.hcl.shorthand import B
from kubeprod.spec.model import AwsCloud, AzureCloud, Environment, GcpCloud

Files = dict[str, list[Block | Comment]]

# What each cloud's section needs at least, for the error that names it.
_SECTION_EXAMPLE = {
    "aws": "clouds: {aws: {region: eu-west-1, zones: [eu-west-1a, eu-west-1b, eu-west-1c]}}",
    "azure": 'clouds: {azure: {location: westeurope, zones: ["1", "2", "3"]}}',
    "gcp": "clouds: {gcp: {project: my-project, region: europe-west1, zones: [...]}}",
}


@overload
def section(env: Environment, cloud: Literal["aws"]) -> AwsCloud: ...
@overload
def section(env: Environment, cloud: Literal["azure"]) -> AzureCloud: ...
@overload
def section(env: Environment, cloud: Literal["gcp"]) -> GcpCloud: ...
@overload
def section(env: Environment, cloud: str) -> AwsCloud | AzureCloud | GcpCloud: ...
def section(env: Environment, cloud: str) -> AwsCloud | AzureCloud | GcpCloud:
    """The spec's `clouds.<cloud>` section; a clear input error (exit 2) when it is missing."""
    found: AwsCloud | AzureCloud | GcpCloud | None = getattr(env.clouds, cloud, None)
    if found is None:
        raise InputError(
            f"environment '{env.name}' has no clouds.{cloud} section. Fix: add it to the spec, "
            f"e.g. `{_SECTION_EXAMPLE.get(cloud, 'clouds: {' + cloud + ': {...}}')}`"
        )
    return found


class CloudRenderer(Protocol):
    name: ClassVar[str]

    def render(self, env: Environment) -> Files:
        """The root module for `env`, as file name -> blocks, files grouped by concern."""
        ...


def environment_tags(env: Environment) -> dict[str, str]:
    """The tags (labels on GCP) every resource carries: the spec's, plus the environment."""
    return {**env.tags, "kubeprod-environment": env.name}


def terraform_block(
    required_version: str,
    providers: dict[str, tuple[str, str]],
    backend: Block | None = None,
) -> Block:
    """The `terraform {}` block: Terraform's version, each provider's (source, version), and
    the state backend, if the module has one."""
    return B(
        "terraform",
        required_version=required_version,
        required_providers=B(
            "required_providers",
            **{
                name: {"source": source, "version": version}
                for name, (source, version) in providers.items()
            },
        ),
        backend=backend,
    )
