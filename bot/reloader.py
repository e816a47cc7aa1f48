"""The knowledge base currently served, and hot reload when staff edit the files.

Staff save a file; within a few seconds customers get answers from it, without a
restart. A broken file never replaces the good knowledge base: the bot keeps serving
the last good one and reports the problems (file:line) once.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from bot.errors import KnowledgeBaseError, Problem
from bot.knowledge import KnowledgeBase, faq_files, load_knowledge_base
from bot.matcher import Matcher, MatcherSettings

logger = logging.getLogger(__name__)

Signature = tuple[tuple[str, int, int], ...]


@dataclass(frozen=True)
class Snapshot:
    """A loaded knowledge base and its matcher, swapped in as one."""

    kb: KnowledgeBase
    matcher: Matcher
    loaded_at: datetime


@dataclass(frozen=True)
class ReloadResult:
    """What a reload did."""

    ok: bool
    changed: bool
    entries: int
    problems: tuple[Problem, ...] = ()
    at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def describe(self) -> str:
        """One line for logs and for admins (English; admins are staff)."""
        if self.ok:
            state = "reloaded" if self.changed else "unchanged"
            return f"Knowledge base {state}: {self.entries} entries."
        listed = "\n".join(str(problem) for problem in self.problems[:20])
        more = len(self.problems) - 20
        if more > 0:
            listed += f"\n… and {more} more"
        return (
            f"Knowledge base NOT reloaded; still serving the last good version"
            f" ({self.entries} entries). Fix:\n{listed}"
        )


class KnowledgeBaseHolder:
    """Holds the current snapshot; reloads it from the FAQ folder on demand or on change."""

    def __init__(self, faq_dir: Path, *, settings: MatcherSettings | None = None) -> None:
        self.faq_dir = faq_dir
        self._settings = settings
        self._signature = self._read_signature()
        self.current = self._build(load_knowledge_base(faq_dir))  # fail fast at start
        self.last_result = ReloadResult(ok=True, changed=True, entries=len(self.current.kb))
        self._last_reported: tuple[Problem, ...] = ()
        self._lock = threading.Lock()

    def _build(self, kb: KnowledgeBase) -> Snapshot:
        return Snapshot(kb, Matcher(kb, self._settings), datetime.now(UTC))

    def _read_signature(self) -> Signature:
        signature = []
        for path in faq_files(self.faq_dir):
            try:
                stat = path.stat()
            except OSError:
                continue  # deleted between listing and stat: the next look sees it
            signature.append((path.name, stat.st_mtime_ns, stat.st_size))
        return tuple(signature)

    def changed_on_disk(self) -> bool:
        """True if files were added, removed or modified since the last load attempt."""
        return self._read_signature() != self._signature

    def reload(self, *, force: bool = False) -> ReloadResult:
        """Load the folder again if it changed (or always with ``force``).

        The watcher and /reload both call this from worker threads; one at a time.
        """
        with self._lock:
            return self._reload(force=force)

    def _reload(self, *, force: bool) -> ReloadResult:
        signature = self._read_signature()
        if not force and signature == self._signature:
            return ReloadResult(ok=True, changed=False, entries=len(self.current.kb))
        self._signature = signature
        try:
            snapshot = self._build(load_knowledge_base(self.faq_dir))
        except KnowledgeBaseError as exc:
            result = ReloadResult(
                ok=False, changed=False, entries=len(self.current.kb), problems=tuple(exc.problems)
            )
        else:
            self.current = snapshot
            result = ReloadResult(ok=True, changed=True, entries=len(snapshot.kb))
        self.last_result = result
        return result

    def is_new_problem(self, result: ReloadResult) -> bool:
        """True once per distinct set of problems, so admins are not told twice."""
        if result.ok:
            self._last_reported = ()
            return False
        if result.problems == self._last_reported:
            return False
        self._last_reported = result.problems
        return True

    async def watch(
        self,
        on_change: Callable[[ReloadResult], Awaitable[None]],
        *,
        interval: float = 1.0,
    ) -> None:
        """Poll the folder; reload once a change has settled for one interval.

        Editors often save in several writes; waiting until two looks agree avoids
        loading (and reporting) a half-written file. Runs until cancelled.
        """
        pending: Signature | None = None
        while True:
            await asyncio.sleep(interval)
            signature = await asyncio.to_thread(self._read_signature)
            if signature == self._signature:
                pending = None
                continue
            if signature != pending:
                pending = signature
                continue
            pending = None
            result = await asyncio.to_thread(self.reload)
            if result.ok:
                logger.info("%s", result.describe())
            else:
                logger.error("%s", result.describe())
            try:
                await on_change(result)
            except Exception:
                logger.exception("Reporting a knowledge-base reload failed")
