"""Is the bot alive? A heartbeat file for polling mode and `faqbot health`.

Docker's HEALTHCHECK runs `faqbot health` in the container. In polling mode the bot
touches DATA_DIR/heartbeat after successful polls; in webhook mode the check asks
the bot's own /healthz. The heartbeat holds the bot's report (the store's state) as
JSON, so `faqbot health --json` can show it in both modes.
"""

from __future__ import annotations

import json
import logging
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from pathlib import Path

from bot.private_files import write_private

logger = logging.getLogger(__name__)

HEARTBEAT_FILE = "heartbeat"
STARTING = "starting"
"""The heartbeat's content and the health reason while Telegram has not answered yet."""
MAX_AGE = 90.0
"""Seconds without a successful poll before the bot counts as unhealthy; a long poll
lasts 10 s, so this allows for several failed attempts and Telegram hiccups."""


class Heartbeat:
    """Touches the heartbeat file, at most every ``min_interval`` seconds."""

    def __init__(
        self,
        path: Path,
        *,
        min_interval: float = 5.0,
        clock: Callable[[], float] = time.time,
        report: Callable[[], dict[str, object]] = dict,
    ) -> None:
        self.path = path
        self._report = report
        self.min_interval = min_interval
        self._clock = clock
        self._last = float("-inf")
        self._failing = False

    def beat(self) -> None:
        now = self._clock()
        if now - self._last < self.min_interval:
            return
        self._last = now
        try:
            details = json.dumps({"at": round(now), **self._report()})
            write_private(self.path, (details + "\n").encode(), durable=False)
        except OSError as exc:
            if not self._failing:  # say it once, not every poll
                logger.warning("Cannot write the heartbeat %s: %s", self.path, exc)
            self._failing = True
        else:
            self._failing = False

    def starting(self, detail: str) -> None:
        """Say "starting" until the first poll works (no contact with Telegram yet)."""
        self._last = float("-inf")
        try:
            self.path.write_text(f"{STARTING} {detail}\n", encoding="utf-8")
        except OSError as exc:
            logger.warning("Cannot write the heartbeat %s: %s", self.path, exc)


def check(environ: Mapping[str, str], *, now: float | None = None) -> tuple[bool, str]:
    """(healthy, reason) for the bot configured by ``environ``."""
    if environ.get("WEBHOOK_URL", "").strip():
        port = environ.get("PORT", "").strip() or "8080"
        url = f"http://127.0.0.1:{port}/healthz"
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return response.status == 200, f"{url} answered {response.status}"
        except urllib.error.HTTPError as exc:
            with exc:
                body = exc.read(1000)
            if b'"status": "%s"' % STARTING.encode() in body:
                return False, f"{STARTING}: {url} says no contact with Telegram yet"
            return False, f"{url} answered {exc.code}"
        except (urllib.error.URLError, OSError) as exc:
            return False, f"{url} did not answer: {exc}"
    data_dir = Path(environ.get("DATA_DIR", "").strip() or "data")
    heartbeat = data_dir / HEARTBEAT_FILE
    try:
        age = (time.time() if now is None else now) - heartbeat.stat().st_mtime
    except OSError:
        return False, f"no heartbeat at {heartbeat}: the bot has not polled yet"
    try:
        content = heartbeat.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        content = ""
    if content.startswith(STARTING):
        return False, f"{content}: no contact with Telegram yet"
    if age > MAX_AGE:
        return False, f"last successful poll {age:.0f} s ago (limit {MAX_AGE:.0f} s)"
    return True, f"last successful poll {max(age, 0):.0f} s ago"


def details(environ: Mapping[str, str]) -> dict[str, object]:
    """What the running bot last reported (/healthz, or the heartbeat); {} if nothing."""
    if environ.get("WEBHOOK_URL", "").strip():
        port = environ.get("PORT", "").strip() or "8080"
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
                body = response.read()
        except urllib.error.HTTPError as exc:  # 503 still carries the report
            body = exc.read()
        except (urllib.error.URLError, OSError):
            return {}
    else:
        data_dir = Path(environ.get("DATA_DIR", "").strip() or "data")
        try:
            body = (data_dir / HEARTBEAT_FILE).read_bytes()
        except OSError:
            return {}
    try:
        report = json.loads(body)
    except ValueError:  # a heartbeat from an older faqbot: just a time
        return {}
    return report if isinstance(report, dict) else {}


def semantic_report(
    environ: Mapping[str, str], reported: Mapping[str, object]
) -> dict[str, object]:
    """Whether semantic matching is active: as the running bot reported it (``details``:
    /healthz or the heartbeat), else as SEMANTIC and this machine allow (same container)."""
    from bot.errors import ConfigError
    from bot.semantic import SemanticStatus, parse_mode, unusable_reason

    if "semantic" in reported:
        return {k: reported[k] for k in ("semantic", "semantic_reason") if k in reported}
    try:
        mode = parse_mode(environ.get("SEMANTIC"))
    except ConfigError as exc:  # report it rather than fail the health check
        return SemanticStatus(False, str(exc)).as_json()
    if mode == "off":
        return SemanticStatus(False, "SEMANTIC=off").as_json()
    reason = unusable_reason()
    return SemanticStatus(reason is None, reason or "").as_json()
