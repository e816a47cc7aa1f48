"""Progress of long work: a bar on a terminal after a second, log lines otherwise."""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from bot.checks import check_folder
from bot.evaluation import LabelledQuestion, evaluate_ranker, evaluate_stages, stages
from bot.knowledge import KnowledgeBase
from bot.matcher import Matcher
from bot.progress import INDEXING, READING, ProgressReport, working
from tests.conftest import FAQ_DIR, wait_until


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_progress_bar_on_a_terminal_after_one_second() -> None:
    stream, clock = Terminal(), Clock()
    report = ProgressReport("Embedding", stream=stream, clock=clock)
    report(0, 100)
    clock.now = 0.5
    report(30, 100)
    assert stream.getvalue() == ""  # nothing within the first second
    clock.now = 1.5
    report(60, 100)
    clock.now = 2.0
    report(100, 100)
    drawn = stream.getvalue()
    assert "\rEmbedding [##################------------] 60/100 (2 s)" in drawn
    assert drawn.endswith("100/100 (2 s)\n")


def test_progress_short_work_shows_nothing() -> None:
    stream, clock = Terminal(), Clock()
    report = ProgressReport("Embedding", stream=stream, clock=clock)
    report(0, 10)
    clock.now = 0.3
    report(10, 10)
    assert stream.getvalue() == ""


def test_progress_without_terminal_logs(caplog: pytest.LogCaptureFixture) -> None:
    stream, clock = io.StringIO(), Clock()
    report = ProgressReport("Embedding 3 entries", stream=stream, clock=clock)
    with caplog.at_level(logging.INFO, logger="bot.progress"):
        report(0, 64)
        clock.now = 1.2
        report(32, 64)
        clock.now = 2.4
        report(64, 64)
    assert stream.getvalue() == ""
    assert [r.getMessage() for r in caplog.records] == [
        "Embedding 3 entries: 32 of 64 (1 s so far)",
        "Embedding 3 entries: 64 of 64 done in 2 s",
    ]


def test_progress_bar_redraws_ten_times_a_second_however_often_it_is_called() -> None:
    stream, clock = Terminal(), Clock()
    report = ProgressReport("Vergleich", stream=stream, clock=clock)
    report(0, 10_000)
    clock.now = 1.0
    for done in range(1, 1001):  # a thousand steps within 50 ms
        clock.now = 1.0 + done * 0.00005
        report(done, 10_000)
    clock.now = 1.2
    report(10_000, 10_000)
    drawn = stream.getvalue()
    assert drawn.count("\r") == 2
    assert drawn.endswith("10000/10000 (1 s)\n")


def test_eval_steps_once_per_question_and_run(shipped_kb: KnowledgeBase) -> None:
    questions = [
        LabelledQuestion("Was ist DNSSEC?", "dnssec"),
        LabelledQuestion("Wie backe ich Brot?", None),
    ]
    runs = stages(Matcher(shipped_kb))
    steps: list[None] = []
    evaluate_stages(runs, questions, step=lambda: steps.append(None))
    evaluate_ranker("ein Vergleich", lambda text: [], questions, step=lambda: steps.append(None))
    assert len(steps) == len(questions) * (len(runs) + 1)


def test_work_without_steps_shows_its_seconds_on_a_terminal_and_ends_the_line() -> None:
    stream = Terminal()
    with working("Wissensdatenbank wird gelesen", stream=stream, delay=0.05):
        wait_until(lambda: "gelesen …" in stream.getvalue(), "the line")
    drawn = stream.getvalue()
    assert drawn.startswith("\rWissensdatenbank wird gelesen … (0 s)")
    assert drawn.endswith("\rWissensdatenbank wird gelesen … fertig (0 s)\n")


def test_work_without_steps_shows_nothing_when_short_or_without_a_terminal() -> None:
    quick, piped = Terminal(), io.StringIO()
    with working("Suchindex wird aufgebaut", stream=quick, delay=10):
        time.sleep(0.05)
    with working("Suchindex wird aufgebaut", stream=piped, delay=0):
        time.sleep(0.05)
    assert quick.getvalue() == "" and piped.getvalue() == ""


def test_check_names_reading_and_index_building_before_comparing_phrasings() -> None:
    phases: list[str] = []

    @contextmanager
    def phase(label: str) -> Iterator[None]:
        phases.append(label)
        yield

    assert check_folder(FAQ_DIR, phase=phase).ok
    assert phases == [READING, INDEXING]
    phases.clear()
    check_folder(FAQ_DIR, confusions=False, phase=phase)
    assert phases == [READING]
    phases.clear()
    check_folder(Path("/nonexistent"), phase=phase)
    assert phases == [READING]
