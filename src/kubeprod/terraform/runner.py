"""Drive the real terraform binary: init, validate, plan, show, apply, output.

Terraform's own errors reach the user intact. When a local provider mirror is
found (KUBEPROD_PROVIDER_MIRROR, or a known location holding a filesystem
mirror in registry layout) the runner writes a CLI configuration that installs
from it, so a user offline never has to learn terraform's CLI configuration.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kubeprod.errors import KubeprodError

MIRROR_CANDIDATES = (
    "/opt/tf-plugins",
    "~/.terraform.d/plugins",
    "~/.local/share/terraform/plugins",
    "/usr/local/share/terraform/plugins",
    "/usr/share/terraform/plugins",
)


class TerraformError(KubeprodError):
    """terraform exited non-zero; the message carries its own words."""


class ApplyInterrupted(TerraformError):
    """kubeprod got SIGINT/SIGTERM during an apply; terraform was stopped gracefully."""


def _forward_signals(proc: subprocess.Popen[str]) -> tuple[list[int], Callable[[], None]]:
    """Forward SIGINT/SIGTERM to terraform as SIGINT (its graceful stop: finish the
    resources in flight, write the state, release the lock). Returns (signals seen, undo)."""
    seen: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        return seen, lambda: None

    def forward(signum: int, _frame: Any) -> None:
        seen.append(signum)
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGINT)

    previous = {sig: signal.signal(sig, forward) for sig in (signal.SIGINT, signal.SIGTERM)}

    def undo() -> None:
        for sig, handler in previous.items():
            signal.signal(sig, handler)

    return seen, undo


def _reap_group(pgid: int) -> None:
    """Stop provider plugins terraform left running in its process group."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGTERM)


def find_mirror() -> Path | None:
    """A filesystem mirror in registry layout, if this machine has one."""
    configured = os.environ.get("KUBEPROD_PROVIDER_MIRROR")
    for candidate in ([configured] if configured else []) + list(MIRROR_CANDIDATES):
        path = Path(candidate).expanduser()
        if (path / "registry.terraform.io").is_dir():
            return path
    return None


def mirrored_providers(mirror: Path) -> list[str]:
    """`registry.terraform.io/hashicorp/aws`-style addresses present in the mirror."""
    return sorted(
        f"{host.name}/{ns.name}/{prov.name}"
        for host in mirror.iterdir()
        if host.is_dir()
        for ns in host.iterdir()
        if ns.is_dir()
        for prov in ns.iterdir()
        if prov.is_dir()
    )


def cli_config_text(mirror: Path) -> str:
    providers = mirrored_providers(mirror)
    include = ", ".join(f'"{p}"' for p in providers)
    return (
        "# Written by kubeprod: install mirrored providers from the local mirror.\n"
        "provider_installation {\n"
        "  filesystem_mirror {\n"
        f'    path    = "{mirror}"\n'
        f"    include = [{include}]\n"
        "  }\n"
        "  direct {\n"
        f"    exclude = [{include}]\n"
        "  }\n"
        "}\n"
    )


@dataclass
class Terraform:
    """terraform in one working directory."""

    workdir: Path
    env: dict[str, str] = field(default_factory=dict)
    binary: str = "terraform"

    def __post_init__(self) -> None:
        found = shutil.which(self.binary)
        if not found:
            raise KubeprodError(
                "terraform is not on PATH. Fix: install terraform >= 1.10 "
                "(https://developer.hashicorp.com/terraform/install)"
            )
        self.binary = found

    def _environ(self) -> dict[str, str]:
        environ = {**os.environ, "TF_IN_AUTOMATION": "1", "TF_INPUT": "0", **self.env}
        mirror = find_mirror()
        config = os.environ.get("TF_CLI_CONFIG_FILE", "")
        if mirror is not None and not (config and Path(config).is_file()):
            rc = self.workdir / ".terraform.kubeprod.rc"
            text = cli_config_text(mirror)
            if not rc.exists() or rc.read_text() != text:
                rc.write_text(text)
            environ["TF_CLI_CONFIG_FILE"] = str(rc)
        elif config and not Path(config).is_file():
            environ.pop("TF_CLI_CONFIG_FILE", None)
        return environ

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run terraform, capturing output; raise TerraformError with its stderr on failure."""
        proc = subprocess.run(
            [self.binary, *args],
            cwd=self.workdir,
            env=self._environ(),
            capture_output=True,
            text=True,
            check=False,
        )
        if check and proc.returncode != 0:
            raise TerraformError(
                f"terraform {args[0]} failed in {self.workdir}:\n"
                + (proc.stderr.strip() or proc.stdout.strip())
            )
        return proc

    def init(self, backend_config: Sequence[str] = (), backend: bool = True) -> None:
        args = ["init", "-no-color", "-input=false"]
        if not backend:
            args.append("-backend=false")
        args += [f"-backend-config={item}" for item in backend_config]
        if backend:
            args.append("-reconfigure")
        self.run(*args)

    def validate(self) -> dict[str, Any]:
        proc = self.run("validate", "-json", "-no-color", check=False)
        result = json.loads(proc.stdout or "{}")
        if not result.get("valid", False):
            messages = [
                f"{d.get('severity')}: {d.get('summary')}: {d.get('detail', '')}"
                + (
                    f" ({d['range']['filename']}:{d['range']['start']['line']})"
                    if d.get("range")
                    else ""
                )
                for d in result.get("diagnostics", [])
            ]
            raise TerraformError("terraform validate failed:\n" + "\n".join(messages))
        return result

    def plan(self, out: str = "kubeprod.tfplan", *extra: str) -> bool:
        """Plan into `out`; True when there are changes."""
        proc = self.run(
            "plan",
            "-no-color",
            "-input=false",
            "-detailed-exitcode",
            f"-out={out}",
            *extra,
            check=False,
        )
        if proc.returncode == 1:
            raise TerraformError(f"terraform plan failed in {self.workdir}:\n{proc.stderr.strip()}")
        return proc.returncode == 2

    def show_json(self, plan: str = "kubeprod.tfplan") -> dict[str, Any]:
        return json.loads(self.run("show", "-json", plan).stdout)

    def output_json(self) -> dict[str, Any]:
        raw = json.loads(self.run("output", "-json").stdout or "{}")
        return {name: item.get("value") for name, item in raw.items()}

    def apply(
        self,
        plan: str = "kubeprod.tfplan",
        total: int = 0,
        on_event: Callable[[dict[str, Any]], None] | None = None,
    ) -> dict[str, Any]:
        """Apply a saved plan, streaming terraform's -json events to `on_event`."""
        proc = subprocess.Popen(
            [self.binary, "apply", "-json", "-input=false", "-auto-approve", plan],
            cwd=self.workdir,
            env=self._environ(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,  # a terminal Ctrl-C reaches kubeprod, which forwards it once
        )
        seen, undo = _forward_signals(proc)
        errors: list[str] = []
        summary: dict[str, Any] = {}
        try:
            assert proc.stdout is not None
            for line in proc.stdout:
                try:
                    event = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if event.get("type") == "diagnostic" and event.get("@level") == "error":
                    diag = event.get("diagnostic", {})
                    errors.append(f"{diag.get('summary')}: {diag.get('detail', '')}".strip())
                if event.get("type") == "change_summary":
                    summary = event.get("changes", {})
                if on_event:
                    on_event(event)
            stderr = proc.stderr.read() if proc.stderr else ""
            code = proc.wait()
        finally:
            undo()
            _reap_group(proc.pid)
        if seen:
            names = ", ".join(signal.Signals(s).name for s in seen)
            raise ApplyInterrupted(
                f"terraform apply in {self.workdir} was interrupted ({names} forwarded as "
                f"SIGINT; terraform exited {code}):\n" + "\n".join(errors or [stderr.strip()])
            )
        if code != 0:
            detail = errors or [stderr.strip()]
            if code < 0 and not any(detail):
                detail = [f"terraform was killed by signal {-code} before it finished"]
            raise TerraformError(f"terraform apply failed in {self.workdir}:\n" + "\n".join(detail))
        return summary


class Progress:
    """A one-line progress bar fed by terraform apply events (plain lines when not a TTY)."""

    def __init__(self, total: int, stream: Any = None, quiet: bool = False):
        self.total = max(total, 1)
        self.done = 0
        self.stream = stream or sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.quiet = quiet
        self.started = time.monotonic()

    def __call__(self, event: dict[str, Any]) -> None:
        kind = event.get("type")
        if kind not in ("apply_complete", "apply_errored"):
            return
        address = event.get("hook", {}).get("resource", {}).get("addr", "?")
        if address.startswith("data."):
            return
        self.done += 1
        if self.quiet:
            return
        mark = "ok" if kind == "apply_complete" else "FAILED"
        if self.tty:
            width = 30
            filled = int(width * min(self.done, self.total) / self.total)
            bar = "#" * filled + "-" * (width - filled)
            self.stream.write(f"\r[{bar}] {self.done}/{self.total} {mark} {address[:60]:<60}")
            if self.done >= self.total:
                self.stream.write("\n")
        else:
            self.stream.write(f"  [{self.done}/{self.total}] {mark} {address}\n")
        self.stream.flush()
