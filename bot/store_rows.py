"""Events as the rows the store's tables take, and the SQL that inserts them.

One place for what a question, a vote or a choice becomes in the tables, so the
writer thread (bot/store.py, SQLite or PostgreSQL) and the in-memory store
(bot/memory_store.py) keep the same rows by the same privacy rules:

- users and chats are kept as salted hashes (``UserHashes``), never as raw ids;
- the question's text only if STORE_QUESTIONS allows it (``keep_texts``), cut to
  1000 characters and made storable (bot/store_faults.py);
- a click is linked to the question whose reply carried the button, and a person's
  vote on an answer replaces their earlier vote on it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.store_events import Event, FeedbackEvent, QuestionEvent
from bot.store_faults import SQLITE_INTEGER, storable
from bot.store_sqlite import SqlConnection

MAX_TEXT = 1000
"""Characters of a question kept (a pasted e-mail is not a question to learn from)."""
MAX_CACHED_HASHES = 100_000

INSERT_QUESTION = (
    "INSERT INTO questions (asked_at, chat_type, user_hash, text, decision, top_entry,"
    " top_score, suggestions, chat_hash, reply_message_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


@dataclass(frozen=True)
class Row:
    """An event turned into the values its table takes."""

    kind: str
    """"question", "feedback" or "choice"."""
    values: tuple[object, ...]


class UserHashes:
    """The salted, unlinkable stand-ins for Telegram ids (cached: users come back)."""

    def __init__(self, salt: bytes = b"") -> None:
        self._salt = salt
        self._cache: dict[int, str] = {}

    @property
    def salt(self) -> bytes:
        return self._salt

    @salt.setter
    def salt(self, salt: bytes) -> None:
        if salt != self._salt:
            self._salt = salt
            self._cache.clear()

    def __call__(self, user_id: int) -> str:
        cached = self._cache.get(user_id)
        if cached is None:
            if len(self._cache) > MAX_CACHED_HASHES:
                self._cache.clear()
            digest = hmac.new(self._salt, str(user_id).encode(), hashlib.sha256)
            cached = self._cache[user_id] = digest.hexdigest()[:24]
        return cached


def event_row(event: Event, user_hash: UserHashes, *, keep_texts: bool) -> Row:
    """The row for ``event``, its texts made storable.

    Raises (OverflowError, TypeError, …) for an event no database can take: an id
    beyond 64 bits, a value of the wrong type.
    """
    if isinstance(event, QuestionEvent):
        kind = "question"
        values: tuple[object, ...] = (
            event.asked_at,
            event.chat_type,
            user_hash(event.user_id),
            event.text[:MAX_TEXT] if keep_texts else None,
            event.decision,
            event.top_entry,
            round(event.top_score, 4),
            json.dumps(list(event.suggestions)),
            user_hash(event.chat_id),
            event.reply_message_id,
        )
    else:
        helpful = int(event.helpful) if isinstance(event, FeedbackEvent) else None
        kind = "feedback" if isinstance(event, FeedbackEvent) else "choice"
        values = (
            event.at,
            user_hash(event.user_id),
            user_hash(event.chat_id),
            event.message_id,
            event.entry_id,
            helpful,
        )
    for value in values:
        if isinstance(value, int) and value not in SQLITE_INTEGER:
            raise OverflowError("an integer too large for SQLite")
    return Row(kind, tuple(storable(v) if isinstance(v, str) else v for v in values))


def insert_rows(connection: SqlConnection, rows: list[Row]) -> None:
    """Insert ``rows`` (inside the caller's transaction): questions first, in one
    statement, since clicks later in the same batch may point at them."""
    connection.executemany(INSERT_QUESTION, [row.values for row in rows if row.kind == "question"])
    for row in rows:
        if row.kind != "question":
            insert_click(connection, row)


def insert_click(connection: SqlConnection, row: Row) -> None:
    """A vote or a choice, linked to the question whose reply carried the button."""
    at, user_hash, chat_hash, message_id, entry_id, helpful = row.values
    question_id = _question_for(connection, chat_hash, message_id)
    if row.kind == "feedback":
        if question_id is not None:
            # One vote per person and answer: pressing 👍 twenty times, or 👍 then
            # 👎, leaves one row, the last. (An answer not linked to a question, one
            # browsed in /themen, is kept apart in memory by the handler.)
            connection.execute(
                "DELETE FROM feedback WHERE user_hash = ? AND entry_id = ? AND question_id = ?",
                (user_hash, entry_id, question_id),
            )
        connection.execute(
            "INSERT INTO feedback (at, user_hash, entry_id, helpful, question_id)"
            " VALUES (?, ?, ?, ?, ?)",
            (at, user_hash, entry_id, helpful, question_id),
        )
    else:
        connection.execute(
            "INSERT INTO choices (at, user_hash, entry_id, question_id) VALUES (?, ?, ?, ?)",
            (at, user_hash, entry_id, question_id),
        )


def _question_for(connection: SqlConnection, chat_hash: object, message_id: object) -> int | None:
    if message_id is None:
        return None
    row = connection.execute(
        "SELECT id FROM questions WHERE chat_hash = ? AND reply_message_id = ?"
        " ORDER BY id DESC LIMIT 1",
        (chat_hash, message_id),
    ).fetchone()
    return int(row[0]) if row else None


def forget_texts(connection: SqlConnection, retention_days: int) -> int:
    """Delete question texts older than ``retention_days``; counts stay. Returns rows."""
    cutoff = (datetime.now(UTC) - timedelta(days=retention_days)).isoformat(timespec="seconds")
    with connection:
        cursor = connection.execute(
            "UPDATE questions SET text = NULL WHERE text IS NOT NULL AND asked_at < ?", (cutoff,)
        )
    return int(cursor.rowcount)
