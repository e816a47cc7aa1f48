"""A small knowledge base and a real analytics store with a week of traffic, for the
report tests (unit, CLI and browser). Expectations are derived from EVENTS' numbers."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.store import ChoiceEvent, Event, FeedbackEvent, QuestionEvent, Store

NOW = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0)

KB_YAML = """\
category: Test
entries:
  - id: oeffnungszeiten
    question: "Wann haben Sie geöffnet?"
    alternatives: ["Öffnungszeiten"]
    answer: "Montag bis Freitag von 9 bis 17 Uhr."
  - id: preise
    question: "Was kostet eine Website?"
    alternatives: ["Preise Website"]
    answer: "Das hängt vom Umfang ab."
  - id: hosting
    question: "Bieten Sie Hosting an?"
    answer: "Ja, in Deutschland."
"""

# (days ago, decision, entry, score, text); counts below are what the tests expect.
ANSWERED = [(day, "answer", "preise", 0.9, "Was kostet eine Website?") for day in (0, 1, 1, 2, 5)]
ANSWERED += [(day, "answer", "oeffnungszeiten", 0.95, "Öffnungszeiten?") for day in (0, 3)]
SUGGESTED = [
    (1, "suggest", "hosting", 0.75, "server mieten"),
    (2, "suggest", "preise", 0.72, "kosten homepage"),
]
UNANSWERED = [
    (day, "none", None, 0.2, "Wie bekomme ich mehr Follower auf Instagram?") for day in (0, 1, 4)
]
UNANSWERED += [
    (2, "none", None, 0.3, "instagram follower bekommen"),
    (3, "none", None, 0.1, "Newsletter & Co. für <100 € im Monat?"),
]
SMALLTALK = [(0, "smalltalk", None, 0.0, "Hallo!")]
QUESTIONS = ANSWERED + SUGGESTED + UNANSWERED + SMALLTALK
USER_ID = 4242424242
CHAT_ID = 5151515151


def at(days_ago: float) -> str:
    return (NOW - timedelta(days=days_ago)).isoformat(timespec="seconds")


def events() -> list[Event]:
    """QUESTIONS, feedback (preise 2x 👍 1x 👎, oeffnungszeiten 1x 👎) and choices
    (hosting picked after "server mieten", "Keine davon" after "kosten homepage")."""
    found: list[Event] = []
    for number, (days_ago, decision, entry, score, text) in enumerate(QUESTIONS):
        found.append(
            QuestionEvent(
                chat_type="private",
                user_id=USER_ID + number,
                chat_id=CHAT_ID + number,
                text=text,
                decision=decision,
                top_entry=entry,
                top_score=score,
                suggestions=(entry,) if decision == "suggest" and entry else (),
                reply_message_id=100 + number,
                asked_at=at(days_ago),
            )
        )
    first_suggest = len(ANSWERED)
    found.append(
        ChoiceEvent(USER_ID, CHAT_ID + first_suggest, 100 + first_suggest, "hosting", at=at(1))
    )
    found.append(
        ChoiceEvent(USER_ID, CHAT_ID + first_suggest + 1, 101 + first_suggest, None, at=at(2))
    )
    for helpful, entry in (
        (True, "preise"),
        (True, "preise"),
        (False, "preise"),
        (False, "oeffnungszeiten"),
    ):
        found.append(FeedbackEvent(USER_ID, CHAT_ID, None, entry, helpful, at=at(1)))
    return found


def write_store(data_dir: Path, items: Iterable[Event], *, keep_texts: bool = True) -> Path:
    """Record ``items`` through the bot's own store writer."""
    store = Store(data_dir, keep_texts=keep_texts)
    store.start()
    for item in items:
        store.record(item)
    assert store.flush()
    store.close()
    return data_dir


def write_kb(faq_dir: Path) -> Path:
    faq_dir.mkdir(parents=True, exist_ok=True)
    (faq_dir / "test.yaml").write_text(KB_YAML, encoding="utf-8")
    return faq_dir
