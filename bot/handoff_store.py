"""Handoffs in the analytics database: what was asked, who asked, what the team said.

A handoff is ``open`` until the team's answer was delivered (``answered``) or
HANDOFF_RETENTION_DAYS passed (``expired``). Privacy: the customer's chat id, needed to
deliver the answer, is kept only while the handoff is open; answering or expiry deletes
it together with the first name. What stays for ``faqbot suggest`` is the question,
the team's answer and a salted hash of the chat (to recognise a reply to the team's
answer); those texts are deleted after RETENTION_DAYS like question texts.

Unlike the analytics events, handoffs are read right after they are written (a staff
reply arrives seconds after the post), so this is a small synchronous repository with
its own connection, called from a worker thread; SQLite's WAL lets it share the file
with the analytics writer. With DATABASE_URL the same SQL runs on PostgreSQL
(bot/store_pg.py), on a connection of the shared pool that reconnects by itself.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from bot.store_events import now_iso
from bot.store_sqlite import DATABASE_FILE, SqlConnection, connect, load_salt, migrate

if TYPE_CHECKING:
    from bot.store_pg import PgDatabase

Side = Literal["staff", "customer"]
REFERENCE_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud on the phone
REFERENCE_LENGTH = 5


@dataclass(frozen=True)
class Handoff:
    """A question handed to the team, as stored."""

    id: int
    reference: str
    status: str
    created_at: str
    opened_at: str
    question: str
    first_name: str
    guesses: tuple[str, ...]
    customer_chat_id: int | None
    answer: str | None


def new_reference() -> str:
    """A short reference such as "#K7Q2M" that staff and customer can quote."""
    return "#" + "".join(secrets.choice(REFERENCE_LETTERS) for _ in range(REFERENCE_LENGTH))


def _cutoff(days: int, now: datetime | None = None) -> str:
    moment = (now or datetime.now(UTC)) - timedelta(days=days)
    return moment.isoformat(timespec="seconds")


class HandoffRepository:
    """Create, find, answer and expire handoffs (thread-safe; blocking calls)."""

    def __init__(
        self,
        data_dir: Path,
        *,
        open_days: int = 14,
        text_days: int = 90,
        database: PgDatabase | None = None,
    ) -> None:
        self.data_dir = data_dir
        self.open_days = open_days
        self.text_days = text_days
        self.database = database
        self._lock = threading.Lock()
        self._connection: SqlConnection | None = None
        self._salt = b""

    def _db(self) -> SqlConnection:
        if self._connection is None and self.database is not None:
            self._salt = self.database.prepare()  # the salt every replica shares
            self._connection = self.database.connection()
        if self._connection is None:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            self._salt = load_salt(self.data_dir)
            connection = connect(self.data_dir / DATABASE_FILE)
            migrate(connection)
            self._connection = connection
        return self._connection

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[SqlConnection]:
        """The connection, under the lock, in one transaction (committed on leaving)."""
        with self._lock:
            db = self._db()
            with db:
                yield db

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

    def chat_hash(self, chat_id: int) -> str:
        self._db()
        return hmac.new(self._salt, str(chat_id).encode(), hashlib.sha256).hexdigest()[:24]

    # Writing ---------------------------------------------------------------------

    def create(
        self,
        *,
        reference: str,
        question: str,
        first_name: str,
        guesses: tuple[str, ...],
        chat_id: int,
        staff_message_id: int,
    ) -> Handoff:
        """Store a handoff just posted to the staff group."""
        with self._lock:
            db = self._db()
            now = now_iso()
            with db:
                cursor = db.execute(
                    "INSERT INTO handoffs (reference, created_at, opened_at, status, question,"
                    " first_name, guesses, customer_chat_id, customer_hash)"
                    " VALUES (?, ?, ?, 'open', ?, ?, ?, ?, ?) RETURNING id",
                    (
                        reference,
                        now,
                        now,
                        question[:1000],
                        first_name[:64],
                        json.dumps(list(guesses)),
                        chat_id,
                        self.chat_hash(chat_id),
                    ),
                )
                handoff_id = int(cursor.fetchone()[0])
                self._link(db, handoff_id, "staff", staff_message_id)
            found = self._get(db, handoff_id)
        assert found is not None
        return found

    def link(self, handoff_id: int, side: Side, message_id: int) -> None:
        """Remember that a message in the staff group or the customer's chat belongs here."""
        with self._transaction() as db:
            self._link(db, handoff_id, side, message_id)

    def answered(self, handoff_id: int, answer: str, customer_message_id: int) -> None:
        """The answer reached the customer: forget the chat id and the first name."""
        with self._transaction() as db:
            db.execute(
                "UPDATE handoffs SET status = 'answered', answer = ?, answered_at = ?,"
                " customer_chat_id = NULL, first_name = NULL WHERE id = ?",
                (answer[:4000], now_iso(), handoff_id),
            )
            self._link(db, handoff_id, "customer", customer_message_id)

    def reopen(self, handoff_id: int, chat_id: int, first_name: str) -> None:
        """The customer replied to the team's answer: open again for the next answer."""
        with self._transaction() as db:
            db.execute(
                "UPDATE handoffs SET status = 'open', opened_at = ?, customer_chat_id = ?,"
                " first_name = ? WHERE id = ?",
                (now_iso(), chat_id, first_name[:64], handoff_id),
            )

    def expire(self, now: datetime | None = None) -> int:
        """Apply the retention rules; returns how many open handoffs expired."""
        with self._transaction() as db:
            cursor = db.execute(
                "UPDATE handoffs SET status = 'expired', customer_chat_id = NULL,"
                " first_name = NULL WHERE status = 'open' AND opened_at < ?",
                (_cutoff(self.open_days, now),),
            )
            db.execute(
                "UPDATE handoffs SET question = NULL, answer = NULL"
                " WHERE created_at < ? AND (question IS NOT NULL OR answer IS NOT NULL)",
                (_cutoff(self.text_days, now),),
            )
            expired = int(cursor.rowcount)
        return expired

    # Reading ---------------------------------------------------------------------

    def by_message(
        self, side: Side, message_id: int, *, chat_id: int | None = None
    ) -> Handoff | None:
        """The handoff a message belongs to; a customer's also by chat (ids are per chat)."""
        with self._lock:
            db = self._db()
            query = (
                "SELECT h.id FROM handoff_messages AS m JOIN handoffs AS h ON h.id = m.handoff_id"
                " WHERE m.side = ? AND m.message_id = ?"
            )
            params: list[object] = [side, message_id]
            if chat_id is not None:
                query += " AND h.customer_hash = ?"
                params.append(self.chat_hash(chat_id))
            row = db.execute(query + " ORDER BY h.id DESC LIMIT 1", params).fetchone()
            return self._get(db, int(row[0])) if row else None

    def first_staff_message(self, handoff_id: int) -> int | None:
        with self._lock:
            row = (
                self._db()
                .execute(
                    "SELECT MIN(message_id) FROM handoff_messages WHERE handoff_id = ?"
                    " AND side = 'staff'",
                    (handoff_id,),
                )
                .fetchone()
            )
            return int(row[0]) if row and row[0] is not None else None

    def open_handoffs(self) -> list[Handoff]:
        """Open handoffs, oldest first."""
        with self._lock:
            db = self._db()
            ids = db.execute(
                "SELECT id FROM handoffs WHERE status = 'open' ORDER BY opened_at, id"
            ).fetchall()
            return [h for (number,) in ids if (h := self._get(db, int(number))) is not None]

    def _get(self, db: SqlConnection, handoff_id: int) -> Handoff | None:
        row = db.execute("SELECT * FROM handoffs WHERE id = ?", (handoff_id,)).fetchone()
        if row is None:
            return None
        return Handoff(
            id=int(row["id"]),
            reference=str(row["reference"]),
            status=str(row["status"]),
            created_at=str(row["created_at"]),
            opened_at=str(row["opened_at"]),
            question=str(row["question"] or ""),
            first_name=str(row["first_name"] or ""),
            guesses=tuple(json.loads(row["guesses"] or "[]")),
            customer_chat_id=row["customer_chat_id"],
            answer=row["answer"],
        )

    @staticmethod
    def _link(db: SqlConnection, handoff_id: int, side: Side, message_id: int) -> None:
        db.execute(
            "INSERT INTO handoff_messages (handoff_id, side, message_id) VALUES (?, ?, ?)",
            (handoff_id, side, message_id),
        )


# For reports and `faqbot suggest` (read-only connections) ----------------------------


def has_handoffs(connection: SqlConnection) -> bool:
    """False for a store written by a faqbot from before handoffs."""
    if getattr(connection, "dialect", "sqlite") == "postgresql":
        return True  # all migrations run at once there: no store from before handoffs
    row = connection.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'handoffs'"
    ).fetchone()
    return row is not None


@dataclass(frozen=True)
class HandoffCounts:
    """Handoffs created in a period, by what became of them."""

    open: int = 0
    answered: int = 0
    expired: int = 0


def handoff_counts(connection: SqlConnection, since: str | None) -> HandoffCounts:
    if not has_handoffs(connection):
        return HandoffCounts()
    counts = dict(
        connection.execute(
            "SELECT status, COUNT(*) FROM handoffs WHERE created_at >= ? GROUP BY status",
            (since or "",),
        ).fetchall()
    )
    return HandoffCounts(
        int(counts.get("open", 0)), int(counts.get("answered", 0)), int(counts.get("expired", 0))
    )


@dataclass(frozen=True)
class TeamAnswer:
    """A question the team answered, for a draft entry."""

    reference: str
    question: str
    answer: str
    answered_at: str


def team_answers(connection: SqlConnection, since: str | None) -> list[TeamAnswer]:
    """Answered handoffs whose texts are still kept, newest first."""
    if not has_handoffs(connection):
        return []
    rows = connection.execute(
        "SELECT reference, question, answer, answered_at FROM handoffs"
        " WHERE answer IS NOT NULL AND question IS NOT NULL AND answered_at >= ?"
        " ORDER BY answered_at DESC, id DESC",
        (since or "",),
    ).fetchall()
    return [TeamAnswer(str(r[0]), str(r[1]), str(r[2]), str(r[3])) for r in rows]
