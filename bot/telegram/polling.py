"""Fetching updates with getUpdates: confirm only what is handled, skip what cannot be read.

Our own loop instead of PTB's Updater, for three reasons measured in a black-box test:

- PTB's next ``getUpdates`` confirms everything fetched so far, handled or not: a
  container stopped mid-burst lost 449 questions Telegram had been told were received.
  Here the offset is the ledger's (the oldest update not done) and at most
  ``MAX_IN_HAND`` updates are fetched ahead of the handlers.
- PTB parses a batch as a whole: one update it cannot read (a field in a form it does
  not know yet) failed every poll, 4,373 getUpdates per 10 s, and logged the raw batch
  with customers' names at CRITICAL. Here each update is parsed alone; one that fails
  is skipped (confirmed), logged once by id and counted.
- Failed polls back off (1 s doubling to 5 s) with one line when Telegram goes away
  and one when it is back, instead of a traceback per attempt.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import suppress
from typing import Any

from telegram import Update
from telegram.error import Conflict, InvalidToken, NetworkError, TimedOut
from telegram.ext import Application

from bot.metrics import Metrics
from bot.telegram.updates import UpdateLedger

logger = logging.getLogger(__name__)

MAX_IN_HAND = 64
"""Updates fetched and not yet done; the Bot API returns at most 100 per call."""
BATCH = 100
FIRST_BACKOFF = 1.0
MAX_BACKOFF = 5.0
"""A failed poll costs little: polling resumes within 5 s of Telegram's return."""

AnyApplication = Application[Any, Any, Any, Any, Any, Any]


class Poller:
    """Long-polls getUpdates into the application's queue until stopped."""

    def __init__(
        self,
        application: AnyApplication,
        ledger: UpdateLedger,
        metrics: Metrics,
        *,
        timeout: int,
    ) -> None:
        self.application = application
        self.ledger = ledger
        self.metrics = metrics
        self.timeout = timeout
        self.token_rejected = False
        self._stopping = asyncio.Event()
        self._room = asyncio.Event()
        self._failing = False

    def stop(self) -> None:
        """Stop fetching; a poll in flight is abandoned (its updates stay unconfirmed)."""
        self._stopping.set()
        self._room.set()

    def notice_progress(self) -> None:
        """An update was done: there may be room to fetch more."""
        self._room.set()

    async def run(self) -> None:
        """Fetch until ``stop``; returns early if Telegram rejects the token."""
        backoff = FIRST_BACKOFF
        while not self._stopping.is_set():
            if self.ledger.in_hand >= MAX_IN_HAND:
                self._room.clear()
                await self._room.wait()
                continue
            try:
                batch = await self._interruptible(self._fetch())
            except InvalidToken:
                self.token_rejected = True
                return
            except Conflict as exc:
                self._report_failure(f"another bot instance is polling ({exc})")
            except TimedOut:
                continue  # a long poll that outlived its read timeout: just ask again
            except NetworkError as exc:
                self._report_failure(str(exc))
            else:
                if batch is None:
                    return  # stopped
                self._report_success()
                backoff = FIRST_BACKOFF
                self._take(batch)
                continue
            await self._interruptible(asyncio.sleep(backoff))
            backoff = min(backoff * 2, MAX_BACKOFF)

    async def confirm(self) -> None:
        """Tell Telegram which updates are handled (all below the ledger's offset)."""
        if self.ledger.offset <= 0:
            return
        with suppress(Exception):  # nothing more to do on the way out
            await asyncio.wait_for(
                self.application.bot._post(
                    "getUpdates", {"offset": self.ledger.offset, "limit": 1, "timeout": 0}
                ),
                timeout=3,
            )

    async def _fetch(self) -> list[Any]:
        parameters: dict[str, Any] = {
            "limit": BATCH,
            "timeout": self.timeout,
            "allowed_updates": list(Update.ALL_TYPES),
        }
        if self.ledger.offset > 0:
            parameters["offset"] = self.ledger.offset
        # Bot._post: get_updates() would parse the batch as a whole, and do_api_request()
        # warns for endpoints PTB has a method for. The raw list is what we need.
        result = await self.application.bot._post("getUpdates", parameters)
        return result if isinstance(result, list) else []

    async def _interruptible(self, work: Any) -> Any:
        """Run ``work`` unless ``stop`` comes first (then None)."""
        task = asyncio.ensure_future(work)
        stopping = asyncio.ensure_future(self._stopping.wait())
        try:
            await asyncio.wait({task, stopping}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()
        if not task.done():
            task.cancel()
            with suppress(asyncio.CancelledError, Exception):
                await task
            return None
        return task.result()

    def _take(self, batch: list[Any]) -> None:
        new = 0
        for raw in batch:
            update_id = raw.get("update_id") if isinstance(raw, dict) else None
            if not isinstance(update_id, int):
                continue
            if self.ledger.is_done(update_id):
                self.ledger.mark_done(update_id)  # answered before a restart: confirm it
                continue
            if self.ledger.knows(update_id):
                continue  # in hand already
            try:
                update = Update.de_json(raw, self.application.bot)
            except Exception as exc:
                # The class of the error only: its text may quote the customer's data.
                logger.warning(
                    "Skipping update %d: python-telegram-bot cannot read it (%s)",
                    update_id,
                    type(exc).__name__,
                )
                self.metrics.updates_skipped.labels("unparseable").inc()
                self.ledger.mark_done(update_id)
                continue
            self.ledger.receive(update_id)
            self.application.update_queue.put_nowait(update)
            new += 1
        if new == 0 and len(batch) >= BATCH:
            # Telegram's window (100 updates from the offset) is all in hand or done:
            # stop holding the offset back for the oldest one, or polling would stall.
            oldest = self.ledger.give_up_oldest()
            logger.warning("Update %s is taking long; confirming it to keep polling", oldest)

    def _report_failure(self, reason: str) -> None:
        if not self._failing:
            logger.warning("Fetching updates failed (%s); retrying with backoff", reason)
        self._failing = True

    def _report_success(self) -> None:
        if self._failing:
            logger.warning("Fetching updates works again")
        self._failing = False
