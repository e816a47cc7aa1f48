"""One analytics path: the Recorder the bot records every event through.

Three recorders, one interface, one report:

    Store       bot/store.py      SQLite in DATA_DIR: kept across restarts (the default)
    PgStore     bot/stores.py     PostgreSQL with DATABASE_URL: shared by replicas
    MemoryStore bot/memory_store.py  ANALYTICS=false and tests: this run only, no file

Each turns an event into the same rows (bot/store_rows.py, with the same privacy
rules: salted hashes, no text with STORE_QUESTIONS=false) and answers ``report()``
with the same code (bot/report_queries.py), so /stats and `faqbot stats` speak of
the same things in the same words whichever recorder is on.

What the words of the report mean, everywhere:

question
    A message with at least one word, answered by the FAQ matcher: decision
    "answer", "suggest" or "none". A message without words ("???", a lone emoji) is
    not recorded; small talk is recorded as "smalltalk" and counted apart, never as
    a question. /debug, /themen browsing and /start deep links are not questions.
unanswered ("keine Antwort")
    A question with decision "none": the FAQ had nothing close enough. The report's
    list of unanswered questions adds the suggestion lists the bot was unsure of
    (best score below bot/report.py's UNSURE_SCORE), since those are gaps too.
handed over ("An das Team")
    A question the customer then sent to the team (bot/handoff.py) stays recorded
    with the decision it had, "none" or "suggest": the FAQ did not answer it, which
    is what staff need to learn. The handoff is counted on its own line and, per day
    in `faqbot report`'s chart, as its own series in place of those questions, so
    nothing is counted twice.
hits
    Questions answered with an entry plus choices of it from a "Meinten Sie …?" list.
"""

from __future__ import annotations

from typing import Protocol

from bot.report import Report
from bot.store_events import Event


class Recorder(Protocol):
    """What the bot needs of analytics: record events, report on them, say how it is."""

    def start(self) -> None:
        """Open what needs opening; problems show at start-up, the bot answers anyway."""

    def record(self, event: Event) -> None:
        """Keep ``event``; any thread, never blocks an answer, never raises."""

    def report(self, *, days: int | None = 30) -> Report:
        """The report over the last ``days`` days (None: all there is).

        Raises ReportUnavailable when the store cannot be read just now.
        """
        ...

    def health(self) -> dict[str, object]:
        """The ``store`` part of /healthz: ``state`` ok, failing or off, and counts."""
        ...

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until every recorded event is kept (tests, benchmarks); False on timeout."""
        ...

    def close(self, timeout: float = 5.0) -> None:
        """Keep what is pending (within ``timeout``), then stop."""
