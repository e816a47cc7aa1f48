"""Settings from the environment (and a ``.env`` file), read once at start-up.

The variable names are an interface: deployment files and admins depend on them.
A missing or bad value fails fast with a ``ConfigError`` naming the variable and
saying what to do.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from dotenv import dotenv_values

from bot.errors import ConfigError
from bot.semantic import SemanticMode, parse_mode
from bot.texts import DEFAULT_CONTACT_TEXT

DEFAULT_BASE_URL = "https://api.telegram.org/bot"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
ADMIN_ID = re.compile(r"[0-9]{1,20}")


@dataclass(frozen=True)
class Settings:
    """Everything the bot is configured with."""

    token: str
    base_url: str = DEFAULT_BASE_URL
    faq_dir: Path = Path("faq")
    data_dir: Path = Path("data")
    admin_ids: frozenset[int] = frozenset()
    webhook_url: str | None = None
    webhook_secret: str | None = None
    port: int = 8080
    # All interfaces: inside a container the reverse proxy connects from outside.
    webhook_listen: str = "0.0.0.0"
    rate_limit: float = 30.0
    contact_text: str = DEFAULT_CONTACT_TEXT
    log_level: str = "INFO"
    log_format: str = "text"
    metrics_port: int | None = None
    retention_days: int = 90
    store_questions: bool = True
    analytics: bool = True
    warnings: tuple[str, ...] = ()
    """Settings that work but are probably not what was meant; logged at start."""
    # Seconds to finish replies in hand on SIGTERM; below compose's stop_grace_period.
    shutdown_timeout: int = 10
    staff_chat_id: int | None = None
    """The staff group that receives handed-over questions; None: no handoff."""
    handoff_retention_days: int = 14
    semantic: SemanticMode = "auto"
    database_url: str | None = None
    """PostgreSQL for everything stored (several replicas); None: SQLite in data_dir."""

    @property
    def webhook_path(self) -> str:
        """The path the webhook server answers on: the path of WEBHOOK_URL."""
        return urlsplit(self.webhook_url or "").path.lstrip("/")

    def __repr__(self) -> str:  # never show the token, even in a traceback
        return f"Settings(token='***', base_url={self.base_url!r}, faq_dir={self.faq_dir!r})"


@dataclass(frozen=True)
class CommonSettings:
    """What every faqbot command reads: where the FAQ and the data live, and how
    customers reach a human. Needs no bot token (only ``faqbot run`` does)."""

    faq_dir: Path = Path("faq")
    data_dir: Path = Path("data")
    contact_text: str = DEFAULT_CONTACT_TEXT
    semantic: SemanticMode = "auto"
    """SEMANTIC: whether every command matches as ``faqbot run`` does, with the encoder."""


def load_common_settings(
    environ: Mapping[str, str], *, faq_dir: Path | None = None, data_dir: Path | None = None
) -> CommonSettings:
    """FAQ_DIR, DATA_DIR, CONTACT_TEXT and SEMANTIC; ``faq_dir``/``data_dir``
    (command-line options) win over the environment."""

    def get(name: str) -> str | None:
        return environ.get(name, "").strip() or None

    return CommonSettings(
        faq_dir=faq_dir if faq_dir is not None else Path(get("FAQ_DIR") or "faq"),
        data_dir=data_dir if data_dir is not None else Path(get("DATA_DIR") or "data"),
        contact_text=get("CONTACT_TEXT") or DEFAULT_CONTACT_TEXT,
        semantic=parse_mode(get("SEMANTIC")),
    )


@dataclass(frozen=True)
class StoreSettings:
    """What the analytics store keeps: for `faqbot report`, which needs no bot token."""

    analytics: bool = True
    store_questions: bool = True
    retention_days: int = 90
    database_url: str | None = None


def load_store_settings(environ: Mapping[str, str]) -> StoreSettings:
    """ANALYTICS, STORE_QUESTIONS and RETENTION_DAYS alone, checked as load_settings does."""
    values = {name: environ.get(name, "").strip() or None for name in _STORE_VARIABLES}
    return StoreSettings(
        analytics=_flag("ANALYTICS", values["ANALYTICS"], default=True),
        store_questions=_flag("STORE_QUESTIONS", values["STORE_QUESTIONS"], default=True),
        retention_days=_number(
            "RETENTION_DAYS", values["RETENTION_DAYS"], 90, minimum=1, maximum=36500
        ),
        database_url=_database_url(values["DATABASE_URL"]),
    )


_STORE_VARIABLES = ("ANALYTICS", "STORE_QUESTIONS", "RETENTION_DAYS", "DATABASE_URL")


def _database_url(value: str | None) -> str | None:
    """DATABASE_URL: a postgresql:// URL or nothing (SQLite). Never echoed: a password."""
    if value is None:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("postgresql", "postgres") or not (parts.hostname or parts.query):
        raise ConfigError(
            "DATABASE_URL must look like postgresql://user:password@host:5432/database"
            " (or be unset for SQLite in DATA_DIR)"
        )
    return value


def read_environment(
    environ: Mapping[str, str] | None = None, *, env_file: Path | None = Path(".env")
) -> dict[str, str]:
    """The environment, with values from ``env_file`` where the environment has none."""
    values: dict[str, str] = {}
    if env_file is not None and env_file.is_file():
        values.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
    values.update(os.environ if environ is None else environ)
    return values


def load_settings(environ: Mapping[str, str]) -> Settings:
    """Validate the variables; raise ConfigError naming the first bad one."""

    def get(name: str) -> str | None:
        value = environ.get(name, "").strip()
        return value or None

    token = get("TELEGRAM_BOT_TOKEN")
    if token is None:
        raise ConfigError(
            "TELEGRAM_BOT_TOKEN is not set. Create a bot with @BotFather and set"
            " TELEGRAM_BOT_TOKEN=<token> (in the environment or in .env).\n"
            "To try the same conversation without Telegram, run: faqbot chat"
        )
    if ":" not in token or any(char.isspace() for char in token):
        raise ConfigError(
            "TELEGRAM_BOT_TOKEN does not look like a bot token (expected '123456:ABC...')"
        )

    base_url = get("TELEGRAM_BASE_URL") or DEFAULT_BASE_URL
    if urlsplit(base_url).scheme not in ("http", "https") or not urlsplit(base_url).netloc:
        raise ConfigError(f"TELEGRAM_BASE_URL must be an http(s) URL, got {base_url!r}")

    webhook_url = get("WEBHOOK_URL")
    webhook_secret = get("WEBHOOK_SECRET")
    if webhook_url is not None:
        parts = urlsplit(webhook_url)
        if parts.scheme != "https" or not parts.netloc:
            raise ConfigError(
                f"WEBHOOK_URL must be an https:// URL (Telegram only calls https), got"
                f" {webhook_url!r}"
            )
        if webhook_secret is None:
            raise ConfigError(
                "WEBHOOK_SECRET is required with WEBHOOK_URL: 1-256 characters of"
                " A-Z, a-z, 0-9, _ and -, e.g. from: openssl rand -hex 32"
            )
        if not all(c.isascii() and (c.isalnum() or c in "_-") for c in webhook_secret) or not (
            1 <= len(webhook_secret) <= 256
        ):
            raise ConfigError("WEBHOOK_SECRET may only contain A-Z, a-z, 0-9, _ and -")

    log_level = (get("LOG_LEVEL") or "INFO").upper()
    if log_level not in LOG_LEVELS:
        raise ConfigError(f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, got {log_level!r}")

    admin_ids = _admin_ids(get("ADMIN_IDS"))
    warnings = []
    if get("ADMIN_IDS") is not None and not admin_ids:
        warnings.append(
            "ADMIN_IDS is set but lists no user id: no one can use /stats, /reload or /debug,"
            " and no one is told about knowledge-base problems"
        )

    common = load_common_settings(environ)
    return Settings(
        token=token,
        base_url=base_url,
        faq_dir=common.faq_dir,
        data_dir=common.data_dir,
        admin_ids=admin_ids,
        webhook_url=webhook_url,
        webhook_secret=webhook_secret,
        port=_number("PORT", get("PORT"), 8080, minimum=1, maximum=65535),
        webhook_listen=get("WEBHOOK_LISTEN") or "0.0.0.0",
        rate_limit=_rate("TELEGRAM_RATE_LIMIT", get("TELEGRAM_RATE_LIMIT")),
        contact_text=common.contact_text,
        log_level=log_level,
        log_format=_choice("LOG_FORMAT", get("LOG_FORMAT"), ("text", "json")),
        metrics_port=(
            _number("METRICS_PORT", metrics_port, 0, minimum=1, maximum=65535)
            if (metrics_port := get("METRICS_PORT"))
            else None
        ),
        retention_days=_number(
            "RETENTION_DAYS", get("RETENTION_DAYS"), 90, minimum=1, maximum=36500
        ),
        store_questions=_flag("STORE_QUESTIONS", get("STORE_QUESTIONS"), default=True),
        analytics=_flag("ANALYTICS", get("ANALYTICS"), default=True),
        warnings=tuple(warnings),
        shutdown_timeout=_number(
            "SHUTDOWN_TIMEOUT", get("SHUTDOWN_TIMEOUT"), 10, minimum=1, maximum=600
        ),
        staff_chat_id=_chat_id("STAFF_CHAT_ID", get("STAFF_CHAT_ID")),
        handoff_retention_days=_number(
            "HANDOFF_RETENTION_DAYS", get("HANDOFF_RETENTION_DAYS"), 14, minimum=1, maximum=365
        ),
        semantic=common.semantic,
        database_url=_database_url(get("DATABASE_URL")),
    )


def logging_wanted(environ: Mapping[str, str]) -> tuple[str, str]:
    """LOG_LEVEL and LOG_FORMAT before the settings are checked (bad ones: INFO, text),
    so that a bad setting is itself reported in the format asked for."""
    level = environ.get("LOG_LEVEL", "").strip().upper()
    fmt = environ.get("LOG_FORMAT", "").strip().lower()
    return (level if level in LOG_LEVELS else "INFO", fmt if fmt == "json" else "text")


def _chat_id(name: str, value: str | None) -> int | None:
    if value is None:
        return None
    # ASCII digits only: str.isdigit() would take fullwidth and Arabic-Indic digits too.
    if not re.fullmatch(r"-?[0-9]+", value) or int(value) == 0:
        raise ConfigError(
            f"{name} must be the staff group's Telegram chat id, a number (groups are"
            f" negative, e.g. -1001234567890), got {value!r}; a bot such as @RawDataBot"
            " added to the group tells its id"
        )
    return int(value)


def _flag(name: str, value: str | None, *, default: bool) -> bool:
    if value is None:
        return default
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be true or false, got {value!r}")


def _choice(name: str, value: str | None, allowed: tuple[str, ...]) -> str:
    if value is None:
        return allowed[0]
    if value.lower() not in allowed:
        raise ConfigError(f"{name} must be one of {', '.join(allowed)}, got {value!r}")
    return value.lower()


def _admin_ids(value: str | None) -> frozenset[int]:
    if value is None:
        return frozenset()
    ids = set()
    for item in value.split(","):
        item = item.strip()
        if not item:
            continue
        # ASCII digits only: str.isdigit() also takes fullwidth and Arabic-Indic digits,
        # which int() would silently turn into another admin's id.
        if not ADMIN_ID.fullmatch(item):
            raise ConfigError(
                f"ADMIN_IDS must be comma-separated Telegram user ids (digits 0-9), got"
                f" {item!r}; a user can learn their id from @userinfobot"
            )
        ids.add(int(item))
    return frozenset(ids)


def _number(name: str, value: str | None, default: int, *, minimum: int, maximum: int) -> int:
    if value is None:
        return default
    if not value.isdigit() or not minimum <= int(value) <= maximum:
        raise ConfigError(f"{name} must be a number from {minimum} to {maximum}, got {value!r}")
    return int(value)


def _rate(name: str, value: str | None) -> float:
    if value is None:
        return 30.0
    try:
        rate = float(value)
    except ValueError:
        rate = -1.0
    if rate < 0:
        raise ConfigError(
            f"{name} must be messages per second (a number, 0 turns throttling off), got {value!r}"
        )
    return rate
