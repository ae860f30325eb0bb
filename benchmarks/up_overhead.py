"""Overhead of `kubeprod up --local` over the same terraform steps run by hand.

1. `kubeprod up examples/production.yaml --local` on an empty local cloud (timed).
2. The local cloud is reset to empty (moto's reset API), terraform's working files
   are removed, and the same steps run by hand on the directories kubeprod wrote:
   bootstrap init/plan/apply, then main init/validate/plan/show/apply (timed).
The ratio of the two is the overhead, measured in one run. Takes a few minutes.
Run: .venv/bin/python benchmarks/up_overhead.py
"""

from __future__ import annotations

import os
import shutil
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "examples" / "production.yaml"


def run(cmd: list[str], cwd: Path, env: dict[str, str]) -> None:
    subprocess.run(cmd, cwd=cwd, env=env, check=True, capture_output=True, text=True)


def clean(workdir: Path) -> None:
    shutil.rmtree(workdir / ".terraform", ignore_errors=True)
    for name in (
        "terraform.tfstate",
        "terraform.tfstate.backup",
        ".terraform.lock.hcl",
        "kubeprod.tfplan",
    ):
        (workdir / name).unlink(missing_ok=True)


def main() -> None:
    with tempfile.TemporaryDirectory() as home:
        os.environ["KUBEPROD_HOME"] = home
        from kubeprod.local import server
        from kubeprod.spec import load_spec
        from kubeprod.workflow import Target

        env = {**os.environ}
        status = server.start()
        try:
            started = time.perf_counter()
            run([sys.executable, "-m", "kubeprod", "up", str(SPEC), "--local"], ROOT, env)
            t_kubeprod = time.perf_counter() - started

            context = ssl.create_default_context(cafile=str(server.ca_bundle()))
            request = urllib.request.Request(f"{status['endpoint']}/moto-api/reset", method="POST")
            urllib.request.urlopen(request, context=context).close()
            base = Path(home) / "local" / "production"
            boot, main_dir = base / "aws-bootstrap", base / "aws"
            clean(boot)
            clean(main_dir)
            target = Target(load_spec(SPEC), str(SPEC), main_dir, boot, status["endpoint"])
            tf_env = {
                **env,
                **target.tf_env(),
                "TF_IN_AUTOMATION": "1",
                "TF_CLI_CONFIG_FILE": str(main_dir / ".terraform.kubeprod.rc"),
            }

            started = time.perf_counter()
            for args in (
                ["init", "-input=false"],
                ["plan", "-input=false", "-out=p"],
                ["apply", "-input=false", "p"],
            ):
                run(["terraform", *args], boot, tf_env)
            for args in (
                ["init", "-input=false", "-backend-config=local.s3.tfbackend"],
                ["validate"],
                ["plan", "-input=false", "-out=p"],
                ["show", "-json", "p"],
                ["apply", "-input=false", "p"],
            ):
                run(["terraform", *args], main_dir, tf_env)
            t_hand = time.perf_counter() - started
        finally:
            server.stop()
    print(f"kubeprod up --local      {t_kubeprod:7.1f} s")
    print(f"same terraform by hand   {t_hand:7.1f} s")
    print(f"overhead                 {100 * (t_kubeprod / t_hand - 1):+7.1f} %")


if __name__ == "__main__":
    main()
