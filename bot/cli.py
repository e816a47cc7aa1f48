"""The ``faqbot`` command: ask, check, eval, chat, run, health, stats, suggest, report.

This module is the argparse tree and the edge where errors become exit codes: FaqError
and its family become a clean message and exit code 1 (2 for usage errors). The
commands themselves are thin and live by what they do: bot/commands_kb.py (ask, check,
chat), bot/commands_eval.py (eval), bot/commands_analytics.py (stats, suggest, report)
and bot/commands_run.py (run, health).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from bot import __version__
from bot.commands_analytics import cmd_report, cmd_stats, cmd_suggest
from bot.commands_eval import DEFAULT_HOLDOUT_SET, DEFAULT_LABELLED_SET, cmd_eval
from bot.commands_kb import cmd_ask, cmd_chat, cmd_check
from bot.commands_run import cmd_health, cmd_run
from bot.errors import FaqError, KnowledgeBaseError

Handler = Callable[[argparse.Namespace], int]

TOP_HELP = "list at most N of each (default 10)"


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``faqbot`` command; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "handler"):
        parser.print_help()
        return 2
    try:
        code: int = args.handler(args)
        return code
    except KnowledgeBaseError as exc:
        print(f"Die FAQ-Dateien enthalten Fehler; nichts wurde geladen:\n{exc}", file=sys.stderr)
        return 1
    except FaqError as exc:
        print(f"faqbot: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


# Options that several commands share, written once ------------------------------------


def add_json_flag(parser: argparse.ArgumentParser, help: str = "print one JSON object") -> None:
    """``--json``: machine-readable output instead of the text for people."""
    parser.add_argument("--json", action="store_true", help=help)


def add_count_option(parser: argparse.ArgumentParser, flag: str, default: int, help: str) -> None:
    """An option taking a whole number N, such as ``--top N``."""
    parser.add_argument(flag, type=int, default=default, metavar="N", help=help)


def folder_option(flag: str, help: str) -> argparse.ArgumentParser:
    """A parent parser with one folder option (default None: the settings decide)."""
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument(flag, type=Path, default=None, help=help)
    return parent


# The tree ---------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    """``faqbot`` and its commands, each with help and an example."""
    parser = argparse.ArgumentParser(
        prog="faqbot",
        description="Answers German customer questions from a YAML FAQ knowledge base.",
        epilog='Example: faqbot ask "Wie werde ich Kommentar-Spam los?"',
    )
    parser.add_argument("--version", action="version", version=f"faqbot {__version__}")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")
    faq_dir = folder_option("--faq-dir", "knowledge base folder (default: $FAQ_DIR, else ./faq)")

    def command(
        name: str, summary: str, example: str, handler: Handler, *more: argparse.ArgumentParser
    ) -> argparse.ArgumentParser:
        sub = commands.add_parser(
            name,
            parents=[faq_dir, *more],
            help=summary,
            description=summary,
            epilog=f"Example: {example}",
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        sub.set_defaults(handler=handler)
        return sub

    ask = command(
        "ask",
        "Answer one question, or one question per line from stdin (as JSON lines).",
        'faqbot ask "dnssec was ist das"   |   faqbot ask < questions.txt',
        cmd_ask,
    )
    ask.add_argument("question", nargs="*", help="the question (omit to read stdin)")
    add_json_flag(ask)

    check = command(
        "check",
        "Validate the knowledge base; list errors, warnings and drafts as file:line: message"
        " (German, for staff). Exit 1 on errors.",
        "faqbot check   |   faqbot check --json > befunde.json",
        cmd_check,
    )
    check.add_argument(
        "--no-confusions", action="store_true", help="skip the confusable-entries warnings"
    )
    add_json_flag(check, "print a JSON list of {file, line, column, severity, code, message}")

    evaluate = command(
        "eval",
        "Measure answer quality on labelled question sets: lexical-only, semantic-only and"
        " fused matching side by side.",
        "faqbot eval --baselines   |   faqbot eval --questions-only tests/data/holdout.yaml",
        cmd_eval,
    )
    evaluate.add_argument(
        "files",
        nargs="*",
        type=Path,
        metavar="FILE",
        help=f"labelled sets (YAML; default: {DEFAULT_LABELLED_SET} and {DEFAULT_HOLDOUT_SET})",
    )
    evaluate.add_argument(
        "--questions-only",
        action="store_true",
        help="reduce every entry to its question and keywords, as a freshly added entry is",
    )
    evaluate.add_argument(
        "--baselines", action="store_true", help="also run difflib, rapidfuzz and BM25"
    )
    add_json_flag(evaluate, "print the figures as JSON")
    add_count_option(evaluate, "--confusions", 30, "list at most N mistakes")

    command(
        "chat",
        "Talk to the bot in the terminal, as customers do on Telegram.",
        "faqbot chat",
        cmd_chat,
    )

    health = command(
        "health",
        "Exit 0 if the running bot is healthy (for Docker's HEALTHCHECK).",
        "faqbot health && echo healthy",
        cmd_health,
    )
    add_json_flag(
        health, "print the bot's report (incl. the store's and the semantic stage's state)"
    )

    command(
        "run",
        "Start the Telegram bot (needs TELEGRAM_BOT_TOKEN).",
        "TELEGRAM_BOT_TOKEN=123:abc faqbot run",
        cmd_run,
    )

    store = folder_option(
        "--data-dir",
        "the bot's data folder with faqbot.sqlite3 (default: $DATA_DIR, else ./data)",
    )
    add_count_option(store, "--days", 30, "the last N days (default 30; 0: all time)")

    stats = command(
        "stats",
        "Report what customers asked: answer rates, top entries, feedback, unanswered questions.",
        "faqbot stats --days 7   |   faqbot stats --days 0 --json",
        cmd_stats,
        store,
    )
    add_json_flag(stats)
    add_count_option(stats, "--top", 10, TOP_HELP)

    suggest = command(
        "suggest",
        "Print YAML drafts from customers' questions (new entries, new alternatives);"
        " nothing is applied.",
        "faqbot suggest --days 90 > vorschlaege.yaml",
        cmd_suggest,
        store,
    )
    add_count_option(
        suggest, "--min-group", 2, "draft an entry for questions asked at least N times (default 2)"
    )

    report = command(
        "report",
        "Write the staff report: one self-contained HTML page with charts and YAML drafts.",
        "faqbot report --days 90   |   faqbot report --out - > report.html",
        cmd_report,
        store,
    )
    report.add_argument(
        "--out",
        default="faqbot-report.html",
        metavar="FILE",
        help="where to write the page (default faqbot-report.html; -: standard output)",
    )
    add_count_option(report, "--top", 10, TOP_HELP)
    return parser
