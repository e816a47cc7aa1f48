"""The ``faqbot`` command: ask, check, eval, chat, run, health, stats, suggest, report.

Each command is thin: it calls the library and formats the result. Errors of the
FaqError family become a clean message and exit code 1 (2 for usage errors).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sqlite3
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from bot import __version__
from bot.config import CommonSettings, load_common_settings, read_environment
from bot.errors import FaqError, KnowledgeBaseError
from bot.knowledge import KnowledgeBase, load_knowledge_base
from bot.matcher import Candidate, Matcher, MatchResult
from bot.semantic import SemanticStatus
from bot.smalltalk import Understanding, understand

DEFAULT_LABELLED_SET = Path("tests/data/questions.yaml")
DEFAULT_HOLDOUT_SET = Path("tests/data/holdout.yaml")


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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="faqbot",
        description="Answers German customer questions from a YAML FAQ knowledge base.",
        epilog='Example: faqbot ask "Wie werde ich Kommentar-Spam los?"',
    )
    parser.add_argument("--version", action="version", version=f"faqbot {__version__}")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    faq_dir = argparse.ArgumentParser(add_help=False)
    faq_dir.add_argument(
        "--faq-dir",
        type=Path,
        default=None,
        help="knowledge base folder (default: $FAQ_DIR, else ./faq)",
    )

    def command(
        name: str, summary: str, example: str, *more: argparse.ArgumentParser
    ) -> argparse.ArgumentParser:
        sub = commands.add_parser(
            name,
            parents=[faq_dir, *more],
            help=summary,
            description=summary,
            epilog=f"Example: {example}",
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        return sub

    ask = command(
        "ask",
        "Answer one question, or one question per line from stdin (as JSON lines).",
        'faqbot ask "dnssec was ist das"   |   faqbot ask < questions.txt',
    )
    ask.add_argument("question", nargs="*", help="the question (omit to read stdin)")
    ask.add_argument("--json", action="store_true", help="print one JSON object")
    ask.set_defaults(handler=cmd_ask)

    check = command(
        "check",
        "Validate the knowledge base; list errors, warnings and drafts as file:line: message"
        " (German, for staff). Exit 1 on errors.",
        "faqbot check   |   faqbot check --json > befunde.json",
    )
    check.add_argument(
        "--no-confusions", action="store_true", help="skip the confusable-entries warnings"
    )
    check.add_argument(
        "--json",
        action="store_true",
        help="print a JSON list of {file, line, column, severity, code, message}",
    )
    check.set_defaults(handler=cmd_check)

    evaluate = command(
        "eval",
        "Measure answer quality on labelled question sets: lexical-only, semantic-only and"
        " fused matching side by side.",
        "faqbot eval --baselines   |   faqbot eval --questions-only tests/data/holdout.yaml",
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
    evaluate.add_argument("--json", action="store_true", help="print the figures as JSON")
    evaluate.add_argument(
        "--confusions", type=int, default=30, metavar="N", help="list at most N mistakes"
    )
    evaluate.set_defaults(handler=cmd_eval)

    chat = command(
        "chat",
        "Talk to the bot in the terminal, as customers do on Telegram.",
        "faqbot chat",
    )
    chat.set_defaults(handler=cmd_chat)

    health = command(
        "health",
        "Exit 0 if the running bot is healthy (for Docker's HEALTHCHECK).",
        "faqbot health && echo healthy",
    )
    health.add_argument(
        "--json",
        action="store_true",
        help="print the bot's report (incl. the store's and the semantic stage's state)",
    )
    health.set_defaults(handler=cmd_health)

    run = command(
        "run",
        "Start the Telegram bot (needs TELEGRAM_BOT_TOKEN).",
        "TELEGRAM_BOT_TOKEN=123:abc faqbot run",
    )
    run.set_defaults(handler=cmd_run)

    data_dir = argparse.ArgumentParser(add_help=False)
    data_dir.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="the bot's data folder with faqbot.sqlite3 (default: $DATA_DIR, else ./data)",
    )
    data_dir.add_argument(
        "--days",
        type=int,
        default=30,
        metavar="N",
        help="the last N days (default 30; 0: all time)",
    )

    stats = command(
        "stats",
        "Report what customers asked: answer rates, top entries, feedback, unanswered questions.",
        "faqbot stats --days 7   |   faqbot stats --days 0 --json",
        data_dir,
    )
    stats.add_argument("--json", action="store_true", help="print one JSON object")
    stats.add_argument(
        "--top", type=int, default=10, metavar="N", help="list at most N of each (default 10)"
    )
    stats.set_defaults(handler=cmd_stats)

    suggest = command(
        "suggest",
        "Print YAML drafts from customers' questions (new entries, new alternatives);"
        " nothing is applied.",
        "faqbot suggest --days 90 > vorschlaege.yaml",
        data_dir,
    )
    suggest.add_argument(
        "--min-group",
        type=int,
        default=2,
        metavar="N",
        help="draft an entry for questions asked at least N times (default 2)",
    )
    suggest.set_defaults(handler=cmd_suggest)

    report = command(
        "report",
        "Write the staff report: one self-contained HTML page with charts and YAML drafts.",
        "faqbot report --days 90   |   faqbot report --out - > report.html",
        data_dir,
    )
    report.add_argument(
        "--out",
        default="faqbot-report.html",
        metavar="FILE",
        help="where to write the page (default faqbot-report.html; -: standard output)",
    )
    report.add_argument(
        "--top", type=int, default=10, metavar="N", help="list at most N of each (default 10)"
    )
    report.set_defaults(handler=cmd_report)
    return parser


def common_settings(args: argparse.Namespace) -> CommonSettings:
    """The settings every command shares, from the options, the environment and .env."""
    return load_common_settings(
        read_environment(), faq_dir=args.faq_dir, data_dir=getattr(args, "data_dir", None)
    )


def resolve_faq_dir(args: argparse.Namespace) -> Path:
    """--faq-dir, else $FAQ_DIR, else ./faq."""
    return common_settings(args).faq_dir


def load(args: argparse.Namespace) -> tuple[KnowledgeBase, Matcher]:
    kb = load_knowledge_base(resolve_faq_dir(args))
    matcher, _ = semantic_matcher(kb)
    return kb, matcher


def semantic_matcher(kb: KnowledgeBase) -> tuple[Matcher, SemanticStatus]:
    """The matcher as the bot runs it: SEMANTIC decides, vectors cached in DATA_DIR."""
    from bot.matcher import build_matcher
    from bot.progress import ProgressReport
    from bot.semantic import load_encoder, parse_mode

    encoder, status = load_encoder(parse_mode(os.environ.get("SEMANTIC")))
    data_dir = Path(os.environ.get("DATA_DIR", "").strip() or "data")
    progress = ProgressReport("Embedding the knowledge base")
    matcher = build_matcher(kb, encoder=encoder, cache_folder=data_dir, progress=progress)
    return matcher, status


# ask ------------------------------------------------------------------------------


def result_json(result: MatchResult | Understanding) -> dict[str, Any]:
    """The ``--json`` shape of a match result (an interface: keep it stable).

    Small talk is ``"decision": "smalltalk"`` with the small-talk entry as ``match``.
    """

    def candidate(c: Candidate) -> dict[str, Any]:
        signals = {"lexical": c.lexical if c.lexical is not None else c.score, "cosine": c.cosine}
        return {"id": c.entry.id, "score": c.score, "question": c.entry.question, **signals}

    if isinstance(result, Understanding):
        if result.smalltalk is not None:
            entry = result.smalltalk
            return {
                "decision": "smalltalk",
                "match": {"id": entry.id, "score": 1.0, "question": entry.question},
                "suggestions": [],
            }
        result = result.result
    return {
        "decision": result.decision,
        "confidence": round(result.confidence, 4),
        "semantic": result.semantic,
        "match": candidate(result.match) if result.match else None,
        "suggestions": [candidate(c) for c in result.suggestions],
    }


def cmd_ask(args: argparse.Namespace) -> int:
    kb, matcher = load(args)
    if not args.question:
        for line in sys.stdin:
            understanding = understand(kb, matcher, line.rstrip("\n"))
            sys.stdout.write(json.dumps(result_json(understanding), ensure_ascii=False) + "\n")
            sys.stdout.flush()
        return 0
    understanding = understand(kb, matcher, " ".join(args.question))
    if args.json:
        print(json.dumps(result_json(understanding), ensure_ascii=False))
        return 0
    from bot.replies import reply_to
    from bot.terminal import render_reply

    result = understanding.result
    if understanding.smalltalk is not None:
        print(f"decision: smalltalk ({understanding.smalltalk.id})")
    else:
        print(f"decision: {result.decision} (confidence {result.confidence:.2f})")
    if result.semantic:
        print("  fused  lexical  cosine")
        for c in result.ranking[:4]:
            print(
                f"  {c.score:5.2f}  {c.lexical or 0:7.2f}  {c.cosine or 0:6.3f}"
                f"  {c.entry.id}: {c.entry.question}"
            )
    else:
        for c in result.ranking[:4]:
            print(f"  {c.score:.2f}  {c.entry.id}: {c.entry.question}")
    print()
    contact = common_settings(args).contact_text
    print(render_reply(reply_to(understanding, contact_text=contact, feedback=False)))
    return 0


# check ----------------------------------------------------------------------------


def cmd_check(args: argparse.Namespace) -> int:
    from bot.checks import check_folder

    report = check_folder(resolve_faq_dir(args), confusions=not args.no_confusions)
    semantic = None
    if report.kb is not None:
        # Embeds new phrasings into the cache now (with a progress bar), not at the bot's start.
        _, status = semantic_matcher(report.kb)
        semantic = "Semantische Suche: " + (
            "aktiv." if status.active else f"aus ({status.reason})."
        )
    out = sys.stderr if args.json else sys.stdout
    if args.json:
        print(json.dumps([p.as_json() for p in report.findings], ensure_ascii=False, indent=2))
    else:
        for problem in report.findings:
            print(problem.render() + ("\n" if problem.excerpt else ""))
    if semantic is not None and not args.json:  # stdout stays pure JSON for editors
        print(semantic)
    print(report.summary(), file=out)
    return 0 if report.ok else 1


# eval -----------------------------------------------------------------------------


def cmd_eval(args: argparse.Namespace) -> int:
    from bot.baselines import all_baselines
    from bot.evaluation import evaluate_ranker, evaluate_stages, load_labelled_set, questions_only

    kb = load_knowledge_base(resolve_faq_dir(args))
    if args.questions_only:
        kb = questions_only(kb)
    matcher, status = semantic_matcher(kb)
    files = args.files or [f for f in (DEFAULT_LABELLED_SET, DEFAULT_HOLDOUT_SET) if f.exists()]
    all_figures: list[dict[str, Any]] = []
    all_confusions: list[dict[str, Any]] = []
    texts = []
    for file in files:
        questions = load_labelled_set(file, kb)
        reports = evaluate_stages(matcher, questions)
        if args.baselines:
            reports += [evaluate_ranker(n, r, questions) for n, r in all_baselines(kb).items()]
        figures = [{**report.figures(), "set": str(file)} for report in reports]
        confusions = [{**row, "set": str(file)} for row in reports[0].confusions()]
        all_figures += figures
        all_confusions += confusions
        texts.append(_eval_text(file, kb, figures, confusions, args.confusions))
    if args.json:
        report = {
            "figures": all_figures,
            "confusions": all_confusions,
            "questions_only": args.questions_only,
            **status.as_json(),
        }
        print(json.dumps(report, ensure_ascii=False))
        return 0
    state = "on" if status.active else f"off ({status.reason})"
    reduced = "; entries reduced to question and keywords" if args.questions_only else ""
    print(f"Semantic matching: {state}{reduced}\n")
    print("\n\n".join(texts))
    print(
        "\ntop-1/top-3: in-scope questions whose entry ranks first/in the first three;"
        " answered: answered outright\nwith the right entry; rejection: out-of-scope"
        " questions answered 'none'; wrong: wrong answers / all;\nprecision: right answers /"
        " all answers. faqbot is what the bot does (fused when semantic matching is on);\n"
        "semantic-only reuses faqbot's question vectors, so its latency excludes encoding.\n"
        "Baselines answer when their best score reaches the threshold that suits them best"
        " on this set."
    )
    return 0


def _eval_text(
    file: Path,
    kb: KnowledgeBase,
    figures: list[dict[str, Any]],
    confusions: list[dict[str, Any]],
    limit: int,
) -> str:
    first = figures[0]
    lines = [
        f"{file}: {first['questions']} questions, {first['in_scope']} in scope,"
        f" {first['out_of_scope']} out of scope; knowledge base: {len(kb)} entries\n",
        _figures_table(figures),
    ]
    shown = confusions[:limit]
    if shown:
        lines.append(f"\nMistakes of faqbot ({len(confusions)}, showing {len(shown)}):")
        for row in shown:
            got = ", ".join(row["got"]) or "-"
            lines.append(
                f"  {row['kind']:<22} {row['question']!r}\n"
                f"  {'':<22} expected {row['expected']}, {row['decision']} [{got}]"
                f" {row['score']:.2f}"
            )
    return "\n".join(lines)


def _figures_table(figures: list[dict[str, Any]]) -> str:
    columns = [
        ("method", "method", "{}"),
        ("top-1", "top1", "{:.1%}"),
        ("top-3", "top3", "{:.1%}"),
        ("answered", "answered", "{:.1%}"),
        ("rejection", "rejection", "{:.1%}"),
        ("wrong", "wrong_answer_rate", "{:.1%}"),
        ("precision", "precision", "{:.1%}"),
        ("threshold", "threshold", "{:.3f}"),
        ("median ms", "latency_ms_median", "{:.3f}"),
        ("p99 ms", "latency_ms_p99", "{:.3f}"),
    ]
    rows = [[title for title, _, _ in columns]]
    for row in figures:
        rows.append(
            [fmt.format(row[key]) if row[key] is not None else "-" for _, key, fmt in columns]
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(columns))]
    return "\n".join(
        "  ".join(
            cell.ljust(width) if i == 0 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        )
        for row in rows
    )


# chat and run ---------------------------------------------------------------------


def cmd_chat(args: argparse.Namespace) -> int:
    from bot.terminal import Conversation, enable_line_editing, run_chat, typed_messages

    kb, matcher = load(args)
    contact = common_settings(args).contact_text
    conversation = Conversation(kb, matcher, contact_text=contact)
    if not sys.stdin.isatty():  # piped: one question per line
        run_chat(conversation, sys.stdin, sys.stdout.write)
        return 0
    save_history = enable_line_editing()
    try:
        run_chat(conversation, typed_messages(), sys.stdout.write)
    finally:
        save_history()
    return 0


def cmd_run(args: argparse.Namespace) -> int:
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
    configure_logging(level, secrets=_secrets(environment), fmt=fmt)
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


def _secrets(environment: dict[str, str]) -> tuple[str, ...]:
    from bot.store_pg import url_password

    names = ("TELEGRAM_BOT_TOKEN", "WEBHOOK_SECRET")
    found = [value for name in names if (value := environment.get(name, "").strip())]
    password = url_password(environment.get("DATABASE_URL", "").strip())
    return (*found, *([password] if password else ()))


def resolve_data_dir(args: argparse.Namespace) -> Path:
    """--data-dir, else $DATA_DIR, else ./data."""
    return common_settings(args).data_dir


# stats and suggest ----------------------------------------------------------------


def _days(args: argparse.Namespace) -> int | None:
    if args.days < 0:
        raise FaqError(f"--days must be 0 (all time) or more, not {args.days}")
    return args.days or None


def cmd_stats(args: argparse.Namespace) -> int:
    from bot.report_queries import build_report
    from bot.stores import reader_for

    days = _days(args)
    url = _database_url()
    with _store_errors(resolve_data_dir(args), url) as data_dir, reader_for(data_dir, url) as db:
        report = build_report(db, days=days, top=args.top)
    if args.json:
        print(json.dumps(report.as_json(), ensure_ascii=False))
    else:
        print(report.text())
    return 0


def cmd_suggest(args: argparse.Namespace) -> int:
    from bot.stores import reader_for
    from bot.suggestions import suggest_snippets

    days = _days(args)
    kb = load_knowledge_base(resolve_faq_dir(args))
    url = _database_url()
    with _store_errors(resolve_data_dir(args), url) as data_dir, reader_for(data_dir, url) as db:
        snippets = suggest_snippets(db, kb, days=days, min_group=args.min_group)
    sys.stdout.write(snippets)
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from bot.config import load_store_settings
    from bot.report_html import render_report, render_unavailable
    from bot.report_queries import build_report
    from bot.store import DATABASE_FILE
    from bot.stores import reader_for

    days = _days(args)
    settings = load_store_settings(read_environment())
    kb = load_knowledge_base(resolve_faq_dir(args))
    data_dir = resolve_data_dir(args)
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
    from bot.config import load_store_settings, read_environment

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


def cmd_health(args: argparse.Namespace) -> int:
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
