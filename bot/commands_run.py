"""faqbot run and health: the Telegram bot itself, and the check Docker runs on it."""

from __future__ import annotations

import argparse
import json
import os

from bot.config import read_environment
from bot.errors import FaqError, KnowledgeBaseError


def cmd_run(args: argparse.Namespace) -> int:
    """faqbot run: the Telegram bot until it is stopped; 1 if it cannot start."""
    import logging

    from bot.config import load_settings, logging_wanted
    from bot.logs import configure_logging

    # PTB 22 warns unless told to express retry_after and similar periods as timedelta;
    # deliver() handles both. Set for this process only, before PTB is imported.
    os.environ.setdefault("PTB_TIMEDELTA", "true")
    environment = read_environment()
    if args.faq_dir is not None:
        environment["FAQ_DIR"] = str(args.faq_dir)
    # Logging first, so that even a bad setting is reported as a log line (JSON too).
    level, fmt = logging_wanted(environment)
    configure_logging(level, secrets=secrets_to_redact(environment), fmt=fmt)
    log = logging.getLogger("bot")
    try:
        settings = load_settings(environment)
        for warning in settings.warnings:
            log.warning("%s", warning)
        from bot.telegram.serve import run

        return run(settings)
    except KnowledgeBaseError as exc:
        log.critical("The knowledge base has errors:\n%s", exc)
    except FaqError as exc:
        log.critical("%s", exc)
    return 1


def secrets_to_redact(environment: dict[str, str]) -> tuple[str, ...]:
    """The values no log line may show: the token, the webhook secret, the DB password."""
    from bot.store_pg import url_password

    names = ("TELEGRAM_BOT_TOKEN", "WEBHOOK_SECRET")
    found = [value for name in names if (value := environment.get(name, "").strip())]
    password = url_password(environment.get("DATABASE_URL", "").strip())
    return (*found, *([password] if password else ()))


def cmd_health(args: argparse.Namespace) -> int:
    """faqbot health: exit 0 if the running bot reports itself healthy."""
    from bot.health import STARTING, check, details, semantic_report

    environment = read_environment()
    healthy, reason = check(environment)
    reported = details(environment)
    report = {**reported, **semantic_report(environment, reported)}
    if args.json:
        print(json.dumps({**report, "healthy": healthy, "reason": reason}, ensure_ascii=False))
        return 0 if healthy else 1
    store = report.get("store")
    if isinstance(store, dict) and store.get("state") == "failing":
        # Still healthy: answering goes on, and a restart would not free a full disk.
        reason += (
            f"; analytics store failing since {store.get('since')}"
            f" ({store.get('events_lost')} events lost): {store.get('error')}"
        )
    if healthy or not reason.startswith(STARTING):
        reason = ("healthy: " if healthy else "unhealthy: ") + reason
    print(reason)
    return 0 if healthy else 1
