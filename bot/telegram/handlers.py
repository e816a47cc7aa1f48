"""Telegram handlers: thin adapters from updates to the shared core and back.

Every handler reads the current knowledge base from the holder once, so a hot reload
in the middle of a conversation never mixes two versions in one reply.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any

from telegram import (
    CallbackQuery,
    Message,
    Update,
)
from telegram.constants import ChatType, MessageEntityType
from telegram.error import TelegramError
from telegram.ext import CallbackContext, ContextTypes, ExtBot
from telegram.request import BaseRequest

from bot import texts
from bot.config import Settings
from bot.flood import FloodGuard, Verdict
from bot.handoff import Desk
from bot.knowledge import KnowledgeBase
from bot.logs import current_update_id
from bot.metrics import Metrics
from bot.recorder import Recorder
from bot.reloader import KnowledgeBaseHolder, Snapshot
from bot.replies import Block, Reply, entry_reply, reply_to, topics_reply
from bot.smalltalk import Understanding, as_question, as_small_talk
from bot.store_events import Event, QuestionEvent
from bot.telegram.delivery import (
    SHORT_LIVED_PATIENCE,
    Outgoing,
    Undeliverable,
    deliver,
    transmit,
)
from bot.telegram.outbox import OnSent, Outbox
from bot.telegram.render import render

logger = logging.getLogger(__name__)

INLINE_RESULTS = 10
INLINE_DESCRIPTION = 120


@dataclass(frozen=True)
class StatsSnapshot:
    """A /stats report as read at ``at``."""

    text: str
    at: datetime


@dataclass
class BotContext:
    """What the handlers need, passed in once at wiring time."""

    settings: Settings
    holder: KnowledgeBaseHolder
    recorder: Recorder
    """Where every analytics event goes: the store, or this run's memory (bot/recorder.py)."""
    metrics: Metrics = field(default_factory=Metrics)
    flood: FloodGuard = field(default_factory=FloodGuard)
    votes: dict[tuple[int, int, int, str], bool] = field(default_factory=dict)
    """The last 👍/👎 per (chat, message, user, entry): a vote pressed again is not new."""
    outbox: Outbox | None = None
    """Where replies leave (the run loop's); None sends at once (handler tests)."""
    handoffs: Desk | None = None
    """The team handoff, when STAFF_CHAT_ID is set."""

    last_stats: StatsSnapshot | None = None
    """The last /stats report read, shown while the store cannot be read."""

    def record(self, event: Event) -> None:
        """Hand an event to the recorder (never blocks an answer)."""
        self.recorder.record(event)

    @property
    def kb(self) -> KnowledgeBase:
        return self.holder.current.kb

    def handoff_desk(self, update: Update) -> Desk | None:
        """The handoff desk if replies in this chat may offer it (private chats only)."""
        chat = update.effective_chat
        return self.handoffs if chat is not None and chat.type == ChatType.PRIVATE else None

    def is_admin(self, update: Update) -> bool:
        user = update.effective_user
        return user is not None and user.id in self.settings.admin_ids


def text_reply(*paragraphs: str) -> Reply:
    """A plain reply of a few paragraphs (German, for customers)."""
    return Reply(kind="text", blocks=tuple(Block((p,)) for p in paragraphs))


async def send_reply(
    update: Update,
    context: Context,
    reply: Reply,
    *,
    quote: bool = False,
    on_sent: OnSent | None = None,
) -> None:
    """Send a reply as one or more messages, quoting the asker in groups."""
    chat = update.effective_chat
    message = update.effective_message
    if chat is None:
        return
    reply_to = message.message_id if quote and message is not None else None
    await send(context, outgoing(chat.id, reply, reply_to=reply_to), on_sent=on_sent)


def outgoing(chat_id: int, reply: Reply, *, reply_to: int | None = None) -> list[Outgoing]:
    """A reply as the messages that carry it, quoting ``reply_to`` if given."""
    return [
        Outgoing(chat_id, part.html, part.plain, part.keyboard, reply_to=reply_to)
        for part in render(reply)
    ]


async def edit_reply(query: CallbackQuery, context: Context, reply: Reply) -> None:
    """Show a reply in place of the message whose button was pressed."""
    parts = render(reply)
    chat_id = query.message.chat.id if query.message else query.from_user.id
    # One part fits in place of the pressed message; a longer reply is sent anew.
    edit = query.message.message_id if len(parts) == 1 and query.message is not None else None
    await send(
        context,
        [Outgoing(chat_id, p.html, p.plain, p.keyboard, edit_message_id=edit) for p in parts],
    )


async def send(
    context: Context,
    parts: Sequence[Outgoing],
    *,
    on_sent: OnSent | None = None,
) -> None:
    """The one send path: every message to a chat leaves through the chat's outbox.

    The handler does not wait for Telegram, so a throttled chat never holds an update
    slot; ``on_sent`` gets the messages once they are out.
    """
    outbox = bot_context_of(context).outbox
    if outbox is not None:
        outbox.post(parts, on_sent=on_sent)
        return
    # Without the run loop's outbox (handler tests): send now, by the same rules.
    sent = await send_and_wait(context, parts)
    if on_sent is not None:
        on_sent(sent)


async def send_and_wait(context: Context, parts: Sequence[Outgoing]) -> list[Message]:
    """``send``, waiting until the messages are out; none if the chat is closed to the bot.

    For the team handoff only, which needs the messages before it goes on; it holds
    the update's slot meanwhile, as a handoff is rare. Raises ``Undeliverable`` (or
    ``TelegramUnavailable``) when Telegram did not take them.
    """
    outbox = bot_context_of(context).outbox
    if outbox is not None:
        return await outbox.send(parts)
    sent = []
    for part in parts:  # without the run loop's outbox (handler tests)
        message, _ = await transmit(context.bot, part)
        if message is not None:
            sent.append(message)
    return sent


async def answer_button(query: CallbackQuery, notice: str | None = None) -> None:
    """Stop the button's spinner; a failure only leaves the spinner running a while."""
    try:
        await deliver(
            partial(query.answer, notice), what="button answer", patience=SHORT_LIVED_PATIENCE
        )
    except (TelegramError, Undeliverable) as exc:
        logger.info("Could not answer a button press: %s", exc)


async def remember_update(update: object, context: Context) -> None:
    """Make the update id part of every log line written while it is handled."""
    if isinstance(update, Update):
        current_update_id.set(update.update_id)


# Commands ----------------------------------------------------------------------------


async def start(update: Update, context: Context) -> None:
    """/start, and /start <entry-id> from a deep link on the agency's website."""
    bot_context = bot_context_of(context)
    kb = bot_context.kb
    if context.args:
        entry = kb.get(context.args[0].strip().lower())
        if entry is not None:
            await send_reply(update, context, entry_reply(entry))
            return
        await send_reply(update, context, text_reply(texts.UNKNOWN_ENTRY))
        await send_reply(update, context, topics_reply(kb))
        return
    await send_reply(
        update,
        context,
        text_reply(
            texts.WELCOME,
            texts.OVERVIEW.format(count=len(kb), categories=", ".join(kb.categories)),
            texts.HOW_TO_ASK,
        ),
    )


async def help_command(update: Update, context: Context) -> None:
    """/help: how to ask, in private chats, groups and inline mode."""
    username = context.bot.username
    await send_reply(
        update, context, text_reply(*(text.format(username=username) for text in texts.HELP_TEXTS))
    )


async def topics(update: Update, context: Context) -> None:
    """/themen: browse the categories."""
    await send_reply(update, context, topics_reply(bot_context_of(context).kb))


async def ask_command(update: Update, context: Context) -> None:
    """/frage <text>: ask explicitly, the way to address the bot in groups."""
    await answer_question(update, context, " ".join(context.args or ()))


# Free text -----------------------------------------------------------------------------


async def private_text(update: Update, context: Context) -> None:
    """A question in a private chat (also an edited one: the corrected question)."""
    message = update.effective_message
    if message is not None and message.text is not None:
        await answer_question(update, context, message.text)


async def group_text(update: Update, context: Context) -> None:
    """A message in a group: answer only when the bot is addressed."""
    message = update.effective_message
    if message is None or message.text is None:
        return
    question = addressed_question(message, context.bot.username, context.bot.id)
    if question is not None:
        await answer_question(update, context, question)


def addressed_question(message: Message, username: str, bot_id: int) -> str | None:
    """The question if the message mentions the bot or replies to it, else None."""
    text = message.text or ""
    # "@faq_bot" but not "@faq_bot_support": a username ends where its characters do.
    mention = re.compile(rf"@{re.escape(username)}(?![A-Za-z0-9_])", re.IGNORECASE)
    mentioned = bool(mention.search(text))
    for entity in message.entities:
        if entity.type == MessageEntityType.TEXT_MENTION and entity.user is not None:
            mentioned = mentioned or entity.user.id == bot_id
    replied = message.reply_to_message
    if replied is not None and replied.from_user is not None and replied.from_user.id == bot_id:
        mentioned = True
    if not mentioned:
        return None
    return " ".join(mention.sub(" ", text).split())


async def understand_question(snapshot: Snapshot, question: str) -> Understanding:
    """Small talk, or the matcher's verdict; on a worker thread when it encodes.

    Small talk is recognised first, so it never costs a lexical pass. The encoder
    takes ~20 ms and releases the GIL, so the event loop takes updates meanwhile.
    Lexical matching alone takes a fraction of a millisecond, less than the hop to a
    thread and back: with SEMANTIC=off, before the vectors are ready, and for questions
    the lexical stage answers clearly, it runs here (burst, SEMANTIC=off: 2.3-3.0 ms of
    CPU per update against 3.2-3.6 through a thread).
    """
    kb, matcher = snapshot.kb, snapshot.matcher
    small_talk = as_small_talk(kb, question)
    if small_talk is not None:
        return small_talk
    lexical = matcher.lexical_pass(question)
    if lexical.needs_encoder:
        return await asyncio.to_thread(as_question, kb, matcher, question, lexical)
    return as_question(kb, matcher, question, lexical)


async def answer_question(update: Update, context: Context, question: str) -> None:
    """Match a question and send what the matcher decided."""
    bot_context = bot_context_of(context)
    in_group = is_group(update)
    user = update.effective_user
    if user is not None:
        verdict = bot_context.flood.check(user.id)
        if verdict is Verdict.IGNORE:
            return
        if verdict is Verdict.WARN:
            await send_reply(update, context, text_reply(texts.FLOOD_NOTICE), quote=in_group)
            return
    started = time.perf_counter()
    understanding = await understand_question(bot_context.holder.current, question)
    result = understanding.result
    bot_context.metrics.questions.labels(understanding.decision).inc()
    logger.debug(
        "Decision %s, best %s (%.2f)",
        understanding.decision,
        result.ranking[0].entry.id if result.ranking else "-",
        result.confidence,
    )
    chat = update.effective_chat
    desk = bot_context.handoff_desk(update)
    draft = (
        desk.drafts.offer(chat.id, question, user.first_name, understanding)
        if desk is not None and chat is not None and user is not None
        else None
    )
    reply = reply_to(
        understanding,
        contact_text=bot_context.settings.contact_text,
        handoff=draft.token if draft else None,
    )

    def sent(messages: list[Message]) -> None:
        bot_context.metrics.answer_latency.observe(time.perf_counter() - started)
        if desk is not None and draft is not None and messages:
            desk.drafts.shown_in(draft, messages[-1].message_id)
        if not understanding.counts or user is None or chat is None:
            return
        top = result.ranking[0] if result.ranking else None
        top_entry = understanding.smalltalk.id if understanding.smalltalk else None
        bot_context.record(
            QuestionEvent(
                chat_type=str(chat.type),
                user_id=user.id,
                chat_id=chat.id,
                text=question,
                decision=understanding.decision,
                top_entry=top_entry or (top.entry.id if top else None),
                top_score=1.0 if top_entry else (top.score if top else 0.0),
                suggestions=tuple(c.entry.id for c in result.suggestions),
                # The buttons sit on the last part: clicks on it point back here.
                reply_message_id=messages[-1].message_id if messages else None,
            )
        )

    await send_reply(update, context, reply, quote=in_group, on_sent=sent)


async def not_text(update: Update, context: Context) -> None:
    """Stickers, photos, voice, documents, locations: say that only text is answered."""
    message = update.effective_message
    if is_group(update):
        replied = message.reply_to_message if message else None
        if replied is None or replied.from_user is None or replied.from_user.id != context.bot.id:
            return  # not addressed to the bot: stay silent in groups
    await send_reply(update, context, text_reply(texts.NOT_TEXT), quote=is_group(update))


def is_group(update: Update) -> bool:
    chat = update.effective_chat
    return chat is not None and chat.type in (ChatType.GROUP, ChatType.SUPERGROUP)


# Errors --------------------------------------------------------------------------------


async def on_error(update: object, context: Context) -> None:
    """Log every failure once, with the update id; apologise to the customer."""
    update_id = update.update_id if isinstance(update, Update) else None
    logger.error("Handling update %s failed", update_id, exc_info=context.error)
    if not isinstance(update, Update):
        return
    try:
        if update.callback_query is not None:  # stop the button's loading spinner
            await answer_button(update.callback_query)
        if update.effective_chat is not None:
            await send_reply(update, context, text_reply(texts.APOLOGY))
    except Exception:  # the error handler must not fail; keep why it could not apologise
        logger.warning("Could not apologise for update %s", update_id, exc_info=True)


class BotData:
    """The application's ``bot_data`` (PTB's ContextTypes): typed attributes instead of
    string keys. ``faqbot`` is set once at wiring time; the rest belongs to the run loop."""

    def __init__(self) -> None:
        self.faqbot: BotContext | None = None
        self.transports: tuple[BaseRequest, ...] = ()
        self.watcher: asyncio.Task[None] | None = None
        self.web: Any = None
        """The aiohttp runner of /healthz and /metrics while polling (None: not served)."""


Context = CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], BotData]
"""What every handler gets; ``context.bot_data`` is a BotData."""
CONTEXT_TYPES = ContextTypes(bot_data=BotData)


def bot_context_of(context: Context) -> BotContext:
    """The handlers' dependencies, as wired by build_application."""
    return wired(context.bot_data)


def wired(bot_data: BotData) -> BotContext:
    """``bot_data.faqbot``; an application built without build_application is a bug."""
    if bot_data.faqbot is None:
        raise RuntimeError("bot_data.faqbot is not set: build the app with build_application")
    return bot_data.faqbot
