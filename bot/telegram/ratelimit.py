"""Telegram's flood limits, per chat: one throttled chat never slows the others.

Two jobs, as PTB's ``BaseRateLimiter`` hook sees every Bot API request:

- Proactive throttling to Telegram's published limits (30 messages a second overall,
  20 a minute per group), with aiolimiter's leaky buckets, as PTB's AIORateLimiter.
- A 429 is remembered for the chat it came from: later requests to that chat fail at
  once with ``RetryAfter`` (the remaining wait) instead of waiting here, so the caller
  decides where to wait. The outbox waits in the chat's own task, never in a slot that
  handles updates; requests to other chats go straight on.

Why not AIORateLimiter: when any request gets a 429 it halts *every* request for
``retry_after`` (one ``retry_after: 3600`` for one group silenced all chats for an hour
in a black-box test). aiolimiter only throttles; no kept library waits per chat.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Coroutine
from contextlib import AsyncExitStack
from typing import Any

from aiolimiter import AsyncLimiter
from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

GROUP_MESSAGES_PER_MINUTE = 20
"""Telegram's limit for one group; more gets a 429 with a long retry_after."""

Result = bool | dict[str, Any] | list[dict[str, Any]]


def retry_after_seconds(error: RetryAfter) -> float:
    """The wait Telegram asked for, in seconds (PTB gives an int or a timedelta)."""
    value: Any = error.retry_after
    total_seconds = getattr(value, "total_seconds", None)
    return float(total_seconds()) if callable(total_seconds) else float(value)


class ChatRateLimiter(BaseRateLimiter[None]):
    """Throttles to Telegram's limits and keeps each chat's 429 to that chat."""

    def __init__(
        self,
        *,
        overall_per_second: float,
        group_per_minute: int = GROUP_MESSAGES_PER_MINUTE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._overall = AsyncLimiter(overall_per_second, 1) if overall_per_second > 0 else None
        self._group_rate = group_per_minute if overall_per_second > 0 else 0
        self._groups: dict[int | str, AsyncLimiter] = {}
        self._blocked_until: dict[int | str, float] = {}
        self._clock = clock

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""

    def blocked_for(self, chat_id: int | str) -> float:
        """Seconds until Telegram accepts requests to ``chat_id`` again (0: now)."""
        until = self._blocked_until.get(chat_id)
        if until is None:
            return 0.0
        remaining = until - self._clock()
        if remaining <= 0:
            del self._blocked_until[chat_id]
            return 0.0
        return remaining

    @property
    def throttled_chats(self) -> int:
        """How many chats are waiting out a 429 right now."""
        return sum(1 for chat_id in list(self._blocked_until) if self.blocked_for(chat_id) > 0)

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, Result]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: None,
    ) -> Result:
        chat_id = data.get("chat_id")
        if not isinstance(chat_id, int | str) or endpoint == "getUpdates":
            return await callback(*args, **kwargs)
        remaining = self.blocked_for(chat_id)
        if remaining > 0:
            # Telegram would answer 429 anyway; asking again only lengthens the wait.
            raise RetryAfter(dt.timedelta(seconds=remaining))
        async with AsyncExitStack() as limits:
            group = self._group(chat_id)
            if group is not None:
                await limits.enter_async_context(group)
            if self._overall is not None:
                await limits.enter_async_context(self._overall)
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                self._blocked_until[chat_id] = self._clock() + retry_after_seconds(exc)
                raise

    def _group(self, chat_id: int | str) -> AsyncLimiter | None:
        # Negative ids and @usernames are groups and channels; users have positive ids.
        is_group = isinstance(chat_id, str) or chat_id < 0
        if not is_group or self._group_rate <= 0:
            return None
        limiter = self._groups.get(chat_id)
        if limiter is None:
            if len(self._groups) > 10_000:  # idle groups' buckets are full again anyway
                self._groups.clear()
            limiter = self._groups[chat_id] = AsyncLimiter(self._group_rate, 60)
        return limiter
