"""`kubeprod bootstrap` for clouds without a provider here renders the state-backend module."""

from __future__ import annotations

import pytest
from conftest import EXAMPLE, parse_dir, resources

from kubeprod.cli import main


@pytest.mark.parametrize(
    ("cloud", "type_"),
    [("azure", "azurerm_storage_account"), ("gcp", "google_storage_bucket")],
)
def test_dr2_bootstrap_renders_the_state_backend_module(tmp_path, monkeypatch, cloud, type_):
    monkeypatch.chdir(tmp_path)
    assert main(["bootstrap", str(EXAMPLE), "--cloud", cloud]) == 0
    out = tmp_path / "infra" / "production" / f"{cloud}-bootstrap"
    assert resources(parse_dir(out), type_), f"no {type_} in {out}"


def test_plan_on_a_cloud_without_local_target_is_a_clear_error(capsys):
    assert main(["plan", str(EXAMPLE), "--cloud", "azure"]) == 2
    err = capsys.readouterr().err
    assert "AWS only" in err and "kubeprod render" in err and "Traceback" not in err
