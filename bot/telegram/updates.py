"""Which updates are handled: the offset Telegram may forget, duplicates, shutdown.

An update is *done* when its handler returned and every reply it queued was sent
(or given up). Telegram forgets updates below the ``getUpdates`` offset, so the
poller only ever confirms up to the oldest update that is not done: what is still in
hand when the process stops is delivered again after the restart. Updates finished
out of order above that offset are written to ``DATA_DIR/handled-updates.json`` on
shutdown, so the restart skips them instead of answering twice.

The same ledger drops duplicates (Telegram re-sends a webhook it thinks failed) and,
once shutdown began, keeps handlers from starting on updates that were queued but not
begun: those stay unconfirmed too.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

logger = logging.getLogger(__name__)

HANDLED_FILE = "handled-updates.json"
RECENT = 10_000
"""Done update ids remembered for spotting duplicates."""


class UpdateLedger:
    """Fetched, held and done update ids; the offset that is safe to confirm."""

    def __init__(self) -> None:
        self._open: dict[int, int] = {}  # update id -> replies still pending (+1 while handled)
        self._done: OrderedDict[int, None] = OrderedDict()
        self._highest = 0
        self.stopping = False
        self.on_done: Callable[[], None] = lambda: None
        """Called whenever an update is done (the poller then has room to fetch more)."""

    # The life of one update ----------------------------------------------------------

    def receive(self, update_id: int) -> bool:
        """Take an update in hand; False if it is a duplicate (in hand or done)."""
        if update_id in self._open or update_id in self._done:
            return False
        self._open[update_id] = 1
        self._highest = max(self._highest, update_id)
        return True

    def hold(self, update_id: int | None) -> None:
        """A reply for ``update_id`` was queued: the update is not done before it is sent."""
        if update_id is not None and update_id in self._open:
            self._open[update_id] += 1

    def release(self, update_id: int | None) -> None:
        """A handler returned, or a held reply was sent or given up."""
        if update_id is None or update_id not in self._open:
            return
        self._open[update_id] -= 1
        if self._open[update_id] <= 0:
            del self._open[update_id]
            self.mark_done(update_id)

    def mark_done(self, update_id: int) -> None:
        """Done without handling (e.g. an update nobody can parse): confirm it."""
        self._open.pop(update_id, None)
        self._highest = max(self._highest, update_id)
        self._done[update_id] = None
        while len(self._done) > RECENT:
            self._done.popitem(last=False)
        self.on_done()

    # What the poller asks ------------------------------------------------------------

    @property
    def in_hand(self) -> int:
        """Updates received and not done."""
        return len(self._open)

    def is_done(self, update_id: int) -> bool:
        return update_id in self._done

    def knows(self, update_id: int) -> bool:
        return update_id in self._open or update_id in self._done

    @property
    def offset(self) -> int:
        """The getUpdates offset that confirms exactly the updates below the oldest open one."""
        if self._open:
            return min(self._open)
        return self._highest + 1 if self._highest else 0

    def give_up_oldest(self) -> int | None:
        """Stop holding back the offset for the oldest open update (see Poller)."""
        if not self._open:
            return None
        oldest = min(self._open)
        # Still answered in this run; only a stop before that loses it.
        self._open.pop(oldest)
        self._done[oldest] = None
        return oldest

    # Across a restart ------------------------------------------------------------------

    def save(self, data_dir: Path) -> None:
        """Write the done ids above the offset, which Telegram will deliver again."""
        offset = self.offset
        above = sorted(uid for uid in self._done if uid >= offset)
        path = data_dir / HANDLED_FILE
        try:
            if not above:
                path.unlink(missing_ok=True)
                return
            temporary = path.with_suffix(".tmp")
            temporary.write_text(json.dumps({"offset": offset, "done": above}), encoding="ascii")
            os.replace(temporary, path)
        except OSError as exc:
            logger.warning("Cannot write %s (%s): some answers may repeat after restart", path, exc)

    def load(self, data_dir: Path) -> None:
        """Remember what the last run finished, so its redelivered updates are skipped."""
        path = data_dir / HANDLED_FILE
        try:
            saved: Any = json.loads(path.read_text(encoding="ascii"))
            done = [int(uid) for uid in saved["done"]]
        except FileNotFoundError:
            return
        except (OSError, ValueError, KeyError, TypeError) as exc:
            logger.warning("Ignoring %s, which cannot be read: %s", path, exc)
            return
        for update_id in done:
            self.mark_done(update_id)
        self._highest = 0  # the offset is Telegram's to tell until the first fetch
        with contextlib.suppress(OSError):
            path.unlink()
        logger.info("Skipping %d updates the last run already answered", len(done))


class LedgerProcessor(BaseUpdateProcessor):
    """PTB's update processor that reports to the ledger and honours shutdown."""

    def __init__(self, ledger: UpdateLedger, max_concurrent_updates: int) -> None:
        super().__init__(max_concurrent_updates)
        self.ledger = ledger

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        update_id = update.update_id if isinstance(update, Update) else None
        if update_id is not None and not self.ledger.knows(update_id):
            self.ledger.receive(update_id)  # queued by someone else (tests, the webhook)
        if self.ledger.stopping or (update_id is not None and self.ledger.is_done(update_id)):
            # Not started: stays unconfirmed and comes again after the restart.
            close = getattr(coroutine, "close", None)
            if callable(close):
                close()
            return
        try:
            await coroutine
        except asyncio.CancelledError:
            raise  # cut off by the shutdown timeout: not done, comes again
        except BaseException:
            self.ledger.release(update_id)
            raise
        self.ledger.release(update_id)

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""
