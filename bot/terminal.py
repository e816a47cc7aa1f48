"""The terminal front end: render replies as text and hold a chat conversation.

``faqbot chat`` runs the same conversation as the Telegram bot: the same matcher, small
talk and reply composition; buttons become numbered choices the user types. In a real
terminal, lines are read with readline (editing, history in ~/.faqbot_history), a
pasted message of several lines is one question, and Ctrl-C ends the chat like Ctrl-D.
"""

from __future__ import annotations

import contextlib
import os
import select
import sys
import textwrap
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from bot import texts
from bot.conversation import respond
from bot.knowledge import KnowledgeBase
from bot.matcher import Matcher
from bot.replies import Button, Reply, parse_action, reply_to, topics_reply
from bot.smalltalk import understand

WIDTH = 78
QUIT_WORDS = {"ende", "exit", "quit", "/ende"}
PROMPT = "Sie: "
HISTORY_FILE = Path("~/.faqbot_history")
HISTORY_LENGTH = 500
PASTE_WAIT = 0.03
"""Seconds to wait for the next line of a paste: pasted lines arrive together, typed
ones need a human's Enter."""
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
            f"{texts.LINKS_HEADING}\n"
            + "\n".join(f"  {link.title}: {link.url}" for link in reply.links)
        )
    parts += ["\n".join(_wrap(line) for line in block.lines) for block in reply.footer]
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
        understanding = understand(self.kb, self.matcher, text)
        # No feedback buttons in a terminal: there is nobody to report them to.
        reply = reply_to(understanding, contact_text=self.contact_text, feedback=False)
        return self._remember(reply)

    def choose(self, data: str) -> Reply:
        """What choosing a button does: the conversation core's reply, as on Telegram."""
        action = parse_action(data)
        if action is None:
            return topics_reply(self.kb)
        # No feedback buttons, no team handoff in a terminal: nobody would read them.
        outcome = respond(self.kb, action, contact_text=self.contact_text, feedback=False)
        return outcome.reply or topics_reply(self.kb)

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
    """Feed lines to the conversation and write each reply until the user quits.

    Ctrl-C (KeyboardInterrupt while waiting for a line) ends the chat like Ctrl-D.
    """
    write(texts.TERMINAL_GREETING + "\n")
    if prompt:
        prompt()
    try:
        for line in lines:
            if line.strip().lower() in QUIT_WORDS:
                break
            write("\n" + render_reply(conversation.respond(line)) + "\n")
            if prompt:
                prompt()
    except KeyboardInterrupt:
        write("\n")
    write(f"\n{texts.TERMINAL_FAREWELL}\n")


def typed_messages(
    read: Callable[[str], str] = input,
    more_pending: Callable[[], bool] | None = None,
) -> Iterator[str]:
    """Messages typed at a prompt; the lines of one paste are joined into one message.

    ``read`` is ``input`` (with readline's editing once ``enable_line_editing`` ran);
    ``more_pending`` says whether another line is already waiting (part of a paste).
    """
    pending = more_pending or _stdin_pending
    while True:
        try:
            lines = [read("\n" + PROMPT)]
            while pending():
                lines.append(read(""))
        except EOFError:
            return
        # Readline's bracketed paste hands over a paste as one string with newlines.
        yield " ".join(" ".join(lines).split())


def _stdin_pending() -> bool:
    with contextlib.suppress(OSError, ValueError):
        ready, _, _ = select.select([sys.stdin], [], [], PASTE_WAIT)
        return bool(ready)
    return False


def enable_line_editing(history: Path = HISTORY_FILE) -> Callable[[], None]:
    """Turn on readline for ``input``; returns what saves the history at the end."""
    try:
        import readline
    except ImportError:  # e.g. Windows without pyreadline: plain input still works
        return lambda: None
    path = history.expanduser()
    with contextlib.suppress(OSError):
        readline.read_history_file(path)
    readline.set_history_length(HISTORY_LENGTH)

    def save() -> None:
        with contextlib.suppress(OSError):
            readline.write_history_file(path)
            os.chmod(path, 0o600)  # customers' questions may be in it

    return save
