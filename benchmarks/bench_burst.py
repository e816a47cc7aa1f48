"""Burst throughput: 1,000 questions from 250 users through the real bot.

`faqbot run` runs in a child process with TELEGRAM_RATE_LIMIT=0 against the fake Bot
API server from the tests (HTTP on 127.0.0.1). All 1,000 updates are queued at once;
the clock runs from the bot fetching the first of them to the last reply arriving.
Every reply is checked: it must be the answer of the entry that was asked for.

    python benchmarks/bench_burst.py [--questions 1000] [--users 250] [--semantic on|off]

With --semantic on, the vectors are computed (or taken from the cache) before the bot
starts, and the burst begins once /healthz reports semantic matching active: every
question then goes through the encoder (~20 ms of CPU each; target 60 updates/s).
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
from bot.matcher import Matcher, build_matcher  # noqa: E402
from bot.semantic import load_encoder  # noqa: E402
from tests.bot_runner import faqbot_process  # noqa: E402
from tests.fake_bot_api import FakeBotApi  # noqa: E402

TARGET = {"off": 400.0, "on": 60.0}


def questions(count: int, matcher: Matcher, *, customers: bool) -> list[tuple[str, str]]:
    """(question, expected entry id) that the matcher answers outright: the knowledge
    base's own phrasings, or (``customers``) the labelled sets' customer questions,
    whose paraphrases mostly need the encoder."""
    kb = matcher.kb
    candidates = [(p, entry.id) for entry in kb.entries for p in entry.phrasings]
    if customers:
        from bot.evaluation import load_labelled_set

        candidates = [
            (question.text, question.expected)
            for name in ("questions.yaml", "holdout.yaml")
            for question in load_labelled_set(ROOT / "tests" / "data" / name, kb)
            if question.expected is not None
        ]
    pool = []
    for text, entry_id in candidates:
        result = matcher.match(text)
        if result.match is not None and result.match.entry.id == entry_id:
            pool.append((text, entry_id))
    # Every text unique (the spacing differs, the words do not), so no question's
    # vector comes from the encoder's cache of recent questions.
    asked = []
    for number in range(count):
        question, entry_id = pool[number % len(pool)]
        first, _, rest = question.partition(" ")
        asked.append((first + " " * (1 + number // len(pool)) + rest, entry_id))
    return asked


def run(
    total: int,
    users: int,
    *,
    analytics: bool = True,
    semantic: str = "off",
    customers: bool = False,
) -> float:
    kb = load_knowledge_base(ROOT / "faq")
    with FakeBotApi() as fake, tempfile.TemporaryDirectory() as scratch:
        data_dir = Path(scratch) / "data"
        encoder, _ = load_encoder("on" if semantic == "on" else "off")
        matcher = build_matcher(kb, encoder=encoder, cache_folder=data_dir)  # fills the cache
        asked = questions(total, matcher, customers=customers)
        port = _free_port()
        env = {
            "FAQ_DIR": str(ROOT / "faq"),
            "DATA_DIR": str(data_dir),
            "LOG_LEVEL": "WARNING",
            "ANALYTICS": "true" if analytics else "false",
            "SEMANTIC": semantic,
            "METRICS_PORT": str(port),
        }
        process = faqbot_process(fake, env, cwd=Path(scratch))
        try:
            fake.wait_for_call("getUpdates", timeout=30)
            if semantic == "on":
                _wait_for_semantic(port)
            expected: dict[int, list[str]] = {}
            updates = []
            for number, (question, entry_id) in enumerate(asked):
                user = 10_000 + number % users
                updates.append((question, user))
                expected.setdefault(user, []).append(entry_id)
            load = _load()
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
    target = TARGET[semantic]
    encoded = sum(1 for question, _ in asked if matcher.match(question).semantic)
    print(f"semantic {semantic}; questions through the encoder {encoded}; load average {load}")
    print(f"elapsed {elapsed:.2f} s, throughput {rate:.0f} updates/s (target >= {target:.0f})")
    print("result:", "ok" if rate >= target and wrong == 0 else "MISSED")
    return rate


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for_semantic(port: int, timeout: float = 60.0) -> None:
    """Until the bot's /healthz says its answers use the vectors."""
    import json
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                if json.loads(r.read()).get("semantic"):
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit("the bot did not switch to semantic matching in time")


def _load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


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
    parser.add_argument("--semantic", choices=("on", "off"), default="off")
    parser.add_argument(
        "--customers",
        action="store_true",
        help="ask the labelled sets' customer questions instead of the FAQ's own phrasings",
    )
    args = parser.parse_args()
    if not args.compare_analytics:
        run(args.questions, args.users, semantic=args.semantic, customers=args.customers)
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
