"""The embedded local cloud: moto's server on 127.0.0.1.

State lives in `$KUBEPROD_HOME` (default `./.kubeprod`): `local/server.json` (pid,
port) and `local/server.log`. AWS managed policies are loaded so role attachments
resolve as on AWS.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from kubeprod.errors import KubeprodError
from kubeprod.local.tls import ensure_certificate
from kubeprod.paths import home as kubeprod_home

TEST_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "kubeprod-local",
    "AWS_SECRET_ACCESS_KEY": "kubeprod-local",
}


def home() -> Path:
    return kubeprod_home()


def _state_file() -> Path:
    return home() / "local" / "server.json"


def _log_file() -> Path:
    return home() / "local" / "server.log"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie child counts as gone
        waited, _ = os.waitpid(pid, os.WNOHANG)
        return waited == 0
    except ChildProcessError:
        return True


def ca_bundle() -> Path:
    """The certificate clients trust to reach the local cloud over TLS."""
    return home() / "local" / "tls" / "cert.pem"


def _responds(port: int) -> bool:
    context = ssl.create_default_context(cafile=str(ca_bundle()))
    try:
        with urllib.request.urlopen(
            f"https://127.0.0.1:{port}/moto-api/data.json", timeout=2, context=context
        ) as resp:
            return resp.status == 200
    except OSError:
        return False


def _read_state() -> dict[str, Any] | None:
    try:
        return json.loads(_state_file().read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def status() -> dict[str, Any]:
    state = _read_state()
    if not state or not _alive(int(state["pid"])):
        return {"running": False, "log": str(_log_file())}
    return {**state, "running": True, "endpoint": f"https://127.0.0.1:{state['port']}"}


def endpoint() -> str:
    """The running local cloud's endpoint URL; raises when it is not running."""
    current = status()
    if not current["running"]:
        raise KubeprodError("the local cloud is not running. Fix: `kubeprod local start`")
    return str(current["endpoint"])


def start(timeout: float = 30.0) -> dict[str, Any]:
    current = status()
    if current["running"]:
        return {**current, "already_running": True}
    _state_file().parent.mkdir(parents=True, exist_ok=True)
    port = _free_port()

    cert, key = ensure_certificate(ca_bundle().parent)
    env = {**os.environ, "MOTO_IAM_LOAD_MANAGED_POLICIES": "true"}
    with _log_file().open("ab") as log:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "kubeprod.local.moto_server",
                "-H",
                "127.0.0.1",
                "-p",
                str(port),
                "-c",
                str(cert),
                "-k",
                str(key),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            start_new_session=True,
        )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise KubeprodError(
                f"the local cloud exited at start (code {proc.returncode}); see {_log_file()}. "
                "Fix: install it with `pip install 'kubeprod[local]'`"
            )
        if _responds(port):
            state = {"pid": proc.pid, "port": port, "started": time.time()}
            _state_file().write_text(json.dumps(state))
            return {**state, "running": True, "endpoint": f"https://127.0.0.1:{port}"}
        time.sleep(0.2)
    proc.kill()
    raise KubeprodError(f"the local cloud did not answer within {timeout:.0f}s; see {_log_file()}")


def stop(timeout: float = 10.0) -> dict[str, Any]:
    state = _read_state()
    if not state:
        return {"running": False, "stopped": False}
    pid = int(state["pid"])
    if _alive(pid):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if _alive(pid):
            os.killpg(pid, signal.SIGKILL)
    _state_file().unlink(missing_ok=True)
    return {"running": False, "stopped": True, "pid": pid}


def describe(result: dict[str, Any]) -> str:
    if result.get("running"):
        extra = " (already running)" if result.get("already_running") else ""
        return f"local cloud running at {result['endpoint']} (pid {result['pid']}){extra}"
    if result.get("stopped"):
        return f"local cloud stopped (pid {result['pid']})"
    return "local cloud is not running"
