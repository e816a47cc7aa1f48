"""End to end: what customers do ends up in the analytics store; failures do not hurt."""

from __future__ import annotations

import re
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot import texts as bot_texts
from bot.store import reader
from tests.bot_runner import ADMIN_ID, BotThread, copy_faq, running_bot, settings_for
from tests.fake_bot_api import FakeBotApi

USER_HASH = re.compile(r"[0-9a-f]{24}")
"""How the store writes a user: the first 24 hex digits of a salted HMAC."""


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def bot(fake: FakeBotApi, tmp_path: Path, data_dir: Path) -> Iterator[BotThread]:
    settings = settings_for(fake, copy_faq(tmp_path / "faq"), data_dir)
    with running_bot(settings, store=True) as running:
        yield running


def rows(data_dir: Path, sql: str) -> list[sqlite3.Row]:
    with reader(data_dir) as connection:
        return list(connection.execute(sql))


def wait_written(fake: FakeBotApi, bot: BotThread, count: int) -> None:
    """The handler records after replying, so the reply can arrive before the event."""
    store = bot.store
    assert store is not None
    fake.wait_for(lambda _: store.written >= count, what=f"{count} events written")


def buttons(message: dict[str, object]) -> list[str]:
    markup = message["reply_markup"]
    assert isinstance(markup, dict)
    return [b["callback_data"] for row in markup["inline_keyboard"] for b in row]


def test_questions_choices_and_feedback_are_recorded(
    fake: FakeBotApi, bot: BotThread, data_dir: Path
) -> None:
    fake.send_text("Was ist DNSSEC?", user_id=5001)
    [answer] = fake.wait_for_messages(1, chat_id=5001)
    fake.send_text("wordpress", user_id=5002)
    [suggestion] = fake.wait_for_messages(1, chat_id=5002)
    fake.send_text("Wie backe ich einen Apfelkuchen?", user_id=5003)
    fake.wait_for_messages(1, chat_id=5003)

    fake.click(suggestion, "e:wordpress-theme", user_id=5002)
    fake.wait_for(
        lambda server: "wordpress" not in str(server.sent_messages(chat_id=5002)[0]["text"])[:20]
    )
    fake.click(answer, buttons(answer)[1], user_id=5001)  # 👎 on the DNSSEC answer
    fake.wait_for_call("answerCallbackQuery", count=2)
    wait_written(fake, bot, 5)  # three questions, a choice, feedback

    asked = rows(data_dir, "SELECT id, text, decision, top_entry FROM questions ORDER BY id")
    assert [(r["text"], r["decision"]) for r in asked] == [
        ("Was ist DNSSEC?", "answer"),
        ("wordpress", "suggest"),
        ("Wie backe ich einen Apfelkuchen?", "none"),
    ]
    assert asked[0]["top_entry"] == "dnssec"
    [choice] = rows(data_dir, "SELECT entry_id, question_id FROM choices")
    assert (choice["entry_id"], choice["question_id"]) == ("wordpress-theme", asked[1]["id"])
    [feedback] = rows(data_dir, "SELECT entry_id, helpful, question_id FROM feedback")
    assert tuple(feedback) == ("dnssec", 0, asked[0]["id"])
    # A salted user hash is random hex and may contain "5001" by chance (about one run
    # in 250): the ids must not be in any other value.
    stored = " ".join(
        str(value)
        for row in rows(data_dir, "SELECT * FROM questions")
        for value in tuple(row)
        if not (isinstance(value, str) and USER_HASH.fullmatch(value))
    )
    assert "5001" not in stored and "5002" not in stored


def test_answers_keep_coming_when_the_data_folder_disappears(
    fake: FakeBotApi, bot: BotThread, data_dir: Path
) -> None:
    fake.send_text("dnssec", user_id=5101)
    fake.wait_for_messages(1, chat_id=5101)
    wait_written(fake, bot, 1)
    assert bot.store is not None
    shutil.rmtree(data_dir)  # e.g. an admin wiping the analytics while the bot runs
    for number in range(5):
        fake.send_text("Wie bereite ich mich auf einen Shitstorm vor?", user_id=5200 + number)
    for number in range(5):
        [reply] = fake.wait_for_messages(1, chat_id=5200 + number)
        assert "Shitstorm" in str(reply["text"])
    wait_written(fake, bot, 6)  # the folder and the database were created anew
    assert bot.store.lost == 0
    texts = [r["text"] for r in rows(data_dir, "SELECT text FROM questions")]
    assert texts == ["Wie bereite ich mich auf einen Shitstorm vor?"] * 5


def test_admin_stats_reads_the_store(fake: FakeBotApi, bot: BotThread) -> None:
    fake.add_chat(ADMIN_ID)
    for user in range(3):
        fake.send_text("Was kostet eine neue Website bei euch?", user_id=5400 + user)
        fake.wait_for_messages(1, chat_id=5400 + user)
    wait_written(fake, bot, 3)
    fake.send_command("/stats", user_id=ADMIN_ID)
    [report] = fake.wait_for_messages(1, chat_id=ADMIN_ID)
    text = str(report["text"])
    assert "3" in text
    assert "website" in text.lower()


def test_admin_stats_while_the_store_cannot_be_read_shows_the_last_report(
    fake: FakeBotApi, bot: BotThread, data_dir: Path
) -> None:
    fake.add_chat(ADMIN_ID)
    fake.send_text("Was kostet eine neue Website bei euch?", user_id=5500)
    fake.wait_for_messages(1, chat_id=5500)
    wait_written(fake, bot, 1)
    fake.send_command("/stats", user_id=ADMIN_ID)
    [first] = fake.wait_for_messages(1, chat_id=ADMIN_ID)

    shutil.rmtree(data_dir)  # the volume unmounted under the bot, say
    fake.send_command("/stats", user_id=ADMIN_ID)

    _, second = fake.wait_for_messages(2, chat_id=ADMIN_ID)
    text = str(second["text"])
    assert text.startswith(bot_texts.STATS_UNAVAILABLE)
    assert bot_texts.APOLOGY not in text
    last = text.split("\n\n")
    assert any(line.startswith("Zuletzt gelesen am ") for line in last)
    assert str(first["text"]) in text  # the last report read, as it was


def test_admin_stats_before_any_report_was_read_says_the_store_cannot_be_read(
    fake: FakeBotApi, bot: BotThread, data_dir: Path
) -> None:
    fake.add_chat(ADMIN_ID)
    shutil.rmtree(data_dir)

    fake.send_command("/stats", user_id=ADMIN_ID)

    [reply] = fake.wait_for_messages(1, chat_id=ADMIN_ID)
    assert reply["text"] == bot_texts.STATS_UNAVAILABLE
