"""bot.matcher: what the matcher answers, suggests or declines on real questions."""

# Customers type typographic dashes, quotes and accents; the test data keeps them.
# ruff: noqa: RUF001

from __future__ import annotations

import random
import string
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import bot
from bot.knowledge import Entry, KnowledgeBase, load_knowledge_base
from bot.matcher import MAX_SUGGESTIONS, Matcher, MatchResult
from bot.text import stem

FAQ_DIR = Path(__file__).parent.parent / "faq"


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return load_knowledge_base(FAQ_DIR)


@pytest.fixture(scope="module")
def matcher(kb: KnowledgeBase) -> Matcher:
    return Matcher(kb)


def assert_consistent(result: MatchResult) -> None:
    """The invariants every result holds, whatever the question."""
    candidates = [*result.ranking, *result.suggestions]
    if result.match is not None:
        candidates.append(result.match)
    for candidate in candidates:
        assert 0.0 <= candidate.score <= 1.0
    assert 0.0 <= result.confidence <= 1.0
    assert (result.match is not None) == (result.decision == "answer")
    if result.match is not None:
        assert result.match.score == result.confidence
        assert result.match.entry.id not in {c.entry.id for c in result.suggestions}
    assert len(result.suggestions) <= MAX_SUGGESTIONS
    scores = [c.score for c in result.suggestions]
    assert scores == sorted(scores, reverse=True)
    assert len({c.entry.id for c in result.suggestions}) == len(result.suggestions)
    assert all(score <= result.confidence for score in scores)
    assert result.confidence == (max(c.score for c in result.ranking) if result.ranking else 0.0)


# --- answered questions ----------------------------------------------------------------

ANSWERED = [
    # case
    ("DNSSEC", "dnssec"),
    ("MEHRSPRACHIGE WEBSITE AUFWAND", "mehrsprachige-websites"),
    ("SHITSTORM VORBEREITEN", "shitstorm"),
    # umlauts written as ae/oe/ue/ss, or with ß
    ("Mehrsprachige Websites: wie gross ist der Aufwand", "mehrsprachige-websites"),
    ("mehrsprachige webseite wie groß ist der aufwand", "mehrsprachige-websites"),
    ("Wie aufwaendig ist eine mehrsprachige Website?", "mehrsprachige-websites"),
    ("Wie schuetze ich meinen guten Ruf im Netz?", "guter-ruf-online"),
    # one compound, three spellings
    ("Wie kann ich Kommentar-Spam verhindern?", "kommentar-spam"),
    ("Spamkommentare verhindern", "kommentar-spam"),
    ("Wie kann ich Kommentar Spam verhindern?", "kommentar-spam"),
    # closed compounds the knowledge base never writes
    ("Blogkommentarspam verhindern", "kommentar-spam"),
    ("Googlemaps Eintrag fehlt", "google-maps"),
    ("Hackerspam bei Google entfernen", "google-spam-gehackt"),
    # inflection
    ("Mein SSL-Zertifikat wird trotz Umleitung nicht erneuert", "ssl-letsencrypt-301"),
    ("Meine SSL-Zertifikate werden trotz Umleitung nicht erneuert", "ssl-letsencrypt-301"),
    ("Erneuerung des Zertifikats scheitert an der Weiterleitung", "ssl-letsencrypt-301"),
    ("Probleme beim Erneuern von Zertifikaten wegen 301-Umleitung", "ssl-letsencrypt-301"),
    # typos of one or two edits
    ("shitstrom vorbereiten", "shitstorm"),
    ("Wie bereite ich mich auf einen Shitsturm vor?", "shitstorm"),
    ("Facebok Ads optimiren", "facebook-ads"),
    ("Dnssec aktiviern", "dnssec"),
    ("Zertifkat erneuern trotz Umleitung", "ssl-letsencrypt-301"),
    ("Wordpres Theme auswählen", "wordpress-theme"),
    ("Googel Maps Eintrag", "google-maps"),
    # word order
    ("Theme für WordPress finden", "wordpress-theme"),
    ("Aufwand mehrsprachige Website", "mehrsprachige-websites"),
    ("Unternehmen bei Google Maps nicht gefunden – warum?", "google-maps"),
    ("DNSSEC dient wozu", "dnssec"),
    # greetings and filler
    ("Hallo, ich hab da mal ne Frage: was ist DNSSEC?", "dnssec"),
    ("Hallo, ich hab da mal ne Frage: wie vermeide ich Kommentar-Spam? Danke!", "kommentar-spam"),
    ("Moin! Meine Facebook Ads laufen schlecht, wie optimiere ich die? LG", "facebook-ads"),
    ("Hallo zusammen, kurze Frage: lohnt sich ein Firmenblog für uns? Danke!", "corporate-blog"),
    (
        "Guten Morgen, wir wurden gehackt und jetzt ist Spam bei Google. Was tun?",
        "google-spam-gehackt",
    ),
    # one-word questions
    ("dnssec", "dnssec"),
    ("shitstorm", "shitstorm"),
    # the other entries, in our own words
    ("Welche Gründe sprechen dafür, WordPress zu installieren?", "wordpress-installieren"),
    ("Wie nutzen Unternehmen Twitter?", "twitter-unternehmen"),
    ("Wie verteidige ich meinen Ruf im Internet?", "guter-ruf-online"),
    (
        "Gibt es ein Training, das uns auf eine Kritikwelle im Netz vorbereitet?",
        "online-krisen-training",
    ),
    ("Lohnt sich für uns eine eigene Stelle als Social Media Manager?", "social-media-manager"),
    ("Was frage ich einen Social-Media-Berater vor der Beauftragung?", "social-media-berater"),
    (
        "Unsere Mitarbeiter sind privat im Social Web aktiv – wie binden wir sie ein?",
        "mitarbeiter-social-web",
    ),
    (
        "Sind wir verpflichtet, als Unternehmen auf Social Media im Dialog mit Kunden zu sein?",
        "social-media-pflicht",
    ),
]


@pytest.mark.parametrize(("question", "expected"), ANSWERED)
def test_match_paraphrase_answered(matcher: Matcher, question: str, expected: str) -> None:
    result = matcher.match(question)
    assert result.decision == "answer", result
    assert result.match is not None
    assert result.match.entry.id == expected


def test_match_answered_rows_cover_every_entry(kb: KnowledgeBase) -> None:
    assert {expected for _, expected in ANSWERED} == {entry.id for entry in kb}


def test_match_answered_rows_are_not_copied_from_the_faq(kb: KnowledgeBase) -> None:
    phrasings = {p.casefold() for entry in kb for p in (*entry.phrasings, *entry.keywords)}
    copied = [question for question, _ in ANSWERED if question.casefold() in phrasings]
    assert copied == []


@pytest.mark.parametrize(
    "spellings",
    [
        ("Kommentar-Spam verhindern", "Kommentar Spam verhindern"),
        ("Wie groß ist der Aufwand?", "Wie gross ist der Aufwand?", "WIE GROSS IST DER AUFWAND?"),
        ("Was ist DNSSEC?", "was ist dnssec", "WAS IST DNSSEC"),
    ],
)
def test_match_equivalent_spellings_score_alike(
    matcher: Matcher, spellings: tuple[str, ...]
) -> None:
    rankings = {
        tuple((c.entry.id, c.score) for c in matcher.match(text).ranking) for text in spellings
    }
    assert len(rankings) == 1


# --- ambiguous and unrelated questions -------------------------------------------------


def test_match_wordpress_alone_suggests_both_entries(matcher: Matcher) -> None:
    result = matcher.match("wordpress")
    assert result.decision == "suggest"
    assert result.match is None
    assert {"wordpress-theme", "wordpress-installieren"} <= {c.entry.id for c in result.suggestions}


@pytest.mark.parametrize(
    "question",
    [
        "Was ist eine Photovoltaikanlage und wozu dient sie?",
        "Wie finde ich das richtige Fahrrad?",
        "Rezept für Apfelkuchen",
        "Wie beantrage ich einen neuen Reisepass?",
        "Wie kann ich meine Steuererklärung online abgeben?",
        "Wo finde ich den nächsten Zahnarzt?",
        "Wie wechsle ich meinen Stromanbieter?",
        "Was kostet ein Hund im Monat?",
        "Wie lange muss ich Nudeln kochen?",
        "Wie melde ich mein Auto um?",
        "Was ist eine Wärmepumpe und wie funktioniert sie?",
        "Wie finde ich die richtige Krankenversicherung?",
    ],
)
def test_match_out_of_scope_question_none(matcher: Matcher, question: str) -> None:
    result = matcher.match(question)
    assert result.decision == "none", result
    assert result.match is None


# --- bad input -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "question",
    [
        "",
        "   ",
        "\n\t\r",
        "🙂🙂",
        "👨\u200d👩\u200d👧",
        "???",
        "?!.,;:",
        "a " * 5000,
        "a" * 10_000,
        "\x00\x01\x02\x1b[31m",
        "\x00" * 100,
        "\u200b\u200e\ufeff",
        "\ud800",
        "<script>alert(1)</script>",
        "Как приготовить борщ?",
        "Что такое солнечная батарея и зачем она нужна?",
        "如何做苹果派？",
        "什么是太阳能电池板",
    ],
)
def test_match_bad_input_none(matcher: Matcher, question: str) -> None:
    result = matcher.match(question)
    assert result.decision == "none"
    assert_consistent(result)


@pytest.mark.parametrize(
    "question",
    [
        "**dnssec**",
        "<b>DNSSEC</b>",
        "what is dnssec",
        "dnssec " * 2000,
        "Что такое DNSSEC?",
        "  \t dnssec \x00 ",
    ],
)
def test_match_noisy_dnssec_answered(matcher: Matcher, question: str) -> None:
    result = matcher.match(question)
    assert result.decision == "answer"
    assert result.match is not None
    assert result.match.entry.id == "dnssec"


# --- invariants ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "question",
    [
        *(question for question, _ in ANSWERED),
        "wordpress",
        "Social Media",
        "Spam",
        "Google",
        "Wie finde ich das richtige Fahrrad?",
        "",
    ],
)
def test_match_result_consistent(matcher: Matcher, question: str) -> None:
    assert_consistent(matcher.match(question))


def test_match_suggest_offers_at_least_one_entry(matcher: Matcher) -> None:
    result = matcher.match("Social Media")
    assert result.decision in ("suggest", "answer")
    if result.decision == "suggest":
        assert result.suggestions


@settings(deadline=None, max_examples=200)
@given(st.text(max_size=300))
def test_match_any_text_consistent(matcher: Matcher, question: str) -> None:
    assert_consistent(matcher.match(question))


_GERMANISH = st.lists(
    st.sampled_from(
        [
            *("Hallo", "wie", "was", "ist", "danke", "bitte", "?", "!", ","),
            *("DNSSEC", "Kommentar-Spam", "Spamkommentare", "WordPress", "Theme"),
            *("Zertifikat", "Umleitung", "erneuern", "Shitstorm", "Google", "Maps"),
            *("Facebook", "Ads", "Social", "Media", "Berater", "Manager", "Ruf", "online"),
            *("Blog", "Fahrrad", "Apfelkuchen"),
        ]
    ),
    max_size=15,
).map(" ".join)


@settings(deadline=None, max_examples=200)
@given(_GERMANISH)
def test_match_word_salad_consistent(matcher: Matcher, question: str) -> None:
    assert_consistent(matcher.match(question))


# --- a different knowledge base ------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_matcher() -> Matcher:
    entries = (
        Entry(
            id="fahrrad-reparatur",
            category="Freizeit",
            question="Wie repariere ich einen platten Fahrradreifen?",
            alternatives=(
                "Mein Fahrrad hat einen Platten, was tun?",
                "Fahrradschlauch flicken",
                "Wie wechsle ich den Schlauch am Rad?",
            ),
            keywords=("Fahrrad", "Reifen", "Schlauch", "Flickzeug", "Panne"),
            answer="Schlauch ausbauen, Loch suchen, mit Flickzeug abdichten, wieder einbauen.",
        ),
        Entry(
            id="steuererklaerung",
            category="Finanzen",
            question="Bis wann muss ich meine Steuererklärung abgeben?",
            alternatives=(
                "Frist für die Einkommensteuererklärung",
                "Steuererklärung zu spät abgegeben – was passiert?",
                "Wie reiche ich die Steuererklärung über ELSTER ein?",
            ),
            keywords=("ELSTER", "Finanzamt", "Abgabefrist", "Einkommensteuer"),
            answer="Ohne Steuerberater in der Regel bis zum 31. Juli des Folgejahres.",
        ),
        Entry(
            id="urlaub",
            category="Arbeit",
            question="Wie viele Urlaubstage stehen mir zu?",
            alternatives=(
                "Wie viel Urlaub habe ich im Jahr?",
                "Resturlaub ins nächste Jahr mitnehmen",
                "Urlaubsanspruch bei Teilzeit",
            ),
            keywords=("Urlaubsanspruch", "Urlaubstage", "Resturlaub", "Bundesurlaubsgesetz"),
            answer="Gesetzlich mindestens 20 Tage bei einer Fünftagewoche.",
        ),
    )
    return Matcher(KnowledgeBase(entries))


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Reifen am Fahrrad ist platt – wie flicke ich den?", "fahrrad-reparatur"),
        ("Fahrradreifen flicken", "fahrrad-reparatur"),
        ("Wann ist die Abgabefrist für die Steuererklärung?", "steuererklaerung"),
        ("steuererklaerung frist", "steuererklaerung"),
        ("Hallo, wie viel Urlaub bekomme ich pro Jahr?", "urlaub"),
        ("Kann ich Resturlaub mitnehmen?", "urlaub"),
    ],
)
def test_match_tiny_kb_paraphrase_answered(
    tiny_matcher: Matcher, question: str, expected: str
) -> None:
    result = tiny_matcher.match(question)
    assert result.decision == "answer", result
    assert result.match is not None
    assert result.match.entry.id == expected


@pytest.mark.parametrize("question", ["Was ist DNSSEC?", "Wie finde ich ein WordPress Theme?"])
def test_match_tiny_kb_shipped_topic_none(tiny_matcher: Matcher, question: str) -> None:
    assert tiny_matcher.match(question).decision == "none"


def test_words_longer_than_any_german_word_stay_unknown(tiny_matcher: Matcher) -> None:
    compound = "fahrradschlauch"  # splits into two knowledge-base words
    assert {unit.how for unit in tiny_matcher.analyse(compound * 2).units} == {"compound part"}
    pasted = compound * 3  # 45 letters: a pasted token, not a word
    assert [unit.how for unit in tiny_matcher.analyse(pasted).units] == ["unknown"]
    result = tiny_matcher.match(f"{pasted} Wie flicke ich einen Fahrradschlauch?")
    assert result.match is not None and result.match.entry.id == "fahrrad-reparatur"


def keyword_matcher(*entries: tuple[str, str, tuple[str, ...]]) -> Matcher:
    """A matcher over entries given as (id, question, keywords)."""
    return Matcher(
        KnowledgeBase(
            tuple(
                Entry(id=id_, category="Test", question=q, keywords=k, answer="…")
                for id_, q, k in entries
            )
        )
    )


def test_one_letter_keyword_matches_and_other_letters_say_nothing() -> None:
    # Twitter is X now: staff list the letter as a keyword, and customers write it.
    matcher = keyword_matcher(
        ("x-firma", "Wie nutzen Unternehmen Twitter?", ("X", "Tweets")),
        ("instagram-firma", "Wie nutzen Unternehmen Instagram?", ("Reels", "Stories")),
    )
    assert [unit.word for unit in matcher.analyse("Lohnt sich X für uns?").units][-1] == "x"
    assert matcher.match("Lohnt sich X für uns?").ranking[0].entry.id == "x-firma"
    # A letter no keyword uses is no unknown word either: it would count against a match.
    with_letter = matcher.analyse("Instagram Reels, Plan C").units
    assert [unit.word for unit in with_letter] == ["instagram", "reels", "plan"]


def test_short_number_counts_where_a_keyword_holds_it_and_is_filler_elsewhere() -> None:
    # "Port 80", "PHP 8": staff name a topic by its number, and customers write it.
    matcher = keyword_matcher(
        ("php-7", "Was ändert sich mit PHP 7?", ("PHP 7",)),
        ("php-8", "Was ändert sich mit PHP 8?", ("PHP 8", "Port 80")),
    )
    for question, entry_id in (("php 8 umstellung", "php-8"), ("Umstieg auf PHP 7?", "php-7")):
        first, second = matcher.match(question).ranking
        assert first.entry.id == entry_id and first.score > second.score, question
    assert "80" in [unit.word for unit in matcher.analyse("Port 80 freigeben").units]
    # A number no keyword holds is filler, not an unknown word counting against a match.
    assert [unit.word for unit in matcher.analyse("2 Fragen zu PHP").units] == ["php"]


@pytest.mark.parametrize(
    ("question", "asks"),
    [("wordpress", False), ("Warum WordPress?", True), ("why wordpress", True), ("Spam!", False)],
)
def test_a_question_word_makes_one_word_a_question(
    tiny_matcher: Matcher, question: str, asks: bool
) -> None:
    assert tiny_matcher.analyse(question).asks is asks


@pytest.mark.parametrize(
    ("participle", "infinitive"),
    [("ausgebaut", "ausbauen"), ("eingebaut", "einbauen"), ("auszubauen", "ausbauen")],
)
def test_separable_verbs_participle_reads_as_its_infinitive(
    tiny_matcher: Matcher, participle: str, infinitive: str
) -> None:
    # aus-ge-baut, aus-zu-bauen: the "ge" of the participle and the "zu" of the
    # infinitive sit inside, so neither the stem nor a shared beginning finds
    # "ausbauen" (the answer's word) without taking them out.
    (unit,) = tiny_matcher.analyse(participle).units
    assert unit.how == "inflection"
    assert stem(infinitive) in {term for term, _ in unit.forms}


def test_inflected_word_is_not_split_at_the_beginning_of_a_longer_word() -> None:
    # "schnelles" once split into "schnel" (read as the longer "schnell") + "les"
    # (lesen): a compound's first part must be a word, not the start of one.
    kb = KnowledgeBase(
        (
            Entry(
                id="statistik",
                category="Website",
                question="Wo lese ich die Besucherzahlen schnell ab?",
                answer="…",
            ),
        )
    )
    (unit,) = Matcher(kb).analyse("schnelles").units
    assert unit.how != "compound part"
    assert [term for term, _ in unit.forms] == [stem("schnell")]


def test_what_does_x_mean_is_matched_on_x_not_on_bedeuten() -> None:
    # "Was bedeutet WCAG?" asks about WCAG, a keyword of the accessibility entry; the
    # speed entry's "Was bedeuten die Werte …" once ranked first on "bedeuten" alone.
    speed = Entry(
        id="ladezeit",
        category="Website",
        question="Was bedeuten die Werte in PageSpeed Insights?",
        answer="…",
    )
    access = Entry(
        id="barrierefreiheit",
        category="Website",
        question="Muss meine Website barrierefrei sein?",
        keywords=("WCAG", "Screenreader"),
        answer="…",
    )
    result = Matcher(KnowledgeBase((speed, access))).match("Was bedeutet WCAG?")
    assert [c.entry.id for c in result.ranking][:1] == ["barrierefreiheit"]
    assert "ladezeit" not in {c.entry.id for c in result.ranking}


def test_a_word_is_not_read_as_a_longer_word_it_begins() -> None:
    # "Verein" is the beginning of "vereinbaren" and another word; a word cut short
    # by a letter or two ("Termi") is the knowledge base's word.
    appointment = Entry(
        id="termin", category="Service", question="Wie vereinbare ich einen Termin?", answer="…"
    )
    matcher = Matcher(KnowledgeBase((appointment,)))
    (club,) = matcher.analyse("Verein").units
    assert club.how == "unknown"
    (cut_short,) = matcher.analyse("Termi").units
    assert [term for term, _ in cut_short.forms] == [stem("termin")]


def test_a_derived_word_is_not_read_as_an_inflection_of_its_root() -> None:
    # kündigen ends in "-ig" after stemming: another word than Kunde, not a form of it;
    # "erneute" is still a form of erneuern.
    matcher = keyword_matcher(("kunden", "Wie gewinne ich neue Kunden?", ("erneuern",)))
    (cancel,) = matcher.analyse("kündigen").units
    assert cancel.how == "unknown"
    (renewed,) = matcher.analyse("erneute").units
    assert (renewed.how, [term for term, _ in renewed.forms]) == ("inflection", [stem("erneuern")])


def test_a_typo_repair_of_a_german_word_is_only_half_trusted() -> None:
    # "Bewetrung" is no German word: a misspelt Bewertung, answered. "Bewerbung" is one
    # edit from it too, but a word of its own (a job application): a guess, no answer.
    matcher = keyword_matcher(
        ("bewertungen", "Wie reagiere ich auf eine Bewertung?", ("Rezension",)),
        ("theme", "Wie finde ich das richtige WordPress Theme?", ("Layout",)),
    )
    (misspelt,) = matcher.analyse("Bewetrung").units
    (other_word,) = matcher.analyse("Bewerbung").units
    assert misspelt.how == other_word.how == "typo"
    assert other_word.forms[0][1] < misspelt.forms[0][1]
    assert matcher.match("Bewetrung").decision == "answer"
    assert matcher.match("Bewerbung").decision != "answer"


def test_a_four_letter_stem_is_no_inflection_of_a_word_three_letters_longer() -> None:
    # "aussuchen" (stem aussuch) begins like außen (auss); three letters more on a stem
    # that short are another word. Longer stems keep the -ert participles ("reagiert").
    matcher = keyword_matcher(("aussen", "Wie wirkt die Seite nach außen?", ("reagieren",)))
    (choose,) = matcher.analyse("aussuchen").units
    assert stem("aussen") not in [term for term, _ in choose.forms]
    (reacted,) = matcher.analyse("reagiert").units
    assert [term for term, _ in reacted.forms] == [stem("reagieren")]


@pytest.mark.parametrize(
    ("question", "written"),
    [
        ("Konfiguration des Routers", "Wie konfiguriere ich den Router?"),
        ("Router konfigurieren", "Hilfe bei der Konfiguration des Routers"),
    ],
)
def test_an_ieren_verb_and_its_ation_noun_are_one_word_family(question: str, written: str) -> None:
    # Snowball stems konfigurieren (konfiguri) and Konfiguration apart.
    matcher = keyword_matcher(("router", written, ()))
    how = {unit.word[:6]: unit.how for unit in matcher.analyse(question).units}
    assert how == {"konfig": "inflection", "router": "exact"}


def test_a_compound_head_written_only_inside_it_is_a_word_of_its_own() -> None:
    # The base writes "Krisensimulation" and "Krise", never "Simulation" alone; a
    # customer's "Simulation" is the compound's head (not "nsimulation", no word).
    matcher = keyword_matcher(
        ("training", "Wie bereiten wir uns auf eine Krise vor?", ("Krisensimulation",)),
        ("anderes", "Was kostet ein Logo?", ()),
    )
    (head,) = matcher.analyse("Simulation").units
    assert (head.how, [term for term, _ in head.forms]) == ("exact", [stem("simulation")])
    assert matcher.match("Simulation").ranking[0].entry.id == "training"
    assert stem("nsimulation") not in matcher.index.postings


def test_a_compound_ending_in_a_function_word_does_not_make_it_count() -> None:
    matcher = keyword_matcher(
        ("a", "Was heißt Krisenwerden?", ()), ("b", "Was ist eine Krise?", ())
    )
    assert matcher.analyse("Was werden wir tun?").units == ()


def test_a_compound_ending_in_no_german_word_keeps_its_head_unknown() -> None:
    matcher = keyword_matcher(("produkt", "Was ist Krise?", ("Krisenquarkelix",)))
    (word,) = matcher.analyse("Quarkelix").units
    assert not word.known


def test_head_of_an_unknown_word_needs_more_than_a_prefix_before_it(
    tiny_matcher: Matcher,
) -> None:
    # "Ersatzschlauch" ends in a known word; "empfehlen" only looks as if it ended
    # in "fehlen" ("emp" is a prefix, no word, and no separable particle either), and
    # "gestalten" in "alten" (a three-letter stem is found inside too many words).
    (spare,) = tiny_matcher.analyse("Ersatzschlauch").units
    assert (spare.how, [term for term, _ in spare.forms]) == ("head", [stem("schlauch")])
    missing = Entry(
        id="fehler",
        category="Technik",
        question="Was tun, wenn Dateien fehlen oder zu alt sind?",
        answer="…",
    )
    matcher = Matcher(KnowledgeBase((missing,)))
    for word in ("empfehlen", "gestalten"):
        (unit,) = matcher.analyse(word).units
        assert unit.how == "unknown", word


def test_long_messages_do_not_pile_up_in_memory(tiny_matcher: Matcher) -> None:
    letters = random.Random(5)
    pool = [
        "".join(letters.choices(string.ascii_lowercase, k=letters.randint(5, 12)))
        for _ in range(300)
    ]

    def message() -> str:  # 1,000 characters, never the same twice
        text = ""
        while len(text) < 990:
            text += letters.choice(pool) + " "
        return text

    # The words' own caches (bounded memos of stems and compound splits) are filled
    # once, 50 words a question: a question is cut at 1,000 characters.
    for start in range(0, len(pool), 50):
        tiny_matcher.match(" ".join(pool[start : start + 50]))
    # Only what the bot's own code keeps counts: threads other tests left running
    # (a reloader, an HTTP client) allocate meanwhile too.
    in_bot = [tracemalloc.Filter(True, str(Path(bot.__file__).parent / "*"))]
    tracemalloc.start()
    try:
        before = tracemalloc.take_snapshot().filter_traces(in_bot)
        for _ in range(150):
            tiny_matcher.match(message())
        after = tracemalloc.take_snapshot().filter_traces(in_bot)
    finally:
        tracemalloc.stop()
    grown = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
    assert grown < 2**18, f"{grown / 2**10:.0f} KiB kept after 150 long messages"
