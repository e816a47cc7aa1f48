"""Several `faqbot run` processes in webhook mode sharing one PostgreSQL database.

Used by tests/test_replicas_pg.py and benchmarks/bench_replicas.py: the updates are
POSTed to the replicas' webhook ports the way a load balancer spreads them, some to
two replicas at once (a retried request).
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.bot_runner import faqbot_environment
from tests.fake_bot_api import FakeBotApi

SECRET = "replica-secret_1"
WEBHOOK_URL = "https://bot.example.com/telegram/hook"


@dataclass
class Replica:
    """One bot process and where to reach it."""

    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/telegram/hook"

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_replica(
    fake: FakeBotApi, faq_dir: Path, data_dir: Path, database_url: str, **env: str
) -> Replica:
    """`faqbot run` with its own DATA_DIR and port, the shared DATABASE_URL."""
    port = free_port()
    data_dir.mkdir(parents=True, exist_ok=True)
    log = data_dir.parent / f"{data_dir.name}.log"
    environment = faqbot_environment(
        fake,
        {
            "FAQ_DIR": str(faq_dir),
            "DATA_DIR": str(data_dir),
            "DATABASE_URL": database_url,
            "WEBHOOK_URL": WEBHOOK_URL,
            "WEBHOOK_SECRET": SECRET,
            "WEBHOOK_LISTEN": "127.0.0.1",
            "PORT": str(port),
            **env,
        },
    )
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "run"],
            cwd=data_dir,
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    return Replica(process, port, log)


def wait_until_ready(replica: Replica, timeout: float = 30.0) -> None:
    """Until /healthz answers 200 (connected to Telegram, serving the webhook)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if replica.process.poll() is not None:
            raise AssertionError(f"faqbot exited early:\n{replica.output()}")
        try:
            with urllib.request.urlopen(
                f"http://127.0.0.1:{replica.port}/healthz", timeout=2
            ) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.1)  # polling a port: there is nothing to await
    raise AssertionError(f"replica not ready:\n{replica.output()}")


def health(replica: Replica) -> dict[str, object]:
    try:
        with urllib.request.urlopen(
            f"http://127.0.0.1:{replica.port}/healthz", timeout=5
        ) as response:
            report: dict[str, object] = json.loads(response.read())
    except urllib.error.HTTPError as exc:
        report = json.loads(exc.read())
    return report


def stop(replica: Replica) -> int:
    """SIGTERM, as `docker stop` sends it; the exit code."""
    replica.process.send_signal(signal.SIGTERM)
    try:
        return replica.process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        replica.process.kill()
        replica.process.wait()
        raise AssertionError(f"faqbot did not stop:\n{replica.output()}") from None


@contextmanager
def replicas(
    fake: FakeBotApi, faq_dir: Path, root: Path, database_url: str, count: int = 2
) -> Iterator[list[Replica]]:
    started = [
        start_replica(fake, faq_dir, root / f"replica{n}", database_url) for n in range(count)
    ]
    try:
        for replica in started:
            wait_until_ready(replica)
        yield started
    finally:
        for replica in started:
            if replica.process.poll() is None:
                stop(replica)


def post(url: str, update: dict[str, object]) -> int:
    headers = {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": SECRET}
    request = urllib.request.Request(url, json.dumps(update).encode(), headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def spread(
    fake: FakeBotApi,
    targets: Sequence[Replica],
    questions: Sequence[str],
    *,
    first_user: int,
    to_both_every: int = 10,
    workers: int = 8,
) -> list[int]:
    """One update per question, from its own user, sent round robin over ``targets``;
    every ``to_both_every``-th also to the next replica at the same moment. Returns the
    HTTP statuses."""
    jobs: list[tuple[str, dict[str, object]]] = []
    for number, text in enumerate(questions):
        update = fake.send_text(text, user_id=first_user + number)
        jobs.append((targets[number % len(targets)].url, update))
        if to_both_every and number % to_both_every == 0 and len(targets) > 1:
            jobs.append((targets[(number + 1) % len(targets)].url, update))
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(lambda job: post(*job), jobs))
