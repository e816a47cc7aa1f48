"""The analytics store on real SQLite files: schema, privacy, retention, failures."""

from __future__ import annotations

import shutil
import sqlite3
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.store import (
    DATABASE_FILE,
    MIGRATIONS,
    SALT_FILE,
    SCHEMA_VERSION,
    ChoiceEvent,
    FeedbackEvent,
    QuestionEvent,
    Store,
    connect,
    forget_texts,
    migrate,
    reader,
)


def question(text: str = "was kostet eine website", **changes: object) -> QuestionEvent:
    values: dict[str, object] = {
        "chat_type": "private",
        "user_id": 4711,
        "chat_id": 4711,
        "text": text,
        "decision": "none",
        "top_entry": None,
        "top_score": 0.2,
    }
    values.update(changes)
    return QuestionEvent(**values)  # type: ignore[arg-type]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    running = Store(tmp_path)
    running.start()
    yield running
    running.close()


def rows(data_dir: Path, sql: str) -> list[sqlite3.Row]:
    with reader(data_dir) as connection:
        return list(connection.execute(sql))


def test_store_creates_a_wal_database_with_the_current_schema(store: Store, tmp_path: Path) -> None:
    store.record(question())
    assert store.flush()
    with reader(tmp_path) as connection:
        assert connection.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert (tmp_path / DATABASE_FILE).is_file()


def test_store_keeps_no_raw_ids_and_a_private_salt(store: Store, tmp_path: Path) -> None:
    store.record(question(user_id=123456789, chat_id=123456789))
    assert store.flush()
    [row] = rows(tmp_path, "SELECT * FROM questions")
    assert "123456789" not in " ".join(str(value) for value in tuple(row))
    assert row["user_hash"] == store.user_hash(123456789)
    assert (tmp_path / SALT_FILE).stat().st_mode & 0o777 == 0o600


def test_store_user_hash_is_stable_across_restarts_and_salted(tmp_path: Path) -> None:
    first = Store(tmp_path)
    first.start()
    first.close()
    second = Store(tmp_path)
    second.start()
    second.close()
    other = Store(tmp_path / "elsewhere")
    (tmp_path / "elsewhere").mkdir()
    other.start()
    other.close()
    assert first.user_hash(1) == second.user_hash(1)
    assert first.user_hash(1) != other.user_hash(1)


def test_store_links_choices_and_feedback_to_the_question(store: Store, tmp_path: Path) -> None:
    store.record(question("wordpress", decision="suggest", reply_message_id=77))
    store.record(ChoiceEvent(user_id=4711, chat_id=4711, message_id=77, entry_id="wordpress-theme"))
    store.record(
        FeedbackEvent(
            user_id=4711, chat_id=4711, message_id=77, entry_id="wordpress-theme", helpful=False
        )
    )
    store.record(ChoiceEvent(user_id=4711, chat_id=4711, message_id=999, entry_id=None))
    assert store.flush()
    [asked] = rows(tmp_path, "SELECT id FROM questions")
    choices = rows(tmp_path, "SELECT entry_id, question_id FROM choices ORDER BY id")
    assert [tuple(c) for c in choices] == [("wordpress-theme", asked["id"]), (None, None)]
    [feedback] = rows(tmp_path, "SELECT helpful, question_id FROM feedback")
    assert tuple(feedback) == (0, asked["id"])


def test_store_without_texts_keeps_counts_only(tmp_path: Path) -> None:
    private = Store(tmp_path, keep_texts=False)
    private.start()
    private.record(question("meine telefonnummer ist 0171 1234567"))
    assert private.flush()
    private.close()
    [row] = rows(tmp_path, "SELECT text, decision FROM questions")
    assert tuple(row) == (None, "none")


def test_forget_texts_after_retention_keeps_the_counts(tmp_path: Path) -> None:
    old = (datetime.now(UTC) - timedelta(days=100)).isoformat(timespec="seconds")
    store = Store(tmp_path, retention_days=3650)
    store.start()
    store.record(question("alte frage", asked_at=old))
    store.record(question("neue frage"))
    assert store.flush()
    store.close()
    connection = connect(tmp_path / DATABASE_FILE)
    try:
        assert forget_texts(connection, 90) == 1
    finally:
        connection.close()
    texts = [row["text"] for row in rows(tmp_path, "SELECT text FROM questions ORDER BY id")]
    assert texts == [None, "neue frage"]


def test_store_runs_retention_on_its_own(tmp_path: Path) -> None:
    old = (datetime.now(UTC) - timedelta(days=10)).isoformat(timespec="seconds")
    short = Store(tmp_path, retention_days=7)
    short.start()
    short.record(question("vor zehn tagen", asked_at=old))
    assert short.flush()
    short.close()
    assert [row["text"] for row in rows(tmp_path, "SELECT text FROM questions")] == [None]


def test_migrate_upgrades_a_version_one_file_without_losing_rows(tmp_path: Path) -> None:
    path = tmp_path / DATABASE_FILE
    old = sqlite3.connect(path)
    old.executescript(MIGRATIONS[0] + "PRAGMA user_version=1;")
    yesterday = (datetime.now(UTC) - timedelta(days=1)).isoformat(timespec="seconds")
    old.execute(
        "INSERT INTO questions (asked_at, chat_type, user_hash, text, decision, top_entry,"
        " top_score) VALUES (?, 'private', 'h', 'alt', 'none', NULL, 0.1)",
        (yesterday,),
    )
    old.commit()
    old.close()
    upgraded = Store(tmp_path)
    upgraded.start()
    upgraded.record(question("neu", reply_message_id=5))
    assert upgraded.flush()
    upgraded.close()
    with reader(tmp_path) as connection:
        assert connection.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        texts = [r["text"] for r in connection.execute("SELECT text FROM questions ORDER BY id")]
        assert texts == ["alt", "neu"]
        columns = {r["name"] for r in connection.execute("PRAGMA table_info(questions)")}
        assert {"chat_hash", "reply_message_id"} <= columns


def test_migrate_refuses_a_newer_schema(tmp_path: Path) -> None:
    connection = sqlite3.connect(tmp_path / "x.sqlite3")
    connection.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    with pytest.raises(sqlite3.DatabaseError, match="newer than this faqbot"):
        migrate(connection)
    connection.close()


def test_store_writer_and_reader_at_the_same_time(store: Store, tmp_path: Path) -> None:
    errors: list[Exception] = []
    counts: list[int] = []
    done = threading.Event()

    def read_repeatedly() -> None:
        while not done.is_set():
            try:
                with reader(tmp_path) as connection:
                    counts.append(
                        connection.execute("SELECT COUNT(*) FROM questions").fetchone()[0]
                    )
            except Exception as exc:
                errors.append(exc)

    store.record(question("erste"))
    assert store.flush()
    thread = threading.Thread(target=read_repeatedly)
    thread.start()
    for number in range(5000):
        store.record(question(f"frage {number}"))
    assert store.flush(timeout=30)
    done.set()
    thread.join()
    assert errors == []
    assert counts == sorted(counts)  # readers never see rows disappear
    assert rows(tmp_path, "SELECT COUNT(*) AS n FROM questions")[0]["n"] == 5001


def test_store_locked_database_is_counted_and_recovers(tmp_path: Path) -> None:
    failures: list[int] = []
    locked_store = Store(tmp_path, on_failure=lambda: failures.append(1))
    locked_store.start()
    blocker = connect(tmp_path / DATABASE_FILE)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        locked_store.record(question("während gesperrt"))
        assert locked_store.flush(timeout=10)
        assert failures
    finally:
        blocker.rollback()
        blocker.close()
    locked_store.record(question("danach"))
    assert locked_store.flush()
    locked_store.close()
    texts = [row["text"] for row in rows(tmp_path, "SELECT text FROM questions")]
    assert texts == ["danach"]


@pytest.mark.parametrize(
    ("pragma", "reason"),
    [("PRAGMA query_only=1", "read-only"), ("PRAGMA max_page_count=1", "full")],
)
def test_store_read_only_or_full_database_is_counted_and_recovers(
    tmp_path: Path, pragma: str, reason: str
) -> None:
    failures: list[int] = []
    failing = Store(tmp_path, on_failure=lambda: failures.append(1))
    failing.start()
    assert failing._connection is not None
    # The writer's own connection starts refusing writes, as with a read-only mount or
    # a full disk; the store must count it, drop the connection and open a new one.
    failing._connection.execute(pragma)
    for number in range(50):  # more pages than a full database can take
        failing.record(question(f"{reason} {number} " * 400))
    assert failing.flush()
    assert failures, reason
    failing.record(question("wieder da"))
    assert failing.flush()
    failing.close()
    assert [row["text"] for row in rows(tmp_path, "SELECT text FROM questions")] == ["wieder da"]


def test_store_survives_its_folder_being_removed_and_recreated(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    failures: list[int] = []
    fragile = Store(data_dir, on_failure=lambda: failures.append(1))
    fragile.start()
    fragile.record(question("vorher"))
    assert fragile.flush()
    shutil.rmtree(data_dir)
    fragile.record(question("ohne ordner"))
    assert fragile.flush()
    assert failures
    data_dir.mkdir()
    fragile.record(question("neuer ordner"))
    assert fragile.flush()
    fragile.close()
    assert [row["text"] for row in rows(data_dir, "SELECT text FROM questions")] == ["neuer ordner"]


def test_store_corrupt_file_is_reported_and_answering_code_is_not_blocked(
    tmp_path: Path,
) -> None:
    (tmp_path / DATABASE_FILE).write_bytes(b"this is not a database" * 100)
    failures: list[int] = []
    corrupt = Store(tmp_path, on_failure=lambda: failures.append(1))
    corrupt.start()  # must not raise: the bot starts and answers anyway
    corrupt.record(question())
    assert corrupt.flush()
    corrupt.close()
    assert failures


def test_reader_without_a_store_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=str(tmp_path)), reader(tmp_path):
        pass
