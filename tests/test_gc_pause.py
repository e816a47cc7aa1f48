"""The garbage collector held off while a knowledge base loads, and always given back.

A collector left off would let every reference cycle the bot makes pile up for the rest
of its life, so the cases that matter are the ones where it must come back on: after a
load, after a broken load, after pauses that overlap on several threads.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.errors import KnowledgeBaseError
from bot.gc_pause import collector_paused
from bot.index import Index
from bot.kbschema import FileReader
from bot.knowledge import Entry, load_knowledge_base
from bot.matcher import Matcher

SHIPPED_FAQ = Path(__file__).parent.parent / "faq"


@pytest.fixture(autouse=True)
def collector_on() -> Iterator[None]:
    was_on = gc.isenabled()
    gc.enable()
    yield
    if was_on:
        gc.enable()
    else:  # pragma: no cover - pytest runs with the collector on
        gc.disable()


def test_the_collector_is_off_while_a_load_reads_and_an_index_builds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: dict[str, bool] = {}
    parse = FileReader.parse

    def spy_parse(self: FileReader, data: bytes) -> list[Entry]:
        seen["reading"] = gc.isenabled()
        return parse(self, data)

    def spy_index(*args: Any, **kwargs: Any) -> Index:
        seen["indexing"] = gc.isenabled()
        return Index(*args, **kwargs)

    monkeypatch.setattr(FileReader, "parse", spy_parse)
    monkeypatch.setattr("bot.matcher.Index", spy_index)
    Matcher(load_knowledge_base(SHIPPED_FAQ))
    assert seen == {"reading": False, "indexing": False}
    assert gc.isenabled()


def test_a_broken_knowledge_base_gives_the_collector_back(tmp_path: Path) -> None:
    (tmp_path / "kaputt.yaml").write_text("entries:\n  - id: [unclosed\n", encoding="utf-8")
    with pytest.raises(KnowledgeBaseError):
        load_knowledge_base(tmp_path)
    assert gc.isenabled()


def test_nested_pauses_end_with_the_outermost() -> None:
    with collector_paused():
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_collector_turned_off_before_stays_off() -> None:
    gc.disable()
    with collector_paused():
        pass
    assert not gc.isenabled()


def test_overlapping_pauses_on_two_threads_end_with_the_last() -> None:
    first_inside = threading.Event()
    second_done = threading.Event()
    release_first = threading.Event()
    states: dict[str, bool] = {}

    def first() -> None:
        with collector_paused():
            first_inside.set()
            release_first.wait(5)
        states["after both"] = gc.isenabled()

    def second() -> None:
        first_inside.wait(5)
        with collector_paused():
            pass
        states["after the second, first still inside"] = gc.isenabled()
        second_done.set()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    second_done.wait(5)
    release_first.set()
    for thread in threads:
        thread.join(5)
    assert states == {"after the second, first still inside": False, "after both": True}
