"""Webhook throughput with one and with two replicas sharing one PostgreSQL database.

Each replica is `faqbot run` in webhook mode (tests/replicas.py) with DATABASE_URL
pointing at a fresh database on the server in FAQBOT_TEST_DATABASE_URL (start one with
`source .ci/postgres.sh && postgres_start`). The updates are POSTed by 16 threads like
a load balancer spreading them (each from its own user, so the per-user flood guard
never mutes anyone); the clock runs from the first POST to the last reply. Every
question must be answered once and recorded once.

    python benchmarks/bench_replicas.py [--updates 2000]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.knowledge import load_knowledge_base  # noqa: E402
from tests.fake_bot_api import FakeBotApi  # noqa: E402
from tests.postgres import with_database  # noqa: E402
from tests.replicas import replicas, spread  # noqa: E402


def run(server: str, count: int, total: int) -> float:
    kb = load_knowledge_base(ROOT / "faq")
    phrasings = [entry.question for entry in kb.entries]
    asked = [phrasings[n % len(phrasings)] for n in range(total)]
    name = "faqbot_bench_" + uuid.uuid4().hex[:8]
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = with_database(server, name)
    try:
        with (
            FakeBotApi() as fake,
            tempfile.TemporaryDirectory() as scratch,
            replicas(fake, ROOT / "faq", Path(scratch), url, count=count) as started,
        ):
            begun = time.monotonic()
            spread(fake, started, asked, first_user=100_000, to_both_every=0, workers=16)
            fake.wait_for(lambda server: server.sent_count >= total, timeout=300, what="replies")
            elapsed = time.monotonic() - begun
        with psycopg.connect(url) as connection:
            row = connection.execute("SELECT COUNT(*) FROM questions").fetchone()
            stored = int(row[0]) if row else 0
    finally:
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    rate = total / elapsed
    print(
        f"replicas {count}: {total} updates in {elapsed:.2f} s = {rate:.0f} updates/s;"
        f" replies {fake.sent_count}, questions stored {stored}"
    )
    return rate


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--updates", type=int, default=2000)
    args = parser.parse_args()
    server = os.environ.get("FAQBOT_TEST_DATABASE_URL", "").strip()
    if not server:
        print("FAQBOT_TEST_DATABASE_URL is not set (see .ci/postgres.sh)", file=sys.stderr)
        return 2
    one = run(server, 1, args.updates)
    two = run(server, 2, args.updates)
    print(f"two replicas vs one: {two / one:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
