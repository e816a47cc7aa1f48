"""The schema of a FAQ file, read from YAML nodes so that every problem carries file:line.

Staff read every message: German, "Sie", naming the line and saying what to do. A
wrong type is named as staff would see it ("ist eine Zahl, kein Text") and an empty
answer points to ``draft: true``, the way to keep an unfinished entry in the folder.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from bot import kbcheck
from bot import kbwording as wording
from bot.errors import Problem
from bot.knowledge import ANSWER_HARD_LIMIT, ANSWER_SOFT_LIMIT, ID_PATTERN, Entry, Link
from bot.yamlnodes import Finding, parse_source

URL_PATTERN = re.compile(r"^https?://[^\s/?#]+\.[^\s/?#]+[^\s]*$")
_TODO = re.compile(r"\bTODO\b")

FILE_OPTIONS: dict[str, str] = {"smalltalk": "flag"}
"""Optional keys at the top of a file and their kind ("text" or "flag"). Every entry of
the file carries their values in ``Entry.file_options``; a new key is one line here."""
FILE_KEYS = {"category": True, "entries": True, **dict.fromkeys(FILE_OPTIONS, False)}
ENTRY_KEYS = {
    "id": True,
    "question": True,
    "alternatives": False,
    "keywords": False,
    "answer": True,
    "links": False,
    "draft": False,
}  # key -> required
LINK_KEYS = {"title": True, "url": True}

_TAG = "tag:yaml.org,2002:"


class FileReader:
    """Reads one FAQ file from YAML nodes, so that every problem carries its line."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lines: tuple[str, ...] = ()
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []

    def problem(self, finding: Finding, severity: str = "error") -> None:
        excerpt = self.lines[finding.line - 1] if 0 < finding.line <= len(self.lines) else ""
        problem = Problem(
            str(self.path),
            finding.line,
            finding.message,
            column=finding.column if excerpt else 0,
            severity=severity,
            code=finding.code,
            excerpt=excerpt,
        )
        (self.problems if severity == "error" else self.warnings).append(problem)

    def error(self, node: yaml.Node | int, code: str, message: str) -> None:
        line, column = _where(node)
        self.problem(Finding(line, column, code, message))

    def warn(self, node: yaml.Node, code: str, message: str) -> None:
        line, column = _where(node)
        self.problem(Finding(line, column, code, message), "warning")

    def parse(self, data: bytes) -> list[Entry]:
        """The valid entries of the file's bytes; ``problems`` and ``warnings`` say what
        is wrong (``bot.kbcache.read_file`` reads the bytes)."""
        source, lines, finding = parse_source(data)
        self.lines = tuple(lines)
        if finding is not None or source is None:
            if finding is not None:
                self.problem(finding)
            return []
        if source.root is None:
            self.error(
                1,
                "file-empty",
                "Die Datei ist leer. Sie braucht „category:“ und „entries:“; nehmen Sie eine"
                " vorhandene Datei als Vorlage.",
            )
            return []
        return self._file(source.root)

    def _file(self, root: yaml.Node) -> list[Entry]:
        fields = self._mapping(root, FILE_KEYS, "file")
        if fields is None:
            return []
        category = self._text(fields.get("category"), "category")
        options = tuple(
            (name, value)
            for name, kind in FILE_OPTIONS.items()
            if (value := self._option(fields.get(name), name, kind)) is not None
        )
        entries_node = fields.get("entries")
        if entries_node is None:
            return []
        if not isinstance(entries_node, yaml.SequenceNode) and not _is_null(entries_node):
            self.error(
                entries_node,
                "entries-not-a-list",
                "„entries“ muss eine Liste von Einträgen sein, die jeweils mit „- id:“"
                " beginnen, eingerückt unter „entries:“.",
            )
            return []
        if not isinstance(entries_node, yaml.SequenceNode) or not entries_node.value:
            self.error(
                entries_node,
                "entries-empty",
                "„entries“ enthält keine Einträge. Fügen Sie mindestens einen Eintrag hinzu"
                " (beginnend mit „- id:“) oder löschen Sie die Datei.",
            )
            return []
        entries = [self._entry(node, category or "", options) for node in entries_node.value]
        return [entry for entry in entries if entry is not None]

    def _entry(
        self, node: yaml.Node, category: str, options: tuple[tuple[str, str | bool], ...]
    ) -> Entry | None:
        fields = self._mapping(node, ENTRY_KEYS, "entry")
        if fields is None:
            return None
        before = len(self.problems)
        entry_id = self._text(fields.get("id"), "id")
        self._of_form(fields, "id", entry_id, ID_PATTERN)
        question = self._text(fields.get("question"), "question")
        answer = self._text(fields.get("answer"), "answer")
        alternatives_node = fields.get("alternatives")
        alternatives = self._text_list(alternatives_node, "alternatives")
        keywords = self._text_list(fields.get("keywords"), "keywords", numbers=True)
        links = self._links(fields.get("links"))
        draft = self._option(fields.get("draft"), "draft", "flag") is True
        if answer is not None and "answer" in fields:
            self._check_answer(fields["answer"], answer, entry_id or "?", draft=draft)
        if len(self.problems) > before or not (entry_id and question and answer):
            return None
        unique = self._unique_alternatives(question, alternatives, alternatives_node)
        return Entry(
            id=entry_id,
            category=category,
            question=question.strip(),
            answer=answer.strip(),
            alternatives=tuple(unique),
            keywords=tuple(dict.fromkeys(k.strip() for k in keywords)),
            links=tuple(links),
            source=str(self.path),
            line=_where(node)[0],
            phrasing_lines=(_where(fields["question"])[0], *unique.values()),
            draft=draft,
            file_options=options,
        )

    def _check_answer(self, node: yaml.Node, answer: str, entry_id: str, *, draft: bool) -> None:
        length = f"{len(answer):,}".replace(",", ".")
        if len(answer) > ANSWER_HARD_LIMIT:
            self.error(
                node,
                "answer-too-long",
                f"Die Antwort von „{entry_id}“ hat {length} Zeichen; Telegram schneidet"
                f" Nachrichten nach 4.096 Zeichen ab. Kürzen Sie sie auf höchstens 1.500"
                " Zeichen (erlaubt sind 4.000).",
            )
        elif len(answer) > ANSWER_SOFT_LIMIT:
            self.warn(
                node,
                "answer-long",
                f"Die Antwort von „{entry_id}“ hat {length} Zeichen. Kürzen Sie sie auf"
                " höchstens 1.500 Zeichen, damit sie sich im Chat gut liest.",
            )
        if not draft and _TODO.search(answer):
            self.error(
                node,
                "todo",
                f"Die Antwort von „{entry_id}“ enthält noch „TODO“. Schreiben Sie die Antwort"
                " fertig, oder markieren Sie den Eintrag mit „draft: true“ als Entwurf,"
                " dann zeigt der Bot ihn nicht an.",
            )
        if isinstance(node, yaml.ScalarNode) and node.style == ">":
            self.warn(
                node,
                "folded-answer",
                "Mit „answer: >“ werden die Zeilen der Antwort zu einem Absatz"
                " zusammengezogen, Aufzählungen gehen verloren. Schreiben Sie „answer: |“.",
            )

    def _unique_alternatives(
        self, question: str, alternatives: list[str], node: yaml.Node | None
    ) -> dict[str, int]:
        items = node.value if isinstance(node, yaml.SequenceNode) else []
        lines = [_where(item)[0] for item in items]
        unique: dict[str, int] = {}
        seen = {kbcheck.phrasing_key(question)}
        for alternative, line in zip(alternatives, lines, strict=False):
            key = kbcheck.phrasing_key(alternative)
            if key in seen:
                self.problem(
                    Finding(
                        line,
                        0,
                        "repeated-alternative",
                        "Diese Alternative wiederholt die Frage oder eine andere Alternative"
                        " desselben Eintrags. Löschen Sie die Zeile.",
                    ),
                    "warning",
                )
            else:
                seen.add(key)
                unique[alternative] = line
        return unique

    def _mapping(
        self, node: yaml.Node, allowed: dict[str, bool], what: str
    ) -> dict[str, yaml.Node] | None:
        if not isinstance(node, yaml.MappingNode):
            self.error(node, f"{what}-not-a-mapping", wording.NOT_A_MAPPING[what])
            return None
        fields: dict[str, yaml.Node] = {}
        keys: dict[str, yaml.Node] = {}
        missing_dash = False  # later repeated keys belong to the same unmarked entry
        for key_node, value_node in node.value:
            key = str(key_node.value)
            if key in fields and not missing_dash:
                missing_dash = self._duplicate_key(key_node, key, keys[key], what)
            elif key not in allowed:
                self.error(key_node, "unknown-key", wording.unknown_key_message(key, allowed))
            fields[key] = value_node
            keys.setdefault(key, key_node)
        for key, required in allowed.items():
            if required and key not in fields:
                self.error(
                    node,
                    "missing-key",
                    f"{wording.MISSING_FROM[what]} fehlt das Pflichtfeld „{key}“.",
                )
        return fields

    def _duplicate_key(self, key_node: yaml.Node, key: str, first: yaml.Node, what: str) -> bool:
        """Report a key given twice; True if it looks like a new entry without its '-'."""
        line = _where(key_node)[0]
        if what == "entry" and key == "id":
            self.error(
                key_node,
                "yaml-missing-dash",
                f"In Zeile {line} beginnt offenbar ein neuer Eintrag, aber davor fehlt der"
                " Bindestrich. Schreiben Sie „- id: …“, mit dem Bindestrich genau unter den"
                " Bindestrichen der anderen Einträge.",
            )
            return True
        self.error(
            key_node,
            "duplicate-key",
            f"Das Feld „{key}“ steht zweimal in {wording.IN_WHAT[what]} (zuerst in Zeile"
            f" {_where(first)[0]}). Löschen Sie eine der beiden Zeilen oder führen Sie sie"
            " zusammen.",
        )
        return False

    def _text(self, node: yaml.Node | None, name: str, *, numbers: bool = False) -> str | None:
        if node is None:
            return None  # reported as a missing required key
        if isinstance(node, yaml.ScalarNode) and (
            node.tag == _TAG + "str" or (numbers and node.tag != _TAG + "null")
        ):
            value = str(node.value).strip()
            if value:
                return value  # the common case first: 10,000 entries hold 130,000 texts
        label = wording.FIELD_LABELS.get(name, f"„{name}“")
        line = _where(node)[0]
        if _is_null(node) or (isinstance(node, yaml.ScalarNode) and not str(node.value).strip()):
            fix = (
                " Schreiben Sie die Antwort eingerückt unter „answer: |“, oder markieren Sie"
                " den Eintrag mit „draft: true“ als Entwurf."
                if name == "answer"
                else " Tragen Sie den Text ein oder löschen Sie die Zeile."
            )
            self.error(node, "empty", f"{label} in Zeile {line} ist leer.{fix}")
            return None
        if isinstance(node, yaml.ScalarNode):
            kind = node.tag.removeprefix(_TAG)
            if kind == "str" or numbers:
                return str(node.value).strip()
            self.error(
                node,
                "not-text",
                f"{label} in Zeile {line} ist {wording.KIND_NAMES.get(kind, 'kein Text')},"
                " kein Text."
                ' Setzen Sie den Wert in Anführungszeichen, z. B. "2026".',
            )
            return None
        if isinstance(node, yaml.MappingNode):
            self.error(
                node,
                "not-text",
                f"{label} in Zeile {line} wurde als „Feld: Wert“ gelesen, weil der Text einen"
                " Doppelpunkt mit Leerzeichen enthält. Setzen Sie den Text in"
                " Anführungszeichen.",
            )
            return None
        fix = (
            " Schreiben Sie jede Alternative in eine eigene Zeile, die mit „- “ beginnt."
            if name in ("alternatives", "keywords")
            else " Schreiben Sie einen mehrzeiligen Text unter „answer: |“, ohne „- “ davor."
        )
        self.error(node, "not-text", f"{label} in Zeile {line} ist eine Liste, kein Text.{fix}")
        return None

    def _of_form(
        self, fields: dict[str, yaml.Node], key: str, value: str | None, pattern: re.Pattern[str]
    ) -> bool:
        """False, with the error "bad-<key>" at the key's node, if ``value`` is set but not
        of the pattern's form (a missing value is the text check's to report)."""
        if value is None or pattern.match(value):
            return True
        self.error(fields[key], f"bad-{key}", wording.bad_form_message(key, value))
        return False

    def _items(self, node: yaml.Node | None, name: str) -> list[yaml.Node]:
        """The items of the list under key ``name``: none if the key is absent or empty;
        none and an error if it is not a list."""
        if node is None or _is_null(node):
            return []
        if not isinstance(node, yaml.SequenceNode):
            self.error(node, "not-a-list", wording.not_a_list_message(name))
            return []
        return list(node.value)

    def _text_list(self, node: yaml.Node | None, name: str, *, numbers: bool = False) -> list[str]:
        values = [self._text(item, name, numbers=numbers) for item in self._items(node, name)]
        return [value for value in values if value]

    def _option(self, node: yaml.Node | None, name: str, kind: str) -> str | bool | None:
        if node is None or _is_null(node):
            return None
        if kind == "text":
            return self._text(node, name)
        if isinstance(node, yaml.ScalarNode) and node.tag == _TAG + "bool":
            return str(node.value).lower() in ("true", "yes", "on")
        self.error(
            node,
            "not-a-flag",
            f"„{name}“ muss true oder false sein"
            + (" (true: Entwurf, der Bot zeigt den Eintrag nicht an)." if name == "draft" else "."),
        )
        return None

    def _links(self, node: yaml.Node | None) -> list[Link]:
        links = []
        for item in self._items(node, "links"):
            fields = self._mapping(item, LINK_KEYS, "link")
            if fields is None:
                continue
            title = self._text(fields.get("title"), "title")
            url = self._text(fields.get("url"), "url")
            if not self._of_form(fields, "url", url, URL_PATTERN):
                continue
            if url is not None and url.startswith("http://"):
                self.warn(
                    fields["url"],
                    "http-link",
                    f"Der Link „{url}“ ist unverschlüsselt. Verwenden Sie die Adresse mit"
                    " https://, wenn die Seite sie anbietet.",
                )
            if title and url:
                links.append(Link(title, url))
        return links


def _is_null(node: yaml.Node) -> bool:
    return isinstance(node, yaml.ScalarNode) and node.tag == _TAG + "null"


def _where(node: yaml.Node | int) -> tuple[int, int]:
    """1-based line and column of a node (or a bare line number)."""
    if isinstance(node, int):
        return node, 0
    return int(node.start_mark.line) + 1, int(node.start_mark.column) + 1
