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
import signal
from contextlib import suppress
from functools import partial
from typing import Any

from aiohttp import web
from telegram import BotCommand, Update
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    InlineQueryHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.config import Settings
from bot.health import HEARTBEAT_FILE, Heartbeat
from bot.metrics import Metrics
from bot.reloader import KnowledgeBaseHolder, ReloadResult
from bot.semantic import load_encoder
from bot.stats import Stats
from bot.store import Store
from bot.telegram import handlers
from bot.telegram.delivery import deliver
from bot.telegram.transport import AiohttpRequest
from bot.telegram.web import make_web_app

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


class BotObserver:
    """Feeds Bot API responses to the metrics and successful polls to the heartbeat."""

    def __init__(self, metrics: Metrics, heartbeat: Heartbeat | None) -> None:
        self.metrics = metrics
        self.heartbeat = heartbeat

    def response(self, api_method: str, status: int) -> None:
        if status >= 400:
            self.metrics.record_telegram_status(status)
        elif api_method == "getUpdates" and self.heartbeat is not None:
            self.heartbeat.beat()

    def failure(self, api_method: str, kind: str) -> None:
        self.metrics.record_telegram_failure(kind)


def build_application(
    settings: Settings,
    holder: KnowledgeBaseHolder,
    stats: Stats,
    *,
    metrics: Metrics | None = None,
    heartbeat: Heartbeat | None = None,
    store: Store | None = None,
) -> AnyApplication:
    """The Application with every handler wired; nothing is started."""
    metrics = metrics or Metrics(entries=lambda: len(holder.current.kb))
    observer = BotObserver(metrics, heartbeat)
    builder = (
        ApplicationBuilder()
        .token(settings.token)
        .base_url(settings.base_url)
        .base_file_url(file_url_for(settings.base_url))
        .concurrent_updates(CONCURRENT_UPDATES)
        .request(AiohttpRequest(connection_pool_size=CONNECTION_POOL, observer=observer))
        .get_updates_request(
            AiohttpRequest(connection_pool_size=1, read_timeout=POLL_TIMEOUT + 5, observer=observer)
        )
        .post_init(_post_init)
        .post_stop(_post_stop)
    )
    if settings.rate_limit > 0:
        # Proactive throttling to Telegram's limits; 429s are also retried by deliver().
        limiter = AIORateLimiter(overall_max_rate=settings.rate_limit, max_retries=3)
        builder = builder.rate_limiter(limiter)  # type: ignore[arg-type]  # PTB's generics
    application = builder.build()
    application.bot_data["faqbot"] = handlers.BotContext(
        settings, holder, stats, metrics, store=store
    )
    add_handlers(application)
    return application


def health_report(bot_context: handlers.BotContext, mode: str) -> dict[str, Any]:
    """What /healthz says: serving, how many entries, how the last reload went."""
    result = bot_context.holder.last_result
    return {
        "status": "ok",
        "mode": mode,
        "entries": len(bot_context.kb),
        "loaded_at": bot_context.holder.current.loaded_at.isoformat(),
        **bot_context.holder.semantic_status.as_json(),
        "last_reload": {
            "at": result.at.isoformat(),
            "ok": result.ok,
            "problems": [str(problem) for problem in result.problems[:20]],
        },
    }


def add_handlers(application: AnyApplication) -> None:
    """Commands, free text by chat type, buttons, inline mode, errors."""
    command = partial(CommandHandler, filters=filters.UpdateType.MESSAGE)
    application.add_handler(TypeHandler(object, handlers.remember_update), group=-1)
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
    settings = bot_context.settings
    if settings.metrics_port is not None and not settings.webhook_url:
        web_app = make_web_app(
            health=partial(health_report, bot_context, "polling"), metrics=bot_context.metrics
        )
        application.bot_data["web"] = await _start_site(
            web_app, settings.webhook_listen, settings.metrics_port
        )
        logger.info("Serving /healthz and /metrics on port %d", settings.metrics_port)
    logger.info(
        "faqbot started as @%s with %d entries", application.bot.username, len(bot_context.kb)
    )


async def _start_site(web_app: web.Application, host: str, port: int) -> web.AppRunner:
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner


async def _post_stop(application: AnyApplication) -> None:
    runner = application.bot_data.pop("web", None)
    if runner is not None:
        await runner.cleanup()
    watcher = application.bot_data.pop("watcher", None)
    if watcher is not None:
        watcher.cancel()
        with suppress(asyncio.CancelledError):
            await watcher


async def report_reload(
    application: AnyApplication, bot_context: handlers.BotContext, result: ReloadResult
) -> None:
    """Count failed reloads; tell the admins once per distinct problem."""
    if not result.ok:
        bot_context.metrics.reload_errors.inc()
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
    encoder, semantic_status = load_encoder(settings.semantic)  # SEMANTIC=on: fails here
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    holder = KnowledgeBaseHolder(
        settings.faq_dir,
        encoder=encoder,
        cache_folder=settings.data_dir,
        semantic_status=semantic_status,
    )
    heartbeat = Heartbeat(settings.data_dir / HEARTBEAT_FILE)
    metrics = Metrics(entries=lambda: len(holder.current.kb))
    store = (
        Store(
            settings.data_dir,
            keep_texts=settings.store_questions,
            retention_days=settings.retention_days,
            on_failure=metrics.store_failures.inc,
        )
        if settings.analytics
        else None
    )
    if store is not None:
        store.start()
    application = build_application(
        settings, holder, Stats(), metrics=metrics, heartbeat=heartbeat, store=store
    )
    try:
        if settings.webhook_url:
            logger.info("Webhook mode on %s:%d", settings.webhook_listen, settings.port)
            asyncio.run(serve_webhook(application, settings))
        else:
            logger.info("Polling mode")
            application.run_polling(allowed_updates=Update.ALL_TYPES, timeout=POLL_TIMEOUT)
    finally:
        if store is not None:
            store.close()
    logger.info("faqbot stopped")
    return 0


async def serve_webhook(application: AnyApplication, settings: Settings) -> None:
    """Serve Telegram's webhook, /healthz and /metrics on one port until a signal.

    Our own aiohttp server rather than PTB's run_webhook, so that health and metrics
    share the port Telegram's requests arrive on.
    """
    assert settings.webhook_url and settings.webhook_secret
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    bot_context: handlers.BotContext = application.bot_data["faqbot"]
    web_app = make_web_app(
        health=partial(health_report, bot_context, "webhook"),
        metrics=bot_context.metrics,
        application=application,
        webhook_path=settings.webhook_path,
        secret=settings.webhook_secret,
    )
    async with application:
        await _post_init(application)
        await application.start()
        runner = await _start_site(web_app, settings.webhook_listen, settings.port)
        try:
            await deliver(
                partial(
                    application.bot.set_webhook,
                    url=settings.webhook_url,
                    secret_token=settings.webhook_secret,
                    allowed_updates=Update.ALL_TYPES,
                ),
                what="webhook registration",
            )
            await stop.wait()
        finally:
            await runner.cleanup()
            await application.stop()
            await _post_stop(application)
