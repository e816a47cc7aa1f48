"""Render neutral replies as Telegram messages: HTML text, split to fit, and keyboards.

Everything from the knowledge base and from users is escaped; only the tags written
here (<b>, <a>) reach Telegram. A reply longer than Telegram's 4,096 characters is
split at paragraph boundaries; the buttons go with the last part.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot import texts
from bot.knowledge import Entry
from bot.replies import Block, Reply, entry_reply, parse_action
from bot.texts import shorten

MAX_MESSAGE = 4096
MAX_BUTTON_LABEL = 60
_TAG = re.compile(r"<[^>]+>")
_LINK = re.compile(r'<a href="([^"]*)">(.*?)</a>')


@dataclass(frozen=True)
class Message:
    """One message to send: HTML, its plain-text twin, and buttons (last part only)."""

    html: str
    plain: str
    keyboard: InlineKeyboardMarkup | None = None


def render(reply: Reply) -> list[Message]:
    """The messages that show a reply, in order."""
    blocks_html: list[str] = []
    if reply.title:
        blocks_html.append(f"<b>{escape(reply.title)}</b>")
    for block in reply.blocks:
        blocks_html.append(_block(block, escape))
    if reply.links:
        blocks_html.append(
            f"{texts.LINKS_HEADING}\n"
            + "\n".join(
                f'• <a href="{escape(link.url)}">{escape(link.title)}</a>' for link in reply.links
            )
        )
    for block in reply.footer:
        blocks_html.append(_block(block, escape))
    keyboard = keyboard_for(reply)
    html_parts = _pack(blocks_html)
    # The plain twin is derived from each HTML part, so a fallback for one part
    # carries exactly that part's paragraphs.
    plain_parts = [_plain(part) for part in html_parts]
    return [
        Message(html_part, plain_part, keyboard if number == len(html_parts) - 1 else None)
        for number, (html_part, plain_part) in enumerate(zip(html_parts, plain_parts, strict=True))
    ]


def keyboard_for(reply: Reply) -> InlineKeyboardMarkup | None:
    """One button per row, except the two feedback buttons, which share one."""
    if not reply.buttons:
        return None
    rows: list[list[InlineKeyboardButton]] = []
    feedback_row: list[InlineKeyboardButton] = []
    for button in reply.buttons:
        key = InlineKeyboardButton(
            shorten(button.label, MAX_BUTTON_LABEL), callback_data=button.action
        )
        action = parse_action(button.action)
        if action is not None and action.kind in ("helpful", "not_helpful"):
            if not feedback_row:
                rows.append(feedback_row)
            feedback_row.append(key)
        else:
            rows.append([key])
    return InlineKeyboardMarkup(rows)


def escape(text: str) -> str:
    """Escape text for Telegram's HTML parse mode."""
    return html.escape(text, quote=True)


def _block(block: Block, convert: Callable[[str], str]) -> str:
    if block.bullets:
        return "\n".join(f"• {convert(line)}" for line in block.lines)
    return "\n".join(convert(line) for line in block.lines)


def inline_message(entry: Entry, username: str) -> str:
    """An answer as one shareable message (inline mode); a long one is cut at a
    paragraph and points to the whole answer in the bot's chat (deep link)."""
    parts = render(entry_reply(entry, feedback=False))
    if len(parts) == 1:
        return parts[0].html
    link = (
        f'\n\n<a href="https://t.me/{escape(username)}?start={escape(entry.id)}">'
        f"{escape(texts.READ_WHOLE_ANSWER)}</a>"
    )
    first = parts[0].html
    room = MAX_MESSAGE - len(link) - 2
    cut = first.rfind("\n\n", 0, room)
    return (first[:cut] if cut > 0 else first[:room]) + " …" + link


def _pack(blocks: list[str]) -> list[str]:
    """Join blocks with blank lines into messages of at most MAX_MESSAGE characters."""
    parts: list[str] = []
    current = ""
    for block in blocks:
        for piece in _fit(block):
            candidate = f"{current}\n\n{piece}" if current else piece
            if len(candidate) <= MAX_MESSAGE:
                current = candidate
            else:
                parts.append(current)
                current = piece
    if current or not parts:
        parts.append(current)
    return parts


def _fit(block: str) -> list[str]:
    """A block that alone exceeds the limit, cut at line ends, then at spaces."""
    if len(block) <= MAX_MESSAGE:
        return [block]
    pieces: list[str] = []
    for line in block.split("\n"):
        while len(line) > MAX_MESSAGE:
            cut = line.rfind(" ", 0, MAX_MESSAGE)
            cut = cut if cut > 0 else MAX_MESSAGE
            cut = _safe_cut(line, cut)
            pieces.append(line[:cut])
            line = line[cut:].lstrip()
        pieces.append(line)
    return pieces


def _safe_cut(text: str, cut: int) -> int:
    """Move a cut back so that it does not split an HTML entity such as &amp;."""
    amp = text.rfind("&", max(0, cut - 8), cut)
    if amp != -1 and ";" not in text[amp:cut]:
        return amp
    return cut


def _plain(text: str) -> str:
    """The text of an HTML part without tags; links keep their address."""
    text = _LINK.sub(lambda m: f"{m.group(2)}: {m.group(1)}", text)
    return html.unescape(_TAG.sub("", text))
