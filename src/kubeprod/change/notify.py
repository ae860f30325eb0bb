"""Change notifications (CHG-5) through Apprise: Slack, Teams, email, webhooks ...

Target URLs come from the environment variable each target names (`url_env`),
never from the spec, because an Apprise URL usually carries a token. URLs never
reach a log: kubeprod shows `scheme://***`, and a filter scrubs them from
Apprise's own log records. A target that fails is retried a bounded number of
times and then reported; it never fails the change it reports on.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass

from kubeprod.spec.model import NotificationTarget

EVENTS = ("start", "success", "failure", "emergency", "drift")
log = logging.getLogger("kubeprod.notify")


def redact(url: str) -> str:
    """`slack://T000/B000/XXXX` -> `slack://***`: the scheme says where, nothing else."""
    scheme, sep, _ = url.partition("://")
    return f"{scheme}://***" if sep else "***"


class _Scrub(logging.Filter):
    """Replaces every known secret in a log record's text with ***."""

    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secrets:
            text = record.getMessage()
            for secret in sorted(self.secrets, key=len, reverse=True):
                text = text.replace(secret, "***")
            record.msg, record.args = text, ()
        return True


_SCRUB = _Scrub()


def _secrets_of(url: str) -> set[str]:
    """The URL and its credential-bearing parts (user:password@, path tokens)."""
    found = {url}
    _, _, rest = url.partition("://")
    if rest:
        found.add(rest)
        netloc, _, path = rest.partition("/")
        if "@" in netloc:
            found.add(netloc.rsplit("@", 1)[0])
        found.update(part for part in path.split("/") if len(part) >= 8)
    return {s for s in found if s}


def _guard_logs(url: str) -> None:
    _SCRUB.secrets |= _secrets_of(url)
    for name in ("apprise", "kubeprod"):
        logger = logging.getLogger(name)
        if _SCRUB not in logger.filters:
            logger.addFilter(_SCRUB)


@dataclass(frozen=True)
class Delivery:
    """What happened to one notice for one target."""

    target: str
    event: str
    ok: bool
    attempts: int
    url: str  # redacted
    error: str = ""

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def _send_once(url: str, title: str, body: str, event: str) -> bool:
    import apprise  # lazy, for start-up time (~0.1 s): only a notice sends

    kind = {
        "start": apprise.NotifyType.INFO,
        "success": apprise.NotifyType.SUCCESS,
        "failure": apprise.NotifyType.FAILURE,
    }.get(event, apprise.NotifyType.WARNING)
    client = apprise.Apprise()
    if not client.add(url):
        raise ValueError("Apprise does not recognise this URL")
    return bool(client.notify(body=body, title=title, notify_type=kind))


def notify(
    targets: Iterable[NotificationTarget],
    event: str,
    title: str,
    body: str,
    *,
    environ: Mapping[str, str] | None = None,
    attempts: int = 3,
    delay: float = 0.5,
    sleep: Callable[[float], None] = time.sleep,
    send: Callable[[str, str, str, str], bool] = _send_once,
) -> list[Delivery]:
    """Send one notice to every target subscribed to `event`; never raises."""
    environ = os.environ if environ is None else environ
    results = []
    for target in targets:
        if event not in target.events:
            continue
        url = environ.get(target.url_env, "").strip()
        if not url:
            message = f"${target.url_env} is not set"
            log.warning("notify %s: %s; %s notice not sent", target.name, message, event)
            results.append(Delivery(target.name, event, False, 0, "", message))
            continue
        _guard_logs(url)
        error, tries = "", 0
        for tries in range(1, attempts + 1):
            try:
                if send(url, title, body, event):
                    error = ""
                    break
                error = "the service did not accept the notice"
            except Exception as exc:  # a notifier must never break the change
                error = f"{type(exc).__name__}: {exc}"
            if tries < attempts:
                sleep(delay * tries)
        for secret in _secrets_of(url):
            error = error.replace(secret, "***")
        if error:
            log.warning(
                "notify %s (%s): %s notice failed after %d attempts: %s",
                target.name,
                redact(url),
                event,
                tries,
                error,
            )
        results.append(Delivery(target.name, event, not error, tries, redact(url), error))
    return results
