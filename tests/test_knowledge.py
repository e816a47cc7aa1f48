"""The knowledge base as staff see it: the shipped FAQ, loader errors with file:line, good paths."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest
import yaml

from bot.errors import KnowledgeBaseError
from bot.knowledge import ANSWER_SOFT_LIMIT, KnowledgeBase, load_knowledge_base

SHIPPED_FAQ = Path(__file__).parent.parent / "faq"

SHIPPED_ENTRIES = [
    (
        "ssl-letsencrypt-301",
        "Web & Technik",
        "SSL-Zertifikat von Let's Encrypt trotz 301-Umleitung automatisch erneuern"
        " \N{EN DASH} geht das?",
    ),
    ("dnssec", "Web & Technik", "Was ist DNSSEC und wozu dient es?"),
    ("wordpress-theme", "Web & Technik", "Wie finde ich das richtige WordPress Theme?"),
    ("kommentar-spam", "Web & Technik", "Wie vermeide ich Kommentar-Spam in Blogs?"),
    (
        "mehrsprachige-websites",
        "Web & Technik",
        "Mehrsprachige Websites: Wie groß ist der Aufwand?",
    ),
    ("corporate-blog", "Marketing", "Was ist ein Corporate Blog und wozu dient es?"),
    ("wordpress-installieren", "Marketing", "Warum sollte ich WordPress installieren?"),
    (
        "google-maps",
        "Marketing",
        "Warum wird mein Unternehmen auf Google Maps nicht richtig gefunden?",
    ),
    ("twitter-unternehmen", "Marketing", "Wie funktioniert Twitter für Unternehmen?"),
    ("facebook-ads", "Marketing", "Wie kann ich meine Facebook Ads optimieren?"),
    (
        "guter-ruf-online",
        "Reputation Management",
        "Wie kann ich meinen guten Ruf online verteidigen?",
    ),
    (
        "online-krisen-training",
        "Reputation Management",
        "Wie kann ich mich durch ein Training auf eine Online-Kritikwelle vorbereiten?",
    ),
    ("shitstorm", "Reputation Management", "Wie kann ich mich auf einen Shitstorm vorbereiten?"),
    (
        "google-spam-gehackt",
        "Reputation Management",
        "Meine Website wurde gehackt. Wie kriege ich den Spam wieder aus den"
        " Google-Suchergebnissen?",
    ),
    (
        "social-media-pflicht",
        "Social Media",
        "Muss unser Unternehmen auf Social Media aktiv sein und mit Kunden im Dialog stehen?",
    ),
    (
        "social-media-berater",
        "Social Media",
        "Welche Fragen sollte ich einem Social-Media-Berater stellen?",
    ),
    (
        "mitarbeiter-social-web",
        "Social Media",
        "Wie binden wir Mitarbeiter ein, die bereits im Social Web aktiv sind?",
    ),
    ("social-media-manager", "Social Media", "Brauchen wir einen Social Media Manager?"),
]
SHIPPED_IDS = [entry_id for entry_id, _, _ in SHIPPED_ENTRIES]

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


def test_shipped_kb_loads_all_18_entries(shipped_kb: KnowledgeBase) -> None:
    assert len(shipped_kb) == 18


def test_shipped_kb_has_exactly_the_expected_ids(shipped_kb: KnowledgeBase) -> None:
    assert sorted(entry.id for entry in shipped_kb) == sorted(SHIPPED_IDS)


def test_shipped_kb_ids_are_unique_in_the_files() -> None:
    # Read the raw files, so that an entry the loader dropped would still be counted.
    files = [
        yaml.safe_load(path.read_text(encoding="utf-8"))
        for path in sorted(SHIPPED_FAQ.glob("*.yaml"))
    ]
    ids = [entry["id"] for file in files for entry in file["entries"]]
    assert len(ids) == len(set(ids))
    assert sum(len(file["entries"]) for file in files if not file.get("smalltalk")) == 18


def test_shipped_kb_has_no_warnings(shipped_kb: KnowledgeBase) -> None:
    assert shipped_kb.warnings == ()


@pytest.mark.parametrize(("entry_id", "category", "question"), SHIPPED_ENTRIES, ids=SHIPPED_IDS)
def test_shipped_entry_question_and_category(
    shipped_kb: KnowledgeBase, entry_id: str, category: str, question: str
) -> None:
    entry = shipped_kb.get(entry_id)
    assert entry is not None
    assert (entry.category, entry.question) == (category, question)


@pytest.mark.parametrize("entry_id", SHIPPED_IDS)
def test_shipped_answer_reads_well_in_a_chat(shipped_kb: KnowledgeBase, entry_id: str) -> None:
    entry = shipped_kb.get(entry_id)
    assert entry is not None
    answer = entry.answer
    assert len(SENTENCE_END.findall(answer)) >= 3, "write at least 3 sentences"
    assert len(answer) <= ANSWER_SOFT_LIMIT
    assert "<" not in answer, "answers are plain text, no HTML"
    assert " Sie " in answer or "Ihr" in answer, "address customers as 'Sie'"


@pytest.mark.parametrize("entry_id", SHIPPED_IDS)
def test_shipped_entry_has_enough_phrasings_and_keywords(
    shipped_kb: KnowledgeBase, entry_id: str
) -> None:
    entry = shipped_kb.get(entry_id)
    assert entry is not None
    assert len(entry.alternatives) >= 5
    assert len(entry.keywords) >= 3


@pytest.mark.parametrize(
    "entry_id",
    [entry_id for entry_id, category, _ in SHIPPED_ENTRIES if category != "Social Media"],
)
def test_shipped_entry_outside_social_media_has_https_link(
    shipped_kb: KnowledgeBase, entry_id: str
) -> None:
    entry = shipped_kb.get(entry_id)
    assert entry is not None
    assert any(link.url.startswith("https://") for link in entry.links)


# --- loader errors: file:line, nothing loaded -------------------------------------------


@pytest.mark.parametrize(
    ("text", "line", "hint"),
    [
        pytest.param(
            """\
            category: Test
            entries:
              - id: eins
                question: "Frage eins?"
                 answer: "Antwort eins."
            """,
            5,
            "invalid YAML",
            id="indented-too-far",
        ),
        pytest.param(
            """\
            category: Test
            entries:
              - id: eins
                question: "Frage eins?"
               answer: "Antwort eins."
            """,
            5,
            "invalid YAML",
            id="indented-too-little",
        ),
        pytest.param(
            """\
            category: Test
            entries:
              - id: eins
                question: 'Let's Encrypt erneuern?'
                answer: "Antwort eins."
            """,
            4,
            "invalid YAML",
            id="apostrophe-closes-single-quote",
        ),
        pytest.param(
            """\
            category: Test
            entries:
              - id: eins
                question: Google Maps: Wie trage ich meine Firma ein?
                answer: "Antwort eins."
            """,
            4,
            "invalid YAML",
            id="unquoted-colon",
        ),
        pytest.param(
            "category: Test\nentries:\n  - id: eins\n\tquestion: Frage?\n    answer: Antwort.\n",
            4,
            "'\\t'",
            id="tab",
        ),
    ],
)
def test_load_broken_yaml_reports_its_line(faq_dir: Path, text: str, line: int, hint: str) -> None:
    path = write(faq_dir, "web.yaml", text)
    message = str(load_error(faq_dir))
    assert f"{path}:{line}: " in message
    assert hint in message


def test_load_unclosed_quote_reports_the_opening_line(faq_dir: Path) -> None:
    path = write(
        faq_dir,
        "web.yaml",
        """\
        category: Test
        entries:
          - id: eins
            question: "Frage eins?
            answer: |
              Antwort eins.
        """,
    )
    message = str(load_error(faq_dir))
    assert f"{path}:4: " in message
    assert "quoted scalar" in message


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        pytest.param(
            """\
            category: Test
            entries:
              - id: eins
                answer: "Antwort eins."
            """,
            3,
            "an entry is missing the required key 'question'",
            id="question",
        ),
        pytest.param(
            """\
            category: Test
            entries:
              - id: eins
                question: "Frage eins?"
            """,
            3,
            "an entry is missing the required key 'answer'",
            id="answer",
        ),
        pytest.param(
            """\
            category: Test
            entries:
              - question: "Frage eins?"
                answer: "Antwort eins."
            """,
            3,
            "an entry is missing the required key 'id'",
            id="id",
        ),
        pytest.param(
            """\
            entries:
              - id: eins
                question: "Frage eins?"
                answer: "Antwort eins."
            """,
            1,
            "the file is missing the required key 'category'",
            id="category",
        ),
    ],
)
def test_load_missing_key_names_key_and_line(
    faq_dir: Path, text: str, line: int, message: str
) -> None:
    path = write(faq_dir, "web.yaml", text)
    assert f"{path}:{line}: {message}" in str(load_error(faq_dir))


def test_load_misspelt_key_suggests_the_right_one(faq_dir: Path) -> None:
    path = write(
        faq_dir,
        "web.yaml",
        """\
        category: Test
        entries:
          - id: eins
            question: "Frage eins?"
            alternativs:
              - "Erste Frage?"
            answer: "Antwort eins."
        """,
    )
    message = str(load_error(faq_dir))
    assert f"{path}:5: unknown key 'alternativs'; did you mean 'alternatives'?" in message


def test_load_duplicate_id_across_files_names_both_places(faq_dir: Path) -> None:
    first = write(faq_dir, "a.yaml", GOOD_FILE)
    second = write(
        faq_dir,
        "b.yaml",
        """\
        category: Andere
        entries:
          - id: zwei
            question: "Frage zwei?"
            answer: "Antwort zwei."

          - id: eins
            question: "Noch eine Frage eins?"
            answer: "Noch eine Antwort."
        """,
    )
    message = str(load_error(faq_dir))
    assert f"{second}:7: duplicate id 'eins'" in message
    assert f"{first}:3" in message


def test_load_duplicate_key_in_entry_reports_second_key(faq_dir: Path) -> None:
    path = write(
        faq_dir,
        "web.yaml",
        """\
        category: Test
        entries:
          - id: eins
            question: "Frage eins?"
            answer: "Antwort eins."
            question: "Andere Frage?"
        """,
    )
    assert f"{path}:6: key 'question' appears twice in an entry" in str(load_error(faq_dir))


def entry_with(field: str) -> str:
    """A one-entry file whose 4th line onwards is ``field`` (a dedented YAML snippet)."""
    lines = [
        "category: Test",
        "entries:",
        "  - id: eins",
        textwrap.indent(textwrap.dedent(field).rstrip("\n"), "    "),
        '    question: "Frage eins?"',
    ]
    if not field.lstrip().startswith("answer:"):
        lines.append('    answer: "Antwort eins."')
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    ("field", "line", "message"),
    [
        pytest.param(
            'answer:\n  - "Erster Satz."\n  - "Zweiter Satz."\n',
            5,
            "'answer' must be a text",
            id="answer-is-list",
        ),
        pytest.param(
            'alternatives: "Erste Frage?"\n',
            4,
            "'alternatives' must be a list",
            id="alternatives-is-string",
        ),
        pytest.param("keywords: SSL\n", 4, "'keywords' must be a list", id="keywords-is-string"),
        pytest.param(
            "links: https://example.com/\n", 4, "'links' must be a list", id="links-is-string"
        ),
        pytest.param("answer: ~\n", 4, "'answer' must be a text", id="answer-is-null"),
        pytest.param('answer: "  "\n', 4, "'answer' must not be empty", id="answer-is-blank"),
    ],
)
def test_load_wrong_type_names_field_and_line(
    faq_dir: Path, field: str, line: int, message: str
) -> None:
    path = write(faq_dir, "web.yaml", entry_with(field))
    assert f"{path}:{line}: {message}" in str(load_error(faq_dir))


def test_load_entry_that_is_not_a_mapping_is_an_error(faq_dir: Path) -> None:
    path = write(faq_dir, "web.yaml", "category: Test\nentries:\n  - dnssec\n")
    assert f"{path}:3: an entry must be a mapping" in str(load_error(faq_dir))


@pytest.mark.parametrize(
    "entry_id",
    [
        pytest.param("Dnssec", id="capital"),
        pytest.param("über-uns", id="umlaut"),
        pytest.param("google maps", id="space"),
        pytest.param("-dnssec", id="leading-hyphen"),
        pytest.param("a" * 61, id="61-chars"),
    ],
)
def test_load_bad_id_explains_the_rule(faq_dir: Path, entry_id: str) -> None:
    path = write(
        faq_dir,
        "web.yaml",
        f"""\
        category: Test
        entries:
          - question: "Frage eins?"
            id: "{entry_id}"
            answer: "Antwort eins."
        """,
    )
    message = str(load_error(faq_dir))
    assert f"{path}:4: id '{entry_id}' must be 1-60 characters of a-z, 0-9 and '-'" in message


def test_load_id_of_60_chars_is_accepted(faq_dir: Path) -> None:
    write(faq_dir, "web.yaml", GOOD_FILE.replace("id: eins", "id: " + "a" * 60))
    assert load_knowledge_base(faq_dir).get("a" * 60) is not None


@pytest.mark.parametrize(
    ("link", "line", "message"),
    [
        pytest.param(
            '- title: "Mehr lesen"\n',
            5,
            "a link is missing the required key 'url'",
            id="no-url",
        ),
        pytest.param(
            '- title: "Mehr lesen"\n  url: ftp://example.com/datei\n',
            6,
            "'ftp://example.com/datei' is not a web address",
            id="ftp",
        ),
        pytest.param(
            '- title: "Mehr lesen"\n  url: www.example.com\n',
            6,
            "'www.example.com' is not a web address",
            id="no-scheme",
        ),
    ],
)
def test_load_bad_link_reports_its_line(faq_dir: Path, link: str, line: int, message: str) -> None:
    path = write(faq_dir, "web.yaml", entry_with("links:\n" + textwrap.indent(link, "  ")))
    assert f"{path}:{line}: {message}" in str(load_error(faq_dir))


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        pytest.param("", 1, "the file is empty", id="empty"),
        pytest.param("# nur ein Kommentar\n", 1, "the file is empty", id="only-comment"),
        pytest.param(
            "category: Test\nentries: []\n",
            2,
            "'entries' must be a non-empty list",
            id="entries-empty-list",
        ),
        pytest.param(
            "category: Test\nentries:\n",
            2,
            "'entries' must be a non-empty list",
            id="entries-blank",
        ),
    ],
)
def test_load_file_without_entries_is_an_error(
    faq_dir: Path, text: str, line: int, message: str
) -> None:
    path = write(faq_dir, "web.yaml", text)
    assert f"{path}:{line}: {message}" in str(load_error(faq_dir))


def test_load_non_utf8_file_asks_to_save_as_utf8(faq_dir: Path) -> None:
    latin1 = textwrap.dedent(GOOD_FILE).replace("Frage eins", "Größe").encode("latin-1")
    path = write(faq_dir, "web.yaml", latin1)
    message = str(load_error(faq_dir))
    assert f"{path}:1: not UTF-8 text" in message
    assert "save the file as UTF-8" in message


def test_load_folder_without_yaml_files_is_an_error(faq_dir: Path) -> None:
    (faq_dir / "README.md").write_text("# Anleitung\n", encoding="utf-8")
    write(faq_dir, ".entwurf.yaml", GOOD_FILE)
    write(faq_dir, "web.yaml~", GOOD_FILE)
    assert f"{faq_dir}:0: no *.yaml files in the FAQ folder" in str(load_error(faq_dir))


def test_load_missing_folder_is_an_error(tmp_path: Path) -> None:
    missing = tmp_path / "gibt-es-nicht"
    assert f"{missing}:0: FAQ folder not found" in str(load_error(missing))


def test_load_several_errors_in_one_file_are_all_reported(faq_dir: Path) -> None:
    path = write(
        faq_dir,
        "web.yaml",
        """\
        category: Test
        entries:
          - id: eins
            question: "Frage eins?"
            alternativs: ["Erste Frage?"]
            answer: "Antwort eins."

          - id: zwei
            question: "Frage zwei?"

          - id: Drei
            question: "Frage drei?"
            answer: "Antwort drei."
            links:
              - title: "Mehr"
                url: example
        """,
    )
    error = load_error(faq_dir)
    assert [(problem.file, problem.line) for problem in error.problems] == [
        (str(path), 5),
        (str(path), 8),
        (str(path), 11),
        (str(path), 16),
    ]


def test_load_errors_in_one_file_keep_good_files_from_loading(faq_dir: Path) -> None:
    write(faq_dir, "a.yaml", GOOD_FILE)
    broken = write(faq_dir, "b.yaml", "category: Andere\nentries: []\n")
    error = load_error(faq_dir)
    assert [problem.file for problem in error.problems] == [str(broken)]


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
                question: "Frage?"
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
    assert str(kb.warnings[0]).startswith(f"{path}:5: answer of 'eins' has 1799 characters")


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
