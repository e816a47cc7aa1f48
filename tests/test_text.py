"""bot.text: cleaning, folding, word splitting, stemming and stopwords of German text."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from bot.text import (
    MAX_QUESTION_CHARS,
    Word,
    clean,
    fold,
    is_stopword,
    stem,
    words,
    words_of_many,
)

PROPERTY = settings(deadline=None, max_examples=200)


def texts(text: str) -> list[str]:
    return [word.text for word in words(text)]


# --- fold and stem -------------------------------------------------------------------


@pytest.mark.parametrize("spelling", ["Größe", "groesse", "GRÖSSE", "GROESSE", "größe"])
def test_fold_umlaut_and_sharp_s_spellings_agree(spelling: str) -> None:
    assert fold(spelling) == "groesse"


@pytest.mark.parametrize(
    ("word", "folded"),
    [("Übersetzung", "uebersetzung"), ("Öffnungszeiten", "oeffnungszeiten"), ("weiß", "weiss")],
)
def test_fold_writes_umlauts_as_two_letters(word: str, folded: str) -> None:
    assert fold(word) == folded


def test_fold_leaves_folded_word_unchanged() -> None:
    assert fold("dnssec") == "dnssec"


@pytest.mark.parametrize("word", ["Zertifikat", "Zertifikate", "Zertifikats", "Zertifikaten"])
def test_stem_inflections_of_a_noun_agree(word: str) -> None:
    assert stem(fold(word)) == stem("zertifikat")


@pytest.mark.parametrize("spelling", ["grösse", "groesse", "größe"])
def test_stem_umlaut_spellings_agree(spelling: str) -> None:
    assert stem(fold(spelling)) == stem("groesse")


# --- words -----------------------------------------------------------------------------


def test_words_hyphen_compound_keeps_parts() -> None:
    (word,) = words("Kommentar-Spam")
    assert word.text == "kommentarspam"
    assert word.parts == ("kommentar", "spam")
    assert word.is_compound


def test_words_closed_compound_has_one_part() -> None:
    (word,) = words("Spamkommentare")
    assert word.parts == ("spamkommentare",)
    assert not word.is_compound


@pytest.mark.parametrize(
    "text",
    [
        "Let's",
        "Let’s",
        "Let`s",
        "Let´s",
    ],
)
def test_words_apostrophe_inside_word_removed(text: str) -> None:
    assert texts(text) == ["lets"]


def test_words_html_tags_removed() -> None:
    assert texts("<b>dnssec</b>") == ["dnssec"]


def test_words_script_tag_removed_content_kept() -> None:
    assert texts("<script>alert(1)</script>") == ["alert"]


def test_words_control_characters_separate_words() -> None:
    assert texts("dns\x00sec\x07wordpress\x1b") == ["dns", "sec", "wordpress"]


def test_words_one_letter_words_dropped() -> None:
    assert texts("a b c Ab x") == ["ab"]


def test_words_one_letter_words_kept_when_asked_for_letters_and_digits_only() -> None:
    found = words("Auf X posten, z. B. 3 x täglich?", letters=True)
    assert [word.text for word in found] == ["auf", "x", "posten", "z", "b", "3", "x", "taeglich"]
    assert [word.text for word in words("z. B. 3 x täglich")] == ["taeglich"]


def test_words_numbers_kept() -> None:
    assert texts("301-Umleitung") == ["301umleitung"]


def test_words_punctuation_only_gives_nothing() -> None:
    assert words("?!… -- 🙂") == []


def test_words_capitalised_none_at_sentence_start() -> None:
    assert words("Wie finde ich das Theme?")[0].capitalised is None


def test_words_capitalised_after_sentence_end_none() -> None:
    assert words("Danke. Gut")[1].capitalised is None


def test_words_capitalised_none_for_first_word_after_leading_spaces() -> None:
    assert words("   Hallo Welt")[0].capitalised is None


def test_words_capitalised_kept_after_two_spaces_mid_sentence() -> None:
    assert [word.capitalised for word in words("das  Theme  passt")] == [None, True, False]


@PROPERTY
@given(
    st.lists(
        st.lists(st.sampled_from([*"aäBÜx -.:!?(", "  ", "Ab", "cd"]), max_size=20).map("".join),
        max_size=6,
    )
)
def test_words_of_many_reads_each_text_as_alone(batch: list[str]) -> None:
    # The index splits all texts in one pass; no text may borrow its neighbour's context.
    assert words_of_many(batch) == [words(text, None) for text in batch]


def test_words_capitalised_true_for_noun_mid_sentence() -> None:
    found = {word.text: word.capitalised for word in words("Wie finde ich das richtige Theme?")}
    assert found["theme"] is True


def test_words_capitalised_false_for_lower_case_mid_sentence() -> None:
    found = {word.text: word.capitalised for word in words("Wie finde ich das richtige Theme?")}
    assert found["richtige"] is False
    assert found["finde"] is False


def test_words_results_are_word_objects() -> None:
    assert words("Hallo Welt") == [
        Word("hallo", ("hallo",), None),
        Word("welt", ("welt",), True),
    ]


# --- clean -----------------------------------------------------------------------------


def test_clean_caps_length_of_long_input() -> None:
    assert len(clean("x" * 10_000)) == MAX_QUESTION_CHARS


def test_clean_short_input_unchanged() -> None:
    assert clean("Was ist DNSSEC?") == "Was ist DNSSEC?"


def test_clean_composes_decomposed_umlaut() -> None:
    assert clean("Gro\u0308sse") == "Grösse"


def test_clean_control_characters_become_spaces() -> None:
    assert clean("a\x00b\tc\u200ed") == "a b c d"
    assert clean("c\u200bd") == "cd"  # zero-width: removed, not a word break


# --- is_stopword -----------------------------------------------------------------------


@pytest.mark.parametrize("word", ["Hallo", "für", "fuer", "FÜR", "was", "wie", "bitte", "danke"])
def test_is_stopword_filler_in_folded_form(word: str) -> None:
    assert is_stopword(fold(word))


@pytest.mark.parametrize("word", ["bekomme", "kriegt", "gegeben", "macht", "bringt"])
def test_is_stopword_light_verbs_say_nothing_of_the_topic(word: str) -> None:
    # "Wie bekomme ich meine Firma bei Google eingetragen?" is about Google, not about
    # the entry whose alternative reads "Wie bekomme ich mit, was ...".
    assert is_stopword(fold(word))


@pytest.mark.parametrize("word", ["dnssec", "wordpress", "zertifikat", "shitstorm", "301"])
def test_is_stopword_content_words_are_not(word: str) -> None:
    assert not is_stopword(word)


def test_is_stopword_short_numbers_are() -> None:
    assert is_stopword("12")


# --- properties ------------------------------------------------------------------------

_UMLAUTS = set("äöüß")


@PROPERTY
@given(st.text())
def test_words_any_text_gives_folded_words(text: str) -> None:
    for word in words(text):
        assert len(word.text) > 1
        assert word.text == fold(word.text)
        assert not _UMLAUTS & set(word.text)
        assert word.text == "".join(word.parts)
        assert word.capitalised in (None, True, False)


@PROPERTY
@given(st.text())
def test_words_rejoined_words_give_same_words(text: str) -> None:
    first = texts(text)
    rejoined = " ".join(first)
    assume(len(rejoined) <= MAX_QUESTION_CHARS)
    assert texts(rejoined) == first


@PROPERTY
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=5000))
def test_clean_any_text_bounded_without_control_characters(text: str) -> None:
    cleaned = clean(text)
    assert len(cleaned) <= MAX_QUESTION_CHARS
    assert not any(unicodedata.category(char).startswith("C") for char in cleaned)


@pytest.mark.parametrize("invisible", ["\u00ad", "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff"])
def test_words_invisible_characters_inside_a_word_are_removed(invisible: str) -> None:
    assert [w.text for w in words(f"Was ist DNS{invisible}SEC?")] == ["was", "ist", "dnssec"]
