"""Inline mode: @bot <question> in any chat offers entries to post there."""

from __future__ import annotations

from functools import partial

from telegram import InlineQueryResultArticle, InputTextMessageContent, Update
from telegram.constants import ParseMode

from bot.telegram.delivery import SHORT_LIVED_PATIENCE, deliver
from bot.telegram.handlers import Context, bot_context_of
from bot.telegram.render import inline_message
from bot.texts import shorten

INLINE_RESULTS = 10
INLINE_DESCRIPTION = 120


async def inline_query(update: Update, context: Context) -> None:
    """@bot <question> in any chat: up to 10 entries to post."""
    query = update.inline_query
    if query is None:
        return
    snapshot = bot_context_of(context).holder.current
    text = query.query.strip()
    if text:
        entries = [c.entry for c in snapshot.matcher.rank(text, INLINE_RESULTS)]
    else:
        entries = list(snapshot.kb.entries[:INLINE_RESULTS])
    results = [
        InlineQueryResultArticle(
            id=entry.id,
            title=entry.question,
            description=shorten(" ".join(entry.answer.split()), INLINE_DESCRIPTION),
            input_message_content=InputTextMessageContent(
                inline_message(entry, context.bot.username), parse_mode=ParseMode.HTML
            ),
        )
        for entry in entries
    ]
    await deliver(
        partial(query.answer, results, cache_time=30),
        what="inline answer",
        patience=SHORT_LIVED_PATIENCE,
    )
