"""One confidence from two signals: the evidence about the best entry, and the verdict.

Two blends of the same evidence per entry, each with one job:

- the **fused score** ranks: lexical score, rescaled cosine and coverage (the share of
  the question the entry's own words explain), weighted as a conditional logit fitted
  on the labelled set (``benchmarks/fit_fusion.py``). Coverage orders the runner-up
  entries better than the two signals alone: held-out top-3 98.9 -> 100 %, and top-1
  of a knowledge base without alternatives 93.3 -> 97.2 % (labelled);
- the **blend** (half lexical score, half cosine) is what the calibrated probability
  (``bot.calibration``) of features that say how the evidence agrees was fitted on.
  An answer needs that probability, the blend's lead over its runner-up (which is what
  keeps wrong answers down), and both blends naming the same entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np
import numpy.typing as npt

from bot.calibration import Logistic
from bot.index import FloatArray, Index
from bot.vocabulary import Unit

if TYPE_CHECKING:
    from bot.matcher import MatcherSettings

Decision = Literal["answer", "suggest", "none"]


@dataclass(frozen=True)
class Evidence:
    """Both signals for every entry and the features of the best one (fused stage)."""

    lexical: FloatArray
    cosine: FloatArray
    fused: FloatArray
    """What ranks (``order``, best first)."""
    order: npt.NDArray[np.intp]
    blend: FloatArray
    """What the calibration's features describe, for its best entry ``blend_best``."""
    blend_best: int
    margin: float
    """The blend's lead of its best entry over the runner-up (also a feature)."""
    features: tuple[float, ...]

    @property
    def agree(self) -> bool:
        """Both blends name the same best entry."""
        return int(self.order[0]) == self.blend_best


def entry_coverage(index: Index, units: tuple[Unit, ...], entry_count: int) -> FloatArray:
    """The share of the question's weight each entry's own words account for.

    Unlike the lexical score this ignores how strongly an entry is about a word: it
    asks only what of the question is left unexplained ("Mehrsprachige Erziehung" is
    half explained by the multilingual-websites entry, "Erziehung" not at all).
    """
    coverage = np.zeros(entry_count)
    total = sum(unit.weight for unit in units) or 1.0
    for unit in units:
        best = np.zeros(entry_count)
        for term, credit in unit.forms:
            strong = index.postings[term].strong_entries
            best[strong] = np.maximum(best[strong], credit)
        coverage += unit.weight * best
    result: FloatArray = coverage / total
    return result


def gather(
    lexical: FloatArray,
    cosines: FloatArray,
    coverage: FloatArray,
    units: tuple[Unit, ...],
    settings: MatcherSettings,
    *,
    semantic_only: bool,
    keep: int,
) -> Evidence:
    """Fuse both signals and collect the features of the best entry."""
    s = settings
    similarity = np.clip((cosines - s.cosine_floor) / (1 - s.cosine_floor), 0.0, 1.0)
    if semantic_only:
        fused = blend = similarity
    else:
        blend = s.lexical_share * lexical + (1 - s.lexical_share) * similarity
        lexical_weight, cosine_weight, coverage_weight = s.ranking_weights
        fused = lexical_weight * lexical + cosine_weight * similarity + coverage_weight * coverage
    order = top(fused, keep)
    best = int(top(blend, 1)[0])
    total = sum(unit.weight for unit in units) or 1.0
    unknown = sum(unit.weight for unit in units if not unit.known) / total
    margin = float(blend[best]) - best_other(blend, best)
    features = (
        float(blend[best]),
        margin,
        float(lexical[best]),
        float(lexical[best]) - best_other(lexical, best),
        float(cosines[best]),
        float(cosines[best]) - best_other(cosines, best),
        float(int(np.argmax(lexical)) == best and int(np.argmax(cosines)) == best),
        unknown,
        float(np.log1p(len(units))),
        float(coverage[best]),
        float(coverage[best]) - best_other(coverage, best),
    )
    return Evidence(lexical, cosines, fused, order, blend, best, margin, features)


def verdict(
    evidence: Evidence,
    settings: MatcherSettings,
    calibration: Logistic,
    *,
    semantic_only: bool,
    one_word: bool,
    asks: bool,
) -> tuple[Decision, float | None]:
    """Answer when confident, clearly ahead and named by both blends; suggest when
    plausible; else none.

    ``one_word``: the question has one content word; ``asks``: it has a question word."""
    s = settings
    top_score = float(evidence.fused[evidence.order[0]])
    probability: float | None
    if semantic_only:
        probability = None
        confident = top_score >= s.semantic_answer and evidence.margin >= s.semantic_margin
        plausible = top_score >= s.semantic_suggest
    else:
        probability = round(calibration.probability(evidence.features), 4)
        confident = (
            probability >= s.answer_probability
            and evidence.margin >= s.fused_margin
            and evidence.agree
        )
        plausible = probability >= s.suggest_probability
        if one_word:
            # One word ("wordpress", "spam"): the cosine of a single word says little,
            # and two entries about it are two meanings. Decide as the lexical stage
            # does: answer only with a clear lexical lead, else suggest. A question
            # word ("Warum WordPress?") says which meaning is asked for, so only the
            # lead is waived (the reply to an answered one-word question offers the
            # runner-up as well); "Was ist Spam?" still gets both spam entries.
            lexical_lead = evidence.features[3] >= s.margin
            confident = confident and (lexical_lead or asks)
            plausible = plausible or evidence.features[2] >= s.suggest_threshold
    return ("answer" if confident else "suggest" if plausible else "none"), probability


def best_other(scores: FloatArray, best: int) -> float:
    """The highest score of any entry but ``best``."""
    if len(scores) < 2:
        return 0.0
    two = np.partition(scores, -2)[-2:]
    return float(two[0] if scores[best] >= two[1] else two[1])


def top(scores: FloatArray, count: int) -> npt.NDArray[np.intp]:
    """Indices of the ``count`` highest scores, best first (ties in entry order)."""
    if len(scores) > count * 4:
        part = np.argpartition(-scores, count)[:count]
        return part[np.argsort(-scores[part], kind="stable")]
    return np.argsort(-scores, kind="stable")[:count]
