"""Whole-process timings of `kubeprod --help` and `kubeprod render`, against a baseline.

Baseline: the same interpreter starting and exiting (`python -c pass`), measured in
the same run, so the figures are ratios a slower or faster machine shares.
Run: .venv/bin/python benchmarks/cli_speed.py [--runs N]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def best_of(cmd: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True, cwd=ROOT)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    py = sys.executable
    with tempfile.TemporaryDirectory() as out:
        cases = {
            "python -c pass (baseline)": [py, "-c", "pass"],
            "kubeprod --help": [py, "-m", "kubeprod", "--help"],
            "kubeprod validate example": [
                py,
                "-m",
                "kubeprod",
                "validate",
                "examples/production.yaml",
            ],
            "kubeprod render example (aws)": [
                py,
                "-m",
                "kubeprod",
                "render",
                "examples/production.yaml",
                "--cloud",
                "aws",
                "--out",
                out + "/aws",
            ],
            "kubeprod render example (azure)": [
                py,
                "-m",
                "kubeprod",
                "render",
                "examples/production.yaml",
                "--cloud",
                "azure",
                "--out",
                out + "/azure",
            ],
            "kubeprod render example (gcp)": [
                py,
                "-m",
                "kubeprod",
                "render",
                "examples/production.yaml",
                "--cloud",
                "gcp",
                "--out",
                out + "/gcp",
            ],
        }
        results = {name: best_of(cmd, args.runs) for name, cmd in cases.items()}
    base = results["python -c pass (baseline)"]
    print(f"{'command':34} {'median s':>9} {'x baseline':>11}")
    for name, seconds in results.items():
        print(f"{name:34} {seconds:9.3f} {seconds / base:11.1f}")


if __name__ == "__main__":
    main()
