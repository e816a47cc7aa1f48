"""Logging: plain text or one JSON object per line, never a secret.

httpx and aiohttp would log request URLs, and Bot API URLs contain the token: every
record passes the redactor, and the noisy HTTP loggers stay at WARNING. With
LOG_FORMAT=json each line carries the id of the update being handled, so a log
collector can follow one customer message through the bot.
"""

from __future__ import annotations

import json
import logging
from contextvars import ContextVar
from datetime import UTC, datetime

current_update_id: ContextVar[int | None] = ContextVar("current_update_id", default=None)
"""The update a handler is working on; PTB runs each update in its own task."""

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure_logging(level: str, secrets: tuple[str, ...] = (), *, fmt: str = "text") -> None:
    """Log to stderr in ``fmt`` ("text" or "json"), secrets redacted."""
    logging.basicConfig(level=level, format=TEXT_FORMAT, force=True)
    for noisy in ("httpx", "httpcore", "aiohttp.access", "aiohttp.client"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    redactor = SecretRedactor(secrets)
    for handler in logging.getLogger().handlers:
        handler.addFilter(redactor)
        handler.addFilter(UpdateIdFilter())
        if fmt == "json":
            handler.setFormatter(JsonFormatter())


class UpdateIdFilter(logging.Filter):
    """Attaches the id of the update being handled, where there is one."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "update_id"):
            record.update_id = current_update_id.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, update id, exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        update_id = getattr(record, "update_id", None)
        if update_id is not None:
            entry["update_id"] = update_id
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False)


class SecretRedactor(logging.Filter):
    """Replaces secrets (the bot token) in every record that passes a handler."""

    def __init__(self, secrets: tuple[str, ...]) -> None:
        super().__init__()
        self.secrets = tuple(secret for secret in secrets if secret)

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        redacted = message
        exc_text = record.exc_text
        for secret in self.secrets:
            redacted = redacted.replace(secret, "***")
            if exc_text:
                exc_text = exc_text.replace(secret, "***")
        record.msg, record.args, record.exc_text = redacted, None, exc_text
        return True
