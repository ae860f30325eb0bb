"""The requirement catalogue and the per-cloud facts: one list of IDs, each fact once."""

from __future__ import annotations

import re
import typing

import pytest
from conftest import ROOT

from kubeprod.facts import CLOUDS, EVERY_CLOUD, not_covered
from kubeprod.requirements import (
    BRIEF,
    MODULE_REQUIREMENTS,
    PROCESS,
    SAME_AS,
    Family,
    Req,
    requirement_of,
)

MAP = ROOT.parent / "shared" / "design" / "requirements-map.md"


def _map_rows() -> dict[str, str]:
    rows = {}
    for line in MAP.read_text().splitlines():
        match = re.match(r"^\| ((?:CHR|NET|K8S|SEC|DR|CHG)-\d+) \| ([^|]+) \|", line)
        if match:
            rows[match.group(1)] = match.group(2).strip()
    return rows


@pytest.mark.skipif(not MAP.exists(), reason="shared/design is not beside this checkout")
def test_catalogue_has_every_id_of_the_requirements_map_and_its_brief_line():
    rows = _map_rows()
    assert [r.value for r in Req] == list(rows)
    for req in Req:
        assert req.brief == rows[req].replace("–", "-"), req


def test_every_requirement_has_a_brief_line_and_a_family():
    assert set(BRIEF) == set(Req)
    assert {r.family for r in Req} == set(Family)
    assert Req.SEC_8.family is Family.SEC and Req("SEC-8") is Req.SEC_8 == "SEC-8"
    assert f"{Req.K8S_7}" == "K8S-7"


def test_restated_lines_point_at_module_requirements():
    assert SAME_AS[Req.NET_4] is Req.CHR_5
    assert all(r.in_module and target.in_module for r, target in SAME_AS.items())


def test_change_requirements_are_met_by_commands_not_modules():
    chg = [r for r in Req if r.family is Family.CHG]
    assert chg and all(not r.in_module for r in chg)
    assert all(r in PROCESS and "kubeprod " in PROCESS[r] for r in chg)
    assert Req.CHR_8 not in MODULE_REQUIREMENTS and Req.DR_1 in MODULE_REQUIREMENTS


def test_parse_is_case_insensitive_and_names_the_valid_ids():
    assert Req.parse(" sec-8 ") is Req.SEC_8
    with pytest.raises(ValueError, match=r"'SEC-9' is not a requirement ID\. Valid IDs: CHR-1, "):
        Req.parse("SEC-9")


@pytest.mark.parametrize(
    ("rule_id", "req"),
    [("SEC-3", Req.SEC_3), ("SEC-3-AKS-EPHEMERAL", Req.SEC_3), ("SEC-9", None), ("X", None)],
)
def test_requirement_of_a_rule_id(rule_id, req):
    assert requirement_of(rule_id) is req


def test_every_gate_rule_names_a_requirement_of_the_catalogue():
    from kubeprod.policy.rules import REGISTRY

    orphans = [rule_id for rule_id in REGISTRY if requirement_of(rule_id) is None]
    assert not orphans, f"gate rules whose ID is no requirement of the catalogue: {orphans}"


def test_profile_requirement_ids_are_in_the_catalogue(example_env):
    """A profile rule that cites a requirement-shaped ID cites one that exists."""
    import inspect

    from kubeprod.spec import profile

    cited = set(re.findall(r'"((?:CHR|NET|K8S|SEC|DR|CHG)-\d+)"', inspect.getsource(profile)))
    assert cited and cited <= {r.value for r in Req}


@pytest.mark.parametrize("cloud", CLOUDS)
def test_not_covered_maps_are_typed_and_give_reasons(cloud):
    gaps = not_covered(cloud)
    assert EVERY_CLOUD.items() <= gaps.items()
    for req, reason in gaps.items():
        assert isinstance(req, Req) and req.in_module, req
        assert len(reason) > 20, f"{cloud} {req}: say why"


def test_facts_are_written_once_and_used_by_spec_renderer_and_rules():
    from kubeprod.clouds import azure_monitoring, azure_security, gcp_gke
    from kubeprod.facts import aws as aws_facts
    from kubeprod.facts import azure as azure_facts
    from kubeprod.facts import gcp as gcp_facts
    from kubeprod.policy.rules import kubernetes, security
    from kubeprod.spec.model import Logging

    literal = typing.get_args(typing.get_args(Logging.model_fields["control_plane"].annotation)[0])
    assert literal == aws_facts.EKS_LOG_TYPES
    assert tuple(Logging().control_plane) == aws_facts.EKS_LOG_TYPES
    assert kubernetes.EKS_LOG_TYPES is aws_facts.EKS_LOG_TYPES
    assert azure_monitoring.DIAGNOSTIC_CATEGORIES is kubernetes.AKS_LOG_CATEGORIES
    assert azure_security.PSS_RESTRICTED_INITIATIVE.endswith(security.PSS_INITIATIVE)
    assert azure_security.PSS_RESTRICTED_INITIATIVE is azure_facts.PSS_RESTRICTED_INITIATIVE
    assert gcp_gke.LOGGING_COMPONENTS is kubernetes.GKE_LOGGING_COMPONENTS
    assert gcp_gke.MONITORING_COMPONENTS is gcp_facts.GKE_MONITORING_COMPONENTS


def test_policy_gate_still_starts_without_pydantic():
    import subprocess
    import sys

    code = (
        "import sys; import kubeprod.policy.engine, kubeprod.facts.azure; "
        "print('pydantic' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
