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

import copy
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Literal

import numpy as np

from bot.calibration import FUSED_MODEL, Logistic
from bot.fusion import Decision as Decision
from bot.fusion import Evidence, entry_coverage, gather, top, verdict
from bot.gc_pause import collector_paused
from bot.index import FloatArray, Index
from bot.knowledge import Entry, KnowledgeBase
from bot.ngrams import NgramIndex, Vector, gram_vector
from bot.phrasing_vectors import SemanticVectors, embed_phrasings
from bot.semantic import Encoder, Progress, VectorCache
from bot.text import asks, words
from bot.vocabulary import Credits, QuestionReader, Unit
from bot.wordlist import german

Stage = Literal["lexical", "semantic", "fused"]
"""Which evidence decides: the lexical matcher alone, the sentence encoder alone (for
evaluation), or both fused (the bot, whenever vectors are ready)."""
MAX_SUGGESTIONS = 3
REMEMBERED_QUESTIONS = 1024
REMEMBERED_CHARS = 200
"""Analyses of questions up to this length are remembered (inline mode asks again with
every keystroke; one reply can rank a question twice). Longer messages are analysed
each time: an analysis holds every n-gram of the message, and 3,000 remembered
1,000-character messages held over 500 MiB."""


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
    real_word_credit: float = 0.5
    strength_floor: float = 0.3
    strength_gain: float = 2.0
    ngram_share: float = 0.4
    ngram_gain: float = 2.0
    rerank: int = 20
    # Fusion (benchmarks/fit_fusion.py measured the choices; README "How matching works").
    lexical_share: float = 0.5
    """The decision blend: lexical score against rescaled cosine (bot/fusion.py)."""
    ranking_weights: tuple[float, float, float] = (0.189, 0.576, 0.235)
    """The fused score, which ranks: lexical score, rescaled cosine and coverage
    (conditional logit on the labelled set, printed by fit_fusion.py)."""
    cosine_floor: float = 0.75
    """e5 cosines below this count as no similarity; [floor, 1] is rescaled to [0, 1]."""
    answer_probability: float = 0.762
    suggest_probability: float = 0.762
    """The lowest that keeps 97 % of the labelled out-of-scope questions rejected
    (fit_fusion.py picks the answer threshold; any suggest threshold up to it is
    feasible, and a lower one turns more near misses into "Meinten Sie …?")."""
    fused_margin: float = 0.04
    """The decision blend's lead over its runner-up an answer needs."""
    suggest_window: float = 0.15
    """Suggest the entries whose fused score is at most this far behind the best."""
    semantic_answer: float = 0.497
    semantic_suggest: float = 0.479
    semantic_margin: float = 0.06
    lexical_shortcut: float = 0.65
    """A question the lexical stage alone answers with this score and twice its margin
    is answered without the encoder: 51 % fewer encoder calls on the labelled set (CPU
    in bursts), and 2 more right answers than 0.75 or no shortcut, none wrong more
    (0.60 costs rejection). 1 turns the shortcut off."""


@dataclass(frozen=True)
class Candidate:
    """An entry and how well it fits the question (0 to 1).

    ``score`` is what ranked it: the lexical score, or the fused score when the semantic
    stage ran, which also fills in both signals.
    """

    entry: Entry
    score: float
    lexical: float | None = None
    cosine: float | None = None


@dataclass(frozen=True)
class Query:
    """An analysed question: its content words resolved, and its n-gram vector."""

    units: tuple[Unit, ...]
    grams: Vector
    asks: bool = False
    """It holds a question word: "Warum WordPress?" asks something, "wordpress" names
    a topic that two entries are about."""


@dataclass(frozen=True)
class LexicalPass:
    """What the lexical stage made of one question, before the encoder is asked."""

    question: str
    query: Query
    scores: FloatArray
    ranking: tuple[Candidate, ...]
    """The lexical candidates, best first: what ``decide`` reads when the stage decides."""
    needs_encoder: bool
    """False when the lexical stage decides alone (lexical-only, a clear lexical
    answer, or no content word)."""


@dataclass(frozen=True)
class MatchResult:
    """The matcher's verdict on one question."""

    decision: Decision
    match: Candidate | None
    suggestions: tuple[Candidate, ...]
    ranking: tuple[Candidate, ...] = field(repr=False)
    units: tuple[Unit, ...] = field(repr=False)
    probability: float | None = None
    """The calibrated probability that the best entry is right (fused stage only)."""
    semantic: bool = False
    """True when the semantic stage took part in this decision."""

    @property
    def confidence(self) -> float:
        """How sure the matcher is of its best entry, 0 to 1 (0 when nothing scored)."""
        if self.probability is not None:
            return self.probability
        return self.ranking[0].score if self.ranking else 0.0


class Matcher:
    """Scores questions against one knowledge base."""

    def __init__(
        self,
        kb: KnowledgeBase,
        settings: MatcherSettings | None = None,
        *,
        semantic: SemanticVectors | None = None,
        stage: Stage = "fused",
        calibration: Logistic = FUSED_MODEL,
    ) -> None:
        self.kb = kb
        self.settings = settings or MatcherSettings()
        self.semantic = semantic
        self.stage: Stage = stage if semantic is not None else "lexical"
        self.calibration = calibration
        with collector_paused():
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
            credits=Credits(
                s.prefix_credit, s.head_credit, s.typo_credit, s.real_word_credit, s.unknown_weight
            ),
            dictionary=german(),
        )
        self.ngrams = NgramIndex(kb.entries)
        self._remembered = lru_cache(maxsize=REMEMBERED_QUESTIONS)(self._analyse)

    def with_semantic(self, semantic: SemanticVectors | None, stage: Stage = "fused") -> Matcher:
        """The same matcher (index shared) with the semantic stage in ``stage``."""
        twin = copy.copy(self)
        twin.semantic = semantic
        twin.stage = stage if semantic is not None else "lexical"
        return twin

    @property
    def semantic_active(self) -> bool:
        """True when answers use the sentence encoder."""
        return self.semantic is not None and self.stage != "lexical"

    def match(self, question: str, lexical: LexicalPass | None = None) -> MatchResult:
        """Rank the entries for a question and decide what to reply.

        ``lexical``: this question's ``lexical_pass``, if the caller already has it.
        """
        if lexical is None or lexical.question != question:
            lexical = self.lexical_pass(question)
        query = lexical.query
        if not lexical.needs_encoder:
            return self.decide(lexical.ranking, query.units)
        return self._decide_fused(self.evidence(question, query, lexical.scores), query)

    def lexical_pass(self, question: str) -> LexicalPass:
        """The lexical stage's part of ``match``, and whether the encoder is needed after
        it (~20 ms); the bot matches only such questions on a worker thread."""
        query = self.analyse(question)
        scores = self.scores(query)
        ranking = self._candidates(scores, MAX_SUGGESTIONS + 2, floor=0.0)
        decided = self._decided_lexically(query, ranking)
        return LexicalPass(question, query, scores, ranking, needs_encoder=not decided)

    def _decided_lexically(self, query: Query, ranking: tuple[Candidate, ...]) -> bool:
        if not self.semantic_active or not query.units:
            # No content word ("hallo", an emoji): nothing for either stage to go on.
            return True
        if self.stage != "fused" or self.settings.lexical_shortcut >= 1:
            return False
        # A clear lexical answer skips the encoder.
        first = ranking[0].score if ranking else 0.0
        lead = first - (ranking[1].score if len(ranking) > 1 else 0.0)
        return first >= self.settings.lexical_shortcut and lead >= 2 * self.settings.margin

    def evidence(
        self, question: str, query: Query | None = None, lexical: FloatArray | None = None
    ) -> Evidence:
        """Both signals for every entry, fused, and the features of the best entry."""
        assert self.semantic is not None, "evidence() needs the semantic stage"
        query = query or self.analyse(question)
        lexical = self.scores(query) if lexical is None else lexical
        cosines = self.semantic.entry_cosines(self.semantic.encoder_text(question, query.units))
        coverage = entry_coverage(self.index, query.units, len(self.kb.entries))
        return gather(
            lexical,
            cosines,
            coverage,
            query.units,
            self.settings,
            semantic_only=self.stage == "semantic",
            keep=MAX_SUGGESTIONS + 2,
        )

    def _decide_fused(self, evidence: Evidence, query: Query) -> MatchResult:
        """The verdict on the fused evidence, with the entries to offer beside it."""
        s = self.settings
        decision, probability = verdict(
            evidence,
            s,
            self.calibration,
            semantic_only=self.stage == "semantic",
            one_word=len(query.units) == 1,
            asks=query.asks,
        )
        top_score = float(evidence.fused[evidence.order[0]])
        ranking = tuple(
            Candidate(
                self.kb.entries[int(number)],
                round(float(evidence.fused[number]), 4),
                lexical=round(float(evidence.lexical[number]), 4),
                cosine=round(float(evidence.cosine[number]), 4),
            )
            for number in evidence.order
        )
        match = ranking[0] if decision == "answer" else None
        if decision == "none":
            # Closest topics only where the words themselves point there.
            suggestions = tuple(c for c in ranking if (c.lexical or 0.0) >= s.suggestion_floor)
        else:
            suggestions = tuple(c for c in ranking[1:] if c.score >= top_score - s.suggest_window)
            if decision == "suggest":
                suggestions = (ranking[0], *suggestions)
        return MatchResult(
            decision,
            match,
            suggestions[:MAX_SUGGESTIONS],
            ranking,
            query.units,
            probability=probability,
            semantic=True,
        )

    def rank(self, question: str, limit: int) -> tuple[Candidate, ...]:
        """The best ``limit`` entries that fit at all, best first (for inline mode)."""
        scores = self.scores(self.analyse(question))
        return self._candidates(scores, limit, floor=self.settings.suggestion_floor)

    def _candidates(self, scores: FloatArray, limit: int, *, floor: float) -> tuple[Candidate, ...]:
        """The best ``limit`` entries that scored at all and at least ``floor``."""
        return tuple(
            Candidate(self.kb.entries[int(number)], round(float(scores[number]), 4))
            for number in top(scores, limit)
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
        candidates = top(scores, s.rerank)
        scores *= 1 - s.ngram_share
        similarities = self.ngrams.similarities(query.grams, map(int, candidates))
        for number, similarity in zip(candidates, similarities, strict=True):
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

    def analyse(self, question: str) -> Query:
        """The question's units and n-gram vector; short questions are remembered."""
        if len(question) > REMEMBERED_CHARS:
            return self._analyse(question)
        return self._remembered(question)

    def _analyse(self, question: str) -> Query:
        # One-letter words count where staff made one a keyword (X, once Twitter);
        # the entries' n-gram vectors are of longer words only, so the question's is too.
        found = words(question, letters=True)
        longer = [word for word in found if len(word.text) > 1]
        return Query(self.reader.units(found), gram_vector(longer), asks(found))


def build_matcher(
    kb: KnowledgeBase,
    *,
    encoder: Encoder | None,
    cache_folder: Path | None,
    settings: MatcherSettings | None = None,
    progress: Progress | None = None,
    indexing: AbstractContextManager[None] | None = None,
) -> Matcher:
    """A matcher with the semantic stage when there is an encoder (blocks while embedding).

    ``indexing`` is entered while the lexical index is built, ``progress`` gets the
    embedding's steps."""
    with indexing or nullcontext():
        matcher = Matcher(kb, settings)
    if encoder is None:
        return matcher
    cache = VectorCache(cache_folder, encoder.model_id, encoder.dimension)
    return matcher.with_semantic(embed_phrasings(kb, encoder, cache, progress=progress))
