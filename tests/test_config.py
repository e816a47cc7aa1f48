"""Settings from the environment: defaults, parsing, and secrets kept out of logs."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.config import DEFAULT_BASE_URL, load_settings, read_environment
from bot.errors import ConfigError
from bot.logs import SecretRedactor
from bot.texts import DEFAULT_CONTACT_TEXT

TOKEN = "123456:ABC-secret"


def test_load_settings_defaults() -> None:
    settings = load_settings({"TELEGRAM_BOT_TOKEN": TOKEN})
    assert settings.base_url == DEFAULT_BASE_URL
    assert settings.faq_dir == Path("faq")
    assert settings.data_dir == Path("data")
    assert settings.admin_ids == frozenset()
    assert settings.webhook_url is None
    assert (settings.port, settings.webhook_listen) == (8080, "0.0.0.0")
    assert settings.rate_limit == 30.0
    assert settings.contact_text == DEFAULT_CONTACT_TEXT
    assert settings.log_level == "INFO"


def test_load_settings_reads_every_variable() -> None:
    settings = load_settings(
        {
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_BASE_URL": "http://127.0.0.1:8081/bot",
            "FAQ_DIR": "/srv/faq",
            "DATA_DIR": "/data",
            "ADMIN_IDS": " 12, 34 ,,",
            "WEBHOOK_URL": "https://bot.example.com/tg/hook",
            "WEBHOOK_SECRET": "abc_DEF-123",
            "PORT": "8443",
            "WEBHOOK_LISTEN": "127.0.0.1",
            "TELEGRAM_RATE_LIMIT": "0",
            "CONTACT_TEXT": "Rufen Sie an.",
            "LOG_LEVEL": "debug",
        }
    )
    assert settings.admin_ids == frozenset({12, 34})
    assert settings.webhook_path == "tg/hook"
    assert settings.port == 8443
    assert settings.rate_limit == 0
    assert settings.log_level == "DEBUG"
    assert settings.faq_dir == Path("/srv/faq")


def test_load_settings_handoff() -> None:
    default = load_settings({"TELEGRAM_BOT_TOKEN": TOKEN})
    assert (default.staff_chat_id, default.handoff_retention_days) == (None, 14)
    settings = load_settings(
        {
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "STAFF_CHAT_ID": "-1001234567890",
            "HANDOFF_RETENTION_DAYS": "7",
        }
    )
    assert (settings.staff_chat_id, settings.handoff_retention_days) == (-1001234567890, 7)


def test_load_settings_semantic_defaults_to_auto_and_rejects_other_values() -> None:
    assert load_settings({"TELEGRAM_BOT_TOKEN": TOKEN}).semantic == "auto"
    assert load_settings({"TELEGRAM_BOT_TOKEN": TOKEN, "SEMANTIC": "OFF"}).semantic == "off"
    with pytest.raises(ConfigError, match="SEMANTIC must be auto, on or off"):
        load_settings({"TELEGRAM_BOT_TOKEN": TOKEN, "SEMANTIC": "maybe"})


def test_settings_repr_hides_the_token() -> None:
    assert TOKEN not in repr(load_settings({"TELEGRAM_BOT_TOKEN": TOKEN}))


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("WEBHOOK_SECRET", "has space"),
        ("PORT", "0"),
        ("TELEGRAM_RATE_LIMIT", "-1"),
        ("STAFF_CHAT_ID", "@agentur_team"),
        ("STAFF_CHAT_ID", "0"),
        ("HANDOFF_RETENTION_DAYS", "0"),
        ("HANDOFF_RETENTION_DAYS", "vierzehn"),
    ],
)
def test_load_settings_bad_value_names_the_variable(name: str, value: str) -> None:
    environ = {
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "WEBHOOK_URL": "https://x.example/h",
        "WEBHOOK_SECRET": "ok",
        name: value,
    }
    with pytest.raises(ConfigError, match=name):
        load_settings(environ)


def test_read_environment_prefers_the_environment_over_dotenv(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text('FAQ_DIR=from-file\nexport LOG_LEVEL="WARNING"  # quiet\n')
    values = read_environment({"FAQ_DIR": "from-env"}, env_file=env_file)
    assert values["FAQ_DIR"] == "from-env"
    assert values["LOG_LEVEL"] == "WARNING"


def test_secret_redactor_removes_the_token_from_messages_and_tracebacks() -> None:
    redactor = SecretRedactor((TOKEN,))
    try:
        raise RuntimeError(f"POST https://api.telegram.org/bot{TOKEN}/getMe failed")
    except RuntimeError as exc:
        record = logging.LogRecord(
            "httpx",
            logging.WARNING,
            __file__,
            1,
            "url %s",
            (f"/bot{TOKEN}/x",),
            (type(exc), exc, exc.__traceback__),
        )
    assert redactor.filter(record)
    assert TOKEN not in record.getMessage()
    assert record.exc_text is not None and TOKEN not in record.exc_text
    assert "***" in record.getMessage()


@pytest.mark.parametrize(
    "value", ["\uff11\uff12\uff13", "\u0661\u0662\u0663", "12,\uff13", "-5", "1e3", "+7"]
)
def test_admin_ids_take_ascii_digits_only(value: str) -> None:
    # Fullwidth and Arabic-Indic digits: int() would read them as admin 123.
    with pytest.raises(ConfigError, match="ADMIN_IDS must be comma-separated"):
        load_settings({"TELEGRAM_BOT_TOKEN": "1:x", "ADMIN_IDS": value})


@pytest.mark.parametrize("value", [",", " , ,"])
def test_admin_ids_that_list_no_one_are_a_warning(value: str) -> None:
    settings = load_settings({"TELEGRAM_BOT_TOKEN": "1:x", "ADMIN_IDS": value})
    assert settings.admin_ids == frozenset()
    [warning] = settings.warnings
    assert "ADMIN_IDS" in warning


def test_no_admin_ids_at_all_is_no_warning() -> None:
    assert load_settings({"TELEGRAM_BOT_TOKEN": "1:x"}).warnings == ()


def test_load_settings_shutdown_timeout_defaults_below_compose_grace_period() -> None:
    assert load_settings({"TELEGRAM_BOT_TOKEN": TOKEN}).shutdown_timeout == 10
    settings = load_settings({"TELEGRAM_BOT_TOKEN": TOKEN, "SHUTDOWN_TIMEOUT": "25"})
    assert settings.shutdown_timeout == 25
    with pytest.raises(ConfigError, match="SHUTDOWN_TIMEOUT must be a number from 1 to 600"):
        load_settings({"TELEGRAM_BOT_TOKEN": TOKEN, "SHUTDOWN_TIMEOUT": "0"})
