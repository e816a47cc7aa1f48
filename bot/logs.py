"""Logging: plain text or one JSON object per line, never a secret, never a payload.

Every line the process writes goes through one handler on the root logger: records of
our own code, of PTB, aiohttp and asyncio (its exception handler logs to "asyncio"),
warnings (captured), and uncaught exceptions in the main thread and in other threads
(sys.excepthook, threading.excepthook). That handler's filter replaces secrets (the
bot token, also percent-encoded as PTB puts it in file URLs, and the webhook secret);
with LOG_FORMAT=json its formatter writes each record, traceback included, as one
JSON object carrying the id of the update being handled.

LOG_LEVEL=DEBUG shows our own decisions. PTB's loggers stay at INFO whatever the
level: at DEBUG they dump every Bot API payload ("Call to Bot API endpoint …
finished with return value …", "Processing update …") with question texts, user
ids and names. httpx and aiohttp log request URLs, which contain the token: WARNING.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
import time
from collections.abc import Callable
from contextvars import ContextVar
from datetime import UTC, datetime
from types import TracebackType
from urllib.parse import quote

current_update_id: ContextVar[int | None] = ContextVar("current_update_id", default=None)
"""The update a handler is working on; PTB runs each update in its own task."""

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

QUIET_LOGGERS = {
    "telegram": logging.INFO,  # payload dumps at DEBUG
    "httpx": logging.WARNING,  # request URLs with the token at INFO
    "httpcore": logging.WARNING,
    "aiohttp": logging.WARNING,
    # Each retry to reach PostgreSQL would be a line: the store logs the break once.
    "psycopg.pool": logging.CRITICAL,
}

TOKEN_REJECTED = "Telegram rejected the bot token (401): check TELEGRAM_BOT_TOKEN"

logger = logging.getLogger("bot")


def configure_logging(level: str, secrets: tuple[str, ...] = (), *, fmt: str = "text") -> None:
    """Log to stderr in ``fmt`` ("text" or "json"), secrets redacted, crashes included."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RefusedTokenFilter())
    handler.addFilter(SecretRedactor(secrets))
    handler.addFilter(UpdateIdFilter())
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    logging.basicConfig(level=level, handlers=[handler], force=True)
    for name, floor in QUIET_LOGGERS.items():
        logging.getLogger(name).setLevel(max(floor, logging.getLevelName(level)))
    logging.captureWarnings(True)
    sys.excepthook = _log_uncaught
    threading.excepthook = _log_uncaught_in_thread


def _log_uncaught(
    kind: type[BaseException], error: BaseException, traceback: TracebackType | None
) -> None:
    if issubclass(kind, KeyboardInterrupt):
        sys.__excepthook__(kind, error, traceback)
        return
    logger.critical("Uncaught exception, faqbot stops", exc_info=(kind, error, traceback))


def _log_uncaught_in_thread(args: threading.ExceptHookArgs) -> None:
    if args.exc_type is SystemExit or args.exc_value is None:
        return
    name = args.thread.name if args.thread is not None else "?"
    logger.critical(
        "Uncaught exception in thread %s",
        name,
        exc_info=(args.exc_type, args.exc_value, args.exc_traceback),
    )


class ThrottledLog:
    """Logs a recurring event at most once per ``interval``, saying how often it happened."""

    def __init__(
        self,
        target: logging.Logger,
        *,
        interval: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.target = target
        self.interval = interval
        self._clock = clock
        self._lock = threading.Lock()
        self._last = float("-inf")
        self._count = 0

    def log(self, level: int, message: str, *args: object) -> bool:
        """Count one occurrence; log it (with the count) if the interval has passed."""
        with self._lock:
            self._count += 1
            now = self._clock()
            if now - self._last < self.interval:
                return False
            count, self._count, self._last = self._count, 0, now
        if count > 1:
            message += f" ({count} times since the last such line)"
        self.target.log(level, message, *args)
        return True

    def warning(self, message: str, *args: object) -> bool:
        return self.log(logging.WARNING, message, *args)

    def error(self, message: str, *args: object) -> bool:
        return self.log(logging.ERROR, message, *args)


class RefusedTokenFilter(logging.Filter):
    """Drops PTB's traceback for a refused token: serve.reject_token() says it in one line.

    Matched by name so that this module needs no import of telegram."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        return not (record.name.startswith("telegram") and type(error).__name__ == "InvalidToken")


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
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False)


class SecretRedactor(logging.Filter):
    """Replaces secrets (the bot token) in every record that passes a handler."""

    def __init__(self, secrets: tuple[str, ...]) -> None:
        super().__init__()
        variants = {form for secret in secrets if secret for form in _forms(secret)}
        self.secrets = tuple(sorted(variants, key=len, reverse=True))

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


def _forms(secret: str) -> tuple[str, ...]:
    """The secret as written and percent-encoded; for a token also the part after ':'
    (the bot id before it is public)."""
    derived = [quote(secret, safe="")]
    if ":" in secret:
        derived.append(secret.split(":", 1)[1])
    return (secret, *(form for form in derived if len(form) >= 8))
