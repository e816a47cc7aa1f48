"""Burst throughput: 1,000 questions from 250 users through the real bot.

`faqbot run` runs in a child process with TELEGRAM_RATE_LIMIT=0 against the fake Bot
API server from the tests (HTTP on 127.0.0.1). All 1,000 updates are queued at once;
the clock runs from the bot fetching the first of them to the last reply arriving.
Every reply is checked: it must be the answer of the entry that was asked for.

    python benchmarks/bench_burst.py [--questions 1000] [--users 250]
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.knowledge import load_knowledge_base  # noqa: E402
from bot.matcher import Matcher  # noqa: E402
from tests.bot_runner import faqbot_process  # noqa: E402
from tests.fake_bot_api import FakeBotApi  # noqa: E402

TARGET = 400.0


def questions(count: int) -> list[tuple[str, str]]:
    """(question, expected entry id): phrasings the matcher answers outright."""
    kb = load_knowledge_base(ROOT / "faq")
    matcher = Matcher(kb)
    pool = []
    for entry in kb.entries:
        for phrasing in entry.phrasings:
            result = matcher.match(phrasing)
            if result.match is not None and result.match.entry.id == entry.id:
                pool.append((phrasing, entry.id))
    return [pool[number % len(pool)] for number in range(count)]


def run(total: int, users: int, *, analytics: bool = True) -> float:
    kb = load_knowledge_base(ROOT / "faq")
    asked = questions(total)
    with FakeBotApi() as fake, tempfile.TemporaryDirectory() as scratch:
        env = {
            "FAQ_DIR": str(ROOT / "faq"),
            "DATA_DIR": str(Path(scratch) / "data"),
            "LOG_LEVEL": "WARNING",
            "ANALYTICS": "true" if analytics else "false",
        }
        process = faqbot_process(fake, env, cwd=Path(scratch))
        try:
            fake.wait_for_call("getUpdates", timeout=30)
            expected: dict[int, list[str]] = {}
            updates = []
            for number, (question, entry_id) in enumerate(asked):
                user = 10_000 + number % users
                updates.append((question, user))
                expected.setdefault(user, []).append(entry_id)
            bot_cpu_before = _cpu_seconds(process.pid)
            own_cpu_before = time.process_time()
            started = time.monotonic()
            for question, user in updates:
                fake.send_text(question, user_id=user)
            fake.wait_for(lambda server: server.sent_count >= total, timeout=120, what="replies")
            elapsed = time.monotonic() - started
            bot_cpu = _cpu_seconds(process.pid) - bot_cpu_before
            own_cpu = time.process_time() - own_cpu_before
            wrong = 0
            for user, entry_ids in expected.items():
                sent = fake.sent_messages(chat_id=user)
                titles = sorted(str(message["source_text"]).split("\n", 1)[0] for message in sent)
                wanted = sorted(f"<b>{_html(kb.get(i).question)}</b>" for i in entry_ids)  # type: ignore[union-attr]
                wrong += sum(1 for a, b in zip(titles, wanted, strict=False) if a != b)
                wrong += abs(len(titles) - len(wanted))
            stored = _stored_questions(Path(scratch) / "data") if analytics else 0
        finally:
            process.send_signal(signal.SIGTERM)
            process.communicate(timeout=20)
    rate = total / elapsed
    print(
        f"CPU seconds during the burst: bot {bot_cpu:.2f} ({bot_cpu / total * 1000:.1f} ms"
        f" per update), fake server + driver {own_cpu:.2f}"
    )
    print(
        f"questions {total}, users {users}, analytics {'on' if analytics else 'off'},"
        f" wrong or missing replies {wrong}"
        + (f", questions in the store {stored}" if analytics else "")
    )
    print(f"elapsed {elapsed:.2f} s, throughput {rate:.0f} updates/s (target >= {TARGET:.0f})")
    print("result:", "ok" if rate >= TARGET and wrong == 0 else "MISSED")
    return rate


def _stored_questions(data_dir: Path) -> int:
    """Rows in the analytics store; the writer may still be catching up, so wait a bit."""
    from bot.store import reader

    count = 0
    for _ in range(100):
        with reader(data_dir) as connection:
            count = int(connection.execute("SELECT COUNT(*) FROM questions").fetchone()[0])
        if count:
            time.sleep(0.1)  # let the background writer finish its last batch
            with reader(data_dir) as connection:
                return int(connection.execute("SELECT COUNT(*) FROM questions").fetchone()[0])
        time.sleep(0.1)
    return count


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _html(text: str) -> str:
    import html

    return html.escape(text, quote=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--questions", type=int, default=1000)
    parser.add_argument("--users", type=int, default=250)
    parser.add_argument(
        "--compare-analytics",
        type=int,
        default=0,
        metavar="RUNS",
        help="run RUNS times with the analytics store off and on, alternating, and"
        " compare the median throughputs (issue: at most 10 %% slower)",
    )
    args = parser.parse_args()
    if not args.compare_analytics:
        run(args.questions, args.users)
        return
    rates: dict[bool, list[float]] = {False: [], True: []}
    for _ in range(args.compare_analytics):
        for analytics in (False, True):
            rates[analytics].append(run(args.questions, args.users, analytics=analytics))
    off, on = statistics.median(rates[False]), statistics.median(rates[True])
    print(
        f"median throughput: analytics off {off:.0f}/s, on {on:.0f}/s,"
        f" change {100 * (on - off) / off:+.1f} % (limit -10 %)"
    )
    print("result:", "ok" if on >= 0.9 * off else "MISSED")


if __name__ == "__main__":
    main()
