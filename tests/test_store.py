"""The analytics store on real SQLite files: schema, privacy, retention, failures."""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import stat
import subprocess
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
from tests.conftest import wait_until


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


def test_store_keeps_one_vote_per_person_and_answer_the_last(store: Store, tmp_path: Path) -> None:
    store.record(question("dnssec", decision="answer", top_entry="dnssec", reply_message_id=7))
    for helpful in (True, True, True, False):
        store.record(
            FeedbackEvent(
                user_id=4711, chat_id=4711, message_id=7, entry_id="dnssec", helpful=helpful
            )
        )
    store.record(
        FeedbackEvent(user_id=4712, chat_id=4711, message_id=7, entry_id="dnssec", helpful=True)
    )
    assert store.flush()
    votes = rows(tmp_path, "SELECT user_hash, helpful FROM feedback ORDER BY id")
    assert [tuple(vote) for vote in votes] == [
        (store.user_hash(4711), 0),
        (store.user_hash(4712), 1),
    ]


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


def logged(caplog: pytest.LogCaptureFixture, text: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if text in r.getMessage()]


@pytest.fixture
def blocker(store: Store, tmp_path: Path) -> Iterator[sqlite3.Connection]:
    """Another process's connection holding the database locked (a backup, sqlite3 CLI)."""
    connection = connect(tmp_path / DATABASE_FILE)
    connection.execute("BEGIN EXCLUSIVE")
    yield connection
    connection.close()


def test_store_locked_database_is_retried_and_loses_nothing(
    store: Store, blocker: sqlite3.Connection, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    for number in range(12):
        store.record(question(f"während gesperrt {number}"))
    wait_until(lambda: not store.state.ok, "the store to notice the lock")
    assert store.health()["state"] == "failing"
    blocker.rollback()  # the other process lets go
    assert store.flush(timeout=30)
    assert rows(tmp_path, "SELECT COUNT(*) AS n FROM questions")[0]["n"] == 12
    assert store.lost == 0
    assert store.health()["state"] == "ok"
    assert len(logged(caplog, "Analytics store failing")) == 1
    assert len(logged(caplog, "works again")) == 1


def test_store_locked_past_the_retry_time_counts_the_loss_and_recovers(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    losses: list[tuple[str, int]] = []
    impatient = Store(tmp_path, retry_for=0.3, on_lost=lambda *loss: losses.append(loss))
    impatient.start()
    blocker = connect(tmp_path / DATABASE_FILE)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        for number in range(3):
            impatient.record(question(f"verloren {number}"))
        assert impatient.flush(timeout=30)
        failing = impatient.health()
    finally:
        blocker.rollback()
        blocker.close()
    impatient.record(question("danach"))
    assert impatient.flush()
    recovered = impatient.health()
    impatient.close()
    assert failing["state"] == "failing" and failing["since"]
    assert "locked" in str(failing["error"])
    assert losses == [("unavailable", 3)]
    assert recovered["state"] == "ok"
    assert recovered["events_lost"] == 3
    assert [row["text"] for row in rows(tmp_path, "SELECT text FROM questions")] == ["danach"]
    [recovery] = logged(caplog, "works again")
    assert "3 event(s) lost" in recovery
    assert len(logged(caplog, "Analytics store failing")) == 1


def test_store_lone_surrogate_is_stored_with_a_replacement_character(
    store: Store, tmp_path: Path
) -> None:
    store.record(question("vorher"))
    store.record(question("kaputt \ud800 text", top_entry="\udfff"))
    store.record(question("nachher"))
    assert store.flush()
    stored = rows(tmp_path, "SELECT text, top_entry FROM questions ORDER BY id")
    assert [tuple(row) for row in stored] == [
        ("vorher", None),
        ("kaputt \ufffd text", "\ufffd"),
        ("nachher", None),
    ]
    assert store.health()["state"] == "ok"


def test_store_drops_only_the_event_it_cannot_store(store: Store, tmp_path: Path) -> None:
    losses: list[int] = []
    store.state._on_lost = lambda reason, count: losses.append(count)
    store.record(question("erste"))
    store.record(ChoiceEvent(user_id=1, chat_id=1, message_id=2**70, entry_id="dnssec"))
    store.record("kein ereignis")  # type: ignore[arg-type]  # a bug elsewhere
    store.record(question("zweite"))
    assert store.flush()
    assert [row["text"] for row in rows(tmp_path, "SELECT text FROM questions")] == [
        "erste",
        "zweite",
    ]
    assert store.health()["lost_by_reason"] == {"unavailable": 0, "unstorable": 2, "queue_full": 0}
    assert losses == [1, 1]
    store.record(question("dritte"))  # the writer is still alive
    assert store.flush()
    assert store.written == 3


def test_store_queue_is_bounded(tmp_path: Path) -> None:
    bounded = Store(tmp_path, max_queue=5)  # not started: nothing drains the queue
    for number in range(8):
        bounded.record(question(f"frage {number}"))
    assert bounded.health()["lost_by_reason"] == {
        "unavailable": 0,
        "unstorable": 0,
        "queue_full": 3,
    }
    assert bounded.health()["queued"] == 5


@pytest.mark.parametrize(
    ("pragma", "reason"),
    [("PRAGMA query_only=1", "read-only"), ("PRAGMA max_page_count=1", "full")],
)
def test_store_read_only_or_full_connection_is_replaced(
    tmp_path: Path, pragma: str, reason: str
) -> None:
    failures: list[int] = []
    failing = Store(tmp_path, on_failure=lambda: failures.append(1))
    failing.start()
    assert failing._connection is not None
    # The writer's own connection starts refusing writes, as with a read-only mount or
    # a full disk; the store must drop the connection and write through a new one.
    failing._connection.execute(pragma)
    for number in range(50):  # more pages than a full database can take
        failing.record(question(f"{reason} {number} " * 400))
    assert failing.flush()
    assert failures, reason
    failing.close()
    assert len(rows(tmp_path, "SELECT text FROM questions")) == 50
    assert failing.lost == 0


def test_store_side_files_left_read_only_are_made_writable_again(
    store: Store, tmp_path: Path
) -> None:
    store.record(question("vorher"))
    assert store.flush()
    database = tmp_path / DATABASE_FILE
    wal, shm = (Path(f"{database}-wal"), Path(f"{database}-shm"))
    # After a read-only spell (chmod a-w on the folder's files, then only the database
    # made writable again) SQLite would never write through a 0444 -shm.
    wal.chmod(0o444)
    shm.chmod(0o444)
    assert store._connection is not None
    store._connection.execute("PRAGMA query_only=1")  # the spell itself
    store.record(question("nachher"))
    assert store.flush()
    assert [row["text"] for row in rows(tmp_path, "SELECT text FROM questions")] == [
        "vorher",
        "nachher",
    ]
    assert stat.S_IMODE(wal.stat().st_mode) == 0o600
    assert stat.S_IMODE(shm.stat().st_mode) == 0o600


@contextlib.contextmanager
def mounted(target: Path, *options: str) -> Iterator[None]:
    target.mkdir(exist_ok=True)
    if os.geteuid() != 0 or subprocess.run(["mount", *options, target], check=False).returncode:
        # Root in a container without CAP_SYS_ADMIN, or not root: the in-process variants
        # above (a connection that refuses writes) still run.
        pytest.skip("needs root and mount (a real read-only or full filesystem)")
    try:
        yield
    finally:
        subprocess.run(["umount", "-l", target], check=True)


def remount(target: Path, options: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{options}", target], check=True)


def test_store_on_a_filesystem_turned_read_only_keeps_events_and_recovers(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    data_dir = tmp_path / "data"
    with mounted(data_dir, "-t", "tmpfs", "-o", "size=4m", "tmpfs"):
        spell = Store(data_dir)
        spell.start()
        spell.record(question("vorher"))
        assert spell.flush()
        # Linux refuses to remount a filesystem with files open for writing; a real
        # spell comes from the kernel (errors=remount-ro) or from a restart on a
        # read-only volume. So the idle writer lets go of the file first.
        spell._drop_connection()
        remount(data_dir, "ro")
        spell.record(question("während schreibgeschützt"))
        wait_until(lambda: not spell.state.ok, "the store to notice")
        assert spell.health()["state"] == "failing"
        remount(data_dir, "rw")
        assert spell.flush(timeout=30)
        spell.record(question("nachher"))
        assert spell.flush()
        spell.close()
        texts = [row["text"] for row in rows(data_dir, "SELECT text FROM questions ORDER BY id")]
    assert texts == ["vorher", "während schreibgeschützt", "nachher"]
    assert spell.lost == 0
    assert len(logged(caplog, "Analytics store failing")) == 1
    assert len(logged(caplog, "works again")) == 1


def test_store_on_a_full_filesystem_keeps_events_and_recovers(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with mounted(data_dir, "-t", "tmpfs", "-o", "size=1m", "tmpfs"):
        crowded = Store(data_dir)
        crowded.start()
        crowded.record(question("vorher"))
        assert crowded.flush()
        ballast = data_dir / "ballast"
        with contextlib.suppress(OSError), ballast.open("wb") as handle:
            while True:  # fill the disk up to the last block
                handle.write(b"x" * 4096)
                handle.flush()
        for number in range(20):
            crowded.record(question(f"voll {number} " * 100))
        wait_until(lambda: not crowded.state.ok, "the store to notice")
        assert "full" in str(crowded.health()["error"])
        ballast.unlink()  # the admin frees space
        assert crowded.flush(timeout=60)
        crowded.close()
        count = rows(data_dir, "SELECT COUNT(*) AS n FROM questions")[0]["n"]
    assert count == 21
    assert crowded.lost == 0


def test_store_recreates_its_folder_when_it_is_removed(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    data_dir = tmp_path / "data"
    fragile = Store(data_dir)
    fragile.start()
    fragile.record(question("vorher"))
    assert fragile.flush()
    shutil.rmtree(data_dir)  # e.g. an admin wiping the analytics
    fragile.record(question("ohne ordner"))
    assert fragile.flush()
    fragile.close()
    assert [row["text"] for row in rows(data_dir, "SELECT text FROM questions")] == ["ohne ordner"]
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    assert (data_dir / SALT_FILE).is_file()
    assert fragile.lost == 0
    assert len(logged(caplog, "disappeared")) == 1


def test_store_files_are_private(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    previous = os.umask(0o022)
    try:
        private = Store(data_dir)
        private.start()
        private.record(question())
        assert private.flush()
        files = sorted(path.name for path in data_dir.iterdir())
        modes = {path.name: stat.S_IMODE(path.stat().st_mode) for path in data_dir.iterdir()}
        private.close()
    finally:
        os.umask(previous)
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    assert files == [DATABASE_FILE, f"{DATABASE_FILE}-shm", f"{DATABASE_FILE}-wal", SALT_FILE]
    assert set(modes.values()) == {0o600}, modes


def test_store_tightens_a_folder_and_files_found_too_open(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    first = Store(data_dir)
    first.start()
    first.close()
    data_dir.chmod(0o755)
    for path in data_dir.iterdir():
        path.chmod(0o644)
    second = Store(data_dir)
    second.start()
    second.close()
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    assert {stat.S_IMODE(path.stat().st_mode) for path in data_dir.iterdir()} == {0o600}


def test_store_corrupt_file_is_reported_and_answering_code_is_not_blocked(
    tmp_path: Path,
) -> None:
    (tmp_path / DATABASE_FILE).write_bytes(b"this is not a database" * 100)
    failures: list[int] = []
    corrupt = Store(tmp_path, on_failure=lambda: failures.append(1), retry_for=0.2)
    corrupt.start()  # must not raise: the bot starts and answers anyway
    corrupt.record(question())
    assert corrupt.flush()
    health = corrupt.health()
    corrupt.close()
    assert failures
    assert health["state"] == "failing"
    assert "not a database" in str(health["error"])
    assert health["events_lost"] == 1


def test_reader_without_a_store_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=str(tmp_path)), reader(tmp_path):
        pass
