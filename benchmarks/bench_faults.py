"""Telegram's bad moments, measured: the figures in the README's robustness section.

`faqbot run` runs in a child process with its default settings (TELEGRAM_RATE_LIMIT
30, SHUTDOWN_TIMEOUT 10) against the fake Bot API with fault injection:

- flood: chat A gets 429 with retry_after 3600; how long until chats B-F are answered.
- sigterm: SIGTERM in the middle of a 1,000-question burst, restart; seconds to exit,
  answers lost and answered twice across both runs.
- outage: a reply in flight while the Bot API is gone (connections cut, polling too)
  or answers 502, for --outage seconds; seconds from Telegram's return to the answer.

    python benchmarks/bench_faults.py [--outage 20]
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.bot_runner import faqbot_process  # noqa: E402
from tests.fake_bot_api import FakeBotApi  # noqa: E402

TOPICS = ("impressum", "hosting", "newsletter", "backup")
GROUP = -1009000000001


def write_kb(folder: Path) -> Path:
    folder.mkdir()
    lines = ["category: Web", "entries:"]
    for topic in TOPICS:
        lines += [
            f"  - id: {topic}",
            f"    question: Was bedeutet {topic}?",
            f"    answer: {topic.capitalize()} ist ein Begriff aus dem Web.",
        ]
    (folder / "web.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def start(fake: FakeBotApi, scratch: Path) -> subprocess.Popen[str]:
    env = {
        "FAQ_DIR": str(scratch / "faq"),
        "DATA_DIR": str(scratch / "data"),
        "TELEGRAM_RATE_LIMIT": "30",
        "LOG_LEVEL": "WARNING",
    }
    process = faqbot_process(fake, env, cwd=scratch)
    fake.wait_for_call("getUpdates", timeout=30)
    return process


def stop(process: subprocess.Popen[str]) -> float:
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    process.communicate(timeout=60)
    return time.monotonic() - started


def flood(scratch: Path) -> None:
    with FakeBotApi() as fake:
        fake.faults.throttle_chat(GROUP, retry_after=3600)
        process = start(fake, scratch)
        fake.send_command("/frage Was bedeutet hosting?", chat_id=GROUP, chat_type="supergroup")
        fake.wait_for(lambda api: api.faults.hits["throttle"] >= 1, timeout=30)
        asked = time.monotonic()
        for user_id in range(5001, 5006):
            fake.send_text("Was bedeutet backup?", user_id=user_id)
        fake.wait_for(lambda api: api.sent_count >= 5, timeout=60)
        seconds = time.monotonic() - asked
        stop(process)
    print(f"flood:   chat A 429 retry_after 3600; chats B-F answered after {seconds:.2f} s")


def sigterm(scratch: Path) -> None:
    with FakeBotApi() as fake:
        for number in range(1000):
            user_id = 6000 + number % 250
            fake.send_text(f"Was bedeutet {TOPICS[number // 250]}?", user_id=user_id)
        process = start(fake, scratch)
        fake.wait_for(lambda api: api.sent_count >= 300, timeout=120)
        first_run = fake.sent_count
        seconds = stop(process)
        process = start(fake, scratch)
        fake.wait_for(lambda api: api.sent_count >= 1000 and not api.pending_updates, timeout=120)
        stop(process)
        per_question: dict[tuple[int, str], int] = {}
        for message in fake.sent_messages():
            for topic in TOPICS:
                if topic.capitalize() + " ist" in str(message["text"]):
                    key = (int(message["chat"]["id"]), topic)
                    per_question[key] = per_question.get(key, 0) + 1
        lost = 1000 - len(per_question)
        twice = sum(1 for count in per_question.values() if count > 1)
    print(
        f"sigterm: SIGTERM after {first_run} of 1,000 answers; exit 0 after {seconds:.2f} s;"
        f" after the restart lost {lost}, answered twice {twice}"
    )


def outage(scratch: Path, seconds: float, kind: str) -> None:
    with FakeBotApi() as fake:
        process = start(fake, scratch)
        fake.send_text("Was bedeutet hosting?", user_id=7001)
        fake.wait_for_messages(1, chat_id=7001, timeout=30)
        if kind == "502":
            fake.faults.storm(502, methods=("sendMessage",))
        else:
            fake.faults.outage(methods=("sendMessage",))
        fake.send_text("Was bedeutet backup?", user_id=7001)
        fake.wait_for(lambda api: sum(api.faults.hits.values()) >= 1, timeout=30)
        # Now the whole Bot API is gone, polling too.
        if kind == "502":
            fake.faults.storm(502)
        else:
            fake.faults.outage()
        time.sleep(seconds)  # the length of the outage is the experiment
        fake.faults.clear()
        back = time.monotonic()
        fake.wait_for_messages(2, chat_id=7001, timeout=120)
        recovery = time.monotonic() - back
        stop(process)
    print(f"outage:  {kind} for {seconds:.0f} s; answer {recovery:.2f} s after Telegram's return")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--outage", type=float, default=20.0, help="seconds (default 20)")
    args = parser.parse_args()
    for name, run in (
        ("flood", flood),
        ("sigterm", sigterm),
        ("outage-cut", lambda s: outage(s, args.outage, "connections cut")),
        ("outage-502", lambda s: outage(s, args.outage, "502")),
    ):
        with tempfile.TemporaryDirectory(prefix=f"faqbot-{name}-") as folder:
            scratch = Path(folder)
            write_kb(scratch / "faq")
            run(scratch)


if __name__ == "__main__":
    main()
