"""One FAQ file read into YAML nodes, and YAML's syntax errors told to staff in German.

Nodes (not Python objects) are kept so that every later finding carries its file:line.
libyaml's C composer builds them faster than PyYAML's pure-Python one and keeps the same
marks (a 10,000-entry file: 1.9 s instead of 11.9 s, ``benchmarks/bench_load.py``). When a
file does not parse, it is parsed again with the pure-Python loader: its error messages
and marks are the ones translated below, and a broken file is rare enough not to matter.

Staff are consultants, not programmers: a message names the line, shows it with a
marker under the spot, and says what to do. The parser's English appears only in the
rare fallback, after a German sentence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

MAX_FILE_BYTES = 10 * 1024 * 1024
"""A 50 MB file took 139 s and 3 GB to load; no FAQ file needs more than a few hundred kB."""

FastLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_KEY_LINE = re.compile(r"^(\s*)(- +)?([A-Za-z_][\w-]*)\s*:(\s|$)")
_ONLY_KEY = re.compile(r"^\s*(- +)?[A-Za-z_][\w-]*\s*$")
_BLOCK_SCALAR_START = re.compile(r":\s*[|>][+-]?\d*\s*(#.*)?$")


@dataclass(frozen=True)
class Finding:
    """A problem in one file before it is tied to the file's path (see ``knowledge``)."""

    line: int
    column: int
    code: str
    message: str


@dataclass(frozen=True)
class SourceFile:
    """A FAQ file as text lines and as the root node of its YAML (None when empty)."""

    lines: tuple[str, ...]
    root: yaml.Node | None

    def line_text(self, line: int) -> str:
        """The text of a 1-based line, or "" outside the file."""
        return self.lines[line - 1] if 0 < line <= len(self.lines) else ""


def read_bytes(path: Path) -> tuple[bytes | None, Finding | None]:
    """The file's bytes, or None and why they cannot be read (missing, too large)."""
    try:
        size = path.stat().st_size
        with path.open("rb") as stream:
            data = stream.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        return None, Finding(0, 0, "unreadable", _unreadable(reason))
    if max(size, len(data)) > MAX_FILE_BYTES:
        return None, Finding(0, 0, "file-too-large", _too_large(max(size, len(data))))
    return data, None


def parse_source(data: bytes) -> tuple[SourceFile | None, list[str], Finding | None]:
    """A file's bytes as YAML nodes, its lines and the first problem."""
    try:
        text = _text_of(data)
    except UnicodeDecodeError as exc:
        lines = data.decode("utf-8", errors="replace").splitlines()
        return None, lines, _not_utf8(data, exc.start)
    lines = text.splitlines()
    try:
        root = yaml.compose(text, Loader=FastLoader)
    except yaml.YAMLError:
        return None, lines, _syntax_finding(text, lines)
    return SourceFile(tuple(lines), root), lines, None


def source_lines(data: bytes) -> list[str]:
    """The lines of a file that decodes (as ``parse_source`` splits them)."""
    return _text_of(data).splitlines()


def _text_of(data: bytes) -> str:
    """A file's text: UTF-8 (UnicodeDecodeError otherwise), without a byte-order mark."""
    return data.decode("utf-8").removeprefix("\ufeff")


def _unreadable(reason: str) -> str:
    return (
        f"Die Datei kann nicht gelesen werden ({reason}). Prüfen Sie, ob sie noch in einem"
        " anderen Programm geöffnet ist und ob Sie Leserechte haben."
    )


def _too_large(size: int) -> str:
    megabytes = f"{size / 1024 / 1024:.1f}".replace(".", ",")
    return (
        f"Die Datei ist {megabytes} MB groß; erlaubt sind höchstens"
        f" {MAX_FILE_BYTES // 1024 // 1024} MB je Datei. Verteilen Sie die Einträge auf"
        " mehrere Dateien, oder stellen Sie die letzte gute Fassung wieder her, falls"
        " versehentlich etwas Großes hineinkopiert wurde."
    )


def _not_utf8(data: bytes, offset: int) -> Finding:
    line = data.count(b"\n", 0, offset) + 1
    line_start = data.rfind(b"\n", 0, offset) + 1
    column = len(data[line_start:offset].decode("utf-8", errors="replace")) + 1
    byte = data[offset]
    guess = bytes([byte]).decode("cp1252", errors="replace")
    hint = f" (vermutlich „{guess}“)" if guess.isprintable() and guess != "\ufffd" else ""
    return Finding(
        line,
        column,
        "not-utf8",
        f"Zeile {line} enthält ein Zeichen, das nicht im Format UTF-8 gespeichert ist"
        f"{hint}. Speichern Sie die Datei als UTF-8 (im Editor unter „Speichern unter“"
        " → Codierung „UTF-8“) und prüfen Sie danach die Umlaute.",
    )


# YAML syntax errors ------------------------------------------------------------------


def _syntax_finding(text: str, lines: list[str]) -> Finding:
    try:
        yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        return _translate(exc, lines)
    except yaml.YAMLError as exc:  # pragma: no cover - every parser error is marked
        return _fallback(1, 0, str(exc))
    return _fallback(1, 0, "libyaml")  # pragma: no cover - the two parsers disagree


def _translate(exc: yaml.MarkedYAMLError, lines: list[str]) -> Finding:
    problem = exc.problem or ""
    context = exc.context or ""
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark else 1
    column = mark.column + 1 if mark else 0
    context_line = exc.context_mark.line + 1 if exc.context_mark else line

    tab = _first_tab_indent(lines, line)
    if tab is not None:
        how = "beginnt mit" if lines[tab - 1].startswith("\t") else "ist mit"
        done = "" if how == "beginnt mit" else " eingerückt"
        return Finding(
            tab,
            lines[tab - 1].index("\t") + 1,
            "yaml-tab",
            f"Zeile {tab} {how} einem Tabulator{done}. Bitte rücken Sie nur mit Leerzeichen"
            " ein (2 je Ebene).",
        )
    if "quoted scalar" in context and "end of stream" in problem:
        quote_line = exc.context_mark.line + 1 if exc.context_mark else line
        quote_column = exc.context_mark.column + 1 if exc.context_mark else 0
        return Finding(
            quote_line,
            quote_column,
            "yaml-unclosed-quote",
            f"Das Anführungszeichen in Zeile {quote_line} wird nicht geschlossen. Setzen Sie"
            " am Ende des Textes dasselbe Anführungszeichen noch einmal.",
        )
    if "could not find expected ':'" in problem:
        return _missing_colon(lines, context_line, exc)
    if "mapping values are not allowed" in problem:
        return _colon_in_text(lines, line, column)
    if "found '<scalar>'" in problem:
        return _text_after_text(lines, line, column)
    if "found '-'" in problem or "<block sequence start>" in problem:
        return _list_indent(lines, line, column)
    if "found '?'" in problem or "<block mapping start>" in problem:
        collection = "block collection" in context and exc.context_mark is not None
        if collection and exc.context_mark and _indent(lines, line) == exc.context_mark.column:
            return _missing_dash(line, column)
        return _field_indent(lines, line, column)
    if "undefined alias" in problem or "while scanning an alias" in context:
        return _starts_with(lines, line, column, "*")
    if "cannot start any token" in problem:
        char = lines[line - 1][column - 1] if _inside(lines, line, column) else "@"
        return _starts_with(lines, line, column, char)
    if "flow sequence" in context or "flow mapping" in context:
        return Finding(
            context_line,
            exc.context_mark.column + 1 if exc.context_mark else 0,
            "yaml-brackets",
            f"Die Klammer in Zeile {context_line} wird nicht richtig geschlossen. In"
            " „[a, b]“ trennt jedes Komma zwei Einträge; setzen Sie Texte mit Komma,"
            " Doppelpunkt oder Klammer in Anführungszeichen.",
        )
    return _fallback(line, column, problem or str(exc))


def _missing_colon(lines: list[str], line: int, exc: yaml.MarkedYAMLError) -> Finding:
    column = exc.context_mark.column + 1 if exc.context_mark else 0
    previous = _previous_content_line(lines, line)
    if previous and _BLOCK_SCALAR_START.search(lines[previous - 1]):
        return Finding(
            line,
            column,
            "yaml-block-indent",
            f"Der Text in Zeile {line} gehört zu „{lines[previous - 1].strip()}“ in Zeile"
            f" {previous} und muss deshalb weiter eingerückt sein als diese Zeile"
            " (z. B. 2 Leerzeichen mehr).",
        )
    return Finding(
        line,
        column,
        "yaml-missing-colon",
        f"In Zeile {line} fehlt der Doppelpunkt nach dem Feldnamen. Schreiben Sie Feldname,"
        " Doppelpunkt, Leerzeichen und Wert, z. B. „question: …“.",
    )


def _colon_in_text(lines: list[str], line: int, column: int) -> Finding:
    before = lines[line - 1][: max(column - 1, 0)] if _inside(lines, line, column) else ""
    if _ONLY_KEY.match(before):
        # "key: value" read as the continuation of the text above: indented too far.
        return _continuation(lines, line, column)
    key = _KEY_LINE.match(lines[line - 1]) if _inside(lines, line, 1) else None
    example = ""
    if key:
        value = lines[line - 1][key.end() :].strip().replace('"', '\\"')
        example = f' So ist es richtig: {key.group(3)}: "{value}"'
    return Finding(
        line,
        column,
        "yaml-colon",
        f"In Zeile {line} steht ein Doppelpunkt mit Leerzeichen mitten im Text. Setzen Sie"
        f" den Text in Anführungszeichen, weil er einen Doppelpunkt enthält.{example}",
    )


def _continuation(lines: list[str], line: int, column: int) -> Finding:
    indent = _indent(lines, line)
    above = line - 1
    while above > 0 and (not lines[above - 1].strip() or _indent(lines, above) >= indent):
        above -= 1
    first = next((n for n in range(above + 1, line + 1) if lines[n - 1].strip()), line)
    is_entry = lines[first - 1].lstrip().startswith("- id:")
    what = (
        "Ein neuer Eintrag „- id:“ muss genau so weit eingerückt sein wie die Einträge darüber."
        if is_entry
        else "Rücken Sie die Zeile genau so weit ein wie die Zeilen, zu denen sie gehört."
    )
    return Finding(
        first,
        _indent(lines, first) + 1,
        "yaml-nesting" if is_entry else "yaml-indent",
        f"Zeile {first} ist weiter eingerückt als Zeile {above} und wird deshalb als"
        f" Fortsetzung des Textes darüber gelesen. {what}",
    )


def _text_after_text(lines: list[str], line: int, column: int) -> Finding:
    text = lines[line - 1] if _inside(lines, line, 1) else ""
    if ": '" in text:
        return Finding(
            line,
            column,
            "yaml-apostrophe",
            f"Der Text in Zeile {line} steht in einfachen Anführungszeichen '…' und enthält"
            " einen Apostroph, der ihn vorzeitig beendet. Setzen Sie den Text in doppelte"
            ' Anführungszeichen "…".',
        )
    return Finding(
        line,
        column,
        "yaml-quote",
        f"In Zeile {line} geht der Text nach dem schließenden Anführungszeichen weiter."
        " Setzen Sie den ganzen Text in Anführungszeichen und verwenden Sie innen andere"
        " Anführungszeichen („…“).",
    )


def _list_indent(lines: list[str], line: int, column: int) -> Finding:
    text = lines[line - 1].lstrip() if _inside(lines, line, 1) else ""
    if text.startswith("- id:"):
        return Finding(
            line,
            column,
            "yaml-nesting",
            f"Der Eintrag in Zeile {line} ist anders eingerückt als die Einträge darüber."
            " Alle Einträge unter „entries:“ beginnen genau untereinander mit „- id:“.",
        )
    return Finding(
        line,
        column,
        "yaml-list-indent",
        f"Der Listenpunkt in Zeile {line} ist anders eingerückt als die Punkte darüber."
        " Setzen Sie alle „- “ einer Liste genau untereinander.",
    )


def _missing_dash(line: int, column: int) -> Finding:
    return Finding(
        line,
        column,
        "yaml-missing-dash",
        f"Vor dem Eintrag in Zeile {line} fehlt der Bindestrich. Jeder Eintrag beginnt mit"
        " „- id:“.",
    )


def _field_indent(lines: list[str], line: int, column: int) -> Finding:
    previous = _previous_content_line(lines, line)
    detail = ""
    if previous:
        detail = (
            f" Sie ist mit {_indent(lines, line)} Leerzeichen eingerückt, Zeile {previous}"
            f" mit {_indent(lines, previous)}."
        )
    return Finding(
        line,
        column,
        "yaml-indent",
        f"Zeile {line} ist anders eingerückt als die Zeilen darüber.{detail} Die Felder eines"
        " Eintrags (id, question, answer …) müssen genau untereinander stehen.",
    )


def _starts_with(lines: list[str], line: int, column: int, char: str) -> Finding:
    text = lines[line - 1] if 0 < line <= len(lines) else ""
    value = text.find(": " + char)
    if value >= 0:
        column = value + 3  # the marker under the character, not where YAML gave up
    return Finding(
        line,
        column,
        "yaml-special-character",
        f"Der Text in Zeile {line} beginnt mit „{char}“, das in YAML eine besondere"
        " Bedeutung hat. Setzen Sie den Text in Anführungszeichen.",
    )


def _fallback(line: int, column: int, detail: str) -> Finding:
    return Finding(
        line,
        column,
        "yaml-syntax",
        f"Zeile {line} ist kein gültiges YAML. Vergleichen Sie sie mit einem funktionierenden"
        " Eintrag; häufige Ursachen sind Einrückung und fehlende Anführungszeichen"
        f" (technisch: {detail}).",
    )


def _first_tab_indent(lines: list[str], up_to: int) -> int | None:
    """The first line up to ``up_to`` whose indentation contains a tab."""
    for number, text in enumerate(lines[:up_to], start=1):
        indentation = text[: len(text) - len(text.lstrip(" \t"))]
        if "\t" in indentation and text.strip():
            return number
    return None


def _previous_content_line(lines: list[str], line: int) -> int:
    for number in range(line - 1, 0, -1):
        stripped = lines[number - 1].strip()
        if stripped and not stripped.startswith("#"):
            return number
    return 0


def _indent(lines: list[str], line: int) -> int:
    text = lines[line - 1] if 0 < line <= len(lines) else ""
    return len(text) - len(text.lstrip(" "))


def _inside(lines: list[str], line: int, column: int) -> bool:
    return 0 < line <= len(lines) and 0 < column <= len(lines[line - 1])
