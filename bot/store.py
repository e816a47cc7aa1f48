"""The analytics store: what customers asked, in SQLite, private by design.

One file, DATA_DIR/faqbot.sqlite3, in WAL mode so `faqbot stats` can read while the
bot writes. The schema is versioned (PRAGMA user_version) and migrated forward at
start-up; an older file is upgraded, never dropped.

What is kept per question: time, chat type, a salted hash of the user (the salt is a
random file in DATA_DIR; no names, no raw ids), the text (unless STORE_QUESTIONS is
false; deleted after RETENTION_DAYS), the decision, the best entry and its score, and
the suggestions shown. Per answer: feedback. Per suggestion list: the button chosen.

Writing never holds up an answer: events go into a queue that a background thread
writes in batches. A locked, full, read-only, missing or corrupt database is logged
and counted, and the bot goes on; writing resumes when the database works again.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import logging
import os
import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

logger = logging.getLogger(__name__)

DATABASE_FILE = "faqbot.sqlite3"
SALT_FILE = "salt"
BUSY_TIMEOUT_MS = 2000
BATCH = 1000
BATCH_SECONDS = 0.5
"""How long the writer gathers events before a transaction (data at risk in a crash)."""
RETENTION_CHECK_SECONDS = 3600.0

MIGRATIONS: tuple[str, ...] = (
    # 1: questions, feedback and choices.
    """
    CREATE TABLE questions (
        id INTEGER PRIMARY KEY,
        asked_at TEXT NOT NULL,
        chat_type TEXT NOT NULL,
        user_hash TEXT NOT NULL,
        text TEXT,
        decision TEXT NOT NULL,
        top_entry TEXT,
        top_score REAL NOT NULL,
        suggestions TEXT NOT NULL DEFAULT '[]'
    );
    CREATE INDEX questions_asked_at ON questions (asked_at);
    CREATE TABLE feedback (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        user_hash TEXT NOT NULL,
        entry_id TEXT NOT NULL,
        helpful INTEGER NOT NULL
    );
    CREATE TABLE choices (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        user_hash TEXT NOT NULL,
        entry_id TEXT
    );
    """,
    # 2: link a button press to the question whose reply carried the button, so staff
    # learn which entry a customer meant by an ambiguous question.
    """
    ALTER TABLE questions ADD COLUMN chat_hash TEXT;
    ALTER TABLE questions ADD COLUMN reply_message_id INTEGER;
    ALTER TABLE choices ADD COLUMN question_id INTEGER REFERENCES questions (id);
    ALTER TABLE feedback ADD COLUMN question_id INTEGER REFERENCES questions (id);
    CREATE INDEX questions_reply ON questions (chat_hash, reply_message_id);
    """,
    # 3: questions handed to the team (bot/handoff_store.py). The chat id is kept only
    # while a handoff is open; the messages link a reply in either chat to its handoff.
    """
    CREATE TABLE handoffs (
        id INTEGER PRIMARY KEY,
        reference TEXT NOT NULL UNIQUE,
        created_at TEXT NOT NULL,
        opened_at TEXT NOT NULL,
        status TEXT NOT NULL,
        question TEXT,
        first_name TEXT,
        guesses TEXT NOT NULL DEFAULT '[]',
        customer_chat_id INTEGER,
        customer_hash TEXT NOT NULL,
        answer TEXT,
        answered_at TEXT
    );
    CREATE INDEX handoffs_status ON handoffs (status, opened_at);
    CREATE TABLE handoff_messages (
        handoff_id INTEGER NOT NULL REFERENCES handoffs (id),
        side TEXT NOT NULL,
        message_id INTEGER NOT NULL
    );
    CREATE INDEX handoff_messages_lookup ON handoff_messages (side, message_id);
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)

INSERT_QUESTION = (
    "INSERT INTO questions (asked_at, chat_type, user_hash, text, decision, top_entry,"
    " top_score, suggestions, chat_hash, reply_message_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class QuestionEvent:
    """A question and what the bot did with it."""

    chat_type: str
    user_id: int
    chat_id: int
    text: str
    decision: str
    top_entry: str | None
    top_score: float
    suggestions: tuple[str, ...] = ()
    reply_message_id: int | None = None
    asked_at: str = field(default_factory=now_iso)


@dataclass(frozen=True)
class FeedbackEvent:
    """👍 or 👎 on an answer."""

    user_id: int
    chat_id: int
    message_id: int | None
    entry_id: str
    helpful: bool
    at: str = field(default_factory=now_iso)


@dataclass(frozen=True)
class ChoiceEvent:
    """A suggestion button pressed; ``entry_id`` None for "Keine davon"."""

    user_id: int
    chat_id: int
    message_id: int | None
    entry_id: str | None
    at: str = field(default_factory=now_iso)


Event = QuestionEvent | FeedbackEvent | ChoiceEvent


def connect(path: Path, *, read_only: bool = False) -> sqlite3.Connection:
    """A connection with the settings every user of the file needs."""
    if read_only:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    else:
        # Opened at start-up, then used only by the writer thread.
        connection = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
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
            return salt
    data_dir.mkdir(parents=True, exist_ok=True)
    salt = os.urandom(32)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(salt)
    return salt


class Store:
    """Queues events and writes them from one background thread."""

    def __init__(
        self,
        data_dir: Path,
        *,
        keep_texts: bool = True,
        retention_days: int = 90,
        on_failure: Callable[[], None] = lambda: None,
        batch_seconds: float = BATCH_SECONDS,
    ) -> None:
        self.data_dir = data_dir
        self.batch_seconds = batch_seconds
        self.path = data_dir / DATABASE_FILE
        self.keep_texts = keep_texts
        self.retention_days = retention_days
        self._on_failure = on_failure
        self._queue: queue.Queue[Event | None] = queue.Queue()
        self._salt = b""
        self._hashes: dict[int, str] = {}
        self._stopping = threading.Event()
        self._connection: sqlite3.Connection | None = None
        self._last_retention = float("-inf")
        self._failing = False
        self._thread = threading.Thread(target=self._run, name="faqbot-store", daemon=True)
        self.written = 0
        self.lost = 0

    # Life cycle ------------------------------------------------------------------

    def start(self) -> None:
        """Open (and migrate) the database now, so start-up problems show at start."""
        try:
            self._salt = load_salt(self.data_dir)
        except OSError as exc:
            logger.error("Cannot read or create the salt in %s: %s", self.data_dir, exc)
            self._salt = os.urandom(32)  # hashes still unlinkable, just not stable
        self._open()
        self._thread.start()

    def close(self, timeout: float = 5.0) -> None:
        """Write what is queued, then stop the thread."""
        self._stopping.set()
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join(timeout)
        if self._connection is not None:
            with contextlib.suppress(sqlite3.Error):
                self._connection.close()
            self._connection = None

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until every queued event was handled (tests, benchmarks)."""
        deadline = time.monotonic() + timeout
        while self._queue.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.005)
        return not self._queue.unfinished_tasks

    # Recording (any thread, never blocks) ----------------------------------------

    def record(self, event: Event) -> None:
        self._queue.put_nowait(event)

    def user_hash(self, user_id: int) -> str:
        """The salted, unlinkable stand-in for a Telegram id (cached: users come back)."""
        cached = self._hashes.get(user_id)
        if cached is None:
            if len(self._hashes) > 100_000:
                self._hashes.clear()
            digest = hmac.new(self._salt, str(user_id).encode(), hashlib.sha256)
            cached = self._hashes[user_id] = digest.hexdigest()[:24]
        return cached

    # The writer thread -------------------------------------------------------------

    def _run(self) -> None:
        while True:
            event = self._queue.get()
            batch: list[Event] = []
            stop = event is None
            if event is not None:
                batch.append(event)
            # Let a burst gather without waking up for each event (every wake-up takes
            # the GIL from the bot's event loop), then write it in one transaction.
            if not stop:
                self._stopping.wait(self.batch_seconds)
            while not stop and len(batch) < BATCH:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stop = True
                else:
                    batch.append(more)
            try:
                if batch:
                    self._write(batch)
            finally:
                for _ in range(len(batch) + (1 if stop else 0)):
                    self._queue.task_done()
            if stop:
                return

    def _write(self, batch: list[Event]) -> None:
        if self._connection is not None and not self.path.exists():
            # Deleted under us (or its folder was): SQLite would go on writing into the
            # unlinked file and lose everything silently. Start afresh instead.
            logger.warning("Analytics store %s disappeared; opening it anew", self.path)
            with contextlib.suppress(sqlite3.Error):
                self._connection.close()
            self._connection = None
        try:
            connection = self._connection or self._open()
            if connection is None:
                raise sqlite3.OperationalError("the database is not available")
            questions = [e for e in batch if isinstance(e, QuestionEvent)]
            with connection:
                # Questions first, in one statement: clicks later in the batch may
                # point at them.
                connection.executemany(INSERT_QUESTION, map(self._question_row, questions))
                for event in batch:
                    if not isinstance(event, QuestionEvent):
                        self._insert(connection, event)
            self.written += len(batch)
            if self._failing:
                logger.warning("Analytics store works again (%s)", self.path)
                self._failing = False
            self._retention(connection)
        except (sqlite3.Error, OSError) as exc:
            self.lost += len(batch)
            self._fail(f"{len(batch)} event(s) not recorded: {exc}")
            if self._connection is not None:
                with contextlib.suppress(sqlite3.Error):
                    self._connection.close()
                self._connection = None

    def _open(self) -> sqlite3.Connection | None:
        try:
            if not self.data_dir.is_dir():
                raise OSError(f"data folder {self.data_dir} does not exist")
            connection = connect(self.path)
            migrate(connection)
        except (sqlite3.Error, OSError) as exc:
            self._fail(f"cannot open {self.path}: {exc}")
            return None
        self._connection = connection
        return connection

    def _fail(self, message: str) -> None:
        self._on_failure()
        if not self._failing:  # log the first of a run of failures, not every batch
            logger.error("Analytics store failure (answering goes on): %s", message)
        self._failing = True

    def _question_row(self, event: QuestionEvent) -> tuple[object, ...]:
        return (
            event.asked_at,
            event.chat_type,
            self.user_hash(event.user_id),
            event.text[:1000] if self.keep_texts else None,
            event.decision,
            event.top_entry,
            round(event.top_score, 4),
            json.dumps(list(event.suggestions)),
            self.user_hash(event.chat_id),
            event.reply_message_id,
        )

    def _insert(self, connection: sqlite3.Connection, event: FeedbackEvent | ChoiceEvent) -> None:
        question_id = self._question_for(connection, event.chat_id, event.message_id)
        if isinstance(event, FeedbackEvent):
            connection.execute(
                "INSERT INTO feedback (at, user_hash, entry_id, helpful, question_id)"
                " VALUES (?, ?, ?, ?, ?)",
                (
                    event.at,
                    self.user_hash(event.user_id),
                    event.entry_id,
                    int(event.helpful),
                    question_id,
                ),
            )
        else:
            connection.execute(
                "INSERT INTO choices (at, user_hash, entry_id, question_id) VALUES (?, ?, ?, ?)",
                (event.at, self.user_hash(event.user_id), event.entry_id, question_id),
            )

    def _question_for(
        self, connection: sqlite3.Connection, chat_id: int, message_id: int | None
    ) -> int | None:
        if message_id is None:
            return None
        row = connection.execute(
            "SELECT id FROM questions WHERE chat_hash = ? AND reply_message_id = ?"
            " ORDER BY id DESC LIMIT 1",
            (self.user_hash(chat_id), message_id),
        ).fetchone()
        return int(row[0]) if row else None

    def _retention(self, connection: sqlite3.Connection) -> None:
        if time.monotonic() - self._last_retention < RETENTION_CHECK_SECONDS:
            return
        self._last_retention = time.monotonic()
        forget_texts(connection, self.retention_days)


def forget_texts(connection: sqlite3.Connection, retention_days: int) -> int:
    """Delete question texts older than ``retention_days``; counts stay. Returns rows."""
    cutoff = (datetime.now(UTC) - timedelta(days=retention_days)).isoformat(timespec="seconds")
    with connection:
        cursor = connection.execute(
            "UPDATE questions SET text = NULL WHERE text IS NOT NULL AND asked_at < ?", (cutoff,)
        )
    return cursor.rowcount


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
