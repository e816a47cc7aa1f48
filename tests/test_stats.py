"""bot.stats: the admins' /stats report in German, from what customers asked and chose."""

from __future__ import annotations

import pytest

from bot.matcher import Matcher
from bot.stats import TOP, Stats

ANSWERED = "Hallo, wie werde ich Spamkommentare los?"  # -> kommentar-spam
SUGGESTED = "WordPress"  # -> suggestions
UNANSWERED = "Wie backe ich einen Apfelkuchen?"  # -> none


@pytest.fixture
def stats() -> Stats:
    return Stats()


def ask(stats: Stats, matcher: Matcher, *questions: str) -> None:
    for question in questions:
        stats.record_question(question, matcher.match(question))


def test_stats_questions_are_matched_as_the_tests_assume(shipped_matcher: Matcher) -> None:
    assert shipped_matcher.match(ANSWERED).decision == "answer"
    assert shipped_matcher.match(SUGGESTED).decision == "suggest"
    assert shipped_matcher.match(UNANSWERED).decision == "none"


def test_report_empty_counts_zero(stats: Stats) -> None:
    assert stats.report() == ("Fragen gesamt: 0\nbeantwortet: 0, Vorschläge: 0, keine Antwort: 0")


def test_report_counts_questions_by_decision(stats: Stats, shipped_matcher: Matcher) -> None:
    ask(stats, shipped_matcher, ANSWERED, ANSWERED, SUGGESTED, UNANSWERED, UNANSWERED, UNANSWERED)
    lines = stats.report().splitlines()
    assert lines[0] == "Fragen gesamt: 6"
    assert lines[1] == "beantwortet: 2, Vorschläge: 1, keine Antwort: 3"


def test_report_lists_answered_and_chosen_entries(stats: Stats, shipped_matcher: Matcher) -> None:
    ask(stats, shipped_matcher, ANSWERED)
    stats.record_choice("kommentar-spam")
    stats.record_choice("dnssec")
    report = stats.report()
    assert "Häufigste Einträge:\n  2× kommentar-spam\n  1× dnssec" in report
    assert "Fragen gesamt: 1" in report  # a choice is not a question


def test_report_top_entries_most_common_first_at_most_five(stats: Stats) -> None:
    for number in range(8):
        for _ in range(number + 1):
            stats.record_choice(f"eintrag-{number}")
    lines = stats.report().splitlines()
    top = lines[lines.index("Häufigste Einträge:") + 1 :]
    assert top == [f"  {n + 1}× eintrag-{n}" for n in (7, 6, 5, 4, 3)]
    assert len(top) == TOP


@pytest.mark.parametrize(
    ("asked", "listed"),
    [
        ("Wie backe ich einen Apfelkuchen?", "wie backe ich einen apfelkuchen?"),
        ("  WIE BACKE ICH\n einen   Apfelkuchen?  ", "wie backe ich einen apfelkuchen?"),
        ("Wie backe ich einen <b>Apfelkuchen</b>?", "wie backe ich einen apfelkuchen ?"),
    ],
)
def test_report_unanswered_questions_normalised_lower_case(
    asked: str, listed: str, stats: Stats, shipped_matcher: Matcher
) -> None:
    ask(stats, shipped_matcher, asked)
    assert f"Häufigste unbeantwortete Fragen:\n  1× {listed}" in stats.report()


def test_report_same_question_differently_typed_counts_together(
    stats: Stats, shipped_matcher: Matcher
) -> None:
    ask(stats, shipped_matcher, UNANSWERED, UNANSWERED.upper(), f"  {UNANSWERED}\n")
    assert "  3× wie backe ich einen apfelkuchen?" in stats.report()


def test_report_unanswered_question_is_shortened(stats: Stats, shipped_matcher: Matcher) -> None:
    question = "Apfelkuchen " * 100
    ask(stats, shipped_matcher, question)
    [line] = [line for line in stats.report().splitlines() if "apfelkuchen" in line]
    assert len(line.removeprefix("  1× ")) <= 200


def test_report_answered_and_suggested_are_not_unanswered(
    stats: Stats, shipped_matcher: Matcher
) -> None:
    ask(stats, shipped_matcher, ANSWERED, SUGGESTED)
    assert "unbeantwortete" not in stats.report()


@pytest.mark.parametrize("asked", ["", "???", "😀"])
def test_report_questions_without_words_are_not_listed_as_unanswered(
    asked: str, stats: Stats, shipped_matcher: Matcher
) -> None:
    ask(stats, shipped_matcher, asked)
    assert "unbeantwortete" not in stats.report()


@pytest.mark.parametrize(
    ("helpful", "not_helpful", "line"),
    [
        (1, 0, "Feedback: 1 hilfreich, 0 nicht hilfreich"),
        (0, 2, "Feedback: 0 hilfreich, 2 nicht hilfreich"),
        (3, 1, "Feedback: 3 hilfreich, 1 nicht hilfreich"),
    ],
)
def test_report_feedback_totals(helpful: int, not_helpful: int, line: str, stats: Stats) -> None:
    for _ in range(helpful):
        stats.record_feedback("dnssec", helpful=True)
    for _ in range(not_helpful):
        stats.record_feedback("shitstorm", helpful=False)
    assert stats.report().splitlines()[-1] == line


def test_report_without_feedback_has_no_feedback_line(stats: Stats) -> None:
    stats.record_choice("dnssec")
    assert "Feedback" not in stats.report()


def test_record_feedback_counts_per_entry(stats: Stats) -> None:
    stats.record_feedback("dnssec", helpful=True)
    stats.record_feedback("dnssec", helpful=True)
    stats.record_feedback("dnssec", helpful=False)
    assert (stats.helpful["dnssec"], stats.not_helpful["dnssec"]) == (2, 1)
