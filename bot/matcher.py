"""Match a customer's question to an entry: score every entry, then decide.

A question becomes *units*, one per content word (filler and function words dropped),
each resolved by ``bot.vocabulary`` to the knowledge base's terms it may mean.

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

from bot.index import FloatArray, Index
from bot.knowledge import Entry, KnowledgeBase
from bot.ngrams import NgramIndex, Vector, cosine, gram_vector
from bot.text import words
from bot.vocabulary import Credits, QuestionReader, Unit

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
        s = self.settings
        self.reader = QuestionReader(
            self.index.vocabulary,
            terms=self.index.postings,
            weight=self.index.weight,
            idf=self.index.idf,
            unknown_idf=self.index.unknown_idf,
            credits=Credits(s.prefix_credit, s.head_credit, s.typo_credit, s.unknown_weight),
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
        found = words(question)
        return Query(self.reader.units(found), gram_vector(found))


def _top(scores: FloatArray, count: int) -> npt.NDArray[np.intp]:
    """Indices of the ``count`` highest scores, best first (ties in entry order)."""
    if len(scores) > count * 4:
        part = np.argpartition(-scores, count)[:count]
        return part[np.argsort(-scores[part], kind="stable")]
    return np.argsort(-scores, kind="stable")[:count]
