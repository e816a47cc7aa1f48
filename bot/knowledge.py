"""The knowledge base: YAML schema, loading, and validation with file:line messages.

One file per category in the FAQ folder (``.yaml``, also ``.yml``)::

    category: Web & Technik
    entries:
      - id: dnssec
        question: Was ist DNSSEC und wozu dient es?
        alternatives: [...]
        keywords: [...]
        answer: |
          ...
        links:
          - title: ...
            url: https://...
        draft: true          # optional: checked, but never matched nor shown

Loading is all or nothing: any error in any file raises ``KnowledgeBaseError`` listing
every problem found, so a half-edited folder never replaces a good knowledge base.
Messages are German (staff read them): ``bot.yamlnodes`` words the YAML syntax errors,
``bot.kbschema`` the schema, ``bot.kbcheck`` what spans several entries or files.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from bot import kbcheck
from bot.errors import KnowledgeBaseError, Problem
from bot.gc_pause import collector_paused

if TYPE_CHECKING:
    from bot.kbcache import ParsedFiles

ID_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,58}[a-z0-9])?$")
ANSWER_SOFT_LIMIT = 1500
ANSWER_HARD_LIMIT = 4000
"""Telegram cuts a message at 4,096 characters; the rest of the reply needs some room."""


@dataclass(frozen=True)
class Link:
    """A "read more" link shown below an answer."""

    title: str
    url: str


@dataclass(frozen=True)
class Entry:
    """One FAQ entry as staff wrote it."""

    id: str
    category: str
    question: str
    answer: str
    alternatives: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    links: tuple[Link, ...] = ()
    source: str = ""
    line: int = 0
    phrasing_lines: tuple[int, ...] = ()
    """Line of the question, then of each alternative, for messages to staff."""
    draft: bool = False
    file_options: tuple[tuple[str, str | bool], ...] = ()
    """Values of the file-level keys in ``FILE_OPTIONS`` that the file sets."""

    @property
    def phrasings(self) -> tuple[str, ...]:
        """The question followed by its alternatives: every way this entry is asked."""
        return (self.question, *self.alternatives)

    def file_option(self, name: str) -> str | bool | None:
        """The value of a file-level key of this entry's file, or None if not set."""
        return dict(self.file_options).get(name)


@dataclass(frozen=True)
class KnowledgeBase:
    """A validated, immutable set of entries in file order; drafts are kept apart."""

    entries: tuple[Entry, ...]
    warnings: tuple[Problem, ...] = ()
    drafts: tuple[Entry, ...] = ()
    """Entries marked ``draft: true``: checked, listed by ``faqbot check``, never served."""
    smalltalk: tuple[Entry, ...] = ()
    """Entries of files marked ``smalltalk: true``: never browsed, shared or deep-linked."""
    _by_id: dict[str, Entry] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_id", {entry.id: entry for entry in self.entries})

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self) -> Iterator[Entry]:
        return iter(self.entries)

    def get(self, entry_id: str) -> Entry | None:
        """The entry with this id, or None (also for drafts: they are never shown)."""
        return self._by_id.get(entry_id)

    @property
    def categories(self) -> tuple[str, ...]:
        """Category names in the order their files were loaded."""
        return tuple(dict.fromkeys(entry.category for entry in self.entries))

    def in_category(self, category: str) -> tuple[Entry, ...]:
        """The entries of one category, in file order."""
        return tuple(entry for entry in self.entries if entry.category == category)

    def category_id(self, category: str) -> str:
        """The stable id of a category: the slug of its (first) file's name.

        Buttons carry it, so a file added or removed by a hot reload never makes a
        button in a chat open another category than the one it names.
        """
        source = next((e.source for e in self.entries if e.category == category), category)
        return category_slug(source)

    def category_by_id(self, category_id: str) -> str | None:
        """The category a button's id names, or None if it is gone."""
        return next(
            (name for name in self.categories if self.category_id(name) == category_id), None
        )


CATEGORY_ID_CHARS = 60
"""Telegram's callback data holds 64 bytes: "c:" and an id of at most this many."""


def category_slug(source: str) -> str:
    """ "faq/Web & Technik.yaml" -> "web-technik": lower case ASCII letters, digits, "-"."""
    name = Path(source).stem if source.endswith((".yaml", ".yml")) else source
    ascii_name = unicodedata.normalize("NFKD", name.lower()).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name).strip("-")[:CATEGORY_ID_CHARS] or "thema"


def faq_files(faq_dir: Path) -> list[Path]:
    """The YAML files of a FAQ folder, sorted; hidden and editor backup files are skipped."""
    if not faq_dir.is_dir():
        return []
    return sorted(
        path
        for path in faq_dir.iterdir()
        if path.suffix in (".yaml", ".yml")
        and not path.name.startswith((".", "#"))
        and path.is_file()
    )


def load_knowledge_base(faq_dir: Path | str, *, parsed: ParsedFiles | None = None) -> KnowledgeBase:
    """Load and validate every YAML file in ``faq_dir``; raise on any error.

    ``parsed`` keeps files' results by content, so that unchanged files are not parsed
    again; without it every file is parsed (``faqbot check`` and ``eval``)."""
    with collector_paused():
        return _load(Path(faq_dir), parsed)


def _load(faq_dir: Path, parsed: ParsedFiles | None) -> KnowledgeBase:
    if not faq_dir.is_dir():
        raise KnowledgeBaseError([_folder_problem(faq_dir, "folder-missing", _missing(faq_dir))])
    files = faq_files(faq_dir)
    if not files:
        raise KnowledgeBaseError([_folder_problem(faq_dir, "folder-empty", _empty(faq_dir))])
    problems: list[Problem] = []
    warnings: list[Problem] = []
    read: list[kbcheck.FileEntries] = []
    from bot.kbcache import read_file  # it builds this module's Entry and Link

    results = parsed.read_all(files) if parsed else [read_file(path) for path in files]
    for path, result in zip(files, results, strict=True):
        problems.extend(result.problems)
        warnings.extend(result.warnings)
        read.append(kbcheck.FileEntries(path, result.entries, result.lines))
    findings = kbcheck.across_files(read)
    problems.extend(p for p in findings if p.severity == "error")
    warnings.extend(p for p in findings if p.severity != "error")
    all_entries = [entry for file in read for entry in file.entries]
    served = tuple(entry for entry in all_entries if not entry.draft)
    if not problems and all_entries and not served:
        problems.append(_folder_problem(faq_dir, "only-drafts", _only_drafts()))
    if problems:
        order = {str(path): number for number, path in enumerate(files)}
        raise KnowledgeBaseError(
            sorted(problems, key=lambda problem: (order.get(problem.file, -1), problem.line))
        )
    drafts = tuple(entry for entry in all_entries if entry.draft)
    smalltalk = tuple(entry for entry in served if entry.file_option("smalltalk"))
    served = tuple(entry for entry in served if not entry.file_option("smalltalk"))
    return KnowledgeBase(served, tuple(warnings), drafts, smalltalk)


def _folder_problem(faq_dir: Path, code: str, message: str) -> Problem:
    return Problem(str(faq_dir), 0, message, code=code)


def _missing(faq_dir: Path) -> str:
    searched = "" if faq_dir.is_absolute() else f" (gesucht in „{faq_dir.absolute()}“)"
    return (
        f"Der FAQ-Ordner „{faq_dir}“ wurde nicht gefunden{searched}."
        " Starten Sie den Befehl im Projektordner, geben Sie den Ordner mit"
        " --faq-dir pfad/zum/ordner an, oder setzen Sie die Umgebungsvariable FAQ_DIR,"
        " z. B. FAQ_DIR=/srv/faqbot/faq."
    )


def _empty(faq_dir: Path) -> str:
    return (
        f"Im FAQ-Ordner „{faq_dir}“ liegt keine .yaml-Datei. Legen Sie die FAQ-Dateien dort"
        " ab (Endung .yaml oder .yml), oder nennen Sie mit --faq-dir bzw. FAQ_DIR den"
        " richtigen Ordner."
    )


def _only_drafts() -> str:
    return (
        "Alle Einträge sind als Entwurf markiert (draft: true); der Bot hätte nichts zu"
        " beantworten. Veröffentlichen Sie mindestens einen Eintrag."
    )
