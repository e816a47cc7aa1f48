"""The staff report in a real browser: headless Chromium opens the generated file.

Skipped only where Chromium is missing on a developer's machine; with CI=true a
missing browser fails (.ci/run installs Debian's chromium). The screenshot is kept
in artifacts/ (ignored by git) for a person to look at.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from bot.config import StoreSettings
from bot.handoff_store import HandoffCounts as Handoffs
from bot.knowledge import KnowledgeBase, load_knowledge_base
from bot.report_html import render_report, render_unavailable
from bot.report_queries import build_report
from bot.store import reader
from tests.browser import Browser, find_chromium
from tests.conftest import HEADINGS, ROOT
from tests.report_store import NOW, events, write_kb, write_store

ARTIFACTS = ROOT / "artifacts"

CHART_MARKS = """
[...document.querySelectorAll("figure.chart")].map((figure) => {
  const svg = figure.querySelector("svg");
  const drawn = [...figure.querySelectorAll(".role-mark path, .role-mark line")].filter(
    (mark) => { const box = mark.getBBox(); return box.width > 0 || box.height > 0; });
  const size = svg ? svg.getBoundingClientRect() : { width: 0, height: 0 };
  return { name: figure.dataset.chart, marks: drawn.length,
           width: Math.round(size.width), height: Math.round(size.height) };
})
"""


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    executable = find_chromium()
    if executable is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but chromium is not installed (.ci/run installs it)")
        pytest.skip("chromium is not installed (Debian: apt-get install chromium)")
    profile = tmp_path_factory.mktemp("chromium") / "profile"
    opened = Browser(executable, profile)
    yield opened
    opened.close()


@pytest.fixture(scope="module")
def kb(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    return load_knowledge_base(write_kb(tmp_path_factory.mktemp("faq")))


@pytest.fixture(scope="module")
def report_file(kb: KnowledgeBase, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The full page: every chart, handoffs included."""
    data_dir = write_store(tmp_path_factory.mktemp("data"), events())
    with reader(data_dir) as connection:
        report = build_report(connection, days=7, now=NOW)
    page = render_report(replace(report, handoffs=Handoffs(open=2, answered=5)), kb)
    path = tmp_path_factory.mktemp("page") / "faqbot-report.html"
    path.write_text(page, encoding="utf-8")
    return path


def assert_clean_load(browser: Browser, path: Path) -> None:
    assert browser.errors() == []
    requests = browser.requests()
    assert requests == [path.resolve().as_uri()]  # the page itself and nothing else


def test_report_in_chromium_draws_every_chart_offline(
    browser: Browser, report_file: Path, tmp_path: Path
) -> None:
    browser.open(report_file)
    assert_clean_load(browser, report_file)
    titles = browser.evaluate("[...document.querySelectorAll('h2')].map((h) => h.textContent)")
    assert titles == [*HEADINGS[:5], "Übergaben an das Team", HEADINGS[5]]
    assert browser.evaluate("document.documentElement.lang") == "de"
    charts = browser.evaluate(CHART_MARKS)
    assert [chart["name"] for chart in charts] == [
        "questions-per-day",
        "entries-by-hits",
        "ratings",
        "unanswered-topics",
        "chosen-entries",
        "handoffs",
        "answered-share",
        "median-confidence",
    ]
    for chart in charts:
        assert chart["marks"] > 0, chart
        assert chart["width"] > 200 and chart["height"] > 40, chart
    # Nothing sticks out of the page sideways.
    assert browser.evaluate("document.documentElement.scrollWidth") <= browser.width

    shot = browser.screenshot(tmp_path / "faqbot-report.png")
    assert shot.stat().st_size > 20_000
    ARTIFACTS.mkdir(exist_ok=True)
    shutil.copy(shot, ARTIFACTS / "faqbot-report.png")


def test_report_copy_button_puts_the_draft_on_the_clipboard(
    browser: Browser, report_file: Path
) -> None:
    browser.open(report_file)
    browser.call(
        "Browser.grantPermissions", permissions=["clipboardReadWrite", "clipboardSanitizedWrite"]
    )
    browser.call("Emulation.setFocusEmulationEnabled", enabled=True)
    draft = browser.evaluate("document.getElementById('draft-1').textContent")
    assert "- id: " in draft and "answer:" in draft
    browser.evaluate("document.querySelector('button[data-copy=draft-1]').click()")
    label = browser.evaluate(
        "new Promise((done) => setTimeout(() =>"
        " done(document.querySelector('button[data-copy=draft-1]').textContent), 100))",
        wait=True,
    )
    assert label == "Kopiert ✓"
    assert browser.evaluate("navigator.clipboard.readText()", wait=True) == draft
    assert browser.errors() == []


@pytest.mark.parametrize("kind", ["empty", "no-texts", "missing"])
def test_report_pages_without_data_load_cleanly_without_charts(
    kind: str, browser: Browser, kb: KnowledgeBase, tmp_path: Path
) -> None:
    if kind == "missing":
        page = render_unavailable("Unter data/faqbot.sqlite3 liegt noch keine Auswertung.", days=30)
        expected = "Noch keine Daten"
    else:
        data_dir = write_store(
            tmp_path / "data", events() if kind == "no-texts" else [], keep_texts=kind != "no-texts"
        )
        with reader(data_dir) as connection:
            report = build_report(connection, days=7, now=NOW)
        page = render_report(report, kb, privacy=StoreSettings(store_questions=kind == "empty"))
        expected = "Noch keine Fragen" if kind == "empty" else "Fragen pro Tag"
    path = tmp_path / "page.html"
    path.write_text(page, encoding="utf-8")
    browser.open(path)
    assert_clean_load(browser, path)
    assert expected in browser.evaluate("document.body.innerText")
    for chart in browser.evaluate(CHART_MARKS):  # where there are charts, they are drawn
        assert chart["marks"] > 0, chart
