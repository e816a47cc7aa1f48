"""The SQLite side of the store: the file, its schema and migrations, the salt file.

DATA_DIR/faqbot.sqlite3 in WAL mode, so `faqbot stats` can read while the bot writes.
The schema (bot/store_schema.py, shared with PostgreSQL) is versioned (PRAGMA
user_version) and migrated forward at start-up, one transaction per step; an older
file is upgraded, never dropped. The salt for user
hashes is a random file in DATA_DIR, readable only by the bot. PostgreSQL's
counterparts are in bot/store_pg.py; ``SqlConnection`` is what both backends'
connections offer the SQL in bot/store.py, bot/handoff_store.py and the reports.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol, Self

from bot.private_files import private_dir, private_file, write_private
from bot.store_schema import SQLITE_MIGRATIONS

logger = logging.getLogger("bot.store")

DATABASE_FILE = "faqbot.sqlite3"
SALT_FILE = "salt"
BUSY_TIMEOUT_MS = 2000

MIGRATIONS = SQLITE_MIGRATIONS
SCHEMA_VERSION = len(MIGRATIONS)


class SqlConnection(Protocol):
    """What the store's SQL needs of a connection: sqlite3's, or bot/store_pg.py's."""

    def execute(self, sql: str, parameters: Any = (), /) -> Any: ...

    def executemany(self, sql: str, parameters: Any, /) -> Any: ...

    def close(self) -> None: ...

    def __enter__(self) -> Self: ...

    def __exit__(self, kind: Any, error: Any, traceback: Any, /) -> Any: ...


def connect(path: Path, *, read_only: bool = False) -> sqlite3.Connection:
    """A connection with the settings every user of the file needs."""
    if read_only:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    else:
        # Opened at start-up, then used only by the writer thread.
        connection = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False)
        try:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
        except sqlite3.Error:
            connection.close()
            raise
    connection.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    connection.row_factory = sqlite3.Row
    return connection


def migrate(connection: sqlite3.Connection) -> int:
    """Bring the schema to SCHEMA_VERSION; returns the version found before."""
    found = int(connection.execute("PRAGMA user_version").fetchone()[0])
    if found > SCHEMA_VERSION:
        raise sqlite3.DatabaseError(
            f"the database has schema version {found}, newer than this faqbot"
            f" ({SCHEMA_VERSION}); upgrade faqbot instead of downgrading"
        )
    for version in range(found, SCHEMA_VERSION):
        with connection:  # one transaction per step: a failed step leaves the last good one
            connection.executescript(
                "BEGIN;" + MIGRATIONS[version] + f"PRAGMA user_version={version + 1};"
            )
        logger.info("Analytics store migrated to schema version %d", version + 1)
    return found


def load_salt(data_dir: Path) -> bytes:
    """The secret salt for user hashes; created once, readable only by the bot."""
    path = data_dir / SALT_FILE
    with contextlib.suppress(FileNotFoundError):
        salt = path.read_bytes()
        if len(salt) >= 16:
            private_file(path)
            return salt
    salt = os.urandom(32)
    save_salt(data_dir, salt)
    return salt


def save_salt(data_dir: Path, salt: bytes) -> None:
    private_dir(data_dir)
    write_private(data_dir / SALT_FILE, salt)


@contextlib.contextmanager
def reader(data_dir: Path) -> Iterator[sqlite3.Connection]:
    """A read-only connection for reports, safe while the bot writes."""
    path = data_dir / DATABASE_FILE
    if not path.is_file():
        raise FileNotFoundError(f"no analytics store at {path} (has the bot run yet?)")
    connection = connect(path, read_only=True)
    try:
        yield connection
    finally:
        connection.close()
