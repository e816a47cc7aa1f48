"""Is the analytics store working? One tracker for logs, metrics and /healthz.

A store that breaks is logged once when it breaks and once when it works again (with
how long it was down and what was lost), never once per batch: a full disk for an
hour must not fill the log as well. Lost events are counted by reason:

    unavailable  the database stayed locked, read-only, full or missing past the retry time
    unstorable   one event could not be stored at all (the others were)
    queue_full   the writer was so far behind that the queue bound was reached
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

logger = logging.getLogger("bot.store")

LOSS_REASONS = ("unavailable", "unstorable", "queue_full")


class StoreState:
    """Thread-safe: the writer thread reports, the event loop reads and queues.

    ``path`` names the store in log lines: a file, or DATABASE_URL without its password.
    """

    def __init__(
        self,
        path: str,
        *,
        on_lost: Callable[[str, int], None] = lambda reason, count: None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = path
        self._on_lost = on_lost
        self._clock = clock
        self._lock = threading.Lock()
        self.failing_since: float | None = None
        self.last_error = ""
        self.written = 0
        self.lost_by_reason = dict.fromkeys(LOSS_REASONS, 0)
        self._lost_before_break = 0

    @property
    def lost(self) -> int:
        return sum(self.lost_by_reason.values())

    @property
    def ok(self) -> bool:
        return self.failing_since is None

    def failed(self, error: str) -> None:
        """A write or open failed; the first failure of a run is logged."""
        with self._lock:
            self.last_error = error
            if self.failing_since is not None:
                return
            self.failing_since = self._clock()
            self._lost_before_break = self.lost
        logger.error(
            "Analytics store failing (answering goes on, events are kept and retried): %s", error
        )

    def wrote(self, count: int) -> None:
        """``count`` events were stored; logs the recovery if the store was failing."""
        with self._lock:
            self.written += count
            since = self.failing_since
            if since is None:
                return
            self.failing_since = None
            lost = self.lost - self._lost_before_break
        logger.warning(
            "Analytics store works again after %.0f s (%s); %d event(s) lost meanwhile",
            self._clock() - since,
            self.path,
            lost,
        )

    def lose(self, reason: str, count: int = 1) -> None:
        """Count events that will never be stored."""
        with self._lock:
            self.lost_by_reason[reason] += count
        self._on_lost(reason, count)

    def report(self) -> dict[str, object]:
        """For /healthz and `faqbot health --json`."""
        with self._lock:
            since = self.failing_since
            report: dict[str, object] = {
                "state": "ok" if since is None else "failing",
                "since": _iso(since) if since is not None else None,
                "events_written": self.written,
                "events_lost": self.lost,
                "lost_by_reason": dict(self.lost_by_reason),
            }
            if since is not None:
                report["error"] = self.last_error
        return report


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds")
