"""A real PostgreSQL for the tests: FAQBOT_TEST_DATABASE_URL (.ci/postgres.sh starts one).

Every test gets a database of its own, created from the server's URL and dropped after.
Without the variable the PostgreSQL tests skip, saying why; under CI (CI=true) they fail
instead, so a broken cluster set-up cannot pass as green.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

URL_VARIABLE = "FAQBOT_TEST_DATABASE_URL"
PG_CTL_VARIABLE = "FAQBOT_TEST_PG_CTL"


def server_url() -> str:
    url = os.environ.get(URL_VARIABLE, "").strip()
    if url:
        return url
    reason = (
        f"{URL_VARIABLE} is not set: start a throwaway cluster with"
        " `source .ci/postgres.sh && postgres_start` (as .ci/run does)"
    )
    if os.environ.get("CI") == "true":
        pytest.fail(f"PostgreSQL tests cannot run under CI: {reason}")
    pytest.skip(reason)


def with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path="/" + name))


def with_password(url: str, password: str) -> str:
    parts = urlsplit(url)
    netloc = f"{parts.username}:{password}@{parts.hostname}:{parts.port}"
    return urlunsplit(parts._replace(netloc=netloc))


@pytest.fixture
def pg_url() -> Iterator[str]:
    """The URL of a fresh, empty database on the test server."""
    server = server_url()
    name = "faqbot_" + uuid.uuid4().hex[:12]
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield with_database(server, name)
    finally:
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def pg_ctl(action: str) -> None:
    """Stop or start the test server (fault tests); needs FAQBOT_TEST_PG_CTL."""
    command = os.environ.get(PG_CTL_VARIABLE, "").strip()
    if not command:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{PG_CTL_VARIABLE} is not set under CI")
        pytest.skip(f"{PG_CTL_VARIABLE} is not set: the server cannot be stopped and started")
    if action == "start" and _server_is_up():
        return
    extra = ["-m", "fast"] if action == "stop" else []
    subprocess.run([*shlex.split(command), action, *extra], check=True, capture_output=True)


def _server_is_up() -> bool:
    try:
        with psycopg.connect(server_url(), connect_timeout=2):
            return True
    except psycopg.OperationalError:
        return False


def count(url: str, table: str) -> int:
    with psycopg.connect(url) as connection:
        row = connection.execute(f"SELECT COUNT(*) FROM {table}").fetchone()
    assert row is not None
    return int(row[0])
