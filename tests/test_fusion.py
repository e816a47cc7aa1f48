"""The fused ranking and the verdict: an answer needs both blends to name one entry."""

from __future__ import annotations

import numpy as np

from bot.calibration import FEATURES, Logistic, fit_ranking
from bot.fusion import gather, verdict
from bot.matcher import MatcherSettings
from bot.vocabulary import Unit

SURE = Logistic(
    mean=(0.0,) * len(FEATURES),
    scale=(1.0,) * len(FEATURES),
    weights=(30.0,) + (0.0,) * len(FEATURES),
)
"""A calibration that is always sure: what remains to decide is the margin and agreement."""
UNITS = tuple(Unit(word, 1.0, ((word, 1.0),), "exact") for word in ("konto", "sperre", "hilfe"))


def decide(
    lexical: list[float],
    cosine: list[float],
    coverage: list[float],
    units: tuple[Unit, ...] = UNITS,
    *,
    asks: bool = False,
) -> tuple[str, int]:
    settings = MatcherSettings()
    evidence = gather(
        np.array(lexical),
        np.array(cosine),
        np.array(coverage),
        units,
        settings,
        semantic_only=False,
        keep=3,
    )
    decision, _ = verdict(
        evidence, settings, SURE, semantic_only=False, one_word=len(units) == 1, asks=asks
    )
    return decision, int(evidence.order[0])


def test_both_blends_naming_one_entry_is_answered() -> None:
    decision, best = decide([0.9, 0.3, 0.1], [0.95, 0.8, 0.78], [1.0, 0.3, 0.0])
    assert (decision, best) == ("answer", 0)


def test_coverage_reorders_the_ranking_and_blocks_the_answer() -> None:
    # Entry 0 leads the lexical/cosine blend; entry 1 explains the whole question and
    # leads the fused ranking. Two readings of the evidence: suggest, never answer.
    decision, best = decide([0.62, 0.55, 0.1], [0.92, 0.91, 0.78], [0.2, 1.0, 0.0])
    assert best == 1
    assert decision == "suggest"


def test_bare_keyword_needs_a_clear_lexical_lead_a_question_does_not() -> None:
    # "wordpress" names two entries' topic (lexical lead 0.05): suggest both, however
    # sure the calibration. "Warum WordPress?" asks for one of them: answered.
    word = (Unit("wordpress", 1.0, (("wordpress", 1.0),), "exact"),)
    evidence = ([0.70, 0.65, 0.1], [0.95, 0.85, 0.78], [1.0, 1.0, 0.0])
    assert decide(*evidence, word) == ("suggest", 0)
    assert decide(*evidence, word, asks=True) == ("answer", 0)
    # Three content words: the lead of the lexical stage alone is not asked for.
    assert decide(*evidence) == ("answer", 0)


def test_fit_ranking_weights_the_column_that_picks_the_right_entry() -> None:
    rng = np.random.default_rng(0)
    features, targets = [], []
    for _ in range(60):
        rows = rng.uniform(size=(5, 2))
        target = int(rng.integers(5))
        rows[target, 0] += 0.5  # column 0 points at the right entry, column 1 is noise
        features.append(rows)
        targets.append(target)
    weights = fit_ranking(features, targets)
    assert abs(sum(weights) - 1.0) < 1e-9
    assert weights[0] > 0.8
