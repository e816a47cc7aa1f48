"""Reports and suggestions over real SQLite stores written by bot.store.Store."""

from __future__ import annotations

import random
import sqlite3
from collections import Counter
from contextlib import closing
from datetime import timedelta
from pathlib import Path

import pytest
import yaml

from bot.grouping import group_questions, normalise
from bot.knowledge import ID_PATTERN, KnowledgeBase
from bot.report_queries import build_report
from bot.store import ChoiceEvent, Event, FeedbackEvent, reader
from bot.suggestions import DRAFT_ANSWER, as_question, suggest_snippets, unique_slug, yaml_string
from tests.conftest import NOW, ago, question, write

# A realistic week of questions the FAQ does not cover: (topic, text, times asked).
# Chat style: greetings, lower case, no umlauts, typos, keywords only, follow-ups.
SAMPLE: list[tuple[str, str, int]] = [
    ("preise", "Was kostet eine neue Website?", 5),
    ("preise", "was kostet eine neue website", 3),
    ("preise", "Was kostet bei euch eine neue Website?", 2),
    ("preise", "Hallo, was kostet so eine Webseite bei euch?", 1),
    ("preise", "wie viel kostet eine website", 2),
    ("preise", "Wieviel kostet eine Homepage bei Ihnen?", 1),
    ("preise", "Preise für Website erstellen?", 1),
    ("preise", "Was kostet eine Webseite mit 5 Unterseiten", 1),
    ("preise", "kostet eine neue webseite viel?", 1),
    ("preise", "Preis Website", 1),
    ("preise", "Habt ihr eine Preisliste für Websites?", 1),
    ("preise", "was kostet ne websiet", 1),
    ("preise", "Was kostet das?", 4),
    ("oeffnungszeiten", "Wie sind eure Öffnungszeiten?", 4),
    ("oeffnungszeiten", "Wann habt ihr geöffnet?", 3),
    ("oeffnungszeiten", "öffnungszeiten", 2),
    ("oeffnungszeiten", "Oeffnungszeiten am Samstag?", 1),
    ("oeffnungszeiten", "Seid ihr am Samstag geöffnet?", 1),
    ("oeffnungszeiten", "Habt ihr samstags offen?", 1),
    ("oeffnungszeiten", "bis wann seid ihr heute erreichbar", 1),
    ("oeffnungszeiten", "Wann ist euer Büro besetzt?", 1),
    ("oeffnungszeiten", "Öffnungszeiten Büro", 1),
    ("oeffnungszeiten", "Hallo! Wie sind die Öffnungszeiten über Weihnachten?", 1),
    ("oeffnungszeiten", "wie sind die öfnungszeiten", 1),
    ("seo", "Wie komme ich bei Google auf Seite 1?", 3),
    ("seo", "Bietet ihr SEO an?", 2),
    ("seo", "seo angebot", 1),
    ("seo", "Macht ihr Suchmaschinenoptimierung?", 1),
    ("seo", "Meine Website wird bei Google nicht gefunden", 1),
    ("seo", "warum findet man meine seite nicht bei google", 1),
    ("seo", "google ranking verbessern", 2),
    ("seo", "Wie verbessere ich mein Google-Ranking?", 1),
    ("seo", "suchmaschinenoptimierung was bringt das", 1),
    ("seo", "Wie komme ich bei google nach oben?", 1),
    ("seo", "Was kostet SEO?", 1),
    ("instagram", "Wie bekomme ich mehr Follower auf Instagram?", 4),
    ("instagram", "mehr follower instagram", 1),
    ("instagram", "instagram follower bekommen", 1),
    ("instagram", "Betreut ihr auch Instagram-Accounts?", 1),
    ("instagram", "Könnt ihr unseren Instagram Account betreuen?", 1),
    ("instagram", "Lohnen sich Instagram Reels für Firmen?", 1),
    ("instagram", "Wie oft sollte ich auf Insta posten?", 1),
    ("instagram", "instagramm mehr folower", 1),
    ("instagram", "Instagram Werbung schalten wie geht das", 1),
    ("newsletter", "Newsletter DSGVO-konform verschicken?", 3),
    ("newsletter", "newsletter verschicken dsgvo", 1),
    ("newsletter", "Wie verschicke ich einen Newsletter?", 2),
    ("newsletter", "Brauche ich ein Double-Opt-in für meinen Newsletter?", 1),
    ("newsletter", "newsletter tool empfehlung", 1),
    ("newsletter", "Welches Newsletter-Tool empfehlt ihr?", 1),
    ("newsletter", "Ist Mailchimp DSGVO konform?", 1),
    ("newsletter", "Newsleter erstellen", 1),
    ("newsletter", "Wie baue ich eine E-Mail-Liste auf?", 1),
    ("newsletter", "Macht ihr auch Newsletter für Kunden?", 1),
    ("hosting", "Bietet ihr Hosting an?", 3),
    ("hosting", "Wo sollte ich meine Website hosten?", 2),
    ("hosting", "Hallo zusammen, habt ihr auch Webhosting?", 1),
    ("hosting", "Webhosting Empfehlung", 1),
    ("hosting", "Welches Webhosting empfehlt ihr?", 1),
    ("hosting", "Wie ziehe ich meine Website zu einem neuen Hoster um?", 1),
    ("hosting", "hosting umziehen", 1),
    ("hosting", "Mein Server ist ständig down, was tun?", 1),
    ("hosting", "Was kostet Hosting bei euch?", 1),
    ("hosting", "Wie viel Speicherplatz brauche ich beim Hosting?", 1),
    ("hosting", "hostig anbieter", 1),
    ("impressum", "Brauche ich ein Impressum?", 3),
    ("impressum", "Was muss ins Impressum?", 2),
    ("impressum", "impressum pflicht", 1),
    ("impressum", "Muss ich im Impressum meine Privatadresse angeben?", 1),
    ("impressum", "Erstellt ihr auch Datenschutzerklärungen?", 1),
    ("impressum", "Datenschutzerklärung für die Website", 1),
    ("impressum", "Brauche ich eine Datenschutzerklärung auf meiner Homepage?", 1),
    ("impressum", "Impresum vergessen abmahnung?", 1),
    ("impressum", "Wer haftet für das Impressum?", 1),
    ("shop", "Könnt ihr einen Onlineshop erstellen?", 3),
    ("shop", "Onlineshop erstellen lassen", 2),
    ("shop", "online shop mit woocommerce oder shopify?", 1),
    ("shop", "Was ist besser, Shopify oder WooCommerce?", 1),
    ("shop", "Wie verkaufe ich meine Produkte online?", 1),
    ("shop", "shop einrichten", 1),
    ("shop", "Wie lange dauert es, einen Online-Shop aufzubauen?", 1),
    ("shop", "Onlinshop programieren", 1),
    ("shop", "Zahlungsarten im Shop einbinden", 1),
    ("shop", "Was kostet ein Onlineshop?", 1),
]
SAMPLE_TEXTS = [text for _, text, times in SAMPLE for _ in range(times)]
SAMPLE_TOPICS = [topic for topic, _, times in SAMPLE for _ in range(times)]


# Totals, entries, feedback ---------------------------------------------------------------


def test_totals_and_rates_count_every_decision(tmp_path: Path) -> None:
    events = (
        [question() for _ in range(7)]
        + [question(decision="suggest", score=0.6) for _ in range(2)]
        + [question(decision="none", top_entry=None, score=0.1)]
    )
    with reader(write(tmp_path, events)) as connection:
        report = build_report(connection, now=NOW)
    assert (report.totals.questions, report.totals.answered) == (10, 7)
    assert (report.totals.suggested, report.totals.none) == (2, 1)
    assert report.rates.answered == pytest.approx(0.7)
    assert report.rates.suggested == pytest.approx(0.2)
    assert report.rates.none == pytest.approx(0.1)
    assert report.period.days == 30
    assert report.period.since == (NOW - timedelta(days=30)).isoformat(timespec="seconds")
    assert report.text().splitlines()[0] == (
        "Fragen (letzte 30 Tage): 10 · beantwortet 70 % · Vorschläge 20 % · keine Antwort 10 %"
    )


def test_hits_are_answers_plus_choices_and_feedback_is_per_entry(tmp_path: Path) -> None:
    events: list[Event] = [
        question("dnssec?", top_entry="dnssec"),
        question("was ist dnssec", top_entry="dnssec"),
        question("shitstorm", top_entry="shitstorm"),
        # A suggestion list: its top entry is no hit; the button pressed is.
        question("wordpress", "suggest", "wordpress-theme", 0.65, chat=5, reply=42),
        ChoiceEvent(user_id=1, chat_id=5, message_id=42, entry_id="dnssec"),
        ChoiceEvent(user_id=1, chat_id=5, message_id=42, entry_id=None),  # "Keine davon"
        FeedbackEvent(user_id=1, chat_id=1, message_id=None, entry_id="dnssec", helpful=True),
        FeedbackEvent(user_id=2, chat_id=2, message_id=None, entry_id="dnssec", helpful=True),
        FeedbackEvent(user_id=3, chat_id=3, message_id=None, entry_id="dnssec", helpful=False),
        FeedbackEvent(user_id=3, chat_id=3, message_id=None, entry_id="seo", helpful=False),
    ]
    with reader(write(tmp_path, events)) as connection:
        report = build_report(connection, now=NOW)
    rows = {row.entry_id: row for row in report.entries}
    assert [row.entry_id for row in report.entries] == ["dnssec", "shitstorm", "seo"]
    assert (rows["dnssec"].hits, rows["dnssec"].helpful, rows["dnssec"].not_helpful) == (3, 2, 1)
    assert (rows["shitstorm"].hits, rows["seo"].hits, rows["seo"].not_helpful) == (1, 0, 1)
    assert "wordpress-theme" not in rows
    assert "  3× dnssec · 👍 2 · 👎 1" in report.text()


def test_most_not_helpful_sorts_by_count_then_ratio(tmp_path: Path) -> None:
    votes = {"a": (1, 3), "b": (0, 3), "c": (5, 1), "d": (4, 0)}  # entry: (👍, 👎)
    events: list[Event] = [
        FeedbackEvent(user_id=n, chat_id=n, message_id=None, entry_id=entry, helpful=good)
        for entry, (up, down) in votes.items()
        for n, good in enumerate([True] * up + [False] * down)
    ]
    with reader(write(tmp_path, events)) as connection:
        report = build_report(connection, now=NOW)
    assert [row.entry_id for row in report.most_not_helpful] == ["b", "a", "c"]
    assert report.most_not_helpful[0].not_helpful_ratio == 1.0
    text = report.text()
    assert "Meist „nicht hilfreich“:\n  b: 3× 👎 von 3 Bewertungen" in text


def test_days_limits_questions_feedback_and_choices(tmp_path: Path) -> None:
    old, recent = ago(days=40), ago(days=2)
    events: list[Event] = [
        question("alt", asked_at=old),
        question("alt", decision="none", top_entry=None, score=0.1, asked_at=old),
        question("neu", asked_at=recent),
        FeedbackEvent(1, 1, None, "dnssec", helpful=False, at=old),
        FeedbackEvent(1, 1, None, "dnssec", helpful=True, at=recent),
        ChoiceEvent(1, 1, None, "shitstorm", at=old),
    ]
    write(tmp_path, events)
    with reader(tmp_path) as connection:
        month = build_report(connection, days=30, now=NOW)
        quarter = build_report(connection, days=90, now=NOW)
        always = build_report(connection, days=None, now=NOW)
    assert (month.totals.questions, quarter.totals.questions, always.totals.questions) == (1, 3, 3)
    assert month.most_not_helpful == ()
    assert [row.entry_id for row in quarter.most_not_helpful] == ["dnssec"]
    assert {row.entry_id for row in month.entries} == {"dnssec"}
    assert {row.entry_id: row.hits for row in always.entries} == {"dnssec": 2, "shitstorm": 1}
    assert always.period == type(always.period)(None, None)
    assert always.text().startswith("Fragen (gesamt): 3 ·")
    with closing(sqlite3.connect(":memory:")) as memory, pytest.raises(ValueError):
        build_report(memory, days=0)


def test_unanswered_are_none_and_unsure_suggestions_with_text(tmp_path: Path) -> None:
    unanswered = "Was kostet eine neue Website?"
    events: list[Event] = [
        question(unanswered, "none", None, 0.2, suggestions=("corporate-blog",)),
        question(
            unanswered,
            "suggest",
            "wordpress-installieren",
            0.65,
            suggestions=("wordpress-installieren", "corporate-blog"),
        ),
        question("Wordpress Theme oder installieren?", "suggest", "wordpress-theme", 0.8),
        question("Was ist DNSSEC?", "answer", "dnssec", 0.95),
    ]
    write(tmp_path, events)
    write(tmp_path, [question("ohne Text gespeichert", "none", None, 0.1)], keep_texts=False)
    with reader(tmp_path) as connection:
        report = build_report(connection, now=NOW)
    assert len(report.unanswered_groups) == 1
    group = report.unanswered_groups[0]
    assert (group.count, group.text) == (2, "was kostet eine neue website")
    assert group.example == unanswered
    assert group.suggested == ("corporate-blog", "wordpress-installieren")
    assert "Häufige unbeantwortete Fragen:\n  2× was kostet eine neue website" in report.text()


# Grouping -----------------------------------------------------------------------------------


def test_grouping_keeps_topics_apart_on_a_realistic_sample(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert len(SAMPLE) >= 60 and len({topic for topic, _, _ in SAMPLE}) == 8
    groups = group_questions(SAMPLE_TEXTS)

    # No group mixes topics: prices stay apart from hosting, SEO and shops although
    # "Was kostet Hosting/SEO/ein Onlineshop?" share "kostet", and the stems "kost" and
    # "host" are one letter apart ("was kostet ne websiet" ~ "Website hosten").
    for group in groups:
        topics = {SAMPLE_TOPICS[i] for i in group.members}
        assert len(topics) == 1, (group.text, topics)

    def biggest(topic: str) -> list[str]:
        best = max(groups, key=lambda g: sum(SAMPLE_TOPICS[i] == topic for i in g.members))
        return [SAMPLE_TEXTS[i] for i in best.members]

    prices = biggest("preise")
    assert groups[0].text == "was kostet eine neue website"
    assert groups[0].count == len(prices) >= 14
    for text in [
        "Was kostet bei euch eine neue Website?",
        "was kostet ne websiet",
        "kostet eine neue webseite viel?",
        "wie viel kostet eine website",
    ]:
        assert text in prices
    assert not any("host" in text.lower() for text in prices)

    def group_of(text: str) -> list[str]:
        found = next(g for g in groups if SAMPLE_TEXTS.index(text) in g.members)
        return [SAMPLE_TEXTS[i] for i in found.members]

    assert "Welches Webhosting empfehlt ihr?" in group_of("Webhosting Empfehlung")
    assert "wie sind die öfnungszeiten" in group_of("Wie sind eure Öffnungszeiten?")  # typo
    assert "instagramm mehr folower" in group_of("mehr follower instagram")  # two typos
    assert "newsletter verschicken dsgvo" in group_of("Newsletter DSGVO-konform verschicken?")
    assert "Onlineshop erstellen lassen" in group_of("Könnt ihr einen Onlineshop erstellen?")
    assert group_of("Was kostet Hosting bei euch?") == ["Was kostet Hosting bei euch?"]
    # Every topic has a group of at least two questions, and the counts add up.
    for topic in {topic for topic, _, _ in SAMPLE}:
        assert len(biggest(topic)) >= 2, topic
    assert sum(group.count for group in groups) == len(SAMPLE_TEXTS)
    assert capsys.readouterr() == ("", "")


def test_grouping_representative_and_example() -> None:
    groups = group_questions(SAMPLE_TEXTS)
    first = groups[0]
    assert first.text == "was kostet eine neue website"  # 5 + 3 spellings of it
    assert first.example == first.variants[0] == "Was kostet eine neue Website?"
    assert first.variants[1] == "Was kostet bei euch eine neue Website?"
    keywords = next(group for group in groups if group.text == "google ranking verbessern")
    assert keywords.example == "Wie verbessere ich mein Google-Ranking?"  # asked as a question
    assert len(first.variants) == len({normalise(v) for v in first.variants})
    single = group_questions(["Wie sind eure Öffnungszeiten?"] * 3)
    assert single[0].example == "Wie sind eure Öffnungszeiten?"
    assert single[0].text == "wie sind eure öffnungszeiten"


def test_identical_normalised_texts_always_join_and_empty_ones_are_left_out() -> None:
    texts = ["Was kostet eine neue Website?", "was  kostet eine neue website", "Hallo?", "???"]
    groups = group_questions(texts)
    assert len(groups) == 1
    assert groups[0].members == (0, 1)
    assert group_questions([]) == []
    with pytest.raises(ValueError):
        group_questions(texts, threshold=0)


def test_grouping_ten_thousand_questions_finishes() -> None:
    rng = random.Random(7)
    greetings = ["", "Hallo, ", "Moin! ", "Guten Tag, ", "hi "]
    extras = ["", "", " Berlin", " für meinen Verein", " schnell", " günstig", " 2024"]

    def typo(text: str) -> str:
        at = rng.randrange(1, len(text) - 1)
        return text[:at] + text[at + 1 :] if rng.random() < 0.5 else text

    texts = [
        rng.choice(greetings) + typo(rng.choice(SAMPLE_TEXTS)).rstrip("?") + rng.choice(extras)
        for _ in range(10_000)
    ]
    groups = group_questions(texts)
    assert sum(group.count for group in groups) <= 10_000
    assert groups[0].count > 100


# Report shapes ------------------------------------------------------------------------------


def test_report_text_short_fits_a_telegram_message(tmp_path: Path) -> None:
    events: list[Event] = [question(f"Frage {n}", top_entry=f"eintrag-{n % 12}") for n in range(60)]
    events += [question(text, "none", None, 0.2) for text in SAMPLE_TEXTS]
    events += [FeedbackEvent(n, n, None, f"eintrag-{n % 5}", helpful=n % 3 == 0) for n in range(30)]
    with reader(write(tmp_path, events)) as connection:
        report = build_report(connection, now=NOW)
    short = report.text(short=True)
    assert len(short.splitlines()) <= 15
    assert len(short) < 4096
    assert "<" not in short  # plain text: no HTML
    full = report.text()
    assert "\n  15× was kostet eine neue website\n" in full
    assert (
        "  3× google ranking verbessern (z. B. „Wie verbessere ich mein Google-Ranking?“)" in full
    )
    assert len(report.entries) == 10 and len(report.unanswered_groups) == 10


def test_report_json_has_stable_keys(tmp_path: Path) -> None:
    write(tmp_path, [question(), question("Öffnungszeiten?", "none", None, 0.1)])
    with reader(tmp_path) as connection:
        data = build_report(connection, days=7, now=NOW).as_json()
    assert list(data) == [
        "period",
        "totals",
        "rates",
        "entries",
        "most_not_helpful",
        "unanswered",
        "handoffs",
    ]
    assert data["period"]["days"] == 7
    assert data["totals"] == {
        "questions": 2,
        "answered": 1,
        "suggested": 0,
        "none": 1,
        "smalltalk": 0,
    }
    assert data["handoffs"] == {"open": 0, "answered": 0, "expired": 0}
    assert data["rates"] == {"answered": 0.5, "suggested": 0.0, "none": 0.5}
    assert data["entries"] == [{"entry_id": "dnssec", "hits": 1, "helpful": 0, "not_helpful": 0}]
    assert data["unanswered"][0]["text"] == "öffnungszeiten"


def test_empty_store_reports_no_questions(tmp_path: Path) -> None:
    with reader(write(tmp_path, [])) as connection:
        report = build_report(connection, now=NOW)
    assert report.totals.questions == 0 and report.rates.answered == 0.0
    assert report.text() == "Fragen (letzte 30 Tage): 0\nNoch keine Fragen in diesem Zeitraum."


# Suggestions ---------------------------------------------------------------------------------


def sample_events() -> list[Event]:
    events: list[Event] = [
        question(text, "none", None, 0.2, asked_at=ago(days=3, minutes=n))
        for n, text in enumerate(SAMPLE_TEXTS)
    ]
    # Customers who picked an entry from "Meinten Sie …?": their words are new alternatives.
    picked = [
        ("dnssec sicherheit domain", "dnssec"),
        ("DNSSEC Sicherheit Domain ", "dnssec"),
        ("Brauche ich  DNSSEC für meine Domain", "dnssec"),  # already an alternative
        ("dnssec was ist das", "dnssec"),  # and that one too
        ("wordpress aufsetzen", "wordpress-installieren"),
        ("Spam im Blog", "kommentar-spam"),
    ]
    for n, (text, entry_id) in enumerate(picked):
        at = ago(days=3, minutes=n)
        events.append(question(text, "suggest", entry_id, 0.75, chat=100 + n, reply=7, asked_at=at))
        events.append(ChoiceEvent(9, 100 + n, 7, entry_id, at=at))
    # A choice of "Keine davon" and an answered question teach nothing.
    events.append(question("wordpress", "suggest", "wordpress-theme", 0.75, chat=300, reply=8))
    events.append(ChoiceEvent(user_id=9, chat_id=300, message_id=8, entry_id=None))
    events.append(question("ssl", "answer", "ssl-letsencrypt-301", 0.95, chat=301, reply=9))
    events.append(ChoiceEvent(user_id=9, chat_id=301, message_id=9, entry_id="dnssec"))
    return events


def test_suggest_drafts_entries_and_alternatives_as_valid_yaml(
    tmp_path: Path, shipped_kb: KnowledgeBase
) -> None:
    write(tmp_path, sample_events())
    with reader(tmp_path) as connection:
        text = suggest_snippets(connection, shipped_kb, days=30)
    data = yaml.safe_load(text)
    assert text.startswith("# ")
    assert "Nichts davon wurde übernommen" in text.split("\n\n")[0]

    drafts = data["entries"]
    ids = [draft["id"] for draft in drafts]
    assert len(ids) == len(set(ids))
    assert not set(ids) & {entry.id for entry in shipped_kb}
    assert all(ID_PATTERN.match(entry_id) and len(entry_id) <= 60 for entry_id in ids)
    first = drafts[0]
    assert first["id"] == "kostet-neue-website"
    assert first["question"] == "Was kostet eine neue Website?"
    assert first["alternatives"][:2] == [
        "Was kostet bei euch eine neue Website?",
        "wie viel kostet eine website",
    ]
    assert len(first["alternatives"]) <= 8
    assert first["keywords"] == [] and first["answer"] == DRAFT_ANSWER
    assert all(draft["draft"] is True for draft in drafts)  # never served until written
    for draft in drafts:
        assert draft["question"][0].isupper() and draft["question"].endswith("?")
        phrasings = [normalise(p) for p in [draft["question"], *draft["alternatives"]]]
        assert len(phrasings) == len(set(phrasings))
    date = (NOW - timedelta(days=3)).strftime("%d.%m.%Y")
    assert f"  # 15× gefragt, zuletzt am {date}\n  - id: kostet-neue-website\n" in text
    assert len(drafts) == sum(group.count >= 2 for group in group_questions(SAMPLE_TEXTS)) == 20

    alternatives = data["new_alternatives"]
    assert [text.casefold() for text in alternatives["dnssec"]["alternatives"]] == [
        "dnssec sicherheit domain"
    ]
    assert alternatives["wordpress-installieren"]["alternatives"] == ["wordpress aufsetzen"]
    assert alternatives["kommentar-spam"]["alternatives"] == ["Spam im Blog"]
    assert "wordpress-theme" not in alternatives
    source = shipped_kb.get("dnssec").source  # type: ignore[union-attr]
    assert f"# Eintrag dnssec ({source}): neue alternatives" in text
    assert '"  # 2× gewählt\n' in text


def test_suggest_min_group_and_nothing_to_suggest(
    tmp_path: Path, shipped_kb: KnowledgeBase
) -> None:
    write(tmp_path, sample_events())
    with reader(tmp_path) as connection:
        few = yaml.safe_load(suggest_snippets(connection, shipped_kb, min_group=5))
        old = suggest_snippets(connection, shipped_kb, days=1)
    counts = Counter(group.count >= 5 for group in group_questions(SAMPLE_TEXTS))
    assert len(few["entries"]) == counts[True]
    data = yaml.safe_load(old)  # the sample was asked 3 days ago
    assert data == {"entries": [], "new_alternatives": {}}
    assert "Keine Frage wurde mindestens 2× ohne Antwort gestellt." in old


def test_slugs_are_valid_unique_and_short() -> None:
    used = {"kostet-neue-website"}
    assert unique_slug("was kostet eine neue website", used) == "kostet-neue-website-2"
    assert unique_slug("Öffnungszeiten über Weihnachten", set()) == "oeffnungszeiten-weihnachten"
    assert unique_slug("hallo???", set()) == "frage"
    long = unique_slug(" ".join(["suchmaschinenoptimierung"] * 10), set())
    assert len(long) <= 60 and ID_PATTERN.match(long)
    assert unique_slug(long.replace("-", " "), {long}).endswith("-2")
    assert len(unique_slug(long.replace("-", " "), {long})) <= 60


def test_questions_and_yaml_strings_survive_any_text() -> None:
    assert as_question("  was kostet das ") == "Was kostet das?"
    assert as_question("Öffnungszeiten!!") == "Öffnungszeiten?"
    for text in [
        'Sag "Hallo": # kein Kommentar',
        "a\\b",
        "tab\there",
        "\ufeffbom\uffff",
        "-x: [y]",
    ]:
        assert yaml.safe_load(f"key: {yaml_string(text)}\n") == {"key": text}
