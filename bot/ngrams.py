"""Character n-gram similarity: the matcher's second opinion on spelling.

Overlapping character 3- and 4-grams of the content words rival language-specific
stemming for German (McNamee & Mayfield 2004): they see "Zertifkat" in "Zertifikate"
and "Komentarspam" in "Kommentar-Spam" without knowing a rule. The matcher blends
this cosine into the scores of its best candidates.

Entry vectors are built on first use and kept, so a large knowledge base costs
nothing at start-up and each entry is vectorised at most once.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable

from bot.knowledge import Entry
from bot.text import Word, is_stopword, words

GRAM_SIZES = (3, 4)

Vector = dict[str, float]


def gram_vector(found: Iterable[Word]) -> Vector:
    """The L2-normalised, log-scaled n-gram vector of the content words."""
    counts: Counter[str] = Counter()
    for word in found:
        # Hyphenated compounds by their parts: "Kommentar-Spam" as "Kommentar Spam".
        for part in word.parts:
            if is_stopword(part):
                continue
            padded = f" {part} "
            for size in GRAM_SIZES:
                counts.update(padded[i : i + size] for i in range(len(padded) - size + 1))
    weights = {gram: 1 + math.log(count) for gram, count in counts.items()}
    norm = math.sqrt(sum(weight * weight for weight in weights.values())) or 1.0
    return {gram: weight / norm for gram, weight in weights.items()}


def cosine(query: Vector, document: Vector) -> float:
    """Cosine of two normalised vectors."""
    if len(document) < len(query):
        query, document = document, query
    return sum(weight * document.get(gram, 0.0) for gram, weight in query.items())


class NgramIndex:
    """Entry vectors over the question, alternatives and keywords, built lazily."""

    def __init__(self, entries: tuple[Entry, ...]) -> None:
        self._entries = entries
        self._vectors: dict[int, Vector] = {}

    def entry_vector(self, number: int) -> Vector:
        vector = self._vectors.get(number)
        if vector is None:
            entry = self._entries[number]
            texts = " ; ".join((*entry.phrasings, *entry.keywords))
            vector = gram_vector(words(texts, limit=None))
            self._vectors[number] = vector
        return vector
