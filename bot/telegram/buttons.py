"""Inline buttons on Telegram: navigation through the conversation core, and feedback.

Callback data comes from the client and can be anything: what does not parse is
ignored. Navigation (entries, categories, topics, "Keine davon") is the conversation
core's (bot/conversation.py); this module adds what only Telegram does: who may press
a button in a group, recording choices and votes, and editing the message in place.
"""

from __future__ import annotations

import logging

from telegram import CallbackQuery, InlineKeyboardMarkup, Message, Update
from telegram.constants import ChatType

from bot import texts
from bot.conversation import NAVIGATION, respond
from bot.replies import parse_action
from bot.store_events import ChoiceEvent, FeedbackEvent
from bot.telegram import handlers
from bot.telegram.delivery import Outgoing

logger = logging.getLogger(__name__)

MAX_VOTES_REMEMBERED = 10_000


async def button(update: Update, context: handlers.Context) -> None:
    """A pressed inline button: navigate, open an entry, or take feedback.

    Callback data comes from the client and can be anything: what does not parse is
    ignored (the spinner is stopped, nothing changes). In a group, the buttons under
    an answer belong to whoever asked; others get a short notice.
    """
    query = update.callback_query
    if query is None or query.data is None:
        return
    bot_context = handlers.bot_context_of(context)
    if not _is_asker(query):
        await handlers.answer_button(query, texts.NOT_YOUR_BUTTONS)
        return
    action = parse_action(query.data)
    if action is not None and action.kind in ("helpful", "not_helpful"):
        await feedback(query, context, action.target, helpful=action.kind == "helpful")
        return
    if action is None or action.kind not in NAVIGATION:
        logger.debug("Ignored a button with unknown data")
        await handlers.answer_button(query)
        return
    handoff = None
    if action.kind == "none_of_these":
        bot_context.record(_choice(query, None))
        handoff = _offered_draft(bot_context, update, query, action.target)
    outcome = respond(
        bot_context.kb, action, contact_text=bot_context.settings.contact_text, handoff=handoff
    )
    # Chosen from "Meinten Sie …?"; an entry opened while browsing is no choice.
    if outcome.opened is not None and action.kind == "entry":
        bot_context.record(_choice(query, outcome.opened.id))
    await handlers.answer_button(query, outcome.notice)
    if outcome.reply is not None:
        await handlers.edit_reply(query, context, outcome.reply)


def _offered_draft(
    bot_context: handlers.BotContext, update: Update, query: CallbackQuery, token: str
) -> str | None:
    """The handoff draft of the question whose suggestions were rejected, if any: the
    one the button names, else (buttons sent before they named it) the reply's."""
    desk = bot_context.handoff_desk(update)
    message = query.message
    if desk is None or message is None:
        return None
    if token:
        draft = desk.drafts.get(token, message.chat.id)
    else:
        draft = desk.drafts.for_message(message.chat.id, message.message_id)
    return draft.token if draft else None


def _is_asker(query: CallbackQuery) -> bool:
    """False if the buttons sit on a reply to someone else's question (in a group)."""
    message = query.message
    if not isinstance(message, Message) or message.chat.type not in (
        ChatType.GROUP,
        ChatType.SUPERGROUP,
    ):
        return True
    asked = message.reply_to_message
    if asked is None or asked.from_user is None or asked.from_user.is_bot:
        return True  # not an answer to a question (/themen), or the question is gone
    return asked.from_user.id == query.from_user.id


def _choice(query: CallbackQuery, entry_id: str | None) -> ChoiceEvent:
    return ChoiceEvent(
        user_id=query.from_user.id,
        chat_id=query.message.chat.id if query.message else query.from_user.id,
        message_id=query.message.message_id if query.message else None,
        entry_id=entry_id,
    )


async def feedback(
    query: CallbackQuery, context: handlers.Context, entry_id: str, *, helpful: bool
) -> None:
    """Record feedback, thank the customer, and drop the feedback buttons.

    One vote per person and answer: the same 👍 pressed again (a stale copy of the
    message, a double tap) changes nothing; 👎 after 👍 replaces it.
    """
    bot_context = handlers.bot_context_of(context)
    if bot_context.kb.get(entry_id) is None:  # forged data or an entry since removed
        await handlers.answer_button(query, texts.ENTRY_GONE)
        return
    chat_id = query.message.chat.id if query.message else query.from_user.id
    message_id = query.message.message_id if query.message else None
    previous = _remember_vote(
        bot_context, (chat_id, message_id or 0, query.from_user.id, entry_id), helpful
    )
    if previous is not helpful:
        bot_context.record(
            FeedbackEvent(
                user_id=query.from_user.id,
                chat_id=chat_id,
                message_id=message_id,
                entry_id=entry_id,
                helpful=helpful,
            )
        )
    await handlers.answer_button(query, texts.FEEDBACK_THANKS)
    message = query.message if isinstance(query.message, Message) else None
    markup = message.reply_markup if message is not None else None
    # On a second press the feedback buttons are gone already.
    if message is not None and markup is not None and previous is None:
        rows = [
            row
            for row in markup.inline_keyboard
            if not any(_is_feedback(str(b.callback_data or "")) for b in row)
        ]
        keyboard = InlineKeyboardMarkup(rows) if rows else None
        edit = Outgoing(
            message.chat.id,
            "",
            "",
            keyboard,
            edit_message_id=message.message_id,
            markup_only=True,
        )
        await handlers.send(context, [edit])
    if not helpful and previous is not False and query.message is not None:
        text = texts.NOT_HELPFUL_FOLLOW_UP.format(contact=bot_context.settings.contact_text)
        await handlers.send(context, [Outgoing.text(query.message.chat.id, text)])


def _is_feedback(data: str) -> bool:
    action = parse_action(data)
    return action is not None and action.kind in ("helpful", "not_helpful")


def _remember_vote(
    bot_context: handlers.BotContext, key: tuple[int, int, int, str], helpful: bool
) -> bool | None:
    """Store the vote; return the one it replaces (None for a first vote)."""
    votes = bot_context.votes
    previous = votes.pop(key, None)
    votes[key] = helpful
    if len(votes) > MAX_VOTES_REMEMBERED:
        del votes[next(iter(votes))]  # the oldest: dicts keep insertion order
    return previous
