"""Self-tests for the fake Bot API, driven by PTB's real ``telegram.Bot`` over HTTP.

They pin down that PTB raises the same exceptions against the fake as against
Telegram; otherwise the bot's end-to-end tests would prove nothing about production.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

import pytest
import telegram
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter

from tests.fake_bot_api import FakeBotApi, bot_base_urls

CHAT = 1001
T = TypeVar("T")


@pytest.fixture(autouse=True)
def _ptb_timedelta(monkeypatch: pytest.MonkeyPatch) -> None:
    """PTB 22.8 warns inside ``RetryAfter.__init__`` unless timedeltas are opted in.

    Under ``filterwarnings = error`` that warning would replace the RetryAfter itself.
    """
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


@pytest.fixture
def server() -> Iterator[FakeBotApi]:
    with FakeBotApi() as fake:
        fake.add_chat(CHAT)
        yield fake


def run_with_bot(server: FakeBotApi, action: Callable[[telegram.Bot], Awaitable[T]]) -> T:
    """Run ``action(bot)`` in a fresh event loop with an initialised, closed-after Bot."""

    async def main() -> T:
        base_url, base_file_url = bot_base_urls(server)
        async with telegram.Bot(
            server.token, base_url=base_url, base_file_url=base_file_url
        ) as bot:
            return await action(bot)

    return asyncio.run(main())


def test_get_me_describes_the_fake_bot(server: FakeBotApi) -> None:
    async def action(bot: telegram.Bot) -> telegram.User:
        return await bot.get_me()

    me = run_with_bot(server, action)
    assert me.username == "faq_test_bot"
    assert me.supports_inline_queries is True
    assert [call.method for call in server.calls][:1] == ["getMe"]


def test_send_message_with_valid_html_returns_a_message(server: FakeBotApi) -> None:
    keyboard = telegram.InlineKeyboardMarkup(
        [[telegram.InlineKeyboardButton("Ja", callback_data="yes")]]
    )

    async def action(bot: telegram.Bot) -> telegram.Message:
        return await bot.send_message(
            CHAT, "<b>Öffnungszeiten</b> &amp; Preise", parse_mode="HTML", reply_markup=keyboard
        )

    message = run_with_bot(server, action)
    assert isinstance(message, telegram.Message)
    assert message.text == "Öffnungszeiten & Preise"
    assert message.entities[0].type == telegram.MessageEntity.BOLD
    sent = server.sent_messages(CHAT)
    assert sent[0]["parse_mode"] == "HTML"
    assert sent[0]["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "yes"


@pytest.mark.parametrize(
    "html", ["<b>offen", "<b>x</i>", "<blink>x</blink>", "Tom & Jerry", "1 < 2"]
)
def test_invalid_html_is_a_bad_request(server: FakeBotApi, html: str) -> None:
    async def action(bot: telegram.Bot) -> None:
        await bot.send_message(CHAT, html, parse_mode="HTML")

    with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
        run_with_bot(server, action)
    assert server.sent_messages() == []


def test_text_over_4096_characters_is_too_long(server: FakeBotApi) -> None:
    async def action(bot: telegram.Bot) -> None:
        await bot.send_message(CHAT, "x" * 4097)

    with pytest.raises(BadRequest, match="too long"):
        run_with_bot(server, action)


def test_length_is_counted_after_html_parsing(server: FakeBotApi) -> None:
    async def action(bot: telegram.Bot) -> telegram.Message:
        return await bot.send_message(CHAT, "<b>" + "&amp;" * 4096 + "</b>", parse_mode="HTML")

    assert run_with_bot(server, action).text == "&" * 4096


def test_flood_limit_raises_retry_after(server: FakeBotApi) -> None:
    server.fail_next("sendMessage", status=429, retry_after=7)

    async def action(bot: telegram.Bot) -> telegram.Message:
        with pytest.raises(RetryAfter) as caught:
            await bot.send_message(CHAT, "Hallo")
        assert caught.value.retry_after == dt.timedelta(seconds=7)
        return await bot.send_message(CHAT, "Hallo")  # the fault was used up

    assert run_with_bot(server, action).text == "Hallo"
    assert [call.status for call in server.calls_to("sendMessage")] == [429, 200]


def test_bad_gateway_raises_network_error(server: FakeBotApi) -> None:
    server.fail_next("sendMessage", status=502)

    async def action(bot: telegram.Bot) -> None:
        await bot.send_message(CHAT, "Hallo")

    with pytest.raises(NetworkError, match="Bad Gateway") as caught:
        run_with_bot(server, action)
    assert not isinstance(caught.value, BadRequest)


def test_get_updates_returns_injected_updates_and_respects_offset(server: FakeBotApi) -> None:
    first = server.send_text("Wann habt ihr offen?")
    second = server.send_command("/start")

    async def action(bot: telegram.Bot) -> tuple[Any, Any, Any]:
        both = await bot.get_updates(timeout=0)
        rest = await bot.get_updates(offset=both[0].update_id + 1, timeout=0)
        none = await bot.get_updates(offset=rest[-1].update_id + 1, timeout=1)
        return both, rest, none

    both, rest, none = run_with_bot(server, action)
    assert [u.update_id for u in both] == [first["update_id"], second["update_id"]]
    assert both[0].message.text == "Wann habt ihr offen?"
    assert [u.update_id for u in rest] == [second["update_id"]]
    assert rest[0].message.text == "/start"
    assert none == ()
    assert server.pending_updates == []


def test_long_poll_returns_as_soon_as_an_update_arrives(server: FakeBotApi) -> None:
    async def action(bot: telegram.Bot) -> Any:
        poll = asyncio.create_task(bot.get_updates(timeout=30))
        await asyncio.sleep(0.1)
        server.send_text("Hallo?")
        return await asyncio.wait_for(poll, 0.9)

    updates = run_with_bot(server, action)
    assert updates[0].message.text == "Hallo?"


def test_blocked_user_is_forbidden(server: FakeBotApi) -> None:
    server.block_user(CHAT)

    async def action(bot: telegram.Bot) -> None:
        await bot.send_message(CHAT, "Hallo")

    with pytest.raises(Forbidden, match="blocked by the user"):
        run_with_bot(server, action)


def test_edit_to_identical_text_is_not_modified(server: FakeBotApi) -> None:
    async def action(bot: telegram.Bot) -> None:
        message = await bot.send_message(CHAT, "Hallo")
        await bot.edit_message_text("Hallo!", CHAT, message.message_id)
        await bot.edit_message_text("Hallo!", CHAT, message.message_id)

    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        run_with_bot(server, action)
    assert server.sent_messages()[0]["text"] == "Hallo!"


def test_click_answers_a_button_of_a_sent_message(server: FakeBotApi) -> None:
    keyboard = telegram.InlineKeyboardMarkup(
        [[telegram.InlineKeyboardButton("Ja", callback_data="yes")]]
    )

    async def action(bot: telegram.Bot) -> bool:
        await bot.send_message(CHAT, "Hilfreich?", reply_markup=keyboard)
        update = server.click(server.sent_messages()[0], "yes")
        (fetched,) = await bot.get_updates(timeout=0)
        assert fetched.update_id == update["update_id"]
        assert fetched.callback_query is not None
        return await fetched.callback_query.answer("Danke!")

    assert run_with_bot(server, action) is True
    assert [answer["text"] for answer in server.callback_answers.values()] == ["Danke!"]


def test_wait_for_reports_recent_calls_on_timeout(server: FakeBotApi) -> None:
    async def action(bot: telegram.Bot) -> None:
        with pytest.raises(BadRequest):
            await bot.send_message(CHAT, "")
        with pytest.raises(AssertionError, match=r"sendMessage\(.*400"):
            await server.await_messages(1, timeout=0.2)

    run_with_bot(server, action)
