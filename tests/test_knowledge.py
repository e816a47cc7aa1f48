"""The knowledge base as staff see it: the shipped FAQ, loader errors with file:line, good paths."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest
import yaml

from bot.checks import check_folder
from bot.errors import KnowledgeBaseError
from bot.knowledge import (
    ANSWER_SOFT_LIMIT,
    CATEGORY_ID_CHARS,
    Entry,
    KnowledgeBase,
    category_slug,
    load_knowledge_base,
)
from bot.matcher import Matcher
from tests.bot_runner import copy_faq
from tests.conftest import topic_labels

SHIPPED_FAQ = Path(__file__).parent.parent / "faq"

# Published ids: the website links to them (t.me/<bot>?start=<id>), so they must stay.
# Staff may add entries and reword questions; these tests derive the rest from the files.
PUBLISHED_IDS = [
    "ssl-letsencrypt-301",
    "dnssec",
    "wordpress-theme",
    "kommentar-spam",
    "mehrsprachige-websites",
    "corporate-blog",
    "wordpress-installieren",
    "google-maps",
    "twitter-unternehmen",
    "facebook-ads",
    "guter-ruf-online",
    "online-krisen-training",
    "shitstorm",
    "google-spam-gehackt",
    "social-media-pflicht",
    "social-media-berater",
    "mitarbeiter-social-web",
    "social-media-manager",
]
SHIPPED_IDS = [entry.id for entry in load_knowledge_base(SHIPPED_FAQ)]

# A sentence ends in '.', '?' or '!' followed by a space or the end of the text; counting
# all three keeps answers that are mostly a list of questions (social-media-berater) fair.
SENTENCE_END = re.compile(r"[.!?](?=\s|$)")

GOOD_FILE = """\
    category: Test
    entries:
      - id: eins
        question: "Frage eins?"
        answer: "Antwort eins."
"""


def write(faq_dir: Path, name: str, text: str | bytes) -> Path:
    """Write one FAQ file as staff would save it; text is dedented, bytes are written as is."""
    path = faq_dir / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def load_error(faq_dir: Path) -> KnowledgeBaseError:
    """The error a load of ``faq_dir`` raises; failing the test if anything loads."""
    with pytest.raises(KnowledgeBaseError) as caught:
        load_knowledge_base(faq_dir)
    return caught.value


@pytest.fixture
def faq_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "faq"
    folder.mkdir()
    return folder


@pytest.fixture(scope="module")
def shipped_kb() -> KnowledgeBase:
    return load_knowledge_base(SHIPPED_FAQ)


# --- the shipped knowledge base ---------------------------------------------------------


def test_shipped_kb_has_every_published_id(shipped_kb: KnowledgeBase) -> None:
    assert [entry_id for entry_id in PUBLISHED_IDS if shipped_kb.get(entry_id) is None] == []


def test_shipped_kb_ids_are_unique_in_the_files() -> None:
    # Read the raw files, so that an entry the loader dropped would still be counted.
    files = [
        yaml.safe_load(path.read_text(encoding="utf-8"))
        for path in sorted(SHIPPED_FAQ.glob("*.yaml"))
    ]
    ids = [entry["id"] for file in files for entry in file["entries"]]
    assert len(ids) == len(set(ids))
    assert set(PUBLISHED_IDS) <= set(ids)


def test_shipped_kb_has_no_warnings_and_no_drafts(shipped_kb: KnowledgeBase) -> None:
    assert shipped_kb.warnings == ()
    assert shipped_kb.drafts == ()


def content_problems(entry: Entry) -> list[str]:
    """What keeps an entry from the shipped knowledge base's standard (empty: none)."""
    answer = entry.answer
    problems = []
    if len(SENTENCE_END.findall(answer)) < 3:
        problems.append("write at least 3 sentences")
    if len(answer) > ANSWER_SOFT_LIMIT:
        problems.append(f"answer longer than {ANSWER_SOFT_LIMIT} characters")
    if "<" in answer:
        problems.append("answers are plain text, no HTML")
    if " Sie " not in answer and "Ihr" not in answer:
        problems.append("address customers as 'Sie'")
    if len(entry.alternatives) < 5:
        problems.append("at least 5 alternatives")
    if len(entry.keywords) < 3:
        problems.append("at least 3 keywords")
    # The agency's own position on social media has no source to cite.
    if entry.category != "Social Media" and not entry.links:
        problems.append("a link to a source")
    if not all(link.url.startswith("https://") for link in entry.links):
        problems.append("links use https://")
    return problems


@pytest.mark.parametrize("entry_id", SHIPPED_IDS)
def test_shipped_entry_meets_the_content_standard(shipped_kb: KnowledgeBase, entry_id: str) -> None:
    entry = shipped_kb.get(entry_id)
    assert entry is not None
    assert content_problems(entry) == []


def test_content_standard_finds_a_poor_entry() -> None:
    poor = Entry(id="kurz", category="Web", question="Kurz?", answer="<b>Ja.</b>")
    assert content_problems(poor) == [
        "write at least 3 sentences",
        "answers are plain text, no HTML",
        "address customers as 'Sie'",
        "at least 5 alternatives",
        "at least 3 keywords",
        "a link to a source",
    ]


# An entry as staff would add it; its content is made up for this test.
NEW_ENTRY = """
  - id: barrierefreie-website
    question: "Muss unsere Website barrierefrei sein?"
    alternatives:
      - "Gilt das Barrierefreiheitsstärkungsgesetz für unseren Onlineshop?"
      - "Wie mache ich meine Homepage zugänglich für Menschen mit Behinderung?"
      - "barrierefreiheit webseite pflicht"
      - "Was bedeutet WCAG für unsere Seite?"
      - "Brauchen Bilder auf der Website Alternativtexte?"
    keywords: [Barrierefreiheit, BFSG, WCAG, Alternativtext, Screenreader]
    answer: |
      Seit Juni 2025 müssen viele Onlineshops und digitale Dienste barrierefrei sein.
      Prüfen Sie Kontraste, Alternativtexte für Bilder und die Bedienung per Tastatur.
      Gern prüfen wir Ihre Website und nennen Ihnen die wichtigsten Schritte.
    links:
      - title: "Bundesfachstelle Barrierefreiheit"
        url: https://www.bundesfachstelle-barrierefreiheit.de/
"""


def test_copy_of_faq_with_a_new_entry_passes_every_content_check(tmp_path: Path) -> None:
    faq_dir = copy_faq(tmp_path / "faq")
    target = sorted(faq_dir.glob("*.yaml"))[0]
    target.write_text(target.read_text(encoding="utf-8") + NEW_ENTRY, encoding="utf-8")

    kb = load_knowledge_base(faq_dir)
    assert len(kb) == len(SHIPPED_IDS) + 1
    new = kb.get("barrierefreie-website")
    assert new is not None
    assert {entry.id: content_problems(entry) for entry in kb if content_problems(entry)} == {}
    report = check_folder(faq_dir)
    assert report.ok and report.findings == (), [p.render() for p in report.findings]
    assert f"{new.category} ({len(kb.in_category(new.category))})" in topic_labels(kb)
    assert Matcher(kb).match("Muss meine Website barrierefrei sein?").match is not None


# --- good paths -------------------------------------------------------------------------


def test_load_yml_extension_is_accepted(faq_dir: Path) -> None:
    write(faq_dir, "web.yml", GOOD_FILE)
    assert [entry.id for entry in load_knowledge_base(faq_dir)] == ["eins"]


@pytest.mark.parametrize("ignored", [".entwurf.yaml", "web.yaml~", "#web.yaml#", "README.md"])
def test_load_hidden_and_backup_files_are_ignored(faq_dir: Path, ignored: str) -> None:
    write(faq_dir, "web.yaml", GOOD_FILE)
    write(faq_dir, ignored, "das ist: [kein gültiges YAML\n")
    assert [entry.id for entry in load_knowledge_base(faq_dir)] == ["eins"]


def test_load_keywords_of_numbers_become_text(faq_dir: Path) -> None:
    write(
        faq_dir,
        "web.yaml",
        """\
        category: Test
        entries:
          - id: eins
            question: "Frage eins?"
            keywords: [SSL, 301, 1.0, ja]
            answer: "Antwort eins."
        """,
    )
    entry = load_knowledge_base(faq_dir).get("eins")
    assert entry is not None
    assert entry.keywords == ("SSL", "301", "1.0", "ja")


def test_load_categories_keep_file_order(faq_dir: Path) -> None:
    for name, category, entry_id in [
        ("10-web.yaml", "Web & Technik", "web"),
        ("20-marketing.yaml", "Marketing", "marketing"),
        ("30-allgemein.yaml", "Allgemein", "allgemein"),
    ]:
        write(
            faq_dir,
            name,
            f"""\
            category: {category}
            entries:
              - id: {entry_id}
                question: "Frage zu {category}?"
                answer: "Antwort."
            """,
        )
    assert load_knowledge_base(faq_dir).categories == ("Web & Technik", "Marketing", "Allgemein")


@pytest.fixture
def two_category_kb(faq_dir: Path) -> KnowledgeBase:
    write(
        faq_dir,
        "a.yaml",
        """\
        category: Web & Technik
        entries:
          - id: dnssec
            question: "Was ist DNSSEC?"
            answer: "DNSSEC signiert DNS-Antworten."
          - id: ssl
            question: "Wie erneuere ich mein Zertifikat?"
            answer: "Mit certbot renew."
            links:
              - title: "Let's Encrypt"
                url: https://letsencrypt.org/
        """,
    )
    write(
        faq_dir,
        "b.yaml",
        """\
        category: Marketing
        entries:
          - id: google-maps
            question: "Warum finde ich mich nicht auf Google Maps?"
            answer: "Prüfen Sie Ihr Unternehmensprofil."
        """,
    )
    return load_knowledge_base(faq_dir)


@pytest.mark.parametrize(
    ("entry_id", "question"),
    [
        ("dnssec", "Was ist DNSSEC?"),
        ("google-maps", "Warum finde ich mich nicht auf Google Maps?"),
        ("gibt-es-nicht", None),
    ],
)
def test_kb_get_finds_entry_by_id(
    two_category_kb: KnowledgeBase, entry_id: str, question: str | None
) -> None:
    entry = two_category_kb.get(entry_id)
    assert (entry.question if entry else None) == question


@pytest.mark.parametrize(
    ("category", "ids"),
    [
        ("Web & Technik", ["dnssec", "ssl"]),
        ("Marketing", ["google-maps"]),
        ("Unbekannt", []),
    ],
)
def test_kb_in_category_lists_entries_in_file_order(
    two_category_kb: KnowledgeBase, category: str, ids: list[str]
) -> None:
    assert [entry.id for entry in two_category_kb.in_category(category)] == ids


def test_kb_entry_keeps_link_title_and_url(two_category_kb: KnowledgeBase) -> None:
    entry = two_category_kb.get("ssl")
    assert entry is not None
    assert [(link.title, link.url) for link in entry.links] == [
        ("Let's Encrypt", "https://letsencrypt.org/")
    ]


def test_entry_phrasing_lines_point_to_question_and_alternatives(faq_dir: Path) -> None:
    write(
        faq_dir,
        "web.yaml",
        """\
        category: Test
        entries:
          - id: eins
            question: "Frage eins?"
            keywords: [eins]
            alternatives:
              - "Erste Frage?"

              - "Die allererste Frage?"
              - "frage nummer eins"
            answer: "Antwort eins."
        """,
    )
    entry = load_knowledge_base(faq_dir).get("eins")
    assert entry is not None
    assert entry.phrasings == (
        "Frage eins?",
        "Erste Frage?",
        "Die allererste Frage?",
        "frage nummer eins",
    )
    assert entry.phrasing_lines == (4, 7, 9, 10)


def test_entry_repeated_alternative_warns_and_is_dropped(faq_dir: Path) -> None:
    path = write(
        faq_dir,
        "web.yaml",
        """\
        category: Test
        entries:
          - id: eins
            question: "Frage eins?"
            alternatives:
              - "Erste Frage?"
              - "frage EINS?"
              - "Erste Frage?"
              - "Letzte Frage?"
            answer: "Antwort eins."
        """,
    )
    kb = load_knowledge_base(faq_dir)
    entry = kb.get("eins")
    assert entry is not None
    assert entry.alternatives == ("Erste Frage?", "Letzte Frage?")
    assert entry.phrasing_lines == (4, 6, 9)
    assert [(problem.file, problem.line) for problem in kb.warnings] == [
        (str(path), 7),
        (str(path), 8),
    ]


def test_load_long_answer_loads_with_warning_on_its_line(faq_dir: Path) -> None:
    long_answer = "Das ist ein Satz. " * 100  # 1800 characters
    path = write(
        faq_dir,
        "web.yaml",
        f"""\
        category: Test
        entries:
          - id: eins
            question: "Frage eins?"
            answer: |
              {long_answer}
        """,
    )
    kb = load_knowledge_base(faq_dir)
    assert kb.get("eins") is not None
    assert len(kb.warnings) == 1
    assert str(kb.warnings[0]) == (
        f"{path}:5: Die Antwort von „eins“ hat 1.799 Zeichen. Kürzen Sie sie auf höchstens"
        " 1.500 Zeichen, damit sie sich im Chat gut liest."
    )
    assert kb.warnings[0].severity == "warning"


def test_load_answer_at_the_limit_gives_no_warning(faq_dir: Path) -> None:
    write(
        faq_dir,
        "web.yaml",
        f"""\
        category: Test
        entries:
          - id: eins
            question: "Frage eins?"
            answer: "{"x" * ANSWER_SOFT_LIMIT}"
        """,
    )
    assert load_knowledge_base(faq_dir).warnings == ()


def test_load_utf8_with_byte_order_mark_is_accepted(faq_dir: Path) -> None:
    write(faq_dir, "web.yaml", "\ufeff" + textwrap.dedent(GOOD_FILE))
    assert [entry.id for entry in load_knowledge_base(faq_dir)] == ["eins"]


@pytest.mark.parametrize(
    ("source", "category_id"),
    [
        ("faq/web-technik.yaml", "web-technik"),
        ("/srv/faq/Über uns & Team.yaml", "uber-uns-team"),
        ("faq/" + "sehr-lang-" * 10 + ".yaml", ("sehr-lang-" * 10)[:CATEGORY_ID_CHARS]),
        ("faq/!!!.yaml", "thema"),
    ],
)
def test_category_slug_is_short_ascii_from_the_file_name(source: str, category_id: str) -> None:
    assert category_slug(source) == category_id


def test_category_ids_follow_the_file_not_the_position(shipped_kb: KnowledgeBase) -> None:
    ids = [shipped_kb.category_id(name) for name in shipped_kb.categories]
    assert len(set(ids)) == len(ids)
    for name, category_id in zip(shipped_kb.categories, ids, strict=True):
        [entry, *_] = shipped_kb.in_category(name)
        assert category_id == Path(entry.source).stem
        assert shipped_kb.category_by_id(category_id) == name
    assert shipped_kb.category_by_id("0") is None
