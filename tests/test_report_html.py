"""faqbot report: the staff page from a real store, through the command as staff run it."""

from __future__ import annotations

import html
import json
import re
import sqlite3
from contextlib import closing
from dataclasses import replace
from pathlib import Path

import pytest

from bot.cli import main
from bot.handoff_store import HandoffCounts as Handoffs
from bot.knowledge import load_knowledge_base
from bot.report_html import render_report
from bot.report_queries import build_report
from bot.store import DATABASE_FILE, reader
from tests.conftest import HEADINGS
from tests.report_store import CHAT_ID, NOW, USER_ID, events, write_kb, write_store


@pytest.fixture(autouse=True)
def _environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The store settings as a fresh install has them; no .env of the developer's."""
    monkeypatch.chdir(tmp_path)
    for name in ("ANALYTICS", "STORE_QUESTIONS", "RETENTION_DAYS", "DATA_DIR", "FAQ_DIR"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(faq_dir, data_dir) with the small knowledge base and a week of traffic."""
    root = tmp_path_factory.mktemp("site")
    return write_kb(root / "faq"), write_store(root / "data", events())


def report_page(
    faq_dir: Path, data_dir: Path, out: Path, *extra: str, capsys: pytest.CaptureFixture[str]
) -> tuple[str, str]:
    """Run faqbot report; return the page and what it printed to stderr."""
    args = ["report", "--faq-dir", str(faq_dir), "--data-dir", str(data_dir), "--out", str(out)]
    assert main([*args, *extra]) == 0
    return out.read_text("utf-8"), capsys.readouterr().err


def unstamped(page: str) -> str:
    return re.sub(r"erstellt am [^<]*", "", page)


def headings(page: str) -> list[str]:
    return [html.unescape(text) for text in re.findall(r"<h2>(.*?)</h2>", page)]


def tiles(page: str) -> dict[str, str]:
    found = re.findall(r'<div class="value">([^<]*)</div><div class="name">([^<]*)<', page)
    return {name.strip(): value for value, name in found}


@pytest.fixture(scope="module")
def page(site: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> str:
    faq_dir, data_dir = site
    out = tmp_path_factory.mktemp("out") / "bericht.html"
    assert (
        main(
            [
                "report",
                "--faq-dir",
                str(faq_dir),
                "--data-dir",
                str(data_dir),
                "--out",
                str(out),
                "--days",
                "7",
            ]
        )
        == 0
    )
    return out.read_text("utf-8")


def test_report_has_every_section_in_german(page: str) -> None:
    assert page.startswith("<!DOCTYPE html>") and '<html lang="de">' in page
    assert headings(page) == HEADINGS  # no handoff section: the store has no handoffs
    assert "Letzte 7 Tage" in page
    assert page.count('<figure class="chart"') == 7


def test_report_tiles_are_the_numbers_of_faqbot_stats(
    page: str, site: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    _, data_dir = site
    assert main(["stats", "--data-dir", str(data_dir), "--days", "7", "--json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    shown = tiles(page)
    assert shown["Fragen"] == str(stats["totals"]["questions"]) == "14"  # small talk apart
    assert shown["Direkt beantwortet"] == str(stats["totals"]["answered"])
    assert shown["Vorschläge"] == str(stats["totals"]["suggested"])
    assert shown["Keine Antwort"] == str(stats["totals"]["none"])
    assert shown["Smalltalk"] == "1" and shown["An das Team übergeben"] == "0"
    assert shown["Median-Konfidenz"] == "0,82"  # 0.825, rounded half to even


def test_report_names_entries_by_question_and_id(page: str) -> None:
    assert "Was kostet eine Website?<code>preise</code>" in page
    assert "Bieten Sie Hosting an?<code>hosting</code>" in page


def test_report_drafts_are_those_faqbot_suggest_writes(
    page: str, site: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    faq_dir, data_dir = site
    assert main(["suggest", "--faq-dir", str(faq_dir), "--data-dir", str(data_dir)]) == 0
    suggested = capsys.readouterr().out
    drafts = [
        html.unescape(text) for text in re.findall(r'<pre id="[^"]+">(.*?)</pre>', page, re.S)
    ]
    assert len(drafts) == 2  # the Instagram topic (4x) and hosting's new alternative
    assert 'question: "Wie bekomme ich mehr Follower auf Instagram?"' in drafts[0]
    for draft in drafts:
        assert draft in suggested
    assert "Erst 1× gefragt" in page  # the newsletter question: no draft yet, as in suggest
    assert 'data-copy="draft-1"' in page and 'data-copy="alternatives-1"' in page


def test_report_escapes_what_customers_wrote(page: str) -> None:
    assert "Newsletter &amp; Co. für &lt;100 € im Monat?" in page
    assert "<100" not in page


def test_report_shows_no_user_or_chat_hash_or_id(page: str, site: tuple[Path, Path]) -> None:
    _, data_dir = site
    with closing(sqlite3.connect(data_dir / DATABASE_FILE)) as connection:
        hashes = {row[0] for row in connection.execute("SELECT user_hash FROM questions")}
        hashes |= {row[0] for row in connection.execute("SELECT chat_hash FROM questions")}
        hashes |= {row[0] for row in connection.execute("SELECT user_hash FROM feedback")}
    assert hashes and not [value for value in hashes if value in page]
    assert str(USER_ID) not in page and str(CHAT_ID) not in page


def test_report_loads_nothing_from_elsewhere(page: str) -> None:
    assert not re.search(r"\b(?:src|href)\s*=", page)
    assert not re.search(r"@import|url\((?!#)", page)  # url(#id): a clip path in the page
    ids = re.findall(r'\bid="([^"]+)"', page)
    assert len(ids) == len(set(ids))  # charts' clip paths do not clash
    urls = set(re.findall(r"https?://[^\s\"'<>)]+", page))
    assert urls <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}
    assert "default-src 'none'" in page


def test_report_notes_the_retention_period(
    site: tuple[Path, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("RETENTION_DAYS", "30")
    page, _ = report_page(*site, tmp_path / "r.html", "--days", "90", capsys=capsys)
    assert "Fragetexte werden nach 30 Tagen gelöscht (RETENTION_DAYS)" in page
    assert "nur aus den letzten 30 Tagen" in page  # the period is longer than that


def test_report_without_question_texts_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    faq_dir = write_kb(tmp_path / "faq")
    # Texts from before the switch: still in the store for a while, never on the page.
    data_dir = write_store(tmp_path / "data", events(), keep_texts=True)
    monkeypatch.setenv("STORE_QUESTIONS", "false")
    page, _ = report_page(faq_dir, data_dir, tmp_path / "r.html", capsys=capsys)
    assert "Der Bot speichert keine Fragetexte (STORE_QUESTIONS=false)" in page
    assert "Instagram" not in page and "server mieten" not in page
    assert tiles(page)["Fragen"] == "14"  # the counts are all there (small talk apart)
    assert "Fragen pro Tag" in headings(page) and "<pre" not in page


def test_report_on_an_empty_store_says_no_questions_yet(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    faq_dir, data_dir = write_kb(tmp_path / "faq"), write_store(tmp_path / "data", [])
    page, _ = report_page(faq_dir, data_dir, tmp_path / "r.html", capsys=capsys)
    assert headings(page) == ["Noch keine Fragen"]
    assert "<figure" not in page and tiles(page)["Fragen"] == "0"


@pytest.mark.parametrize(
    ("analytics", "expected"),
    [("true", "liegt noch keine Auswertung"), ("false", "ausgeschaltet (ANALYTICS=false)")],
)
def test_report_without_a_store_writes_a_page_that_says_why(
    analytics: str,
    expected: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("ANALYTICS", analytics)
    page, err = report_page(
        write_kb(tmp_path / "faq"), tmp_path / "nothing", tmp_path / "r.html", capsys=capsys
    )
    assert headings(page) == ["Noch keine Daten"] and expected in page
    assert "no analytics store at" in err


def test_report_to_stdout_and_to_the_default_file(
    site: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    faq_dir, data_dir = site
    assert (
        main(["report", "--faq-dir", str(faq_dir), "--data-dir", str(data_dir), "--out", "-"]) == 0
    )
    captured = capsys.readouterr()
    assert captured.out.startswith("<!DOCTYPE html>") and captured.err == ""
    assert main(["report", "--faq-dir", str(faq_dir), "--data-dir", str(data_dir)]) == 0
    written = (tmp_path / "faqbot-report.html").read_text("utf-8")
    assert unstamped(written) == unstamped(captured.out)
    assert "Bericht gespeichert: faqbot-report.html" in capsys.readouterr().err
    assert not list(tmp_path.glob("*.part"))


def test_report_bad_options_and_paths_give_a_clear_message(
    site: tuple[Path, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    faq_dir, data_dir = site
    base = ["report", "--faq-dir", str(faq_dir), "--data-dir", str(data_dir)]
    assert main([*base, "--out", str(tmp_path / "no" / "such" / "r.html")]) == 1
    assert "cannot write the report to" in capsys.readouterr().err
    assert main([*base, "--days", "-1"]) == 1
    assert "--days must be 0" in capsys.readouterr().err
    monkeypatch.setenv("RETENTION_DAYS", "viele")
    assert main([*base, "--out", "-"]) == 1
    assert "RETENTION_DAYS must be a number" in capsys.readouterr().err


def test_report_handoff_section_appears_only_with_handoff_data(site: tuple[Path, Path]) -> None:
    faq_dir, data_dir = site
    kb = load_knowledge_base(faq_dir)
    with reader(data_dir) as connection:
        report = build_report(connection, days=7, now=NOW)
    assert "Übergaben an das Team" not in render_report(report, kb)
    page = render_report(replace(report, handoffs=Handoffs(open=2, answered=3)), kb)
    assert "Übergaben an das Team" in headings(page)
    assert 'data-chart="handoffs"' in page
