"""Character n-gram similarity: the matcher's second opinion on spelling.

Overlapping character 3- and 4-grams of the content words rival language-specific
stemming for German (McNamee & Mayfield 2004): they see "Zertifkat" in "Zertifikate"
and "Komentarspam" in "Kommentar-Spam" without knowing a rule. The matcher blends
this cosine into the scores of its best candidates.

Entry vectors are built on first use and kept, so a large knowledge base costs
nothing at start-up; the bot builds the rest on a worker thread once it answers
(``bot.reloader``), so later questions find them ready.
"""

from __future__ import annotations

import math
import threading
from collections import Counter
from collections.abc import Iterable

import numpy as np
import numpy.typing as npt

from bot.knowledge import Entry
from bot.text import Word, is_stopword, word_parts, written_words

GRAM_SIZES = (3, 4)

IntArray = npt.NDArray[np.int32]
FloatArray = npt.NDArray[np.float64]

Vector = dict[str, float]


def word_grams(parts: Iterable[str]) -> list[str]:
    """The character grams of one word's parts, function words left out: a hyphenated
    compound by its parts, "Kommentar-Spam" as "Kommentar Spam"."""
    grams: list[str] = []
    for part in parts:
        if is_stopword(part):
            continue
        padded = f" {part} "
        for size in GRAM_SIZES:
            grams += [padded[i : i + size] for i in range(len(padded) - size + 1)]
    return grams


def gram_vector(found: Iterable[Word]) -> Vector:
    """The L2-normalised, log-scaled n-gram vector of the content words."""
    grams = [gram for word in found for gram in word_grams(word.parts)]
    # Most grams occur once (weight 1 + log 1 = 1), so the logarithm is skipped for them.
    weights = {
        gram: 1 + math.log(count) if count > 1 else 1.0 for gram, count in Counter(grams).items()
    }
    norm = math.sqrt(sum(weight * weight for weight in weights.values())) or 1.0
    return {gram: weight / norm for gram, weight in weights.items()}


class NgramIndex:
    """Entry vectors over the question, alternatives and keywords, built lazily.

    Kept compact: an entry's grams as numbers into one gram table shared by all
    entries, their weights as an array. Kept as dicts of strings, the vectors of
    10,000 entries took 190-240 MiB once customers' questions had reached them all;
    as arrays they take about 30 MB. Each written word's gram numbers are kept while
    entries remain to be built: words recur across entries, and counting an entry's
    grams in numpy from its words' is 1.4-6 times faster than building a dict per
    entry (10,000 entries: the benchmark's 3.4-4.6 s -> 0.7-1.1 s; words drawn by
    German word frequency 1.8 -> 0.7-1.1 s; 100,000 distinct words 4.5-6.3 ->
    2.0-3.3 s).
    """

    def __init__(self, entries: tuple[Entry, ...]) -> None:
        self._entries = entries
        self._gram_numbers: dict[str, int] = {}
        self._word_grams: dict[str, IntArray] = {}
        self._numbering = threading.Lock()
        self._vectors: dict[int, tuple[IntArray, FloatArray]] = {}

    def similarities(self, query: Vector, numbers: Iterable[int]) -> list[float]:
        """The cosine of the question's vector with each of these entries' vectors."""
        entry_vectors = [self._entry_vector(number) for number in numbers]
        dense = np.zeros(len(self._gram_numbers))
        for gram, weight in query.items():
            found = self._gram_numbers.get(gram)
            if found is not None:
                dense[found] = weight
        return [float(dense[grams] @ weights) for grams, weights in entry_vectors]

    def build(self, numbers: Iterable[int]) -> None:
        """Build these entries' vectors now, so no question waits for them later."""
        for number in numbers:
            self._entry_vector(number)

    @property
    def built(self) -> int:
        """How many entries' vectors exist."""
        return len(self._vectors)

    def _entry_vector(self, number: int) -> tuple[IntArray, FloatArray]:
        vector = self._vectors.get(number)
        if vector is None:
            entry = self._entries[number]
            texts = " ; ".join((*entry.phrasings, *entry.keywords))
            # Questions are matched on several threads: numbering a new gram reads the
            # table's length and then inserts, which must not interleave.
            with self._numbering:
                pieces = [self._grams_of(raw) for raw in written_words(texts, limit=None)]
            # The same weights as gram_vector(), counted in numpy: an entry's words
            # recur across entries, so each word's grams are numbered only once.
            grams, counts = np.unique(
                np.concatenate(pieces) if pieces else np.zeros(0, np.int32), return_counts=True
            )
            weights = np.where(counts > 1, 1 + np.log(counts), 1.0)
            norm = math.sqrt(float(weights @ weights)) or 1.0
            vector = self._vectors[number] = (grams.astype(np.int32), weights / norm)
            if len(self._vectors) == len(self._entries):
                # Every entry is built, so no word is looked up again: up to ~30 MB at
                # 10,000 entries of 100,000 distinct words, given back.
                with self._numbering:
                    self._word_grams.clear()
        return vector

    def _grams_of(self, raw: str) -> IntArray:
        """The numbers of a written word's grams; call with ``_numbering`` held."""
        found = self._word_grams.get(raw)
        if found is None:
            table = self._gram_numbers
            found = self._word_grams[raw] = np.array(
                [table.setdefault(gram, len(table)) for gram in word_grams(word_parts(raw))],
                dtype=np.int32,
            )
        return found
