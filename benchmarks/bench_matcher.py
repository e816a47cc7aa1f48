"""Benchmark the matcher on the shipped FAQ and on synthetic knowledge bases.

Usage: python benchmarks/bench_matcher.py [--sizes 1000 10000] [--queries 2000]

Prints build time, build peak memory and match latency beside a rapidfuzz extractOne
baseline on the same queries, the `faqbot ask` start-up time, and the targets.
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
from rapidfuzz import fuzz, process, utils

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from bot.knowledge import Entry, KnowledgeBase, load_knowledge_base  # noqa: E402
from bot.matcher import Matcher  # noqa: E402

SEED = 20240601
RAPIDFUZZ_LIMIT = 200  # queries for rapidfuzz when the KB has more than 2,000 entries


def _words(block: str) -> list[str]:
    """Unique whitespace-separated words of a block, in order."""
    return list(dict.fromkeys(block.split()))


NOUNS = _words("""Website Webseite Domain Hosting Server Zertifikat Datenbank Newsletter Kampagne
Anzeige Zielgruppe Kunde Kundin Umsatz Rechnung Vertrag Angebot Preis Paket Tarif Konto Passwort
Login Zugang Backup Sicherheit Firewall Browser Suchmaschine Ranking Keyword Inhalt Beitrag
Artikel Blog Video Bild Grafik Logo Marke Slogan Strategie Budget Bericht Analyse Statistik
Besucher Reichweite Klick Conversion Shop Warenkorb Bestellung Lieferung Versand Zahlung
Gutschein Rabatt Bewertung Rezension Kommentar Profil Seite Gruppe Kanal Plattform Netzwerk
Partner Agentur Team Mitarbeiter Projekt Termin Frist Kalender Vorlage Formular Impressum
Datenschutz Cookie Tracking Pixel Tag Link Weiterleitung Fehler Meldung Ladezeit Leistung
Speicher Postfach Adresse Weiterleitung Umzug Kündigung Verlängerung Rechenzentrum Schnittstelle
Plugin Theme Design Layout Menü Navigation Suche Filter Kategorie Produkt Dienstleistung Beratung
Schulung Support Ticket Anfrage Antwort Chat Telefon Termin Umfrage Feedback Reputation Krise
Shitstorm Influencer Follower Story Reel Hashtag Algorithmus Strategiepapier Jahresplan Quartal
Monat Woche Zeitraum Ziel Kennzahl Erfolg Wachstum Markt Wettbewerb Konkurrenz Branche Region
Stadt Filiale Standort Karte Eintrag Verzeichnis Anbieter Lizenz Software Update Version Sprache
Übersetzung Text Überschrift Beschreibung Vorschau Mobilgerät Smartphone Tablet Desktop App
Benachrichtigung Abonnement Registrierung Anmeldung Freigabe Rolle Benutzer Berechtigung
Einstellung Option Funktion Modul Integration Export Import Datei Ordner Dokument Tabelle
Diagramm Dashboard Protokoll Verlauf Archiv Vorgang Prozess Auftrag Kosten Gebühr Steuer Quittung
Mahnung Lastschrift Überweisung Kreditkarte Guthaben Subdomain Nameserver Eintragung Mailserver
Spamfilter Virenschutz Angriff Schwachstelle Patch Landingpage Startseite Unterseite Sitemap
Indexierung Crawler Backlink Snippet Metadaten Titel Bannerwerbung Reichweitenplanung Zielmarkt
Persona Botschaft Tonalität Redaktionsplan Leitfaden Kundenservice Hotline Rückruf Wartezeit
Beschwerde Erstattung Umtausch Garantie Gewährleistung Messenger Livestream Podcast Webinar
Veranstaltung Messe Flyer Broschüre Plakat Visitenkarte Firmenprofil Stellenanzeige Bewerbung
Arbeitgebermarke Onlineshop Zahlungsart Warenwirtschaft""")

VERBS = _words("""verbessern optimieren einrichten ändern löschen anlegen erstellen prüfen testen
messen auswerten steigern senken planen buchen kündigen verlängern übertragen sichern
wiederherstellen veröffentlichen teilen bewerben verknüpfen verbinden trennen aktivieren
deaktivieren freischalten sperren entsperren aktualisieren installieren entfernen hochladen
herunterladen exportieren importieren filtern sortieren suchen finden melden beantworten
bearbeiten übersetzen gestalten anpassen verwalten überwachen beschleunigen reduzieren erweitern
verschieben kopieren umstellen bezahlen abrechnen bestellen liefern versenden empfangen lesen
schreiben anzeigen ausblenden einbinden verschlüsseln signieren bestätigen ablehnen freigeben
zuweisen starten beenden beauftragen erhöhen vergleichen bewerten kommentieren moderieren posten
ausrichten""")

ADJECTIVES = _words("""schnell langsam sicher günstig teuer neu alt mobil lokal regional national
international digital automatisch manuell kostenlos kostenpflichtig monatlich jährlich täglich
wöchentlich öffentlich privat geschäftlich persönlich einfach komplex kurz lang gut schlecht
sichtbar unsichtbar aktiv inaktiv gültig ungültig verschlüsselt offen geschlossen zuverlässig
flexibel individuell professionell modern klassisch responsiv barrierefrei nachhaltig effizient
relevant aktuell veraltet beliebt erfolgreich messbar transparent verständlich technisch
rechtlich kreativ organisch bezahlt viral zentral dezentral dauerhaft befristet zielgerichtet
lokalisiert mehrsprachig personalisiert datenschutzkonform suchmaschinenfreundlich""")

QUESTION_TEMPLATES = (
    "Wie kann ich {x} für {y} {v}?",
    "Wie {v} ich {x} bei {y}?",
    "Kann man {x} auch {a} {v}?",
    "Was kostet {a} {x} für {y}?",
    "Warum ist {x} bei {y} so {a}?",
    "Wo finde ich {x} für {y}?",
    "Wie lange dauert es, {x} zu {v}?",
    "Welche Vorteile hat {a} {x} für {y}?",
    "Ist {x} für {y} {a}?",
    "Was muss ich beachten, um {x} zu {v}?",
)
OUT_OF_SCOPE = (
    "Wie wird das Wetter morgen in {c}?",
    "Wer hat gestern das Fußballspiel in {c} gewonnen?",
    "Kannst du mir ein Rezept für {f} empfehlen?",
    "Wann fährt der nächste Zug nach {c}?",
    "Was ist die Hauptstadt von {c}?",
    "Wie koche ich {f} am besten?",
    "Erzähl mir einen Witz über {f}.",
    "Wie alt ist der Dom in {c}?",
)
CITIES = _words("Hamburg Berlin München Köln Bremen Leipzig Dresden Kiel Rostock Bonn Essen Ulm")
FOODS = _words("Spargel Kartoffelsalat Apfelstrudel Rouladen Brezeln Gulasch Linsensuppe Eintopf")


@dataclass(frozen=True)
class Row:
    """Measured figures for one knowledge base."""

    name: str
    entries: int
    build_s: float
    peak_mib: float
    queries: int
    match_ms: tuple[float, float]
    fuzz_ms: tuple[float, float]
    fuzz_queries: int


def phrase(rng: random.Random, nouns: list[str]) -> str:
    """One question built from a random template."""
    template = rng.choice(QUESTION_TEMPLATES)
    return template.format(
        x=rng.choice(nouns), y=rng.choice(nouns), v=rng.choice(VERBS), a=rng.choice(ADJECTIVES)
    )


def synthetic_kb(size: int, seed: int = SEED) -> KnowledgeBase:
    """A deterministic KB of ``size`` entries; 300 two-noun compounds extend the nouns."""
    rng = random.Random(seed)
    nouns = NOUNS + [rng.choice(NOUNS) + rng.choice(NOUNS).lower() for _ in range(300)]
    entries = []
    for number in range(1, size + 1):
        topic = [rng.choice(nouns) for _ in range(4)]
        answer = " ".join(
            f"{rng.choice(topic)} lässt sich {rng.choice(ADJECTIVES)} {rng.choice(VERBS)}."
            for _ in range(3)
        )
        alternatives = tuple(phrase(rng, [*topic, rng.choice(nouns)]) for _ in range(6))
        keywords = tuple(dict.fromkeys([*topic, *rng.sample(nouns, 8)]))[:8]
        entries.append(
            Entry(
                id=f"e-{number:05d}",
                category=f"Kategorie {number % 12 + 1}",
                question=phrase(rng, topic),
                answer=answer,
                alternatives=alternatives,
                keywords=keywords,
            )
        )
    return KnowledgeBase(tuple(entries))


def mutate(rng: random.Random, text: str) -> str:
    """A realistic variation of a stored phrasing."""
    words = text.split()
    kind = rng.randrange(5)
    if kind == 0 and len(words) > 3:
        del words[rng.randrange(len(words))]
    elif kind == 1 and len(words) > 2:
        i, j = rng.sample(range(len(words)), 2)
        words[i], words[j] = words[j], words[i]
    elif kind == 2:
        i = max(range(len(words)), key=lambda k: (len(words[k]), rng.random()))
        word, pos = words[i], rng.randrange(1, max(2, len(words[i]) - 1))
        swapped = word[: pos - 1] + word[pos] + word[pos - 1] + word[pos + 1 :]
        words[i] = swapped if rng.random() < 0.5 and len(word) > 3 else word[:pos] + word[pos + 1 :]
    elif kind == 3:
        return text.lower()
    else:
        return "Hallo, " + text
    return " ".join(words)


def make_queries(kb: KnowledgeBase, count: int, seed: int = SEED) -> list[str]:
    """``count`` unique queries: ~80 % mutated phrasings, ~20 % out of scope."""
    rng = random.Random(seed)
    phrasings = [text for entry in kb for text in entry.phrasings]
    seen: dict[str, None] = {}
    for _ in range(count * 50):
        if len(seen) >= count:
            break
        if rng.random() < 0.2:
            query = rng.choice(OUT_OF_SCOPE).format(c=rng.choice(CITIES), f=rng.choice(FOODS))
            query = mutate(rng, query) if rng.random() < 0.7 else query
        else:
            query = mutate(rng, rng.choice(phrasings))
        seen.setdefault(query, None)
    return list(seen)


def latency(func: Callable[[str], object], queries: list[str]) -> tuple[float, float]:
    """Median and p99 in milliseconds of ``func(query)`` over the queries."""
    times = []
    for query in queries:
        start = time.perf_counter()
        func(query)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), float(np.percentile(times, 99))


def measure(name: str, kb: KnowledgeBase, n_queries: int) -> Row:
    """Build time, build peak memory and latencies for one knowledge base."""
    start = time.perf_counter()
    matcher = Matcher(kb)
    build_s = time.perf_counter() - start
    tracemalloc.start()
    Matcher(kb)
    peak_mib = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    queries = make_queries(kb, n_queries)
    matcher.match("Aufwärmen vor der Messung")
    match_ms = latency(matcher.match, queries)
    choices = [text for entry in kb for text in entry.phrasings]
    fuzz_queries = queries if len(kb) <= 2000 else queries[:RAPIDFUZZ_LIMIT]
    extract = partial(
        process.extractOne, choices=choices, scorer=fuzz.WRatio, processor=utils.default_process
    )
    fuzz_ms = latency(extract, fuzz_queries)
    return Row(name, len(kb), build_s, peak_mib, len(queries), match_ms, fuzz_ms, len(fuzz_queries))


def startup(runs: int = 5) -> tuple[float | None, str]:
    """Median wall time of ``python -m bot ask``; (None, last stderr line) on failure."""
    command = [sys.executable, "-m", "bot", "ask", "--json", "Was ist DNSSEC?"]
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True)
        times.append(time.perf_counter() - start)
        if done.returncode != 0:
            lines = done.stderr.strip().splitlines() or [f"exit code {done.returncode}"]
            return None, lines[-1]
    return statistics.median(times), ""


def print_rows(rows: list[Row]) -> None:
    """The per-knowledge-base table."""
    print(
        f"{'knowledge base':<16}{'entries':>8}{'build s':>9}{'peak MiB':>10}"
        f"{'queries':>9}{'match med':>11}{'match p99':>11}{'rf med':>10}{'rf p99':>10}{'rf n':>6}"
    )
    for row in rows:
        print(
            f"{row.name:<16}{row.entries:>8}{row.build_s:>9.3f}{row.peak_mib:>10.1f}"
            f"{row.queries:>9}{row.match_ms[0]:>11.3f}{row.match_ms[1]:>11.3f}"
            f"{row.fuzz_ms[0]:>10.2f}{row.fuzz_ms[1]:>10.2f}{row.fuzz_queries:>6}"
        )
    print("latencies in ms; rf = rapidfuzz extractOne(WRatio) over all questions + alternatives")
    if any(row.fuzz_queries < row.queries for row in rows):
        print(f"rapidfuzz limited to the first {RAPIDFUZZ_LIMIT} queries above 2,000 entries")


def print_targets(rows: list[Row], start_s: float | None, error: str) -> None:
    """Targets beside measured values with ok/MISSED."""
    print(f"\n{'target':<41}{'measured':<13}result")
    shipped = next(row for row in rows if row.name == "shipped")
    big = next((row for row in rows if row.entries == 10000), None)
    checks: list[tuple[str, float | None, float, str]] = [
        ("median ≤ 1 ms (shipped KB)", shipped.match_ms[0], 1.0, "ms"),
        ("median ≤ 5 ms (10,000 entries)", big.match_ms[0] if big else None, 5.0, "ms"),
        ("build ≤ 3 s (10,000 entries)", big.build_s if big else None, 3.0, "s"),
        ("faqbot ask start-up ≤ 1 s (median of 5)", start_s, 1.0, "s"),
    ]
    for label, value, limit, unit in checks:
        shown = "n/a" if value is None else f"{value:.3f} {unit}"
        verdict = "n/a" if value is None else ("ok" if value <= limit else "MISSED")
        print(f"{label:<41}{shown:<13}{verdict}")
    if error:
        print(f"faqbot ask failed: {error}")


def main() -> None:
    """Parse arguments, measure everything, print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[1000, 10000])
    parser.add_argument("--queries", type=int, default=2000)
    args = parser.parse_args()
    rows = [measure("shipped", load_knowledge_base(REPO_ROOT / "faq"), args.queries)]
    for size in args.sizes:
        rows.append(measure(f"synthetic-{size}", synthetic_kb(size), args.queries))
    print_rows(rows)
    print_targets(rows, *startup())


if __name__ == "__main__":
    main()
