"""Small talk: the YAML key, recognising whole-message small talk, English, related buttons."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.cli import main
from bot.errors import KnowledgeBaseError
from bot.knowledge import Entry, KnowledgeBase, load_knowledge_base
from bot.matcher import Candidate, LexicalPass, Matcher, MatchResult
from bot.reloader import Snapshot
from bot.replies import (
    ENTRY_ACTION,
    RELATED_MARGIN,
    RELATED_SHORT_FLOOR,
    Action,
    compose_reply,
    parse_action,
    related,
)
from bot.smalltalk import NOTHING, SmallTalk, is_english, understand
from bot.telegram.handlers import understand_question

FAQ = """\
category: Web & Technik
entries:
  - id: dnssec
    question: "Was ist DNSSEC und wozu dient es?"
    alternatives: ["Wie richte ich DNSSEC ein?", "DNSSEC aktivieren"]
    keywords: [DNSSEC, DS-Record]
    answer: DNSSEC signiert die Einträge Ihrer Domain.
  - id: ssl-kosten
    question: "Was kostet ein SSL-Zertifikat?"
    alternatives: ["SSL Preis", "Brauche ich ein teures Zertifikat?"]
    keywords: [SSL, Zertifikat, kosten]
    answer: Mit Let's Encrypt kostet es nichts.
"""

SMALLTALK = """\
category: Small Talk
smalltalk: true
entries:
  - id: gruss
    question: "Hallo"
    alternatives: ["Guten Tag", "Moin"]
    answer: Guten Tag! Wie kann ich helfen?
  - id: dank
    question: "Danke"
    alternatives: ["Vielen Dank"]
    answer: Sehr gern!
  - id: zustimmung
    question: "Okay"
    alternatives: ["ok", "super"]
    answer: Gut!
  - id: mensch
    question: "Bist du ein Mensch?"
    alternatives: ["Wer bist du denn"]
    answer: Ich bin ein Bot.
  - id: englisch
    question: "Do you speak English?"
    answer: Ich antworte auf Deutsch.
"""


@pytest.fixture
def faq_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "faq"
    folder.mkdir()
    (folder / "technik.yaml").write_text(FAQ, encoding="utf-8")
    (folder / "smalltalk.yaml").write_text(SMALLTALK, encoding="utf-8")
    return folder


@pytest.fixture
def kb(faq_dir: Path) -> KnowledgeBase:
    return load_knowledge_base(faq_dir)


@pytest.fixture
def matcher(kb: KnowledgeBase) -> Matcher:
    return Matcher(kb)


# The file-level key ------------------------------------------------------------------


def test_smalltalk_file_stays_out_of_faq_topics_and_deep_links(kb: KnowledgeBase) -> None:
    assert [entry.id for entry in kb] == ["dnssec", "ssl-kosten"]
    assert kb.categories == ("Web & Technik",)
    assert kb.get("gruss") is None  # /start gruss is not a deep link
    assert [entry.id for entry in kb.smalltalk][:2] == ["gruss", "dank"]
    assert kb.smalltalk[0].category == "Small Talk"


def test_smalltalk_key_must_be_true_or_false(faq_dir: Path) -> None:
    path = faq_dir / "smalltalk.yaml"
    path.write_text(SMALLTALK.replace("smalltalk: true", "smalltalk: ja bitte"), encoding="utf-8")
    with pytest.raises(KnowledgeBaseError) as error:
        load_knowledge_base(faq_dir)
    assert f"{path}:2: „smalltalk“ muss true oder false sein." in str(error.value)


def test_smalltalk_entries_are_checked_like_faq_entries(faq_dir: Path) -> None:
    broken = SMALLTALK.replace("  - id: dank\n", "  - id: dnssec\n").replace(
        "    answer: Gut!\n", ""
    )
    (faq_dir / "smalltalk.yaml").write_text(broken, encoding="utf-8")
    with pytest.raises(KnowledgeBaseError) as error:
        load_knowledge_base(faq_dir)
    message = str(error.value)
    assert "Die id „dnssec“ gibt es schon" in message
    assert "Dem Eintrag fehlt das Pflichtfeld „answer“." in message


def test_smalltalk_key_misspelt_gets_a_suggestion(faq_dir: Path) -> None:
    (faq_dir / "smalltalk.yaml").write_text(
        SMALLTALK.replace("smalltalk: true", "smaltalk: true"), encoding="utf-8"
    )
    with pytest.raises(KnowledgeBaseError, match=re.escape("Meinten Sie „smalltalk“?")):
        load_knowledge_base(faq_dir)


def test_check_warns_when_a_faq_phrasing_counts_as_small_talk(
    faq_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    technik = faq_dir / "technik.yaml"
    technik.write_text(
        FAQ.replace('["SSL Preis",', '["Vielen Dank dir", "SSL Preis",'), encoding="utf-8"
    )
    assert main(["check", "--no-confusions", "--faq-dir", str(faq_dir)]) == 0
    out = capsys.readouterr().out
    assert (
        f"{technik}:10: Warnung: „Vielen Dank dir“ (ssl-kosten) gilt als Small Talk"
        " (Eintrag „dank“" in out
    )


# Whole-message small talk --------------------------------------------------------------


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("hallo", "gruss"),
        ("Hallo!!", "gruss"),
        ("Hallo Bot", "gruss"),  # filler around a phrase
        ("danke!", "dank"),
        ("Vielen Dank dir", "dank"),
        ("Dankee", "dank"),  # a typo
        ("ok", "zustimmung"),
        ("ok super", "zustimmung"),  # a run of phrases
        ("bist du ein Mensch?", "mensch"),
        ("Hallo, wer bist du?", "mensch"),  # the last segment makes the point
        ("Hallo und danke!", "dank"),
    ],
)
def test_smalltalk_recognised_when_the_whole_message_is_small_talk(
    kb: KnowledgeBase, message: str, expected: str
) -> None:
    entry = SmallTalk(kb.smalltalk).match(message)
    assert entry is not None and entry.id == expected


@pytest.mark.parametrize(
    "message",
    [
        "Hallo, wie richte ich DNSSEC ein?",
        "Danke, und was kostet SSL?",
        "Danke Google",
        "Moin, Frage zu DNSSEC",
        "halloween",
        "",
        "???",
    ],
)
def test_smalltalk_not_when_the_message_also_asks(kb: KnowledgeBase, message: str) -> None:
    assert SmallTalk(kb.smalltalk).match(message) is None


def test_understand_greeting_with_question_is_the_faq_answer(
    kb: KnowledgeBase, matcher: Matcher
) -> None:
    understanding = understand(kb, matcher, "Hallo, wie richte ich DNSSEC ein?")
    assert understanding.decision == "answer"
    assert understanding.result.match is not None
    assert understanding.result.match.entry.id == "dnssec"


def test_understand_small_talk_skips_the_matcher(kb: KnowledgeBase, matcher: Matcher) -> None:
    understanding = understand(kb, matcher, "Danke!")
    assert understanding.decision == "smalltalk" and understanding.counts
    assert understanding.smalltalk is not None and understanding.smalltalk.id == "dank"
    assert understanding.result.ranking == ()


@pytest.mark.parametrize("message", ["Danke!", "Wie richte ich DNSSEC ein?", "How are you?"])
def test_the_bot_understands_as_understand_does_and_small_talk_asks_no_matcher(
    kb: KnowledgeBase, message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = understand(kb, Matcher(kb), message)
    matcher = Matcher(kb)
    asked: list[str] = []
    lexical_pass = matcher.lexical_pass

    def spy(question: str) -> LexicalPass:
        asked.append(question)
        return lexical_pass(question)

    monkeypatch.setattr(matcher, "lexical_pass", spy)
    snapshot = Snapshot(kb, matcher, datetime.now(UTC))
    got = asyncio.run(understand_question(snapshot, message))
    assert (got.decision, got.smalltalk, got.result.ranking) == (
        expected.decision,
        expected.smalltalk,
        expected.result.ranking,
    )
    # Whole-message small talk is recognised before the matcher makes a lexical pass;
    # English is told apart only after the matcher has had its say.
    assert asked == ([] if expected.result is NOTHING else [message])


def test_understand_english_gets_the_english_reply_unless_answered(
    kb: KnowledgeBase, matcher: Matcher
) -> None:
    english = understand(kb, matcher, "How can I renew my passport?")
    assert english.decision == "smalltalk"
    assert english.smalltalk is not None and english.smalltalk.id == "englisch"
    answered = understand(kb, matcher, "What is DNSSEC?")
    assert answered.decision == "answer"  # the German answer beats a language lesson


@pytest.mark.parametrize(
    ("message", "english"),
    [
        ("How do I choose a good WordPress theme?", True),
        ("Why doesn't my business show up on Google Maps?", True),
        ("Was ist ein Call to Action?", False),
        ("Wie richte ich Google My Business ein?", False),
        ("<i>Photovoltaik</i> & <script>alert(1)</script>", False),
        ("SEO", False),
    ],
)
def test_is_english(message: str, english: bool) -> None:
    assert is_english(message) is english


def test_ask_json_reports_smalltalk_with_the_entry(
    faq_dir: Path, kb: KnowledgeBase, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["ask", "--json", "--faq-dir", str(faq_dir), "Vielen Dank!"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data == {
        "decision": "smalltalk",
        "match": {"id": "dank", "score": 1.0, "question": "Danke"},
        "suggestions": [],
    }


def test_shipped_smalltalk_phrasings_are_recognised(shipped_kb: KnowledgeBase) -> None:
    small_talk = SmallTalk(shipped_kb.smalltalk)
    assert shipped_kb.smalltalk, "faq/ has no small-talk file"
    for entry in shipped_kb.smalltalk:
        for phrasing in entry.phrasings:
            assert small_talk.match(phrasing) is not None, (entry.id, phrasing)
    assert "Small Talk" not in shipped_kb.categories


def test_shipped_faq_questions_are_never_small_talk(shipped_kb: KnowledgeBase) -> None:
    small_talk = SmallTalk(shipped_kb.smalltalk)
    for entry in shipped_kb:
        for phrasing in entry.phrasings:
            assert small_talk.match(phrasing) is None, (entry.id, phrasing)


# Related questions ---------------------------------------------------------------------


def _entry(entry_id: str) -> Entry:
    return Entry(id=entry_id, category="C", question=f"Frage {entry_id}?", answer="A.")


def _answered(scores: list[float], *, words: int) -> MatchResult:
    ranking = tuple(Candidate(_entry(f"e{n}"), score) for n, score in enumerate(scores))
    units = tuple(object() for _ in range(words))
    return MatchResult("answer", ranking[0], ranking[1:], ranking, units)  # type: ignore[arg-type]


def test_related_runners_up_within_the_margin() -> None:
    close = 0.9 - RELATED_MARGIN + 0.01
    result = _answered([0.9, close, close - 0.005, 0.2], words=4)
    assert [entry.id for entry in related(result)] == ["e1", "e2"]  # at most two


def test_related_none_when_the_answer_is_clearly_ahead() -> None:
    assert related(_answered([0.9, 0.9 - RELATED_MARGIN - 0.05], words=4)) == ()


def test_related_for_one_word_questions_above_the_floor() -> None:
    result = _answered([0.73, RELATED_SHORT_FLOOR + 0.01, RELATED_SHORT_FLOOR - 0.01], words=1)
    assert [entry.id for entry in related(result)] == ["e1"]


def test_related_buttons_follow_the_answer_and_its_links() -> None:
    reply = compose_reply(_answered([0.9, 0.85], words=3), feedback=True)
    assert reply.footer and reply.footer[0].lines == ("Passt nicht? Vielleicht:",)
    assert reply.buttons[-1].action == ENTRY_ACTION + "e1"
    assert reply.buttons[-1].label == "Frage e1?"


def test_spam_reaches_both_spam_entries_in_one_click(shipped_matcher: Matcher) -> None:
    reply = compose_reply(shipped_matcher.match("spam"), feedback=False)
    shown = {reply.entry_id} | {
        action.target
        for button in reply.buttons
        if (action := parse_action(button.action)) is not None and action.kind == "entry"
    }
    assert {"kommentar-spam", "google-spam-gehackt"} <= shown


# Actions -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "action"),
    [
        ("e:dnssec", Action("entry", "dnssec")),
        ("o:dnssec", Action("browse", "dnssec")),
        ("c:web-technik", Action("category", "web-technik")),
        ("t", Action("topics")),
        ("x", Action("none_of_these")),
        ("f+:dnssec", Action("helpful", "dnssec")),
        ("f-:dnssec", Action("not_helpful", "dnssec")),
        ("h:abc", Action("team", "abc")),
        ("h+:abc", Action("team_send", "abc")),
        ("h-:abc", Action("team_cancel", "abc")),
        ("e:", None),
        ("zzz", None),
    ],
)
def test_parse_action(data: str, action: Action | None) -> None:
    assert parse_action(data) == action
