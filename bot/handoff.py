"""Handing a question to the team: the conversation side, for any front end.

    customer: question -> "none" (or "Keine davon")  [Frage an unser Team senden]
              -> preview of what is sent + privacy note  [Ja, senden] [Abbrechen]
    staff group: the question, the first name, the bot's guesses, a reference
    staff member replies to that post -> the customer gets it as the team's answer,
              the staff group a confirmation; the handoff is answered
    customer replies to the team's answer -> the staff group again, same thread

A *draft* is a question that may be handed over: kept in memory only, for DRAFT_SECONDS,
under a random token that the team buttons carry (so a button pressed the instant its
message arrives finds its draft). Nothing is stored before the customer confirms.
Storage: bot/handoff_store.py.
"""

from __future__ import annotations

import secrets
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from bot import texts
from bot.handoff_store import Handoff, HandoffRepository
from bot.knowledge import KnowledgeBase
from bot.replies import (
    TEAM_CANCEL_ACTION,
    TEAM_SEND_ACTION,
    TOPICS_ACTION,
    Block,
    Button,
    Reply,
    answer_blocks,
)
from bot.smalltalk import Understanding
from bot.texts import shorten

DRAFT_SECONDS = 24 * 3600.0
MAX_DRAFTS = 10_000
MAX_GUESSES = 3
QUOTE_CHARS = 200


@dataclass
class Draft:
    """A customer's question that may be handed to the team."""

    token: str
    """Carried by the team buttons (the draft exists before its message is sent)."""
    chat_id: int
    question: str
    first_name: str
    guesses: tuple[str, ...]
    """Entry ids the bot considered, best first."""
    created: float
    reference: str | None = None
    """Set once sent: a second confirmation only repeats it."""
    sending: bool = False


class Drafts:
    """Drafts by token and by the message showing them; oldest dropped first; in memory."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._drafts: OrderedDict[str, Draft] = OrderedDict()
        self._by_message: dict[tuple[int, int], str] = {}

    def create(
        self, chat_id: int, *, question: str, first_name: str, guesses: tuple[str, ...]
    ) -> Draft:
        token = secrets.token_urlsafe(6)
        draft = Draft(
            token, chat_id, question, first_name or "Kunde", guesses[:MAX_GUESSES], self._clock()
        )
        self._drafts[token] = draft
        while len(self._drafts) > MAX_DRAFTS:
            _, dropped = self._drafts.popitem(last=False)
            self._by_message = {k: t for k, t in self._by_message.items() if t != dropped.token}
        return draft

    def offer(
        self, chat_id: int, question: str, first_name: str, understanding: Understanding
    ) -> Draft | None:
        """A draft for a question the bot could not answer outright, else None.

        "none" offers the team at once, "Meinten Sie …?" after "Keine davon".
        """
        result = understanding.result
        if understanding.smalltalk is not None or not result.units or result.decision == "answer":
            return None
        guesses = tuple(c.entry.id for c in (result.suggestions or result.ranking[:1]))
        return self.create(chat_id, question=question, first_name=first_name, guesses=guesses)

    def shown_in(self, draft: Draft, message_id: int) -> None:
        """The draft's question got this reply (for "Keine davon" on it later)."""
        self._by_message[draft.chat_id, message_id] = draft.token

    def get(self, token: str, chat_id: int) -> Draft | None:
        """The draft, if it exists, is this chat's and not too old."""
        draft = self._drafts.get(token)
        if draft is None or draft.chat_id != chat_id:
            return None
        if self._clock() - draft.created > DRAFT_SECONDS:
            del self._drafts[token]
            return None
        return draft

    def for_message(self, chat_id: int, message_id: int) -> Draft | None:
        token = self._by_message.get((chat_id, message_id))
        return self.get(token, chat_id) if token is not None else None


def quote(text: str, limit: int = QUOTE_CHARS) -> str:
    """A customer's text on one line, shortened to quote it back."""
    return shorten(" ".join(text.split()), limit)


def preview_reply(draft: Draft, *, open_days: int) -> Reply:
    """What will be sent, and the question whether to send it."""
    return Reply(
        kind="handoff",
        blocks=(
            Block((texts.TEAM_PREVIEW,)),
            Block(
                tuple(
                    line.format(question=f"„{quote(draft.question)}“", first_name=draft.first_name)
                    for line in texts.TEAM_PREVIEW_FIELDS
                ),
                bullets=True,
            ),
            Block((texts.TEAM_PRIVACY.format(days=open_days),)),
        ),
        buttons=(
            Button(texts.TEAM_CONFIRM_BUTTON, TEAM_SEND_ACTION + draft.token),
            Button(texts.TEAM_CANCEL_BUTTON, TEAM_CANCEL_ACTION + draft.token),
        ),
    )


def notice_reply(*paragraphs: str) -> Reply:
    """A short handoff notice for the customer, with the way to the topics."""
    return Reply(
        kind="handoff",
        blocks=tuple(Block((paragraph,)) for paragraph in paragraphs),
        buttons=(Button(texts.ALL_TOPICS, TOPICS_ACTION),),
    )


def staff_post(
    *, reference: str, question: str, first_name: str, guesses: tuple[str, ...], kb: KnowledgeBase
) -> Reply:
    """The post in the staff group: who asked what, and what the bot thought."""
    guessed = [entry.question for entry_id in guesses if (entry := kb.get(entry_id)) is not None]
    blocks = [
        Block((texts.STAFF_NEW.format(first_name=first_name, reference=reference),)),
        Block((f"„{question}“",)),
        Block((texts.STAFF_GUESSES,)) if guessed else Block((texts.STAFF_NO_GUESSES,)),
    ]
    if guessed:
        blocks.append(Block(tuple(guessed), bullets=True))
    blocks.append(Block((texts.STAFF_HOW_TO_ANSWER,)))
    return Reply(kind="handoff", blocks=tuple(blocks))


def follow_up_post(*, handoff: Handoff, text: str, first_name: str) -> Reply:
    """A customer's reply to the team's answer, posted under the original question."""
    return Reply(
        kind="handoff",
        blocks=(
            Block(
                (texts.STAFF_FOLLOW_UP.format(first_name=first_name, reference=handoff.reference),)
            ),
            Block((f"„{text}“",)),
            Block((texts.STAFF_HOW_TO_ANSWER,)),
        ),
    )


def team_answer_reply(*, question: str, answer: str) -> Reply:
    """The team's answer as the customer reads it (escaped by the front end)."""
    return Reply(
        kind="handoff",
        blocks=(
            Block((texts.TEAM_ANSWER_INTRO.format(question=quote(question, 120)),)),
            *answer_blocks(answer),
            Block((texts.TEAM_ANSWER_OUTRO,)),
        ),
    )


def staff_note(text: str) -> Reply:
    return Reply(kind="text", blocks=(Block((text,)),))


def open_list(handoffs: list[Handoff], *, now: float | None = None) -> Reply:
    """/offen: open handoffs, oldest first, with how long they have waited."""
    if not handoffs:
        return staff_note(texts.OPEN_NONE)
    lines = tuple(
        texts.OPEN_LINE.format(
            reference=handoff.reference,
            asked=waited(handoff.opened_at, now=now),
            first_name=handoff.first_name or "Kunde",
            question=quote(handoff.question, 100),
        )
        for handoff in handoffs
    )
    return Reply(
        kind="text",
        blocks=(
            Block((texts.OPEN_HEADER.format(count=len(handoffs)),)),
            Block(lines, bullets=True),
        ),
    )


def waited(iso: str, *, now: float | None = None) -> str:
    """How long ago, in German: "seit 5 Min.", "seit 3 Std.", "seit 2 Tagen"."""
    try:
        then = datetime.fromisoformat(iso).timestamp()
    except ValueError:
        return iso
    minutes = max(0, int(((now if now is not None else time.time()) - then) // 60))
    if minutes < 60:
        return f"seit {minutes} Min."
    if minutes < 48 * 60:
        return f"seit {minutes // 60} Std."
    return f"seit {minutes // (24 * 60)} Tagen"


@dataclass
class Desk:
    """Everything a front end needs to hand questions to the team's group."""

    staff_chat_id: int
    repository: HandoffRepository
    open_days: int = 14
    drafts: Drafts = field(default_factory=Drafts)
    admins_told: bool = False
    """Admins were told that the staff group cannot be reached (reset when it can)."""
