"""Bad `cluster:` input ends in one located problem (file:line, field, rule, fix), exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import EXAMPLE

from kubeprod.cli import main

TEXT = EXAMPLE.read_text()
BLOCK = next(line + "\n" for line in TEXT.splitlines() if line.startswith("      allows: []"))
SYSTEM = next(line + "\n" for line in TEXT.splitlines() if line.startswith("  system_namespaces:"))


def spec_with(tmp_path, replacement: str, old: str = BLOCK) -> tuple[str, str]:
    assert TEXT.count(old) == 1
    text = TEXT.replace(old, replacement)
    path = tmp_path / "spec.yaml"
    path.write_text(text)
    return str(path), text


def line_of(text: str, needle: str) -> int:
    hits = [n for n, line in enumerate(text.splitlines(), 1) if needle in line]
    assert len(hits) == 1, hits
    return hits[0]


CASES = {
    "unknown-namespace": (
        "      allows:\n        - {from_namespace: payments, port: 8080}\n",
        "from_namespace: payments",
        "SEC-5",
        "cluster.namespaces[0].allows[0].from_namespace",
        "'payments' is not declared",
    ),
    "port-too-high": (
        "      allows:\n        - {from_namespace: apps, port: 70000}\n",
        "port: 70000",
        "SPEC",
        "cluster.namespaces[0].allows[0].port",
        "outside 1-65535",
    ),
    "port-zero": (
        "      allows:\n        - {from_namespace: apps, port: 0}\n",
        "port: 0",
        "SPEC",
        "cluster.namespaces[0].allows[0].port",
        "outside 1-65535",
    ),
    "not-a-dns-label": (
        "      allows: []\n    - name: Payments_EU\n",
        "name: Payments_EU",
        "SPEC",
        "cluster.namespaces[1].name",
        "not a DNS label",
    ),
    "system-as-workload": (
        "      allows: []\n    - name: kube-system\n",
        "name: kube-system",
        "SEC-6",
        "cluster.namespaces[1].name",
        "system namespace",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_cluster_input(tmp_path, capsys, case):
    replacement, at, rule, field, says = CASES[case]
    path, text = spec_with(tmp_path, replacement)
    assert main(["--output", "json", "validate", path]) == 2
    out = json.loads(capsys.readouterr().out)
    (problem,) = out["problems"]
    assert problem["file"] == path
    assert problem["line"] == line_of(text, at)
    assert problem["field"] == field
    assert problem["rule"].startswith(rule)
    assert says in problem["message"]
    assert problem["fix"]


def test_system_namespace_made_restricted(tmp_path, capsys):
    path, text = spec_with(
        tmp_path,
        "  system_namespaces:\n    kube-system: restricted\n",
        SYSTEM,
    )
    assert main(["validate", path]) == 2
    err = capsys.readouterr().err
    assert f"{path}:{line_of(text, 'kube-system: restricted')}:" in err
    assert "[SEC-6]" in err and "hostNetwork" in err and "Fix:" in err
    assert "Traceback" not in err


def test_declared_allows_and_system_namespaces_are_accepted(tmp_path, capsys):
    path, _ = spec_with(
        tmp_path,
        "  system_namespaces:\n    ingress: baseline\n",
        SYSTEM,
    )
    spec = Path(path)
    allow = "      allows:\n        - {from_namespace: ingress, port: 8080}\n"
    spec.write_text(spec.read_text().replace(BLOCK, allow))
    assert main(["validate", path]) == 0


def test_example_and_init_are_identical():
    from kubeprod.spec.example import example_text

    assert example_text() == TEXT


GITOPS = next(line + "\n" for line in TEXT.splitlines() if line.startswith("    mode: none"))


def test_gitops_needs_a_repository(tmp_path, capsys):
    path, _ = spec_with(tmp_path, "    mode: flux\n", GITOPS)
    assert main(["validate", path]) == 2
    err = capsys.readouterr().err
    assert "cluster.gitops.repository" in err and "needs the Git repository" in err


def test_gitops_mode_needs_its_cloud(tmp_path, capsys):
    path, text = spec_with(
        tmp_path, "    mode: config-sync\n    repository: https://example.com/infra.git\n", GITOPS
    )
    gcp = text[text.index("  gcp:\n") : text.index("\nnetwork:")]
    Path(path).write_text(text.replace(gcp, ""))
    assert main(["validate", path]) == 2
    assert "rendered for gcp only" in capsys.readouterr().err


@pytest.mark.parametrize(
    "mode,cloud,kind",
    [
        ("flux", "aws", "GitRepository"),
        ("argocd", "aws", "Application"),
    ],
)
def test_gitops_objects_are_rendered_beside_the_baseline(tmp_path, mode, cloud, kind):
    import yaml

    from kubeprod.baseline import schema
    from kubeprod.render import render_to
    from kubeprod.spec import load_spec

    path, _ = spec_with(
        tmp_path, f"    mode: {mode}\n    repository: https://example.com/infra.git\n", GITOPS
    )
    sub = "    location: westeurope\n    subscription_id: 11111111-2222-3333-4444-555555555555\n"
    Path(path).write_text(Path(path).read_text().replace("    location: westeurope\n", sub))
    out = tmp_path / "out"
    render_to(load_spec(path), cloud, path, out)
    (gitops,) = (out / "kubernetes").glob("gitops-*.yaml")
    docs = list(yaml.safe_load_all(gitops.read_text()))
    assert kind in {d["kind"] for d in docs}
    assert "https://example.com/infra.git" in gitops.read_text()
    assert "infra/production/" + cloud + "/kubernetes" in gitops.read_text()
    kustomization = yaml.safe_load((out / "kubernetes" / "kustomization.yaml").read_text())
    assert gitops.name not in kustomization["resources"]  # applied once, by hand
    errors, skipped = schema.validate(docs, "1.35")
    assert errors == [] and len(skipped) == len(docs)  # custom resources


def test_aks_flux_extension_and_configuration(tmp_path, capsys):
    from kubeprod.clouds.azure_schema import azurerm_schema
    from kubeprod.render import render_to
    from kubeprod.spec import load_spec
    from kubeprod.terraform.schema_check import SCHEMA_DIR, parse_module, validate_parsed

    flux = "    mode: flux\n    repository: https://example.com/infra.git\n"
    path, text = spec_with(tmp_path, flux, GITOPS)
    assert main(["validate", path]) == 2
    assert "clouds.azure" in capsys.readouterr().err  # the subscription is needed
    sub = "11111111-2222-3333-4444-555555555555"
    Path(path).write_text(
        text.replace(
            "    location: westeurope\n", f"    location: westeurope\n    subscription_id: {sub}\n"
        )
    )
    out = tmp_path / "azure"
    render_to(load_spec(path), "azure", path, out)
    gitops = (out / "gitops.tf").read_text()
    assert 'extension_type = "microsoft.flux"' in gitops
    assert 'path                       = "infra/production/azure/kubernetes"' in gitops
    assert "garbage_collection_enabled = false" in gitops
    storage = (out / "kubernetes" / "storage-class.yaml").read_text()
    assert f"/subscriptions/{sub}/" in storage and "${" not in storage
    parsed, texts = parse_module(out)
    problems = validate_parsed(parsed, azurerm_schema(SCHEMA_DIR / "azurerm.json"), texts=texts)
    assert problems == [], "\n".join(map(str, problems))
