"""Telegram handlers of the team handoff (the flow is described in bot/handoff.py).

Faults and what happens:

- the bot is not in the staff group, was removed, or the group is gone: the customer
  is pointed to CONTACT_TEXT, the admins are told once (again after it worked);
- a staff reply to a message that is no handoff, or to a closed one: a short note;
- the customer blocked the bot: the staff group is told, the handoff stays open;
- the same handoff confirmed twice (double tap, two devices): it is sent once;
- Telegram throttles or is out of reach for a while: posts and answers leave through
  the outbox like every reply (flood waits, outage retries for up to five minutes,
  the chat's order), and the handler waits for them, since it needs their message
  ids. Past that, the customer is pointed to CONTACT_TEXT or the staff member asked
  to send the answer again; an outage, or a flood wait over five minutes, tells the
  admins nothing, as nothing is wrong with the staff group.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from functools import partial

import psycopg
from telegram import Message, Update
from telegram.constants import ChatMemberStatus
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot import texts
from bot.config import Settings
from bot.handoff import (
    Desk,
    Draft,
    follow_up_post,
    notice_reply,
    open_list,
    preview_reply,
    staff_note,
    staff_post,
    team_answer_reply,
)
from bot.handoff_store import HandoffRepository, new_reference
from bot.replies import Reply, parse_action
from bot.store_pg import database_for
from bot.telegram import handlers
from bot.telegram.delivery import Outgoing, TelegramUnavailable, Undeliverable

logger = logging.getLogger(__name__)

FAILURES = (TelegramError, Undeliverable)
STORE_FAILURES = (sqlite3.Error, psycopg.Error, OSError)


def add_handoff_handlers(application: Application) -> None:  # type: ignore[type-arg]
    """Wire the handoff; these must come before the general text and button handlers."""
    bot_context = application.bot_data.faqbot
    message = filters.UpdateType.MESSAGE
    application.add_handler(CommandHandler("offen", open_command, filters=message))
    application.add_handler(CallbackQueryHandler(team_button, pattern=r"^h[+-]?:"))
    desk = bot_context.handoffs if bot_context is not None else None
    if desk is None:
        return
    application.add_handler(
        MessageHandler(
            filters.Chat(desk.staff_chat_id) & filters.REPLY & ~filters.COMMAND & message,
            staff_reply,
        )
    )
    application.add_handler(
        MessageHandler(
            filters.ChatType.PRIVATE & filters.REPLY & filters.TEXT & ~filters.COMMAND & message,
            customer_reply,
        )
    )
    application.add_handler(ChatMemberHandler(membership, ChatMemberHandler.MY_CHAT_MEMBER))


# The customer's side ---------------------------------------------------------------


async def team_button(update: Update, context: handlers.Context) -> None:
    """The team buttons: "Frage an unser Team senden", "Ja, senden" and "Abbrechen"."""
    query = update.callback_query
    if query is None or query.message is None:
        return
    bot_context = handlers.bot_context_of(context)
    desk = bot_context.handoffs
    await handlers.answer_button(query)
    action = parse_action(query.data or "")
    draft = desk.drafts.get(action.target, query.message.chat.id) if desk and action else None
    if desk is None or draft is None or action is None:
        await handlers.edit_reply(query, context, notice_reply(texts.TEAM_EXPIRED))
        return
    if draft.reference is not None:
        await handlers.edit_reply(
            query, context, notice_reply(texts.TEAM_ALREADY_SENT.format(reference=draft.reference))
        )
        return
    if action.kind == "team":
        await handlers.edit_reply(query, context, preview_reply(draft, open_days=desk.open_days))
    elif action.kind == "team_cancel":
        await handlers.edit_reply(query, context, notice_reply(texts.TEAM_CANCELLED))
    elif action.kind == "team_send" and not draft.sending:
        draft.sending = True  # before the first await: a second tap finds it taken
        try:
            reply = await hand_over(context, bot_context, desk, draft, query.message.chat.id)
        finally:
            draft.sending = False
        await handlers.edit_reply(query, context, reply)


async def hand_over(
    context: handlers.Context,
    bot_context: handlers.BotContext,
    desk: Desk,
    draft: Draft,
    chat_id: int,
) -> Reply:
    """Post the question into the staff group; the customer's next reply."""
    reference = new_reference()
    post = staff_post(
        reference=reference,
        question=draft.question,
        first_name=draft.first_name,
        guesses=draft.guesses,
        kb=bot_context.kb,
    )
    posted = await post_to_staff(context, bot_context, desk, post)
    if posted is None:
        return notice_reply(texts.TEAM_UNAVAILABLE, bot_context.settings.contact_text)
    try:
        await asyncio.to_thread(desk.repository.expire)
        await asyncio.to_thread(
            partial(
                desk.repository.create,
                reference=reference,
                question=draft.question,
                first_name=draft.first_name,
                guesses=draft.guesses,
                chat_id=chat_id,
                staff_message_id=posted.message_id,
            )
        )
    except STORE_FAILURES:
        logger.exception("Could not store handoff %s", reference)
        return notice_reply(texts.TEAM_UNAVAILABLE, bot_context.settings.contact_text)
    draft.reference = reference
    bot_context.metrics.handoffs.labels("sent").inc()
    return notice_reply(texts.TEAM_SENT.format(reference=reference))


async def customer_reply(update: Update, context: handlers.Context) -> None:
    """A reply in a private chat: to the team's answer -> the staff group, else a question."""
    bot_context = handlers.bot_context_of(context)
    message, chat, user = update.effective_message, update.effective_chat, update.effective_user
    desk = bot_context.handoffs
    replied = message.reply_to_message if message else None
    if (
        desk is None
        or message is None
        or chat is None
        or replied is None
        or replied.from_user is None
        or replied.from_user.id != context.bot.id
    ):
        await handlers.private_text(update, context)
        return
    try:
        handoff = await asyncio.to_thread(
            partial(desk.repository.by_message, "customer", replied.message_id, chat_id=chat.id)
        )
    except STORE_FAILURES:
        logger.exception("Handoffs cannot be read; answering the reply as a question")
        handoff = None
    if handoff is None:
        await handlers.private_text(update, context)
        return
    first_name = user.first_name if user else "Kunde"
    answer = notice_reply(texts.TEAM_UNAVAILABLE, bot_context.settings.contact_text)
    try:
        thread = await asyncio.to_thread(desk.repository.first_staff_message, handoff.id)
        post = follow_up_post(handoff=handoff, text=message.text or "", first_name=first_name)
        posted = await post_to_staff(context, bot_context, desk, post, reply_to=thread)
        if posted is not None:
            await asyncio.to_thread(desk.repository.reopen, handoff.id, chat.id, first_name)
            await asyncio.to_thread(desk.repository.link, handoff.id, "staff", posted.message_id)
            answer = notice_reply(texts.TEAM_FOLLOW_UP_SENT)
    except STORE_FAILURES:
        logger.exception("Could not record the follow-up of handoff %s", handoff.reference)
    await handlers.send_reply(update, context, answer)


# The staff group's side --------------------------------------------------------------


async def staff_reply(update: Update, context: handlers.Context) -> None:
    """A staff member replied to one of the bot's posts: deliver it to the customer."""
    bot_context = handlers.bot_context_of(context)
    desk, message = bot_context.handoffs, update.effective_message
    replied = message.reply_to_message if message else None
    if desk is None or message is None or replied is None or replied.from_user is None:
        return
    if replied.from_user.id != context.bot.id:
        return  # staff talking among themselves
    if not message.text:
        await _note(context, desk, message, texts.STAFF_EMPTY_REPLY)
        return
    try:
        await asyncio.to_thread(desk.repository.expire)
        handoff = await asyncio.to_thread(desk.repository.by_message, "staff", replied.message_id)
    except STORE_FAILURES:
        logger.exception("Handoffs cannot be read")
        await _note(context, desk, message, texts.STAFF_STORE_DOWN)
        return
    if handoff is None:
        await _note(context, desk, message, texts.STAFF_UNKNOWN)
        return
    if handoff.status != "open" or handoff.customer_chat_id is None:
        await _note(context, desk, message, texts.STAFF_CLOSED.format(reference=handoff.reference))
        return
    reply = team_answer_reply(question=handoff.question, answer=message.text)
    names = {"first_name": handoff.first_name or "Kunde", "reference": handoff.reference}
    try:
        sent = await _post(context, handoff.customer_chat_id, reply)
    except TelegramUnavailable:
        logger.warning(
            "Telegram unavailable; the answer of handoff %s is not delivered", handoff.reference
        )
        bot_context.metrics.handoffs.labels("failed").inc()
        await _note(context, desk, message, texts.STAFF_NOT_DELIVERED.format(**names))
        return
    except FAILURES as exc:
        logger.warning("Could not deliver the answer of handoff %s: %s", handoff.reference, exc)
        sent = None
    if sent is None:
        bot_context.metrics.handoffs.labels("failed").inc()
        await _note(
            context, desk, message, texts.STAFF_BLOCKED.format(days=desk.open_days, **names)
        )
        return
    try:
        await asyncio.to_thread(desk.repository.answered, handoff.id, message.text, sent.message_id)
    except STORE_FAILURES:  # delivered all the same: say so, but it stays open
        logger.exception("Could not mark handoff %s answered", handoff.reference)
    bot_context.metrics.handoffs.labels("answered").inc()
    await _note(context, desk, message, texts.STAFF_DELIVERED.format(**names))


async def open_command(update: Update, context: handlers.Context) -> None:
    """/offen (admins, and anyone in the staff group): open handoffs, oldest first."""
    bot_context = handlers.bot_context_of(context)
    desk, chat = bot_context.handoffs, update.effective_chat
    in_staff_group = desk is not None and chat is not None and chat.id == desk.staff_chat_id
    if not (bot_context.is_admin(update) or in_staff_group):
        await handlers.send_reply(update, context, handlers.text_reply(texts.ADMIN_ONLY))
        return
    if desk is None:
        await handlers.send_reply(update, context, handlers.text_reply(texts.STAFF_NOT_SET_UP))
        return
    try:
        await asyncio.to_thread(desk.repository.expire)
        handoffs = await asyncio.to_thread(desk.repository.open_handoffs)
    except STORE_FAILURES:
        logger.exception("Handoffs cannot be read")
        await handlers.send_reply(update, context, staff_note(texts.STAFF_STORE_DOWN))
        return
    await handlers.send_reply(update, context, open_list(handoffs))


async def membership(update: Update, context: handlers.Context) -> None:
    """The bot was removed from (or added back to) the staff group."""
    bot_context = handlers.bot_context_of(context)
    desk, change = bot_context.handoffs, update.my_chat_member
    if desk is None or change is None or change.chat.id != desk.staff_chat_id:
        return
    status = change.new_chat_member.status
    if status in (ChatMemberStatus.LEFT, ChatMemberStatus.BANNED):
        await tell_admins_once(context, bot_context, desk, texts.ADMIN_STAFF_REMOVED)
    elif status in (ChatMemberStatus.MEMBER, ChatMemberStatus.ADMINISTRATOR):
        desk.admins_told = False


# Sending -------------------------------------------------------------------------------


async def post_to_staff(
    context: handlers.Context,
    bot_context: handlers.BotContext,
    desk: Desk,
    post: Reply,
    *,
    reply_to: int | None = None,
) -> Message | None:
    """Post into the staff group; None (and the admins told once) if it cannot be reached."""
    try:
        posted = await _post(context, desk.staff_chat_id, post, reply_to=reply_to)
        reason = "der Bot ist nicht (mehr) Mitglied der Gruppe"
    except TelegramUnavailable:
        # Nothing for the admins to mend (and no way to tell them): only log it.
        logger.warning("Telegram unavailable; a post for the staff group was given up")
        bot_context.metrics.handoffs.labels("failed").inc()
        return None
    except FAILURES as exc:
        logger.warning("Cannot post into the staff group %s: %s", desk.staff_chat_id, exc)
        posted, reason = None, str(exc)
    if posted is None:
        bot_context.metrics.handoffs.labels("failed").inc()
        await tell_admins_once(context, bot_context, desk, reason)
        return None
    desk.admins_told = False
    return posted


async def tell_admins_once(
    context: handlers.Context, bot_context: handlers.BotContext, desk: Desk, reason: str
) -> None:
    if desk.admins_told:
        return
    desk.admins_told = True
    text = texts.ADMIN_STAFF_UNREACHABLE.format(chat_id=desk.staff_chat_id, reason=reason)
    for admin_id in sorted(bot_context.settings.admin_ids):
        await handlers.send(context, [Outgoing.text(admin_id, text)])


async def _post(
    context: handlers.Context, chat_id: int, reply: Reply, *, reply_to: int | None = None
) -> Message | None:
    """Send a reply to a chat and wait; the last message sent, None if the chat is closed."""
    parts = handlers.outgoing(chat_id, reply, reply_to=reply_to)
    sent = await handlers.send_and_wait(context, parts)
    return sent[-1] if len(sent) == len(parts) else None


async def _note(context: handlers.Context, desk: Desk, message: Message, text: str) -> None:
    """A short note in the staff group, as a reply to the staff member's message."""
    parts = handlers.outgoing(desk.staff_chat_id, staff_note(text), reply_to=message.message_id)
    await handlers.send(context, parts)  # nobody waits for a note


def handoff_desk(settings: Settings) -> Desk | None:
    """The handoff desk when STAFF_CHAT_ID is set; its database opens on first use."""
    if settings.staff_chat_id is None:
        return None
    repository = HandoffRepository(
        settings.data_dir,
        open_days=settings.handoff_retention_days,
        text_days=settings.retention_days,
        database=database_for(settings.database_url) if settings.database_url else None,
    )
    return Desk(settings.staff_chat_id, repository, open_days=settings.handoff_retention_days)
