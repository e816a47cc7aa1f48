"""bot.telegram.outbox and transmit: per-chat order, flood waits, outages, caps, shutdown."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter

from bot.logs import current_update_id
from bot.metrics import Metrics
from bot.telegram import outbox as outbox_module
from bot.telegram.delivery import Outgoing, TelegramUnavailable, Undeliverable
from bot.telegram.outbox import Outbox
from bot.telegram.updates import UpdateLedger


@dataclass
class Sent:
    chat_id: int
    text: str
    message_id: int = 1


@dataclass
class StubBot:
    """Answers like Telegram; ``failures`` are raised first, in order, per method."""

    failures: dict[str, list[Exception]] = field(default_factory=dict)
    sent: list[Sent] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)

    def _fail(self, method: str) -> None:
        self.calls.append(method)
        queue = self.failures.get(method)
        if queue:
            raise queue.pop(0)

    async def send_message(self, chat_id: int, text: str, **_: Any) -> Sent:
        self._fail("send_message")
        message = Sent(chat_id, text, len(self.sent) + 1)
        self.sent.append(message)
        return message

    async def edit_message_text(self, text: str, chat_id: int, message_id: int, **_: Any) -> Any:
        self._fail("edit_message_text")
        return True

    async def edit_message_reply_markup(self, chat_id: int, message_id: int, **_: Any) -> Any:
        self._fail("edit_message_reply_markup")
        return True


class Clock:
    """Virtual time: sleeping advances it at once."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


def make(bot: StubBot, clock: Clock, ledger: UpdateLedger | None = None) -> tuple[Outbox, Metrics]:
    metrics = Metrics()
    box = Outbox(bot, metrics=metrics, ledger=ledger, sleep=clock.sleep, clock=clock)  # type: ignore[arg-type]
    return box, metrics


def part(chat_id: int, text: str, **kw: Any) -> Outgoing:
    return Outgoing(chat_id, f"<b>{text}</b>", text, **kw)


def run(scenario: Callable[[], Any]) -> Any:
    return asyncio.run(scenario())


def dropped(metrics: Metrics, reason: str) -> float:
    value = metrics.registry.get_sample_value("faqbot_replies_dropped_total", {"reason": reason})
    return value or 0.0


def test_outbox_flood_wait_keeps_the_chats_order_and_others_flowing() -> None:
    bot = StubBot({"send_message": [RetryAfter(dt.timedelta(seconds=3))]})
    clock = Clock()

    async def scenario() -> None:
        box, _ = make(bot, clock)
        box.post([part(1, "first")])
        box.post([part(1, "second")])
        box.post([part(2, "other")])
        await box.flush()
        assert box.pending == 0

    run(scenario)
    assert [(m.chat_id, m.text) for m in bot.sent if m.chat_id == 1] == [
        (1, "<b>first</b>"),
        (1, "<b>second</b>"),
    ]
    assert 3.0 <= clock.slept[0] < 3.2


def test_outbox_flood_wait_over_the_cap_is_given_up_and_counted() -> None:
    bot = StubBot({"send_message": [RetryAfter(dt.timedelta(seconds=3600))]})
    clock = Clock()

    async def scenario() -> Metrics:
        box, metrics = make(bot, clock)
        box.post([part(1, "late")])
        box.post([part(1, "next")])
        await box.flush()
        return metrics

    metrics = run(scenario)
    assert dropped(metrics, "flood_wait") == 1
    assert [m.text for m in bot.sent] == ["<b>next</b>"]
    assert clock.slept == []  # an hour is not waited at all


def test_outbox_outage_is_retried_with_backoff_then_delivered() -> None:
    bot = StubBot({"send_message": [NetworkError("Bad Gateway")] * 12})
    clock = Clock()

    async def scenario() -> None:
        box, _ = make(bot, clock)
        box.post([part(1, "answer")])
        await box.flush()

    run(scenario)
    assert [m.text for m in bot.sent] == ["<b>answer</b>"]
    assert clock.slept[:4] == [0.5, 1.0, 2.0, 4.0]
    assert max(clock.slept) == outbox_module.MAX_BACKOFF
    assert sum(clock.slept) < outbox_module.OUTAGE_BUDGET


def test_outbox_outage_longer_than_the_budget_drops_the_reply() -> None:
    bot = StubBot({"send_message": [NetworkError("down")] * 1000})
    clock = Clock()
    ledger = UpdateLedger()
    ledger.receive(9)

    async def scenario() -> Metrics:
        box, metrics = make(bot, clock, ledger)
        current_update_id.set(9)
        box.post([part(1, "answer")])
        ledger.release(9)  # the handler returned
        await box.flush()
        return metrics

    metrics = run(scenario)
    assert dropped(metrics, "outage") == 1
    assert bot.sent == []
    assert outbox_module.OUTAGE_BUDGET <= clock.now < outbox_module.OUTAGE_BUDGET + 10
    assert ledger.offset == 10  # given up is done: it would fail again after a restart


def test_outbox_chat_migration_sends_there_and_remembers_it() -> None:
    bot = StubBot({"send_message": [ChatMigrated(-1002)]})
    clock = Clock()

    async def scenario() -> None:
        box, _ = make(bot, clock)
        box.post([part(-5, "one", reply_to=3)])
        await box.flush()
        box.post([part(-5, "two")])
        await box.flush()

    run(scenario)
    assert [(m.chat_id, m.text) for m in bot.sent] == [(-1002, "<b>one</b>"), (-1002, "<b>two</b>")]


def test_outbox_edit_of_a_gone_message_becomes_a_new_message() -> None:
    bot = StubBot({"edit_message_text": [BadRequest("Message to edit not found")]})

    async def scenario() -> None:
        box, _ = make(bot, Clock())
        box.post([part(1, "category", edit_message_id=4)])
        await box.flush()

    run(scenario)
    assert bot.calls == ["edit_message_text", "send_message"]
    assert [m.text for m in bot.sent] == ["<b>category</b>"]


def test_outbox_unparsable_html_sends_the_plain_twin() -> None:
    bot = StubBot({"send_message": [BadRequest("Can't parse entities: bad tag")]})

    async def scenario() -> None:
        box, _ = make(bot, Clock())
        box.post([part(1, "answer")])
        await box.flush()

    run(scenario)
    assert [m.text for m in bot.sent] == ["answer"]


def test_outbox_refused_reply_is_dropped_and_the_next_one_sent() -> None:
    bot = StubBot({"send_message": [BadRequest("Message text is empty")]})

    async def scenario() -> Metrics:
        box, metrics = make(bot, Clock())
        box.post([part(1, "bad"), part(1, "rest of the same reply")])
        box.post([part(1, "next")])
        await box.flush()
        return metrics

    metrics = run(scenario)
    assert dropped(metrics, "refused") == 1
    assert [m.text for m in bot.sent] == ["<b>next</b>"]


def test_outbox_full_chat_queue_drops_and_counts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(outbox_module, "MAX_PER_CHAT", 3)
    bot = StubBot()
    recorded: list[int] = []

    async def scenario() -> Metrics:
        box, metrics = make(bot, Clock())
        for number in range(5):
            box.post([part(1, str(number))], on_sent=lambda sent: recorded.append(len(sent)))
        assert box.pending == 3
        await box.flush()
        return metrics

    metrics = run(scenario)
    assert dropped(metrics, "queue_full") == 2
    assert len(bot.sent) == 3
    assert sorted(recorded) == [0, 0, 1, 1, 1]  # the question is still recorded


def test_outbox_close_abandons_a_flood_wait_at_once_and_keeps_the_update_open() -> None:
    bot = StubBot({"send_message": [RetryAfter(dt.timedelta(seconds=200))]})
    ledger = UpdateLedger()
    ledger.receive(5)

    async def scenario() -> tuple[int, float]:
        box = Outbox(bot, metrics=Metrics(), ledger=ledger)  # type: ignore[arg-type]  # real sleep
        current_update_id.set(5)
        box.post([part(1, "waiting")])
        ledger.release(5)
        while not box._parked:  # the chat's task reached its wait
            await asyncio.sleep(0)
        loop = asyncio.get_running_loop()
        started = loop.time()
        left = await box.close(10)
        return left, loop.time() - started

    left, seconds = run(scenario)
    assert left == 1
    assert seconds < 1  # SIGTERM never waits on a retry_after
    assert ledger.offset == 5  # Telegram delivers it again after the restart


# send: waiting for the messages (the team handoff) -------------------------------------


def test_outbox_send_waits_through_an_outage_and_returns_the_messages() -> None:
    bot = StubBot({"send_message": [NetworkError("Bad Gateway")] * 8})
    clock = Clock()

    async def scenario() -> list[Any]:
        box, _ = make(bot, clock)
        box.post([part(1, "queued before")])
        return await box.send([part(1, "one"), part(1, "two")])

    messages = run(scenario)
    assert [m.text for m in messages] == ["<b>one</b>", "<b>two</b>"]
    # The chat's order holds; the outage lasted longer than deliver()'s five attempts.
    assert [m.text for m in bot.sent] == ["<b>queued before</b>", "<b>one</b>", "<b>two</b>"]
    assert clock.now > 10


def test_outbox_send_past_the_outage_budget_says_telegram_was_unavailable() -> None:
    bot = StubBot({"send_message": [NetworkError("down")] * 1000})

    async def scenario() -> None:
        box, _ = make(bot, Clock())
        await box.send([part(1, "answer")])

    with pytest.raises(TelegramUnavailable):
        run(scenario)


def test_outbox_send_with_a_flood_wait_over_the_cap_says_telegram_was_unavailable() -> None:
    bot = StubBot({"send_message": [RetryAfter(dt.timedelta(seconds=3600))]})

    async def scenario() -> None:
        box, _ = make(bot, Clock())
        await box.send([part(1, "answer")])

    with pytest.raises(TelegramUnavailable, match="3600"):
        run(scenario)


def test_outbox_send_refused_is_undeliverable_with_telegrams_reason() -> None:
    bot = StubBot({"send_message": [BadRequest("Chat not found")]})

    async def scenario() -> None:
        box, _ = make(bot, Clock())
        await box.send([part(1, "post")])

    with pytest.raises(Undeliverable, match="Chat not found") as raised:
        run(scenario)
    assert not isinstance(raised.value, TelegramUnavailable)  # the admins must hear of it


def test_outbox_send_to_a_closed_chat_returns_no_message() -> None:
    bot = StubBot({"send_message": [Forbidden("bot was blocked by the user")]})

    async def scenario() -> list[Any]:
        box, _ = make(bot, Clock())
        return await box.send([part(1, "answer")])

    assert run(scenario) == []


def test_outbox_send_full_queue_is_undeliverable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(outbox_module, "MAX_PER_CHAT", 1)

    async def scenario() -> None:
        box, _ = make(StubBot(), Clock())
        box.post([part(1, "fills the queue")])
        await box.send([part(1, "no room")])

    with pytest.raises(Undeliverable, match="too many"):
        run(scenario)


def test_outbox_close_releases_whoever_waits_on_an_abandoned_reply() -> None:
    bot = StubBot({"send_message": [RetryAfter(dt.timedelta(seconds=200))]})

    async def scenario() -> tuple[list[Any] | BaseException]:
        box = Outbox(bot, metrics=Metrics())  # type: ignore[arg-type]  # real sleep
        waiting = asyncio.ensure_future(box.send([part(1, "waiting")]))
        while not box._parked:  # the chat's task reached its flood wait
            await asyncio.sleep(0)
        await box.close(10)
        return await asyncio.wait_for(asyncio.gather(waiting, return_exceptions=True), 1)

    [outcome] = run(scenario)
    assert isinstance(outcome, Undeliverable)
