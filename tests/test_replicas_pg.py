"""Two `faqbot run` replicas in webhook mode behind one PostgreSQL database.

Needs FAQBOT_TEST_DATABASE_URL (and FAQBOT_TEST_PG_CTL for the outage): .ci/postgres.sh.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from bot.knowledge import load_knowledge_base
from tests.bot_runner import copy_faq
from tests.conftest import ROOT
from tests.fake_bot_api import FakeBotApi
from tests.postgres import count, pg_ctl
from tests.replicas import Replica, health, replicas, spread, stop

FIRST_USER = 50_000


@pytest.fixture
def faq_dir(tmp_path: Path) -> Path:
    return copy_faq(tmp_path / "faq")


def questions(faq_dir: Path, number: int) -> list[str]:
    """``number`` questions taken from the knowledge base's own phrasings, cycled."""
    kb = load_knowledge_base(faq_dir)
    phrasings = [entry.question for entry in kb.entries]
    return [phrasings[n % len(phrasings)] for n in range(number)]


def replies_per_chat(fake: FakeBotApi, users: range) -> Counter[int]:
    return Counter(
        int(message["chat"]["id"])
        for message in fake.sent_messages()
        if int(message["chat"]["id"]) in users
    )


def faqbot_stats(database_url: str, cwd: Path) -> dict[str, object]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("DATABASE_")}
    environment.update({"DATABASE_URL": database_url, "PYTHONPATH": str(ROOT)})
    done = subprocess.run(
        [sys.executable, "-m", "bot", "stats", "--json", "--days", "0"],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    report: dict[str, object] = json.loads(done.stdout)
    return report


def store_health_when(bot: Replica, state: str, *, timeout: float) -> dict[str, object]:
    """The store's part of /healthz once it reports ``state`` (or at the timeout)."""
    deadline = time.monotonic() + timeout
    while True:
        report = health(bot)["store"]
        assert isinstance(report, dict)
        if report["state"] == state or time.monotonic() > deadline:
            return report
        time.sleep(0.2)  # the writer retries on its own clock: nothing to await


def test_two_replicas_answer_every_update_once_and_record_it_once(
    fake: FakeBotApi, faq_dir: Path, tmp_path: Path, pg_url: str
) -> None:
    asked = questions(faq_dir, 500)
    users = range(FIRST_USER, FIRST_USER + len(asked))
    with replicas(fake, faq_dir, tmp_path, pg_url) as (first, second):
        statuses = spread(fake, (first, second), asked, first_user=FIRST_USER, to_both_every=10)
        assert statuses == [200] * 550  # 500 updates, 50 of them sent to both
        fake.wait_for(lambda _: len(replies_per_chat(fake, users)) == len(asked), timeout=120)
        assert stop(first) == 0 and stop(second) == 0  # both flush their stores
    replies = replies_per_chat(fake, users)
    assert sorted(replies.values()) == [1] * len(asked), "some question was answered twice"
    assert count(pg_url, "questions") == len(asked)
    assert count(pg_url, "handled_updates") == len(asked)
    totals = faqbot_stats(pg_url, tmp_path)["totals"]
    assert isinstance(totals, dict) and totals["questions"] == len(asked)
    both_logs = first.output() + second.output()
    assert "Traceback" not in both_logs
    assert pg_url.split(":")[2].split("@")[0] not in both_logs  # the password


def test_replica_goes_on_answering_while_postgres_is_down_for_ten_seconds(
    fake: FakeBotApi, faq_dir: Path, tmp_path: Path, pg_url: str
) -> None:
    asked = questions(faq_dir, 60)
    users = range(FIRST_USER, FIRST_USER + len(asked))
    with replicas(fake, faq_dir, tmp_path, pg_url, count=1) as (bot,):
        spread(fake, (bot,), asked[:20], first_user=FIRST_USER, to_both_every=0)
        fake.wait_for(lambda _: len(replies_per_chat(fake, users)) == 20, timeout=60)
        pg_ctl("stop")
        try:
            down_at = time.monotonic()
            spread(fake, (bot,), asked[20:40], first_user=FIRST_USER + 20, to_both_every=0)
            fake.wait_for(lambda _: len(replies_per_chat(fake, users)) == 40, timeout=60)
            answered_within = time.monotonic() - down_at
            while time.monotonic() - down_at < 10:
                time.sleep(0.5)  # the outage lasts 10 s, whatever the bot does
            assert store_health_when(bot, "failing", timeout=10)["state"] == "failing"
        finally:
            pg_ctl("start")
        spread(fake, (bot,), asked[40:], first_user=FIRST_USER + 40, to_both_every=0)
        fake.wait_for(lambda _: len(replies_per_chat(fake, users)) == 60, timeout=60)
        report = store_health_when(bot, "ok", timeout=60)
        assert stop(bot) == 0
    assert answered_within < 10  # answers did not wait for the database
    assert report["state"] == "ok" and report["events_lost"] == 0
    assert count(pg_url, "questions") == 60
    log = bot.output()
    assert log.count("Analytics store failing") == 1
    assert "works again after" in log and "0 event(s) lost" in log


def test_replica_started_while_postgres_is_down_answers_and_records_later(
    fake: FakeBotApi, faq_dir: Path, tmp_path: Path, pg_url: str
) -> None:
    asked = questions(faq_dir, 10)
    users = range(FIRST_USER, FIRST_USER + len(asked))
    pg_ctl("stop")
    try:
        with replicas(fake, faq_dir, tmp_path, pg_url, count=1) as (bot,):
            spread(fake, (bot,), asked, first_user=FIRST_USER, to_both_every=0)
            fake.wait_for(lambda _: len(replies_per_chat(fake, users)) == 10, timeout=60)
            assert store_health_when(bot, "failing", timeout=10)["state"] == "failing"
            pg_ctl("start")
            report = store_health_when(bot, "ok", timeout=60)
            assert stop(bot) == 0
    finally:
        pg_ctl("start")
    assert report["state"] == "ok" and report["events_lost"] == 0
    assert count(pg_url, "questions") == 10
    assert bot.output().count("Analytics store failing") == 1
