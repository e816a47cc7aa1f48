"""bot.charts: the numbers behind each chart of the staff report, and how one is drawn."""

from __future__ import annotations

import re
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot import charts
from bot.handoff_store import HandoffCounts as Handoffs
from bot.report import DECISIONS, Report
from bot.report_queries import build_report
from bot.store import reader
from tests.report_store import ANSWERED, NOW, QUESTIONS, UNANSWERED, events, write_store


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Report:
    data_dir = write_store(tmp_path_factory.mktemp("data"), events())
    with reader(data_dir) as connection:
        return build_report(connection, days=7, now=NOW)


def values(spec: charts.Spec) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = spec["data"]["values"]
    return found


def test_questions_per_day_has_every_decision_on_every_day(report: Report) -> None:
    rows = values(charts.questions_per_day(report.days))
    labels = [charts.label(decision) for decision in DECISIONS]
    assert len(report.days) == 8  # 7 days back to today, both included
    assert len(rows) == 8 * len(DECISIONS)
    for day in report.days:
        assert [row["decision"] for row in rows if row["day"] == day.day] == labels
    handed = [row["count"] for row in rows if row["decision"] == "An das Team übergeben"]
    assert handed == [0] * 8  # the store has none: drawn as zero, not left out


def test_questions_per_day_add_up_to_the_totals(report: Report) -> None:
    rows = values(charts.questions_per_day(report.days))
    per_label = Counter[str]()
    for row in rows:
        per_label[row["decision"]] += row["count"]
    assert per_label["Direkt beantwortet"] == report.totals.answered == len(ANSWERED)
    assert per_label["Keine Antwort"] == report.totals.none == len(UNANSWERED)
    assert per_label["Smalltalk"] == report.totals.smalltalk == 1
    # Totals count FAQ questions; small talk is counted apart but drawn per day.
    assert sum(per_label.values()) == report.totals.questions + report.totals.smalltalk
    assert sum(per_label.values()) == len(QUESTIONS)
    today = [row for row in rows if row["day"] == NOW.date().isoformat()]
    assert {row["decision"]: row["count"] for row in today if row["count"]} == {
        "Direkt beantwortet": 2,
        "Keine Antwort": 1,
        "Smalltalk": 1,
    }


def test_questions_per_day_keeps_a_decision_it_does_not_know(report: Report) -> None:
    day = report.days[-1]
    odd = type(day)(day.day, {**day.decisions, "later-feature": 3}, None)
    rows = values(charts.questions_per_day([odd]))
    assert rows[-1]["decision"] == "later-feature" and rows[-1]["count"] == 3


def test_entries_by_hits_are_answers_plus_choices_most_first(report: Report) -> None:
    rows = values(charts.entries_by_hits(report.entries))
    assert [(row["label"], row["count"]) for row in rows] == [
        ("preise", 5),
        ("oeffnungszeiten", 2),
        ("hosting", 1),
    ]


def test_ratings_stack_helpful_and_not_helpful_per_entry(report: Report) -> None:
    rows = values(charts.ratings(report.most_not_helpful))
    assert {(row["label"], row["rating"]): row["count"] for row in rows} == {
        ("preise", "nicht hilfreich"): 1,
        ("preise", "hilfreich"): 2,
        ("oeffnungszeiten", "nicht hilfreich"): 1,
        ("oeffnungszeiten", "hilfreich"): 0,
    }


def test_unanswered_topics_are_numbered_like_the_cards(report: Report) -> None:
    rows = values(charts.unanswered_topics(report.unanswered_groups))
    assert [row["count"] for row in rows] == [4, 1]
    assert rows[0]["label"] == "1. Wie bekomme ich mehr Follower auf Instagram?"
    assert rows[1]["label"] == "2. Newsletter & Co. für <100 € im Monat?"  # escaped when drawn


def test_chosen_entries_show_keine_davon_apart(report: Report) -> None:
    rows = values(charts.chosen_entries(report.chosen, report.none_chosen))
    assert [(row["label"], row["kind"], row["count"]) for row in rows] == [
        ("hosting", "entry", 1),
        ("„Keine davon“", "none", 1),
    ]


def test_matcher_lines_leave_out_days_without_questions(report: Report) -> None:
    share = values(charts.answered_share(report.days))
    median = values(charts.median_confidence(report.days))
    asked_on = {NOW.date() - timedelta(days=q[0]) for q in QUESTIONS}
    assert {row["day"] for row in share} == {day.isoformat() for day in asked_on}
    today = next(row for row in share if row["day"] == NOW.date().isoformat())
    assert today["value"] == 0.5  # 2 of 4 answered outright (small talk counts as asked)
    # Small talk has no FAQ score: today's median is of 0.9, 0.95 and 0.2.
    assert next(r for r in median if r["day"] == NOW.date().isoformat())["value"] == 0.9
    assert report.median_confidence == pytest.approx(0.825)


def test_handoffs_chart_counts_open_and_answered() -> None:
    rows = values(charts.handoffs(Handoffs(open=2, answered=5)))
    assert [(row["label"], row["count"]) for row in rows] == [("Offen", 2), ("Beantwortet", 5)]


def test_render_svg_draws_marks_with_hover_titles_and_german_dates(
    report: Report, tmp_path: Path
) -> None:
    svg = charts.render_svg(charts.questions_per_day(report.days))
    assert svg.startswith("<svg")
    bars = re.findall(r'<path aria-label="[^"]*"[^>]*><title>([^<]*)</title></path>', svg)
    assert len(bars) == len(report.days) * len(DECISIONS)
    assert f"{NOW:%d.%m.%Y}: 2× Direkt beantwortet" in bars
    assert f">{NOW:%d.%m.}<" in svg  # axis labels in German day.month. form
    urls = set(re.findall(r"https?://[^\s\"'<>]+", svg))
    assert urls <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}


def test_render_svg_escapes_customer_text(report: Report) -> None:
    svg = charts.render_svg(charts.unanswered_topics(report.unanswered_groups))
    assert "<100" not in svg
    assert "Newsletter &amp; Co. für &lt;100 €" in svg
