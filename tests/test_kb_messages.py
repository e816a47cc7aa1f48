"""Every message staff can trigger in the FAQ files: exact German text, line, column, code.

A table of broken files (one mistake each) pins the wording; the tests below it cover
what needs more than one file or a special file: encodings, sizes, copies, drafts.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml

from bot.checks import check_folder
from bot.cli import main
from bot.errors import KnowledgeBaseError, Problem
from bot.knowledge import ANSWER_HARD_LIMIT, KnowledgeBase, load_knowledge_base
from bot.matcher import Matcher
from bot.yamlnodes import MAX_FILE_BYTES, FastLoader

SHIPPED_FAQ = Path(__file__).parent.parent / "faq"
ONE_ENTRY = 'category: Test\nentries:\n  - id: eins\n    question: "Frage eins?"\n'


@pytest.fixture
def faq_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "faq"
    folder.mkdir()
    return folder


def write(folder: Path, name: str, text: str | bytes, *, age: int = 0) -> Path:
    """Write a FAQ file as staff would save it; ``age`` seconds ago (for "changed last")."""
    path = folder / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    if age:
        stamp = path.stat().st_mtime - age
        os.utime(path, (stamp, stamp))
    return path


def problems_of(folder: Path) -> list[Problem]:
    """The errors a load of ``folder`` raises; failing the test if anything loads."""
    with pytest.raises(KnowledgeBaseError) as caught:
        load_knowledge_base(folder)
    return caught.value.problems


def entry(entry_id: str, question: str, *extra: str) -> str:
    """One entry as YAML lines (two-space list indent), for multi-entry files."""
    lines = [f"  - id: {entry_id}", f'    question: "{question}"', *extra]
    return "\n".join([*lines, f'    answer: "Antwort zu {entry_id}."']) + "\n"


# --- one mistake, one message ---------------------------------------------------------

MISTAKES = [
    pytest.param(
        (
            "category: Test\n"
            "entries:\n"
            "  - id: eins\n"
            '\tquestion: "Frage eins?"\n'
            '    answer: "Antwort eins."\n'
        ),
        4,
        1,
        "yaml-tab",
        (
            "Zeile 4 beginnt mit einem Tabulator. Bitte rücken Sie nur mit Leerzeichen ein "
            "(2 je Ebene)."
        ),
        id="tab",
    ),
    pytest.param(
        (
            "category: Test\n"
            "entries:\n"
            "  - id: eins\n"
            '    question: "Frage eins?"\n'
            "    alternatives:\n"
            '      - "Erste Frage?"\n'
            '     - "Zweite Frage?"\n'
            '    answer: "Antwort eins."\n'
        ),
        7,
        6,
        "yaml-list-indent",
        (
            "Der Listenpunkt in Zeile 7 ist anders eingerückt als die Punkte darüber. "
            "Setzen Sie alle „- “ einer Liste genau untereinander."
        ),
        id="list-item-indented-wrongly",
    ),
    pytest.param(
        (
            "category: Test\n"
            "entries:\n"
            "  - id: eins\n"
            "    question: Google Maps: Wie trage ich meine Firma ein?\n"
            '    answer: "Antwort eins."\n'
        ),
        4,
        26,
        "yaml-colon",
        (
            "In Zeile 4 steht ein Doppelpunkt mit Leerzeichen mitten im Text. Setzen Sie "
            "den Text in Anführungszeichen, weil er einen Doppelpunkt enthält. So ist es "
            'richtig: question: "Google Maps: Wie trage ich meine Firma ein?"'
        ),
        id="unquoted-colon",
    ),
    pytest.param(
        (
            "category: Test\n"
            "entries:\n"
            "  - id: eins\n"
            '    question "Frage eins?"\n'
            '    answer: "Antwort eins."\n'
        ),
        4,
        5,
        "yaml-missing-colon",
        (
            "In Zeile 4 fehlt der Doppelpunkt nach dem Feldnamen. Schreiben Sie Feldname, "
            "Doppelpunkt, Leerzeichen und Wert, z. B. „question: …“."
        ),
        id="missing-colon",
    ),
    pytest.param(
        ('category: Test\nentries:\n  - id: eins\n    question: "Frage eins?"\n    answer:\n'),
        5,
        12,
        "empty",
        (
            "Die Antwort (answer) in Zeile 5 ist leer. Schreiben Sie die Antwort eingerückt"
            " unter „answer: |“, oder markieren Sie den Eintrag mit „draft: true“ als "
            "Entwurf."
        ),
        id="empty-answer",
    ),
    pytest.param(
        ('category: Test\nentries:\n  - id: eins\n    question: "Frage eins?"\n    answer: "  "\n'),
        5,
        13,
        "empty",
        (
            "Die Antwort (answer) in Zeile 5 ist leer. Schreiben Sie die Antwort eingerückt"
            " unter „answer: |“, oder markieren Sie den Eintrag mit „draft: true“ als "
            "Entwurf."
        ),
        id="blank-answer",
    ),
    pytest.param(
        (
            "category: Test\n"
            "entries:\n"
            "  - id: eins\n"
            '    question: "Frage eins?"\n'
            "    alternatives:\n"
            "      - 2026\n"
            '    answer: "Antwort eins."\n'
        ),
        6,
        9,
        "not-text",
        (
            "Die Alternative in Zeile 6 ist eine Zahl, kein Text. Setzen Sie den Wert in "
            'Anführungszeichen, z. B. "2026".'
        ),
        id="alternative-is-number",
    ),
    pytest.param(
        (
            "category: Test\n"
            "entries:\n"
            "  - id: eins\n"
            '    question: "Frage eins?"\n'
            "    alternatives:\n"
            "      - [Erste Frage, Zweite Frage]\n"
            '    answer: "Antwort eins."\n'
        ),
        6,
        9,
        "not-text",
        (
            "Die Alternative in Zeile 6 ist eine Liste, kein Text. Schreiben Sie jede "
            "Alternative in eine eigene Zeile, die mit „- “ beginnt."
        ),
        id="alternative-is-list",
    ),
    pytest.param(
        (
            "category: Test\n"
            "entries:\n"
            "  - id: eins\n"
            '    question: "Frage eins?"\n'
            "    alternatives:\n"
            "      - Google Maps: wie geht das?\n"
            '    answer: "Antwort eins."\n'
        ),
        6,
        9,
        "not-text",
        (
            "Die Alternative in Zeile 6 wurde als „Feld: Wert“ gelesen, weil der Text einen"
            " Doppelpunkt mit Leerzeichen enthält. Setzen Sie den Text in "
            "Anführungszeichen."
        ),
        id="alternative-with-colon",
    ),
    pytest.param(
        (
            "category: Test\n"
            "entries:\n"
            "  - id: eins\n"
            '    question: "Frage eins?"\n'
            "    answer:\n"
            '      - "Erster Satz."\n'
        ),
        6,
        7,
        "not-text",
        (
            "Die Antwort (answer) in Zeile 6 ist eine Liste, kein Text. Schreiben Sie einen"
            " mehrzeiligen Text unter „answer: |“, ohne „- “ davor."
        ),
        id="answer-is-list",
    ),
    pytest.param(
        (
            "category: Test\n"
            "entries:\n"
            "  - id: eins\n"
            '    question: "Frage eins?"\n'
            '    answer: "Antwort eins."\n'
            "    - id: zwei\n"
            '      question: "Frage zwei?"\n'
            '      answer: "Antwort zwei."\n'
        ),
        6,
        5,
        "yaml-nesting",
        (
            "Der Eintrag in Zeile 6 ist anders eingerückt als die Einträge darüber. Alle "
            "Einträge unter „entries:“ beginnen genau untereinander mit „- id:“."
        ),
        id="entry-nested-in-entry",
    ),
    pytest.param(
        (
            "category: Test\n"
            "entries:\n"
            "  - id: eins\n"
            '    question: "Frage eins?"\n'
            "    answer: Antwort eins.\n"
            "\n"
            "      - id: zwei\n"
            '        question: "Frage zwei?"\n'
            '        answer: "Antwort zwei."\n'
        ),
        7,
        7,
        "yaml-nesting",
        (
            "Zeile 7 ist weiter eingerückt als Zeile 5 und wird deshalb als Fortsetzung des"
            " Textes darüber gelesen. Ein neuer Eintrag „- id:“ muss genau so weit "
            "eingerückt sein wie die Einträge darüber."
        ),
        id="entry-indented-too-far",
    ),
    pytest.param(
        (
            "category: Test\n"
            "entries:\n"
            "  eins:\n"
            '    question: "Frage eins?"\n'
            '    answer: "Antwort eins."\n'
        ),
        3,
        3,
        "entries-not-a-list",
        (
            "„entries“ muss eine Liste von Einträgen sein, die jeweils mit „- id:“ "
            "beginnen, eingerückt unter „entries:“."
        ),
        id="entries-not-a-list",
    ),
    pytest.param(
        (
            "category: Test\n"
            "entries:\n"
            "  - id: eins\n"
            '    question: "Frage eins?"\n'
            '    answer: "Antwort eins."\n'
            "\n"
            "  id: zwei\n"
            '  question: "Frage zwei?"\n'
            '  answer: "Antwort zwei."\n'
        ),
        7,
        3,
        "yaml-missing-dash",
        ("Vor dem Eintrag in Zeile 7 fehlt der Bindestrich. Jeder Eintrag beginnt mit „- id:“."),
        id="missing-dash",
    ),
    pytest.param(
        (
            "category: Test\n"
            "entries:\n"
            "  - id: eins\n"
            '    question: "Frage eins?"\n'
            '    answer: "Antwort eins."\n'
            "\n"
            "    id: zwei\n"
            '    question: "Frage zwei?"\n'
            '    answer: "Antwort zwei."\n'
        ),
        7,
        5,
        "yaml-missing-dash",
        (
            "In Zeile 7 beginnt offenbar ein neuer Eintrag, aber davor fehlt der "
            "Bindestrich. Schreiben Sie „- id: …“, mit dem Bindestrich genau unter den "
            "Bindestrichen der anderen Einträge."
        ),
        id="missing-dash-aligned",
    ),
    pytest.param(
        (
            "category: Test\n"
            "entries:\n"
            "  - id: eins\n"
            '    question: "Frage eins?"\n'
            '    answer: "Antwort eins."\n'
            '    question: "Andere Frage?"\n'
        ),
        6,
        5,
        "duplicate-key",
        (
            "Das Feld „question“ steht zweimal in diesem Eintrag (zuerst in Zeile 4). "
            "Löschen Sie eine der beiden Zeilen oder führen Sie sie zusammen."
        ),
        id="duplicate-key",
    ),
    pytest.param(
        (
            "category: Test\n"
            "entries:\n"
            "  - id: eins\n"
            '    question: "Frage eins?"\n'
            '     answer: "Antwort eins."\n'
        ),
        5,
        6,
        "yaml-indent",
        (
            "Zeile 5 ist anders eingerückt als die Zeilen darüber. Sie ist mit 5 "
            "Leerzeichen eingerückt, Zeile 4 mit 4. Die Felder eines Eintrags (id, "
            "question, answer …) müssen genau untereinander stehen."
        ),
        id="field-indented-too-far",
    ),
    pytest.param(
        (
            "category: Test\n"
            "entries:\n"
            "  - id: eins\n"
            '    question: "Frage eins?"\n'
            '   answer: "Antwort eins."\n'
        ),
        5,
        4,
        "yaml-indent",
        (
            "Zeile 5 ist anders eingerückt als die Zeilen darüber. Sie ist mit 3 "
            "Leerzeichen eingerückt, Zeile 4 mit 4. Die Felder eines Eintrags (id, "
            "question, answer …) müssen genau untereinander stehen."
        ),
        id="field-indented-too-little",
    ),
    pytest.param(
        (
            "category: Test\n"
            "entries:\n"
            "  - id: eins\n"
            "    question: 'Let's Encrypt erneuern?'\n"
            '    answer: "Antwort eins."\n'
        ),
        4,
        20,
        "yaml-apostrophe",
        (
            "Der Text in Zeile 4 steht in einfachen Anführungszeichen '…' und enthält einen"
            " Apostroph, der ihn vorzeitig beendet. Setzen Sie den Text in doppelte "
            'Anführungszeichen "…".'
        ),
        id="apostrophe-in-single-quotes",
    ),
    pytest.param(
        (
            "category: Test\n"
            "entries:\n"
            "  - id: eins\n"
            '    question: "Frage eins?\n'
            "    answer: |\n"
            "      Antwort eins.\n"
        ),
        4,
        15,
        "yaml-unclosed-quote",
        (
            "Das Anführungszeichen in Zeile 4 wird nicht geschlossen. Setzen Sie am Ende "
            "des Textes dasselbe Anführungszeichen noch einmal."
        ),
        id="unclosed-quote",
    ),
    pytest.param(
        (
            "category: Test\n"
            "entries:\n"
            "  - id: eins\n"
            '    question: "Frage eins?"\n'
            "    answer: |\n"
            "    Antwort eins.\n"
        ),
        6,
        5,
        "yaml-block-indent",
        (
            "Der Text in Zeile 6 gehört zu „answer: |“ in Zeile 5 und muss deshalb weiter "
            "eingerückt sein als diese Zeile (z. B. 2 Leerzeichen mehr)."
        ),
        id="answer-text-not-indented",
    ),
    pytest.param(
        (
            "category: Test\n"
            "entries:\n"
            "  - id: eins\n"
            '    question: "Frage eins?"\n'
            "    answer: *Wichtig* ist das.\n"
        ),
        5,
        13,
        "yaml-special-character",
        (
            "Der Text in Zeile 5 beginnt mit „*“, das in YAML eine besondere Bedeutung hat."
            " Setzen Sie den Text in Anführungszeichen."
        ),
        id="text-starts-with-asterisk",
    ),
    pytest.param(
        (
            "category: Test\n"
            "entries:\n"
            "  - id: eins\n"
            '    question: "Frage eins?"\n'
            "    answer: @agentur antwortet.\n"
        ),
        5,
        13,
        "yaml-special-character",
        (
            "Der Text in Zeile 5 beginnt mit „@“, das in YAML eine besondere Bedeutung hat."
            " Setzen Sie den Text in Anführungszeichen."
        ),
        id="text-starts-with-at",
    ),
    pytest.param(
        (
            "category: Test\n"
            "entries:\n"
            "  - id: eins\n"
            '    question: "Frage eins?"\n'
            "    keywords: [SSL, DNS\n"
            '    answer: "Antwort eins."\n'
        ),
        5,
        15,
        "yaml-brackets",
        (
            "Die Klammer in Zeile 5 wird nicht richtig geschlossen. In „[a, b]“ trennt "
            "jedes Komma zwei Einträge; setzen Sie Texte mit Komma, Doppelpunkt oder "
            "Klammer in Anführungszeichen."
        ),
        id="unclosed-bracket",
    ),
    pytest.param(
        (
            "category: Test\n"
            "entries:\n"
            "  - id: eins\n"
            '    question: "Frage eins?"\n'
            "    alternativs:\n"
            '      - "Erste Frage?"\n'
            '    answer: "Antwort eins."\n'
        ),
        5,
        5,
        "unknown-key",
        (
            "Das Feld „alternativs“ gibt es nicht. Meinten Sie „alternatives“? Erlaubt "
            "sind: id, question, alternatives, keywords, answer, links, draft."
        ),
        id="unknown-key",
    ),
    pytest.param(
        ('category: Test\nentries:\n  - id: eins\n    answer: "Antwort eins."\n'),
        3,
        5,
        "missing-key",
        ("Dem Eintrag fehlt das Pflichtfeld „question“."),
        id="missing-question",
    ),
    pytest.param(
        ('entries:\n  - id: eins\n    question: "Frage eins?"\n    answer: "Antwort eins."\n'),
        1,
        1,
        "missing-key",
        ("Der Datei fehlt das Pflichtfeld „category“."),
        id="missing-category",
    ),
    pytest.param(
        (
            "category: Test\n"
            "entries:\n"
            "  - id: eins\n"
            '    question: "Frage eins?"\n'
            '    answer: "Antwort eins."\n'
            "    links:\n"
            '      - title: "Mehr lesen"\n'
        ),
        7,
        9,
        "missing-key",
        ("Dem Link fehlt das Pflichtfeld „url“."),
        id="link-without-url",
    ),
    pytest.param(
        (
            "category: Test\n"
            "entries:\n"
            "  - id: eins\n"
            '    question: "Frage eins?"\n'
            '    answer: "Antwort eins."\n'
            "    links:\n"
            '      - title: "Mehr lesen"\n'
            "        url: www.example.com\n"
        ),
        8,
        14,
        "bad-url",
        (
            "„www.example.com“ ist keine Webadresse. Schreiben Sie die vollständige Adresse"
            " mit https://, z. B. https://www.example.com/."
        ),
        id="link-not-a-web-address",
    ),
    pytest.param(
        (
            "category: Test\n"
            "entries:\n"
            "  - id: eins\n"
            '    question: "Frage eins?"\n'
            '    alternatives: "Erste Frage?"\n'
            '    answer: "Antwort eins."\n'
        ),
        5,
        19,
        "not-a-list",
        (
            "„alternatives“ muss eine Liste sein: jeder Wert in einer eigenen Zeile, die "
            "mit „- “ beginnt, oder alle in eckigen Klammern wie [SSL, DNS]."
        ),
        id="alternatives-not-a-list",
    ),
    pytest.param(
        (
            "category: Test\n"
            "entries:\n"
            "  - id: eins\n"
            '    question: "Frage eins?"\n'
            '    answer: "Antwort eins."\n'
            "    links: https://example.com/\n"
        ),
        6,
        12,
        "not-a-list",
        (
            "„links“ muss eine Liste von Links sein, jeder beginnend mit „- title:“ und "
            "darunter „url:“."
        ),
        id="links-not-a-list",
    ),
    pytest.param(
        ("category: Test\nentries:\n  - dnssec\n"),
        3,
        5,
        "entry-not-a-mapping",
        (
            "Dieser Eintrag besteht nur aus einem Text. Ein Eintrag hat Felder wie „id:“, "
            "„question:“ und „answer:“, jedes in einer eigenen Zeile."
        ),
        id="entry-is-a-text",
    ),
    pytest.param(
        (
            "category: Test\n"
            "entries:\n"
            "  - id: Google Maps\n"
            '    question: "Frage eins?"\n'
            '    answer: "Antwort eins."\n'
        ),
        3,
        9,
        "bad-id",
        (
            "Die id „Google Maps“ ist nicht erlaubt: 1 bis 60 Zeichen aus a-z, 0-9 und "
            "Bindestrich, ohne Umlaute, Leerzeichen und Großbuchstaben, z. B. „dnssec“ oder"
            " „google-maps“."
        ),
        id="bad-id",
    ),
    pytest.param(
        ("# nur ein Kommentar\n"),
        1,
        0,
        "file-empty",
        (
            "Die Datei ist leer. Sie braucht „category:“ und „entries:“; nehmen Sie eine "
            "vorhandene Datei als Vorlage."
        ),
        id="empty-file",
    ),
    pytest.param(
        ("category: Test\nentries: []\n"),
        2,
        10,
        "entries-empty",
        (
            "„entries“ enthält keine Einträge. Fügen Sie mindestens einen Eintrag hinzu "
            "(beginnend mit „- id:“) oder löschen Sie die Datei."
        ),
        id="no-entries",
    ),
    pytest.param(
        (
            "category: Test\n"
            "entries:\n"
            "  - id: eins\n"
            '    question: "Frage eins?"\n'
            '    answer: "TODO: Antwort schreiben (3–8 Sätze, Sie-Form)."\n'
        ),
        5,
        13,
        "todo",
        (
            "Die Antwort von „eins“ enthält noch „TODO“. Schreiben Sie die Antwort fertig, "
            "oder markieren Sie den Eintrag mit „draft: true“ als Entwurf, dann zeigt der "
            "Bot ihn nicht an."
        ),
        id="todo-without-draft",
    ),
    pytest.param(
        (
            "category: Test\n"
            "entries:\n"
            "  - id: eins\n"
            '    question: "Frage eins?"\n'
            '    answer: "Antwort eins."\n'
            "    draft: vielleicht\n"
        ),
        6,
        12,
        "not-a-flag",
        ("„draft“ muss true oder false sein (true: Entwurf, der Bot zeigt den Eintrag nicht an)."),
        id="draft-not-a-flag",
    ),
]


@pytest.mark.parametrize(("text", "line", "column", "code", "message"), MISTAKES)
def test_mistake_gives_one_german_message_at_its_spot(
    faq_dir: Path, text: str, line: int, column: int, code: str, message: str
) -> None:
    path = write(faq_dir, "web.yaml", text)
    [problem] = problems_of(faq_dir)
    assert (problem.file, problem.line, problem.column) == (str(path), line, column)
    assert (problem.code, problem.severity, problem.message) == (code, "error", message)
    assert problem.excerpt == text.splitlines()[line - 1]


def test_problem_render_shows_the_line_and_a_marker_under_the_spot(faq_dir: Path) -> None:
    path = write(faq_dir, "web.yaml", str(MISTAKES[2].values[0]))  # the unquoted colon
    [problem] = problems_of(faq_dir)
    assert problem.render().splitlines() == [
        f"{path}:4: {problem.message}",
        "  4 |     question: Google Maps: Wie trage ich meine Firma ein?",
        "    |                          ^",
    ]


def test_problem_render_shows_a_tab_as_an_arrow(faq_dir: Path) -> None:
    write(faq_dir, "web.yaml", str(MISTAKES[0].values[0]))
    [problem] = problems_of(faq_dir)
    assert problem.render().splitlines()[1:] == ['  4 | →question: "Frage eins?"', "    | ^"]


def test_non_utf8_file_names_the_line_of_the_first_bad_byte(faq_dir: Path) -> None:
    text = ONE_ENTRY + '    answer: "Die Größe zählt."\n'
    path = write(faq_dir, "web.yaml", text.encode("cp1252"))
    [problem] = problems_of(faq_dir)
    assert (problem.file, problem.line, problem.column, problem.code) == (
        str(path),
        5,
        20,
        "not-utf8",
    )
    assert problem.message == (
        "Zeile 5 enthält ein Zeichen, das nicht im Format UTF-8 gespeichert ist (vermutlich"
        " „ö“). Speichern Sie die Datei als UTF-8 (im Editor unter „Speichern unter“ →"
        " Codierung „UTF-8“) und prüfen Sie danach die Umlaute."
    )


def test_missing_folder_says_which_folder_and_how_to_set_faq_dir(tmp_path: Path) -> None:
    missing = tmp_path / "gibt-es-nicht"
    [problem] = problems_of(missing)
    assert (problem.file, problem.line, problem.code) == (str(missing), 0, "folder-missing")
    assert str(problem) == (
        f"{missing}: Der FAQ-Ordner „{missing}“ wurde nicht gefunden. Starten Sie den Befehl"
        " im Projektordner, geben Sie den Ordner mit --faq-dir pfad/zum/ordner an, oder"
        " setzen Sie die Umgebungsvariable FAQ_DIR, z. B. FAQ_DIR=/srv/faqbot/faq."
    )


def test_missing_relative_folder_also_says_where_it_was_looked_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    [problem] = problems_of(Path("faq"))
    assert problem.message.startswith(
        f"Der FAQ-Ordner „faq“ wurde nicht gefunden (gesucht in „{tmp_path / 'faq'}“)."
    )


def test_folder_without_yaml_files_is_an_error(faq_dir: Path) -> None:
    (faq_dir / "README.md").write_text("# Anleitung\n", encoding="utf-8")
    write(faq_dir, ".entwurf.yaml", ONE_ENTRY)
    write(faq_dir, "web.yaml~", ONE_ENTRY)
    [problem] = problems_of(faq_dir)
    assert str(problem) == (
        f"{faq_dir}: Im FAQ-Ordner „{faq_dir}“ liegt keine .yaml-Datei. Legen Sie die"
        " FAQ-Dateien dort ab (Endung .yaml oder .yml), oder nennen Sie mit --faq-dir bzw."
        " FAQ_DIR den richtigen Ordner."
    )


def test_file_over_10_mb_is_refused_before_it_is_parsed(faq_dir: Path) -> None:
    padding = "# " + "x" * 97 + "\n"
    text = ONE_ENTRY + '    answer: "Antwort."\n' + padding * (MAX_FILE_BYTES // 100 + 1)
    path = write(faq_dir, "web.yaml", text)
    [problem] = problems_of(faq_dir)
    size = f"{path.stat().st_size / 1024 / 1024:.1f}".replace(".", ",")
    assert str(problem) == (
        f"{path}: Die Datei ist {size} MB groß; erlaubt sind höchstens 10 MB je Datei."
        " Verteilen Sie die Einträge auf mehrere Dateien, oder stellen Sie die letzte gute"
        " Fassung wieder her, falls versehentlich etwas Großes hineinkopiert wurde."
    )
    assert problem.code == "file-too-large"


def test_answer_over_4000_characters_is_an_error(faq_dir: Path) -> None:
    answer = "Das ist ein Satz. " * 250
    path = write(faq_dir, "web.yaml", ONE_ENTRY + f'    answer: "{answer}"\n')
    [problem] = problems_of(faq_dir)
    assert (problem.file, problem.line, problem.code) == (str(path), 5, "answer-too-long")
    assert problem.message == (
        f"Die Antwort von „eins“ hat {len(answer.strip()):,} Zeichen; Telegram schneidet".replace(
            ",", "."
        )
        + " Nachrichten nach 4.096 Zeichen ab. Kürzen Sie sie auf höchstens 1.500 Zeichen"
        " (erlaubt sind 4.000)."
    )


def test_answer_of_exactly_4000_characters_is_only_a_warning(faq_dir: Path) -> None:
    write(faq_dir, "web.yaml", ONE_ENTRY + f'    answer: "{"x" * ANSWER_HARD_LIMIT}"\n')
    kb = load_knowledge_base(faq_dir)
    assert [warning.code for warning in kb.warnings] == ["answer-long"]


# --- across entries and files ---------------------------------------------------------


def test_identical_alternative_in_two_entries_is_an_error(faq_dir: Path) -> None:
    first = write(faq_dir, "a.yaml", "category: A\nentries:\n" + entry("eins", "Frage eins?"))
    second = write(
        faq_dir,
        "b.yaml",
        "category: B\nentries:\n"
        + entry("zwei", "Frage zwei?", "    alternatives:", '      - "frage  EINS"'),
    )
    [problem] = problems_of(faq_dir)
    assert (problem.file, problem.line, problem.column) == (str(second), 6, 7)
    assert (problem.code, problem.excerpt) == ("duplicate-phrasing", '      - "frage  EINS"')
    assert problem.message == (
        f"Diese Formulierung steht auch bei Eintrag „eins“ ({first}:4). Der Bot kann nicht"
        " wissen, welcher Eintrag gemeint ist: Löschen Sie sie bei einem der beiden oder"
        " formulieren Sie sie genauer."
    )


def test_duplicate_id_blames_the_entry_in_the_more_recently_changed_file(
    faq_dir: Path,
) -> None:
    # web-technik.yaml is the published one (older); marketing.yaml sorts first but was
    # changed last: its new entry is the one to rename.
    live = write(
        faq_dir,
        "web-technik.yaml",
        "category: Web\nentries:\n" + entry("ssl", "SSL?") + entry("dnssec", "Was ist DNSSEC?"),
        age=3600,
    )
    edited = write(
        faq_dir,
        "marketing.yaml",
        "category: Marketing\nentries:\n"
        + entry("blog", "Blog?")
        + entry("dnssec", "DNSSEC für Marketing?"),
    )
    [problem] = problems_of(faq_dir)
    assert (problem.file, problem.line, problem.code) == (str(edited), 6, "duplicate-id")
    assert problem.message == (
        f"Die id „dnssec“ gibt es schon in {live}:6, einer länger nicht geänderten Datei."
        " Geben Sie diesem Eintrag eine neue id; die ältere bleibt, weil Links auf der"
        " Website sie verwenden können."
    )


def test_duplicate_id_in_one_file_blames_the_later_entry(faq_dir: Path) -> None:
    path = write(
        faq_dir, "web.yaml", "category: W\nentries:\n" + entry("eins", "A?") + entry("eins", "B?")
    )
    [problem] = problems_of(faq_dir)
    assert (problem.file, problem.line) == (str(path), 6)
    assert problem.message.startswith(
        "Die id „eins“ gibt es schon weiter oben in dieser Datei (Zeile 3)."
    )


def test_copied_file_gets_one_message_instead_of_one_per_entry(faq_dir: Path) -> None:
    text = "category: Marketing\nentries:\n" + "".join(
        entry(entry_id, f"Frage zu {entry_id}?") for entry_id in ["a", "b", "c", "d", "e"]
    )
    write(faq_dir, "marketing.yaml", text, age=3600)
    copy = write(faq_dir, "marketing (Kopie).yaml", text, age=7200)  # older, but a copy
    [problem] = problems_of(faq_dir)
    assert (problem.file, problem.line, problem.code) == (str(copy), 0, "copied-file")
    assert problem.message == (
        "Die Datei „marketing (Kopie).yaml“ sieht aus wie eine Kopie von „marketing.yaml“:"
        " 5 von 5 ids stehen auch dort. Löschen Sie die Kopie oder legen Sie sie außerhalb"
        " des FAQ-Ordners ab; der Bot liest jede .yaml-Datei im Ordner."
    )


def test_copied_file_without_copy_in_its_name_is_the_newer_one(faq_dir: Path) -> None:
    text = "category: M\nentries:\n" + entry("a", "A?") + entry("b", "B?")
    write(faq_dir, "marketing.yaml", text, age=3600)
    copy = write(faq_dir, "marketing-neu.yaml", text)
    [problem] = problems_of(faq_dir)
    assert (problem.file, problem.code) == (str(copy), "copied-file")


# --- drafts ---------------------------------------------------------------------------

DRAFT = entry("kostet-website", "Was kostet eine neue Website?").replace(
    '    answer: "Antwort zu kostet-website."',
    '    answer: "TODO: Antwort schreiben (3–8 Sätze, Sie-Form)."\n    draft: true',
)


@pytest.fixture
def kb_with_draft(faq_dir: Path) -> KnowledgeBase:
    write(faq_dir, "web.yaml", "category: W\nentries:\n" + entry("eins", "Frage eins?") + DRAFT)
    return load_knowledge_base(faq_dir)


def test_draft_is_kept_apart_and_never_served(kb_with_draft: KnowledgeBase) -> None:
    assert [e.id for e in kb_with_draft] == ["eins"]
    assert [e.id for e in kb_with_draft.drafts] == ["kostet-website"]
    assert kb_with_draft.get("kostet-website") is None
    result = Matcher(kb_with_draft).match("Was kostet eine neue Website?")
    assert all(c.entry.id != "kostet-website" for c in result.ranking)


def test_check_lists_drafts(faq_dir: Path, kb_with_draft: KnowledgeBase) -> None:
    report = check_folder(faq_dir, confusions=False)
    assert report.ok
    [notice] = report.findings
    assert (notice.line, notice.severity, notice.code) == (6, "info", "draft")
    assert notice.render() == (
        f"{faq_dir / 'web.yaml'}:6: Hinweis: Entwurf „kostet-website“ („Was kostet eine neue"
        " Website?“) wird nicht angezeigt. Zum Veröffentlichen schreiben Sie die Antwort"
        " fertig und löschen die Zeile „draft: true“."
    )
    assert report.summary() == "OK: 1 Eintrag in 1 Kategorie, 1 Entwurf, 0 Warnungen."


def test_draft_false_is_served(faq_dir: Path) -> None:
    write(faq_dir, "web.yaml", ONE_ENTRY + '    answer: "Antwort."\n    draft: false\n')
    assert [e.id for e in load_knowledge_base(faq_dir)] == ["eins"]


def test_only_drafts_is_an_error(faq_dir: Path) -> None:
    write(faq_dir, "web.yaml", "category: W\nentries:\n" + DRAFT)
    [problem] = problems_of(faq_dir)
    assert str(problem) == (
        f"{faq_dir}: Alle Einträge sind als Entwurf markiert (draft: true); der Bot hätte"
        " nichts zu beantworten. Veröffentlichen Sie mindestens einen Eintrag."
    )


def test_suggest_output_pasted_into_a_file_loads_as_drafts(faq_dir: Path) -> None:
    from bot.suggestions import DRAFT_ANSWER, yaml_string

    # The lines faqbot suggest prints for one draft, pasted under an existing entry.
    pasted = (
        "  - id: kostet-neue-website\n"
        '    question: "Was kostet eine neue Website?"\n'
        "    alternatives: []\n"
        "    keywords: []\n"
        f"    answer: {yaml_string(DRAFT_ANSWER)}\n"
        "    draft: true  # nie angezeigt; nach dem Schreiben der Antwort löschen\n"
    )
    write(faq_dir, "web.yaml", "category: W\nentries:\n" + entry("eins", "Frage?") + pasted)
    kb = load_knowledge_base(faq_dir)
    assert [e.id for e in kb.drafts] == ["kostet-neue-website"]


# --- warnings -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "line", "code", "message"),
    [
        pytest.param(
            "    answer: >\n      Erster Teil\n      - ein Punkt\n",
            5,
            "folded-answer",
            "Mit „answer: >“ werden die Zeilen der Antwort zu einem Absatz zusammengezogen,"
            " Aufzählungen gehen verloren. Schreiben Sie „answer: |“.",
            id="folded-answer",
        ),
        pytest.param(
            '    answer: "Antwort."\n    links:\n      - title: "Alt"\n'
            "        url: http://example.com/\n",
            8,
            "http-link",
            "Der Link „http://example.com/“ ist unverschlüsselt. Verwenden Sie die Adresse mit"
            " https://, wenn die Seite sie anbietet.",
            id="http-link",
        ),
        pytest.param(
            f'    answer: "{"Das ist ein Satz. " * 100}"\n',
            5,
            "answer-long",
            "Die Antwort von „eins“ hat 1.799 Zeichen. Kürzen Sie sie auf höchstens 1.500"
            " Zeichen, damit sie sich im Chat gut liest.",
            id="answer-over-1500",
        ),
        pytest.param(
            '    alternatives:\n      - "frage eins"\n    answer: "Antwort."\n',
            6,
            "repeated-alternative",
            "Diese Alternative wiederholt die Frage oder eine andere Alternative desselben"
            " Eintrags. Löschen Sie die Zeile.",
            id="repeated-alternative",
        ),
    ],
)
def test_warning_is_german_and_the_entry_still_loads(
    faq_dir: Path, extra: str, line: int, code: str, message: str
) -> None:
    path = write(faq_dir, "web.yaml", ONE_ENTRY + extra)
    kb = load_knowledge_base(faq_dir)
    assert kb.get("eins") is not None
    [warning] = kb.warnings
    assert (warning.file, warning.line, warning.severity) == (str(path), line, "warning")
    assert (warning.code, warning.message) == (code, message)
    assert warning.render().startswith(f"{path}:{line}: Warnung: {message}")


def test_confusable_phrasings_are_a_german_warning(faq_dir: Path) -> None:
    write(
        faq_dir,
        "a.yaml",
        "category: A\nentries:\n"
        + entry("rad-kaufen", "Wie kaufe ich ein Fahrrad?")
        + entry("rad-kauf", "Wo kaufe ich ein Fahrrad?"),
    )
    report = check_folder(faq_dir)
    first = report.findings[0]
    assert (first.line, first.severity, first.code) == (4, "warning", "confusable")
    assert first.message.startswith(
        "„Wie kaufe ich ein Fahrrad?“ (rad-kaufen) lässt sich mit dem Eintrag „rad-kauf“"
        " verwechseln (Übereinstimmung "
    )
    assert first.message.endswith(
        "Formulieren Sie die Frage eindeutiger oder ergänzen Sie Alternativen, die nur zu"
        " einem der beiden passen."
    )


def test_confusable_warning_gives_the_own_entry_its_score_where_many_entries_tie(
    faq_dir: Path,
) -> None:
    # Single digits carry no match, so all eight questions read as "Fahrrad Modell":
    # more entries tie than a reply's short ranking holds.
    write(
        faq_dir,
        "a.yaml",
        "category: A\nentries:\n"
        + "".join(entry(f"rad-{n}", f"Fahrrad Modell {n}") for n in range(1, 9)),
    )
    findings = [f for f in check_folder(faq_dir).findings if f.code == "confusable"]
    last = next(f for f in findings if "(rad-8)" in f.message)
    scores = last.message.split("(Übereinstimmung ")[1].split(")")[0]
    own, rival = scores.split(" zu ")
    assert own == rival != "0,00"  # as good a match as its rival, not no match at all


def test_confusable_check_reports_its_progress_entry_by_entry(faq_dir: Path) -> None:
    write(
        faq_dir,
        "a.yaml",
        "category: A\nentries:\n"
        + entry("rad-kaufen", "Wie kaufe ich ein Fahrrad?")
        + entry("rad-reparieren", "Wer repariert mein Fahrrad?")
        + entry("rad-leihen", "Wo leihe ich ein Fahrrad?"),
    )
    steps: list[tuple[int, int]] = []
    check_folder(faq_dir, progress=lambda done, total: steps.append((done, total)))
    assert steps == [(0, 3), (1, 3), (2, 3), (3, 3)]


# --- faqbot check --json --------------------------------------------------------------


def test_check_json_has_every_field_for_each_finding(
    faq_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(faq_dir, "web.yaml", "category: W\nentries:\n" + entry("eins", "Frage eins?") + DRAFT)
    assert main(["check", "--json", "--no-confusions", "--faq-dir", str(faq_dir)]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out) == [
        {
            "file": str(faq_dir / "web.yaml"),
            "line": 6,
            "column": None,
            "severity": "info",
            "code": "draft",
            "message": "Entwurf „kostet-website“ („Was kostet eine neue Website?“) wird nicht"
            " angezeigt. Zum Veröffentlichen schreiben Sie die Antwort fertig und löschen die"
            " Zeile „draft: true“.",
        }
    ]
    assert captured.err == "OK: 1 Eintrag in 1 Kategorie, 1 Entwurf, 0 Warnungen.\n"


def test_check_json_of_a_missing_folder_has_no_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", "--json", "--faq-dir", str(tmp_path / "weg")]) == 1
    [problem] = json.loads(capsys.readouterr().out)
    assert (problem["line"], problem["column"], problem["code"]) == (None, None, "folder-missing")


# --- the C loader ---------------------------------------------------------------------


def _marks(node: yaml.Node) -> list[tuple[int, int, str]]:
    marks = [(node.start_mark.line, node.start_mark.column, node.tag)]
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            marks += _marks(key) + _marks(value)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            marks += _marks(item)
    return marks


@pytest.mark.parametrize("path", sorted(SHIPPED_FAQ.glob("*.yaml")), ids=lambda p: p.name)
def test_fast_loader_keeps_the_same_lines_as_the_pure_python_loader(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    fast = yaml.compose(text, Loader=FastLoader)
    slow = yaml.compose(text, Loader=yaml.SafeLoader)
    assert fast is not None and slow is not None
    assert _marks(fast) == _marks(slow)


def test_fast_loader_is_libyaml_when_it_is_installed() -> None:
    assert (FastLoader is getattr(yaml, "CSafeLoader", None)) == yaml.__with_libyaml__
