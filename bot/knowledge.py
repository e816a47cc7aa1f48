"""The knowledge base: YAML schema, loading, and validation with file:line messages.

One file per category in the FAQ folder::

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

Loading is all or nothing: any error in any file raises ``KnowledgeBaseError`` listing
every problem found, so a half-edited folder never replaces a good knowledge base.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from rapidfuzz import process

from bot.errors import KnowledgeBaseError, Problem

ID_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,58}[a-z0-9])?$")
ANSWER_SOFT_LIMIT = 1500
URL_PATTERN = re.compile(r"^https?://[^\s/?#]+\.[^\s/?#]+[^\s]*$")

FILE_KEYS = {"category": True, "entries": True, "smalltalk": False}  # key -> required
ENTRY_KEYS = {
    "id": True,
    "question": True,
    "alternatives": False,
    "keywords": False,
    "answer": True,
    "links": False,
}
LINK_KEYS = {"title": True, "url": True}

_NULL_TAG = "tag:yaml.org,2002:null"


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

    @property
    def phrasings(self) -> tuple[str, ...]:
        """The question followed by its alternatives: every way this entry is asked."""
        return (self.question, *self.alternatives)


@dataclass(frozen=True)
class KnowledgeBase:
    """A validated, immutable set of entries in file order."""

    entries: tuple[Entry, ...]
    warnings: tuple[Problem, ...] = ()
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
        """The entry with this id, or None."""
        return self._by_id.get(entry_id)

    @property
    def categories(self) -> tuple[str, ...]:
        """Category names in the order their files were loaded."""
        return tuple(dict.fromkeys(entry.category for entry in self.entries))

    def in_category(self, category: str) -> tuple[Entry, ...]:
        """The entries of one category, in file order."""
        return tuple(entry for entry in self.entries if entry.category == category)


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


def load_knowledge_base(faq_dir: Path | str) -> KnowledgeBase:
    """Load and validate every YAML file in ``faq_dir``; raise on any error."""
    faq_dir = Path(faq_dir)
    files = faq_files(faq_dir)
    if not faq_dir.is_dir():
        raise KnowledgeBaseError([Problem(str(faq_dir), 0, "FAQ folder not found")])
    if not files:
        raise KnowledgeBaseError([Problem(str(faq_dir), 0, "no *.yaml files in the FAQ folder")])
    problems: list[Problem] = []
    warnings: list[Problem] = []
    entries: list[Entry] = []
    smalltalk: list[Entry] = []
    first_seen: dict[str, Entry] = {}
    for path in files:
        reader = _FileReader(path)
        for entry in reader.read():
            earlier = first_seen.get(entry.id)
            if earlier is not None:
                reader.error(
                    entry.line,
                    f"duplicate id '{entry.id}' (already used at {earlier.source}:{earlier.line});"
                    " ids must be unique across all files",
                )
                continue
            first_seen[entry.id] = entry
            (smalltalk if reader.smalltalk else entries).append(entry)
        problems.extend(reader.problems)
        warnings.extend(reader.warnings)
    if problems:
        raise KnowledgeBaseError(problems)
    return KnowledgeBase(tuple(entries), tuple(warnings), tuple(smalltalk))


class _FileReader:
    """Reads one FAQ file from YAML nodes, so that every problem carries its line."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []
        self.smalltalk = False

    def error(self, line: int, message: str) -> None:
        self.problems.append(Problem(str(self.path), line, message))

    def warn(self, line: int, message: str) -> None:
        self.warnings.append(Problem(str(self.path), line, message))

    def read(self) -> list[Entry]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            self.error(1, f"not UTF-8 text ({exc.reason}); save the file as UTF-8")
            return []
        except OSError as exc:
            self.error(0, f"cannot read the file: {exc.strerror}")
            return []
        try:
            root = yaml.compose(text, Loader=yaml.SafeLoader)
        except yaml.YAMLError as exc:
            self.error(*_yaml_error_location(exc))
            return []
        if root is None:
            self.error(1, "the file is empty; it needs 'category' and 'entries'")
            return []
        fields = self._mapping(root, FILE_KEYS, "the file")
        if fields is None:
            return []
        category = self._text(fields.get("category"), "category", _line(root))
        self.smalltalk = self._flag(fields.get("smalltalk"), "smalltalk")
        entries_node = fields.get("entries")
        if entries_node is None:
            return []
        if not isinstance(entries_node, yaml.SequenceNode) or not entries_node.value:
            self.error(_line(entries_node), "'entries' must be a non-empty list of entries")
            return []
        entries = [self._entry(node, category or "") for node in entries_node.value]
        return [entry for entry in entries if entry is not None]

    def _entry(self, node: yaml.Node, category: str) -> Entry | None:
        fields = self._mapping(node, ENTRY_KEYS, "an entry")
        if fields is None:
            return None
        before = len(self.problems)
        line = _line(node)
        entry_id = self._text(fields.get("id"), "id", line)
        if entry_id is not None and not ID_PATTERN.match(entry_id):
            self.error(
                _line(fields["id"]),
                f"id '{entry_id}' must be 1-60 characters of a-z, 0-9 and '-'"
                " (no umlauts, spaces or capitals), e.g. 'dnssec' or 'google-maps'",
            )
        question = self._text(fields.get("question"), "question", line)
        answer = self._text(fields.get("answer"), "answer", line)
        alternatives_node = fields.get("alternatives")
        alternatives = self._text_list(alternatives_node, "alternatives")
        keywords = self._text_list(fields.get("keywords"), "keywords")
        links = self._links(fields.get("links"))
        if len(self.problems) > before or not (entry_id and question and answer):
            return None
        if len(answer) > ANSWER_SOFT_LIMIT:
            self.warn(
                _line(fields["answer"]),
                f"answer of '{entry_id}' has {len(answer)} characters; keep it under"
                f" {ANSWER_SOFT_LIMIT} so it reads well in a chat",
            )
        lines = [_line(fields["question"])]
        if isinstance(alternatives_node, yaml.SequenceNode):
            lines += [_line(item) for item in alternatives_node.value]
        unique: dict[str, int] = {}
        seen = {question.casefold()}
        for alternative, alternative_line in zip(alternatives, lines[1:], strict=False):
            if alternative.casefold() in seen:
                self.warn(
                    alternative_line,
                    f"'{entry_id}': alternative repeats the question or another alternative",
                )
            else:
                seen.add(alternative.casefold())
                unique[alternative] = alternative_line
        return Entry(
            id=entry_id,
            category=category,
            question=question.strip(),
            answer=answer.strip(),
            alternatives=tuple(unique),
            keywords=tuple(dict.fromkeys(k.strip() for k in keywords)),
            links=tuple(links),
            source=str(self.path),
            line=line,
            phrasing_lines=(lines[0], *unique.values()),
        )

    def _mapping(
        self, node: yaml.Node, allowed: dict[str, bool], what: str
    ) -> dict[str, yaml.Node] | None:
        if not isinstance(node, yaml.MappingNode):
            self.error(_line(node), f"{what} must be a mapping of 'key: value' lines")
            return None
        fields: dict[str, yaml.Node] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            if key in fields:
                self.error(_line(key_node), f"key '{key}' appears twice in {what}")
            elif key not in allowed:
                self.error(_line(key_node), _unknown_key_message(key, allowed))
            fields[key] = value_node
        for key, required in allowed.items():
            if required and key not in fields:
                self.error(_line(node), f"{what} is missing the required key '{key}'")
        return fields

    def _text(self, node: yaml.Node | None, name: str, line: int) -> str | None:
        if node is None:
            return None  # reported as a missing required key
        if not isinstance(node, yaml.ScalarNode) or node.tag == _NULL_TAG:
            self.error(_line(node), f"'{name}' must be a text")
            return None
        value = str(node.value).strip()
        if not value:
            self.error(_line(node), f"'{name}' must not be empty")
            return None
        return value

    def _flag(self, node: yaml.Node | None, name: str) -> bool:
        if node is None:
            return False
        if not isinstance(node, yaml.ScalarNode) or node.tag != "tag:yaml.org,2002:bool":
            self.error(_line(node), f"'{name}' must be true or false")
            return False
        return str(node.value).lower() in ("true", "yes", "on")

    def _text_list(self, node: yaml.Node | None, name: str) -> list[str]:
        if node is None or (isinstance(node, yaml.ScalarNode) and node.tag == _NULL_TAG):
            return []
        if not isinstance(node, yaml.SequenceNode):
            self.error(_line(node), f"'{name}' must be a list (lines starting with '- ')")
            return []
        values = [self._text(item, f"an item of {name}", _line(item)) for item in node.value]
        return [value for value in values if value]

    def _links(self, node: yaml.Node | None) -> list[Link]:
        if node is None or (isinstance(node, yaml.ScalarNode) and node.tag == _NULL_TAG):
            return []
        if not isinstance(node, yaml.SequenceNode):
            self.error(_line(node), "'links' must be a list of 'title' and 'url' pairs")
            return []
        links = []
        for item in node.value:
            fields = self._mapping(item, LINK_KEYS, "a link")
            if fields is None:
                continue
            title = self._text(fields.get("title"), "title", _line(item))
            url = self._text(fields.get("url"), "url", _line(item))
            if url is not None and not URL_PATTERN.match(url):
                self.error(_line(fields["url"]), f"'{url}' is not a web address (https://...)")
                continue
            if title and url:
                links.append(Link(title, url))
        return links


def _yaml_error_location(exc: yaml.YAMLError) -> tuple[int, str]:
    """The line and message staff need for a YAML syntax error.

    A scanner error such as an unclosed quote is only noticed at the end of the file;
    its *context* mark is where the quote opened, which is the line to fix.
    """
    problem_mark = getattr(exc, "problem_mark", None)
    context_mark = getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None)
    if isinstance(exc, yaml.scanner.ScannerError) and context_mark is not None and context:
        return context_mark.line + 1, f"invalid YAML: {problem} ({context})"
    mark = problem_mark or context_mark
    return (mark.line + 1 if mark is not None else 1), f"invalid YAML: {problem}"


def _line(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1


def _unknown_key_message(key: str, allowed: dict[str, bool]) -> str:
    message = f"unknown key '{key}'"
    guess = process.extractOne(key, list(allowed), score_cutoff=70)
    if guess is not None:
        message += f"; did you mean '{guess[0]}'?"
    return message + " (allowed: " + ", ".join(allowed) + ")"
