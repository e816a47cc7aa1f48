"""Admin commands on Telegram (ADMIN_IDS only): /stats, /reload, /debug.

Everyone else gets a polite refusal; nothing here is shown to customers.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3

from telegram import Update

from bot import texts
from bot.replies import Block, Reply
from bot.report_queries import build_report
from bot.smalltalk import understand
from bot.stores import reader_for
from bot.telegram.handlers import BotContext, Context, bot_context_of, send_reply, text_reply

logger = logging.getLogger(__name__)


async def stats_command(update: Update, context: Context) -> None:
    """/stats (admins): questions by decision, top entries, top unanswered questions."""
    bot_context = bot_context_of(context)
    if not bot_context.is_admin(update):
        await send_reply(update, context, text_reply(texts.ADMIN_ONLY))
        return
    report = await asyncio.to_thread(stored_report, bot_context)
    await send_reply(update, context, preformatted(report or bot_context.stats.report()))


def stored_report(bot_context: BotContext) -> str | None:
    """The short report of `faqbot stats` from the store, or None if it cannot be read.

    A store that cannot be read (locked, corrupt, gone) is expected now and then;
    anything else is a bug and reaches the error handler.
    """
    if bot_context.store is None:
        return None
    try:
        settings = bot_context.settings
        with reader_for(settings.data_dir, settings.database_url) as connection:
            return build_report(connection, days=30).text(short=True)
    except (sqlite3.Error, OSError) as exc:
        logger.warning(
            "The analytics store cannot be read (%s); /stats shows this run's counts",
            type(exc).__name__,
            exc_info=True,
        )
        return None


async def reload_command(update: Update, context: Context) -> None:
    """/reload (admins): load the FAQ files now and report the result."""
    bot_context = bot_context_of(context)
    if not bot_context.is_admin(update):
        await send_reply(update, context, text_reply(texts.ADMIN_ONLY))
        return
    result = await asyncio.to_thread(bot_context.holder.reload, force=True)
    if not result.ok:
        bot_context.metrics.reload_errors.inc()
    await send_reply(update, context, preformatted(result.describe()))


async def debug_command(update: Update, context: Context) -> None:
    """/debug <question> (admins): the top candidates with scores and the decision."""
    bot_context = bot_context_of(context)
    if not bot_context.is_admin(update):
        await send_reply(update, context, text_reply(texts.ADMIN_ONLY))
        return
    question = " ".join(context.args or ())
    snapshot = bot_context.holder.current
    # On a worker thread: the semantic stage encodes the question.
    understanding = await asyncio.to_thread(understand, snapshot.kb, snapshot.matcher, question)
    if understanding.smalltalk is not None:
        entry = understanding.smalltalk
        await send_reply(update, context, preformatted(f"decision: smalltalk ({entry.id})"))
        return
    result = understanding.result
    lines = [f"decision: {result.decision} (confidence {result.confidence:.2f})"]
    if result.semantic:  # fused, lexical, cosine
        lines += [
            f"{c.score:.2f} {c.lexical or 0:.2f} {c.cosine or 0:.3f} {c.entry.id}"
            for c in result.ranking
        ]
        lines.append("scores: fused lexical cosine")
    else:
        lines += [f"{c.score:.2f} {c.entry.id}" for c in result.ranking]
        lines.append(f"lexical only: {bot_context.holder.semantic_status.reason}")
    words = ", ".join(f"{u.word}→{u.how}" for u in result.units) or "-"
    lines.append(f"words: {words}")
    await send_reply(update, context, preformatted("\n".join(lines)))


def preformatted(text: str) -> Reply:
    """Lines as they are, one block each (reports and diagnostics for admins)."""
    return Reply(kind="text", blocks=tuple(Block((line,)) for line in text.split("\n")))
