"""Speed of the DR-5 rule (worst-case recovery-point age from each cloud's schedule).

Baseline: loading and validating the example spec, measured in the same run, so the
figure is a ratio a slower or faster machine shares. The rule should cost a small
fraction of the load it follows.
Run: .venv/bin/python benchmarks/rpo_rule.py [--runs N]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from kubeprod.dr.cloud_schedules import schedule_for
from kubeprod.dr.schedule import worst_case
from kubeprod.spec import load_spec

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "production.yaml"


def median_seconds(step: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        step()
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=30)
    runs = parser.parse_args().runs
    env = load_spec(EXAMPLE)

    def rule() -> None:
        for cloud in ("aws", "azure", "gcp"):
            worst_case(schedule_for(env.backup, cloud)[0])

    rule()  # imports croniter once
    load = median_seconds(lambda: load_spec(EXAMPLE), runs)
    rpo = median_seconds(rule, runs)
    print(f"load + validate the example (baseline): {load * 1000:8.2f} ms")
    print(f"DR-5 worst case on 3 clouds:             {rpo * 1000:8.2f} ms  ({rpo / load:.2f}x)")


if __name__ == "__main__":
    main()
