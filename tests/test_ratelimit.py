"""bot.telegram.ratelimit: a 429 stays with the chat it came from."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import pytest
from telegram.error import RetryAfter

from bot.telegram.ratelimit import ChatRateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def request(limiter: ChatRateLimiter, chat_id: int, calls: list[int], *, flood: float = 0) -> Any:
    async def callback() -> bool:
        calls.append(chat_id)
        if flood:
            raise RetryAfter(dt.timedelta(seconds=flood))
        return True

    return limiter.process_request(callback, (), {}, "sendMessage", {"chat_id": chat_id}, None)


def test_limiter_429_for_one_chat_blocks_only_that_chat(clock: Clock) -> None:
    limiter = ChatRateLimiter(overall_per_second=0, clock=clock)
    calls: list[int] = []

    async def scenario() -> None:
        with pytest.raises(RetryAfter):
            await request(limiter, -100, calls, flood=3600)
        with pytest.raises(RetryAfter) as again:
            await request(limiter, -100, calls)
        assert 3599 <= again.value.retry_after.total_seconds() <= 3600  # type: ignore[union-attr]
        assert await request(limiter, 42, calls) is True

    asyncio.run(scenario())
    assert calls == [-100, 42]  # the throttled chat was not asked again
    assert limiter.blocked_for(-100) == pytest.approx(3600)
    assert limiter.blocked_for(42) == 0
    assert limiter.throttled_chats == 1


def test_limiter_chat_is_free_again_after_its_wait(clock: Clock) -> None:
    limiter = ChatRateLimiter(overall_per_second=30, clock=clock)
    calls: list[int] = []

    async def scenario() -> None:
        with pytest.raises(RetryAfter):
            await request(limiter, 7, calls, flood=2)
        clock.now += 2.5
        assert await request(limiter, 7, calls) is True

    asyncio.run(scenario())
    assert calls == [7, 7]
    assert limiter.throttled_chats == 0


def test_limiter_passes_requests_without_a_chat_untouched(clock: Clock) -> None:
    limiter = ChatRateLimiter(overall_per_second=30, clock=clock)

    async def get_me() -> dict[str, Any]:
        return {"id": 1}

    result = asyncio.run(limiter.process_request(get_me, (), {}, "getMe", {}, None))
    assert result == {"id": 1}
