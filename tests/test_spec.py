"""The example spec loads, `init` writes it, it holds the brief's values, the schema fits."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft202012Validator

from kubeprod.cli import main
from kubeprod.spec import load_spec
from kubeprod.spec.model import Environment

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "production.yaml"
PACKAGED = ROOT / "src" / "kubeprod" / "data" / "production.yaml"


@pytest.fixture(scope="module")
def env() -> Environment:
    return load_spec(EXAMPLE)


def test_example_loads_and_validates(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(EXAMPLE)]) == 0
    assert "valid production environment 'production' (aws, azure, gcp)" in capsys.readouterr().out


def test_packaged_example_is_the_repo_example() -> None:
    assert PACKAGED.read_bytes() == EXAMPLE.read_bytes()


def test_init_writes_the_example(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "environments" / "production.yaml"
    assert main(["init", str(target)]) == 0
    assert target.read_bytes() == EXAMPLE.read_bytes()
    assert load_spec(target).name == "production"


def test_init_refuses_to_overwrite_without_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "production.yaml"
    target.write_text("mine: true\n", encoding="utf-8")
    assert main(["init", str(target)]) == 2
    err = capsys.readouterr().err
    assert "already exists" in err and "--force" in err
    assert "Traceback" not in err
    assert target.read_text(encoding="utf-8") == "mine: true\n"

    assert main(["init", str(target), "--force"]) == 0
    assert target.read_bytes() == EXAMPLE.read_bytes()


def test_network_defaults_are_the_brief(env: Environment) -> None:
    net = env.network
    assert net.vpc_cidr == "10.1.0.0/16"
    assert net.public_subnets == ["10.1.1.0/24", "10.1.2.0/24", "10.1.3.0/24"]
    assert net.private_subnets == ["10.1.10.0/24", "10.1.11.0/24", "10.1.12.0/24"]
    assert net.nat_gateway_per_az is True
    for cloud in ("aws", "azure", "gcp"):
        zones = env.cloud_zones(cloud)
        assert len(zones) == 3 and len(set(zones)) == 3, cloud


def test_node_group_defaults_are_the_brief(env: Environment) -> None:
    system, workload = env.node_groups.system, env.node_groups.workload
    assert system.min_size == 3
    assert system.instance_types.aws == "m5.large"
    assert system.instance_types.azure == "Standard_D4s_v3"
    assert system.instance_types.gcp == "e2-standard-4"
    assert (workload.min_size, workload.max_size) == (3, 20)
    assert system.capacity_type == workload.capacity_type == "on-demand"


def test_security_defaults_are_the_brief(env: Environment) -> None:
    api = env.api_endpoint
    assert api.private is True
    assert api.public is True
    assert api.public_allowed_cidrs, "the public endpoint must be restricted"
    assert "0.0.0.0/0" not in api.public_allowed_cidrs
    assert env.encryption.secrets and env.encryption.volumes and env.encryption.key_rotation
    assert set(env.logging.control_plane) == {
        "api",
        "audit",
        "authenticator",
        "controllerManager",
        "scheduler",
    }
    assert env.backup.enabled


def test_model_defaults_match_the_brief_too() -> None:
    """A spec that leaves `network` out still gets the brief's addresses."""
    from kubeprod.spec.model import Network

    net = Network()
    assert net.vpc_cidr == "10.1.0.0/16"
    assert net.public_subnets == ["10.1.1.0/24", "10.1.2.0/24", "10.1.3.0/24"]
    assert net.private_subnets == ["10.1.10.0/24", "10.1.11.0/24", "10.1.12.0/24"]
    assert net.nat_gateway_per_az is True


@pytest.fixture(scope="module")
def schema() -> dict[str, object]:
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["schema"]) == 0
    return json.loads(out.getvalue())


def test_schema_is_valid_json_schema(schema: dict[str, object]) -> None:
    Draft202012Validator.check_schema(schema)


def test_example_validates_against_schema(schema: dict[str, object]) -> None:
    data = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    errors = list(Draft202012Validator(schema).iter_errors(data))
    assert errors == []


def test_schema_rejects_a_typo(schema: dict[str, object]) -> None:
    """The schema is strict (editors flag unknown keys), so the check above can fail."""
    data = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    data["netwrok"] = data.pop("network")
    assert list(Draft202012Validator(schema).iter_errors(data))
