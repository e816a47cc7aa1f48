"""Running the bot: first contact, polling or webhook until a signal, a clean stop.

- First contact: no network at start-up is an ordinary state, retried with backoff
  (1 s doubling to 60 s), one line per attempt, ``faqbot health`` saying "starting".
  A rejected token ends the start at once (``reject_token``).
- Stop (SIGTERM from ``docker stop``, SIGINT): stop fetching, start no queued update,
  finish handlers and replies within SHUTDOWN_TIMEOUT (default 10 s, below compose's
  15 s ``stop_grace_period``), confirm to Telegram only what was handled, exit 0.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import signal
import time
from collections.abc import Awaitable
from contextlib import suppress
from functools import partial
from typing import Any, NoReturn

from telegram import Update
from telegram.error import InvalidToken, NetworkError

from bot.config import Settings
from bot.errors import ConfigError
from bot.health import HEARTBEAT_FILE, STARTING, Heartbeat
from bot.logs import TOKEN_REJECTED
from bot.memory_store import MemoryStore
from bot.metrics import Metrics
from bot.private_files import private_dir
from bot.recorder import Recorder
from bot.reloader import KnowledgeBaseHolder
from bot.semantic import load_encoder
from bot.store_pg import database_for
from bot.stores import UpdateClaims, make_store
from bot.telegram import handlers
from bot.telegram.app import (
    POLL_TIMEOUT,
    AnyApplication,
    build_application,
    health_report,
    outbox_of,
    post_init,
    post_stop,
    start_site,
)
from bot.telegram.delivery import deliver
from bot.telegram.polling import Poller
from bot.telegram.web import make_web_app

logger = logging.getLogger(__name__)

FIRST_CONTACT_BACKOFF = 1.0
MAX_CONTACT_BACKOFF = 60.0


def reject_token() -> NoReturn:
    """The one way a rejected token ends the bot: one clear line and exit code 1."""
    raise ConfigError(TOKEN_REJECTED)


def run(settings: Settings) -> int:
    """Run the bot until SIGTERM or SIGINT; webhook mode when WEBHOOK_URL is set."""
    encoder, semantic_status = load_encoder(settings.semantic)  # SEMANTIC=on: fails here
    private_dir(settings.data_dir)
    holder = KnowledgeBaseHolder(
        settings.faq_dir,
        encoder=encoder,
        cache_folder=settings.data_dir,
        semantic_status=semantic_status,
    )
    metrics = Metrics(entries=lambda: len(holder.current.kb))
    store = (
        make_store(
            settings.data_dir,
            settings.database_url,
            keep_texts=settings.store_questions,
            retention_days=settings.retention_days,
            on_failure=metrics.store_failures.inc,
            on_lost=metrics.record_store_loss,
        )
        if settings.analytics
        else None
    )
    if store is not None:
        metrics.store_failing.set_function(lambda: 0.0 if store.state.ok else 1.0)
    # ANALYTICS=false: the same report of this run only, by the store's privacy rules.
    recorder: Recorder = store or MemoryStore(
        keep_texts=settings.store_questions, retention_days=settings.retention_days
    )
    recorder.start()
    heartbeat = Heartbeat(
        settings.data_dir / HEARTBEAT_FILE,
        report=lambda: {"store": recorder.health(), **holder.semantic_status.as_json()},
    )
    application = build_application(
        settings, holder, recorder, metrics=metrics, heartbeat=heartbeat
    )
    try:
        if settings.webhook_url:
            logger.info("Webhook mode on %s:%d", settings.webhook_listen, settings.port)
            asyncio.run(serve_webhook(application, settings))
        else:
            logger.info("Polling mode")
            asyncio.run(serve_polling(application, settings, heartbeat))
    finally:
        recorder.close()
        if settings.database_url:
            database_for(settings.database_url).close()  # after the writer's last batch
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
            if await _unless_stopped(application.initialize(), stop):
                return True
            await _close_transports(application)
            return False
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


async def _unless_stopped(work: Awaitable[None], stop: asyncio.Event) -> bool:
    """Await ``work`` unless ``stop`` is set first (then cancel it): True if it finished."""
    task = asyncio.ensure_future(work)
    stopping = asyncio.ensure_future(stop.wait())
    await asyncio.wait({task, stopping}, return_when=asyncio.FIRST_COMPLETED)
    stopping.cancel()
    if task.done():
        task.result()  # raises what the work raised
        return True
    task.cancel()
    with suppress(asyncio.CancelledError, Exception):
        await task
    return False


async def _close_transports(application: AnyApplication) -> None:
    for transport in application.bot_data.transports:
        await transport.shutdown()


async def serve_polling(
    application: AnyApplication, settings: Settings, heartbeat: Heartbeat | None = None
) -> None:
    """Poll until a signal; then stop fetching, finish what is in hand, confirm that."""
    stop = _stop_event()
    outbox = outbox_of(application)
    assert outbox.ledger is not None
    ledger = outbox.ledger
    ledger.load(settings.data_dir)
    if heartbeat is not None:
        heartbeat.starting("(connecting)")
    if not await connect(application, stop, heartbeat):
        return
    poller = Poller(application, ledger, outbox.metrics, timeout=POLL_TIMEOUT)
    ledger.on_done = poller.notice_progress
    await post_init(application)
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
    outbox = outbox_of(application)
    if outbox.ledger is not None and skip_queued:
        outbox.ledger.stopping = True
    stopping = asyncio.create_task(application.stop())
    await asyncio.wait({stopping}, timeout=settings.shutdown_timeout)
    if not stopping.done():
        # A handler still busy at the deadline is cut off; its update stays unconfirmed.
        for task in asyncio.all_tasks():
            if task.get_name().endswith(":process_concurrent_update"):
                task.cancel()
    await stopping
    remaining = max(settings.shutdown_timeout - (time.monotonic() - started), 0.0)
    left = await outbox.close(remaining)
    await post_stop(application)
    logger.info(
        "Stopped in %.1f s; replies left for after the restart: %d",
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
    bot_context = handlers.wired(application.bot_data)
    outbox = outbox_of(application)
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
        # Several replicas share DATABASE_URL: the first to claim an update answers it.
        claim=UpdateClaims(database_for(settings.database_url)).claim
        if settings.database_url
        else None,
    )
    # Listening first, so that /healthz says "starting" while Telegram is out of reach.
    runner = await start_site(web_app, settings.webhook_listen, settings.port)
    if not await connect(application, stop):
        await runner.cleanup()
        return
    connected = True
    await post_init(application)
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
