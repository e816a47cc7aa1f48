"""bot.kbcache: a restart or reload parses only FAQ files that changed, and serves the same."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import MISSING, fields
from pathlib import Path
from typing import Any

import pytest

from bot import kbcache
from bot.errors import KnowledgeBaseError, Problem
from bot.kbcache import CACHE_FILE, ParsedFiles
from bot.knowledge import Entry, KnowledgeBase, Link, load_knowledge_base
from bot.reloader import KnowledgeBaseHolder

WEB = """\
category: Web & Technik
entries:
  - id: dnssec
    question: Was ist DNSSEC?
    alternatives: [DNSSEC einrichten, Wozu dient DNSSEC?]
    keywords: [DNS, Signatur]
    answer: >
      DNSSEC signiert die Einträge einer Domain.
    links:
      - title: Mehr dazu
        url: https://example.org/dnssec
  - id: ssl
    question: Wie bekomme ich ein SSL-Zertifikat?
    answer: |
      Mit Let's Encrypt, kostenlos.
    draft: true
"""
SMALLTALK = """\
category: Smalltalk
smalltalk: true
entries:
  - id: hallo
    question: Hallo
    answer: Guten Tag! Wie kann ich helfen?
"""
MARKETING = """\
category: Marketing
entries:
  - id: blog
    question: Lohnt sich ein Firmenblog?
    answer: Ja, wenn Sie regelmäßig schreiben.
"""


@pytest.fixture
def faq_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "faq"
    folder.mkdir()
    (folder / "web.yaml").write_text(WEB, encoding="utf-8")
    (folder / "smalltalk.yaml").write_text(SMALLTALK, encoding="utf-8")
    (folder / "marketing.yaml").write_text(MARKETING, encoding="utf-8")
    return folder


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the files parsed from here on (not taken from the cache)."""
    parsed: list[str] = []
    read_file = kbcache.read_file

    def counting(path: Path, data: bytes | None = None, **why: Any) -> kbcache.FileRead:
        parsed.append(path.name)
        return read_file(path, data, **why)

    monkeypatch.setattr(kbcache, "read_file", counting)
    return parsed


def start(faq_dir: Path, data: Path) -> KnowledgeBase:
    """Load as a fresh process would: nothing in memory, the cache file in ``data``."""
    return load_knowledge_base(faq_dir, parsed=ParsedFiles(data))


def assert_same(kb: KnowledgeBase, expected: KnowledgeBase) -> None:
    assert kb.entries == expected.entries
    assert kb.drafts == expected.drafts
    assert kb.smalltalk == expected.smalltalk
    assert kb.warnings == expected.warnings


def test_a_restart_parses_no_unchanged_file_and_serves_the_same_base(
    faq_dir: Path, tmp_path: Path, parses: list[str]
) -> None:
    uncached = load_knowledge_base(faq_dir)
    assert uncached.warnings and uncached.drafts and uncached.smalltalk  # the fixture's point
    parses.clear()
    first = start(faq_dir, tmp_path / "data")
    assert sorted(parses) == ["marketing.yaml", "smalltalk.yaml", "web.yaml"]
    parses.clear()

    again = start(faq_dir, tmp_path / "data")

    assert parses == []
    assert_same(first, uncached)
    assert_same(again, uncached)
    assert again.get("dnssec") is not None
    assert again.get("dnssec").links[0].url == "https://example.org/dnssec"  # type: ignore[union-attr]


def test_an_edited_file_is_parsed_again_and_the_edit_is_served(
    faq_dir: Path, tmp_path: Path, parses: list[str]
) -> None:
    start(faq_dir, tmp_path / "data")
    parses.clear()
    edited = MARKETING.replace("regelmäßig", "jede Woche")
    (faq_dir / "marketing.yaml").write_text(edited, encoding="utf-8")

    kb = start(faq_dir, tmp_path / "data")

    assert parses == ["marketing.yaml"]
    assert "jede Woche" in kb.get("blog").answer  # type: ignore[union-attr]
    assert_same(kb, load_knowledge_base(faq_dir))


def test_a_hot_reload_parses_only_the_file_that_changed(
    faq_dir: Path, tmp_path: Path, parses: list[str]
) -> None:
    holder = KnowledgeBaseHolder(faq_dir, cache_folder=tmp_path / "data")
    parses.clear()
    (faq_dir / "marketing.yaml").write_text(
        MARKETING.replace("regelmäßig", "jede Woche"), encoding="utf-8"
    )

    result = holder.reload(force=True)

    assert result.ok and parses == ["marketing.yaml"]
    assert "jede Woche" in holder.current.kb.get("blog").answer  # type: ignore[union-attr]


def test_a_renamed_file_is_served_under_its_new_name(
    faq_dir: Path, tmp_path: Path, parses: list[str]
) -> None:
    start(faq_dir, tmp_path / "data")
    (faq_dir / "marketing.yaml").rename(faq_dir / "blog.yaml")
    parses.clear()

    kb = start(faq_dir, tmp_path / "data")

    assert parses == ["blog.yaml"]
    assert kb.get("blog").source == str(faq_dir / "blog.yaml")  # type: ignore[union-attr]
    kept = json.loads((tmp_path / "data" / CACHE_FILE).read_text(encoding="utf-8"))
    assert len(kept["files"]) == 3  # the old name's result is dropped


def test_a_file_with_errors_is_reported_on_every_start_until_it_is_mended(
    faq_dir: Path, tmp_path: Path
) -> None:
    (faq_dir / "marketing.yaml").write_text(MARKETING.replace("question:", "frage:"), "utf-8")
    messages = []
    for _ in range(2):
        with pytest.raises(KnowledgeBaseError) as caught:
            start(faq_dir, tmp_path / "data")
        messages.append([str(problem) for problem in caught.value.problems])
    assert messages[0] == messages[1]
    assert any("„question“" in message for message in messages[0])

    (faq_dir / "marketing.yaml").write_text(MARKETING, encoding="utf-8")
    assert start(faq_dir, tmp_path / "data").get("blog") is not None


def _truncated(data: bytes) -> bytes:
    return data[: len(data) // 2]


def _wrong_type(data: bytes) -> bytes:
    content = json.loads(data)
    for kept in content["files"].values():
        for entry in kept["entries"]:
            entry["answer"] = 42
    return json.dumps(content).encode()


def _other_version(data: bytes) -> bytes:
    content = json.loads(data)
    content["reader"] = "0" * 32
    return json.dumps(content).encode()


@pytest.mark.parametrize(
    "damage",
    [
        _truncated,
        _wrong_type,
        _other_version,
        lambda data: b"\x00\xff not json",
        lambda data: b"[]",
        lambda data: b'{"format": 1}',
    ],
    ids=["truncated", "wrong-type", "other-version", "garbage", "a-list", "no-files"],
)
def test_a_damaged_or_foreign_cache_file_is_ignored_and_rewritten(
    faq_dir: Path,
    tmp_path: Path,
    parses: list[str],
    caplog: pytest.LogCaptureFixture,
    damage: Callable[[bytes], bytes],
) -> None:
    start(faq_dir, tmp_path / "data")
    cache = tmp_path / "data" / CACHE_FILE
    cache.write_bytes(damage(cache.read_bytes()))
    parses.clear()

    with caplog.at_level(logging.WARNING, logger="bot.kbcache"):
        kb = start(faq_dir, tmp_path / "data")

    assert len(parses) == 3
    assert "Ignoring the FAQ cache" in caplog.text
    assert_same(kb, load_knowledge_base(faq_dir))
    parses.clear()
    start(faq_dir, tmp_path / "data")
    assert parses == []  # rewritten whole


def test_a_folder_that_cannot_be_written_means_no_cache_not_no_answers(
    faq_dir: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocked = tmp_path / "data"
    blocked.write_text("a file where the folder should be", encoding="utf-8")
    parsed = ParsedFiles(blocked)

    with caplog.at_level(logging.WARNING, logger="bot.kbcache"):
        first = load_knowledge_base(faq_dir, parsed=parsed)
        assert_same(first, load_knowledge_base(faq_dir))
        (faq_dir / "marketing.yaml").write_text(MARKETING + "    keywords: [Blog]\n", "utf-8")
        second = load_knowledge_base(faq_dir, parsed=parsed)

    assert second.get("blog").keywords == ("Blog",)  # type: ignore[union-attr]
    assert caplog.text.count("Cannot write the FAQ cache") == 1
    assert "Ignoring" not in caplog.text


def test_every_field_of_an_entry_and_a_warning_comes_back_from_the_cache_file() -> None:
    # A field the cache file forgot would come back as its default on every restart.
    entry = Entry(
        id="dnssec",
        category="Web & Technik",
        question="Was ist DNSSEC?",
        answer="DNSSEC signiert.\n\n- Eintrag",
        alternatives=("DNSSEC einrichten",),
        keywords=("DNS",),
        links=(Link("Mehr", "https://example.org/"),),
        source="faq/web.yaml",
        line=3,
        phrasing_lines=(4, 5),
        draft=True,
        file_options=(("smalltalk", True), ("language", "de")),
    )
    warning = Problem("faq/web.yaml", 7, "Zu lang.", 3, "warning", "answer-long", "answer: x")
    for value in (entry, warning):
        unset = [
            f.name
            for f in fields(value)
            if f.default is not MISSING and getattr(value, f.name) == f.default
        ]
        assert not unset, f"set these in the test too: {unset}"
    content = json.loads(json.dumps(kbcache._encode({"key": ((entry,), (warning,))})))
    header = {"format": kbcache.FORMAT, "reader": kbcache.reader_version(), "files": content}

    assert kbcache._decode(header) == {"key": ((entry,), (warning,))}


def test_a_file_that_cannot_be_read_is_reported_from_one_attempt(
    faq_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (faq_dir / "marketing.yaml").write_bytes(b"x" * 16)
    opened: list[str] = []
    real_open = Path.open

    def refusing(self: Path, *args: Any, **kwargs: Any) -> Any:
        if self.name == "marketing.yaml":
            opened.append(self.name)
            raise PermissionError(13, "Permission denied")
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", refusing)
    with pytest.raises(KnowledgeBaseError) as caught:
        start(faq_dir, tmp_path / "data")

    assert [p.code for p in caught.value.problems] == ["unreadable"]
    assert caught.value.problems[0].file.endswith("marketing.yaml")
    assert opened == ["marketing.yaml"]
