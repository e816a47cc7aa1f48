"""Shared fixtures: the shipped knowledge base, a matcher, the fake Bot API server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.knowledge import KnowledgeBase, load_knowledge_base
from bot.matcher import Matcher
from tests.fake_bot_api import FakeBotApi

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


@pytest.fixture(autouse=True)
def _ptb_timedelta(monkeypatch: pytest.MonkeyPatch) -> None:
    # PTB 22 warns (an error here) when RetryAfter & co. are built without this.
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


@pytest.fixture
def fake() -> Iterator[FakeBotApi]:
    """A fake Telegram Bot API server on 127.0.0.1, stopped after the test."""
    with FakeBotApi() as server:
        yield server
