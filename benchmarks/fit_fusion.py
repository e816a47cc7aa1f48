"""Compare ways to fuse lexical and semantic evidence; fit the calibrated confidence.

    python benchmarks/fit_fusion.py [--faq-dir faq] [--cache-dir DIR] [--seeds N]
                                    [--learning-curve]

For every variant the decision thresholds (answer / suggest, and the margin to the
runner-up) are chosen on the labelled set (tests/data/questions.yaml) under the
product's limits: at most 1 % wrong answers and at least 97 % of out-of-scope
questions rejected. The held-out set (tests/data/holdout.yaml) is then scored with
the same thresholds, unchanged. The logistic regression is scored on the labelled set
out of fold (5-fold cross-validation), on the held-out set as fitted on all labelled
questions.

Variants: entry score = best phrasing (max), mean over phrasings, or the contrast (a
linear discriminant of the phrasings, tried and not shipped); the answer text as a
second phrasing-like signal or not; weighted blend at several lexical shares vs
reciprocal rank fusion; thresholds on the blend vs the calibrated probability.
Then the contrast's ridge, out of fold over ``--seeds`` fold splits; candidate extra
features for the calibrated model, scored on two fold splits
(differences smaller than the split moves them are noise), and the weights of the
fused score that ranks (lexical, cosine, coverage; a conditional logit, top-1/top-3 in
sample and out of fold); with ``--learning-curve``, whether more labelled questions
would help the calibration. Prints a table, then the fitted values for bot/matcher.py
and bot/calibration.py.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import numpy.typing as npt

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.calibration import Logistic, cross_validated, fit, fit_ranking  # noqa: E402
from bot.evaluation import LabelledQuestion, load_labelled_set  # noqa: E402
from bot.fusion import entry_coverage  # noqa: E402
from bot.knowledge import KnowledgeBase, load_knowledge_base  # noqa: E402
from bot.matcher import Matcher, MatcherSettings  # noqa: E402
from bot.phrasing_vectors import embed_phrasings, mean_vectors  # noqa: E402
from bot.semantic import VectorCache, embed, load_encoder  # noqa: E402
from bot.text import clean  # noqa: E402

Floats = npt.NDArray[np.float64]
MAX_WRONG, MIN_REJECTED = 0.01, 0.97


@dataclass
class Signals:
    """Raw evidence for one question: lexical scores, phrasing and answer cosines,
    contrast scores (``fit_contrast``, at ``CONTRAST_RIDGE``)."""

    expected: str | None
    lexical: Floats
    phrasing_cosines: Floats
    answer_cosines: Floats
    features_base: tuple[float, float]  # unknown share, log content words
    coverage: Floats
    vector: npt.NDArray[np.float32]
    contrast: Floats


CONTRAST_RIDGE = 3.0


@dataclass(frozen=True)
class Contrast:
    """Per entry, the direction that sets its phrasings apart, and the centre."""

    centre: Floats
    directions: Floats
    """One row per entry, scaled so that the entry's mean phrasing scores 1."""

    def scores(self, vector: npt.NDArray[np.float32]) -> Floats:
        result: Floats = self.directions @ (vector - self.centre)
        return result


def fit_contrast(
    vectors: npt.NDArray[np.float32],
    owners: npt.NDArray[np.int32],
    count: int,
    ridge: float = CONTRAST_RIDGE,
) -> Contrast:
    """A discriminative reading of the phrasing vectors, tried and not shipped (README,
    "Why this fusion"): how far a question lies along what sets entry k's phrasings
    apart from all others', ``(S + ridge·s̄·I)⁻¹ m_k`` with ``S`` the covariance of the
    centred phrasings, ``s̄`` its average variance and ``m_k`` entry k's centred mean;
    scaled so that the entry's mean phrasing scores 1 and the centre 0. Fitted on the
    knowledge base's own phrasings only (closed form, ~0.2 s at 30,000 phrasings)."""
    data = vectors.astype(np.float64)
    centre = data.mean(axis=0)
    centred = data - centre
    spread = centred.T @ centred / len(data)
    average = float(np.trace(spread)) / spread.shape[0]
    means = mean_vectors(centred.astype(np.float32), owners, count).astype(np.float64)
    regularised = spread + ridge * average * np.eye(spread.shape[0])
    directions = np.linalg.solve(regularised, means.T).T
    own = np.einsum("kd,kd->k", directions, means)
    return Contrast(centre, directions / own[:, None])


def collect(
    kb: KnowledgeBase, questions: list[LabelledQuestion], cache: VectorCache
) -> tuple[list[Signals], npt.NDArray[np.int32], npt.NDArray[np.float32]]:
    """The signals of every question, the entry of each phrasing, and its vector."""
    encoder, _ = load_encoder("on")
    assert encoder is not None
    semantic = embed_phrasings(kb, encoder, cache)
    answers = embed(encoder, cache, [clean(e.answer, None) for e in kb.entries])
    matcher = Matcher(kb).with_semantic(semantic)
    queries = [matcher.analyse(q.text) for q in questions]
    texts = [
        semantic.encoder_text(q.text, query.units)
        for q, query in zip(questions, queries, strict=True)
    ]
    vectors = embed(encoder, cache, texts)
    contrast = fit_contrast(semantic.vectors, semantic.phrasing_entry, len(kb.entries))
    signals = []
    for question, query, vector in zip(questions, queries, vectors, strict=True):
        total = sum(u.weight for u in query.units) or 1.0
        unknown = sum(u.weight for u in query.units if not u.known) / total
        signals.append(
            Signals(
                question.expected,
                matcher.scores(query),
                semantic.vectors @ vector,
                answers @ vector,
                (unknown, float(np.log1p(len(query.units)))),
                entry_coverage(matcher.index, query.units, len(kb.entries)),
                vector,
                contrast.scores(vector),
            )
        )
    return signals, semantic.phrasing_entry, semantic.vectors


def with_contrast(signals: list[Signals], contrast: Contrast) -> list[Signals]:
    """The same signals with another contrast's scores (another ridge)."""
    return [replace(s, contrast=contrast.scores(s.vector)) for s in signals]


def entry_cosines(signal: Signals, owners: npt.NDArray[np.int32], how: str) -> Floats:
    """Per entry: best (max) or mean phrasing cosine, or the contrast score."""
    if how == "contrast":
        return signal.contrast
    count = int(owners.max()) + 1
    if how == "max":
        best = np.full(count, -1.0)
        np.maximum.at(best, owners, signal.phrasing_cosines)
        return best
    sums = np.bincount(owners, weights=signal.phrasing_cosines, minlength=count)
    return sums / np.bincount(owners, minlength=count)


def fuse(
    lexical: Floats, cosines: Floats, method: str, share: float, *, contrast: bool = False
) -> Floats:
    """The score an entry ranks by. ``contrast``: ``cosines`` holds contrast scores,
    already on the 0-to-1 scale (clipped), not e5 cosines to rescale."""
    similarity = np.clip(cosines, 0, 1) if contrast else np.clip((cosines - 0.75) / 0.25, 0, 1)
    if method == "lexical":
        return lexical
    if method == "semantic":
        return similarity
    if method == "rrf":
        lexical_rank = np.argsort(np.argsort(-lexical, kind="stable"))
        cosine_rank = np.argsort(np.argsort(-cosines, kind="stable"))
        return 1 / (60 + lexical_rank) + 1 / (60 + cosine_rank)
    return share * lexical + (1 - share) * similarity


@dataclass
class Row:
    expected: str | None
    ranked: list[str]
    top: float
    margin: float
    features: list[float]


def rows_for(
    kb: KnowledgeBase,
    signals: list[Signals],
    owners: npt.NDArray[np.int32],
    *,
    how: str,
    answer_text: bool,
    method: str,
    share: float,
) -> list[Row]:
    ids = [entry.id for entry in kb.entries]
    rows = []
    for signal in signals:
        cosines = entry_cosines(signal, owners, how)
        if answer_text:
            cosines = 0.8 * cosines + 0.2 * signal.answer_cosines
        fused = fuse(signal.lexical, cosines, method, share, contrast=how == "contrast")
        order = np.argsort(-fused, kind="stable")
        best = int(order[0])

        def other(scores: Floats, best: int = best) -> float:
            return float(np.delete(scores, best).max()) if len(scores) > 1 else 0.0

        lexical = signal.lexical
        features = [
            float(fused[best]),
            float(fused[best] - fused[order[1]]),
            float(lexical[best]),
            float(lexical[best]) - other(lexical),
            float(cosines[best]),
            float(cosines[best]) - other(cosines),
            float(int(np.argmax(lexical)) == best and int(np.argmax(cosines)) == best),
            *signal.features_base,
            float(signal.coverage[best]),
            float(signal.coverage[best]) - other(signal.coverage),
        ]
        if how == "contrast":  # the mean cosine beside the contrast, as two more features
            mean = entry_cosines(signal, owners, "mean")
            features += [float(mean[best]), float(mean[best]) - other(mean)]
        rows.append(
            Row(
                signal.expected,
                [ids[int(i)] for i in order[:3]],
                float(fused[best]),
                float(fused[best] - fused[order[1]]),
                features,
            )
        )
    return rows


def right_labels(rows: list[Row]) -> Floats:
    """What the calibration learns: 1 where the best entry is the right answer."""
    return np.array([float(r.expected is not None and r.ranked[0] == r.expected) for r in rows])


def score(
    rows: list[Row], confidence: Floats, answer: float, suggest: float, margin: float
) -> dict[str, float]:
    inside = [i for i, r in enumerate(rows) if r.expected is not None]
    outside = [i for i, r in enumerate(rows) if r.expected is None]
    answered = [confidence[i] >= answer and rows[i].margin >= margin for i in range(len(rows))]
    right = sum(1 for i in inside if answered[i] and rows[i].ranked[0] == rows[i].expected)
    wrong = sum(1 for i, r in enumerate(rows) if answered[i] and r.ranked[0] != r.expected)
    rejected = sum(1 for i in outside if confidence[i] < suggest and not answered[i])
    return {
        "answered": right / max(1, len(inside)),
        "wrong": wrong / len(rows),
        "rejected": rejected / max(1, len(outside)),
        "top1": sum(1 for i in inside if rows[i].ranked[0] == rows[i].expected) / len(inside),
        "top3": sum(1 for i in inside if rows[i].expected in rows[i].ranked) / len(inside),
        "precision": right / max(1, sum(answered)),
    }


def tune(rows: list[Row], confidence: Floats) -> tuple[float, float, float]:
    """The thresholds answering most in-scope questions right within the limits."""
    grid = np.unique(np.round(np.quantile(confidence, np.linspace(0.02, 0.98, 97)), 3))
    best, chosen = -1.0, (1.0, 1.0, 0.0)
    for answer, suggest, margin in itertools.product(grid, grid, (0, 0.02, 0.04, 0.06, 0.08, 0.1)):
        if suggest > answer:
            continue
        figures = score(rows, confidence, answer, suggest, margin)
        feasible = figures["wrong"] <= MAX_WRONG and figures["rejected"] >= MIN_REJECTED
        if feasible and figures["answered"] > best:
            best, chosen = figures["answered"], (float(answer), float(suggest), margin)
    return chosen


EXTRA_FEATURES = {
    "+ best-phrasing cosine and lead": (0, 1),
    "+ that and its top-1 agreeing": (0, 1, 4),
    "+ answer-text cosine and lead": (2, 3),
    "+ all of them": (0, 1, 2, 3, 4),
}


def extra_features(signals: list[Signals], owners: npt.NDArray[np.int32], share: float) -> Floats:
    """Candidate features beyond the shipped eleven, for the best entry of blend mean."""
    result = []
    for signal in signals:
        best_cosines = entry_cosines(signal, owners, "max")
        fused = fuse(signal.lexical, entry_cosines(signal, owners, "mean"), "blend", share)
        best = int(np.argmax(fused))

        def lead(scores: Floats, best: int = best) -> float:
            return float(scores[best] - np.delete(scores, best).max())

        result.append(
            [
                float(best_cosines[best]),
                lead(best_cosines),
                float(signal.answer_cosines[best]),
                lead(signal.answer_cosines),
                float(int(np.argmax(best_cosines)) == best),
            ]
        )
    return np.array(result)


def compare_features(
    kb: KnowledgeBase,
    signals: list[Signals],
    holdout: list[Signals],
    owners: npt.NDArray[np.int32],
) -> None:
    """Labelled answered-right of the calibrated blend with extra features, two splits."""
    share = MatcherSettings().lexical_share
    print(f"\nCalibrated blend mean lex {share:.2f}, extra features (cross-validated):")
    options = {"how": "mean", "answer_text": False, "method": "blend", "share": share}
    rows = rows_for(kb, signals, owners, **options)  # type: ignore[arg-type]
    rows_h = rows_for(kb, holdout, owners, **options)  # type: ignore[arg-type]
    base, base_h = np.array([r.features for r in rows]), np.array([r.features for r in rows_h])
    extra, extra_h = extra_features(signals, owners, share), extra_features(holdout, owners, share)
    labels = right_labels(rows)
    for name, columns in {"shipped eleven": (), **EXTRA_FEATURES}.items():
        features = np.c_[base, extra[:, list(columns)]]
        features_h = np.c_[base_h, extra_h[:, list(columns)]]
        figures = []
        for seed in (0, 1):
            confidence = cross_validated(features, labels, seed=seed)
            thresholds = tune(rows, confidence)
            figures.append(score(rows, confidence, *thresholds)["answered"])
            if seed == 0:
                model = fit(features, labels)
                held = score(rows_h, model.probabilities(features_h), *thresholds)
        print(
            f"  {name:<34} labelled answered {figures[0]:.1%} (fold split 2: {figures[1]:.1%})"
            f" | held-out answered {held['answered']:.1%} wrong {held['wrong']:.1%}"
        )


LEARNING_CURVE = ((5, 0.5), (5, 0.75), (5, 1.0), (10, 1.0), (20, 1.0))
"""(folds, share of the other folds trained on): the training set grows from 40 % to
95 % of the labelled questions."""


def learning_curve(
    kb: KnowledgeBase, signals: list[Signals], owners: npt.NDArray[np.int32], *, seeds: int
) -> None:
    """Labelled answered-right out of fold as the calibration sees more questions: if
    the figure still climbs at the full set, more labelled questions would pay."""
    share = MatcherSettings().lexical_share
    rows = rows_for(kb, signals, owners, how="mean", answer_text=False, method="blend", share=share)
    features, labels = np.array([r.features for r in rows]), right_labels(rows)
    print(f"\nLearning curve, calibrated blend lex {share:.2f}, {seeds} fold splits:")
    for folds, kept_share in LEARNING_CURVE:
        answered = []
        for seed in range(seeds):
            confidence = cross_validated(
                features, labels, folds=folds, seed=seed, train_share=kept_share
            )
            answered.append(score(rows, confidence, *tune(rows, confidence))["answered"])
        trained = round((folds - 1) / folds * kept_share * len(labels))
        print(
            f"  trained on ~{trained:>3} questions: labelled out of fold {np.mean(answered):.2%}"
            f" (sd {np.std(answered):.2%})"
        )


RIDGES = (1.0, 2.0, 3.0, 5.0, 10.0)


def compare_ridges(
    kb: KnowledgeBase,
    signals: list[Signals],
    holdout: list[Signals],
    owners: npt.NDArray[np.int32],
    vectors: npt.NDArray[np.float32],
    *,
    seeds: int,
) -> None:
    """The contrast's ridge: labelled answered-right out of fold over many fold splits
    (the one figure it is chosen by), beside the rescaled mean cosine it replaces."""
    share = MatcherSettings().lexical_share
    print(f"\nContrast ridge, calibrated blend lex {share:.2f}, {seeds} fold splits:")
    options: list[tuple[str, str, float]] = [("cosine (mean)", "mean", 0.0)]
    for ridge in RIDGES:
        shipped = " (as in the table)" if ridge == CONTRAST_RIDGE else ""
        options.append((f"contrast ridge {ridge:g}{shipped}", "contrast", ridge))
    for name, how, ridge in options:
        labelled, held = signals, holdout
        if how == "contrast":  # one fit per ridge, for both sets
            contrast = fit_contrast(vectors, owners, len(kb.entries), ridge)
            labelled, held = with_contrast(signals, contrast), with_contrast(holdout, contrast)
        rows = rows_for(
            kb, labelled, owners, how=how, answer_text=False, method="blend", share=share
        )
        rows_h = rows_for(kb, held, owners, how=how, answer_text=False, method="blend", share=share)
        features = np.array([r.features for r in rows])
        labels = right_labels(rows)
        answered = []
        for seed in range(seeds):
            confidence = cross_validated(features, labels, seed=seed)
            answered.append(score(rows, confidence, *tune(rows, confidence))["answered"])
        model = fit(features, labels)
        confidence = model.probabilities(features)
        thresholds = tune(rows, confidence)
        held_figures = score(
            rows_h, model.probabilities(np.array([r.features for r in rows_h])), *thresholds
        )
        top1 = score(rows, confidence, *thresholds)["top1"]
        print(
            f"  {name:<22} labelled out of fold {np.mean(answered):.2%} (sd {np.std(answered):.2%})"
            f"  top-1 {top1:.1%} | held-out answered {held_figures['answered']:.1%}"
            f" wrong {held_figures['wrong']:.1%} top-1 {held_figures['top1']:.1%}"
        )


def ranking_parts(signal: Signals, owners: npt.NDArray[np.int32], *, coverage: bool) -> Floats:
    """Per entry: lexical score, rescaled mean cosine and (optionally) coverage."""
    similarity = fuse(signal.lexical, entry_cosines(signal, owners, "mean"), "semantic", 0.0)
    columns = [signal.lexical, similarity] + ([signal.coverage] if coverage else [])
    return np.stack(columns, axis=1)


def reach(
    signals: list[Signals], ids: list[str], owners: npt.NDArray[np.int32], weights: Floats
) -> tuple[float, float]:
    """Top-1 and top-3 of the in-scope questions under a linear ranking score."""
    inside = [s for s in signals if s.expected is not None]
    first = third = 0
    for signal in inside:
        parts = ranking_parts(signal, owners, coverage=len(weights) == 3)
        order = np.argsort(-(parts @ weights), kind="stable")
        right = ids.index(str(signal.expected))
        first += int(order[0] == right)
        third += int(right in order[:3])
    return first / len(inside), third / len(inside)


def compare_rankings(
    kb: KnowledgeBase,
    signals: list[Signals],
    holdout: list[Signals],
    owners: npt.NDArray[np.int32],
) -> tuple[float, ...]:
    """The fused score's weights (conditional logit), against the decision blend."""
    ids = [entry.id for entry in kb.entries]
    inside = [s for s in signals if s.expected is not None]
    share = MatcherSettings().lexical_share
    print("\nRanking (fused score), top-1 / top-3 of in-scope questions:")
    candidates: dict[str, tuple[float, ...]] = {"blend lexical/cosine": (share, 1 - share)}
    for coverage in (False, True):
        name = "fitted lexical/cosine" + ("/coverage" if coverage else "")
        features = [ranking_parts(s, owners, coverage=coverage) for s in inside]
        targets = [ids.index(str(s.expected)) for s in inside]
        candidates[name] = fit_ranking(features, targets)
    for name, weights in candidates.items():
        folds = 5
        right = [0, 0]
        if name.startswith("fitted"):
            for fold in range(folds):  # out of fold: the weights never saw the question
                kept = [s for i, s in enumerate(inside) if i % folds != fold]
                held = [s for i, s in enumerate(inside) if i % folds == fold]
                coverage = len(weights) == 3
                fold_weights = fit_ranking(
                    [ranking_parts(s, owners, coverage=coverage) for s in kept],
                    [ids.index(str(s.expected)) for s in kept],
                )
                one, three = reach(held, ids, owners, np.array(fold_weights))
                right[0] += round(one * len(held))
                right[1] += round(three * len(held))
            cv = f"  (out of fold {right[0] / len(inside):.1%} / {right[1] / len(inside):.1%})"
        else:
            cv = ""
        labelled = reach(signals, ids, owners, np.array(weights))
        held_out = reach(holdout, ids, owners, np.array(weights))
        print(
            f"  {name:<34} weights {', '.join(f'{w:.3f}' for w in weights):<22}"
            f" labelled {labelled[0]:.1%} / {labelled[1]:.1%}{cv}"
            f" | held-out {held_out[0]:.1%} / {held_out[1]:.1%}"
        )
    return candidates["fitted lexical/cosine/coverage"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--faq-dir", type=Path, default=ROOT / "faq")
    parser.add_argument("--cache-dir", type=Path, default=None)
    parser.add_argument(
        "--seeds", type=int, default=20, help="fold splits per ridge in the ridge comparison"
    )
    parser.add_argument(
        "--learning-curve",
        action="store_true",
        help="also score the calibration trained on fewer questions (a few minutes)",
    )
    args = parser.parse_args()
    cache_dir = args.cache_dir or Path(tempfile.mkdtemp(prefix="faqbot-fit-"))
    full = load_knowledge_base(args.faq_dir)
    reduced = replace(full, entries=tuple(replace(e, alternatives=()) for e in full.entries))
    labelled = load_labelled_set(ROOT / "tests/data/questions.yaml", full)
    holdout = load_labelled_set(ROOT / "tests/data/holdout.yaml", full)
    encoder, _ = load_encoder("on")
    assert encoder is not None
    cache = VectorCache(cache_dir, encoder.model_id, encoder.dimension)

    print(
        f"{'knowledge base':<15}{'variant':<34}{'decides on':<12}"
        "  labelled: answered wrong rejected top-3 |  held-out: answered wrong rejected top-3"
    )
    fitted = None
    for kb_name, kb in (("full", full), ("questions-only", reduced)):
        signals_l, owners, vectors = collect(kb, labelled, cache)
        signals_h, _, _ = collect(kb, holdout, cache)
        if kb_name == "full":
            full_signals = (kb, signals_l, signals_h, owners)
            full_vectors = vectors
        variants = [("lexical", "-", False, 1.0), ("semantic", "mean", False, 0.0)]
        variants += [("semantic", "max", False, 0.0), ("semantic", "contrast", False, 0.0)]
        variants += [("rrf", "mean", False, 0.0), ("rrf", "contrast", False, 0.0)]
        for how, answer_text in itertools.product(("max", "mean"), (False, True)):
            variants += [("blend", how, answer_text, share) for share in (0.2, 0.35, 0.5)]
        variants += [("blend", "contrast", False, share) for share in (0.35, 0.5, 0.65)]
        if kb_name == "questions-only":
            variants = [v for v in variants if not v[2]]
        for method, how, answer_text, share in variants:
            options = {
                "how": "mean" if how == "-" else how,
                "answer_text": answer_text,
                "method": method,
                "share": share,
            }
            rows_l = rows_for(kb, signals_l, owners, **options)  # type: ignore[arg-type]
            rows_h = rows_for(kb, signals_h, owners, **options)  # type: ignore[arg-type]
            name = f"{method} {how}" + (f" lex {share:.2f}" if method == "blend" else "")
            name += " +answer" if answer_text else ""
            deciders: list[tuple[str, Floats, Logistic | None]] = [
                ("score", np.array([r.top for r in rows_l]), None)
            ]
            if method == "blend":
                features = np.array([r.features for r in rows_l])
                labels = right_labels(rows_l)
                deciders.append(
                    ("calibrated", cross_validated(features, labels), fit(features, labels))
                )
            for decider, confidence_l, model in deciders:
                answer, suggest, margin = tune(rows_l, confidence_l)
                if model is None:
                    confidence_h = np.array([r.top for r in rows_h])
                else:
                    confidence_h = model.probabilities(np.array([r.features for r in rows_h]))
                left = score(rows_l, confidence_l, answer, suggest, margin)
                right = score(rows_h, confidence_h, answer, suggest, margin)
                print(
                    f"{kb_name:<15}{name:<34}{decider:<12}"
                    f"  {left['answered']:>17.1%} {left['wrong']:>5.1%} {left['rejected']:>8.1%}"
                    f" {left['top3']:>5.1%} | {right['answered']:>18.1%} {right['wrong']:>5.1%}"
                    f" {right['rejected']:>8.1%} {right['top3']:>5.1%}"
                    f"   (answer {answer:.3f}, suggest {suggest:.3f}, margin {margin})"
                )
                chosen = MatcherSettings()
                if (
                    kb_name == "full"
                    and model is not None
                    and how == "mean"
                    and not answer_text
                    and share == chosen.lexical_share
                ):
                    fitted = (model, answer, suggest, margin)
    compare_ridges(*full_signals, full_vectors, seeds=args.seeds)
    compare_features(*full_signals)
    if args.learning_curve:
        full_kb, labelled_signals, _, full_owners = full_signals
        learning_curve(full_kb, labelled_signals, full_owners, seeds=args.seeds)
    ranking_weights = compare_rankings(*full_signals)
    print(f"\n# ranking_weights=({', '.join(f'{w:.3f}' for w in ranking_weights)})")
    if fitted is not None:
        model, answer, suggest, margin = fitted
        # Fitted now; the shipped values may be an earlier fit (README, "Why this fusion").
        print("\n# Refitted for the shipped variant (blend mean, lexical share 0.5, calibrated):")
        print(f"# answer_probability={answer:.3f} suggest_probability={suggest:.3f}")
        print(f"# fused_margin={margin}")
        print(model.source())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
