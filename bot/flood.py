"""Per-user flood guard: one person sending dozens of messages must not slow others."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from enum import Enum


class Verdict(Enum):
    """What to do with a message."""

    ALLOW = "allow"
    WARN = "warn"  # over the limit just now: send one notice
    IGNORE = "ignore"  # muted: say nothing


class FloodGuard:
    """Allows ``limit`` messages per ``window`` seconds per user, then mutes for a window."""

    def __init__(
        self,
        limit: int = 20,
        window: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._recent: dict[int, deque[float]] = {}
        self._muted_until: dict[int, float] = {}

    def check(self, user_id: int) -> Verdict:
        now = self._clock()
        muted_until = self._muted_until.get(user_id)
        if muted_until is not None:
            if now < muted_until:
                return Verdict.IGNORE
            del self._muted_until[user_id]
            self._recent.pop(user_id, None)
        recent = self._recent.setdefault(user_id, deque())
        while recent and recent[0] <= now - self.window:
            recent.popleft()
        recent.append(now)
        if len(recent) > self.limit:
            self._muted_until[user_id] = now + self.window
            return Verdict.WARN
        if len(self._recent) > 10_000:  # forget idle users now and then
            self._forget_idle(now)
        return Verdict.ALLOW

    def _forget_idle(self, now: float) -> None:
        for user_id in [u for u, r in self._recent.items() if not r or r[-1] <= now - self.window]:
            del self._recent[user_id]
