"""Wiring: one place where handlers meet python-telegram-bot, and the run loop.

Throughput (benchmarks/bench_burst.py, 1,000 questions from 250 users, 2 cores): with
PTB's httpx transport the bot was CPU-bound at ~3 ms per update (270 updates/s at
best, fewer with larger pools, as httpcore rescans its pool for every queued
request). The aiohttp transport with 16 concurrent updates over 8 connections measured
570-690 updates/s; 4/4 gave ~520, 8/8 ~460, 32/8 ~660.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import suppress
from functools import partial
from typing import Any

from telegram import BotCommand, Update
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    InlineQueryHandler,
    MessageHandler,
    filters,
)

from bot.config import Settings
from bot.reloader import KnowledgeBaseHolder, ReloadResult
from bot.stats import Stats
from bot.telegram import handlers
from bot.telegram.delivery import deliver
from bot.telegram.transport import AiohttpRequest

logger = logging.getLogger(__name__)

CONCURRENT_UPDATES = 16
CONNECTION_POOL = 8
POLL_TIMEOUT = 10
RELOAD_INTERVAL = 1.0

COMMANDS = [
    BotCommand("start", "Begrüßung und Überblick"),
    BotCommand("themen", "Alle Themen durchblättern"),
    BotCommand("frage", "Eine Frage stellen (auch in Gruppen)"),
    BotCommand("help", "So funktioniert der Bot"),
]

AnyApplication = Application[Any, Any, Any, Any, Any, Any]


def file_url_for(base_url: str) -> str:
    """PTB's file URL beside a custom Bot API URL (…/bot -> …/file/bot)."""
    stem = base_url.rstrip("/")
    if stem.endswith("/bot"):
        return stem[: -len("/bot")] + "/file/bot"
    return stem + "/file"


def build_application(
    settings: Settings, holder: KnowledgeBaseHolder, stats: Stats
) -> AnyApplication:
    """The Application with every handler wired; nothing is started."""
    builder = (
        ApplicationBuilder()
        .token(settings.token)
        .base_url(settings.base_url)
        .base_file_url(file_url_for(settings.base_url))
        .concurrent_updates(CONCURRENT_UPDATES)
        .request(AiohttpRequest(connection_pool_size=CONNECTION_POOL))
        .get_updates_request(AiohttpRequest(connection_pool_size=1, read_timeout=POLL_TIMEOUT + 5))
        .post_init(_post_init)
        .post_stop(_post_stop)
    )
    if settings.rate_limit > 0:
        # Proactive throttling to Telegram's limits; 429s are also retried by deliver().
        limiter = AIORateLimiter(overall_max_rate=settings.rate_limit, max_retries=3)
        builder = builder.rate_limiter(limiter)  # type: ignore[arg-type]  # PTB's generics
    application = builder.build()
    application.bot_data["faqbot"] = handlers.BotContext(settings, holder, stats)
    add_handlers(application)
    return application


def add_handlers(application: AnyApplication) -> None:
    """Commands, free text by chat type, buttons, inline mode, errors."""
    command = partial(CommandHandler, filters=filters.UpdateType.MESSAGE)
    application.add_handlers(
        [
            command("start", handlers.start),
            command(["help", "hilfe"], handlers.help_command),
            command("themen", handlers.topics),
            command("frage", handlers.ask_command),
            command("stats", handlers.stats_command),
            command("reload", handlers.reload_command),
            command("debug", handlers.debug_command),
            # Private chats: new and edited messages (an edit is a corrected question).
            MessageHandler(
                filters.TEXT & ~filters.COMMAND & filters.ChatType.PRIVATE,
                handlers.private_text,
            ),
            MessageHandler(
                filters.TEXT
                & ~filters.COMMAND
                & filters.ChatType.GROUPS
                & filters.UpdateType.MESSAGE,
                handlers.group_text,
            ),
            MessageHandler(
                ~filters.TEXT & ~filters.StatusUpdate.ALL & filters.UpdateType.MESSAGE,
                handlers.not_text,
            ),
            CallbackQueryHandler(handlers.button),
            InlineQueryHandler(handlers.inline_query),
        ]
    )
    application.add_error_handler(handlers.on_error)


async def _post_init(application: AnyApplication) -> None:
    with suppress(Exception):  # a missing command menu is not worth failing start-up
        await deliver(partial(application.bot.set_my_commands, COMMANDS), what="commands")
    bot_context: handlers.BotContext = application.bot_data["faqbot"]
    application.bot_data["watcher"] = asyncio.get_running_loop().create_task(
        bot_context.holder.watch(
            partial(report_reload, application, bot_context), interval=RELOAD_INTERVAL
        ),
        name="faq-watcher",
    )
    logger.info(
        "faqbot started as @%s with %d entries", application.bot.username, len(bot_context.kb)
    )


async def _post_stop(application: AnyApplication) -> None:
    watcher = application.bot_data.pop("watcher", None)
    if watcher is not None:
        watcher.cancel()
        with suppress(asyncio.CancelledError):
            await watcher


async def report_reload(
    application: AnyApplication, bot_context: handlers.BotContext, result: ReloadResult
) -> None:
    """Tell the admins about a broken knowledge base, once per distinct problem."""
    if not bot_context.holder.is_new_problem(result):
        return
    text = "⚠️ " + result.describe()
    for admin_id in sorted(bot_context.settings.admin_ids):
        try:
            await deliver(
                partial(application.bot.send_message, admin_id, text[:4000]), what="admin notice"
            )
        except Exception as exc:  # e.g. an admin who never opened the bot: tell the others
            logger.warning("Could not notify admin %s: %s", admin_id, exc)


def run(settings: Settings) -> int:
    """Run the bot until SIGTERM or SIGINT; webhook mode when WEBHOOK_URL is set."""
    holder = KnowledgeBaseHolder(settings.faq_dir)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    application = build_application(settings, holder, Stats())
    if settings.webhook_url:
        logger.info("Webhook mode on %s:%d", settings.webhook_listen, settings.port)
        application.run_webhook(
            listen=settings.webhook_listen,
            port=settings.port,
            url_path=settings.webhook_path,
            webhook_url=settings.webhook_url,
            secret_token=settings.webhook_secret,
            allowed_updates=Update.ALL_TYPES,
        )
    else:
        logger.info("Polling mode")
        application.run_polling(allowed_updates=Update.ALL_TYPES, timeout=POLL_TIMEOUT)
    logger.info("faqbot stopped")
    return 0
