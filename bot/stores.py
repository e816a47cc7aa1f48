"""Which store: SQLite in DATA_DIR (one instance), or PostgreSQL with DATABASE_URL.

The writer (bot/store.py's Store), the handoff desk and the reports are the same code
for both; this module picks the backend, and holds what only several replicas need:
claiming an update id before answering it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from bot.errors import ReportUnavailable
from bot.report import Report
from bot.report_queries import build_report
from bot.store import SALT_FILE, SqlConnection, Store, reader
from bot.store_pg import PgDatabase, database_for, is_down, pg_reader
from bot.store_state import StoreState

logger = logging.getLogger(__name__)

CLAIM_TIMEOUT = 1.0
"""How long an answer may wait for its claim before it goes out unclaimed."""
CLAIM_PAUSE = 5.0
"""After a failed claim, answer without claiming for this long (the database is down:
better a rare double answer than every answer held up)."""


class PgStore(Store):
    """The analytics writer on PostgreSQL: same queue, batches, retries and counting."""

    def __init__(self, database: PgDatabase, data_dir: Path, **options: Any) -> None:
        super().__init__(data_dir, **options)
        self.database = database
        self.state = StoreState(database.label, on_lost=options.get("on_lost", _ignore))

    def _load_salt(self) -> None:
        """Nothing yet: the salt is the database's, read when it is first reached."""

    def _open(self) -> SqlConnection:
        self._hashes.salt = self.database.prepare(salt_candidate=_salt_file(self.data_dir))
        self._connection = self.database.connection()
        return self._connection

    def start(self) -> None:
        """Migrate and read the salt now: a wrong password shows in one line at start."""
        try:
            self._open()
        except Exception as exc:  # the bot starts and answers anyway; the writer retries
            if not is_down(exc):
                raise
            self._on_failure()
            self.state.failed(f"cannot connect to {self._describe(exc)}")
        self._thread.start()

    def _describe(self, exc: BaseException) -> str:
        reason = " ".join(str(exc).split())  # libpq's hints come on extra lines
        return f"{self.database.label}: {reason}"

    def _usable_connection(self) -> SqlConnection:
        return self._connection or self._open()

    def report(self, *, days: int | None = 30) -> Report:
        """The report of `faqbot stats`, on a connection of the shared pool."""
        connection = self.database.connection()
        try:
            # Migrated first: the database may have come up after the bot started.
            self.database.prepare(salt_candidate=_salt_file(self.data_dir))
            return build_report(connection, days=days)  # type: ignore[arg-type]
        except Exception as exc:
            if not is_down(exc):
                raise
            raise ReportUnavailable(f"cannot read {self._describe(exc)}") from exc
        finally:
            connection.close()

    @staticmethod
    def _is_store_error(exc: BaseException) -> bool:
        return is_down(exc)

    @staticmethod
    def _is_locked(exc: BaseException) -> bool:
        return False

    def _retention(self, connection: SqlConnection) -> None:
        due = time.monotonic() - self._last_retention >= 3600.0
        super()._retention(connection)
        if due:
            self.database.forget_claims(connection)  # type: ignore[arg-type]


def _ignore(reason: str, count: int) -> None:
    """No metrics attached."""


def _salt_file(data_dir: Path) -> bytes | None:
    """A salt left by an SQLite instance: moving to PostgreSQL keeps the hashes."""
    with contextlib.suppress(OSError):
        salt = (data_dir / SALT_FILE).read_bytes()
        if len(salt) >= 16:
            return salt
    return None


def make_store(
    data_dir: Path,
    database_url: str | None,
    **options: Any,
) -> Store:
    """The analytics store for DATA_DIR or DATABASE_URL (not started)."""
    if database_url:
        return PgStore(database_for(database_url), data_dir, **options)
    return Store(data_dir, **options)


@contextlib.contextmanager
def reader_for(data_dir: Path, database_url: str | None) -> Iterator[Any]:
    """A connection for reports: PostgreSQL when DATABASE_URL is set, else the file."""
    if database_url:
        with pg_reader(database_url) as connection:
            yield connection
    else:
        with reader(data_dir) as connection:
            yield connection


class UpdateClaims:
    """Claims update ids in the shared database, so one replica answers each update."""

    def __init__(self, database: PgDatabase, *, clock: Callable[[], float] = time.monotonic):
        self.database = database
        self._clock = clock
        self._paused_until = float("-inf")

    async def claim(self, update_id: int) -> bool:
        """True if this replica should answer; also True while the database is down."""
        if self._clock() < self._paused_until:
            return True
        try:
            return await asyncio.to_thread(self.database.claim, update_id, timeout=CLAIM_TIMEOUT)
        except Exception as exc:
            if not is_down(exc):
                raise
            if self._paused_until < self._clock() - CLAIM_PAUSE:
                logger.warning(
                    "Cannot claim updates in %s (answering without claims for now): %s",
                    self.database.label,
                    type(exc).__name__,
                )
            self._paused_until = self._clock() + CLAIM_PAUSE
            return True
