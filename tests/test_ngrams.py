"""Character n-gram cosines between a question and knowledge-base entries."""

from __future__ import annotations

import pytest

from bot.knowledge import KnowledgeBase
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
