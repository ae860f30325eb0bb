"""`kubeprod explain`: evidence per requirement and cloud, computed from the render."""

from __future__ import annotations

import json
import re

import pytest
from conftest import EXAMPLE, ROOT

from kubeprod.cli import main
from kubeprod.clouds.tags import tag
from kubeprod.explain import (
    MET,
    NOT_COVERED,
    PROCESS_MET,
    README,
    SAME,
    explain,
    readme_section,
    readme_table,
    rendered_texts,
    requirement_tests,
    scan_tags,
)
from kubeprod.facts import not_covered
from kubeprod.requirements import MODULE_REQUIREMENTS, Req

GOLDEN = ROOT / "tests" / "golden"


@pytest.fixture(scope="module")
def answers(example_env):
    return {a.req: a for a in explain(example_env, "examples/production.yaml", list(Req))}


def test_readme_feature_table_is_generated_and_current():
    section = readme_section(README.read_text(encoding="utf-8"))
    assert section is not None, "README.md lost its feature-table markers"
    assert section == readme_table(), (
        "README feature table is stale: run `.venv/bin/python scripts/refresh_golden.py`"
    )


def test_every_requirement_is_answered_on_every_cloud(answers):
    assert set(answers) == set(Req)
    for req, answer in answers.items():
        assert set(answer.clouds) == {"aws", "azure", "gcp"}
        for cloud, a in answer.clouds.items():
            assert a.evidence or a.reason, f"{req} on {cloud}: neither evidence nor reason"


def test_evidence_file_and_line_point_at_the_annotated_construct(answers):
    """Every file:line names the line it quotes, in the render the goldens hold."""
    checked = 0
    for answer in answers.values():
        for a in answer.clouds.values():
            for e in a.evidence:
                module_file = e.file.split("/", 2)[2]  # infra/production/<module>/<file>
                lines = (GOLDEN / module_file).read_text().splitlines()
                assert lines[e.line - 1].strip() == e.code, e
                checked += 1
    assert checked > 50


def test_restated_and_process_requirements(answers):
    assert answers[Req.CHG_3].clouds["aws"].status == PROCESS_MET
    assert "kubeprod windows" in answers[Req.CHG_3].clouds["gcp"].reason
    gcp_k8s6 = answers[Req.K8S_6].clouds["gcp"]
    assert gcp_k8s6.status in (MET, SAME) and gcp_k8s6.evidence


def test_not_covered_gives_the_declared_reason(answers):
    dr3 = answers[Req.DR_3].clouds["azure"]
    assert dr3.status == NOT_COVERED and "drill" in dr3.reason


def test_gate_verdict_and_checks_are_named(answers):
    sec8 = answers[Req.SEC_8]
    assert sec8.clouds["azure"].gate == "pass"
    assert [c.name for c in sec8.gate_rules] == ["SEC-8"]
    assert sec8.gate_rules[0].where.startswith("src/kubeprod/policy/rules/security.py:")
    assert any(c.name == "profile.encryption_on" for c in sec8.profile_rules)
    names = [t.name for t in sec8.tests]
    assert "tests/test_azure.py::test_sec8_kms_with_user_assigned_identity" in names
    assert "tests/test_policy_static.py::test_mutation_fails_its_rule[SEC-8]" in names


def test_scan_tags_top_level_and_nested():
    text = (
        "# K8S-7 / SEC-7: every log type,\n"
        "# into one group.\n"
        "\n"
        'resource "a" "one" {\n'
        "  # SEC-8: secrets.\n"
        "  encryption {\n"
        "  }\n"
        "}\n"
        "\n"
        'resource "a" "two" {\n'
        "}\n"
        "\n"
        "# Not a tag: SEC-3 mentioned later.\n"
        'resource "b" "three" {\n'
        "}\n"
    )
    found = scan_tags({"m/x.tf": text})
    assert [(e.line, e.code) for e in found[Req.K8S_7]] == [
        (4, 'resource "a" "one" {'),
        (10, 'resource "a" "two" {'),
    ]
    assert found[Req.SEC_7][0].note == "every log type, into one group."
    assert [(e.line, e.code) for e in found[Req.SEC_8]] == [(6, "encryption {")]
    assert Req.SEC_3 not in found


def test_tests_parametrized_over_id_tables_are_found(tmp_path):
    (tmp_path / "test_x.py").write_text(
        "import pytest\n"
        'CASES = {"NET-1": 1, "NET-2": 2}\n'
        "def _cases():\n"
        "    return list(CASES)\n"
        '@pytest.mark.parametrize("rule_id", _cases())\n'
        "def test_mutation(rule_id):\n"
        "    pass\n"
        "def test_chr4_never_spot():\n"
        "    pass\n"
    )
    found = requirement_tests(tmp_path)
    assert [c.name for c in found[Req.NET_2]] == ["test_x.py::test_mutation[NET-2]"]
    assert [c.name for c in found[Req.CHR_4]] == ["test_x.py::test_chr4_never_spot"]


def test_cli_explain_one_id_with_cloud(capsys):
    assert main(["explain", "sec-8", "--cloud", "azure", str(EXAMPLE)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("SEC-8  Secrets encrypted with KMS / Key Vault")
    assert "infra/production/azure/aks.tf:" in out and "gcp:" not in out
    assert "gate rules:\n  SEC-8" in out


def test_cli_explain_all_json_and_markdown(tmp_path, capsys):
    assert main(["explain", "--all", str(EXAMPLE), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [d["id"] for d in data] == [r.value for r in Req]
    out = tmp_path / "evidence.md"
    assert main(["explain", "--all", str(EXAMPLE), "--out", str(out)]) == 0
    text = out.read_text()
    assert "| ID | brief line | AWS (EKS) | Azure (AKS) | GCP (GKE) |" in text
    assert "\n## CHG-5: Change notifications to team\n" in text


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["explain", "SEC-9", str(EXAMPLE)], "'SEC-9' is not a requirement ID. Valid IDs: CHR-1"),
        (["explain", str(EXAMPLE)], "explain takes a requirement ID and a spec"),
        (["explain", "--all", "SEC-8", str(EXAMPLE)], "explain --all takes one argument"),
        (["explain", "SEC-8", "missing.yaml"], "missing.yaml: no such spec file"),
    ],
)
def test_cli_explain_bad_input_is_exit_2_without_traceback(capsys, argv, message):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


@pytest.mark.parametrize("cloud", ["aws", "azure", "gcp"])
def test_coverage_is_computed_from_the_render_without_gaps_or_stale_reasons(example_env, cloud):
    """Every module requirement is tagged in the render or declared not covered, not both."""
    texts, _ = rendered_texts(example_env, "examples/production.yaml", cloud)
    tags = scan_tags(texts)
    gaps = [
        req
        for req in MODULE_REQUIREMENTS
        if req not in tags
        and req not in not_covered(cloud)
        and (req.same_as is None or req.same_as not in tags)
    ]
    assert not gaps, (
        f"{cloud}: {gaps} neither tagged in the render (kubeprod.clouds.tags.tag) nor "
        f"declared in kubeprod.facts.{cloud}.NOT_COVERED"
    )
    stale = [req for req in not_covered(cloud) if req in tags]
    assert not stale, f"{cloud}: {stale} are tagged in the render yet declared not covered"


def test_every_tag_in_the_goldens_names_a_catalogue_requirement():
    shaped = re.compile(r"^ *# ([A-Z0-9]+-\d+(?:\s*/\s*[A-Z0-9]+-\d+)*)(?::|$)")
    bad = []
    for path in sorted(GOLDEN.rglob("*.tf")):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            match = shaped.match(line)
            if match:
                for part in re.split(r"\s*/\s*", match.group(1)):
                    if part not in {r.value for r in Req}:
                        bad.append(f"{path.relative_to(GOLDEN)}:{number}: {part}")
    assert not bad, bad


def test_tag_writes_the_ids_and_takes_only_requirements():
    assert tag(Req.SEC_8, Req.SEC_3, note="keys.").text == "SEC-8 / SEC-3: keys."
    assert tag(Req.NET_1).text == "NET-1"
    with pytest.raises(TypeError):
        tag("SEC-8")  # type: ignore[arg-type]
