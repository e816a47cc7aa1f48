"""What the store's writer meets: text SQLite cannot take, and faults of the database.

A fault of one event (a lone surrogate, an integer beyond 64 bits, a value of the
wrong type) must cost that event only; a fault of the database as a whole (locked,
read-only, full, deleted, corrupt) is retried. This module tells them apart and
repairs what can be repaired before a retry.
"""

from __future__ import annotations

import contextlib
import os
import re
import sqlite3
import stat
from pathlib import Path

UNSTORABLE = re.compile("[\ud800-\udfff\x00]")


def storable(text: str) -> str:
    """``text`` as SQLite can store it: lone surrogates and NULs become U+FFFD.

    Telegram's JSON may carry a lone surrogate ("\\ud800"); Python decodes it, but it has
    no UTF-8 form and would fail the whole batch with UnicodeEncodeError.
    """
    return UNSTORABLE.sub("\ufffd", text)


SQLITE_INTEGER = range(-(2**63), 2**63)
STORE_ERRORS = (sqlite3.OperationalError, OSError)
"""Errors of the database as a whole (locked, read-only, full, missing, I/O): retried.
Anything else is a problem of one event (a value SQLite cannot take): that event is
dropped and counted, the others are written."""


def is_store_error(exc: BaseException) -> bool:
    # A corrupt file raises the base class itself ("file is not a database").
    return isinstance(exc, STORE_ERRORS) or type(exc) is sqlite3.DatabaseError


def is_locked(exc: BaseException) -> bool:
    code = getattr(exc, "sqlite_errorcode", 0) & 0xFF
    return code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


def side_files(path: Path) -> tuple[Path, Path]:
    """SQLite's write-ahead log and shared-memory index beside the database."""
    return path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")


def make_writable(path: Path) -> None:
    """-wal and -shm belong to the bot: after a read-only spell SQLite leaves them 0444
    and would never write again. Make them 0600, whatever they were."""
    with contextlib.suppress(FileNotFoundError):
        if stat.S_IMODE(path.stat().st_mode) != 0o600:
            os.chmod(path, 0o600)
