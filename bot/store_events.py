"""What the analytics store records: one event per question, vote and button choice."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class QuestionEvent:
    """A question and what the bot did with it."""

    chat_type: str
    user_id: int
    chat_id: int
    text: str
    decision: str
    top_entry: str | None
    top_score: float
    suggestions: tuple[str, ...] = ()
    reply_message_id: int | None = None
    asked_at: str = field(default_factory=now_iso)


@dataclass(frozen=True)
class FeedbackEvent:
    """👍 or 👎 on an answer."""

    user_id: int
    chat_id: int
    message_id: int | None
    entry_id: str
    helpful: bool
    at: str = field(default_factory=now_iso)


@dataclass(frozen=True)
class ChoiceEvent:
    """A suggestion button pressed; ``entry_id`` None for "Keine davon"."""

    user_id: int
    chat_id: int
    message_id: int | None
    entry_id: str | None
    at: str = field(default_factory=now_iso)


Event = QuestionEvent | FeedbackEvent | ChoiceEvent
