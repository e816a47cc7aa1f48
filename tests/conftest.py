"""Shared fixtures: the shipped knowledge base and a matcher over it."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.knowledge import KnowledgeBase, load_knowledge_base
from bot.matcher import Matcher

ROOT = Path(__file__).resolve().parent.parent
FAQ_DIR = ROOT / "faq"
LABELLED_SET = ROOT / "tests" / "data" / "questions.yaml"


@pytest.fixture(scope="session")
def shipped_kb() -> KnowledgeBase:
    return load_knowledge_base(FAQ_DIR)


@pytest.fixture(scope="session")
def shipped_matcher(shipped_kb: KnowledgeBase) -> Matcher:
    return Matcher(shipped_kb)
