"""/stats' text from the recorder: the report, or while the store cannot be read, why."""

from __future__ import annotations

from pathlib import Path

from bot import texts
from bot.config import Settings
from bot.errors import ReportUnavailable
from bot.memory_store import MemoryStore
from bot.reloader import KnowledgeBaseHolder
from bot.report import Report
from bot.telegram.admin import stats_text
from bot.telegram.handlers import BotContext
from tests.conftest import FAQ_DIR, question


class BrokenStore(MemoryStore):
    """A recorder whose store fails to be read (a locked file, a database down)."""

    broken = False

    def report(self, *, days: int | None = 30) -> Report:
        if self.broken:
            raise ReportUnavailable("cannot read faqbot.sqlite3: database is locked")
        return super().report(days=days)

    def health(self) -> dict[str, object]:
        if not self.broken:
            return super().health()
        return {"state": "failing", "since": "2026-03-02T08:15:00+00:00", "events_lost": 3}


def bot_context(tmp_path: Path, recorder: MemoryStore) -> BotContext:
    settings = Settings(token="1:test", faq_dir=FAQ_DIR, data_dir=tmp_path)
    return BotContext(settings, KnowledgeBaseHolder(FAQ_DIR), recorder)


def test_stats_text_is_the_short_report_of_the_recorder(tmp_path: Path) -> None:
    recorder = MemoryStore()
    recorder.record(question("Was ist DNSSEC?"))

    text = stats_text(bot_context(tmp_path, recorder))

    assert text.startswith(recorder.report(days=30).text(short=True))
    assert text.splitlines()[-1].startswith("Nur seit dem Start am ")


def test_stats_text_while_the_store_fails_says_since_when_and_shows_the_last_report(
    tmp_path: Path,
) -> None:
    recorder = BrokenStore()
    recorder.record(question("Was ist DNSSEC?"))
    context = bot_context(tmp_path, recorder)
    before = stats_text(context)

    recorder.broken = True
    text = stats_text(context)

    lines = text.split("\n")
    assert lines[0] == texts.STATS_UNAVAILABLE
    assert lines[1] == texts.STATS_STORE_FAILING.format(since="02.03.2026 08:15 UTC", lost=3)
    assert lines[3].startswith("Zuletzt gelesen am ")
    assert "\n".join(lines[4:]) == before
