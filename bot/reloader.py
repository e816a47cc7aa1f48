"""The knowledge base currently served, and hot reload when staff edit the files.

Staff save a file; within a few seconds customers get answers from it, without a
restart. A broken file never replaces the good knowledge base: the bot keeps serving
the last good one and reports the problems (file:line) once.

A change that removes entries waits until the folder has been still for
REMOVAL_SETTLE seconds: an editor that saves in several writes can leave a file cut
at an entry boundary, valid YAML with 14 of 18 entries. Then the admins are told
which ids disappeared and which appeared, so an accident shows at once and an
intended deletion costs a few seconds.

With a sentence encoder, a new knowledge base is served lexically at once and switched
to fused matching when its vectors are ready. Embedding runs on a worker thread (one at
a time; a later knowledge base finds the earlier one's vectors in the cache), so the
event loop keeps answering. A small edit (a few new phrasings, about a second) is
embedded before the swap, so customers never see the lexical fallback for it.
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

from bot.encoder_threads import background_work
from bot.errors import KnowledgeBaseError, Problem
from bot.kbcache import ParsedFiles
from bot.knowledge import KnowledgeBase, faq_files, load_knowledge_base
from bot.matcher import Matcher, MatcherSettings
from bot.phrasing_vectors import embed_phrasings
from bot.progress import ProgressReport
from bot.semantic import BATCH, Encoder, SemanticStatus, VectorCache, text_key
from bot.text import clean

logger = logging.getLogger(__name__)

WARM_UP_STEP = 256
"""Entries warmed up between two looks at whether a reload replaced the snapshot."""

Signature = tuple[tuple[str, int, int], ...]

REMOVAL_SETTLE = 5.0
"""Seconds the folder must be unchanged before a reload may remove entries."""


def folder_signature(faq_dir: Path) -> Signature:
    """What one look at the FAQ folder sees: each file's name, modification time and size."""
    signature = []
    for path in faq_files(faq_dir):
        try:
            stat = path.stat()
        except OSError:
            continue  # deleted between listing and stat: the next look sees it
        signature.append((path.name, stat.st_mtime_ns, stat.st_size))
    return tuple(signature)


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
        encoder: Encoder | None = None,
        cache_folder: Path | None = None,
        semantic_status: SemanticStatus | None = None,
        look: Callable[[Path], Signature] = folder_signature,
    ) -> None:
        self.faq_dir = faq_dir
        self._look = look
        self.removal_settle = removal_settle
        self._settings = settings
        self._encoder = encoder
        self._cache = (
            VectorCache(cache_folder, encoder.model_id, encoder.dimension) if encoder else None
        )
        self._configured = semantic_status or (
            SemanticStatus(True) if encoder else SemanticStatus(False, "no encoder configured")
        )
        self._embedding_lock = threading.Lock()
        self._embedded = threading.Condition()
        self._signature = self._read_signature()
        self._parsed = ParsedFiles(cache_folder)  # a reload parses only changed files
        # Fail fast at start: a broken knowledge base stops the bot before it serves.
        started = time.monotonic()
        kb = load_knowledge_base(faq_dir, parsed=self._parsed)
        read = time.monotonic()
        self.current = self._build(kb)
        logger.info(
            "Knowledge base: %d entries read in %.1f s, lexical index built in %.1f s",
            len(kb),
            read - started,
            time.monotonic() - read,
        )
        self.last_result = ReloadResult(ok=True, changed=True, entries=len(self.current.kb))
        self._last_reported: tuple[Problem, ...] = ()
        self._lock = threading.Lock()
        self._start_embedding(self.current)
        self._start_warm_up(self.current)

    def _build(self, kb: KnowledgeBase) -> Snapshot:
        return Snapshot(kb, Matcher(kb, self._settings), datetime.now(UTC))

    @property
    def semantic_status(self) -> SemanticStatus:
        """Whether answers use the semantic stage now, and why not."""
        if not self._configured.active:
            return self._configured
        if self.current.matcher.semantic_active:
            return SemanticStatus(True)
        return SemanticStatus(False, "vectors are being computed; answering lexically meanwhile")

    def wait_for_vectors(self, timeout: float) -> bool:
        """Block until the current knowledge base has its vectors (for tools and tests)."""
        if self._encoder is None:
            return False
        with self._embedded:
            return self._embedded.wait_for(lambda: self.current.matcher.semantic_active, timeout)

    def _missing_vectors(self, kb: KnowledgeBase) -> int:
        assert self._cache is not None
        return sum(
            1
            for entry in kb.entries
            for phrasing in entry.phrasings
            if self._cache.get(text_key(clean(phrasing, None))) is None
        )

    def _with_vectors(self, snapshot: Snapshot, *, wait: bool = True) -> Snapshot | None:
        """``snapshot`` with vectors; None without ``wait`` if another embedding runs."""
        assert self._encoder is not None and self._cache is not None
        # One at a time: the next one finds these vectors cached.
        if not self._embedding_lock.acquire(blocking=wait):
            return None
        try:
            progress = ProgressReport(f"Embedding {len(snapshot.kb)} entries")
            vectors = embed_phrasings(snapshot.kb, self._encoder, self._cache, progress=progress)
        finally:
            self._embedding_lock.release()
        return Snapshot(snapshot.kb, snapshot.matcher.with_semantic(vectors), snapshot.loaded_at)

    def _start_embedding(self, snapshot: Snapshot) -> None:
        """Embed ``snapshot``'s phrasings on a worker thread; swap it in when done."""
        if self._encoder is None or snapshot.matcher.semantic_active:
            return

        def work() -> None:
            try:
                ready = self._with_vectors(snapshot)
                assert ready is not None
            except Exception:
                logger.exception("Embedding the knowledge base failed; answering lexically")
                return
            with self._embedded:
                if self.current is snapshot:  # not replaced by a reload meanwhile
                    self.current = ready
                    logger.info("Semantic matching active for %d entries.", len(ready.kb))
                self._embedded.notify_all()

        threading.Thread(target=work, name="faqbot-embedding", daemon=True).start()

    def _start_warm_up(self, snapshot: Snapshot) -> None:
        """Build every entry's n-gram vector on a worker thread, while questions are
        answered: otherwise each question pays for the entries it reaches first (at
        10,000 entries about 5 of a question's 30 ms). Stops when a reload replaces
        the snapshot."""
        ngrams = snapshot.matcher.ngrams
        count = len(snapshot.kb.entries)

        def still_current() -> bool:
            return self.current.matcher.ngrams is ngrams

        def work() -> None:
            try:
                with background_work():
                    for start in range(0, count, WARM_UP_STEP):
                        if not still_current():
                            return
                        ngrams.build(range(start, min(start + WARM_UP_STEP, count)))
            except Exception:
                logger.exception("Preparing n-gram vectors failed; questions build their own")

        threading.Thread(target=work, name="faqbot-warm-up", daemon=True).start()

    def _read_signature(self) -> Signature:
        return self._look(self.faq_dir)

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
            kb = load_knowledge_base(self.faq_dir, parsed=self._parsed)
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
            if self._encoder is not None and self._missing_vectors(snapshot.kb) <= BATCH:
                try:
                    # About a second, unless a long embedding runs: then in the background.
                    snapshot = self._with_vectors(snapshot, wait=False) or snapshot
                except Exception:
                    logger.exception("Embedding the edited phrasings failed")
            with self._embedded:
                self.current = snapshot
                self._embedded.notify_all()
            self._start_embedding(snapshot)
            self._start_warm_up(snapshot)
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
