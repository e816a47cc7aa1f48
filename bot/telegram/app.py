"""Wiring: one place where handlers meet python-telegram-bot (the run loop: serve.py).

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

from aiohttp import web
from telegram import BotCommand
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    InlineQueryHandler,
    MessageHandler,
    TypeHandler,
    filters,
)
from telegram.request import BaseRequest

from bot import texts
from bot.config import Settings
from bot.health import Heartbeat
from bot.metrics import Metrics
from bot.recorder import Recorder
from bot.reloader import KnowledgeBaseHolder, ReloadResult
from bot.telegram import admin, buttons, handlers, inline
from bot.telegram.delivery import Outgoing, Undeliverable, deliver
from bot.telegram.handoff import add_handoff_handlers, handoff_desk
from bot.telegram.outbox import Outbox
from bot.telegram.ratelimit import ChatRateLimiter
from bot.telegram.transport import AiohttpRequest
from bot.telegram.updates import LedgerProcessor, UpdateLedger
from bot.telegram.web import make_web_app

logger = logging.getLogger(__name__)

CONCURRENT_UPDATES = 16
CONNECTION_POOL = 8
POLL_TIMEOUT = 10
RELOAD_INTERVAL = 1.0

COMMANDS = [BotCommand(command, description) for command, description in texts.COMMAND_MENU]
# /offen (open handoffs) is for staff: not in the customers' command menu.

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
    recorder: Recorder,
    *,
    metrics: Metrics | None = None,
    heartbeat: Heartbeat | None = None,
    request: BaseRequest | None = None,
    updates_request: BaseRequest | None = None,
) -> AnyApplication:
    """The Application with every handler wired; nothing is started.

    ``request`` / ``updates_request`` replace the HTTP transports (for the Bot API
    calls and for getUpdates), as httpx's MockTransport does: tests hand in a
    recording one and get the real wiring, outbox and rate limiter included.
    """
    metrics = metrics or Metrics(entries=lambda: len(holder.current.kb))
    observer = BotObserver(metrics, heartbeat)
    ledger = UpdateLedger()
    # Always on: a 429 must stay with its chat even when proactive throttling is off.
    limiter = ChatRateLimiter(overall_per_second=settings.rate_limit)
    transports = (
        request or AiohttpRequest(connection_pool_size=CONNECTION_POOL, observer=observer),
        updates_request
        or AiohttpRequest(connection_pool_size=1, read_timeout=POLL_TIMEOUT + 5, observer=observer),
    )
    builder = (
        ApplicationBuilder()
        .token(settings.token)
        .context_types(handlers.CONTEXT_TYPES)
        .base_url(settings.base_url)
        .base_file_url(file_url_for(settings.base_url))
        .concurrent_updates(LedgerProcessor(ledger, CONCURRENT_UPDATES))
        .request(transports[0])
        .get_updates_request(transports[1])
        .rate_limiter(limiter)
        .post_init(post_init)
        .post_stop(post_stop)
    )
    application = builder.build()
    outbox = Outbox(application.bot, metrics=metrics, limiter=limiter, ledger=ledger)
    application.bot_data.faqbot = handlers.BotContext(
        settings,
        holder,
        recorder,
        metrics,
        outbox=outbox,
        handoffs=handoff_desk(settings),
    )
    application.bot_data.transports = transports
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
        "store": bot_context.recorder.health(),
    }


def add_handlers(application: AnyApplication) -> None:
    """Commands, free text by chat type, buttons, inline mode, errors."""
    command = partial(CommandHandler, filters=filters.UpdateType.MESSAGE)
    application.add_handler(TypeHandler(object, handlers.remember_update), group=-1)
    add_handoff_handlers(application)  # before the general text and button handlers
    application.add_handlers(
        [
            command("start", handlers.start),
            command(["help", "hilfe"], handlers.help_command),
            command("themen", handlers.topics),
            command("frage", handlers.ask_command),
            command("stats", admin.stats_command),
            command("reload", admin.reload_command),
            command("debug", admin.debug_command),
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
            CallbackQueryHandler(buttons.button),
            InlineQueryHandler(inline.inline_query),
        ]
    )
    application.add_error_handler(handlers.on_error)


async def post_init(application: AnyApplication) -> None:
    """Command menu, the knowledge base watcher and (polling) the metrics server."""
    try:
        await deliver(partial(application.bot.set_my_commands, COMMANDS), what="commands")
    except (TelegramError, Undeliverable) as exc:  # a missing menu is not worth failing start-up
        logger.warning("Could not set the command menu: %s", exc)
    bot_context = handlers.wired(application.bot_data)
    application.bot_data.watcher = asyncio.get_running_loop().create_task(
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
        application.bot_data.web = await start_site(
            web_app, settings.webhook_listen, settings.metrics_port
        )
        logger.info("Serving /healthz and /metrics on port %d", settings.metrics_port)
    logger.info(
        "faqbot started as @%s with %d entries", application.bot.username, len(bot_context.kb)
    )


async def start_site(web_app: web.Application, host: str, port: int) -> web.AppRunner:
    """Serve ``web_app`` on host:port until the runner is cleaned up."""
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner


async def post_stop(application: AnyApplication) -> None:
    """Send what is left in the outbox, close the handoff desk, stop the watcher."""
    bot_context = handlers.wired(application.bot_data)
    await outbox_of(application).close(bot_context.settings.shutdown_timeout)
    if bot_context.handoffs is not None:
        bot_context.handoffs.repository.close()
    runner, application.bot_data.web = application.bot_data.web, None
    if runner is not None:
        await runner.cleanup()
    watcher, application.bot_data.watcher = application.bot_data.watcher, None
    if watcher is not None:
        watcher.cancel()
        with suppress(asyncio.CancelledError):
            await watcher


async def report_reload(
    application: AnyApplication, bot_context: handlers.BotContext, result: ReloadResult
) -> None:
    """Count failed reloads; tell the admins once per distinct problem, and which
    entries a reload removed (an accident shows at once)."""
    if not result.ok:
        bot_context.metrics.reload_errors.inc()
    if not bot_context.holder.is_new_problem(result) and not result.removed:
        return
    text = "⚠️ " + result.describe()
    for admin_id in sorted(bot_context.settings.admin_ids):
        # Through the outbox: an admin chat that is throttled or closed holds up nobody.
        outbox_of(application).post([Outgoing.text(admin_id, text[:4000])])


def outbox_of(application: AnyApplication) -> Outbox:
    """The outbox every reply of this application leaves through."""
    outbox = handlers.wired(application.bot_data).outbox
    assert isinstance(outbox, Outbox)
    return outbox
