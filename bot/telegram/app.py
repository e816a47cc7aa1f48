"""Wiring: one place where handlers meet python-telegram-bot, and the run loop.

Throughput (benchmarks/bench_burst.py, 1,000 questions from 250 users, 2 cores): with
PTB's httpx transport the bot was CPU-bound at ~3 ms per update (270 updates/s at
best, fewer with larger pools, as httpcore rescans its pool for every queued
request). The aiohttp transport with 16 concurrent updates over 8 connections measured
570-690 updates/s; 4/4 gave ~520, 8/8 ~460, 32/8 ~660.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import signal
import time
from contextlib import suppress
from functools import partial
from typing import Any, NoReturn

from aiohttp import web
from telegram import BotCommand, Update
from telegram.error import InvalidToken, NetworkError
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

from bot.config import Settings
from bot.errors import ConfigError
from bot.health import HEARTBEAT_FILE, STARTING, Heartbeat
from bot.metrics import Metrics
from bot.reloader import KnowledgeBaseHolder, ReloadResult
from bot.stats import Stats
from bot.store import Store
from bot.telegram import handlers
from bot.telegram.delivery import Outgoing, deliver
from bot.telegram.outbox import Outbox
from bot.telegram.polling import Poller
from bot.telegram.ratelimit import ChatRateLimiter
from bot.telegram.transport import AiohttpRequest
from bot.telegram.updates import LedgerProcessor, UpdateLedger
from bot.telegram.web import make_web_app

logger = logging.getLogger(__name__)

CONCURRENT_UPDATES = 16
CONNECTION_POOL = 8
POLL_TIMEOUT = 10
RELOAD_INTERVAL = 1.0
FIRST_CONTACT_BACKOFF = 1.0
MAX_CONTACT_BACKOFF = 60.0

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
    ledger = UpdateLedger()
    # Always on: a 429 must stay with its chat even when proactive throttling is off.
    limiter = ChatRateLimiter(overall_per_second=settings.rate_limit)
    transports = (
        AiohttpRequest(connection_pool_size=CONNECTION_POOL, observer=observer),
        AiohttpRequest(connection_pool_size=1, read_timeout=POLL_TIMEOUT + 5, observer=observer),
    )
    builder = (
        ApplicationBuilder()
        .token(settings.token)
        .base_url(settings.base_url)
        .base_file_url(file_url_for(settings.base_url))
        .concurrent_updates(LedgerProcessor(ledger, CONCURRENT_UPDATES))
        .request(transports[0])
        .get_updates_request(transports[1])
        .rate_limiter(limiter)
        .post_init(_post_init)
        .post_stop(_post_stop)
    )
    application = builder.build()
    outbox = Outbox(application.bot, metrics=metrics, limiter=limiter, ledger=ledger)
    application.bot_data["faqbot"] = handlers.BotContext(
        settings, holder, stats, metrics, store=store, outbox=outbox
    )
    application.bot_data["transports"] = transports
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
    bot_context: handlers.BotContext = application.bot_data["faqbot"]
    await _outbox(application).close(bot_context.settings.shutdown_timeout)
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
        # Through the outbox: an admin chat that is throttled or closed holds up nobody.
        _outbox(application).post([Outgoing.text(admin_id, text[:4000])])


def _outbox(application: AnyApplication) -> Outbox:
    outbox = application.bot_data["faqbot"].outbox
    assert isinstance(outbox, Outbox)
    return outbox


def reject_token() -> NoReturn:
    """The one way a rejected token ends the bot: one clear line and exit code 1."""
    raise ConfigError("Telegram rejected the bot token (401): check TELEGRAM_BOT_TOKEN")


def run(settings: Settings) -> int:
    """Run the bot until SIGTERM or SIGINT; webhook mode when WEBHOOK_URL is set."""
    holder = KnowledgeBaseHolder(settings.faq_dir)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
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
            asyncio.run(serve_polling(application, settings, heartbeat))
    finally:
        if store is not None:
            store.close()
    logger.info("faqbot stopped")
    return 0


def _stop_event() -> asyncio.Event:
    """Set by SIGTERM (docker stop) or SIGINT (Ctrl+C)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    return stop


async def connect(
    application: AnyApplication, stop: asyncio.Event, heartbeat: Heartbeat | None = None
) -> bool:
    """Make the first contact with Telegram, retrying with backoff; False if stopped first.

    No network at start-up is an ordinary state, not a crash: one line per attempt,
    no traceback. A rejected token is fatal at once.
    """
    delay = FIRST_CONTACT_BACKOFF
    for attempt in itertools.count(1):
        try:
            await application.initialize()
            return True
        except InvalidToken:
            await _close_transports(application)
            reject_token()
        except NetworkError as exc:  # also timeouts and 5xx
            logger.warning(
                "Cannot reach Telegram (attempt %d: %s); trying again in %.0f s",
                attempt,
                exc,
                delay,
            )
            if heartbeat is not None:
                heartbeat.starting(f"(attempt {attempt} failed: {exc})")
        with suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), delay)
        if stop.is_set():
            await _close_transports(application)
            return False
        delay = min(delay * 2, MAX_CONTACT_BACKOFF)
    raise AssertionError("unreachable")


async def _close_transports(application: AnyApplication) -> None:
    for transport in application.bot_data["transports"]:
        await transport.shutdown()


async def serve_polling(
    application: AnyApplication, settings: Settings, heartbeat: Heartbeat | None = None
) -> None:
    """Poll until a signal; then stop fetching, finish what is in hand, confirm that."""
    stop = _stop_event()
    outbox = _outbox(application)
    assert outbox.ledger is not None
    ledger = outbox.ledger
    ledger.load(settings.data_dir)
    if heartbeat is not None:
        heartbeat.starting("(connecting)")
    if not await connect(application, stop, heartbeat):
        return
    poller = Poller(application, ledger, outbox.metrics, timeout=POLL_TIMEOUT)
    ledger.on_done = poller.notice_progress
    await _post_init(application)
    await application.start()
    polling = asyncio.create_task(poller.run(), name="faqbot-poller")
    stopping = asyncio.create_task(stop.wait())
    await asyncio.wait({polling, stopping}, return_when=asyncio.FIRST_COMPLETED)
    stopping.cancel()
    poller.stop()
    await polling
    await shutdown(application, settings)
    await poller.confirm()
    ledger.save(settings.data_dir)
    await application.shutdown()
    if poller.token_rejected:
        reject_token()


async def shutdown(
    application: AnyApplication, settings: Settings, *, skip_queued: bool = True
) -> None:
    """Finish handlers and replies within SHUTDOWN_TIMEOUT.

    ``skip_queued``: updates queued but not begun stay unconfirmed (polling, where
    Telegram delivers them again); a webhook's updates were accepted, so all are handled.
    """
    started = time.monotonic()
    outbox = _outbox(application)
    if outbox.ledger is not None and skip_queued:
        outbox.ledger.stopping = True
    await application.stop()
    remaining = max(settings.shutdown_timeout - (time.monotonic() - started), 0.0)
    left = await outbox.close(remaining)
    await _post_stop(application)
    logger.info(
        "Stopped in %.1f s; %d replies left for after the restart",
        time.monotonic() - started,
        left,
    )


async def serve_webhook(application: AnyApplication, settings: Settings) -> None:
    """Serve Telegram's webhook, /healthz and /metrics on one port until a signal.

    Our own aiohttp server rather than PTB's run_webhook, so that health and metrics
    share the port Telegram's requests arrive on.
    """
    assert settings.webhook_url and settings.webhook_secret
    stop = _stop_event()
    bot_context: handlers.BotContext = application.bot_data["faqbot"]
    outbox = _outbox(application)
    connected = False

    def health() -> dict[str, Any]:
        if not connected:
            return {"status": STARTING, "mode": "webhook"}
        return health_report(bot_context, "webhook")

    web_app = make_web_app(
        health=health,
        metrics=bot_context.metrics,
        application=application,
        webhook_path=settings.webhook_path,
        secret=settings.webhook_secret,
        ledger=outbox.ledger,
    )
    # Listening first, so that /healthz says "starting" while Telegram is out of reach.
    runner = await _start_site(web_app, settings.webhook_listen, settings.port)
    if not await connect(application, stop):
        await runner.cleanup()
        return
    connected = True
    await _post_init(application)
    await application.start()
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
        await runner.cleanup()  # Telegram re-sends what it cannot deliver meanwhile
        await shutdown(application, settings, skip_queued=False)
        await application.shutdown()
