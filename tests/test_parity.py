"""Terminal and Telegram hold the same conversation: one script, the same replies.

The script of questions and button presses runs through ``faqbot chat``'s Conversation
and through the Telegram bot (real Application, fake Bot API). Each step's terminal
reply, rendered as Telegram would render it, must be what the Telegram customer sees:
the same text and the same buttons, less the 👍/👎 the terminal leaves out.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.replies import parse_action
from bot.telegram.render import render
from bot.terminal import Conversation, render_reply
from tests.bot_runner import BotThread, copy_faq, running_bot, settings_for
from tests.conftest import buttons
from tests.fake_bot_api import FakeBotApi

JSON = dict[str, Any]
CUSTOMER = 5101

# ("ask", text): a message ("/themen" is "themen" in the terminal);
# ("press", label or position): a button of the last reply, feedback buttons left out.
SCRIPT: list[tuple[str, str | int]] = [
    ("ask", "/themen"),
    ("press", 0),  # the first category
    ("press", 0),  # its first question
    ("press", "« Zurück"),  # back to that category
    ("press", "« Zurück zu den Themen"),
    ("press", -1),  # the last category
    ("ask", "Was ist DNSSEC?"),
    ("ask", "wordpress"),  # "Meinten Sie …?"
    ("press", 0),  # a suggestion
    ("ask", "wordpress"),
    ("press", "Keine davon"),
    ("ask", "Wie backe ich einen Apfelkuchen?"),
    ("press", "Alle Themen"),
]


@pytest.fixture
def bot(fake: FakeBotApi, tmp_path: Path) -> Iterator[BotThread]:
    settings = settings_for(fake, copy_faq(tmp_path / "faq"), tmp_path / "data")
    with running_bot(settings) as running:
        yield running


def navigation(keys: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Buttons without the feedback ones (the terminal has nobody to report them to)."""
    kept = []
    for label, data in keys:
        action = parse_action(data)
        if action is None or action.kind not in ("helpful", "not_helpful"):
            kept.append((label, data))
    return kept


class TelegramChat:
    """The customer's side on Telegram: send, press, and read what the bot shows."""

    def __init__(self, fake: FakeBotApi) -> None:
        self.fake = fake
        self.current: JSON | None = None

    def ask(self, text: str) -> JSON:
        before = len(self.fake.sent_messages(CUSTOMER))
        if text.startswith("/"):
            self.fake.send_command(text, user_id=CUSTOMER)
        else:
            self.fake.send_text(text, user_id=CUSTOMER)
        self.current = self.fake.wait_for_messages(before + 1, chat_id=CUSTOMER)[-1]
        return self.current

    def press(self, data: str) -> JSON:
        assert self.current is not None
        edits = len(self.fake.calls_to("editMessageText"))
        message_id = self.current["message_id"]
        self.fake.click(self.current, data, user_id=CUSTOMER)
        self.fake.wait_for(
            lambda api: len(api.calls_to("editMessageText")) > edits, what="the edited reply"
        )
        [now] = [m for m in self.fake.sent_messages(CUSTOMER) if m["message_id"] == message_id]
        self.current = now
        return now


def test_terminal_and_telegram_give_the_same_replies(fake: FakeBotApi, bot: BotThread) -> None:
    snapshot = bot.holder.current
    terminal = Conversation(snapshot.kb, snapshot.matcher, contact_text=bot.settings.contact_text)
    telegram = TelegramChat(fake)
    kinds = []
    for step, (what, value) in enumerate(SCRIPT):
        if what == "ask":
            assert isinstance(value, str)
            reply = terminal.respond(value.lstrip("/"))
            shown = telegram.ask(value)
        else:
            keys = navigation(buttons(telegram.current or {}))
            choices = [(button.label, button.action) for button in terminal.choices]
            # Telegram shortens long labels ("…"): compare what the buttons do.
            assert [data for _, data in keys] == [data for _, data in choices], f"step {step}"
            if isinstance(value, int):
                number = range(len(choices))[value]
            else:
                labels = [label for label, _ in choices]
                assert value in labels, f"step {step}: no button {value!r} in {labels}"
                number = labels.index(value)
            reply = terminal.respond(str(number + 1))
            shown = telegram.press(choices[number][1])
        kinds.append(reply.kind)
        [expected] = render(reply)
        assert shown["source_text"] == expected.html, f"step {step} ({what} {value!r})"
        expected_keys = [
            (key.text, str(key.callback_data))
            for row in (expected.keyboard.inline_keyboard if expected.keyboard else ())
            for key in row
        ]
        assert navigation(buttons(shown)) == expected_keys, f"step {step}: buttons"
        # The terminal shows the same reply as text with numbered choices.
        text = render_reply(reply)
        assert all(f"] {button.label}" in text for button in reply.buttons)
    # The script went where it meant to go, so the comparison covered every kind.
    assert kinds == [
        "topics",
        "category",
        "answer",
        "category",
        "topics",
        "category",
        "answer",
        "suggest",
        "answer",
        "suggest",
        "contact",
        "none",
        "topics",
    ]
