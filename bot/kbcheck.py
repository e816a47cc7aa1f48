"""Checks that span entries and files: duplicate ids, copied files, shared phrasings.

Blame goes where staff should act. Of two entries with the same id, the one in the
file changed more recently is the one to rename: the older one is live, and its id is
in links on the website. A file whose ids mostly repeat another file's is one copy
(``marketing (Kopie).yaml``), reported once instead of once per entry.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bot.errors import Problem

if TYPE_CHECKING:
    from bot.knowledge import Entry

_COPY_NAME = re.compile(r"(kopie|copy|\(\d+\)|[-_ ](alt|old|backup|bak)$)", re.IGNORECASE)
_PUNCTUATION = " \t?!.…,;:\"'„“”«»"


@dataclass(frozen=True)
class FileEntries:
    """The valid entries read from one file, and its lines for excerpts."""

    path: Path
    entries: Sequence[Entry]
    lines: Sequence[str]

    @property
    def changed(self) -> int:
        try:
            return self.path.stat().st_mtime_ns
        except OSError:
            return 0


def phrasing_key(text: str) -> str:
    """What makes two phrasings the same for customers: case, spaces, end punctuation."""
    return " ".join(text.casefold().split()).strip(_PUNCTUATION)


def across_files(files: Sequence[FileEntries]) -> list[Problem]:
    """Errors for copied files, duplicate ids and phrasings shared by two entries."""
    problems, copies = _copied_files(files)
    kept = [file for file in files if file.path not in copies]
    order = {file.path: (file.changed, number) for number, file in enumerate(kept)}
    lines = {str(file.path): file.lines for file in kept}

    def newer_last(entries: list[tuple[Entry, int]]) -> list[tuple[Entry, int]]:
        return sorted(entries, key=lambda pair: (order[Path(pair[0].source)], pair[1]))

    by_id: dict[str, list[tuple[Entry, int]]] = defaultdict(list)
    by_phrasing: dict[str, list[tuple[Entry, int]]] = defaultdict(list)
    for file in kept:
        for entry in file.entries:
            by_id[entry.id].append((entry, entry.line))
            for phrasing, line in zip(entry.phrasings, entry.phrasing_lines, strict=False):
                by_phrasing[phrasing_key(phrasing)].append((entry, line))
    for same in by_id.values():
        if len(same) < 2:
            continue
        first, *later = newer_last(same)
        problems += [_duplicate_id(entry, first[0], lines) for entry, _ in later]
    for same in by_phrasing.values():
        if len(same) < 2:
            continue
        ranked = newer_last(same)
        first = ranked[0]
        for entry, line in ranked[1:]:
            if entry.id != first[0].id:
                problems.append(_shared_phrasing(entry, line, first, lines))
    return problems


def _copied_files(files: Sequence[FileEntries]) -> tuple[list[Problem], set[Path]]:
    problems: list[Problem] = []
    copies: set[Path] = set()
    for number, file in enumerate(files):
        ids = {entry.id for entry in file.entries}
        for other_number, other in enumerate(files):
            if other is file or other.path in copies or not ids:
                continue
            shared = ids & {entry.id for entry in other.entries}
            looks_like_copy = bool(_COPY_NAME.search(file.path.stem))
            mostly_shared = len(shared) >= 2 and 2 * len(shared) >= len(ids)
            if not shared or not (looks_like_copy or mostly_shared):
                continue
            other_looks = bool(_COPY_NAME.search(other.path.stem))
            is_the_copy = (looks_like_copy and not other_looks) or (
                looks_like_copy == other_looks
                and (file.changed, number) > (other.changed, other_number)
            )
            if is_the_copy:
                copies.add(file.path)
                problems.append(_copy(file, other, len(shared), len(ids)))
                break
    return problems, copies


def _copy(file: FileEntries, original: FileEntries, shared: int, total: int) -> Problem:
    return Problem(
        str(file.path),
        0,
        f"Die Datei „{file.path.name}“ sieht aus wie eine Kopie von „{original.path.name}“:"
        f" {shared} von {total} ids stehen auch dort. Löschen Sie die Kopie oder legen Sie"
        " sie außerhalb des FAQ-Ordners ab; der Bot liest jede .yaml-Datei im Ordner.",
        code="copied-file",
    )


def _duplicate_id(entry: Entry, first: Entry, lines: dict[str, Sequence[str]]) -> Problem:
    if entry.source == first.source:
        where = f"weiter oben in dieser Datei (Zeile {first.line})"
    else:
        where = f"in {first.source}:{first.line}, einer länger nicht geänderten Datei"
    return _at(
        entry.source,
        entry.line,
        lines,
        "duplicate-id",
        f"Die id „{entry.id}“ gibt es schon {where}. Geben Sie diesem Eintrag eine neue id;"
        " die ältere bleibt, weil Links auf der Website sie verwenden können.",
    )


def _shared_phrasing(
    entry: Entry, line: int, first: tuple[Entry, int], lines: dict[str, Sequence[str]]
) -> Problem:
    other, other_line = first
    return _at(
        entry.source,
        line,
        lines,
        "duplicate-phrasing",
        f"Diese Formulierung steht auch bei Eintrag „{other.id}“ ({other.source}:{other_line})."
        " Der Bot kann nicht wissen, welcher Eintrag gemeint ist: Löschen Sie sie bei einem"
        " der beiden oder formulieren Sie sie genauer.",
    )


def _at(file: str, line: int, lines: dict[str, Sequence[str]], code: str, message: str) -> Problem:
    text = lines.get(file, ())
    excerpt = text[line - 1] if 0 < line <= len(text) else ""
    column = len(excerpt) - len(excerpt.lstrip()) + 1 if excerpt else 0
    return Problem(file, line, message, column=column, code=code, excerpt=excerpt)
