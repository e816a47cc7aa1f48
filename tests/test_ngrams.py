"""Character n-gram cosines between a question and knowledge-base entries."""

from __future__ import annotations

import pytest

from bot.knowledge import Entry, KnowledgeBase
from bot.ngrams import NgramIndex, Vector, gram_vector
from bot.text import words


def naive_cosine(query: Vector, entry: Vector) -> float:
    return sum(weight * entry.get(gram, 0.0) for gram, weight in query.items())


def test_similarities_are_the_cosines_whatever_order_entries_are_built_in(
    shipped_kb: KnowledgeBase,
) -> None:
    index = NgramIndex(shipped_kb.entries)
    query = gram_vector(words("Zertifkat erneuren fuer Wordpres"))
    # Later entries first, so the shared gram table is numbered in another order.
    numbers = list(range(len(shipped_kb.entries)))[::-1]
    for batch in (numbers[:3], numbers, numbers[1::2]):
        found = index.similarities(query, batch)
        for number, similarity in zip(batch, found, strict=True):
            entry = shipped_kb.entries[number]
            text = " ; ".join((*entry.phrasings, *entry.keywords))
            expected = naive_cosine(query, gram_vector(words(text, limit=None)))
            assert similarity == pytest.approx(expected, abs=1e-12)


def test_an_empty_question_vector_has_cosine_zero_with_every_entry(
    shipped_kb: KnowledgeBase,
) -> None:
    count = len(shipped_kb.entries)
    assert NgramIndex(shipped_kb.entries).similarities({}, range(count)) == [0.0] * count


def test_entry_vectors_read_words_as_gram_vector_does_however_they_are_written() -> None:
    # Hyphens, apostrophes, one-letter words, stopwords and umlauts, and the same
    # words again in a second entry, whose grams are then looked up, not made anew.
    tricky = "Kommentar-Spam & E-Mail: geht's? a Zertifikat für Straße, und-oder ÄRGER"
    entries = tuple(
        Entry(id=f"e{number}", category="Web", question=question, answer="Antwort.")
        for number, question in enumerate((tricky, "Straße? " + tricky, "x"))
    )
    index = NgramIndex(entries)
    query = gram_vector(words(tricky))
    for number, similarity in enumerate(index.similarities(query, range(len(entries)))):
        expected = naive_cosine(query, gram_vector(words(entries[number].question, limit=None)))
        assert similarity == pytest.approx(expected, abs=1e-12)
    assert index.similarities(query, [0]) == [pytest.approx(1.0)]


def test_function_words_carry_no_grams_and_a_hyphen_splits_a_compound() -> None:
    assert gram_vector(words("für und mit dem")) == {}
    assert gram_vector(words("Kommentar-Spam")) == gram_vector(words("Kommentar Spam"))
    assert gram_vector(words("Spam für Kommentare")) == gram_vector(words("Spam Kommentare"))
