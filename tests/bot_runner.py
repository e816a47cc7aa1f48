"""Run the real Application against the fake Bot API, polling or step by step.

Tests stay synchronous. BotThread polls over real HTTP on 127.0.0.1 in its own event
loop while the test injects updates into the fake server and waits for what the bot
sends. SteppedBot fetches and handles the queued updates only when the test says so,
and returns when every reply is out: what it returns is all the bot sent for them.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from telegram.ext import ContextTypes

from bot.config import Settings
from bot.memory_store import MemoryStore
from bot.metrics import Metrics
from bot.recorder import Recorder
from bot.reloader import KnowledgeBaseHolder
from bot.report import Report
from bot.store import Store
from bot.telegram.app import build_application, outbox_of
from tests.conftest import FAQ_DIR, ROOT
from tests.fake_bot_api import Call, FakeBotApi, bot_base_urls

ADMIN_ID = 777


def settings_for(fake: FakeBotApi, faq_dir: Path, data_dir: Path, **overrides: object) -> Settings:
    """Settings pointing at the fake server, with one admin."""
    base_url, _ = bot_base_urls(fake)
    values: dict[str, object] = {
        "token": fake.token,
        "base_url": base_url,
        "faq_dir": faq_dir,
        "data_dir": data_dir,
        "admin_ids": frozenset({ADMIN_ID}),
        "rate_limit": 0.0,
        "contact_text": "Rufen Sie uns an: 030 1234567.",
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


def copy_faq(target: Path) -> Path:
    """A writable copy of the shipped knowledge base."""
    shutil.copytree(FAQ_DIR, target, ignore=shutil.ignore_patterns("README.md"))
    return target


class BotThread:
    """The Application polling the fake server from a thread with its own loop."""

    def __init__(
        self,
        settings: Settings,
        *,
        store: bool = False,
        holder: KnowledgeBaseHolder | None = None,
    ) -> None:
        self.settings = settings
        self.holder = holder or KnowledgeBaseHolder(settings.faq_dir)
        self.metrics = Metrics(entries=lambda: len(self.holder.current.kb))
        self.store: Store | None = None
        """The SQLite store when asked for (``store=True``), else None."""
        self.recorder: Recorder = MemoryStore(keep_texts=settings.store_questions)
        if store:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
            self.store = Store(settings.data_dir, on_failure=self.metrics.store_failures.inc)
            self.store.start()
            self.recorder = self.store
        self.application = build_application(
            settings, self.holder, self.recorder, metrics=self.metrics
        )
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._started = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="bot", daemon=True)

    def start(self) -> None:
        self._thread.start()
        if not self._started.wait(15):
            raise AssertionError("the bot did not start within 15 s")
        if self._error is not None:
            raise self._error

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(15)
        self.recorder.close()

    def report(self, days: int | None = None) -> Report:
        """What /stats and `faqbot stats` would report now, every recorded event kept."""
        assert self.recorder.flush(), "the recorder did not keep up within 5 s"
        return self.recorder.report(days=days)

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # surfaced to the test by start()
            self._error = exc
            self._started.set()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        application = self.application
        async with application:
            if application.post_init:
                await application.post_init(application)
            await application.start()
            assert application.updater is not None
            await application.updater.start_polling(poll_interval=0.0, timeout=1)
            self._started.set()
            await self._stop.wait()
            await application.updater.stop()
            await application.stop()
            if application.post_stop:
                await application.post_stop(application)


class SteppedBot:
    """The Application as ``faqbot run`` builds it (post_init and post_stop included),
    talking HTTP to the fake, that handles updates only in :meth:`step`.

    Each step fetches what the fake has queued with getUpdates, hands every update to
    the application's update processor as the poller would, one after the other, and
    waits until the outbox has sent every reply. No waiting for a poll: a test sees
    exactly what the bot sent for the updates of that step, and nothing later.
    """

    def __init__(
        self, fake: FakeBotApi, settings: Settings, holder: KnowledgeBaseHolder | None = None
    ) -> None:
        self.fake = fake
        self.holder = holder or KnowledgeBaseHolder(settings.faq_dir)
        self.recorder = MemoryStore(keep_texts=settings.store_questions)
        self.application = build_application(settings, self.holder, self.recorder)
        self.errors: list[BaseException] = []  # what reached the error handlers
        self.application.add_error_handler(self._record_error)
        self._offset = 0
        self._runner = asyncio.Runner()

    def start(self) -> None:
        self._runner.run(self._start())

    def stop(self) -> None:
        try:
            self._runner.run(self._stop())
        finally:
            self._runner.close()
            self.recorder.close()

    def step(self) -> list[Call]:
        """Handle every queued update to its end; the Bot API calls that made."""
        before = len(self.fake.calls)
        self._runner.run(self._handle_queued())
        return [call for call in self.fake.calls[before:] if call.method != "getUpdates"]

    async def _start(self) -> None:
        await self.application.initialize()
        if self.application.post_init:
            await self.application.post_init(self.application)

    async def _stop(self) -> None:
        if self.application.post_stop:
            await self.application.post_stop(self.application)
        await self.application.shutdown()

    async def _handle_queued(self) -> None:
        application = self.application
        for update in await application.bot.get_updates(offset=self._offset, timeout=0):
            self._offset = update.update_id + 1
            await application.update_processor.process_update(
                update, application.process_update(update)
            )
        await outbox_of(application).flush()

    async def _record_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert context.error is not None
        self.errors.append(context.error)


@contextmanager
def stepped_bot(
    fake: FakeBotApi, settings: Settings, holder: KnowledgeBaseHolder | None = None
) -> Iterator[SteppedBot]:
    bot = SteppedBot(fake, settings, holder)
    bot.start()
    try:
        yield bot
    finally:
        bot.stop()


def wait_recorded(fake: FakeBotApi, bot: BotThread, *, questions: int) -> Report:
    """The report once the recorder holds ``questions`` messages (small talk included).

    A question is recorded when its reply is out, a moment after the fake received it.
    """

    def recorded() -> int:
        totals = bot.report().totals
        return totals.questions + totals.smalltalk

    fake.wait_for(lambda _: recorded() >= questions, what=f"{questions} question(s) recorded")
    return bot.report()


@contextmanager
def running_bot(settings: Settings, *, store: bool = False) -> Iterator[BotThread]:
    bot = BotThread(settings, store=store)
    bot.start()
    try:
        yield bot
    finally:
        bot.stop()


def faqbot_environment(fake: FakeBotApi, env: Mapping[str, str]) -> dict[str, str]:
    """The environment of a `faqbot run` child talking to the fake server: this shell's
    bot, webhook, admin and database settings dropped, ``env`` on top."""
    base_url, _ = bot_base_urls(fake)
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TELEGRAM_", "WEBHOOK_", "ADMIN_", "DATABASE_"))
    }
    environment.update(
        {
            "TELEGRAM_BOT_TOKEN": fake.token,
            "TELEGRAM_BASE_URL": base_url,
            "TELEGRAM_RATE_LIMIT": "0",
            "PYTHONPATH": str(ROOT),
            "PYTHONUNBUFFERED": "1",
            **env,
        }
    )
    return environment


def faqbot_process(fake: FakeBotApi, env: Mapping[str, str], *, cwd: Path) -> subprocess.Popen[str]:
    """`faqbot run` as admins start it, in a child process, pointed at the fake server."""
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "run"],
        cwd=cwd,
        env=faqbot_environment(fake, env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
