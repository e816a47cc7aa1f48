"""The conversation core: what a pressed button leads to, for every front end.

A button's data parses into an ``Action`` (bot/replies.py); ``respond`` turns the
knowledge base and that action into the next ``Reply``. Front ends only render the
reply and add their side effects: Telegram records choices and feedback and edits the
message in place, the terminal prints the reply with numbered choices. So a button
pressed in ``faqbot chat`` leads where the same button leads on Telegram.

Feedback (👍/👎) and the team handoff are side effects, not navigation: Telegram handles
them itself; ``respond`` leaves them alone (``handled`` is False).
"""

from __future__ import annotations

from dataclasses import dataclass

from bot import texts
from bot.knowledge import Entry, KnowledgeBase
from bot.replies import (
    Action,
    Reply,
    category_reply,
    entry_reply,
    none_of_these_reply,
    topics_reply,
)
from bot.texts import DEFAULT_CONTACT_TEXT

NAVIGATION = frozenset({"entry", "browse", "category", "topics", "none_of_these"})
"""The actions ``respond`` answers; the others are the front end's side effects."""


@dataclass(frozen=True)
class Outcome:
    """What a button press leads to."""

    reply: Reply | None
    """The next reply; None: nothing changes (the front end handles the action)."""
    notice: str | None = None
    """A short notice about the press (Telegram: the button's pop-up)."""
    opened: Entry | None = None
    """The entry the press opened, for the front end to count."""

    @property
    def handled(self) -> bool:
        return self.reply is not None


def respond(
    kb: KnowledgeBase,
    action: Action,
    *,
    contact_text: str = DEFAULT_CONTACT_TEXT,
    feedback: bool = True,
    handoff: str | None = None,
) -> Outcome:
    """The next reply to a pressed button.

    ``feedback``: answers carry 👍/👎 (not in the terminal, where nobody reads them);
    ``handoff``: the draft the front end can hand this question to the team under
    (offered after "Keine davon").
    """
    if action.kind in ("entry", "browse"):
        entry = kb.get(action.target)
        if entry is None:  # removed by a hot reload since the button was sent
            return Outcome(topics_reply(kb), notice=texts.ENTRY_GONE)
        # Opened while browsing: a way back to its category.
        back_to = kb.category_id(entry.category) if action.kind == "browse" else None
        return Outcome(entry_reply(entry, back_to=back_to, feedback=feedback), opened=entry)
    if action.kind == "category":
        name = kb.category_by_id(action.target)
        if name is None:  # the category's file is gone, or a button from before ids
            return Outcome(topics_reply(kb, stale=True))
        return Outcome(category_reply(kb, name))
    if action.kind == "topics":
        return Outcome(topics_reply(kb))
    if action.kind == "none_of_these":
        return Outcome(none_of_these_reply(contact_text=contact_text, handoff=handoff))
    return Outcome(None)
