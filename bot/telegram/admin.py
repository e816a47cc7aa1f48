"""Admin commands on Telegram (ADMIN_IDS only): /stats, /reload, /debug.

Everyone else gets a polite refusal; nothing here is shown to customers.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

from telegram import Update

from bot import texts
from bot.errors import ReportUnavailable
from bot.memory_store import MemoryStore
from bot.replies import Block, Reply
from bot.telegram.handlers import (
    BotContext,
    Context,
    StatsSnapshot,
    bot_context_of,
    send_reply,
    text_reply,
    understand_question,
)

logger = logging.getLogger(__name__)

STATS_DAYS = 30
TIME_FORMAT = "%d.%m.%Y %H:%M UTC"


async def stats_command(update: Update, context: Context) -> None:
    """/stats (admins): the short report of `faqbot stats` over the last 30 days."""
    bot_context = bot_context_of(context)
    if not bot_context.is_admin(update):
        await send_reply(update, context, text_reply(texts.ADMIN_ONLY))
        return
    report = await asyncio.to_thread(stats_text, bot_context)
    await send_reply(update, context, preformatted(report))


def stats_text(bot_context: BotContext) -> str:
    """The recorder's report; while the store cannot be read, the last one read and why.

    A store that cannot be read (locked by a backup, its file gone, the database down)
    is expected now and then and answered; anything else is a bug and reaches the
    error handler.
    """
    recorder = bot_context.recorder
    try:
        text = recorder.report(days=STATS_DAYS).text(short=True)
    except ReportUnavailable as exc:
        logger.warning("/stats cannot read the analytics store: %s", exc, exc_info=True)
        return unavailable_text(bot_context)
    if isinstance(recorder, MemoryStore):
        started = recorder.started_at.strftime(TIME_FORMAT)
        text += "\n" + texts.STATS_IN_MEMORY.format(since=started)
    bot_context.last_stats = StatsSnapshot(text, datetime.now(UTC))
    return text


def unavailable_text(bot_context: BotContext) -> str:
    """What /stats says while the store cannot be read: that, the store's state, and
    the last report read in this run (marked with its time), if any."""
    lines = [texts.STATS_UNAVAILABLE]
    health = bot_context.recorder.health()
    if health.get("state") == "failing":
        lines.append(
            texts.STATS_STORE_FAILING.format(
                since=_local_time(str(health.get("since"))), lost=health.get("events_lost", 0)
            )
        )
    last = bot_context.last_stats
    if last is not None:
        lines += ["", texts.STATS_LAST_READ.format(at=last.at.strftime(TIME_FORMAT)), last.text]
    return "\n".join(lines)


def _local_time(iso: str) -> str:
    try:
        return datetime.fromisoformat(iso).strftime(TIME_FORMAT)
    except ValueError:
        return iso


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
    understanding = await understand_question(bot_context.holder.current, question)
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
