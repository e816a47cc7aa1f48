"""Match a customer's question to an entry: score every entry, then decide.

A question becomes *units*, one per content word (filler and function words dropped).
Each unit finds the knowledge base's terms it may mean, with a credit below 1 where
the link is less certain:

    exact stem                 zertifikate -> zertifikat             1.0
    inflection by prefix       erneuert -> erneu                    0.9
    compound split             spamkommentare -> spam + kommentar   1.0 each
    compound head only         firmenblog -> blog                   0.5
    typo (OSA, 1-2 edits)      zertifkat -> zertifikat              0.85 / 0.7
    unknown                    photovoltaikanlage                   0, but it weighs

An entry's score blends two coverages, both weighted by idf:

    query coverage     how much of what the customer said this entry knows about
    phrasing coverage  how completely the best question/alternative/keyword is asked

Unknown words keep their weight, so "Was ist eine Photovoltaikanlage und wozu dient
sie?" cannot ride on "dient" to the DNSSEC entry. The decision is ``answer`` only for a
confident score clearly ahead of the runner-up, ``suggest`` when unsure or close,
``none`` when nothing fits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

import numpy as np
import numpy.typing as npt
from rapidfuzz import process
from rapidfuzz.distance import OSA

from bot.index import FloatArray, Index
from bot.knowledge import Entry, KnowledgeBase
from bot.ngrams import NgramIndex, Vector, cosine, gram_vector
from bot.text import Word, is_stopword, stem, words

Decision = Literal["answer", "suggest", "none"]
MAX_SUGGESTIONS = 3


@dataclass(frozen=True)
class MatcherSettings:
    """The matcher's tunable constants; defaults were chosen on the labelled set."""

    answer_threshold: float = 0.58
    suggest_threshold: float = 0.58
    margin: float = 0.10
    suggestion_floor: float = 0.20
    query_share: float = 0.5
    answer_credit: float = 0.4
    unknown_weight: float = 1.0
    prefix_credit: float = 0.9
    head_credit: float = 0.3
    typo_credit: tuple[float, float] = (0.85, 0.7)
    strength_floor: float = 0.3
    strength_gain: float = 2.0
    ngram_share: float = 0.4
    ngram_gain: float = 2.0
    rerank: int = 20


@dataclass(frozen=True)
class Candidate:
    """An entry and how well it fits the question (0 to 1)."""

    entry: Entry
    score: float


@dataclass(frozen=True)
class Unit:
    """One content word of the question and the knowledge-base terms it may mean."""

    word: str
    weight: float
    forms: tuple[tuple[str, float], ...]
    how: str

    @property
    def known(self) -> bool:
        return bool(self.forms)


@dataclass(frozen=True)
class Query:
    """An analysed question: its content words resolved, and its n-gram vector."""

    units: tuple[Unit, ...]
    grams: Vector


@dataclass(frozen=True)
class MatchResult:
    """The matcher's verdict on one question."""

    decision: Decision
    match: Candidate | None
    suggestions: tuple[Candidate, ...]
    ranking: tuple[Candidate, ...] = field(repr=False)
    units: tuple[Unit, ...] = field(repr=False)

    @property
    def confidence(self) -> float:
        """The best entry's score, 0 when nothing scored."""
        return self.ranking[0].score if self.ranking else 0.0


class Matcher:
    """Scores questions against one knowledge base."""

    def __init__(self, kb: KnowledgeBase, settings: MatcherSettings | None = None) -> None:
        self.kb = kb
        self.settings = settings or MatcherSettings()
        self.index = Index(
            kb,
            strength_floor=self.settings.strength_floor,
            strength_gain=self.settings.strength_gain,
        )
        self.ngrams = NgramIndex(kb.entries)
        self.analyse = lru_cache(maxsize=4096)(self._analyse)

    def match(self, question: str) -> MatchResult:
        """Rank the entries for a question and decide what to reply."""
        query = self.analyse(question)
        scores = self.scores(query)
        ranking = self._candidates(scores, MAX_SUGGESTIONS + 2, floor=0.0)
        return self.decide(ranking, query.units)

    def rank(self, question: str, limit: int) -> tuple[Candidate, ...]:
        """The best ``limit`` entries that fit at all, best first (for inline mode)."""
        scores = self.scores(self.analyse(question))
        return self._candidates(scores, limit, floor=self.settings.suggestion_floor)

    def _candidates(self, scores: FloatArray, limit: int, *, floor: float) -> tuple[Candidate, ...]:
        """The best ``limit`` entries that scored at all and at least ``floor``."""
        return tuple(
            Candidate(self.kb.entries[int(number)], round(float(scores[number]), 4))
            for number in _top(scores, limit)
            if scores[number] > 0 and scores[number] >= floor
        )

    def decide(self, ranking: tuple[Candidate, ...], units: tuple[Unit, ...]) -> MatchResult:
        """Turn a ranking into answer / suggest / none."""
        s = self.settings
        top = ranking[0].score if ranking else 0.0
        runner_up = ranking[1].score if len(ranking) > 1 else 0.0
        decision: Decision
        if top >= s.answer_threshold and top - runner_up >= s.margin:
            decision = "answer"
        elif top >= s.suggest_threshold:
            decision = "suggest"
        else:
            decision = "none"
        match = ranking[0] if decision == "answer" else None
        others = ranking[1:] if match else ranking
        suggestions = tuple(c for c in others if c.score >= s.suggestion_floor)
        return MatchResult(decision, match, suggestions[:MAX_SUGGESTIONS], ranking, units)

    def scores(self, query: Query) -> FloatArray:
        """Every entry's score for the analysed question, in knowledge-base order.

        Word coverage ranks all entries; the best ``rerank`` of them then get the
        character n-gram cosine blended in, a second opinion on spelling.
        """
        s = self.settings
        scores = self.term_scores(query.units)
        if s.ngram_share <= 0 or not query.grams or not query.units:
            return scores
        candidates = _top(scores, s.rerank)
        scores *= 1 - s.ngram_share
        for number in candidates:
            similarity = cosine(query.grams, self.ngrams.entry_vector(int(number)))
            scores[number] += s.ngram_share * min(1.0, s.ngram_gain * similarity)
        return scores

    def term_scores(self, units: tuple[Unit, ...]) -> FloatArray:
        """Every entry's word-coverage score, in knowledge-base order."""
        index, s = self.index, self.settings
        entry_count = len(self.kb.entries)
        total_weight = sum(unit.weight for unit in units)
        if not units or not any(unit.known for unit in units) or total_weight <= 0:
            return np.zeros(entry_count)

        query_coverage = np.zeros(entry_count)
        term_credit: dict[str, float] = {}
        for unit in units:
            coverage = np.zeros(entry_count)
            for term, credit in unit.forms:
                postings = index.postings[term]
                strong, weak = postings.strong_entries, postings.weak_entries
                coverage[strong] = np.maximum(coverage[strong], credit * postings.strong_strength)
                coverage[weak] = np.maximum(coverage[weak], credit * s.answer_credit)
                term_credit[term] = max(term_credit.get(term, 0.0), credit)
            query_coverage += unit.weight * coverage
        query_coverage /= total_weight

        slot_score = np.zeros(index.slot_count)
        for term, credit in term_credit.items():
            slots = index.postings[term].slots
            slot_score[slots] = np.maximum(slot_score[slots], credit)
        phrasing_score = np.bincount(
            index.slot_phrasing,
            weights=slot_score * index.slot_weight,
            minlength=index.phrasing_count,
        ) / np.maximum(index.phrasing_norm, 1e-9)
        phrasing_coverage = np.zeros(entry_count)
        np.maximum.at(phrasing_coverage, index.phrasing_entry, phrasing_score)

        blended: FloatArray = s.query_share * query_coverage + (1 - s.query_share) * (
            phrasing_coverage
        )
        return blended

    def _analyse(self, question: str) -> Query:
        units: list[Unit] = []
        seen: set[str] = set()
        found = words(question)
        # Case only tells nouns from other words if the writer uses capitals at all.
        cased = any(word.capitalised for word in found)
        for word in found:
            for unit in self._units_of(word, cased):
                if unit.word not in seen:
                    seen.add(unit.word)
                    units.append(unit)
        return Query(tuple(units), gram_vector(found))

    def _units_of(self, word: Word, cased: bool) -> list[Unit]:
        if is_stopword(word.text):
            return []
        noun = word.capitalised if cased else None
        if not word.is_compound:
            return self._resolve(word.text, noun)
        # A hyphenated compound is matched by its parts, as the index also holds them.
        return [
            unit
            for part in word.parts
            if not is_stopword(part)
            for unit in self._resolve(part, noun)
        ]

    def _resolve(self, word: str, noun: bool | None) -> list[Unit]:
        """Find what one word means in the knowledge base's vocabulary."""
        index, s = self.index, self.settings
        term = stem(word)
        split = index.split_compound(word)
        if split:
            # Matched by its parts, as the index also holds the parts of every compound.
            return [
                Unit(part, index.weight[part], ((part, 1.0),), "compound part")
                for part in split
                if part in index.postings
            ]
        if term in index.postings:
            return [Unit(word, index.weight[term], ((term, 1.0),), "exact")]
        variants = self._inflections(term)
        if variants:
            weight = max(index.weight[v] for v in variants)
            forms = tuple((v, s.prefix_credit) for v in variants)
            return [Unit(word, weight, forms, "inflection")]
        corrected = self._correct_typo(word)
        if corrected:
            return [Unit(word, index.weight[corrected[0]], (corrected,), "typo")]
        head = self._known_head(word)
        noun_factor = {True: 1.0, None: 0.75, False: 0.5}[noun]
        unknown_weight = s.unknown_weight * index.unknown_idf * noun_factor
        if head:
            return [Unit(word, unknown_weight, ((head, s.head_credit),), "head")]
        return [Unit(word, unknown_weight, (), "unknown")]

    def _inflections(self, term: str) -> list[str]:
        """Known terms that differ from ``term`` only in an ending (erneuert ~ erneu)."""
        index = self.index
        found = [
            term[:cut]
            for cut in range(max(4, len(term) - 3), len(term))
            if term[:cut] in index.postings
        ]
        found += index.by_prefix.get(term, [])
        if not found and term.startswith("ge") and len(term) > 6:
            rest = term[2:]
            if rest in index.postings:
                found.append(rest)
            else:
                found += [rest[:cut] for cut in range(4, len(rest)) if rest[:cut] in index.postings]
        return found[:3]

    def _correct_typo(self, word: str) -> tuple[str, float] | None:
        """The knowledge-base word one or two edits away, as a term with its credit."""
        if len(word) < 4 or word.isdigit():
            return None
        max_edits = 1 if len(word) < 8 else 2
        index = self.index
        best: tuple[int, bool, float, str] | None = None
        for length in range(len(word) - max_edits, len(word) + max_edits + 1):
            pool = index.surface_by_length.get(length)
            if not pool:
                continue
            for known, distance, _ in process.extract(
                word, pool, scorer=OSA.distance, score_cutoff=max_edits, limit=5
            ):
                term = index.surface[known]
                if term not in index.postings:
                    continue
                # Fewest edits; then a kept first letter; then the commoner word.
                key = (int(distance), known[0] != word[0], index.idf[term], term)
                if best is None or key < best:
                    best = key
        if best is None:
            return None
        return best[3], self.settings.typo_credit[best[0] - 1]

    def _known_head(self, word: str) -> str | None:
        """The last part of an unknown compound, if the knowledge base knows it."""
        for cut in range(3, len(word) - 3):
            head = word[cut:]
            term = stem(head)
            if term in self.index.postings and not is_stopword(head):
                return term
        return None


def _top(scores: FloatArray, count: int) -> npt.NDArray[np.intp]:
    """Indices of the ``count`` highest scores, best first (ties in entry order)."""
    if len(scores) > count * 4:
        part = np.argpartition(-scores, count)[:count]
        return part[np.argsort(-scores[part], kind="stable")]
    return np.argsort(-scores, kind="stable")[:count]
