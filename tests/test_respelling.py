"""The question the encoder reads: misspelt words repaired, umlauts restored."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.knowledge import load_knowledge_base
from bot.matcher import Matcher
from bot.phrasing_vectors import embed_phrasings
from bot.respelling import Respeller
from bot.semantic import VectorCache
from bot.wordlist import GermanWords, german
from tests.fake_encoder import ConceptEncoder


@pytest.fixture(scope="module")
def respeller() -> Respeller:
    return Respeller(german())


@pytest.mark.parametrize(
    ("written", "meant"),
    [("fuer", "für"), ("ploetzlich", "plötzlich"), ("Muessen", "Müssen"), ("gross", "groß")],
)
def test_umlauts_written_as_two_letters_are_restored(
    respeller: Respeller, written: str, meant: str
) -> None:
    assert german().with_umlauts(written) == meant
    assert respeller.respell(f"Was {written} ein Test", {}) == f"Was {meant} ein Test"


def test_real_words_and_unknown_names_stay_as_written(respeller: Respeller) -> None:
    text = "Kann man Kuenstlerxyz neue Fragen stellen? Kuenstlerxyz, Muehle"
    assert (
        respeller.respell(text, {})
        == "Kann man Kuenstlerxyz neue Fragen stellen? Kuenstlerxyz, Mühle"
    )


def test_a_repaired_word_is_replaced_only_when_it_is_no_german_word(respeller: Respeller) -> None:
    assert respeller.misspelt("wordpess")
    assert not respeller.misspelt("besten")  # a word of its own, not a typo of "testen"
    assert not respeller.misspelt("fuer")
    assert respeller.respell("Spricht was für Wordpess?", {"wordpess": "wordpress"}) == (
        "Spricht was für wordpress?"
    )
    assert respeller.respell("Kommnetar-Spam", {"kommnetar": "kommentar"}) == "kommentar-Spam"


def test_without_a_word_list_the_text_is_unchanged() -> None:
    bare = Respeller(GermanWords(frozenset()))
    assert bare.respell("fuer Wordpess", {"wordpess": "wordpress"}) == "fuer Wordpess"
    assert not bare.misspelt("wordpess")


@pytest.fixture
def web(tmp_path: Path) -> tuple[Matcher, ConceptEncoder]:
    """A two-entry knowledge base with the semantic stage, and the encoder it records."""
    folder = tmp_path / "faq"
    folder.mkdir()
    (folder / "web.yaml").write_text(
        "category: Web\nentries:\n"
        "  - id: cms\n    question: Warum sollten wir WordPress nehmen?\n"
        "    answer: Weil es verbreitet ist.\n"
        "  - id: ssl\n    question: Wie erneuere ich das Zertifikat?\n"
        "    answer: Mit Let's Encrypt.\n",
        encoding="utf-8",
    )
    kb = load_knowledge_base(folder)
    encoder = ConceptEncoder()
    semantic = embed_phrasings(kb, encoder, VectorCache(None, encoder.model_id, encoder.dimension))
    return Matcher(kb).with_semantic(semantic), encoder


def test_the_matcher_encodes_the_respelled_question(web: tuple[Matcher, ConceptEncoder]) -> None:
    matcher, encoder = web
    encoder.encoded.clear()
    matcher.evidence("lohnt sich wordpess fuer uns, oder besser nichts?")
    assert encoder.encoded == ["lohnt sich wordpress für uns, oder besser nichts?"]


def test_a_word_read_by_its_beginning_is_encoded_as_the_knowledge_base_spells_it(
    web: tuple[Matcher, ConceptEncoder],
) -> None:
    # "wordpres" is "wordpress" with a letter left off, and the encoder should read the
    # word the knowledge base writes; "erneuert" shares its beginning with "erneuere"
    # but is a German word of its own, and stays as written.
    matcher, encoder = web
    for question, encoded in [
        ("warum wordpres nehmen", "warum wordpress nehmen"),
        ("erneuert man es so?", "erneuert man es so?"),
    ]:
        (unit,) = [u for u in matcher.analyse(question).units if u.repaired]
        encoder.encoded.clear()
        matcher.evidence(question)
        assert encoder.encoded == [encoded], unit


def test_a_reading_far_from_the_written_word_is_encoded_as_written(
    web: tuple[Matcher, ConceptEncoder],
) -> None:
    # "WordPressler" (people who use WordPress) is read by its beginning as
    # "wordpress", but three letters longer it is another word, not a misspelling
    # the encoder should be spared ("insta" had once become "installiere").
    matcher, encoder = web
    question = "tipps von wordpressler"
    (unit,) = [u for u in matcher.analyse(question).units if u.how == "inflection"]
    assert unit.repaired == "wordpress"
    encoder.encoded.clear()
    matcher.evidence(question)
    assert encoder.encoded == [question]
