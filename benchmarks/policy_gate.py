"""Policy gate speed: the production plan (whole process) against checkov on the same plan,
and a synthetic plan of 5,000 resources.

    .venv/bin/python benchmarks/policy_gate.py [--plan PLAN.json] [--runs 3]

Without --plan, the example spec is planned once against the embedded local cloud (a
temporary KUBEPROD_HOME; about a minute). Prints the figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "production.yaml"


def production_plan(workdir: Path) -> Path:
    home = workdir / "home"
    os.environ["KUBEPROD_HOME"] = str(home)
    from kubeprod import workflow
    from kubeprod.local import server

    try:
        target = workflow.target_for(str(EXAMPLE), "aws", True)
        tf = workflow.prepare(target, workflow.ensure_backend(target))
        tf.plan(workflow.PLAN_FILE)
        plan = tf.show_json(workflow.PLAN_FILE)
    finally:
        server.stop()
    path = workdir / "production-plan.json"
    path.write_text(json.dumps(plan))
    return path


def synthetic_plan(count: int) -> dict[str, Any]:
    """`count` resources shaped like an EKS estate: subnets, NAT, node groups, clusters."""
    resources, changes = [], []
    kinds = [
        (
            "aws_subnet",
            lambda i: {
                "cidr_block": f"10.{i // 256 % 256}.{i % 256}.0/24",
                "availability_zone": f"eu-west-1{'abc'[i % 3]}",
                "tags": {"kubernetes.io/role/internal-elb": "1"},
            },
        ),
        ("aws_nat_gateway", lambda i: {"connectivity_type": "public"}),
        (
            "aws_eks_node_group",
            lambda i: {
                "capacity_type": "ON_DEMAND",
                "instance_types": ["m5.large"],
                "scaling_config": [{"min_size": 3, "max_size": 20}],
                "subnet_ids": ["a", "b", "c"],
                "ami_type": "AL2023_x86_64_STANDARD",
                "update_config": [{"max_unavailable": 1}],
            },
        ),
        ("aws_cloudwatch_log_group", lambda i: {"kms_key_id": "arn:key", "retention_in_days": 365}),
        ("aws_kms_key", lambda i: {"enable_key_rotation": True, "deletion_window_in_days": 30}),
    ]
    for i in range(count):
        rtype, values = kinds[i % len(kinds)]
        if i % 1000 == 0:
            rtype, values = (
                "aws_eks_cluster",
                lambda i: {
                    "version": "1.35",
                    "enabled_cluster_log_types": [
                        "api",
                        "audit",
                        "authenticator",
                        "controllerManager",
                        "scheduler",
                    ],
                    "vpc_config": [
                        {
                            "endpoint_private_access": True,
                            "endpoint_public_access": True,
                            "public_access_cidrs": ["203.0.113.0/24"],
                        }
                    ],
                    "encryption_config": [
                        {"resources": ["secrets"], "provider": [{"key_arn": "arn"}]}
                    ],
                    "upgrade_policy": [{"support_type": "STANDARD"}],
                },
            )
        module = f"module.env{i // 500}"
        address = f"{module}.{rtype}.r{i}"
        resources.append(
            (
                module,
                {
                    "address": address,
                    "mode": "managed",
                    "type": rtype,
                    "name": f"r{i}",
                    "values": values(i),
                },
            )
        )
        changes.append(
            {
                "address": address,
                "module_address": module,
                "mode": "managed",
                "type": rtype,
                "name": f"r{i}",
                "change": {
                    "actions": ["create"],
                    "after": values(i),
                    "after_unknown": {"id": True, "arn": True},
                },
            }
        )
    modules: dict[str, list[dict[str, Any]]] = {}
    for module, res in resources:
        modules.setdefault(module, []).append(res)
    return {
        "format_version": "1.2",
        "planned_values": {
            "root_module": {
                "resources": [],
                "child_modules": [{"address": m, "resources": r} for m, r in modules.items()],
            }
        },
        "resource_changes": changes,
        "configuration": {"root_module": {}},
    }


def timed(cmd: list[str], runs: int) -> tuple[float, int]:
    times, code = [], 0
    for _ in range(runs):
        start = time.perf_counter()
        code = subprocess.run(cmd, capture_output=True, text=True, check=False).returncode
        times.append(time.perf_counter() - start)
    return statistics.median(times), code


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--plan", help="a production plan JSON (default: plan the example)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--resources", type=int, default=5000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        plan = Path(args.plan) if args.plan else production_plan(Path(tmp))
        gate_s, gate_rc = timed([sys.executable, "-m", "kubeprod", "check", str(plan)], args.runs)
        from kubeprod.policy.checkov import checkov_command

        checkov = checkov_command(plan, "terraform_plan")
        checkov_s, _ = timed(checkov, args.runs)
        print(
            f"production plan ({plan.stat().st_size // 1024} KiB), whole process, "
            f"median of {args.runs}:"
        )
        print(f"  kubeprod check   {gate_s:6.2f} s (exit {gate_rc})")
        print(f"  checkov          {checkov_s:6.2f} s")
        print(f"  ratio            {checkov_s / gate_s:6.1f}x faster than checkov")

        synthetic = synthetic_plan(args.resources)
        path = Path(tmp) / "synthetic.json"
        path.write_text(json.dumps(synthetic))
        from kubeprod.policy.engine import check_plan_json

        start = time.perf_counter()
        report = check_plan_json(synthetic, cloud="aws")
        inproc = time.perf_counter() - start
        whole, _ = timed(
            [sys.executable, "-m", "kubeprod", "check", str(path), "--cloud", "aws"], args.runs
        )
        print(
            f"synthetic plan of {args.resources} resources ({path.stat().st_size // 1024} KiB, "
            f"{len(report.findings)} findings):"
        )
        print(f"  in process       {inproc:6.2f} s")
        print(f"  whole process    {whole:6.2f} s")


if __name__ == "__main__":
    main()
