"""Buttons pressed by anyone, with any data: only real votes by the asker count."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot import texts as bot_texts
from bot.store import reader
from tests.bot_runner import BotThread, copy_faq, running_bot, settings_for
from tests.conftest import (
    BOT_MENTION,
    CUSTOMER,
    THANKS,
    buttons,
    callback_answer,
    mention,
    round_trip,
    texts,
    wait_for_edit,
)
from tests.fake_bot_api import FakeBotApi

JSON = dict[str, Any]
GROUP = -4001
ASKER = 1501
NEIGHBOUR = 1502


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def bot(fake: FakeBotApi, tmp_path: Path, data_dir: Path) -> Iterator[BotThread]:
    settings = settings_for(fake, copy_faq(tmp_path / "faq"), data_dir)
    with running_bot(settings, store=True) as running:
        yield running


def feedback_rows(bot: BotThread, data_dir: Path) -> list[tuple[Any, ...]]:
    assert bot.store is not None and bot.store.flush()
    if not (data_dir / "faqbot.sqlite3").exists():
        return []
    with reader(data_dir) as connection:
        connection.row_factory = sqlite3.Row
        return [tuple(row) for row in connection.execute("SELECT entry_id, helpful FROM feedback")]


def answer_to(fake: FakeBotApi, question: str) -> JSON:
    fake.send_text(question, user_id=CUSTOMER)
    [answer] = fake.wait_for_messages(1, chat_id=CUSTOMER)
    return answer


def entry_of(answer: JSON) -> str:
    [helpful] = [data for _, data in buttons(answer) if data.startswith("f+:")]
    return helpful.removeprefix("f+:")


@pytest.mark.parametrize("data", ["c:²", "c:٣", "c:", "c:-1", "zz", "e:", "f+:"])
def test_malformed_callback_data_is_ignored_with_the_spinner_answered(
    fake: FakeBotApi, bot: BotThread, data: str
) -> None:
    fake.send_command("/themen", user_id=CUSTOMER)
    [topics] = fake.wait_for_messages(1, chat_id=CUSTOMER)

    press = fake.press(topics, data)

    answered = callback_answer(fake, press)
    round_trip(fake)
    assert answered.get("text") in (None, bot_texts.ENTRY_GONE)
    assert bot_texts.APOLOGY not in texts(fake, CUSTOMER)
    assert fake.internal_errors == []


def test_feedback_for_an_entry_that_does_not_exist_is_not_stored(
    fake: FakeBotApi, bot: BotThread, data_dir: Path
) -> None:
    answer = answer_to(fake, "Was ist DNSSEC?")

    press = fake.press(answer, "f+:gibt-es-nicht")

    assert callback_answer(fake, press)["text"] == bot_texts.ENTRY_GONE
    assert feedback_rows(bot, data_dir) == []
    assert not any(entry.helpful or entry.not_helpful for entry in bot.report().entries)


def test_the_same_thumb_pressed_twenty_times_is_one_vote_and_the_last_counts(
    fake: FakeBotApi, bot: BotThread, data_dir: Path
) -> None:
    answer = answer_to(fake, "Was ist DNSSEC?")
    entry = entry_of(answer)

    # A client showing the message from before the buttons were removed.
    presses = [fake.press(answer, f"f+:{entry}") for _ in range(20)]
    for press in presses:
        assert callback_answer(fake, press)["text"] == THANKS
    assert feedback_rows(bot, data_dir) == [(entry, 1)]

    last = fake.press(answer, f"f-:{entry}")
    callback_answer(fake, last)
    round_trip(fake)
    assert feedback_rows(bot, data_dir) == [(entry, 0)]
    [rated] = [stats for stats in bot.report().entries if stats.entry_id == entry]
    assert (rated.helpful, rated.not_helpful) == (0, 1)  # what /stats shows
    sorry = [text for text in texts(fake, CUSTOMER) if text.startswith("Schade")]
    assert len(sorry) == 1


def ask_in_group(fake: FakeBotApi, question: str) -> JSON:
    text = f"{BOT_MENTION} {question}"
    fake.send_text(text, user_id=ASKER, chat_type="group", chat_id=GROUP, entities=mention(text))
    [reply] = fake.wait_for_messages(1, chat_id=GROUP)
    return reply


def test_group_only_the_asker_can_pick_a_suggestion(
    fake: FakeBotApi, bot: BotThread, data_dir: Path
) -> None:
    suggestions = ask_in_group(fake, "wordpress")
    pick = next(data for _, data in buttons(suggestions) if data.startswith("e:"))

    refused = fake.click(suggestions, pick, user_id=NEIGHBOUR)
    assert callback_answer(fake, refused)["text"] == bot_texts.NOT_YOUR_BUTTONS
    round_trip(fake)
    [unchanged] = fake.sent_messages(GROUP)
    assert "edit_date" not in unchanged  # the asker's buttons stay
    assert buttons(unchanged) == buttons(suggestions)

    taken = fake.click(suggestions, pick, user_id=ASKER)
    assert callback_answer(fake, taken).get("text") is None
    answer = wait_for_edit(fake, suggestions, lambda m: "f+:" in str(buttons(m)), "the answer")
    assert bot.store is not None and bot.store.flush()
    with reader(data_dir) as connection:
        assert connection.execute("SELECT COUNT(*) FROM choices").fetchone()[0] == 1

    entry = entry_of(answer)
    refused = fake.click(answer, f"f-:{entry}", user_id=NEIGHBOUR)
    assert callback_answer(fake, refused)["text"] == bot_texts.NOT_YOUR_BUTTONS
    assert feedback_rows(bot, data_dir) == []

    rated = fake.click(answer, f"f+:{entry}", user_id=ASKER)
    assert callback_answer(fake, rated)["text"] == THANKS
    assert feedback_rows(bot, data_dir) == [(entry, 1)]


def test_group_topics_can_be_browsed_by_anyone(fake: FakeBotApi, bot: BotThread) -> None:
    fake.send_command("/themen", user_id=ASKER, chat_type="group", chat_id=GROUP)
    [topics] = fake.wait_for_messages(1, chat_id=GROUP)

    press = fake.click(topics, buttons(topics)[0][1], user_id=NEIGHBOUR)

    assert callback_answer(fake, press).get("text") is None
    wait_for_edit(fake, topics, lambda m: "Wählen Sie eine Frage" in m["text"], "a category")
