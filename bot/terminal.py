"""The terminal front end: render replies as text and hold a chat conversation.

``faqbot chat`` runs the same conversation as the Telegram bot: the same matcher, the
same reply composition; buttons become numbered choices the user types.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterable

from bot.knowledge import KnowledgeBase
from bot.matcher import Matcher
from bot.replies import (
    BROWSE_ENTRY_ACTION,
    CATEGORY_ACTION,
    ENTRY_ACTION,
    NONE_OF_THESE_ACTION,
    Button,
    Reply,
    category_reply,
    compose_reply,
    entry_reply,
    none_of_these_reply,
    topics_reply,
)

WIDTH = 78
GREETING = (
    "Willkommen! Stellen Sie Ihre Frage, zum Beispiel „Was ist DNSSEC?“.\n"
    "„themen“ zeigt alle Themen, eine Zahl wählt eine Auswahl, „ende“ beendet das Gespräch."
)
QUIT_WORDS = {"ende", "exit", "quit", "tschüss", "/ende"}
TOPIC_WORDS = {"themen", "/themen", "/start"}


def render_reply(reply: Reply) -> str:
    """A reply as plain text with numbered choices."""
    parts: list[str] = []
    if reply.title:
        parts.append(reply.title.upper() if reply.kind == "category" else f"» {reply.title}")
    for block in reply.blocks:
        if block.bullets:
            parts.append("\n".join(_wrap(line, "  • ", "    ") for line in block.lines))
        else:
            parts.append("\n".join(_wrap(line) for line in block.lines))
    if reply.links:
        parts.append(
            "Mehr dazu:\n" + "\n".join(f"  {link.title}: {link.url}" for link in reply.links)
        )
    if reply.buttons:
        parts.append(
            "\n".join(
                f"  [{number}] {button.label}" for number, button in enumerate(reply.buttons, 1)
            )
        )
    return "\n\n".join(parts)


def _wrap(text: str, first: str = "", rest: str = "") -> str:
    return textwrap.fill(text, WIDTH, initial_indent=first, subsequent_indent=rest)


class Conversation:
    """One customer's conversation: questions in, replies out, choices remembered."""

    def __init__(self, kb: KnowledgeBase, matcher: Matcher, *, contact_text: str) -> None:
        self.kb = kb
        self.matcher = matcher
        self.contact_text = contact_text
        self.choices: tuple[Button, ...] = ()

    def respond(self, message: str) -> Reply:
        """The reply to one line the user typed."""
        text = message.strip()
        if text.lower() in TOPIC_WORDS:
            return self._remember(topics_reply(self.kb))
        if text.isdigit() and self.choices:
            number = int(text)
            if 1 <= number <= len(self.choices):
                return self._remember(self.choose(self.choices[number - 1].action))
        result = self.matcher.match(text)
        # No feedback buttons in a terminal: there is nobody to report them to.
        return self._remember(compose_reply(result, contact_text=self.contact_text, feedback=False))

    def choose(self, action: str) -> Reply:
        """What choosing a button does; the same actions as Telegram's buttons."""
        if action.startswith((ENTRY_ACTION, BROWSE_ENTRY_ACTION)):
            entry = self.kb.get(action[len(ENTRY_ACTION) :])
            if entry is not None:
                return entry_reply(entry, feedback=False)
        elif action.startswith(CATEGORY_ACTION):
            reply = category_reply(self.kb, int(action.removeprefix(CATEGORY_ACTION)))
            if reply is not None:
                return reply
        elif action == NONE_OF_THESE_ACTION:
            return none_of_these_reply(contact_text=self.contact_text)
        return topics_reply(self.kb)  # "topics", and choices that no longer exist

    def _remember(self, reply: Reply) -> Reply:
        self.choices = reply.buttons
        return reply


def run_chat(
    conversation: Conversation,
    lines: Iterable[str],
    write: Callable[[str], object],
    *,
    prompt: Callable[[], object] | None = None,
) -> None:
    """Feed lines to the conversation and write each reply until the user quits."""
    write(GREETING + "\n")
    if prompt:
        prompt()
    for line in lines:
        if line.strip().lower() in QUIT_WORDS:
            break
        write("\n" + render_reply(conversation.respond(line)) + "\n")
        if prompt:
            prompt()
    write("\nAuf Wiedersehen!\n")
