"""Azure and GCP: `terraform init -backend=false` fails only on the provider download.

This machine has no azurerm or google provider, so init cannot succeed; what it must
not do is find anything else wrong with the configuration (syntax, blocks, versions).
A deliberately broken file proves the check sees configuration errors.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
from conftest import requires_terraform

from kubeprod.render import render_to

pytestmark = requires_terraform
PROVIDER_ERRORS = {
    "Failed to query available provider packages",
    "Failed to install provider",
    "Incompatible provider version",
}


def init_errors(directory: Path, mirror: Path) -> set[str]:
    rc = directory.parent / "terraformrc"
    rc.write_text(
        f'provider_installation {{\n  filesystem_mirror {{\n    path = "{mirror}"\n  }}\n}}\n'
    )
    proc = subprocess.run(
        ["terraform", "init", "-backend=false", "-no-color", "-input=false"],
        cwd=directory,
        capture_output=True,
        text=True,
        env={**os.environ, "TF_CLI_CONFIG_FILE": str(rc)},
    )
    assert proc.returncode != 0
    summaries = set(re.findall(r"^Error: (.+)$", proc.stderr, re.M))
    return {s for s in summaries if not s.startswith("Terraform encountered problems")}


@pytest.mark.parametrize("cloud", ["azure", "gcp"])
def test_init_fails_only_on_the_missing_provider(tmp_path, example_env, cloud):
    module = tmp_path / cloud
    render_to(example_env, cloud, "examples/production.yaml", module)
    mirror = tmp_path / "empty-mirror"
    mirror.mkdir()
    errors = init_errors(module, mirror)
    assert errors and errors <= PROVIDER_ERRORS, errors

    (module / "broken.tf").write_text('resource "x" {\n')
    assert init_errors(module, mirror) - PROVIDER_ERRORS
