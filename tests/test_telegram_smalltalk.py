"""End to end on Telegram: small talk and the "Passt nicht? Vielleicht:" buttons."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.knowledge import Entry
from bot.replies import ENTRY_ACTION, related
from bot.store import reader
from tests.bot_runner import ADMIN_ID, BotThread, copy_faq, running_bot, settings_for
from tests.fake_bot_api import FakeBotApi

JSON = dict[str, Any]
CUSTOMER = 1001


@pytest.fixture
def bot(fake: FakeBotApi, tmp_path: Path) -> Iterator[BotThread]:
    settings = settings_for(fake, copy_faq(tmp_path / "faq"), tmp_path / "data")
    with running_bot(settings, store=True) as running:
        yield running


def ask(fake: FakeBotApi, text: str, *, user_id: int = CUSTOMER) -> JSON:
    before = len(fake.sent_messages(user_id))
    fake.send_text(text, user_id=user_id)
    return fake.wait_for_messages(before + 1, chat_id=user_id)[before]


def buttons(message: JSON) -> list[tuple[str, str]]:
    markup = message.get("reply_markup") or {}
    return [
        (b["text"], b["callback_data"]) for row in markup.get("inline_keyboard", []) for b in row
    ]


def rows(bot: BotThread, sql: str) -> list[sqlite3.Row]:
    store = bot.store
    assert store is not None and store.flush()
    with reader(bot.settings.data_dir) as connection:
        return list(connection.execute(sql))


def greeting(bot: BotThread) -> Entry:
    entries = bot.holder.current.kb.smalltalk
    assert entries, "faq/ has no small talk"
    return entries[0]


def plain(answer: str) -> str:
    return " ".join(answer.split())


def test_smalltalk_gets_its_short_reply_and_is_recorded(fake: FakeBotApi, bot: BotThread) -> None:
    entry = greeting(bot)
    reply = ask(fake, entry.question)
    assert plain(reply["text"]) == plain(entry.answer)
    assert [label for label, _ in buttons(reply)] == ["Alle Themen"]

    fake.wait_for(lambda _: bot.store is not None and bot.store.written >= 1)
    [row] = rows(bot, "SELECT decision, top_entry FROM questions")
    assert (row["decision"], row["top_entry"]) == ("smalltalk", entry.id)
    assert 'faqbot_questions_total{decision="smalltalk"} 1.0' in bot.metrics.render().decode()

    fake.send_command("/stats", user_id=ADMIN_ID)
    [stats] = fake.wait_for_messages(1, chat_id=ADMIN_ID)
    assert "Small Talk: 1" in stats["text"]
    assert stats["text"].startswith("Fragen (letzte 30 Tage): 0")  # not a question


def test_smalltalk_around_a_question_is_the_answer(fake: FakeBotApi, bot: BotThread) -> None:
    question = f"{greeting(bot).question}, wie richte ich DNSSEC ein?"
    result = bot.holder.current.matcher.match(question)
    assert result.match is not None
    reply = ask(fake, question)
    assert reply["text"].startswith(result.match.entry.question)


def test_related_buttons_open_the_runner_up_and_are_recorded(
    fake: FakeBotApi, bot: BotThread
) -> None:
    matcher = bot.holder.current.matcher
    candidates = ["spam", "blog", "kommentare", "twitter", "facebook", "shitstorm"]
    question = next((q for q in candidates if related(matcher.match(q))), None)
    assert question is not None, "no one-word question gets related buttons any more"
    runner_up = related(matcher.match(question))[0]

    reply = ask(fake, question)
    assert "Passt nicht? Vielleicht:" in reply["text"]
    assert (runner_up.question[:59], ENTRY_ACTION + runner_up.id) in [
        (label[:59], data) for label, data in buttons(reply)
    ]
    fake.click(reply, ENTRY_ACTION + runner_up.id)
    message_id = reply["message_id"]
    fake.wait_for(
        lambda api: any(
            m["message_id"] == message_id and m["text"].startswith(runner_up.question)
            for m in api.sent_messages(CUSTOMER)
        ),
        what="the runner-up's answer",
    )
    fake.wait_for(lambda _: bot.store is not None and bot.store.written >= 2)
    [choice] = rows(
        bot,
        "SELECT c.entry_id, q.text FROM choices AS c JOIN questions AS q ON q.id = c.question_id",
    )
    assert (choice["entry_id"], choice["text"]) == (runner_up.id, question)


def test_debug_names_small_talk(fake: FakeBotApi, bot: BotThread) -> None:
    entry = greeting(bot)
    fake.send_command(f"/debug {entry.question}", user_id=ADMIN_ID)
    [debug] = fake.wait_for_messages(1, chat_id=ADMIN_ID)
    assert debug["text"] == f"decision: smalltalk ({entry.id})"
