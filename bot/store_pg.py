"""The store on PostgreSQL (DATABASE_URL): one database shared by every replica.

Everything the bot keeps goes there: questions, feedback, choices, handoffs, the salt
for user hashes (one row, so every replica hashes a user alike) and the update ids a
replica claimed (so an update that reaches two replicas is answered once).

The SQL is the SQLite store's (bot/store.py, bot/handoff_store.py, bot/analytics.py):
written portably, with ``?`` placeholders that ``PgConnection`` turns into psycopg's
``%s``. What differs between the two dialects is here: the DDL's words (BIGINT for
Telegram's 52-bit ids, identity columns, DOUBLE PRECISION: bot/store_schema.py fills
them into the one schema), where the schema version lives (a table instead of
PRAGMA user_version) and which errors mean "the database is down" rather than "this
one event is bad".

Migrations run at start under a session advisory lock, one transaction per step, so
two replicas starting at once migrate once. Connections come from a psycopg_pool pool
that replaces broken ones after a server restart; every call that waits for the
server runs in a worker thread, never on the event loop.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import threading
from collections.abc import Iterator, Sequence
from typing import Any
from urllib.parse import quote, unquote, urlsplit, urlunsplit

import psycopg
from psycopg import errors as pg_errors
from psycopg_pool import ConnectionPool

from bot.store_schema import PG_MIGRATIONS

logger = logging.getLogger("bot.store")

MIGRATION_LOCK = 0x46415142  # "FAQB": the advisory lock key two replicas agree on
CONNECT_TIMEOUT = 3
POOL_MAX = 6
"""The writer, the handoff desk, update claims and /stats at once, with room to spare."""

PG_SCHEMA_VERSION = len(PG_MIGRATIONS)
CLAIMS_KEPT = "2 days"
"""Telegram re-sends a webhook for at most a day; older claims are deleted."""

DOWN_ERRORS: tuple[type[BaseException], ...] = (
    psycopg.OperationalError,  # refused, reset, restarted, pool timeout, disk full
    psycopg.InterfaceError,  # the connection object is closed
    pg_errors.ReadOnlySqlTransaction,  # a replica promoted the wrong way round
    OSError,
)
"""Errors of the database as a whole: retried. Anything else (a DataError for a value
PostgreSQL cannot take) is a problem of one event."""


def is_down(exc: BaseException) -> bool:
    return isinstance(exc, DOWN_ERRORS)


def redact_url(url: str) -> str:
    """DATABASE_URL with the password replaced by ***, for log lines and messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    if parts.port is not None:
        host += f":{parts.port}"
    user = quote(unquote(parts.username or ""), safe="")
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


def url_password(url: str) -> str | None:
    """The password in DATABASE_URL (as written and decoded), for the log redactor."""
    with contextlib.suppress(ValueError):
        password = urlsplit(url).password
        if password:
            return unquote(password)
    return None


@functools.cache
def qmark_to_pyformat(sql: str) -> str:
    """SQLite's ``?`` placeholders as psycopg's ``%s`` (a literal ``%`` doubled)."""
    return sql.replace("%", "%%").replace("?", "%s")


class PgRow(tuple[Any, ...]):
    """A row readable by position and by column name, like sqlite3.Row."""

    names: dict[str, int]

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            return super().__getitem__(self.names[key])
        return super().__getitem__(key)


def pg_row(cursor: Any) -> Any:
    names = {column.name: i for i, column in enumerate(cursor.description or ())}

    def make(values: Sequence[Any]) -> PgRow:
        row = PgRow(values)
        row.names = names
        return row

    return make


class PgCursor:
    """The results of one statement, as the sqlite3 code reads them."""

    def __init__(self, connection: PgConnection) -> None:
        self._connection = connection
        self._rows: list[PgRow] = []
        self.rowcount = -1
        self.row_factory: object = None  # accepted and ignored: rows are tuples already

    def execute(self, sql: str, params: Sequence[Any] = ()) -> PgCursor:
        with self._connection.raw() as raw, raw.cursor(row_factory=pg_row) as cursor:
            cursor.execute(qmark_to_pyformat(sql), tuple(params))
            self._rows = cursor.fetchall() if cursor.description else []
            self.rowcount = cursor.rowcount
        return self

    def fetchone(self) -> PgRow | None:
        return self._rows[0] if self._rows else None

    def fetchall(self) -> list[PgRow]:
        return list(self._rows)

    def __iter__(self) -> Iterator[PgRow]:
        return iter(self._rows)


class PgConnection:
    """A connection from the pool, spoken to like a sqlite3 connection.

    ``with connection:`` is one transaction (committed, or rolled back on an error);
    statements outside it commit at once. A connection the server dropped goes back to
    the pool (which discards it) and the next statement takes a fresh one, so a
    restarted server costs one failed attempt, not a restart of the bot.
    """

    dialect = "postgresql"

    def __init__(self, pool: ConnectionPool, *, timeout: float = 5.0) -> None:
        self._pool = pool
        self._timeout = timeout
        self._raw: psycopg.Connection[Any] | None = None
        self._transaction: Any = None

    @contextlib.contextmanager
    def raw(self) -> Iterator[psycopg.Connection[Any]]:
        if self._raw is None:
            self._raw = self._pool.getconn(timeout=self._timeout)
            self._raw.autocommit = True
        try:
            yield self._raw
        except BaseException as exc:
            if is_down(exc) and self._transaction is None:
                self.close()
            raise

    def execute(self, sql: str, params: Sequence[Any] = ()) -> PgCursor:
        return PgCursor(self).execute(sql, params)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if not rows:
            return
        with self.raw() as raw, raw.cursor() as cursor:
            cursor.executemany(qmark_to_pyformat(sql), [tuple(row) for row in rows])

    def cursor(self) -> PgCursor:
        return PgCursor(self)

    def __enter__(self) -> PgConnection:
        with self.raw() as raw:
            self._transaction = raw.transaction()
            self._transaction.__enter__()
        return self

    def __exit__(self, kind: Any, error: Any, traceback: Any) -> None:
        transaction, self._transaction = self._transaction, None
        try:
            transaction.__exit__(kind, error, traceback)
        except BaseException as exc:
            if is_down(exc):
                self.close()
            raise
        if error is not None and is_down(error):
            self.close()

    def close(self) -> None:
        """Give the connection back to the pool (which drops it if it is broken)."""
        raw, self._raw = self._raw, None
        self._transaction = None
        if raw is not None:
            with contextlib.suppress(Exception):
                self._pool.putconn(raw)


class PgDatabase:
    """The pool, the schema, the shared salt and update claims for one DATABASE_URL."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.label = f"DATABASE_URL={redact_url(url)}"
        self._lock = threading.Lock()
        self._migrated = False
        self._salt: bytes | None = None
        self.pool = ConnectionPool(
            url,
            min_size=1,
            max_size=POOL_MAX,
            open=False,
            timeout=5.0,
            check=ConnectionPool.check_connection,
            kwargs={"connect_timeout": CONNECT_TIMEOUT, "application_name": "faqbot"},
            name="faqbot",
        )
        self.pool.open(wait=False)

    def connection(self, *, timeout: float = 5.0) -> PgConnection:
        """A sqlite3-like connection on the pool; close() gives it back."""
        return PgConnection(self.pool, timeout=timeout)

    def prepare(self, *, salt_candidate: bytes | None = None) -> bytes:
        """Migrate (once per process) and return the shared salt; raises if down."""
        with self._lock:
            if self._migrated and self._salt is not None:
                return self._salt
            # A connection of its own, not the pool's: a wrong password or an unknown
            # host is reported as libpq says it, not as a pool timeout.
            with psycopg.connect(self.url, autocommit=True, connect_timeout=CONNECT_TIMEOUT) as raw:
                if not self._migrated:
                    migrate(raw)
                    self._migrated = True
                self._salt = _shared_salt(raw, salt_candidate or os.urandom(32))
            return self._salt

    def claim(self, update_id: int, *, timeout: float) -> bool:
        """True if this replica is the first to handle ``update_id``; raises if down."""
        with self.pool.connection(timeout=timeout) as raw:
            cursor = raw.execute(
                "INSERT INTO handled_updates (update_id) VALUES (%s) ON CONFLICT DO NOTHING",
                (update_id,),
            )
            return cursor.rowcount == 1

    def forget_claims(self, connection: PgConnection) -> None:
        connection.execute(
            f"DELETE FROM handled_updates WHERE claimed_at < now() - interval '{CLAIMS_KEPT}'"
        )

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.pool.close(timeout=2.0)


def migrate(raw: psycopg.Connection[Any]) -> int:
    """Bring the schema to PG_SCHEMA_VERSION under the advisory lock; the version before."""
    raw.autocommit = True
    raw.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK,))
    try:
        raw.execute("CREATE TABLE IF NOT EXISTS faqbot_schema (version INTEGER NOT NULL)")
        row = raw.execute("SELECT max(version) FROM faqbot_schema").fetchone()
        found = int(row[0]) if row and row[0] is not None else 0
        if found > PG_SCHEMA_VERSION:
            raise psycopg.DataError(
                f"the database has schema version {found}, newer than this faqbot"
                f" ({PG_SCHEMA_VERSION}); upgrade faqbot instead of downgrading"
            )
        for version in range(found, PG_SCHEMA_VERSION):
            with raw.transaction():  # one transaction per step
                for statement in _statements(PG_MIGRATIONS[version]):
                    raw.execute(statement.encode())
                raw.execute("DELETE FROM faqbot_schema")
                raw.execute("INSERT INTO faqbot_schema (version) VALUES (%s)", (version + 1,))
            logger.info("PostgreSQL store migrated to schema version %d", version + 1)
    finally:
        with contextlib.suppress(psycopg.Error):
            raw.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK,))
    return found


def _shared_salt(raw: psycopg.Connection[Any], candidate: bytes) -> bytes:
    """The first replica's salt wins; the others read it."""
    raw.execute(
        "INSERT INTO faqbot_secrets (name, value) VALUES ('salt', %s)"
        " ON CONFLICT (name) DO NOTHING",
        (candidate,),
    )
    row = raw.execute("SELECT value FROM faqbot_secrets WHERE name = 'salt'").fetchone()
    assert row is not None
    return bytes(row[0])


def _statements(script: str) -> list[str]:
    return [part.strip() for part in script.split(";") if part.strip()]


@functools.cache
def database_for(url: str) -> PgDatabase:
    """One pool per process and URL, shared by the writer, the handoff desk and claims."""
    return PgDatabase(url)


@contextlib.contextmanager
def pg_reader(url: str) -> Iterator[PgConnection]:
    """A connection for reports (`faqbot stats`, `suggest`, `report`, /stats)."""
    pool = ConnectionPool(
        url,
        min_size=1,
        max_size=1,
        open=False,
        kwargs={"connect_timeout": CONNECT_TIMEOUT, "application_name": "faqbot-report"},
        name="faqbot-report",
    )
    try:
        pool.open(wait=True, timeout=CONNECT_TIMEOUT + 2)
    except Exception as exc:
        with contextlib.suppress(Exception):
            pool.close(timeout=1.0)
        raise psycopg.OperationalError(f"cannot connect: {exc}") from None
    connection = PgConnection(pool)
    try:
        row = connection.execute("SELECT to_regclass('faqbot_schema') IS NOT NULL").fetchone()
        if not row or not row[0]:
            raise FileNotFoundError(
                f"no analytics store in DATABASE_URL={redact_url(url)} (has the bot run yet?)"
            )
        yield connection
    finally:
        connection.close()
        pool.close(timeout=1.0)
