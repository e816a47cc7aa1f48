"""bot.memory_store: this run's analytics in memory, reported exactly as the store reports."""

from __future__ import annotations

import logging
from datetime import datetime, tzinfo
from pathlib import Path

import pytest

from bot.memory_store import MemoryStore
from bot.recorder import Recorder
from bot.store import ChoiceEvent, FeedbackEvent, Store
from tests.conftest import NOW, ago, question, write
from tests.report_store import UNANSWERED, events


@pytest.fixture
def memory() -> MemoryStore:
    return MemoryStore()


class _FrozenClock(datetime):
    """datetime whose now() is the fixture time: two reports read the same period."""

    @classmethod
    def now(cls, tz: tzinfo | None = None) -> datetime:  # type: ignore[override]
        return NOW if tz is None else NOW.astimezone(tz)


@pytest.mark.parametrize("days", [None, 7, 2])
def test_memory_store_reports_what_the_store_reports_for_the_same_events(
    tmp_path: Path, memory: MemoryStore, days: int | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Both reports compute "days ago" from the clock; a second ticking between them
    # would shift the period's start and fail the comparison for no fault of the stores.
    monkeypatch.setattr("bot.report.datetime", _FrozenClock)
    store = Store(write(tmp_path / "data", events()))
    for event in events():
        memory.record(event)
    recorders: tuple[Recorder, Recorder] = (memory, store)  # one interface (mypy)

    from_memory, from_file = (recorder.report(days=days) for recorder in recorders)

    assert from_memory == from_file
    assert from_memory.text(short=True) == from_file.text(short=True)
    assert from_memory.totals.questions > 0  # the events reached both


def test_memory_store_counts_unanswered_as_the_store_does(memory: MemoryStore) -> None:
    for event in events():
        memory.record(event)

    report = memory.report(days=None)

    assert report.totals.none == len(UNANSWERED)
    assert report.totals.questions == report.totals.answered + report.totals.suggested + len(
        UNANSWERED
    )  # small talk apart
    assert report.totals.smalltalk == 1
    assert "keine Antwort" in report.text(short=True)


def test_memory_store_without_question_texts_keeps_counts_only() -> None:
    memory = MemoryStore(keep_texts=False)
    for event in events():
        memory.record(event)

    report = memory.report(days=None)

    assert report.totals.none == len(UNANSWERED)
    assert report.unanswered_groups == ()  # no text, nothing to list
    assert not any("Instagram" in line for line in report.text().splitlines())


def test_memory_store_keeps_no_raw_ids(memory: MemoryStore) -> None:
    memory.record(question("Wie backe ich?", "none", None, 0.1, user=123456789, chat=987654321))

    dump = "\n".join(memory._connection.iterdump())  # what the memory holds, as SQL

    assert "123456789" not in dump and "987654321" not in dump
    assert "Wie backe ich?" in dump


def test_memory_store_links_votes_to_the_question_and_keeps_the_last(
    memory: MemoryStore,
) -> None:
    memory.record(question("Was ist DNSSEC?", user=7, chat=7, reply=55))
    for helpful in (True, True, False):
        memory.record(FeedbackEvent(7, 7, 55, "dnssec", helpful))
    memory.record(ChoiceEvent(7, 7, 55, "dnssec"))

    [entry] = memory.report().entries

    assert (entry.entry_id, entry.helpful, entry.not_helpful) == ("dnssec", 0, 1)
    assert entry.hits == 2  # answered once, chosen once


def test_memory_store_drops_an_event_no_database_takes_and_goes_on(
    memory: MemoryStore, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="bot.memory_store"):
        memory.record(question("zu groß", reply=2**70))
    memory.record(question("Was ist DNSSEC?"))

    assert memory.report().totals.questions == 1
    assert (memory.recorded, memory.dropped) == (1, 1)
    assert "could not be kept" in caplog.text
    assert str(2**70) not in caplog.text


def test_memory_store_forgets_the_oldest_questions_beyond_its_bound() -> None:
    memory = MemoryStore(max_questions=1000)
    for number in range(2500):
        memory.record(question(f"Frage {number}", asked_at=ago(minutes=5000 - number)))

    totals = memory.report(days=None).totals

    assert 1000 <= totals.questions < 2000  # trimmed in steps, never unbounded


def test_memory_store_health_says_the_store_is_off(memory: MemoryStore) -> None:
    memory.record(question())
    assert memory.health() == {"state": "off", "events_kept_in_memory": 1}
    assert memory.flush()
