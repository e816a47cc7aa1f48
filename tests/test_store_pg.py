"""The store on a real PostgreSQL server (FAQBOT_TEST_DATABASE_URL, see tests/postgres.py)."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest

from bot.cli import main
from bot.commands_run import secrets_to_redact
from bot.config import load_store_settings
from bot.errors import ConfigError, ReportUnavailable
from bot.handoff_store import HandoffRepository
from bot.knowledge import load_knowledge_base
from bot.logs import QUIET_LOGGERS, SecretRedactor
from bot.memory_store import MemoryStore
from bot.report_queries import build_report
from bot.store import ChoiceEvent, FeedbackEvent, QuestionEvent
from bot.store_pg import PG_SCHEMA_VERSION, PgDatabase, migrate, redact_url
from bot.stores import PgStore, UpdateClaims, reader_for
from bot.suggestions import suggest_snippets
from tests.postgres import count, pg_ctl, with_password
from tests.report_store import NOW, events, write_kb, write_store


def question(
    user_id: int = 1, text: str = "Wie lange dauert die Lieferung?", **kw: object
) -> QuestionEvent:
    values: dict[str, object] = {
        "chat_type": "private",
        "user_id": user_id,
        "chat_id": user_id,
        "text": text,
        "decision": "answer",
        "top_entry": "lieferzeit",
        "top_score": 0.91,
        "reply_message_id": 10,
    }
    values.update(kw)
    return QuestionEvent(**values)  # type: ignore[arg-type]


@pytest.fixture
def pg_store(pg_url: str, tmp_path: Path) -> Iterator[PgStore]:
    store = PgStore(PgDatabase(pg_url), tmp_path, batch_seconds=0.01)
    store.start()
    yield store
    store.close()
    store.database.close()


def write_pg_store(pg_url: str, data_dir: Path) -> None:
    """Record the report fixture's events through the PostgreSQL store's own writer."""
    store = PgStore(PgDatabase(pg_url), data_dir, batch_seconds=0.01)
    store.start()
    for item in events():
        store.record(item)
    assert store.flush(10)
    store.close()
    store.database.close()


def logged(caplog: pytest.LogCaptureFixture, text: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if text in r.getMessage()]


def test_pg_store_writes_questions_choices_and_feedback_linked(
    pg_store: PgStore, pg_url: str
) -> None:
    pg_store.record(question(reply_message_id=55))
    pg_store.record(ChoiceEvent(user_id=1, chat_id=1, message_id=55, entry_id="lieferzeit"))
    pg_store.record(FeedbackEvent(1, 1, 55, "lieferzeit", True))
    pg_store.record(FeedbackEvent(1, 1, 55, "lieferzeit", False))  # the last vote counts
    assert pg_store.flush(10)
    with psycopg.connect(pg_url) as connection:
        [(user_hash, text, question_id)] = connection.execute(
            "SELECT user_hash, text, id FROM questions"
        ).fetchall()
        choices = connection.execute("SELECT question_id FROM choices").fetchall()
        votes = connection.execute("SELECT helpful, question_id FROM feedback").fetchall()
    assert text == "Wie lange dauert die Lieferung?"
    assert user_hash != "1" and len(user_hash) == 24
    assert choices == [(question_id,)]
    assert votes == [(0, question_id)]
    assert pg_store.health()["state"] == "ok"


def test_pg_store_takes_telegram_ids_and_drops_only_the_bad_event(
    pg_store: PgStore, pg_url: str
) -> None:
    pg_store.record(question(text="Nul\x00 und \ud800", chat_id=-1001234567890))
    pg_store.record(question(reply_message_id=2**63))  # beyond BIGINT: this one is lost
    pg_store.record(question(user_id=2))
    assert pg_store.flush(10)
    assert count(pg_url, "questions") == 2
    assert pg_store.state.lost_by_reason["unstorable"] == 1


def test_pg_migrate_two_replicas_at_once_migrate_once(pg_url: str) -> None:
    errors: list[BaseException] = []
    found: list[int] = []

    def start() -> None:
        try:
            with psycopg.connect(pg_url, autocommit=True) as raw:
                found.append(migrate(raw))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(found) == [0, PG_SCHEMA_VERSION, PG_SCHEMA_VERSION, PG_SCHEMA_VERSION]
    with psycopg.connect(pg_url) as connection:
        assert connection.execute("SELECT version FROM faqbot_schema").fetchall() == [
            (PG_SCHEMA_VERSION,)
        ]


def test_pg_salt_is_shared_by_replicas_and_kept_from_an_sqlite_salt_file(
    pg_url: str, tmp_path: Path
) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "salt").write_bytes(b"s" * 32)  # moved over from SQLite
    first = PgStore(PgDatabase(pg_url), tmp_path / "a")
    second = PgStore(PgDatabase(pg_url), tmp_path / "b")
    for store in (first, second):
        store.start()
    try:
        assert first.user_hash(42) == second.user_hash(42)
        assert first.user_hash(42) != first.user_hash(43)
        assert first.database.prepare() == b"s" * 32
    finally:
        for store in (first, second):
            store.close()
            store.database.close()


def test_pg_update_claimed_by_one_replica_only(pg_store: PgStore, pg_url: str) -> None:
    replicas = [UpdateClaims(PgDatabase(pg_url)) for _ in range(2)]

    def claim(replica: int, update_id: int) -> bool:
        return asyncio.run(replicas[replica].claim(update_id))

    try:
        assert claim(0, 1001) is True
        assert claim(1, 1001) is False
        assert claim(1, 1002) is True
        assert claim(0, 1002) is False
    finally:
        for replica in replicas:
            replica.database.close()


def test_pg_handoffs_are_stored_found_and_answered(pg_url: str, tmp_path: Path) -> None:
    database = PgDatabase(pg_url)
    repository = HandoffRepository(tmp_path, database=database)
    try:
        created = repository.create(
            reference="#ABCDE",
            question="Kann ich die Rechnung per Post bekommen?",
            first_name="Anna",
            guesses=("rechnung",),
            chat_id=-1001234567890,
            staff_message_id=7,
        )
        assert repository.by_message("staff", 7) == created
        assert [h.reference for h in repository.open_handoffs()] == ["#ABCDE"]
        repository.answered(created.id, "Ja, gern.", customer_message_id=9)
        found = repository.by_message("customer", 9, chat_id=-1001234567890)
        assert found is not None and found.status == "answered"
        assert found.customer_chat_id is None and found.first_name == ""
        assert repository.open_handoffs() == []
    finally:
        repository.close()
        database.close()


def test_pg_reader_for_reports_reads_what_was_written(pg_store: PgStore, tmp_path: Path) -> None:
    for user in range(3):
        pg_store.record(question(user_id=user))
    assert pg_store.flush(10)
    with reader_for(tmp_path, pg_store.database.url) as connection:
        row = connection.execute("SELECT COUNT(*) FROM questions WHERE asked_at >= ?", ("",))
        assert row.fetchone()[0] == 3


def test_pg_store_reports_what_the_in_memory_recorder_reports(pg_store: PgStore) -> None:
    memory = MemoryStore()
    for item in events():
        pg_store.record(item)
        memory.record(item)
    assert pg_store.flush(10)

    report = pg_store.report(days=None)  # what /stats reads with DATABASE_URL

    assert report == memory.report(days=None)
    assert report.totals.questions > 0


def test_pg_store_report_while_the_database_is_down_is_unavailable(tmp_path: Path) -> None:
    store = PgStore(PgDatabase("postgresql://faqbot:pw@127.0.0.1:9/faqbot"), tmp_path)
    try:
        with pytest.raises(ReportUnavailable, match=r"faqbot:\*\*\*@127\.0\.0\.1:9") as raised:
            store.report()
    finally:
        store.database.close()
    assert "pw@" not in str(raised.value)


def test_pg_wrong_password_is_one_clear_line_naming_database_url(
    pg_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    wrong = with_password(pg_url, "not-the-password-4711")
    # As `faqbot run` configures it (bot/logs.py): the pool's retries are not lines.
    caplog.set_level(QUIET_LOGGERS["psycopg.pool"], logger="psycopg.pool")
    caplog.set_level(logging.INFO)
    store = PgStore(PgDatabase(wrong), tmp_path, batch_seconds=0.01, retry_for=0.5)
    store.start()  # does not raise: the bot answers anyway
    try:
        store.record(question())
        assert store.flush(10)
    finally:
        store.close()
        store.database.close()
    lines = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(lines) == 1, lines
    assert "DATABASE_URL=" in lines[0] and "password authentication failed" in lines[0]
    assert "not-the-password-4711" not in lines[0] and ":***@" in lines[0]
    assert store.health()["state"] == "failing"
    assert store.state.lost_by_reason["unavailable"] == 1


def test_pg_down_at_start_the_store_starts_and_retries(tmp_path: Path) -> None:
    store = PgStore(
        PgDatabase("postgresql://faqbot:pw@127.0.0.1:9/faqbot"), tmp_path, retry_for=0.3
    )
    started = time.monotonic()
    store.start()
    store.record(question())  # never blocks
    assert time.monotonic() - started < 5
    assert store.flush(15)
    store.close()
    store.database.close()
    report = store.health()
    assert report["state"] == "failing" and report["events_lost"] == 1
    assert "DATABASE_URL=postgresql://faqbot:***@127.0.0.1:9/faqbot:" in str(report["error"])


def test_pg_restarted_mid_run_reconnects_and_loses_nothing(
    pg_store: PgStore, pg_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    pg_store.record(question(user_id=1))
    assert pg_store.flush(10)
    pg_ctl("stop")
    try:
        for user in range(2, 12):
            pg_store.record(question(user_id=user))
        deadline = time.monotonic() + 10
        while pg_store.health()["state"] != "failing" and time.monotonic() < deadline:
            time.sleep(0.05)  # the writer meets the stopped server on its own clock
        assert pg_store.health()["state"] == "failing"
    finally:
        pg_ctl("start")
    assert pg_store.flush(30)
    assert count(pg_url, "questions") == 11
    assert pg_store.health()["state"] == "ok" and pg_store.lost == 0
    assert len(logged(caplog, "Analytics store failing")) == 1
    [recovery] = logged(caplog, "works again")
    assert "0 event(s) lost" in recovery and "***" in recovery


def test_database_url_password_never_reaches_a_log_line() -> None:
    url = "postgresql://faqbot:S3cr%21t-pw@db.internal:5432/faqbot"
    redactor = SecretRedactor(secrets_to_redact({"DATABASE_URL": url}))
    record = logging.LogRecord("x", logging.ERROR, "f", 1, "connect %s failed", (url,), None)
    redactor.filter(record)
    assert "S3cr" not in record.getMessage()
    assert redact_url(url) == "postgresql://faqbot:***@db.internal:5432/faqbot"


@pytest.mark.parametrize("value", ["mysql://u:p@h/db", "postgresql:///nohost", "db.sqlite"])
def test_database_url_must_be_a_postgresql_url(value: str) -> None:
    with pytest.raises(ConfigError, match="DATABASE_URL must look like postgresql://"):
        load_store_settings({"DATABASE_URL": value})


def test_faqbot_stats_names_database_url_without_password_when_unreachable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", "postgresql://faqbot:Geheim-123@127.0.0.1:9/faqbot")
    assert main(["stats"]) == 1
    error = capsys.readouterr().err
    assert "DATABASE_URL=postgresql://faqbot:***@127.0.0.1:9/faqbot" in error
    assert "Geheim-123" not in error


def test_faqbot_stats_on_an_empty_database_says_the_bot_has_not_run(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, pg_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", pg_url)
    assert main(["stats"]) == 1
    assert "has the bot run yet?" in capsys.readouterr().err


def test_faqbot_report_on_an_empty_database_is_a_page_that_says_so(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, pg_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", pg_url)
    assert main(["report", "--out", "-", "--faq-dir", str(write_kb(tmp_path / "faq"))]) == 0
    page = capsys.readouterr().out
    assert "(DATABASE_URL) liegt noch keine Auswertung" in page
    password = urlsplit(pg_url).password
    assert not password or password not in page


def test_pg_report_and_suggestions_equal_those_from_sqlite_for_the_same_events(
    pg_url: str, tmp_path: Path
) -> None:
    write_store(tmp_path / "sqlite", events())
    write_pg_store(pg_url, tmp_path / "pg")
    kb = load_knowledge_base(write_kb(tmp_path / "faq"))
    found = {}
    for name, url in (("sqlite", None), ("pg", pg_url)):
        with reader_for(tmp_path / name, url) as connection:
            report = build_report(connection, days=30, now=NOW)
            drafts = suggest_snippets(connection, kb, days=30, min_group=1, now=NOW)
        found[name] = (report.as_json(), drafts)
    assert found["pg"] == found["sqlite"]
    assert found["pg"][0]["totals"]["questions"] > 0


def test_faqbot_report_and_suggest_read_database_url(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, pg_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    write_pg_store(pg_url, tmp_path)
    faq_dir = write_kb(tmp_path / "faq")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", pg_url)
    out = tmp_path / "report.html"
    assert main(["report", "--faq-dir", str(faq_dir), "--out", str(out)]) == 0
    assert "<html" in out.read_text(encoding="utf-8")
    assert main(["suggest", "--faq-dir", str(faq_dir), "--min-group", "1"]) == 0
    assert "instagram follower bekommen" in capsys.readouterr().out
