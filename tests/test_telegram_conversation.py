"""End to end: customers talking to the real Application over HTTP (fake Bot API)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.bot_runner import BotThread, copy_faq, running_bot, settings_for
from tests.fake_bot_api import FakeBotApi


@pytest.fixture(autouse=True)
def _timedelta(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


@pytest.fixture
def fake() -> Iterator[FakeBotApi]:
    with FakeBotApi() as server:
        yield server


@pytest.fixture
def bot(fake: FakeBotApi, tmp_path: Path) -> Iterator[BotThread]:
    settings = settings_for(fake, copy_faq(tmp_path / "faq"), tmp_path / "data")
    with running_bot(settings) as running:
        yield running


def test_private_question_gets_the_answer_with_feedback_buttons(
    fake: FakeBotApi, bot: BotThread
) -> None:
    fake.send_text("Hallo, wie werde ich Spamkommentare los?", user_id=1001)
    [reply] = fake.wait_for_messages(1, chat_id=1001)
    assert reply["parse_mode"] == "HTML"
    assert "<b>Wie vermeide ich Kommentar-Spam in Blogs?</b>" in reply["source_text"]
    buttons = [b["callback_data"] for row in reply["reply_markup"]["inline_keyboard"] for b in row]
    assert buttons == ["f+:kommentar-spam", "f-:kommentar-spam"]
