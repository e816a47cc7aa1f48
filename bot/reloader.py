"""The knowledge base currently served, and hot reload when staff edit the files.

Staff save a file; within a few seconds customers get answers from it, without a
restart. A broken file never replaces the good knowledge base: the bot keeps serving
the last good one and reports the problems (file:line) once.

A change that removes entries waits until the folder has been still for
REMOVAL_SETTLE seconds: an editor that saves in several writes can leave a file cut
at an entry boundary, valid YAML with 14 of 18 entries. Then the admins are told
which ids disappeared and which appeared, so an accident shows at once and an
intended deletion costs a few seconds.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from bot.errors import KnowledgeBaseError, Problem
from bot.knowledge import KnowledgeBase, faq_files, load_knowledge_base
from bot.matcher import Matcher, MatcherSettings

logger = logging.getLogger(__name__)

Signature = tuple[tuple[str, int, int], ...]

REMOVAL_SETTLE = 5.0
"""Seconds the folder must be unchanged before a reload may remove entries."""


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
    removed: tuple[str, ...] = ()
    """Entry ids served before and gone now (or, with ``deferred``, about to go)."""
    added: tuple[str, ...] = ()
    deferred: bool = False
    """Entries would be removed, but the folder has not been still long enough yet."""

    def describe(self) -> str:
        """One line for logs and for admins (English; admins are staff)."""
        if self.ok:
            state = "reloaded" if self.changed else "unchanged"
            text = f"Knowledge base {state}: {self.entries} entries."
            if self.removed and not self.deferred:
                text += f"\nRemoved: {', '.join(self.removed)}"
                text += f"\nAdded: {', '.join(self.added) or '-'}"
                text += "\nIf that was not intended, restore the file."
            return text
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

    def __init__(
        self,
        faq_dir: Path,
        *,
        settings: MatcherSettings | None = None,
        removal_settle: float = REMOVAL_SETTLE,
    ) -> None:
        self.faq_dir = faq_dir
        self.removal_settle = removal_settle
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

    def reload(self, *, force: bool = False, may_remove: bool = True) -> ReloadResult:
        """Load the folder again if it changed (or always with ``force``).

        Without ``may_remove`` a version that lacks served entries is not swapped in:
        the result says ``deferred`` and the next call looks again.
        The watcher and /reload both call this from worker threads; one at a time.
        """
        with self._lock:
            return self._reload(force=force, may_remove=may_remove)

    def _reload(self, *, force: bool, may_remove: bool) -> ReloadResult:
        signature = self._read_signature()
        if not force and signature == self._signature:
            return ReloadResult(ok=True, changed=False, entries=len(self.current.kb))
        previous, self._signature = self._signature, signature
        old_ids = [entry.id for entry in self.current.kb]
        try:
            kb = load_knowledge_base(self.faq_dir)
            new_ids = {entry.id for entry in kb}
            removed = tuple(entry_id for entry_id in old_ids if entry_id not in new_ids)
            added = tuple(entry.id for entry in kb if entry.id not in set(old_ids))
            if removed and not may_remove:
                self._signature = previous  # look again next time
                return ReloadResult(
                    ok=True,
                    changed=False,
                    entries=len(self.current.kb),
                    removed=removed,
                    added=added,
                    deferred=True,
                )
            snapshot = self._build(kb)
        except KnowledgeBaseError as exc:
            result = ReloadResult(
                ok=False, changed=False, entries=len(self.current.kb), problems=tuple(exc.problems)
            )
        else:
            self.current = snapshot
            result = ReloadResult(
                ok=True, changed=True, entries=len(snapshot.kb), removed=removed, added=added
            )
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
        loading (and reporting) a half-written file. A version that removes entries
        waits for ``removal_settle`` seconds without change. Runs until cancelled.
        """
        pending: Signature | None = None
        changed_at = time.monotonic()
        while True:
            await asyncio.sleep(interval)
            signature = await asyncio.to_thread(self._read_signature)
            if signature == self._signature:
                pending = None
                continue
            if signature != pending:
                pending, changed_at = signature, time.monotonic()
                continue
            settled = time.monotonic() - changed_at >= self.removal_settle
            result = await asyncio.to_thread(self.reload, may_remove=settled)
            if result.deferred:
                continue
            pending = None
            if result.ok:
                logger.info("%s", result.describe())
            else:
                logger.error("%s", result.describe())
            try:
                await on_change(result)
            except Exception:
                logger.exception("Reporting a knowledge-base reload failed")
