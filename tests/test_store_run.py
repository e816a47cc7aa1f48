"""The analytics store under `faqbot run`: poison input and a broken database, end to end."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from bot.store import DATABASE_FILE, connect, reader
from tests.bot_runner import copy_faq, faqbot_process
from tests.conftest import ROOT, free_port, get, stop, wait_until_listening
from tests.fake_bot_api import FakeBotApi


@pytest.fixture
def faq_dir(tmp_path: Path) -> Path:
    return copy_faq(tmp_path / "faq")


def texts(data_dir: Path) -> list[str]:
    with reader(data_dir) as connection:
        return [row["text"] for row in connection.execute("SELECT text FROM questions")]


def healthz(port: int) -> dict[str, object]:
    report = json.loads(get(f"http://127.0.0.1:{port}/healthz")[2])
    assert isinstance(report, dict)
    return report


def store_health(port: int) -> dict[str, object]:
    store = healthz(port)["store"]
    assert isinstance(store, dict)
    return store


def health_json(data_dir: Path) -> dict[str, object]:
    environment = {k: v for k, v in os.environ.items() if k not in ("WEBHOOK_URL", "PORT")}
    result = subprocess.run(
        [sys.executable, "-m", "bot", "health", "--json"],
        env={**environment, "DATA_DIR": str(data_dir)},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    report = json.loads(result.stdout)
    assert isinstance(report, dict)
    return report


def wait_written(fake: FakeBotApi, port: int, count: int) -> None:
    fake.wait_for(
        lambda _: store_health(port)["events_written"] == count,
        timeout=20,
        what=f"{count} events written",
    )


def test_run_a_lone_surrogate_is_recorded_and_the_store_goes_on(
    fake: FakeBotApi, faq_dir: Path, tmp_path: Path
) -> None:
    port, data_dir = free_port(), tmp_path / "data"
    process = faqbot_process(
        fake,
        {"FAQ_DIR": str(faq_dir), "DATA_DIR": str(data_dir), "METRICS_PORT": str(port)},
        cwd=tmp_path,
    )
    try:
        wait_until_listening(port, process)
        fake.send_text("Was ist DNSSEC \ud800?", user_id=6001)  # "\ud800" in the JSON
        fake.wait_for_messages(1, chat_id=6001, timeout=20)
        fake.send_text("Was ist DNSSEC?", user_id=6002)
        fake.wait_for_messages(1, chat_id=6002, timeout=20)
        wait_written(fake, port, 2)
        report = healthz(port)
        _, _, metrics = get(f"http://127.0.0.1:{port}/metrics")
        fake.wait_for(lambda _: (data_dir / "heartbeat").stat().st_size > 20, timeout=20)
        from_command = health_json(data_dir)
    finally:
        code, output, _ = stop(process)
    assert code == 0, output
    assert texts(data_dir) == ["Was ist DNSSEC \ufffd?", "Was ist DNSSEC?"]
    assert report["status"] == "ok"
    assert report["store"] == {
        "state": "ok",
        "since": None,
        "events_written": 2,
        "events_lost": 0,
        "lost_by_reason": {"unavailable": 0, "unstorable": 0, "queue_full": 0},
        "queued": 0,
    }
    assert from_command["healthy"] is True
    assert isinstance(from_command["store"], dict)
    assert from_command["store"]["state"] == "ok"
    assert 'faqbot_store_events_lost_total{reason="unstorable"} 0.0' in metrics
    assert "faqbot_store_failing 0.0" in metrics
    assert "Traceback" not in output
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    assert {stat.S_IMODE(p.stat().st_mode) for p in data_dir.iterdir()} == {0o600}


def test_run_a_deleted_database_is_logged_once_and_recording_resumes(
    fake: FakeBotApi, faq_dir: Path, tmp_path: Path
) -> None:
    port, data_dir = free_port(), tmp_path / "data"
    process = faqbot_process(
        fake,
        {"FAQ_DIR": str(faq_dir), "DATA_DIR": str(data_dir), "METRICS_PORT": str(port)},
        cwd=tmp_path,
    )
    try:
        wait_until_listening(port, process)
        fake.send_text("Was ist DNSSEC?", user_id=6101)
        fake.wait_for_messages(1, chat_id=6101, timeout=20)
        wait_written(fake, port, 1)
        shutil.rmtree(data_dir)  # an admin wiping the analytics while the bot runs
        for number in range(3):
            fake.send_text("Wie bereite ich mich auf einen Shitstorm vor?", user_id=6200 + number)
            fake.wait_for_messages(1, chat_id=6200 + number, timeout=20)
        wait_written(fake, port, 4)
        store = store_health(port)
    finally:
        code, output, _ = stop(process)
    assert code == 0, output
    assert store["state"] == "ok" and store["events_lost"] == 0
    assert texts(data_dir) == ["Wie bereite ich mich auf einen Shitstorm vor?"] * 3
    assert output.count(DATABASE_FILE) == 1, output  # "disappeared; creating it anew"


def test_run_a_locked_database_loses_nothing_and_health_shows_it(
    fake: FakeBotApi, faq_dir: Path, tmp_path: Path
) -> None:
    port, data_dir = free_port(), tmp_path / "data"
    process = faqbot_process(
        fake,
        {"FAQ_DIR": str(faq_dir), "DATA_DIR": str(data_dir), "METRICS_PORT": str(port)},
        cwd=tmp_path,
    )
    try:
        wait_until_listening(port, process)
        fake.send_text("Was ist DNSSEC?", user_id=6301)
        fake.wait_for_messages(1, chat_id=6301, timeout=20)
        wait_written(fake, port, 1)
        backup = connect(data_dir / DATABASE_FILE)  # another process holding the lock
        backup.execute("BEGIN EXCLUSIVE")
        try:
            for number in range(12):
                fake.send_text(
                    "Wie bereite ich mich auf einen Shitstorm vor?", user_id=6400 + number
                )
            for number in range(12):
                fake.wait_for_messages(1, chat_id=6400 + number, timeout=20)  # answers flow
            fake.wait_for(
                lambda _: store_health(port)["state"] == "failing", timeout=20, what="failing"
            )
            failing = store_health(port)
        finally:
            backup.rollback()
            backup.close()
        wait_written(fake, port, 13)
        recovered = store_health(port)
    finally:
        code, output, _ = stop(process)
    assert code == 0, output
    assert failing["since"] and "locked" in str(failing["error"])
    assert recovered["state"] == "ok" and recovered["events_lost"] == 0
    assert len(texts(data_dir)) == 13
    assert output.count("Analytics store failing") == 1, output
    assert output.count("Analytics store works again") == 1, output
