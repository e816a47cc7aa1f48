"""Parsed FAQ files kept by their content, so a start or a reload parses only what changed.

Composing YAML nodes and checking the schema is a third of a large knowledge base's
lexical start (10,000 entries in 12 files: about 1.1 s of 3.7 s; building the index is
most of the rest). What a file yields, its entries and warnings, depends on its bytes,
its path and the code that reads it, and on nothing else. A result is kept under a hash
of all three, so it cannot go stale: an edit, a renamed file and an update of faqbot
each miss and are parsed again.

Results are kept in memory (a hot reload parses only the file that changed) and in one
JSON file in DATA_DIR (a restart parses nothing that did not change). JSON, not pickle:
reading it runs no code. A damaged or foreign file is ignored and rewritten; a folder
that cannot be written means no cache, never a failed load. A file with errors is never
kept: it is parsed and reported every time. Whoever can write DATA_DIR can already
change what the bot sends (the handoff store queues staff answers to customers), so
the cache file gives nobody a new way in.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import json
import logging
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import yaml

from bot.errors import Problem
from bot.kbschema import FileReader
from bot.knowledge import Entry, Link
from bot.private_files import write_private
from bot.yamlnodes import FastLoader, Finding, read_bytes, source_lines

logger = logging.getLogger(__name__)

T = TypeVar("T")

CACHE_FILE = "faq-cache.json"
FORMAT = 1
READER_MODULES = (
    "bot.errors",
    "bot.kbcache",
    "bot.kbcheck",
    "bot.kbschema",
    "bot.kbwording",
    "bot.knowledge",
    "bot.yamlnodes",
)
"""The code a file's result depends on: a change to any of them misses every result."""


@dataclass(frozen=True)
class FileRead:
    """What one FAQ file yields: its valid entries, its lines (for excerpts), findings."""

    entries: tuple[Entry, ...]
    lines: tuple[str, ...]
    problems: tuple[Problem, ...]
    warnings: tuple[Problem, ...]


def read_file(
    path: Path, data: bytes | None = None, *, unreadable: Finding | None = None
) -> FileRead:
    """Parse and check one file (``data``: its bytes, when read already; ``unreadable``:
    why they could not be read, when the caller tried already)."""
    if data is None and unreadable is None:
        data, unreadable = read_bytes(path)
    reader = FileReader(path)
    entries: list[Entry] = []
    if data is not None:
        entries = reader.parse(data)
    elif unreadable is not None:
        reader.problem(unreadable)
    return FileRead(tuple(entries), reader.lines, tuple(reader.problems), tuple(reader.warnings))


@functools.cache
def reader_version() -> str:
    """A hash of the code that turns a file into entries, and of the YAML library."""
    digest = hashlib.blake2b(digest_size=16)
    digest.update(f"{FORMAT} {yaml.__version__} {FastLoader.__name__}".encode())
    for name in READER_MODULES:
        file = importlib.import_module(name).__file__
        try:
            digest.update(Path(file).read_bytes() if file else os.urandom(16))
        except OSError:
            # No source to hash (a frozen build): a result kept by another process
            # could come from other code, so none may match; memory still serves.
            digest.update(os.urandom(16))
    return digest.hexdigest()


def _key(path: Path, data: bytes) -> str:
    digest = hashlib.blake2b(digest_size=16)
    for part in (reader_version().encode(), str(path).encode("utf-8", "surrogatepass"), data):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


Kept = tuple[tuple[Entry, ...], tuple[Problem, ...]]
"""A file's entries and warnings (a kept file has no errors)."""


class ParsedFiles:
    """Results of FAQ files by content: in memory, and in ``folder`` when one is given."""

    def __init__(self, folder: Path | None) -> None:
        self.path = folder / CACHE_FILE if folder is not None else None
        self._kept: dict[str, Kept] = {}
        self._opened = False
        self._write_failed = False
        self._lock = threading.Lock()

    def read_all(self, paths: Sequence[Path]) -> list[FileRead]:
        """Every file's result, parsed only where no kept result matches its bytes.

        Afterwards only these files' results are kept, and the cache file is rewritten
        if that changed anything."""
        with self._lock:
            changed = self._open()
            results: list[FileRead] = []
            used: set[str] = set()
            for path in paths:
                data, why = read_bytes(path)
                if data is None:
                    results.append(read_file(path, unreadable=why))
                    continue
                key = _key(path, data)
                kept = self._kept.get(key)
                if kept is not None:
                    results.append(FileRead(kept[0], tuple(source_lines(data)), (), kept[1]))
                else:
                    result = read_file(path, data)
                    results.append(result)
                    if not result.problems:
                        self._kept[key] = (result.entries, result.warnings)
                        changed = True
                used.add(key)
            for key in self._kept.keys() - used:
                del self._kept[key]
                changed = True
            if changed:
                self._write()
            return results

    def _open(self) -> bool:
        """Read the cache file once; True if it must be rewritten (damaged or foreign)."""
        if self._opened or self.path is None:
            return False
        self._opened = True
        try:
            content = json.loads(self.path.read_bytes())
        except (FileNotFoundError, NotADirectoryError):
            return False  # none yet; a folder that is no folder is said when writing
        except (OSError, ValueError) as exc:
            logger.warning("Ignoring the FAQ cache %s and rebuilding it: %s", self.path, exc)
            return True
        try:
            self._kept = _decode(content)
        except (ValueError, KeyError, TypeError) as exc:
            logger.warning("Ignoring the FAQ cache %s and rebuilding it: %s", self.path, exc)
            return True
        return False

    def _write(self) -> None:
        if self.path is None or self._write_failed:
            return
        content = {"format": FORMAT, "reader": reader_version(), "files": _encode(self._kept)}
        # ASCII: a tenth faster to read and write than UTF-8 here, and safe for any text.
        data = json.dumps(content, separators=(",", ":")).encode("ascii")
        try:
            write_private(self.path, data, durable=False)  # a lost cache costs one parse
        except OSError as exc:
            self._write_failed = True  # say it once; loading goes on without the file
            logger.warning("Cannot write the FAQ cache in %s: %s", self.path.parent, exc)


# JSON ------------------------------------------------------------------------------------


def _encode(kept: dict[str, Kept]) -> dict[str, object]:
    return {
        key: {
            "entries": [_entry_json(entry) for entry in entries],
            "warnings": [_problem_json(problem) for problem in warnings],
        }
        for key, (entries, warnings) in kept.items()
    }


def _entry_json(entry: Entry) -> dict[str, object]:
    return {
        "id": entry.id,
        "category": entry.category,
        "question": entry.question,
        "answer": entry.answer,
        "alternatives": entry.alternatives,
        "keywords": entry.keywords,
        "links": [[link.title, link.url] for link in entry.links],
        "source": entry.source,
        "line": entry.line,
        "phrasing_lines": entry.phrasing_lines,
        "draft": entry.draft,
        "file_options": entry.file_options,
    }


def _problem_json(problem: Problem) -> dict[str, object]:
    return {
        "file": problem.file,
        "line": problem.line,
        "message": problem.message,
        "column": problem.column,
        "severity": problem.severity,
        "code": problem.code,
        "excerpt": problem.excerpt,
    }


def _decode(content: object) -> dict[str, Kept]:
    """The kept results of a cache file; ValueError when it is of another version."""
    header = _of(dict, content)
    if header.get("format") != FORMAT or header.get("reader") != reader_version():
        raise ValueError("written by another version of faqbot")
    return {
        str(key): (
            tuple(_entry(item) for item in _of(list, _of(dict, kept)["entries"])),
            tuple(_problem(item) for item in _of(list, kept["warnings"])),
        )
        for key, kept in _of(dict, header["files"]).items()
    }


def _entry(item: object) -> Entry:
    fields = _of(dict, item)
    return Entry(
        id=_of(str, fields["id"]),
        category=_of(str, fields["category"]),
        question=_of(str, fields["question"]),
        answer=_of(str, fields["answer"]),
        alternatives=tuple(_of(str, text) for text in _of(list, fields["alternatives"])),
        keywords=tuple(_of(str, text) for text in _of(list, fields["keywords"])),
        links=tuple(_link(link) for link in _of(list, fields["links"])),
        source=_of(str, fields["source"]),
        line=_of(int, fields["line"]),
        phrasing_lines=tuple(_of(int, line) for line in _of(list, fields["phrasing_lines"])),
        draft=_of(bool, fields["draft"]),
        file_options=tuple(_option(option) for option in _of(list, fields["file_options"])),
    )


def _problem(item: object) -> Problem:
    fields = _of(dict, item)
    return Problem(
        file=_of(str, fields["file"]),
        line=_of(int, fields["line"]),
        message=_of(str, fields["message"]),
        column=_of(int, fields["column"]),
        severity=_of(str, fields["severity"]),
        code=_of(str, fields["code"]),
        excerpt=_of(str, fields["excerpt"]),
    )


def _link(item: object) -> Link:
    title, url = _of(list, item)
    return Link(_of(str, title), _of(str, url))


def _option(item: object) -> tuple[str, str | bool]:
    name, value = _of(list, item)
    return _of(str, name), value if isinstance(value, bool) else _of(str, value)


def _of(kind: type[T], value: object) -> T:
    """``value`` if it is of ``kind`` (a flag is no number here); else ValueError."""
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ValueError(f"expected {kind.__name__}, found {type(value).__name__}")
    return value
