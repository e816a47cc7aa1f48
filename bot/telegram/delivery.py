"""Getting a reply to the customer despite Telegram's bad moments.

``transmit`` is the one way a message reaches a chat (the outbox calls it, in the
chat's order); ``deliver`` retries the other calls (button answers, inline answers,
the command menu) a few times. Telegram failures and what each one gets:

- 429 Too Many Requests: wait ``retry_after`` and try again (the outbox waits per
  chat, see ``bot.telegram.outbox``); no reply is lost to a busy moment.
- Network errors, timeouts, 5xx: retry with exponential backoff.
- "Can't parse entities": send the plain-text twin instead.
- "Message to edit not found" (a button on a deleted message): send the reply anew.
- The group became a supergroup (``ChatMigrated``): send to the new chat id.
- The user blocked the bot: log and move on; there is nobody to tell.
- "Message is not modified" or a button press too old to answer: nothing to do.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import TypeVar

from telegram import InlineKeyboardMarkup, Message, ReplyParameters
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.ext import ExtBot

from bot.telegram.ratelimit import retry_after_seconds

logger = logging.getLogger(__name__)

T = TypeVar("T")

ATTEMPTS = 5
"""Network errors and timeouts tolerated per message."""
MAX_WAITS = 20
"""Flood-control waits per message before giving up (each at most MAX_RETRY_AFTER)."""
FIRST_BACKOFF = 0.5
MAX_RETRY_AFTER = 60.0
SHORT_LIVED_PATIENCE = 10.0
"""Flood-control waiting a spinner answer or inline results are worth: Telegram stops a
button's spinner by itself after a few seconds, and a typing customer has moved on."""


HARMLESS = (
    "message is not modified",  # a double tap asked for what is already shown
    "query is too old",  # a button pressed while the bot was down: just do the rest
    "query id is invalid",
)
"""Telegram refusals that mean there is nothing left to do, not that something failed."""


GONE = ("message to edit not found", "message can't be edited")
"""Edits that cannot happen (the message was deleted or is too old): send anew instead."""


class Undeliverable(Exception):
    """The message could not be delivered after all retries, or never can be."""


class TelegramUnavailable(Undeliverable):
    """Not delivered because Telegram was out of reach, or asked to wait, for longer than
    a reply may wait: nothing about the chat is wrong, and later it may work."""


@dataclass(frozen=True)
class Outgoing:
    """One message for one chat: HTML with its plain-text twin, buttons, quote or edit."""

    chat_id: int
    html: str
    plain: str
    keyboard: InlineKeyboardMarkup | None = None
    reply_to: int | None = None
    """Quote this message (groups), if it still exists."""
    edit_message_id: int | None = None
    """Show the text in place of this message instead of sending a new one."""
    markup_only: bool = False
    """With ``edit_message_id``: change only the buttons (``keyboard``; None removes them)."""

    @classmethod
    def text(cls, chat_id: int, text: str) -> Outgoing:
        """Plain text, no buttons (admin notices, short thanks)."""
        return cls(chat_id, text, text)


async def transmit(bot: ExtBot[None], outgoing: Outgoing) -> tuple[Message | None, int]:
    """Send (or edit) once; returns the message and the chat id it went to.

    Retryable failures (``RetryAfter``, ``NetworkError``, ``TimedOut``) are raised for
    the caller's retry policy; the message is None when there is nothing to deliver.
    """
    plain_text = False
    for _ in range(4):  # plain twin, edit -> new message, migration: each at most once
        try:
            return await _transmit_once(bot, outgoing, plain_text=plain_text), outgoing.chat_id
        except ChatMigrated as exc:
            logger.info("The group became a supergroup; sending the reply there")
            outgoing = replace(
                outgoing, chat_id=exc.new_chat_id, reply_to=None, edit_message_id=None
            )
        except Forbidden as exc:
            logger.info("Cannot send the reply, the chat is closed to the bot: %s", exc)
            return None, outgoing.chat_id
        except BadRequest as exc:
            reason = str(exc).lower()
            if any(harmless in reason for harmless in HARMLESS):
                logger.info("Nothing to do for the reply: %s", exc)
                return None, outgoing.chat_id
            if outgoing.edit_message_id is not None and any(gone in reason for gone in GONE):
                if outgoing.markup_only:
                    return None, outgoing.chat_id  # no message, no buttons to change
                logger.info("The message to edit is gone (%s); sending the reply anew", exc)
                outgoing = replace(outgoing, edit_message_id=None)
            elif not plain_text and "parse entities" in reason:
                logger.warning("Telegram could not parse the reply; sending plain text")
                plain_text = True
            else:
                raise
    raise Undeliverable(f"reply to chat {outgoing.chat_id}: no way left to send it")


async def _transmit_once(
    bot: ExtBot[None], outgoing: Outgoing, *, plain_text: bool
) -> Message | None:
    text = outgoing.plain if plain_text else outgoing.html
    parse_mode = None if plain_text else ParseMode.HTML
    if outgoing.edit_message_id is not None and outgoing.markup_only:
        edited = await bot.edit_message_reply_markup(
            outgoing.chat_id, outgoing.edit_message_id, reply_markup=outgoing.keyboard
        )
        return edited if isinstance(edited, Message) else None
    if outgoing.edit_message_id is not None:
        edited = await bot.edit_message_text(
            text,
            outgoing.chat_id,
            outgoing.edit_message_id,
            parse_mode=parse_mode,
            reply_markup=outgoing.keyboard,
        )
        return edited if isinstance(edited, Message) else None
    reply_to = (
        ReplyParameters(message_id=outgoing.reply_to, allow_sending_without_reply=True)
        if outgoing.reply_to is not None
        else None
    )
    return await bot.send_message(
        outgoing.chat_id,
        text,
        parse_mode=parse_mode,
        reply_markup=outgoing.keyboard,
        reply_parameters=reply_to,
    )


async def deliver(
    send: Callable[[], Awaitable[T]],
    *,
    plain: Callable[[], Awaitable[T]] | None = None,
    what: str = "message",
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    patience: float | None = None,
) -> T | None:
    """Call ``send`` until it succeeds; None when the chat cannot be reached at all.

    ``patience``: for what is only useful for a few seconds (a button's spinner, inline
    results while the customer types), the most flood-control waiting it is worth;
    a longer wait gives up at once instead of holding the handler.
    """
    backoff = FIRST_BACKOFF
    failures = 0
    waited = 0.0
    for _ in range(MAX_WAITS + ATTEMPTS):
        try:
            return await send()
        except RetryAfter as exc:
            # Telegram's flood control: waiting is always enough, so it does not count
            # as a failure; no reply is lost to a busy moment.
            wait = min(retry_after_seconds(exc), MAX_RETRY_AFTER) + 0.1
            if patience is not None and waited + wait > patience:
                logger.info("Telegram asks to wait %.1f s; the %s is dropped", wait, what)
                return None
            logger.warning("Telegram asks to wait %.1f s before the %s", wait, what)
            waited += wait
            await sleep(wait)
        except Forbidden as exc:
            logger.info("Cannot send the %s, the chat is closed to the bot: %s", what, exc)
            return None
        except BadRequest as exc:
            reason = str(exc).lower()
            if any(harmless in reason for harmless in HARMLESS):
                logger.info("Nothing to do for the %s: %s", what, exc)
                return None
            if plain is not None and "parse entities" in reason:
                logger.warning("Telegram could not parse the %s; sending plain text", what)
                send, plain = plain, None
                continue
            raise
        except (TimedOut, NetworkError) as exc:
            failures += 1
            if failures == ATTEMPTS:
                raise Undeliverable(f"{what}: {exc}") from exc
            logger.warning("Sending the %s failed (%s); retrying in %.1f s", what, exc, backoff)
            await sleep(backoff)
            backoff *= 2
    raise Undeliverable(f"{what}: gave up after {MAX_WAITS + ATTEMPTS} attempts")
