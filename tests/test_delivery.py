"""bot.telegram.delivery: a reply reaches the customer despite Telegram's bad moments."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from datetime import timedelta

import pytest
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.telegram.delivery import ATTEMPTS, MAX_WAITS, Undeliverable, deliver

DELIVERED = "delivered"


class Sender:
    """A send function that fails as scripted, then returns its result."""

    def __init__(self, failures: Iterable[Exception] = (), result: str = DELIVERED) -> None:
        self.failures = list(failures)
        self.result = result
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        return self.result


class Clock:
    """A sleep that only records how long it was asked to wait."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock()


def run(
    send: Callable[[], Awaitable[str]],
    clock: Clock,
    *,
    plain: Callable[[], Awaitable[str]] | None = None,
) -> str | None:
    return asyncio.run(deliver(send, plain=plain, what="reply", sleep=clock.sleep))


def test_deliver_returns_what_send_returned(clock: Clock) -> None:
    send = Sender()
    assert run(send, clock) == DELIVERED
    assert send.calls == 1
    assert clock.waits == []


@pytest.mark.parametrize(
    ("retry_after", "wait"),
    [
        (timedelta(seconds=3), 3.1),
        (timedelta(milliseconds=500), 0.6),
        (3, 3.1),
        (timedelta(minutes=5), 60.1),  # capped: never stall a reply for minutes
    ],
)
def test_deliver_rate_limited_waits_and_retries(
    retry_after: timedelta | int, wait: float, clock: Clock
) -> None:
    send = Sender([RetryAfter(retry_after)])
    assert run(send, clock) == DELIVERED
    assert send.calls == 2
    assert clock.waits == [pytest.approx(wait)]


@pytest.mark.parametrize("error", [NetworkError, TimedOut])
@pytest.mark.parametrize(
    ("failures", "waits"),
    [(1, [0.5]), (2, [0.5, 1.0]), (3, [0.5, 1.0, 2.0]), (4, [0.5, 1.0, 2.0, 4.0])],
)
def test_deliver_network_trouble_backs_off_then_succeeds(
    error: type[NetworkError], failures: int, waits: list[float], clock: Clock
) -> None:
    send = Sender([error("connection reset") for _ in range(failures)])
    assert run(send, clock) == DELIVERED
    assert send.calls == failures + 1
    assert clock.waits == waits


@pytest.mark.parametrize("error", [NetworkError, TimedOut])
def test_deliver_gives_up_after_five_failures(error: type[NetworkError], clock: Clock) -> None:
    send = Sender([error("connection reset") for _ in range(ATTEMPTS)])
    with pytest.raises(Undeliverable, match="connection reset") as raised:
        run(send, clock)
    assert ATTEMPTS == 5
    assert send.calls == 5
    assert clock.waits == [0.5, 1.0, 2.0, 4.0]
    assert isinstance(raised.value.__cause__, error)


def test_deliver_waits_out_many_rate_limits_without_losing_the_reply(clock: Clock) -> None:
    send = Sender([RetryAfter(timedelta(seconds=1)) for _ in range(ATTEMPTS + 3)], result="ok")
    assert run(send, clock) == "ok"
    assert send.calls == ATTEMPTS + 4


def test_deliver_gives_up_when_rate_limited_without_end(clock: Clock) -> None:
    send = Sender([RetryAfter(timedelta(seconds=1)) for _ in range(MAX_WAITS + ATTEMPTS)])
    with pytest.raises(Undeliverable):
        run(send, clock)
    assert send.calls == MAX_WAITS + ATTEMPTS


def test_deliver_unparsable_html_sends_the_plain_twin_once(clock: Clock) -> None:
    send = Sender([BadRequest("Can't parse entities: can't find end tag corresponding to <b>")])
    plain = Sender(result="plain text")
    assert run(send, clock, plain=plain) == "plain text"
    assert send.calls == 1
    assert plain.calls == 1
    assert clock.waits == []


def test_deliver_plain_twin_failing_to_parse_too_is_raised(clock: Clock) -> None:
    send = Sender([BadRequest("Can't parse entities: unsupported start tag")])
    plain = Sender([BadRequest("Can't parse entities: still broken")])
    with pytest.raises(BadRequest, match="still broken"):
        run(send, clock, plain=plain)
    assert plain.calls == 1


def test_deliver_plain_twin_retried_after_network_trouble(clock: Clock) -> None:
    send = Sender([BadRequest("Can't parse entities: unclosed tag")])
    plain = Sender([TimedOut("timed out")], result="plain text")
    assert run(send, clock, plain=plain) == "plain text"
    assert send.calls == 1
    assert plain.calls == 2
    assert clock.waits == [0.5]


def test_deliver_unparsable_html_without_plain_is_raised(clock: Clock) -> None:
    send = Sender([BadRequest("Can't parse entities: can't find end tag")])
    with pytest.raises(BadRequest, match="parse entities"):
        run(send, clock)
    assert send.calls == 1


@pytest.mark.parametrize(
    "message", ["Message is too long", "Chat not found", "Button_data_invalid"]
)
def test_deliver_other_bad_request_is_raised_without_plain(message: str, clock: Clock) -> None:
    send = Sender([BadRequest(message)])
    plain = Sender()
    with pytest.raises(BadRequest, match=message):
        run(send, clock, plain=plain)
    assert send.calls == 1
    assert plain.calls == 0
    assert clock.waits == []


@pytest.mark.parametrize(
    "message", ["Forbidden: bot was blocked by the user", "Forbidden: user is deactivated"]
)
def test_deliver_closed_chat_gives_none_without_retry(message: str, clock: Clock) -> None:
    send = Sender([Forbidden(message)])
    plain = Sender()
    assert run(send, clock, plain=plain) is None
    assert send.calls == 1
    assert plain.calls == 0
    assert clock.waits == []


def test_deliver_short_lived_gives_up_on_a_long_flood_wait(clock: Clock) -> None:
    send = Sender([RetryAfter(timedelta(seconds=30))])
    result = asyncio.run(deliver(send, what="button answer", sleep=clock.sleep, patience=10))
    assert result is None
    assert (send.calls, clock.waits) == (1, [])


def test_deliver_short_lived_waits_while_it_is_worth_it(clock: Clock) -> None:
    send = Sender([RetryAfter(timedelta(seconds=2)), RetryAfter(timedelta(seconds=9))])
    result = asyncio.run(deliver(send, what="button answer", sleep=clock.sleep, patience=10))
    assert result is None  # 2.1 s waited; 9.1 s more would be 11.2 s in all
    assert clock.waits == [pytest.approx(2.1)]
    send = Sender([RetryAfter(timedelta(seconds=2))])
    assert asyncio.run(deliver(send, sleep=clock.sleep, patience=10)) == DELIVERED
