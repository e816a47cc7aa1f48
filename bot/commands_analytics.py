"""faqbot stats, suggest and report: what customers asked, read from the analytics store.

The store is SQLite in --data-dir or PostgreSQL in DATABASE_URL, wherever the bot
writes; a missing or unreadable store is a message that names it, never a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sqlite3
import sys
from collections.abc import Iterator
from pathlib import Path

from bot.commands_common import common_settings
from bot.config import read_environment
from bot.errors import FaqError
from bot.knowledge import load_knowledge_base


def _days(args: argparse.Namespace) -> int | None:
    if args.days < 0:
        raise FaqError(f"--days must be 0 (all time) or more, not {args.days}")
    return args.days or None


def cmd_stats(args: argparse.Namespace) -> int:
    """faqbot stats: the analytics report, as text or JSON."""
    from bot.report_queries import build_report
    from bot.stores import reader_for

    days = _days(args)
    url = _database_url()
    folder = common_settings(args).data_dir
    with _store_errors(folder, url) as data_dir, reader_for(data_dir, url) as db:
        report = build_report(db, days=days, top=args.top)
    if args.json:
        print(json.dumps(report.as_json(), ensure_ascii=False))
    else:
        print(report.text())
    return 0


def cmd_suggest(args: argparse.Namespace) -> int:
    """faqbot suggest: YAML drafts for staff on standard output."""
    from bot.stores import reader_for
    from bot.suggestions import suggest_snippets

    days = _days(args)
    common = common_settings(args)
    kb = load_knowledge_base(common.faq_dir)
    url = _database_url()
    with _store_errors(common.data_dir, url) as data_dir, reader_for(data_dir, url) as db:
        snippets = suggest_snippets(db, kb, days=days, min_group=args.min_group)
    sys.stdout.write(snippets)
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    """faqbot report: the staff report page, written whole or not at all."""
    from bot.config import load_store_settings
    from bot.report_html import render_report, render_unavailable
    from bot.report_queries import build_report
    from bot.store import DATABASE_FILE
    from bot.stores import reader_for

    days = _days(args)
    settings = load_store_settings(read_environment())
    common = common_settings(args)
    kb = load_knowledge_base(common.faq_dir)
    data_dir = common.data_dir
    url = settings.database_url
    if url or (data_dir / DATABASE_FILE).is_file():
        with _store_errors(data_dir, url):
            try:
                with reader_for(data_dir, url) as db:
                    report = build_report(db, days=days, top=args.top)
            except FileNotFoundError:
                if not url:
                    raise
                # A PostgreSQL database the bot has not written to yet: a page, not a crash.
                page = render_unavailable(_empty_database_reason(url), days=days)
                print("faqbot: no analytics store in DATABASE_URL yet", file=sys.stderr)
            else:
                page = render_report(report, kb, privacy=settings)
    else:
        page = render_unavailable(_no_store_reason(data_dir, settings.analytics), days=days)
        print(f"faqbot: no analytics store at {data_dir / DATABASE_FILE}", file=sys.stderr)
    if args.out == "-":
        sys.stdout.write(page)
        return 0
    out = Path(args.out)
    partial = out.with_name(out.name + ".part")
    try:
        partial.write_text(page, encoding="utf-8")
        partial.replace(out)  # a reader never sees half a page
    except OSError as exc:
        raise FaqError(
            f"cannot write the report to {out}: {exc.strerror or exc}; choose another"
            " --out FILE, or write to standard output: faqbot report --out - > report.html"
        ) from None
    size = len(page.encode("utf-8"))
    print(
        f"Bericht gespeichert: {out} ({size / 1024:,.0f} KB). Öffnen Sie die Datei im Browser.",
        file=sys.stderr,
    )
    return 0


def _no_store_reason(data_dir: Path, analytics: bool) -> str:
    from bot.store import DATABASE_FILE

    if not analytics:
        return (
            "Die Auswertung ist ausgeschaltet (ANALYTICS=false): Der Bot speichert keine"
            " Fragen, deshalb gibt es nichts zu berichten."
        )
    return (
        f"Unter {data_dir / DATABASE_FILE} liegt noch keine Auswertung. Sie entsteht,"
        " sobald der Bot läuft und die erste Frage beantwortet hat. Liegen die Daten"
        " woanders, geben Sie den Ordner mit --data-dir oder DATA_DIR an."
    )


def _empty_database_reason(url: str) -> str:
    from bot.store_pg import redact_url

    return (
        f"In der Datenbank {redact_url(url)} (DATABASE_URL) liegt noch keine Auswertung. Sie"
        " entsteht, sobald der Bot mit dieser Datenbank läuft und die erste Frage beantwortet"
        " hat."
    )


def _database_url() -> str | None:
    """DATABASE_URL (environment or .env), checked: reports read where the bot writes."""
    from bot.config import load_store_settings

    return load_store_settings(read_environment()).database_url


@contextlib.contextmanager
def _store_errors(data_dir: Path, database_url: str | None = None) -> Iterator[Path]:
    """A missing or unreadable store becomes a message naming the file or DATABASE_URL."""
    import psycopg

    from bot.store import DATABASE_FILE
    from bot.store_pg import redact_url

    try:
        yield data_dir
    except FileNotFoundError as exc:
        raise FaqError(str(exc)) from None
    except sqlite3.Error as exc:
        raise FaqError(
            f"cannot read the analytics store {data_dir / DATABASE_FILE}: {exc}"
        ) from None
    except psycopg.Error as exc:
        where = f"DATABASE_URL={redact_url(database_url or '')}"
        reason = " ".join(str(exc).split())
        raise FaqError(f"cannot read the analytics store in {where}: {reason}") from None
