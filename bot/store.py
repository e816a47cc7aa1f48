"""The analytics store: what customers asked, private by design; its writer.

SQLite in DATA_DIR by default (file, schema, migrations, salt: bot/store_sqlite.py);
PostgreSQL with DATABASE_URL (bot/store_pg.py, bot/stores.py). The events recorded are
in bot/store_events.py, the rows they become (and the privacy rules) in bot/store_rows.py.

What is kept per question: time, chat type, a salted hash of the user (the salt is a
random file in DATA_DIR; no names, no raw ids), the text (unless STORE_QUESTIONS is
false; deleted after RETENTION_DAYS), the decision, the best entry and its score, and
the suggestions shown. Per answer: feedback. Per suggestion list: the button chosen.

Writing never holds up an answer: events go into a bounded queue that a background
thread writes in batches. The writer survives anything: a text SQLite cannot take
(a lone surrogate) is made storable, an event that still cannot be stored is dropped
and counted, the rest of its batch is written. A locked, read-only, full or deleted
database is retried with backoff for RETRY_FOR seconds before a batch counts as lost;
the -wal/-shm files are made writable again and a deleted file or folder is created
anew, so recording resumes by itself. The break and the recovery are logged once
each (bot/store_state.py) and shown in /healthz. DATA_DIR is 0700, its files 0600.

With DATABASE_URL the same writer runs on PostgreSQL (bot/stores.py's PgStore; the
dialect in bot/store_pg.py): only opening, the salt and the error classes differ.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

from bot.errors import ReportUnavailable
from bot.logs import ThrottledLog
from bot.private_files import create_private, private_dir, private_file
from bot.report import Report
from bot.report_queries import build_report
from bot.store_events import ChoiceEvent, Event, FeedbackEvent, QuestionEvent, now_iso
from bot.store_faults import is_locked, is_store_error, make_writable, side_files
from bot.store_rows import Row, UserHashes, event_row, forget_texts, insert_rows
from bot.store_sqlite import (
    DATABASE_FILE,
    MIGRATIONS,
    SALT_FILE,
    SCHEMA_VERSION,
    SqlConnection,
    connect,
    load_salt,
    migrate,
    reader,
    save_salt,
)
from bot.store_state import StoreState

__all__ = [
    "DATABASE_FILE",
    "MIGRATIONS",
    "SALT_FILE",
    "SCHEMA_VERSION",
    "ChoiceEvent",
    "Event",
    "FeedbackEvent",
    "QuestionEvent",
    "SqlConnection",
    "Store",
    "connect",
    "forget_texts",
    "load_salt",
    "migrate",
    "now_iso",
    "reader",
    "save_salt",
]

logger = logging.getLogger(__name__)

BATCH = 1000
BATCH_SECONDS = 0.5
"""How long the writer gathers events before a transaction (data at risk in a crash)."""
RETENTION_CHECK_SECONDS = 3600.0
RETRY_FOR = 60.0
"""How long a batch is retried while the database is locked, read-only, full or gone
before its events count as lost: a lock held 30 s by a backup loses nothing."""
BACKOFF_FIRST = 0.05
BACKOFF_MAX = 2.0
MAX_QUEUE = 100_000
"""Events waiting for the writer at most (~300 bytes each, so ~30 MB): a store that is
down for long loses the newest events, counted, instead of growing without end."""


class Store:
    """Queues events and writes them from one background thread."""

    def __init__(
        self,
        data_dir: Path,
        *,
        keep_texts: bool = True,
        retention_days: int = 90,
        on_failure: Callable[[], None] = lambda: None,
        on_lost: Callable[[str, int], None] = lambda reason, count: None,
        batch_seconds: float = BATCH_SECONDS,
        retry_for: float = RETRY_FOR,
        max_queue: int = MAX_QUEUE,
    ) -> None:
        self.data_dir = data_dir
        self.batch_seconds = batch_seconds
        self.retry_for = retry_for
        self.max_queue = max_queue
        self.path = data_dir / DATABASE_FILE
        self.keep_texts = keep_texts
        self.retention_days = retention_days
        self.state = StoreState(str(self.path), on_lost=on_lost)
        self._on_failure = on_failure
        # Unbounded underneath so the stop marker always fits; record() keeps the bound.
        self._queue: queue.Queue[Event | None] = queue.Queue()
        self._hashes = UserHashes()
        self._stopping = threading.Event()
        self._stop_deadline = float("inf")
        self._connection: SqlConnection | None = None
        self._last_retention = float("-inf")
        self._unstorable_log = ThrottledLog(logger, interval=60.0)
        self._thread = threading.Thread(target=self._run, name="faqbot-store", daemon=True)

    @property
    def written(self) -> int:
        return self.state.written

    @property
    def lost(self) -> int:
        return self.state.lost

    def health(self) -> dict[str, object]:
        """ok / failing since …, events written and lost (for /healthz)."""
        report = self.state.report()
        report["queued"] = self._queue.qsize()
        return report

    def report(self, *, days: int | None = 30) -> Report:
        """The report of `faqbot stats`, read from the file beside the writer (WAL)."""
        try:
            with reader(self.data_dir) as connection:
                return build_report(connection, days=days)
        except (sqlite3.Error, OSError) as exc:
            raise ReportUnavailable(f"cannot read {self.path}: {exc}") from exc

    # Life cycle ------------------------------------------------------------------

    def start(self) -> None:
        """Open (and migrate) the database now, so start-up problems show at start."""
        self._load_salt()
        try:
            self._open()
        except Exception as exc:  # the bot starts and answers anyway; the writer retries
            if not self._is_store_error(exc):
                raise
            self._on_failure()
            self.state.failed(str(exc))
        self._thread.start()

    def _load_salt(self) -> None:
        try:
            private_dir(self.data_dir)
            self._hashes.salt = load_salt(self.data_dir)
        except OSError as exc:
            logger.error("Cannot read or create the salt in %s: %s", self.data_dir, exc)
            self._hashes.salt = os.urandom(32)  # hashes still unlinkable, just not stable

    @staticmethod
    def _is_store_error(exc: BaseException) -> bool:
        return is_store_error(exc)

    @staticmethod
    def _is_locked(exc: BaseException) -> bool:
        return is_locked(exc)

    def _describe(self, exc: BaseException) -> str:
        """The failure as /healthz and the log show it."""
        return str(exc)

    def close(self, timeout: float = 5.0) -> None:
        """Write what is queued (retrying at most until ``timeout``), then stop the thread."""
        self._stop_deadline = time.monotonic() + max(timeout - 0.5, 0.0)
        self._stopping.set()
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join(timeout)
        self._drop_connection()

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until every queued event was handled (tests, benchmarks)."""
        deadline = time.monotonic() + timeout
        while self._queue.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.005)
        return not self._queue.unfinished_tasks

    # Recording (any thread, never blocks) ----------------------------------------

    def record(self, event: Event) -> None:
        if self._queue.qsize() >= self.max_queue:
            self.state.lose("queue_full")
            return
        self._queue.put_nowait(event)

    def user_hash(self, user_id: int) -> str:
        """The salted, unlinkable stand-in for a Telegram id."""
        return self._hashes(user_id)

    # The writer thread -------------------------------------------------------------

    def _run(self) -> None:
        while True:
            batch, stop = self._next_batch()
            try:
                if batch:
                    self._write(batch)
            except Exception as exc:  # the writer never dies: count, log, go on
                self.state.lose("unstorable", len(batch))
                self._unstorable_log.error(
                    "Analytics store writer hit an unexpected error; %d event(s) dropped: %s",
                    len(batch),
                    f"{type(exc).__name__}: {exc}",
                )
                self._drop_connection()
            finally:
                for _ in range(len(batch) + (1 if stop else 0)):
                    self._queue.task_done()
            if stop:
                return

    def _next_batch(self) -> tuple[list[Event], bool]:
        event = self._queue.get()
        if event is None:
            return [], True
        batch: list[Event] = [event]
        # Let a burst gather without waking up for each event (every wake-up takes
        # the GIL from the bot's event loop), then write it in one transaction.
        self._stopping.wait(self.batch_seconds)
        while len(batch) < BATCH:
            try:
                more = self._queue.get_nowait()
            except queue.Empty:
                break
            if more is None:
                return batch, True
            batch.append(more)
        return batch, False

    def _write(self, batch: list[Event]) -> None:
        """Write ``batch``, retrying with backoff while the database as a whole fails."""
        # Rows are made once connected: on PostgreSQL the salt comes from the database.
        pending: list[Row] | None = None
        given_up_at = time.monotonic() + self.retry_for
        delay = BACKOFF_FIRST
        while pending is None or pending:
            try:
                connection = self._usable_connection()
                if pending is None:
                    pending = [row for row in map(self._prepare, batch) if row is not None]
                written = self._insert_all(connection, pending)
            except Exception as exc:
                if not self._is_store_error(exc):
                    raise
                self._on_failure()
                self.state.failed(self._describe(exc))
                if not self._is_locked(exc):  # read-only, full, gone: start afresh next time
                    self._drop_connection()
                remaining = min(given_up_at, self._stop_deadline) - time.monotonic()
                if remaining <= 0:
                    self.state.lose("unavailable", len(batch if pending is None else pending))
                    return
                time.sleep(min(delay, remaining))
                delay = min(delay * 2, BACKOFF_MAX)
                continue
            self.state.wrote(written)
            try:
                self._retention(connection)
            except Exception as exc:  # tried again in an hour; the events are safe
                if not (self._is_store_error(exc) or isinstance(exc, sqlite3.Error)):
                    raise
                logger.warning("Deleting old question texts failed: %s", exc)
            return

    def _usable_connection(self) -> SqlConnection:
        if self._connection is not None and not self.path.exists():
            # Deleted under us (or its folder was): SQLite would go on writing into the
            # unlinked file and lose everything silently. Start afresh instead.
            logger.warning("Analytics store %s disappeared; creating it anew", self.path)
            self._drop_connection()
        return self._connection or self._open()

    def _insert_all(self, connection: SqlConnection, pending: list[Row]) -> int:
        """Insert every row in one transaction; if one row is bad, row by row.

        Rows written are removed from ``pending``, so a retry never writes one twice.
        Returns how many were written.
        """
        if self._try_insert(connection, pending) is None:
            written = len(pending)
            pending.clear()
            return written
        written = 0
        for row in list(pending):
            error = self._try_insert(connection, [row])
            if error is None:
                written += 1
            else:
                self._drop_unstorable(row.kind, error)
            pending.remove(row)
        return written

    def _try_insert(self, connection: SqlConnection, rows: list[Row]) -> Exception | None:
        """Insert ``rows`` in one transaction; the error if it is theirs, not the store's
        (a store error is raised: the caller retries the whole batch)."""
        try:
            with connection:
                insert_rows(connection, rows)
        except Exception as exc:
            if self._is_store_error(exc):
                raise
            return exc
        return None

    def _drop_unstorable(self, kind: str, exc: BaseException) -> None:
        self.state.lose("unstorable")
        self._unstorable_log.warning(
            "A %s event could not be stored and was dropped: %s", kind, type(exc).__name__
        )

    def _drop_connection(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(sqlite3.Error):
                self._connection.close()
            self._connection = None

    def _open(self) -> SqlConnection:
        try:
            private_dir(self.data_dir)  # recreated if it was removed
            if not (self.data_dir / SALT_FILE).exists() and self._hashes.salt:
                save_salt(self.data_dir, self._hashes.salt)  # keep hashes stable across a restart
            create_private(self.path)
            private_file(self.path)
            for side in side_files(self.path):
                make_writable(side)
            connection = connect(self.path)
            try:
                migrate(connection)
            except BaseException:
                connection.close()
                raise
        except (sqlite3.Error, OSError) as exc:
            raise sqlite3.OperationalError(f"cannot open {self.path}: {exc}") from exc
        self._connection = connection
        return connection

    def _prepare(self, event: Event) -> Row | None:
        """The row for ``event``; None (counted) if no database can take it."""
        try:
            return event_row(event, self._hashes, keep_texts=self.keep_texts)
        except Exception as exc:
            self._drop_unstorable(type(event).__name__, exc)
            return None

    def _retention(self, connection: SqlConnection) -> None:
        if time.monotonic() - self._last_retention < RETENTION_CHECK_SECONDS:
            return
        self._last_retention = time.monotonic()
        forget_texts(connection, self.retention_days)
