"""The German wording of schema findings in FAQ files (bot/kbschema.py), for staff.

Kept apart from the checks so that staff-facing phrasing is reviewed in one place.
"""

from __future__ import annotations

from rapidfuzz import process

FIELD_LABELS = {
    "category": "Die Kategorie (category)",
    "id": "Die id",
    "question": "Die Frage (question)",
    "answer": "Die Antwort (answer)",
    "alternatives": "Die Alternative",
    "keywords": "Das Stichwort",
    "title": "Der Link-Titel (title)",
    "url": "Die Adresse (url)",
}
"""How a field is named in a message ("Die Frage (question) in Zeile 4 ist leer.")."""

NOT_A_MAPPING = {
    "file": "Die Datei muss aus den Feldern „category:“ und „entries:“ bestehen; nehmen Sie"
    " eine vorhandene Datei als Vorlage.",
    "entry": "Dieser Eintrag besteht nur aus einem Text. Ein Eintrag hat Felder wie „id:“,"
    " „question:“ und „answer:“, jedes in einer eigenen Zeile.",
    "link": "Ein Link braucht die Felder „title:“ und „url:“, untereinander.",
}
MISSING_FROM = {"file": "Der Datei", "entry": "Dem Eintrag", "link": "Dem Link"}
IN_WHAT = {"file": "der Datei", "entry": "diesem Eintrag", "link": "diesem Link"}
KIND_NAMES = {
    "int": "eine Zahl",
    "float": "eine Zahl",
    "bool": "ein Wahrheitswert (ja/nein)",
    "timestamp": "ein Datum",
}


def unknown_key_message(key: str, allowed: dict[str, bool]) -> str:
    """ "Das Feld „x“ gibt es nicht.", with the closest allowed key as a guess."""
    message = f"Das Feld „{key}“ gibt es nicht."
    guess = process.extractOne(key, list(allowed), score_cutoff=70)
    if guess is not None:
        message += f" Meinten Sie „{guess[0]}“?"
    return message + " Erlaubt sind: " + ", ".join(allowed) + "."


def not_a_list_message(name: str) -> str:
    """What a list under ``name`` looks like, for a value that is none."""
    if name == "links":
        return (
            "„links“ muss eine Liste von Links sein, jeder beginnend mit „- title:“ und"
            " darunter „url:“."
        )
    return (
        f"„{name}“ muss eine Liste sein: jeder Wert in einer eigenen Zeile, die mit"
        " „- “ beginnt, oder alle in eckigen Klammern wie [SSL, DNS]."
    )


def bad_form_message(key: str, value: str) -> str:
    """Why an id or a url is not allowed, and how it is written."""
    if key == "id":
        return (
            f"Die id „{value}“ ist nicht erlaubt: 1 bis 60 Zeichen aus a-z, 0-9 und"
            " Bindestrich, ohne Umlaute, Leerzeichen und Großbuchstaben, z. B. „dnssec“"
            " oder „google-maps“."
        )
    return (
        f"„{value}“ ist keine Webadresse. Schreiben Sie die vollständige Adresse"
        " mit https://, z. B. https://www.example.com/."
    )
