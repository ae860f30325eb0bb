"""Policy gate speed on a planned module tree shaped like terraform-aws-modules/eks:
`kubeprod check` against checkov on the same plan, in one run.

    PYTHONPATH=src .venv/bin/python benchmarks/policy_module_tree.py [--runs 5] [--plan P]

The default plan is tests/data/corpus/aws-two-clusters/plan.json (planned against the
local cloud by scripts/refresh_corpus_plans.py): module.vpc, module.eks["blue"|"green"]
and module.eks[*].module.eks_managed_node_group["system"|"workload"], seven module
instances. kubeprod reads the plan and evaluates its directory (module tree included),
as `kubeprod check plan.json` does beside the configuration. checkov runs with
--skip-download (no network) on the same plan file.

Both wall-clock time and CPU time (user + system of the child process) are reported, as
medians; on a shared machine CPU time is the steadier of the two. kubeprod is timed cold
(KUBEPROD_NO_CACHE=1: every file parsed) and warm (parses from its on-disk cache).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PLAN = ROOT / "tests" / "data" / "corpus" / "aws-two-clusters" / "plan.json"


def timed(cmd: list[str], runs: int, env: dict[str, str] | None = None) -> tuple[float, float]:
    """(median wall seconds, median CPU seconds) of `runs` runs of `cmd`."""
    walls, cpus = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(cmd, capture_output=True, text=True, check=False, env=env)
        walls.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return statistics.median(walls), statistics.median(cpus)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--plan", default=str(PLAN))
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    plan = Path(args.plan)
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    gate = [sys.executable, "-m", "kubeprod", "check", str(plan)]
    subprocess.run(gate, capture_output=True, check=False, env=env)  # fill the parse cache
    warm = timed(gate, args.runs, env)
    cold = timed(gate, args.runs, {**env, "KUBEPROD_NO_CACHE": "1"})
    from kubeprod.policy.checkov import checkov_command

    checkov = [*checkov_command(plan, "terraform_plan"), "--skip-download"]
    base = timed(checkov, args.runs)
    shown = plan.relative_to(ROOT) if plan.is_relative_to(ROOT) else plan
    print(f"plan {shown} ({plan.stat().st_size // 1024} KiB), judged with its directory")
    print(f"median of {args.runs}      wall s    CPU s   (checkov / kubeprod)")
    for name, (wall, cpu) in (("kubeprod warm", warm), ("kubeprod cold", cold), ("checkov", base)):
        ratio = (
            "" if name == "checkov" else f"   {base[0] / wall:5.1f}x wall {base[1] / cpu:5.1f}x CPU"
        )
        print(f"  {name:14} {wall:8.2f} {cpu:8.2f}{ratio}")


if __name__ == "__main__":
    main()
