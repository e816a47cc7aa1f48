"""Logging: every line through the redactor, JSON when asked, crashes included."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.logs import TOKEN_REJECTED, ThrottledLog, configure_logging
from tests.bot_runner import copy_faq, faqbot_process
from tests.conftest import ROOT
from tests.fake_bot_api import FakeBotApi

TOKEN = "123456:SECRET-token-value_abc"


@pytest.fixture
def faq_dir(tmp_path: Path) -> Path:
    return copy_faq(tmp_path / "faq")


@pytest.fixture
def restore_logging() -> Iterator[None]:
    hook, thread_hook = sys.excepthook, threading.excepthook
    yield
    sys.excepthook, threading.excepthook = hook, thread_hook
    logging.basicConfig(force=True, handlers=[logging.NullHandler()])
    logging.captureWarnings(False)


def python(code: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """A child Python that sets up logging as `faqbot run` does, then runs ``code``."""
    prelude = (
        "import sys; from bot.logs import configure_logging;"
        f" configure_logging('INFO', secrets=({TOKEN!r},), fmt=sys.argv[1])\n"
    )
    return subprocess.run(
        [sys.executable, "-c", prelude + code, (env or {}).get("fmt", "text")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


CRASHES = {
    "main thread": f"raise RuntimeError('boom with {TOKEN}')",
    "other thread": (
        "import threading\n"
        "def fail():\n"
        f"    raise ValueError({TOKEN!r})\n"
        "t = threading.Thread(target=fail); t.start(); t.join()"
    ),
    "asyncio task": (
        "import asyncio, gc\n"
        "async def fail():\n"
        f"    raise ValueError({TOKEN!r})\n"
        "async def main():\n"
        "    asyncio.get_running_loop().create_task(fail())\n"
        "    await asyncio.sleep(0.05)\n"
        "asyncio.run(main()); gc.collect()"
    ),
    "warning": f"import warnings; warnings.warn('careful {TOKEN}')",
}


@pytest.mark.parametrize("where", sorted(CRASHES))
@pytest.mark.parametrize("fmt", ["text", "json"])
def test_uncaught_errors_are_logged_redacted_and_as_json(where: str, fmt: str) -> None:
    result = python(CRASHES[where], {"fmt": fmt})
    output = result.stdout + result.stderr
    assert output.strip(), "nothing was written"
    assert TOKEN not in output
    assert TOKEN.split(":")[1] not in output
    assert "***" in output
    if fmt == "json":
        entries = [json.loads(line) for line in result.stderr.splitlines()]
        assert entries and all("message" in entry for entry in entries)


def test_redactor_also_catches_the_percent_encoded_token(
    capsys: pytest.CaptureFixture[str], restore_logging: None
) -> None:
    configure_logging("INFO", secrets=(TOKEN,))
    logging.getLogger("telegram.ext").error("GET /file/bot123456%%3A%s/x", TOKEN.split(":")[1])
    logging.getLogger("bot").error("url %s", f"https://api.telegram.org/bot{TOKEN}/getMe")
    err = capsys.readouterr().err
    assert "SECRET" not in err
    assert err.count("***") == 2


def test_debug_keeps_ptb_and_aiohttp_at_info(restore_logging: None) -> None:
    configure_logging("DEBUG", secrets=(TOKEN,))
    assert logging.getLogger("bot").isEnabledFor(logging.DEBUG)
    assert not logging.getLogger("telegram.Bot").isEnabledFor(logging.DEBUG)
    assert not logging.getLogger("telegram.ext.Application").isEnabledFor(logging.DEBUG)
    assert not logging.getLogger("aiohttp.client").isEnabledFor(logging.INFO)
    assert not logging.getLogger("httpx").isEnabledFor(logging.INFO)


def test_throttled_log_says_it_once_a_minute_with_a_count(
    caplog: pytest.LogCaptureFixture,
) -> None:
    now = [0.0]
    throttled = ThrottledLog(logging.getLogger("bot.test"), interval=60, clock=lambda: now[0])
    with caplog.at_level(logging.WARNING):
        for second in range(0, 130):
            now[0] = float(second)
            throttled.warning("Webhook request without the right secret")
    messages = [record.getMessage() for record in caplog.records]
    assert messages == [
        "Webhook request without the right secret",
        "Webhook request without the right secret (60 times since the last such line)",
        "Webhook request without the right secret (60 times since the last such line)",
    ]


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_run_with_a_rejected_token_says_so_in_one_line_and_exits_1(
    fake: FakeBotApi, faq_dir: Path, tmp_path: Path, fmt: str
) -> None:
    wrong = "654321:WRONG-token-never-shown"
    process = faqbot_process(
        fake,
        {"FAQ_DIR": str(faq_dir), "TELEGRAM_BOT_TOKEN": wrong, "LOG_FORMAT": fmt},
        cwd=tmp_path,
    )
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 1, output
    assert "WRONG-token" not in output
    assert "Traceback" not in output
    mentions = [line for line in output.splitlines() if "token" in line.lower()]
    assert len(mentions) == 1, output
    assert TOKEN_REJECTED in mentions[0]
    if fmt == "json":
        assert json.loads(mentions[0])["message"] == TOKEN_REJECTED


def test_run_bad_setting_is_a_json_line_with_log_format_json(
    fake: FakeBotApi, faq_dir: Path, tmp_path: Path
) -> None:
    process = faqbot_process(
        fake, {"FAQ_DIR": str(faq_dir), "LOG_FORMAT": "json", "PORT": "99999"}, cwd=tmp_path
    )
    output, _ = process.communicate(timeout=30)
    assert process.returncode == 1
    [entry] = [json.loads(line) for line in output.splitlines()]
    assert "PORT must be a number" in entry["message"]
