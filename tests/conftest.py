"""Shared fixtures and helpers: the shipped knowledge base, a matcher, the fake Bot API
server, what a test expects of the knowledge base, and helpers for processes, stores
and the fake's messages (shared here, never imported from another test module)."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.knowledge import KnowledgeBase, load_knowledge_base
from bot.matcher import Matcher
from bot.store import Event, QuestionEvent
from tests.fake_bot_api import FakeBotApi
from tests.report_store import write_store

JSON = dict[str, Any]
PROBE_USER = 4711  # asks /help to prove the bot got past everything sent before

ROOT = Path(__file__).resolve().parent.parent
FAQ_DIR = ROOT / "faq"
LABELLED_SET = ROOT / "tests" / "data" / "questions.yaml"

pytest_plugins = ["tests.postgres"]  # pg_url: a fresh database on FAQBOT_TEST_DATABASE_URL


@pytest.fixture(scope="session")
def shipped_kb() -> KnowledgeBase:
    return load_knowledge_base(FAQ_DIR)


@pytest.fixture(scope="session")
def shipped_matcher(shipped_kb: KnowledgeBase) -> Matcher:
    return Matcher(shipped_kb)


@pytest.fixture(scope="session")
def vector_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One DATA_DIR for the whole session, so the shipped KB is embedded once (~4 s)."""
    return tmp_path_factory.mktemp("shared-data")


@pytest.fixture(autouse=True)
def _shared_data_dir(monkeypatch: pytest.MonkeyPatch, vector_dir: Path) -> None:
    # CLI commands cache vectors in DATA_DIR; tests that need their own set it again.
    monkeypatch.setenv("DATA_DIR", str(vector_dir))


@pytest.fixture(autouse=True)
def _ptb_timedelta(monkeypatch: pytest.MonkeyPatch) -> None:
    # PTB 22 warns (an error here) when RetryAfter & co. are built without this.
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


@pytest.fixture
def fake() -> Iterator[FakeBotApi]:
    """A fake Telegram Bot API server on 127.0.0.1, stopped after the test."""
    with FakeBotApi() as server:
        yield server


# From tests/test_run.py -----------------------------------------------

SECRET = "s3cret-token_ok"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def stop(process: subprocess.Popen[str]) -> tuple[int, str, float]:
    """SIGTERM, as `docker stop` sends it; exit code, output and seconds taken."""
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    try:
        output, _ = process.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
        raise AssertionError(f"faqbot did not stop within 15 s:\n{output}") from None
    return process.returncode, output, time.monotonic() - started


def post(url: str, update: dict[str, object], secret: str | None) -> int:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    request = urllib.request.Request(url, json.dumps(update).encode(), headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    """Return once ``condition()`` holds; fail naming ``what`` after ``timeout`` seconds.

    For work on a worker thread of the bot's, where there is nothing to await.
    """
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


def wait_until_listening(port: int, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"faqbot exited early:\n{process.communicate()[0]}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)  # polling a port: there is nothing to await
    raise AssertionError("the webhook server did not start listening")


# From tests/test_operations.py -----------------------------------------------


def get(url: str) -> tuple[int, str, str]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return int(response.status), response.headers["Content-Type"], response.read().decode()


# From tests/test_analytics.py -----------------------------------------------

NOW = datetime.now(UTC)


def ago(**delta: float) -> str:
    return (NOW - timedelta(**delta)).isoformat(timespec="seconds")


def question(
    text: str = "Frage",
    decision: str = "answer",
    top_entry: str | None = "dnssec",
    score: float = 0.9,
    *,
    user: int = 1,
    chat: int = 1,
    reply: int | None = None,
    suggestions: tuple[str, ...] = (),
    asked_at: str | None = None,
) -> QuestionEvent:
    return QuestionEvent(
        chat_type="private",
        user_id=user,
        chat_id=chat,
        text=text,
        decision=decision,
        top_entry=top_entry,
        top_score=score,
        suggestions=suggestions,
        reply_message_id=reply,
        asked_at=asked_at or ago(hours=1),
    )


def write(data_dir: Path, events: Iterable[Event], *, keep_texts: bool = True) -> Path:
    """Record ``events`` through the bot's own store writer."""
    return write_store(data_dir, events, keep_texts=keep_texts)


# From tests/test_telegram_conversation.py -----------------------------------------------

CUSTOMER = 1001


BOT_MENTION = "@faq_test_bot"


THANKS = "Danke für Ihr Feedback!"


def buttons(message: JSON) -> list[tuple[str, str]]:
    """(label, callback data) of every inline button, row by row."""
    markup = message.get("reply_markup") or {}
    return [
        (button["text"], button["callback_data"])
        for row in markup.get("inline_keyboard", [])
        for button in row
    ]


def texts(fake: FakeBotApi, chat_id: int) -> list[str]:
    """What the customer reads in the chat, oldest first (after HTML parsing)."""
    return [message.get("text", "") for message in fake.sent_messages(chat_id)]


def wait_for_edit(
    fake: FakeBotApi, message: JSON, condition: Callable[[JSON], bool], what: str
) -> JSON:
    """Wait until the bot's ``message`` was edited into something meeting ``condition``."""
    chat_id, message_id = message["chat"]["id"], message["message_id"]

    def current() -> JSON | None:
        return next((m for m in fake.sent_messages(chat_id) if m["message_id"] == message_id), None)

    def edited(_: FakeBotApi) -> bool:
        now = current()
        return now is not None and "edit_date" in now and condition(now)

    fake.wait_for(edited, what=what)
    result = current()
    assert result is not None
    return result


def callback_answer(fake: FakeBotApi, click: JSON) -> JSON:
    """Wait for the bot to answer the button press ``click`` (the spinner stops)."""
    query_id = click["callback_query"]["id"]
    fake.wait_for(lambda api: query_id in api.callback_answers, what=f"answer to {query_id}")
    return fake.callback_answers[query_id]


def round_trip(fake: FakeBotApi) -> None:
    """Prove the bot handled everything injected so far: ask it something and wait.

    Updates are handled concurrently, so do it twice: whatever the bot would still
    send for earlier updates needs far less time than two full round trips.
    """
    for _ in range(2):
        before = len(fake.sent_messages(PROBE_USER))
        fake.send_command("/help", user_id=PROBE_USER)
        fake.wait_for_messages(before + 1, chat_id=PROBE_USER)


def mention(text: str) -> list[JSON]:
    """The entity Telegram adds for ``@faq_test_bot`` at the start of ``text``."""
    assert text.startswith(BOT_MENTION)
    return [{"type": "mention", "offset": 0, "length": len(BOT_MENTION)}]


# From tests/test_report_html.py -----------------------------------------------

HEADINGS = [
    "Fragen pro Tag",
    "Häufigste Einträge",
    "Meist „nicht hilfreich“ bewertet",
    "Unbeantwortete Fragen nach Thema",
    "Gewählte Vorschläge („Meinten Sie …?“)",
    "Wie gut der Bot trifft",
]


# What a customer sees of a knowledge base: derived from it, so that tests follow content.


def topic_labels(kb: KnowledgeBase) -> list[str]:
    """The topic buttons: each category with its number of entries, in file order."""
    return [f"{name} ({len(kb.in_category(name))})" for name in kb.categories]


def overview(kb: KnowledgeBase) -> str:
    """The sentence of /start that says how many answers the bot knows, and on what."""
    return f"Ich kenne {len(kb)} Antworten zu: {', '.join(kb.categories)}."
