"""Operations: /healthz and /metrics over real HTTP, `faqbot health`, JSON logs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.health import HEARTBEAT_FILE, MAX_AGE, check, details
from bot.knowledge import load_knowledge_base
from tests.bot_runner import copy_faq, faqbot_process
from tests.conftest import ROOT, SECRET, free_port, get, stop, wait_until_listening
from tests.fake_bot_api import FakeBotApi


@pytest.fixture
def faq_dir(tmp_path: Path) -> Path:
    return copy_faq(tmp_path / "faq")


def health_command(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k not in ("WEBHOOK_URL", "PORT")}
    return subprocess.run(
        [sys.executable, "-m", "bot", "health"],
        env={**environment, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_webhook_mode_serves_healthz_and_metrics_on_its_port(
    fake: FakeBotApi, faq_dir: Path, tmp_path: Path
) -> None:
    port = free_port()
    env = {
        "FAQ_DIR": str(faq_dir),
        "WEBHOOK_URL": "https://bot.example.com/hook",
        "WEBHOOK_SECRET": SECRET,
        "WEBHOOK_LISTEN": "127.0.0.1",
        "PORT": str(port),
    }
    process = faqbot_process(fake, env, cwd=tmp_path)
    try:
        wait_until_listening(port, process)
        fake.wait_for(lambda server: server.webhook is not None, timeout=20)
        fake.send_text("Was ist DNSSEC?", user_id=3001)
        assert fake.deliver_webhook_updates(f"http://127.0.0.1:{port}/hook") == [200]
        fake.wait_for_messages(1, chat_id=3001, timeout=20)
        # The latency is observed once Telegram accepted the reply, a moment after the
        # fake recorded it. A chat's outbox sends its next reply only after that, so the
        # reply to /help proves the answer's latency is counted.
        fake.send_command("/help", user_id=3001)
        assert fake.deliver_webhook_updates(f"http://127.0.0.1:{port}/hook") == [200]
        fake.wait_for_messages(2, chat_id=3001, timeout=20)

        status, content_type, body = get(f"http://127.0.0.1:{port}/healthz")
        report = json.loads(body)
        assert (status, content_type.split(";")[0]) == (200, "application/json")
        assert report["status"] == "ok"
        assert report["mode"] == "webhook"
        assert report["entries"] == len(load_knowledge_base(faq_dir))
        assert report["last_reload"]["ok"] is True

        status, content_type, metrics = get(f"http://127.0.0.1:{port}/metrics")
        assert status == 200 and content_type.startswith("text/plain")
        assert 'faqbot_questions_total{decision="answer"} 1.0' in metrics
        assert f"faqbot_knowledge_base_entries {report['entries']:.1f}" in metrics
        assert "faqbot_answer_latency_seconds_count 1.0" in metrics
        assert "faqbot_reload_errors_total 0.0" in metrics
        assert "faqbot_store_failures_total 0.0" in metrics
        assert "faqbot_telegram_api_errors_total" in metrics

        healthy = health_command({"WEBHOOK_URL": env["WEBHOOK_URL"], "PORT": str(port)})
        assert healthy.returncode == 0, healthy.stdout
    finally:
        code, output, _ = stop(process)
    assert code == 0, output


def test_polling_mode_writes_a_heartbeat_and_serves_metrics_port(
    fake: FakeBotApi, faq_dir: Path, tmp_path: Path
) -> None:
    port = free_port()
    data_dir = tmp_path / "data"
    process = faqbot_process(
        fake,
        {"FAQ_DIR": str(faq_dir), "DATA_DIR": str(data_dir), "METRICS_PORT": str(port)},
        cwd=tmp_path,
    )
    try:
        fake.wait_for_call("getUpdates", count=2, timeout=20)
        wait_until_listening(port, process)
        fake.fail_next("sendMessage", status=502)
        fake.send_text("shitstorm", user_id=3002)
        fake.wait_for_messages(1, chat_id=3002, timeout=20)
        _, _, metrics = get(f"http://127.0.0.1:{port}/metrics")
        _, _, health = get(f"http://127.0.0.1:{port}/healthz")
        result = health_command({"DATA_DIR": str(data_dir)})
    finally:
        code, output, _ = stop(process)
    assert code == 0, output
    assert (data_dir / HEARTBEAT_FILE).is_file()
    assert result.returncode == 0, result.stdout
    assert 'faqbot_telegram_api_errors_total{kind="5xx"} 1.0' in metrics
    assert json.loads(health)["mode"] == "polling"


def test_health_fresh_stale_and_missing_heartbeat(tmp_path: Path) -> None:
    heartbeat = tmp_path / HEARTBEAT_FILE
    environ = {"DATA_DIR": str(tmp_path)}
    assert check(environ)[0] is False  # missing
    heartbeat.write_text("1\n")
    assert check(environ)[0] is True  # fresh
    stale = time.time() - MAX_AGE - 5
    os.utime(heartbeat, (stale, stale))
    healthy, reason = check(environ)
    assert healthy is False
    assert "ago" in reason
    assert health_command(environ).returncode == 1


def test_health_webhook_mode_without_a_server_is_unhealthy() -> None:
    result = health_command({"WEBHOOK_URL": "https://x.example/h", "PORT": str(free_port())})
    assert result.returncode == 1
    assert "did not answer" in result.stdout


def test_json_logs_parse_line_by_line_and_never_contain_the_token(
    fake: FakeBotApi, faq_dir: Path, tmp_path: Path
) -> None:
    process = faqbot_process(
        fake,
        {"FAQ_DIR": str(faq_dir), "LOG_FORMAT": "json", "LOG_LEVEL": "DEBUG"},
        cwd=tmp_path,
    )
    try:
        fake.send_text("dnssec", user_id=3003)
        fake.wait_for_messages(1, chat_id=3003, timeout=20)
    finally:
        code, output, _ = stop(process)
    assert code == 0
    assert fake.token not in output
    entries = [json.loads(line) for line in output.splitlines() if line.strip()]
    assert entries
    assert all({"time", "level", "logger", "message"} <= set(entry) for entry in entries)
    decisions = [e for e in entries if e["message"].startswith("Decision answer")]
    assert decisions and isinstance(decisions[0]["update_id"], int)


def test_health_json_shows_the_report_of_the_heartbeat(tmp_path: Path) -> None:
    heartbeat = tmp_path / HEARTBEAT_FILE
    store = {"state": "failing", "since": "2026-01-01T00:00:00+00:00", "events_lost": 3}
    heartbeat.write_text(json.dumps({"at": int(time.time()), "store": store}))
    result = subprocess.run(
        [sys.executable, "-m", "bot", "health", "--json"],
        env={
            **{k: v for k, v in os.environ.items() if k != "WEBHOOK_URL"},
            "DATA_DIR": str(tmp_path),
        },
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    report = json.loads(result.stdout)
    assert result.returncode == 0
    assert report["healthy"] is True
    assert report["store"] == store
    plain = health_command({"DATA_DIR": str(tmp_path)})
    assert plain.returncode == 0
    assert "analytics store failing since 2026-01-01T00:00:00+00:00 (3 events lost)" in plain.stdout
    heartbeat.write_text("1700000000\n")  # from an older faqbot: just a time
    assert details({"DATA_DIR": str(tmp_path)}) == {}
