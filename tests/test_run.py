"""`faqbot run` as admins start it: a child process, real HTTP, real signals."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest

from tests.bot_runner import copy_faq, faqbot_process
from tests.conftest import SECRET, free_port, post, stop, wait_until_listening
from tests.fake_bot_api import FakeBotApi


@pytest.fixture
def faq_dir(tmp_path: Path) -> Path:
    return copy_faq(tmp_path / "faq")


def test_run_polling_answers_and_stops_cleanly_on_sigterm(
    fake: FakeBotApi, faq_dir: Path, tmp_path: Path
) -> None:
    process = faqbot_process(
        fake, {"FAQ_DIR": str(faq_dir), "DATA_DIR": str(tmp_path / "data")}, cwd=tmp_path
    )
    try:
        fake.send_text("was ist dnssec", user_id=2001)
        [reply] = fake.wait_for_messages(1, chat_id=2001, timeout=20)
    finally:
        code, output, seconds = stop(process)
    assert "DNSSEC" in reply["source_text"]
    assert code == 0, output
    assert seconds < 10
    assert (tmp_path / "data").is_dir()
    assert fake.token not in output
    assert fake.token.split(":")[1] not in output


def test_run_sigint_also_stops_with_exit_code_zero(
    fake: FakeBotApi, faq_dir: Path, tmp_path: Path
) -> None:
    process = faqbot_process(fake, {"FAQ_DIR": str(faq_dir)}, cwd=tmp_path)
    fake.wait_for_call("getUpdates", timeout=20)
    started = time.monotonic()
    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=15)
    assert process.returncode == 0, output
    assert time.monotonic() - started < 10


def test_run_debug_logging_never_shows_the_token_or_customer_data(
    fake: FakeBotApi, faq_dir: Path, tmp_path: Path
) -> None:
    process = faqbot_process(fake, {"FAQ_DIR": str(faq_dir), "LOG_LEVEL": "DEBUG"}, cwd=tmp_path)
    try:
        fake.send_text("shitstorm vorbereitung", user_id=2002777, first_name="Mechthild")
        fake.wait_for_messages(1, chat_id=2002777, timeout=20)
    finally:
        _, output, _ = stop(process)
    assert "Decision answer" in output  # debug logging really was on: our own decisions
    assert fake.token not in output
    for customer_data in ("shitstorm vorbereitung", "2002777", "Mechthild"):
        assert customer_data not in output
    assert "Call to Bot API endpoint" not in output  # PTB's payload dumps stay off


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"TELEGRAM_BOT_TOKEN": ""}, "TELEGRAM_BOT_TOKEN is not set"),
        ({"TELEGRAM_BOT_TOKEN": "nocolon"}, "TELEGRAM_BOT_TOKEN does not look like"),
        ({"ADMIN_IDS": "12,abc"}, "ADMIN_IDS must be comma-separated"),
        ({"PORT": "99999"}, "PORT must be a number from 1 to 65535"),
        ({"TELEGRAM_RATE_LIMIT": "fast"}, "TELEGRAM_RATE_LIMIT must be messages per second"),
        ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL must be one of"),
        ({"WEBHOOK_URL": "https://bot.example.com/hook"}, "WEBHOOK_SECRET is required"),
        ({"WEBHOOK_URL": "http://bot.example.com/hook"}, "WEBHOOK_URL must be an https://"),
        ({"TELEGRAM_BASE_URL": "ftp://x"}, "TELEGRAM_BASE_URL must be an http(s) URL"),
    ],
)
def test_run_bad_setting_fails_at_start_naming_the_variable(
    fake: FakeBotApi, faq_dir: Path, tmp_path: Path, env: dict[str, str], message: str
) -> None:
    process = faqbot_process(fake, {"FAQ_DIR": str(faq_dir), **env}, cwd=tmp_path)
    output, _ = process.communicate(timeout=30)
    assert process.returncode == 1
    assert message in output
    assert "Traceback" not in output


def test_run_reads_a_dotenv_file(fake: FakeBotApi, faq_dir: Path, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(f"FAQ_DIR={faq_dir}\nADMIN_IDS=1, 2\n", encoding="utf-8")
    process = faqbot_process(fake, {}, cwd=tmp_path)
    try:
        fake.send_text("dnssec", user_id=2003)
        [reply] = fake.wait_for_messages(1, chat_id=2003, timeout=20)
    finally:
        code, output, _ = stop(process)
    assert "DNSSEC" in reply["source_text"]
    assert code == 0, output


def test_run_broken_knowledge_base_fails_with_file_and_line(
    fake: FakeBotApi, tmp_path: Path
) -> None:
    faq_dir = tmp_path / "faq"
    faq_dir.mkdir()
    (faq_dir / "a.yaml").write_text("category: A\nentries: [\n", encoding="utf-8")
    process = faqbot_process(fake, {"FAQ_DIR": str(faq_dir)}, cwd=tmp_path)
    output, _ = process.communicate(timeout=30)
    assert process.returncode == 1
    assert f"{faq_dir / 'a.yaml'}:" in output
    assert "Traceback" not in output


def test_run_webhook_checks_the_secret_and_answers(
    fake: FakeBotApi, faq_dir: Path, tmp_path: Path
) -> None:
    port = free_port()
    process = faqbot_process(
        fake,
        {
            "FAQ_DIR": str(faq_dir),
            "WEBHOOK_URL": "https://bot.example.com/telegram/hook",
            "WEBHOOK_SECRET": SECRET,
            "WEBHOOK_LISTEN": "127.0.0.1",
            "PORT": str(port),
        },
        cwd=tmp_path,
    )
    try:
        wait_until_listening(port, process)
        fake.wait_for(lambda server: server.webhook is not None, timeout=20)
        assert fake.webhook is not None
        assert fake.webhook["url"] == "https://bot.example.com/telegram/hook"
        assert fake.webhook["secret_token"] == SECRET
        local = f"http://127.0.0.1:{port}/telegram/hook"

        update = fake.send_text("Wie bereite ich mich auf einen Shitstorm vor?", user_id=2004)
        assert post(local, update, None) == 403
        assert post(local, update, "wrong") == 403
        assert fake.sent_messages(chat_id=2004) == []

        assert fake.deliver_webhook_updates(local) == [200]
        [reply] = fake.wait_for_messages(1, chat_id=2004, timeout=20)
    finally:
        code, output, seconds = stop(process)
    assert "Shitstorm" in reply["source_text"]
    assert code == 0, output
    assert seconds < 10
    assert fake.token not in output


def test_run_webhook_wrong_secret_is_logged_once_a_minute_with_a_count(
    fake: FakeBotApi, faq_dir: Path, tmp_path: Path
) -> None:
    port = free_port()
    process = faqbot_process(
        fake,
        {
            "FAQ_DIR": str(faq_dir),
            "WEBHOOK_URL": "https://bot.example.com/hook",
            "WEBHOOK_SECRET": SECRET,
            "WEBHOOK_LISTEN": "127.0.0.1",
            "PORT": str(port),
        },
        cwd=tmp_path,
    )
    try:
        wait_until_listening(port, process)
        update = fake.send_text("Hallo", user_id=2005)
        statuses = [post(f"http://127.0.0.1:{port}/hook", update, "wrong") for _ in range(50)]
    finally:
        code, output, _ = stop(process)
    assert code == 0, output
    assert statuses == [403] * 50
    assert output.count("without the right secret") == 1, output


def test_run_admin_ids_that_list_no_one_are_a_warning_at_start(
    fake: FakeBotApi, faq_dir: Path, tmp_path: Path
) -> None:
    process = faqbot_process(fake, {"FAQ_DIR": str(faq_dir), "ADMIN_IDS": " , "}, cwd=tmp_path)
    try:
        fake.wait_for_call("getUpdates", timeout=20)
    finally:
        code, output, _ = stop(process)
    assert code == 0, output
    [warning] = [line for line in output.splitlines() if "ADMIN_IDS" in line]
    assert "WARNING" in warning and "lists no user id" in warning
