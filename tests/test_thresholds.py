"""One source of thresholds: what `validate` accepts, `render` renders and the gate passes."""

from __future__ import annotations

import shutil

import pytest
from conftest import EXAMPLE

from kubeprod import thresholds
from kubeprod.cli import main
from kubeprod.policy.rules import Options


def _spec(tmp_path, *edits: tuple[str, str]):
    text = EXAMPLE.read_text()
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new, 1)
    path = tmp_path / "production.yaml"
    path.write_text(text)
    return path


def test_gate_defaults_are_the_brief_thresholds():
    options = Options()
    assert options.max_public_prefix == thresholds.MAX_PUBLIC_PREFIX == 24
    assert options.scale_down_min_minutes == thresholds.SCALE_DOWN_MIN_MINUTES
    assert options.workload_max_nodes == thresholds.WORKLOAD_MAX_NODES == 20


def test_options_from_spec_take_the_spec_values(example_env):
    options = Options.from_spec(example_env, strict=True, min_zones=None)
    assert options.kubernetes_version == example_env.kubernetes.version
    assert options.max_public_prefix == example_env.api_endpoint.max_public_prefix
    assert options.log_retention_days == example_env.logging.retention_days
    assert options.strict is True and options.min_zones == thresholds.MIN_ZONES


@pytest.mark.parametrize("cloud", ["aws", "gcp"])
def test_spec_thresholds_reach_the_render_gate(tmp_path, monkeypatch, cloud):
    """A wider allow-list the spec permits (max_public_prefix 20) and a version in standard
    support other than kubeprod's default N-1 pass validate, so render must pass too."""
    spec = _spec(
        tmp_path,
        ("public_allowed_cidrs: [203.0.113.0/24]", "public_allowed_cidrs: [203.0.112.0/22]"),
        ("max_public_prefix: 24", "max_public_prefix: 20"),
        ('version: "1.35"', 'version: "1.34"'),
    )
    monkeypatch.chdir(tmp_path)
    assert main(["validate", str(spec)]) == 0
    assert main(["render", str(spec), "--cloud", cloud]) == 0
    # Without the spec's thresholds the same directory fails the gate's defaults.
    out = tmp_path / "infra" / "production" / cloud
    assert main(["check", str(out)]) == 1
    assert main(["check", str(out), "--spec", str(spec)]) == 0
    assert main(["check", str(out), "--spec", str(spec), "--max-public-prefix", "24"]) == 1


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        ("scale_down_delay_after_add: 30m", "scale_down_delay_after_add: 5m", "delay_after_add"),
        (
            "scale_down_utilization_threshold: 0.4",
            "scale_down_utilization_threshold: 0.7",
            "utilization_threshold",
        ),
    ],
)
def test_chr6_scale_down_below_the_gate_floor_is_refused_by_validate(
    tmp_path, capsys, old, new, field
):
    spec = _spec(tmp_path, (old, new))
    assert main(["validate", str(spec)]) == 2
    err = capsys.readouterr().err
    assert f"autoscaler.scale_down_{field}" in err and "[CHR-6]" in err
    assert "Traceback" not in err


def test_check_spec_that_does_not_exist_is_exit_2(tmp_path, capsys):
    target = tmp_path / "m"
    shutil.copytree(EXAMPLE.parent, target)
    assert main(["check", str(target), "--spec", str(tmp_path / "nope.yaml")]) == 2
    assert "no such spec file" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("command", "cloud"), [("render", "aws"), ("render", "azure"), ("bootstrap", "gcp")]
)
def test_missing_cloud_section_is_an_input_error_not_an_assert(
    tmp_path, monkeypatch, capsys, command, cloud
):
    import yaml

    data = yaml.safe_load(EXAMPLE.read_text())
    del data["clouds"][cloud]
    for section in data.values():  # per-cloud settings elsewhere (dr.recovery_region.<cloud>)
        if isinstance(section, dict):
            for value in section.values():
                if isinstance(value, dict):
                    value.pop(cloud, None)
    spec = tmp_path / "one-less.yaml"
    spec.write_text(yaml.safe_dump(data))
    monkeypatch.chdir(tmp_path)
    assert main([command, str(spec), "--cloud", cloud]) == 2
    err = capsys.readouterr().err
    assert f"no clouds.{cloud} section" in err and "Fix:" in err and "Traceback" not in err


def test_net6_aks_address_plan_is_a_profile_rule_with_file_and_line(tmp_path, capsys):
    """validate (not only render) refuses an AKS pod range too small for the node groups."""
    import yaml

    data = yaml.safe_load(EXAMPLE.read_text())
    data["network"]["pod_cidr"] = "100.64.0.0/20"
    spec = tmp_path / "small-pods.yaml"
    spec.write_text(yaml.safe_dump(data, sort_keys=False))
    assert main(["validate", str(spec)]) == 2
    err = capsys.readouterr().err
    line = next(n for n, text in enumerate(spec.read_text().splitlines(), 1) if "pod_cidr:" in text)
    assert f"{spec}:{line}: network.pod_cidr: [NET-6] CNI Overlay gives each node a /24" in err
