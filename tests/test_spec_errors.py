"""Bad specs end in located problems (file, line, field, rule, fix), exit 2, no traceback.

Each case mutates the example's text, writes it, and runs the CLI. The expected line
is found in the text that was written (the line holding `at`), so a wrong line fails.
"""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from kubeprod.cli import main
from kubeprod.errors import SpecInvalid
from kubeprod.spec import load_spec, versions

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = (ROOT / "examples" / "production.yaml").read_text(encoding="utf-8")
# The console script of the interpreter running the tests (never a hard-coded .venv path).
_SCRIPT = Path(sys.executable).parent / "kubeprod"
KUBEPROD = [str(_SCRIPT)] if _SCRIPT.is_file() else [sys.executable, "-m", "kubeprod"]


def sub(old: str, new: str) -> Callable[[str], str]:
    """Replace text that occurs exactly once in the example (so a drifted example fails loudly)."""

    def mutate(text: str) -> str:
        assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times"
        return text.replace(old, new)

    return mutate


def empty_list(key: str) -> Callable[[str], str]:
    """Replace the block list under `key` (and its comment) with an empty flow list."""

    def mutate(text: str) -> str:
        pattern = re.compile(rf"^(\s*){key}:[^\n]*\n(\1  - [^\n]*\n)+", re.MULTILINE)
        assert len(pattern.findall(text)) == 1, f"no single block list under {key}"
        return pattern.sub(lambda m: f"{m.group(1)}{key}: []\n", text)

    return mutate


def const(text: str) -> Callable[[str], str]:
    return lambda _: text


def line_of(text: str, needle: str) -> int:
    """1-based line of the only line containing `needle`."""
    hits = [n for n, line in enumerate(text.splitlines(), 1) if needle in line]
    assert len(hits) == 1, f"{needle!r} is on lines {hits}"
    return hits[0]


@dataclass(frozen=True)
class Case:
    id: str
    mutate: Callable[[str], str]
    rule: str
    field: str
    at: str  # text found only on the line the problem must name
    says: tuple[str, ...] = ()  # substrings of the message or fix


# Versions from the dated table, so these cases follow it when it moves.
N = versions.newest_common()
TOO_OLD = "1.20"

# NET-6 capacity, worked from AWS's published ENI table, not from kubeprod.spec.capacity:
# m5.large: 3 ENIs x 10 IPv4 addresses; m5.xlarge: 4 x 15. A /24 leaves 256 - 5 in AWS.
# Per zone at max size: system ceil(6/3) = 2 nodes, workload ceil(20/3) = 7 nodes.
NEEDED = math.ceil(6 / 3) * 3 * 10 + math.ceil(20 / 3) * 4 * 15
SHORT = NEEDED - (256 - 5)

CASES = [
    # --- YAML itself ---
    Case(
        "yaml-tab",
        sub("    region: eu-west-1\n", "\tregion: eu-west-1\n"),
        "SPEC-YAML",
        "(document)",
        "\tregion",
        ("tab",),
    ),
    Case(
        "yaml-indent",
        sub("    max_size: 6\n", "      max_size: 6\n"),
        "SPEC-YAML",
        "(document)",
        "      max_size: 6",
    ),
    Case(
        "yaml-unclosed-bracket",
        sub("[eu-west-1a, eu-west-1b, eu-west-1c]", "[eu-west-1a, eu-west-1b, eu-west-1c"),
        "SPEC-YAML",
        "(document)",
        "[eu-west-1a, eu-west-1b, eu-west-1c",
        ("never closed",),
    ),
    Case(
        "yaml-unclosed-quote",
        sub('start: "02:00"', 'start: "02:00'),
        "SPEC-YAML",
        "(document)",
        'start: "02:00',
        ("quote",),
    ),
    Case(
        "yaml-python-tag",
        sub("name: production\n", "name: !!python/object/apply:os.system [id]\n"),
        "SPEC-YAML",
        "(document)",
        "!!python",
        ("tag",),
    ),
    Case(
        "yaml-complex-key",
        sub("  owner: platform-team\n", "  ? [owner, team]\n  : platform-team\n"),
        "SPEC-YAML",
        "(document)",
        "? [owner, team]",
        ("plain name",),
    ),
    Case(
        "yaml-control-character",
        sub("  owner: platform-team\n", "  owner: platform\x07team\n"),
        "SPEC-YAML",
        "(document)",
        "platform\x07team",
        ("#x0007",),
    ),
    Case(
        "yaml-self-alias",
        sub("tags:\n", "tagz: &loop {x: *loop}\ntags:\n"),
        "SPEC-UNKNOWN-KEY",
        "tagz",
        "tagz:",
        ("did you mean 'tags'",),
    ),
    Case(
        "duplicate-key",
        sub("  flow_logs: true\n", "  flow_logs: true\n  vpc_cidr: 10.1.0.0/16   # again\n"),
        "SPEC-DUPLICATE-KEY",
        "network.vpc_cidr",
        "# again",
        ("first on line 23",),
    ),
    Case("not-a-mapping", const("- name: production\n"), "SPEC-YAML", "(document)", "- name"),
    Case("scalar-document", const("production\n"), "SPEC-YAML", "(document)", "production"),
    Case("empty-file", const(""), "SPEC-YAML", "(document)", "", ("nothing",)),
    # --- structure and types ---
    Case(
        "missing-required-nested",
        sub('  version: "1.35"\n', ""),
        "SPEC-REQUIRED",
        "kubernetes.version",
        "kubernetes:",
    ),
    Case(
        "missing-required-section",
        lambda t: t[: t.index("node_groups:")] + t[t.index("autoscaler:") :],
        "SPEC-REQUIRED",
        "node_groups",
        "name: production",
    ),
    Case(
        "unknown-top-level-key",
        sub("network:\n", "netwrok:\n"),
        "SPEC-UNKNOWN-KEY",
        "netwrok",
        "netwrok:",
        ("did you mean 'network'",),
    ),
    Case(
        "unknown-nested-key",
        sub("  flow_logs: true", "  flow_log: true"),
        "SPEC-UNKNOWN-KEY",
        "network.flow_log",
        "flow_log:",
        ("did you mean 'flow_logs'",),
    ),
    Case(
        "unknown-key-in-list-item",
        sub("      timezone: Europe/London", "      timezon: Europe/London"),
        "SPEC-UNKNOWN-KEY",
        "maintenance.windows[0].timezon",
        "timezon:",
        ("did you mean 'timezone'",),
    ),
    Case(
        "yaml11-boolean-key",
        sub("name: production\n", "name: production\non: push\n"),
        "SPEC-UNKNOWN-KEY",
        "on",
        "on: push",
    ),
    Case(
        "string-for-int",
        sub("    max_size: 6\n", "    max_size: six\n"),
        "SPEC-TYPE",
        "node_groups.system.max_size",
        "max_size: six",
        ("integer", "'six'"),
    ),
    Case(
        "list-for-str",
        sub("    region: eu-west-1\n", "    region: [eu-west-1, eu-west-2]\n"),
        "SPEC-TYPE",
        "clouds.aws.region",
        "region: [eu-west-1, eu-west-2]",
        ("a list",),
    ),
    Case(
        "unquoted-version-number",
        sub('version: "1.35"', "version: 1.35"),
        "SPEC-TYPE",
        "kubernetes.version",
        "version: 1.35",
        ('"1.35"',),
    ),
    Case(
        "empty-section",
        sub("# CHR-6: conservative scale-down", "# CHR-6\nscaler_settings:"),
        "SPEC-TYPE",
        "autoscaler",
        "# CHR-6",
        ("remove the key",),
    ),
    Case(
        "invalid-cidr",
        sub("vpc_cidr: 10.1.0.0/16", "vpc_cidr: 10.1.0.0/33"),
        "SPEC-VALUE",
        "network.vpc_cidr",
        "vpc_cidr:",
        ("10.1.0.0/33",),
    ),
    Case(
        "non-strict-cidr",
        sub("[10.1.1.0/24, 10.1.2.0/24,", "[10.1.1.0/24, 10.1.2.5/24,"),
        "SPEC-VALUE",
        "network.public_subnets[1]",
        "10.1.2.5/24",
        ("host bits", "10.1.2.0/24"),
    ),
    Case(
        "bad-duration",
        sub("scale_down_unneeded_time: 30m", "scale_down_unneeded_time: 30 minutes"),
        "SPEC-VALUE",
        "autoscaler.scale_down_unneeded_time",
        "30 minutes",
        ("30m or 4h",),
    ),
    Case(
        "bad-hhmm",
        sub('start: "02:00"', 'start: "25:00"'),
        "SPEC-VALUE",
        "maintenance.windows[0].start",
        "25:00",
        ("HH:MM",),
    ),
    Case(
        "bad-timezone",
        sub("timezone: Europe/London", "timezone: Europe/Londn"),
        "SPEC-VALUE",
        "maintenance.windows[0].timezone",
        "Europe/Londn",
        ("IANA",),
    ),
    Case(
        "bad-version-format",
        sub('version: "1.35"', 'version: "v1.35"'),
        "SPEC-VALUE",
        "kubernetes.version",
        "v1.35",
        ("1.33",),
    ),
    Case(
        "desired-outside-range",
        sub("    max_size: 20\n    desired_size: 3", "    max_size: 20\n    desired_size: 21"),
        "SPEC-VALUE",
        "node_groups.workload.desired_size",
        "desired_size: 21",
        ("3..20",),
    ),
    Case(
        "bad-name",
        sub("name: production\n", "name: Production_1\n"),
        "SPEC-VALUE",
        "name",
        "Production_1",
    ),
    # --- production profile ---
    Case(
        "SEC-1-private-endpoint-off",
        sub("  private: true ", "  private: false"),
        "SEC-1",
        "api_endpoint.private",
        "private: false",
    ),
    Case(
        "SEC-2-empty-allow-list",
        sub("public_allowed_cidrs: [203.0.113.0/24]", "public_allowed_cidrs: []"),
        "SEC-2",
        "api_endpoint.public_allowed_cidrs",
        "public_allowed_cidrs: []",
        ("empty",),
    ),
    Case(
        "SEC-2-whole-internet",
        sub("[203.0.113.0/24]", "[203.0.113.0/24, 0.0.0.0/0]"),
        "SEC-2",
        "api_endpoint.public_allowed_cidrs[1]",
        "0.0.0.0/0]",
        ("whole internet",),
    ),
    Case(
        "SEC-2-too-wide",
        sub("[203.0.113.0/24]", "[198.51.0.0/16]"),
        "SEC-2",
        "api_endpoint.public_allowed_cidrs[0]",
        "198.51.0.0/16",
        ("/24",),
    ),
    Case(
        "SEC-2-configured-prefix",
        sub("max_public_prefix: 24", "max_public_prefix: 28"),
        "SEC-2",
        "api_endpoint.public_allowed_cidrs[0]",
        "public_allowed_cidrs:",
        ("wider than /28",),
    ),
    Case(
        "CHR-4-spot",
        sub("capacity_type: on-demand    # CHR-4", "capacity_type: spot    # CHR-4"),
        "CHR-4",
        "node_groups.system.capacity_type",
        "capacity_type: spot",
    ),
    Case(
        "NET-5-two-zones",
        sub("[eu-west-1a, eu-west-1b, eu-west-1c]", "[eu-west-1a, eu-west-1b]"),
        "NET-5",
        "clouds.aws.zones",
        "[eu-west-1a, eu-west-1b]",
        ("2 distinct",),
    ),
    Case(
        "NET-5-duplicate-zone",
        sub(
            "[europe-west1-b, europe-west1-c, europe-west1-d]",
            "[europe-west1-b, europe-west1-b,\n      europe-west1-d]",
        ),
        "NET-5",
        "clouds.gcp.zones[1]",
        "[europe-west1-b, europe-west1-b,",
        ("listed twice",),
    ),
    Case(
        "NET-2-count",
        sub("[10.1.1.0/24, 10.1.2.0/24, 10.1.3.0/24]", "[10.1.1.0/24, 10.1.2.0/24]"),
        "NET-2",
        "network.public_subnets",
        "public_subnets:",
        ("2 public subnets for 3 zones",),
    ),
    Case(
        "NET-3-count",
        sub("10.1.12.0/24]", "10.1.12.0/24, 10.1.13.0/24]"),
        "NET-3",
        "network.private_subnets",
        "private_subnets:",
        ("4 private subnets for 3 zones",),
    ),
    Case(
        "NET-6-outside-vpc",
        sub("10.1.3.0/24]", "10.2.3.0/24]"),
        "NET-6",
        "network.public_subnets[2]",
        "10.2.3.0/24",
        ("outside the VPC CIDR 10.1.0.0/16",),
    ),
    Case(
        "NET-6-overlap",
        sub("[10.1.10.0/24, 10.1.11.0/24,", "[10.1.10.0/24, 10.1.2.0/25,"),
        "NET-6",
        "network.private_subnets[1]",
        "10.1.2.0/25",
        ("overlaps 10.1.2.0/24",),
    ),
    Case(
        "NET-6-ipv6-subnet-in-ipv4-vpc",
        sub("[10.1.1.0/24,", '["2001:db8::/64",'),
        "NET-6",
        "network.public_subnets[0]",
        "2001:db8::/64",
        ("IPv6",),
    ),
    Case(
        "NET-6-pod-capacity-vpc-cni",
        sub("pod_ip_mode: secondary-cidr", "pod_ip_mode: vpc-cni"),
        "NET-6",
        "network.private_subnets[0]",
        "private_subnets:",
        (f"short by {SHORT}", f"= {NEEDED}", "secondary-cidr"),
    ),
    Case(
        "NET-6-secondary-cidr-without-pod-cidr",
        sub("  pod_cidr: 100.64.0.0/16\n", ""),
        "NET-6",
        "network.pod_cidr",
        "network:",
        ("needs a pod_cidr",),
    ),
    Case(
        "NET-6-pod-cidr-overlaps-vpc",
        sub("pod_cidr: 100.64.0.0/16", "pod_cidr: 10.1.128.0/17"),
        "NET-6",
        "network.pod_cidr",
        "pod_cidr:",
        ("overlaps the VPC CIDR",),
    ),
    Case(
        "NET-4-nat-off",
        sub("nat_gateway_per_az: true", "nat_gateway_per_az: false"),
        "NET-4",
        "network.nat_gateway_per_az",
        "nat_gateway_per_az:",
    ),
    Case(
        "K8S-2-system-min-2",
        sub("    min_size: 3\n    max_size: 6", "    min_size: 2\n    max_size: 6"),
        "K8S-2",
        "node_groups.system.min_size",
        "min_size: 2",
        ("at least 3",),
    ),
    Case(
        "K8S-3-workload-min-2",
        sub("    min_size: 3\n    max_size: 20", "    min_size: 2\n    max_size: 20"),
        "K8S-3",
        "node_groups.workload.min_size",
        "min_size: 2",
    ),
    Case(
        "K8S-3-max-below-min",
        sub("    max_size: 20\n    desired_size: 3", "    max_size: 2\n    desired_size: 3"),
        "K8S-3",
        "node_groups.workload.max_size",
        "max_size: 2",
        ("below min_size 3",),
    ),
    Case(
        "SEC-8-secrets-off",
        sub("  secrets: true", "  secrets: false"),
        "SEC-8",
        "encryption.secrets",
        "secrets: false",
    ),
    Case(
        "SEC-3-volumes-off",
        sub("  volumes: true", "  volumes: false"),
        "SEC-3",
        "encryption.volumes",
        "volumes: false",
    ),
    Case(
        "SEC-7-audit-dropped",
        sub("[api, audit, authenticator,", "[api, authenticator,"),
        "SEC-7",
        "logging.control_plane",
        "control_plane:",
        ("audit",),
    ),
    Case(
        "K8S-7-log-type-dropped",
        sub("controllerManager, scheduler]", "controllerManager]"),
        "K8S-7",
        "logging.control_plane",
        "control_plane:",
        ("missing scheduler",),
    ),
    Case(
        "K8S-1-unsupported",
        sub('version: "1.35"', f'version: "{TOO_OLD}"'),
        "K8S-1",
        "kubernetes.version",
        f'"{TOO_OLD}"',
        ("standard support", versions.n_minus_one()),
    ),
    Case(
        "K8S-1-newest-is-N",
        sub('version: "1.35"', f'version: "{N}"'),
        "K8S-1",
        "kubernetes.version",
        f'"{N}"',
        ("N-1",),
    ),
    Case(
        "DR-1-backups-off",
        sub("  enabled: true", "  enabled: false"),
        "DR-1",
        "backup.enabled",
        "enabled: false",
    ),
    # --- ACCESS-1: a cluster admin per configured cloud, in each cloud's principal format ---
    Case(
        "ACCESS-1-aws-admin-missing",
        empty_list("cluster_admin_arns"),
        "ACCESS-1",
        "access.cluster_admin_arns",
        "cluster_admin_arns: []",
        ("aws is configured", "AmazonEKSClusterAdminPolicy", "arn:aws:iam::"),
    ),
    Case(
        "ACCESS-1-azure-admin-missing",
        empty_list("azure_admin_group_object_ids"),
        "ACCESS-1",
        "access.azure_admin_group_object_ids",
        "azure_admin_group_object_ids: []",
        ("azure is configured", "Cluster Admin", "object ID"),
    ),
    Case(
        "ACCESS-1-gcp-admin-missing",
        empty_list("gcp_admin_members"),
        "ACCESS-1",
        "access.gcp_admin_members",
        "gcp_admin_members: []",
        ("gcp is configured", "group:"),
    ),
    Case(
        "ACCESS-1-admin-section-missing",
        lambda t: t[: t.index("access:")] + t[t.index("encryption:") :],
        "ACCESS-1",
        "access.cluster_admin_arns",
        "name: production",
    ),
    Case(
        "aws-admin-not-an-arn",
        sub("role/REPLACE-ME-platform-admins", "role/bad name"),
        "SPEC-VALUE",
        "access.cluster_admin_arns[0]",
        "role/bad name",
        ("not an IAM role or user ARN", "arn:aws:iam::111122223333:role/"),
    ),
    Case(
        "aws-admin-assumed-role-session",
        sub(
            "arn:aws:iam::111122223333:role/REPLACE-ME-platform-admins",
            "arn:aws:sts::111122223333:assumed-role/admins/alice",
        ),
        "SPEC-VALUE",
        "access.cluster_admin_arns[0]",
        "assumed-role/admins/alice",
        ("assumed-role session", "give the role"),
    ),
    Case(
        "aws-admin-short-account",
        sub("arn:aws:iam::111122223333:role/", "arn:aws:iam::1111:role/"),
        "SPEC-VALUE",
        "access.cluster_admin_arns[0]",
        "arn:aws:iam::1111:role/",
    ),
    Case(
        "azure-admin-not-a-guid",
        sub("00000000-0000-0000-0000-000000000000", "platform-admins"),
        "SPEC-VALUE",
        "access.azure_admin_group_object_ids[0]",
        "- platform-admins",
        ("GUID",),
    ),
    Case(
        "gcp-admin-no-prefix",
        sub("group:replace-me-platform-admins@example.com", "admins@example.com"),
        "SPEC-VALUE",
        "access.gcp_admin_members[0]",
        "- admins@example.com",
        ("user:, group: or serviceAccount:",),
    ),
    Case(
        "gcp-admin-unknown-prefix",
        sub("group:replace-me-platform-admins@example.com", "domain:example.com"),
        "SPEC-VALUE",
        "access.gcp_admin_members[0]",
        "domain:example.com",
    ),
    Case(
        "SPEC-CLOUD-none",
        lambda t: t[: t.index("clouds:")] + "clouds: {}\n\n" + t[t.index("network:") :],
        "SPEC-CLOUD",
        "clouds",
        "clouds: {}",
    ),
]


def _run_json(path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict, str]:
    code = main(["--output", "json", "validate", str(path)])
    captured = capsys.readouterr()
    return code, json.loads(captured.out), captured.out + captured.err


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_spec(case: Case, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = case.mutate(EXAMPLE)
    assert text != EXAMPLE
    path = tmp_path / "production.yaml"
    path.write_text(text, encoding="utf-8")
    expected_line = line_of(text, case.at) if case.at else 1

    # text output: one message naming file, line, field, rule and fix
    assert main(["validate", str(path)]) == 2
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err
    assert captured.out == ""
    prefix = f"{path}:{expected_line}: {case.field}: [{case.rule}] "
    rendered = [ln.strip() for ln in captured.err.splitlines() if prefix in ln]
    assert rendered, f"no line starting {prefix!r} in:\n{captured.err}"
    assert all(". Fix: " in ln for ln in rendered)

    # JSON output: the same problem, machine-readable
    code, data, raw = _run_json(path, capsys)
    assert code == 2 and "Traceback" not in raw
    matches = [
        p
        for p in data["problems"]
        if p["rule"] == case.rule and p["field"] == case.field and p["line"] == expected_line
    ]
    assert matches, json.dumps(data["problems"], indent=1)
    problem = matches[0]
    assert problem["file"] == str(path)
    assert problem["message"] and problem["fix"]
    for needle in case.says:
        assert any(needle in p["message"] + " " + p["fix"] for p in matches), (needle, matches)


def test_there_are_enough_distinct_cases() -> None:
    assert len({c.id for c in CASES}) == len(CASES) >= 30
    profile_rules = {c.rule for c in CASES if not c.rule.startswith("SPEC-")}
    assert {
        "SEC-1",
        "SEC-2",
        "SEC-3",
        "SEC-7",
        "SEC-8",
        "CHR-4",
        "NET-2",
        "NET-3",
        "NET-4",
        "NET-5",
        "NET-6",
        "K8S-1",
        "K8S-2",
        "K8S-3",
        "K8S-7",
        "DR-1",
    } <= profile_rules


def test_pod_capacity_shortfall_is_the_computed_number(tmp_path: Path) -> None:
    """The NET-6 figure: 2 system x 30 + 7 workload x 60 = 480 needed, 251 usable, 229 short."""
    assert (NEEDED, SHORT) == (480, 229)
    path = tmp_path / "p.yaml"
    path.write_text(sub("pod_ip_mode: secondary-cidr", "pod_ip_mode: vpc-cni")(EXAMPLE))
    with pytest.raises(SpecInvalid) as info:
        load_spec(path)
    net6 = [p for p in info.value.problems if p.rule == "NET-6"]
    # every private subnet is too small, and each is named
    assert [p.field for p in net6] == [f"network.private_subnets[{i}]" for i in range(3)]
    assert all(f"short by {SHORT}" in p.message for p in net6)


def test_prefix_delegation_shortfall(tmp_path: Path) -> None:
    """Prefix delegation takes /28s: 110 pods -> 7 x 16 + the node's own = 113 per node.

    9 nodes per zone (2 system + 7 workload) need 1017 of a /24's 251: short by 766,
    and the fix names the secondary CIDR.
    """
    per_node = math.ceil(110 / 16) * 16 + 1
    needed = (math.ceil(6 / 3) + math.ceil(20 / 3)) * per_node
    path = tmp_path / "p.yaml"
    path.write_text(sub("pod_ip_mode: secondary-cidr", "pod_ip_mode: prefix-delegation")(EXAMPLE))
    with pytest.raises(SpecInvalid) as info:
        load_spec(path)
    net6 = [p for p in info.value.problems if p.rule == "NET-6"]
    assert len(net6) == 3
    assert f"short by {needed - 251}" in net6[0].message
    assert "prefix-delegation" in net6[0].message and "secondary-cidr" in net6[0].fix


def test_secondary_cidr_too_small(tmp_path: Path) -> None:
    """A /24 pod range split over 3 zones gives /26s: 59 usable each, far too few."""
    path = tmp_path / "p.yaml"
    path.write_text(sub("pod_cidr: 100.64.0.0/16", "pod_cidr: 100.64.0.0/24")(EXAMPLE))
    with pytest.raises(SpecInvalid) as info:
        load_spec(path)
    # the AWS check (the GKE rule reports the same range its own way)
    (net6,) = [
        p
        for p in info.value.problems
        if p.rule == "NET-6" and "pod_ip_mode secondary-cidr" in p.message
    ]
    assert net6.field == "network.pod_cidr"
    assert f"short by {NEEDED - (64 - 5)}" in net6.message
    assert net6.line == line_of(path.read_text(), "pod_cidr:")


def test_prefix_delegation_or_secondary_cidr_clears_capacity(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(EXAMPLE.replace("pod_ip_mode: secondary-cidr", "pod_ip_mode: vpc-cni"))
    with pytest.raises(SpecInvalid):
        load_spec(path)
    path.write_text(EXAMPLE)  # secondary-cidr with a /16 pod range
    assert load_spec(path).network.pod_ip_mode == "secondary-cidr"


def test_access1_asks_admins_only_for_the_configured_clouds(tmp_path: Path) -> None:
    """An AWS-only spec needs cluster_admin_arns, not the Azure or GCP admin lists."""
    data = yaml.safe_load(EXAMPLE)
    del data["clouds"]["azure"], data["clouds"]["gcp"]
    for cloud in ("azure", "gcp"):  # other per-cloud settings of the example go too
        data.get("dr", {}).get("recovery_region", {}).pop(cloud, None)
    data["access"] = {"cluster_admin_arns": ["arn:aws:iam::111122223333:user/ops/alice"]}
    path = tmp_path / "aws-only.yaml"
    path.write_text(yaml.safe_dump(data))
    assert load_spec(path).access.cluster_admin_arns == ["arn:aws:iam::111122223333:user/ops/alice"]
    data["access"] = {"gcp_admin_members": ["user:alice@example.com"]}
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(SpecInvalid) as info:
        load_spec(path)
    assert [p.rule for p in info.value.problems] == ["ACCESS-1"]
    assert info.value.problems[0].field == "access.cluster_admin_arns"


def test_wider_prefix_is_configurable(tmp_path: Path) -> None:
    text = sub("[203.0.113.0/24]", "[198.51.0.0/16]")(EXAMPLE)
    text = sub("max_public_prefix: 24", "max_public_prefix: 16")(text)
    path = tmp_path / "p.yaml"
    path.write_text(text)
    assert load_spec(path).api_endpoint.public_allowed_cidrs == ["198.51.0.0/16"]


def test_all_profile_violations_reported_in_one_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = EXAMPLE
    for mutate in (
        sub("  private: true ", "  private: false"),
        sub("capacity_type: on-demand    # CHR-4", "capacity_type: spot    # CHR-4"),
        sub("nat_gateway_per_az: true", "nat_gateway_per_az: false"),
        sub("  secrets: true", "  secrets: false"),
        sub("  enabled: true", "  enabled: false"),
        sub("    min_size: 3\n    max_size: 6", "    min_size: 2\n    max_size: 6"),
        sub("[203.0.113.0/24]", "[0.0.0.0/0]"),
    ):
        text = mutate(text)
    path = tmp_path / "p.yaml"
    path.write_text(text)
    code, data, raw = _run_json(path, capsys)
    assert code == 2 and "Traceback" not in raw
    rules = {p["rule"] for p in data["problems"]}
    assert {"SEC-1", "CHR-4", "NET-4", "SEC-8", "DR-1", "K8S-2", "SEC-2"} <= rules
    lines = [p["line"] for p in data["problems"]]
    assert lines == sorted(lines) and len(set(lines)) >= 7
    assert data["error"].startswith(f"{len(data['problems'])} problems in the spec:")


def test_all_structural_problems_reported_in_one_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = EXAMPLE
    for mutate in (
        sub("network:\n", "netwrok:\n"),
        sub("    max_size: 6\n", "    max_size: six\n"),
        sub('start: "02:00"', 'start: "25:00"'),
        sub("timezone: Europe/London", "timezone: Mars/Olympus"),
        sub("  flow_logs: true\n", "  flow_logs: true\n  flow_logs: false\n"),
    ):
        text = mutate(text)
    path = tmp_path / "p.yaml"
    path.write_text(text)
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert "5 problems in the spec" in err
    for needle in ("netwrok", "max_size", "start", "timezone", "SPEC-DUPLICATE-KEY"):
        assert needle in err
    assert "production-profile rules" in err  # says the rules run once these are fixed


def test_json_output_is_machine_readable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(sub("  volumes: true", "  volumes: false")(EXAMPLE))
    # --output works before and after the command
    for argv in (
        ["--output", "json", "validate", str(path)],
        ["validate", str(path), "--output", "json"],
    ):
        assert main(argv) == 2
        data = json.loads(capsys.readouterr().out)
        assert set(data) == {"error", "problems"}
        (problem,) = data["problems"]
        assert problem == {
            "file": str(path),
            "line": line_of(path.read_text(), "volumes: false"),
            "field": "encryption.volumes",
            "rule": "SEC-3",
            "message": problem["message"],
            "fix": "set encryption.volumes: true",
        }


def test_missing_spec_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nope.yaml"
    assert main(["validate", str(missing)]) == 2
    err = capsys.readouterr().err
    assert str(missing) in err and "no such spec file" in err and "kubeprod init" in err
    assert "Traceback" not in err
    assert main(["--output", "json", "validate", str(missing)]) == 2
    data = json.loads(capsys.readouterr().out)
    assert data["problems"] == [] and "no such spec file" in data["error"]


def test_directory_and_binary_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(tmp_path)]) == 2
    assert "is a directory" in capsys.readouterr().err
    binary = tmp_path / "b.yaml"
    binary.write_bytes(b"name: production\n\xff\xfe\n")
    assert main(["validate", str(binary)]) == 2
    err = capsys.readouterr().err
    assert f"{binary}:2: (document): [SPEC-YAML]" in err and "UTF-8" in err


@pytest.mark.parametrize(
    ("mutate", "at", "rule"),
    [
        (sub("  nat_gateway_per_az: true", "  nat_gateway_per_az: false"), "nat_gateway", "NET-4"),
        (sub("eu-west-1c]", "eu-west-1c"), "[eu-west-1a", "SPEC-YAML"),
    ],
    ids=["profile-rule", "malformed-yaml"],
)
def test_real_subprocess(mutate: Callable[[str], str], at: str, rule: str, tmp_path: Path) -> None:
    """The installed console script, not just main(): exit 2, message on stderr, no traceback."""
    path = tmp_path / "production.yaml"
    text = mutate(EXAMPLE)
    path.write_text(text)
    proc = subprocess.run(
        [*KUBEPROD, "validate", str(path)], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr + proc.stdout
    assert f"{path}:{line_of(text, at)}: " in proc.stderr
    assert f"[{rule}]" in proc.stderr and "Fix: " in proc.stderr


WEIRD_VALUES = ["", "null", "[]", "{}", "-1", "99999999999999999999", "'::/0'", "x y", "yes"]


def _scalar_lines(text: str) -> list[int]:
    """0-based lines of every scalar value in block style (one per line) in the example."""
    out = []
    node = yaml.compose(text)

    def walk(n: yaml.Node) -> None:
        if isinstance(n, yaml.MappingNode):
            for _, v in n.value:
                walk(v)
        elif isinstance(n, yaml.SequenceNode):
            for v in n.value:
                walk(v)
        elif n.start_mark.line == n.end_mark.line and n.style is None:
            out.append(n.start_mark.line)

    walk(node)
    return sorted(set(out))


@pytest.mark.parametrize("weird", WEIRD_VALUES)
def test_no_value_anywhere_causes_a_traceback(weird: str, tmp_path: Path) -> None:
    """Put an odd value in place of every plain scalar: load_spec either succeeds or
    raises SpecInvalid whose problems all point at a real line of the file."""
    lines = EXAMPLE.splitlines(keepends=True)
    path = tmp_path / "p.yaml"
    for index in _scalar_lines(EXAMPLE):
        key, sep, rest = lines[index].partition(": ")
        if not sep:
            continue
        comment = "  #" + rest.split("#", 1)[1] if "#" in rest else "\n"
        mutated = [*lines[:index], f"{key}: {weird}{comment}", *lines[index + 1 :]]
        text = "".join(mutated)
        path.write_text(text)
        try:
            load_spec(path)
        except SpecInvalid as exc:
            total = text.count("\n") + 1
            assert exc.problems
            for p in exc.problems:
                assert 1 <= p.line <= total, (lines[index], p)
                assert p.rule and p.message and p.fix, p
