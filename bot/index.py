"""The search index: the knowledge base's vocabulary, term weights and postings.

Built once per knowledge base. Every entry is described by *slots*: one slot per content
word of its question, alternatives and keywords. A slot holds the stem of the word and,
for compounds, the stems of its parts ("Kommentar-Spam" and "Spamkommentare" both hold
``kommentar`` and ``spam``, split by ``bot.vocabulary``), so a customer's spelling of a
compound meets the knowledge base's spelling halfway. Words of the answer are weak
evidence, kept apart.

Term weights are BM25's inverse document frequency over entries: a word in every entry
says nothing, a word in one entry says a lot.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from bot.knowledge import Entry, KnowledgeBase
from bot.text import Word, is_short_number, is_stopword, stem, words_of_many
from bot.vocabulary import Vocabulary, compound_heads
from bot.wordlist import german

IntArray = npt.NDArray[np.int32]
FloatArray = npt.NDArray[np.float64]

KEYWORD_SHARE = 0.25
"""A keyword counts like a word in a quarter of the entry's phrasings."""
NON_NOUN_WEIGHT = 0.5
"""Weight factor of a word never written with a capital: verbs and adjectives say less
about a topic than nouns do ("finde" and "richtige" vs "Fahrrad")."""


@dataclass(frozen=True)
class Postings:
    """Where one term occurs: entries (strong and weak) and slots."""

    strong_entries: IntArray
    strong_strength: FloatArray
    weak_entries: IntArray
    slots: IntArray


class Index:
    """Vocabulary, weights and postings of one knowledge base."""

    def __init__(self, kb: KnowledgeBase, *, strength_floor: float, strength_gain: float) -> None:
        self.entries: tuple[Entry, ...] = kb.entries
        # Pass 1: the knowledge base's own words, so compounds can be split against them.
        self.surface: dict[str, str] = {}
        capitalised: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        # Every text is split into words once; both passes below read them. Keywords
        # only feed an entry's term set, so each entry's are joined; they are topic
        # words and count as nouns whatever their case, and a one-letter keyword (X,
        # once Twitter) is a word.
        texts = list(dict.fromkeys(t for e in kb.entries for t in (*e.phrasings, e.answer)))
        keyword_texts = [" ; ".join(entry.keywords) for entry in kb.entries]
        split = words_of_many(texts) + words_of_many(keyword_texts, letters=True)
        tokens: dict[str, list[Word]] = dict(zip(texts, split, strict=False))
        as_noun = {
            word: Word(word.text, word.parts, True) for word in set().union(*split[len(texts) :])
        }
        keyword_words = [[as_noun[word] for word in found] for found in split[len(texts) :]]
        # Words repeat across 10,000 entries: count them first (in C), then look at each
        # distinct word once. First-seen order is kept, so ``surface`` is filled in the
        # same order as by a walk over every occurrence.
        occurrences = Counter(
            itertools.chain.from_iterable(
                itertools.chain(
                    keyword_words[entry_number],
                    *(tokens[text] for text in (*entry.phrasings, entry.answer)),
                )
                for entry_number, entry in enumerate(kb.entries)
            )
        )
        # A short number is filler ("2 Fragen") except where staff made it part of a
        # keyword ("Port 80", "HTTP-01"): there it names the topic, as one letter can.
        keyword_numbers = {
            piece
            for found in keyword_words
            for word in found
            for piece in (word.text, *word.parts)
            if is_short_number(piece)
        }
        for word, count in occurrences.items():
            noun = word.capitalised
            pieces = (word.text, *word.parts) if word.is_compound else word.parts
            for piece in pieces:
                if is_stopword(piece) and piece not in keyword_numbers:
                    continue
                term = self.surface.get(piece)
                if term is None:
                    term = self.surface[piece] = stem(piece)
                if noun is not None:
                    capitalised[term][0 if noun else 1] += count
        self.vocabulary = Vocabulary(self.surface)
        # A closed noun compound's head the base writes only inside it
        # (Krisensimulation) becomes a word of its own, so the compound splits and a
        # customer's "Simulation" finds it. Adjectives and participles are left out:
        # their first part is often a particle ("festgelegten" has no head "gelegten").
        closed = {
            word: count
            for word, count in occurrences.items()
            if not word.is_compound and word.capitalised is not False
        }
        heads = compound_heads(self.vocabulary, {w.text for w in closed}, german())
        if heads:
            for word, count in closed.items():
                head = heads.get(word.text)
                if head is None:
                    continue
                term = self.surface.setdefault(head, stem(head))
                if word.capitalised is not None:
                    capitalised[term][0 if word.capitalised else 1] += count
            self.vocabulary = Vocabulary(self.surface)
        # Each distinct word resolved once; the walk below looks them up in C.
        terms_of = {word: self.vocabulary.word_terms(word) for word in occurrences}.__getitem__

        # Pass 2: slots, phrasings and entry term sets.
        slot_terms: list[frozenset[str]] = []
        slot_phrasing: list[int] = []
        phrasing_entry: list[int] = []
        strong: list[set[str]] = []
        weak: list[set[str]] = []
        strong_postings: dict[str, list[tuple[int, float]]] = defaultdict(list)  # entry, share
        for entry_number, entry in enumerate(kb.entries):
            share: dict[str, float] = defaultdict(float)
            for word in keyword_words[entry_number]:
                for term in terms_of(word):
                    share[term] = KEYWORD_SHARE
            phrasings = [
                [terms for terms in map(terms_of, tokens[phrasing]) if terms]
                for phrasing in entry.phrasings
            ]
            phrasings = [slots for slots in phrasings if slots]
            for slots in phrasings:
                phrasing_number = len(phrasing_entry)
                phrasing_entry.append(entry_number)
                for terms in slots:
                    slot_terms.append(terms)
                    slot_phrasing.append(phrasing_number)
                for term in set().union(*slots):
                    share[term] += 1 / len(phrasings)
            for term, value in share.items():
                strong_postings[term].append((entry_number, value))
            strong.append(set(share))
            entry_weak = set().union(*map(terms_of, set(tokens[entry.answer])))
            weak.append(entry_weak - strong[-1])
        weak_lists = _invert(weak)

        # Weights: BM25 idf over entries, both fields counted (a term is strong or weak
        # in an entry, never both, so the postings' lengths add up).
        entry_count = len(kb.entries)
        document_frequency = {term: len(pairs) for term, pairs in strong_postings.items()}
        for term, numbers in weak_lists.items():
            document_frequency[term] = document_frequency.get(term, 0) + len(numbers)
        self.entry_count = entry_count
        self.idf: dict[str, float] = {
            term: _idf(entry_count, count) for term, count in document_frequency.items()
        }
        self.unknown_idf = _idf(entry_count, 0)
        self.weight: dict[str, float] = {}
        for term, idf in self.idf.items():
            upper, lower = capitalised.get(term, (3, 1))
            noun_share = upper / (upper + lower) if upper + lower else 0.75
            self.weight[term] = idf * (NON_NOUN_WEIGHT + (1 - NON_NOUN_WEIGHT) * noun_share)

        # Slot weight: its most specific term, the word as written rather than a part.
        self.slot_weight = np.array(
            [max(self.weight[term] for term in terms) for terms in slot_terms], dtype=np.float64
        )
        self.slot_phrasing = np.array(slot_phrasing, dtype=np.int32)
        self.phrasing_entry = np.array(phrasing_entry, dtype=np.int32)
        self.phrasing_norm = np.bincount(
            self.slot_phrasing, weights=self.slot_weight, minlength=len(phrasing_entry)
        )
        self.phrasing_count = len(phrasing_entry)
        self.slot_count = len(slot_terms)

        self.postings: dict[str, Postings] = {}
        slot_lists: dict[str, list[int]] = defaultdict(list)
        for slot_number, terms in enumerate(slot_terms):
            for term in terms:
                slot_lists[term].append(slot_number)
        for term in document_frequency:
            pairs = strong_postings.get(term, [])
            # A word in most of an entry's phrasings is central to it; a word in one
            # alternative is a side remark ("SEO" in the corporate blog entry).
            shares = np.array([share for _, share in pairs], dtype=np.float64)
            self.postings[term] = Postings(
                _array([number for number, _ in pairs]),
                strength_floor + (1 - strength_floor) * np.minimum(1.0, strength_gain * shares),
                _array(weak_lists.get(term, ())),
                _array(slot_lists.get(term, ())),
            )


def _idf(entry_count: int, document_frequency: int) -> float:
    return math.log(1 + (entry_count - document_frequency + 0.5) / (document_frequency + 0.5))


def _invert(term_sets: list[set[str]]) -> dict[str, list[int]]:
    inverted: dict[str, list[int]] = defaultdict(list)
    for number, terms in enumerate(term_sets):
        for term in terms:
            inverted[term].append(number)
    return inverted


def _array(values: Sequence[int]) -> IntArray:
    return np.array(values, dtype=np.int32)
