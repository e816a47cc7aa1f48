"""An operator's bad day (issue 9): `faqbot run` in a child process against a fake
Bot API that floods, storms, goes away, migrates groups and sends unreadable updates.

Each test asserts what a customer or an admin would notice: who gets an answer, how
often, whether the process stops when told, what the log and /metrics say.
"""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from bot.store import reader
from tests.bot_runner import faqbot_process
from tests.conftest import ROOT, free_port, post, stop, wait_until_listening
from tests.fake_bot_api import FakeBotApi

TOPICS = ("impressum", "hosting", "newsletter", "backup")
GROUP = -1009000000001
CUSTOMERS = (3001, 3002, 3003, 3004, 3005)


def question(topic: str) -> str:
    return f"Was bedeutet {topic}?"


def answer(topic: str) -> str:
    return f"{topic.capitalize()} ist ein Begriff aus dem Web."


@pytest.fixture
def faq_dir(tmp_path: Path) -> Path:
    """A small knowledge base: one short answer (one message) per topic."""
    folder = tmp_path / "faq"
    folder.mkdir()
    lines = ["category: Web", "entries:"]
    for topic in TOPICS:
        lines += [
            f"  - id: {topic}",
            f"    question: {question(topic)}",
            f"    answer: {answer(topic)}",
        ]
    (folder / "web.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


@contextmanager
def running(
    fake: FakeBotApi, faq_dir: Path, tmp_path: Path, **env: str
) -> Iterator[subprocess.Popen[str]]:
    """`faqbot run`, stopped with SIGTERM afterwards (the test may stop it itself)."""
    values = {"FAQ_DIR": str(faq_dir), "DATA_DIR": str(tmp_path / "data"), **env}
    process = faqbot_process(fake, values, cwd=tmp_path)
    try:
        yield process
    finally:
        if process.poll() is None:
            stop(process)


def metrics(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        return str(response.read().decode())


def sample(text: str, name: str) -> float:
    """The value of one sample in the Prometheus text format, e.g. 'a_total{x="y"}'."""
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[-1])
    raise AssertionError(f"no sample {name} in /metrics")


def answered(fake: FakeBotApi, chat_id: int) -> list[str]:
    return [str(message.get("text")) for message in fake.sent_messages(chat_id)]


def ask_everyone(fake: FakeBotApi) -> None:
    for number, customer in enumerate(CUSTOMERS):
        fake.send_text(question(TOPICS[number % len(TOPICS)]), user_id=customer)


def wait_for_everyone(fake: FakeBotApi) -> None:
    for number, customer in enumerate(CUSTOMERS):
        [reply] = fake.wait_for_messages(1, chat_id=customer, timeout=10)
        assert answer(TOPICS[number % len(TOPICS)]) in reply["text"]


def ask_in_group(fake: FakeBotApi, topic: str, *, user_id: int, chat_id: int = GROUP) -> None:
    fake.send_command(
        f"/frage {question(topic)}", user_id=user_id, chat_id=chat_id, chat_type="supergroup"
    )


# 1. One chat's flood limit -----------------------------------------------------------------


def test_flood_limit_of_one_chat_leaves_the_other_chats_answered(
    fake: FakeBotApi, faq_dir: Path, tmp_path: Path
) -> None:
    port = free_port()
    fake.faults.throttle_chat(GROUP, retry_after=3600)
    with running(
        fake, faq_dir, tmp_path, TELEGRAM_RATE_LIMIT="30", METRICS_PORT=str(port)
    ) as process:
        ask_in_group(fake, "hosting", user_id=3100)
        fake.wait_for(lambda api: api.faults.hits["throttle"] >= 1, what="the 429")
        ask_everyone(fake)
        wait_for_everyone(fake)
        page = metrics(port)
        code, output, _ = stop(process)
    assert answered(fake, GROUP) == []
    assert sample(page, 'faqbot_replies_dropped_total{reason="flood_wait"}') == 1
    assert fake.faults.hits["throttle"] == 1  # asked once, then believed
    assert "asks to wait 3600 s" in output
    assert code == 0, output


def test_replies_waiting_for_a_throttled_group_hold_no_update_slot(
    fake: FakeBotApi, faq_dir: Path, tmp_path: Path
) -> None:
    fake.faults.throttle_chat(GROUP, retry_after=60)
    with running(fake, faq_dir, tmp_path, TELEGRAM_RATE_LIMIT="0") as process:
        for number in range(20):  # more than the 16 update slots
            ask_in_group(fake, TOPICS[number % 4], user_id=3200 + number)
        fake.wait_until_fetched()
        ask_everyone(fake)
        wait_for_everyone(fake)
        code, output, seconds = stop(process)  # fails if SIGTERM waited the 60 s
    assert answered(fake, GROUP) == []
    assert code == 0, output
    assert seconds < 10
    # Not answered, so not confirmed: Telegram delivers them again after the restart,
    # which answers the group and skips what it had answered already.
    waiting = {u["message"]["chat"]["id"] for u in fake.pending_updates}
    assert GROUP in waiting
    fake.faults.clear()
    with running(fake, faq_dir, tmp_path, TELEGRAM_RATE_LIMIT="0"):
        fake.wait_for_messages(20, chat_id=GROUP, timeout=20)
        fake.wait_for(lambda api: not api.pending_updates, what="all confirmed")
    assert [len(fake.sent_messages(customer)) for customer in CUSTOMERS] == [1] * 5


def test_flood_wait_within_the_cap_is_waited_out_for_that_chat(
    fake: FakeBotApi, faq_dir: Path, tmp_path: Path
) -> None:
    fake.faults.throttle_chat(GROUP, retry_after=2)
    with running(fake, faq_dir, tmp_path, TELEGRAM_RATE_LIMIT="30") as process:
        ask_in_group(fake, "backup", user_id=3300)
        fake.wait_for(lambda api: api.faults.hits["throttle"] >= 1, what="the 429")
        ask_everyone(fake)
        wait_for_everyone(fake)
        first_other = min(c.time for c in fake.calls_to("sendMessage") if c.ok)
        fake.faults.clear("throttle")
        [reply] = fake.wait_for_messages(1, chat_id=GROUP, timeout=10)
        code, output, _ = stop(process)
    assert answer("backup") in reply["text"]
    sent = [c for c in fake.calls_to("sendMessage") if c.ok]
    group_answer = next(c for c in sent if c.params["chat_id"] == GROUP)
    assert group_answer.time > first_other  # the others did not wait for the group
    assert code == 0, output


# 2. Shutdown loses nothing -------------------------------------------------------------------


def test_sigterm_mid_burst_then_restart_answers_every_question_exactly_once(
    fake: FakeBotApi, faq_dir: Path, tmp_path: Path
) -> None:
    users = range(4000, 4250)
    for round_number in range(4):  # 1,000 questions, 4 per customer, one per topic
        for user_id in users:
            fake.send_text(question(TOPICS[(user_id + round_number) % 4]), user_id=user_id)
    defaults = {"TELEGRAM_RATE_LIMIT": "30"}  # what faqbot uses when nothing is set
    with running(fake, faq_dir, tmp_path, **defaults) as first:
        fake.wait_for(lambda api: api.sent_count >= 150, timeout=60, what="150 answers")
        code, output, _ = stop(first)
    assert code == 0, output
    assert 150 <= fake.sent_count < 1000
    assert fake.pending_updates  # the unanswered rest is still Telegram's

    with running(fake, faq_dir, tmp_path, **defaults) as second:
        fake.wait_for(lambda api: api.sent_count >= 1000, timeout=90, what="1,000 answers")
        fake.wait_for(lambda api: not api.pending_updates, timeout=20, what="all confirmed")
        code, output, _ = stop(second)
    assert code == 0, output
    for user_id in users:
        texts = answered(fake, user_id)
        topics = sorted(t for text in texts for t in TOPICS if answer(t) in text)
        assert topics == sorted(TOPICS), (user_id, texts)  # each once, none lost
    assert fake.sent_count == 1000
    with reader(tmp_path / "data") as connection:
        [(recorded,)] = connection.execute("SELECT count(*) FROM questions").fetchall()
    assert recorded == 1000


def test_sigterm_during_an_outage_exits_at_the_timeout_and_the_restart_answers(
    fake: FakeBotApi, faq_dir: Path, tmp_path: Path
) -> None:
    customer = CUSTOMERS[2]
    with running(fake, faq_dir, tmp_path, SHUTDOWN_TIMEOUT="2") as process:
        fake.faults.storm(502, methods=("sendMessage",))
        fake.send_text(question("impressum"), user_id=customer)
        fake.wait_for(lambda api: api.faults.hits["storm"] >= 2, timeout=20, what="retries")
        code, output, seconds = stop(process)
    assert code == 0, output
    assert seconds < 10  # the reply kept retrying until SHUTDOWN_TIMEOUT, not longer
    assert fake.sent_messages(customer) == []
    assert "replies left for after the restart: 1" in output
    fake.faults.clear()
    with running(fake, faq_dir, tmp_path):
        [reply] = fake.wait_for_messages(1, chat_id=customer, timeout=20)
        fake.wait_for(lambda api: not api.pending_updates, what="all confirmed")
    assert answer("impressum") in reply["text"]


# 3. Replies survive short outages ------------------------------------------------------------


@pytest.mark.parametrize("fault", ["storm", "outage"])
def test_reply_in_flight_survives_an_outage_longer_than_five_attempts(
    fake: FakeBotApi, faq_dir: Path, tmp_path: Path, fault: str
) -> None:
    port = free_port()
    with running(fake, faq_dir, tmp_path, METRICS_PORT=str(port)) as process:
        fake.send_text(question("hosting"), user_id=CUSTOMERS[0])
        fake.wait_for_messages(1, chat_id=CUSTOMERS[0], timeout=20)  # the bot is up
        if fault == "storm":
            fake.faults.storm(502, methods=("sendMessage",))
        else:
            fake.faults.outage(methods=("sendMessage",))
        fake.send_text(question("backup"), user_id=CUSTOMERS[0])
        fake.wait_for(lambda api: api.faults.hits[fault] >= 1, timeout=20, what="a failure")
        if fault == "outage":
            fake.faults.outage()  # now the whole Bot API is gone, polling too
        fake.wait_for(lambda api: api.faults.hits[fault] >= 6, timeout=30, what="6 failures")
        pending = sample(metrics(port), "faqbot_replies_pending")
        fake.faults.clear()
        replies = fake.wait_for_messages(2, chat_id=CUSTOMERS[0], timeout=20)
        code, output, _ = stop(process)
    assert pending == 1
    assert answer("backup") in replies[1]["text"]
    assert len(fake.sent_messages(CUSTOMERS[0])) == 2  # no apology, no duplicate
    assert "Telegram reachable again" in output
    assert "Traceback" not in output
    assert code == 0, output


def test_reply_to_a_group_that_became_a_supergroup_goes_to_the_new_chat(
    fake: FakeBotApi, faq_dir: Path, tmp_path: Path
) -> None:
    old, new = -4001, -1004001
    fake.add_chat(new, "supergroup")
    fake.faults.migrate_chat(old, new)
    with running(fake, faq_dir, tmp_path) as process:
        ask_in_group(fake, "impressum", user_id=3400, chat_id=old)
        [first] = fake.wait_for_messages(1, chat_id=new, timeout=20)
        ask_in_group(fake, "backup", user_id=3401, chat_id=old)
        second = fake.wait_for_messages(2, chat_id=new, timeout=20)[1]
        code, output, _ = stop(process)
    assert answer("impressum") in first["text"]
    assert answer("backup") in second["text"]
    assert fake.faults.hits["migrate"] == 1  # the second reply went to the new chat at once
    assert "failed" not in output
    assert code == 0, output


def test_button_on_a_deleted_message_answers_with_a_new_message(
    fake: FakeBotApi, faq_dir: Path, tmp_path: Path
) -> None:
    customer = CUSTOMERS[0]
    with running(fake, faq_dir, tmp_path) as process:
        fake.send_command("/themen", user_id=customer)
        [topics] = fake.wait_for_messages(1, chat_id=customer, timeout=20)
        fake.click(topics, "c:web")
        fake.user_deletes(customer, topics["message_id"])
        replies = fake.wait_for_messages(2, chat_id=customer, timeout=20)
        fake.send_text(question("hosting"), user_id=customer)  # handled after the click
        fake.wait_for_messages(3, chat_id=customer, timeout=20)
        code, output, _ = stop(process)
    assert replies[1]["text"].startswith("Web")
    assert "Wählen Sie eine Frage" in replies[1]["text"]
    assert all("Entschuldigung" not in text for text in answered(fake, customer))
    assert code == 0, output


# 4. One bad update never stops polling -------------------------------------------------------


def unreadable_update() -> dict[str, object]:
    """A chat_member update whose date comes in a form PTB does not expect."""
    person = {"id": 3500, "is_bot": False, "first_name": "Erika", "last_name": "Mustermann"}
    return {
        "chat_member": {
            "chat": {"id": GROUP, "type": "supergroup", "title": "Kundengruppe"},
            "from": person,
            "date": "2026-12-01T10:00:00Z",
            "old_chat_member": {"status": "left", "user": person},
            "new_chat_member": {"status": "member", "user": person},
        }
    }


def test_unreadable_update_is_skipped_once_and_polling_goes_on(
    fake: FakeBotApi, faq_dir: Path, tmp_path: Path
) -> None:
    port = free_port()
    with running(fake, faq_dir, tmp_path, METRICS_PORT=str(port)) as process:
        bad = fake.add_update(unreadable_update())
        ask_everyone(fake)
        wait_for_everyone(fake)
        page = metrics(port)
        code, output, _ = stop(process)
    assert sample(page, 'faqbot_updates_skipped_total{reason="unparseable"}') == 1
    assert bad["update_id"] not in {u["update_id"] for u in fake.pending_updates}
    assert output.count("cannot read it") == 1
    assert "Mustermann" not in output and "Erika" not in output
    assert len(fake.calls_to("getUpdates")) < 50
    assert code == 0, output


def test_webhook_rejects_json_that_is_no_update_and_answers_a_duplicate_once(
    fake: FakeBotApi, faq_dir: Path, tmp_path: Path
) -> None:
    port = free_port()
    secret = "s3cret-token_ok"
    with running(
        fake,
        faq_dir,
        tmp_path,
        WEBHOOK_URL="https://bot.example.com/hook",
        WEBHOOK_SECRET=secret,
        WEBHOOK_LISTEN="127.0.0.1",
        PORT=str(port),
    ) as process:
        wait_until_listening(port, process)
        # The bot listens first (/healthz says "starting"), then registers its webhook.
        fake.wait_for(lambda server: server.webhook is not None, timeout=20, what="setWebhook")
        local = f"http://127.0.0.1:{port}/hook"
        assert post(local, {"hello": "world"}, secret) == 400
        assert post_raw(local, b"[1, 2]", secret) == 400
        assert post_raw(local, b'"update"', secret) == 400
        update = fake.send_text(question("newsletter"), user_id=CUSTOMERS[1])
        assert post(local, update, secret) == 200
        assert post(local, update, secret) == 200  # Telegram re-sends what it thinks failed
        fake.send_text(question("backup"), user_id=CUSTOMERS[1])
        fake.deliver_webhook_updates(local)
        replies = fake.wait_for_messages(2, chat_id=CUSTOMERS[1], timeout=20)
        code, output, _ = stop(process)
    assert [answer("newsletter") in r["text"] for r in replies] == [True, False]
    assert len(fake.sent_messages(CUSTOMERS[1])) == 2
    assert "Traceback" not in output
    assert code == 0, output


def post_raw(url: str, body: bytes, secret: str) -> int:
    headers = {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": secret}
    request = urllib.request.Request(url, body, headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        exc.close()
        return int(exc.code)


# 7. No network at start-up -------------------------------------------------------------------


def heartbeat_says(path: Path, text: str, process: subprocess.Popen[str]) -> None:
    """Wait until the heartbeat file contains ``text`` (a file: nothing to await)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"faqbot exited:\n{process.communicate()[0]}")
        if path.is_file() and text in path.read_text(encoding="utf-8"):
            return
        time.sleep(0.05)
    raise AssertionError(f"the heartbeat never said {text!r}")


def faqbot_health(env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "health"],
        cwd=cwd,
        env={**env, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_no_network_at_start_keeps_trying_and_reports_starting(
    fake: FakeBotApi, faq_dir: Path, tmp_path: Path
) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}/bot"  # nothing listens there
    with running(fake, faq_dir, tmp_path, TELEGRAM_BASE_URL=nowhere) as process:
        heartbeat_says(tmp_path / "data" / "heartbeat", "attempt 2", process)
        health = faqbot_health({"DATA_DIR": str(tmp_path / "data")}, tmp_path)
        code, output, seconds = stop(process)
    assert health.stdout.startswith("starting"), health.stdout + health.stderr
    assert health.returncode == 1
    assert code == 0, output
    assert seconds < 5
    assert output.count("Cannot reach Telegram") >= 2
    assert "Traceback" not in output
    assert "Unclosed" not in output


def test_no_network_at_start_in_webhook_mode_reports_starting(
    fake: FakeBotApi, faq_dir: Path, tmp_path: Path
) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}/bot"
    port = free_port()
    webhook = {
        "WEBHOOK_URL": "https://bot.example.com/hook",
        "WEBHOOK_SECRET": "s3cret-token_ok",
        "WEBHOOK_LISTEN": "127.0.0.1",
        "PORT": str(port),
    }
    with running(fake, faq_dir, tmp_path, TELEGRAM_BASE_URL=nowhere, **webhook) as process:
        wait_until_listening(port, process)
        health = faqbot_health(webhook, tmp_path)
        code, output, _ = stop(process)
    assert health.stdout.startswith("starting"), health.stdout + health.stderr
    assert code == 0, output
    assert "Cannot reach Telegram" in output
    assert "Traceback" not in output


def test_start_during_an_outage_serves_once_telegram_is_back(
    fake: FakeBotApi, faq_dir: Path, tmp_path: Path
) -> None:
    fake.faults.storm(502)
    with running(fake, faq_dir, tmp_path) as process:
        fake.wait_for(lambda api: api.faults.hits["storm"] >= 2, timeout=30, what="2 attempts")
        fake.faults.clear()
        ask_everyone(fake)
        wait_for_everyone(fake)
        code, output, _ = stop(process)
    assert "Traceback" not in output
    assert code == 0, output


def test_rejected_token_at_start_is_fatal_at_once(
    fake: FakeBotApi, faq_dir: Path, tmp_path: Path
) -> None:
    process = faqbot_process(
        fake,
        {"FAQ_DIR": str(faq_dir), "TELEGRAM_BOT_TOKEN": "999:WRONG-TOKEN"},
        cwd=tmp_path,
    )
    output, _ = process.communicate(timeout=30)
    assert process.returncode == 1
    assert "Telegram rejected the bot token (401)" in output
    assert output.count("Cannot reach Telegram") == 0  # no retrying a wrong token
    assert "Traceback" not in output
    assert "Unclosed" not in output  # the transport is closed before the exit
    assert "WRONG-TOKEN" not in output
