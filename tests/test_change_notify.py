"""CHG-5: notices through Apprise to a real HTTP receiver; failures bounded and quiet."""

from __future__ import annotations

import json
import logging
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from kubeprod.change import notify
from kubeprod.spec.model import NotificationTarget


class Receiver(BaseHTTPRequestHandler):
    received: ClassVar[list[dict]] = []
    status: ClassVar[list[int]] = []  # responses to give, in order; then 200

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        Receiver.received.append(
            {"path": self.path, "auth": self.headers.get("Authorization"), **json.loads(body)}
        )
        self.send_response(Receiver.status.pop(0) if Receiver.status else 200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture()
def receiver():
    Receiver.received.clear()
    Receiver.status.clear()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_port
    server.shutdown()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


TEAM = NotificationTarget(name="team", url_env="TEAM_URL")


def test_notice_reaches_a_real_receiver_through_apprise(receiver):
    env = {"TEAM_URL": f"json://127.0.0.1:{receiver}/hook"}
    (delivery,) = notify.notify([TEAM], "start", "change starting", "plan abc", environ=env)
    assert delivery.ok and delivery.attempts == 1 and delivery.url == "json://***"
    (got,) = Receiver.received
    assert got["path"] == "/hook"
    assert (got["title"], got["message"], got["type"]) == ("change starting", "plan abc", "info")


def test_only_subscribed_events_are_sent(receiver):
    env = {"TEAM_URL": f"json://127.0.0.1:{receiver}/hook"}
    pager = NotificationTarget(name="pager", url_env="TEAM_URL", events=["failure"])
    assert notify.notify([pager], "success", "t", "b", environ=env) == []
    (failure,) = notify.notify([pager], "failure", "t", "b", environ=env)
    assert failure.ok and Receiver.received[0]["type"] == "failure"


def test_a_rejecting_receiver_is_retried_then_succeeds(receiver):
    Receiver.status.extend([500])
    env = {"TEAM_URL": f"json://127.0.0.1:{receiver}/hook"}
    (delivery,) = notify.notify([TEAM], "success", "t", "b", environ=env, sleep=lambda s: None)
    assert delivery.ok and delivery.attempts == 2 and len(Receiver.received) == 2


def test_a_dead_target_is_bounded_never_raises_and_never_logs_the_secret(caplog):
    secret = "s3cr3t-t0ken-value"
    url = f"json://robot:{secret}@127.0.0.1:{closed_port()}/hooks/{secret}"
    waits: list[float] = []
    with caplog.at_level(logging.DEBUG):
        (delivery,) = notify.notify(
            [TEAM], "failure", "t", "b", environ={"TEAM_URL": url}, attempts=3, sleep=waits.append
        )
    assert not delivery.ok and delivery.attempts == 3 and len(waits) == 2
    assert delivery.error
    assert secret not in caplog.text and secret not in json.dumps(delivery.as_dict())
    assert "json://***" in caplog.text


def test_missing_environment_variable_is_reported_not_raised():
    (delivery,) = notify.notify([TEAM], "start", "t", "b", environ={})
    assert not delivery.ok and delivery.attempts == 0 and "$TEAM_URL is not set" in delivery.error


def test_a_crashing_notifier_does_not_escape():
    def boom(*args):
        raise RuntimeError("network on fire")

    (delivery,) = notify.notify(
        [TEAM], "start", "t", "b", environ={"TEAM_URL": "json://x"}, send=boom, sleep=lambda s: 0
    )
    assert not delivery.ok and "network on fire" in delivery.error


def test_redact_keeps_only_the_scheme():
    assert notify.redact("slack://T000/B000/XXXX") == "slack://***"
    assert notify.redact("not a url") == "***"
