"""faqbot report on a busy bot's year: page size and time for 100,000 stored questions.

A real store is filled through the bot's own writer (bot.store.Store): a year of
questions for the shipped knowledge base (answered, suggested, small talk and
unanswered, with feedback and choices from suggestion lists). Then `faqbot report`
runs as staff run it, in a child process (imports, vl-convert's start and the file
write included), for the default 30 days and for the whole year: once with texts
deleted after 90 days as RETENTION_DAYS does, once with every text kept (worst case
for the grouping of unanswered questions). Targets: < 3 MB and <= 10 s.

    python benchmarks/bench_report.py [--questions 100000] [--days 365]
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.knowledge import load_knowledge_base  # noqa: E402
from bot.store import (  # noqa: E402
    ChoiceEvent,
    Event,
    FeedbackEvent,
    QuestionEvent,
    Store,
    connect,
    forget_texts,
)

MAX_BYTES = 3 * 1024 * 1024
MAX_SECONDS = 10.0

# Unanswered questions: topics the FAQ lacks, asked in many ways (and with typos).
TOPICS = [
    "Was kostet eine {x}?",
    "Wie lange dauert eine {x}?",
    "Bietet ihr {x} an?",
    "{x} Preise",
    "Habt ihr Erfahrung mit {x}?",
    "wie funktioniert {x}",
    "Brauche ich {x} für mein Unternehmen?",
    "{x} angebot anfragen",
]
THINGS = [
    "Website",
    "Onlineshop",
    "Newsletter",
    "SEO-Beratung",
    "Instagram-Betreuung",
    "Logo-Gestaltung",
    "App-Entwicklung",
    "Hosting",
    "Domain",
    "Datenschutzerklärung",
    "Google-Ads-Kampagne",
    "TikTok-Strategie",
    "Fotoshooting",
    "Imagefilm",
    "Podcast",
    "Barrierefreiheit",
    "Relaunch",
    "Wartung",
    "Schulung",
    "Texterstellung",
    "Übersetzung",
    "Chatbot",
    "CRM-Anbindung",
    "Zahlungsanbindung",
    "Messestand",
]
SMALLTALK = ["Hallo", "Danke!", "ok", "Guten Morgen", "Tschüss", "bist du ein Mensch?"]


def typo(text: str, rng: random.Random) -> str:
    if len(text) < 6 or rng.random() > 0.3:
        return text
    at = rng.randrange(1, len(text) - 1)
    return text[:at] + text[at + 1 :]


def year_of_events(count: int, days: int, rng: random.Random) -> list[Event]:
    kb = load_knowledge_base(ROOT / "faq")
    entries = list(kb)
    weights = [1 / (rank + 1) for rank in range(len(entries))]  # a few entries dominate
    now = datetime.now(UTC)
    found: list[Event] = []
    for number in range(count):
        # Busier on weekdays and lately (the bot got known).
        moment = now - timedelta(days=days * rng.random() ** 1.3, minutes=rng.random() * 600)
        at = moment.isoformat(timespec="seconds")
        user = rng.randrange(20_000)
        kind = rng.random()
        entry = rng.choices(entries, weights)[0]
        if kind < 0.62:
            text, decision, score = rng.choice(entry.phrasings), "answer", rng.uniform(0.75, 1)
        elif kind < 0.77:
            text, decision, score = entry.question[:24], "suggest", rng.uniform(0.5, 0.8)
        elif kind < 0.80:
            text, decision, score = rng.choice(SMALLTALK), "smalltalk", 0.0
        else:
            text = typo(rng.choice(TOPICS).format(x=rng.choice(THINGS)), rng)
            decision, score = "none", rng.uniform(0.05, 0.45)
        found.append(
            QuestionEvent(
                chat_type="private",
                user_id=user,
                chat_id=user,
                text=text,
                decision=decision,
                top_entry=entry.id if decision in ("answer", "suggest") else None,
                top_score=score,
                suggestions=(entry.id,) if decision == "suggest" else (),
                reply_message_id=number,
                asked_at=at,
            )
        )
        if decision == "suggest" and rng.random() < 0.6:
            picked = entry.id if rng.random() < 0.8 else None
            found.append(ChoiceEvent(user, user, number, picked, at=at))
        elif decision == "answer" and rng.random() < 0.2:
            found.append(FeedbackEvent(user, user, number, entry.id, rng.random() < 0.8, at=at))
    return found


def fill(data_dir: Path, items: list[Event]) -> float:
    started = time.perf_counter()
    store = Store(data_dir, batch_seconds=0.0)
    store.start()
    for item in items:
        store.record(item)
    if not store.flush(timeout=600):
        raise SystemExit("the store writer did not finish")
    store.close()
    return time.perf_counter() - started


def run_report(data_dir: Path, out: Path, days: int) -> tuple[float, int]:
    environment = {**os.environ, "RETENTION_DAYS": "90"}
    started = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "bot",
            "report",
            "--faq-dir",
            str(ROOT / "faq"),
            "--data-dir",
            str(data_dir),
            "--days",
            str(days),
            "--out",
            str(out),
        ],
        check=True,
        cwd=ROOT,
        env=environment,
        stderr=subprocess.DEVNULL,
    )
    return time.perf_counter() - started, out.stat().st_size


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=365)
    args = parser.parse_args()
    rng = random.Random(13)
    items = year_of_events(args.questions, args.days, rng)
    with tempfile.TemporaryDirectory() as folder:
        data_dir = Path(folder) / "data"
        data_dir.mkdir()
        seconds = fill(data_dir, items)
        print(
            f"store: {args.questions:,} questions, {len(items):,} events over {args.days}"
            f" days, written in {seconds:.1f} s"
        )
        rows = []
        for texts in ("all texts kept", "texts > 90 days deleted"):
            if texts.startswith("texts >"):
                with connect(data_dir / "faqbot.sqlite3") as connection:
                    forget_texts(connection, 90)
            for days in (30, args.days):
                seconds, size = run_report(data_dir, Path(folder) / "report.html", days)
                rows.append((texts, days, size, seconds))
        print(f"\n{'texts':<26}{'--days':>7}{'page':>11}{'time':>9}")
        for texts, days, size, seconds in rows:
            print(f"{texts:<26}{days:>7}{size / 1024 / 1024:>9.2f} MB{seconds:>7.2f} s")
        worst_size = max(row[2] for row in rows)
        worst_time = max(row[3] for row in rows)
        ok = worst_size < MAX_BYTES and worst_time <= MAX_SECONDS
        print(
            f"\ntargets: < 3 MB and <= {MAX_SECONDS:.0f} s: {'met' if ok else 'NOT met'}"
            f" (largest {worst_size / 1024 / 1024:.2f} MB, slowest {worst_time:.2f} s)"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
