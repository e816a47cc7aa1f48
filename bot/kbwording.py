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
