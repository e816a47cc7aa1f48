"""A calibrated confidence: logistic regression on the evidence about the best entry.

The matcher ranks entries by a blend of lexical and semantic scores; whether to answer
with the best one is a different question. A lexical score cannot tell "same meaning,
other words" from "other topic", and e5 cosines are compressed (an out-of-scope
question's best match still reaches ~0.8). What does tell them apart is how the pieces
of evidence agree: both signals pointing at the same entry, the lead over the
runner-up in each, how much of the question the knowledge base knows at all.

``FEATURES`` are those pieces; the weights below were fitted on the labelled set
(``benchmarks/fit_fusion.py`` fits them, cross-validated, and prints this block). The
output is the probability that the best entry is the right answer, which makes it a
confidence that means the same whatever the model or the knowledge base size.

Plain numpy: Newton's method with an L2 penalty on standardised features.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

FEATURES = (
    "blend score",
    "blend margin",
    "lexical score",
    "lexical margin",
    "cosine",
    "cosine margin",
    "signals agree",
    "unknown share",
    "log content words",
    "coverage",
    "coverage lead",
)


@dataclass(frozen=True)
class Logistic:
    """A fitted logistic regression on standardised features."""

    mean: tuple[float, ...]
    scale: tuple[float, ...]
    weights: tuple[float, ...]
    """Intercept first, then one weight per feature."""

    def probability(self, features: Sequence[float]) -> float:
        z = self.weights[0]
        for value, mean, scale, weight in zip(
            features, self.mean, self.scale, self.weights[1:], strict=True
        ):
            z += weight * (value - mean) / scale
        return 1 / (1 + math.exp(-max(-30.0, min(30.0, z))))

    def probabilities(self, features: FloatArray) -> FloatArray:
        standard = (features - np.array(self.mean)) / np.array(self.scale)
        z = self.weights[0] + standard @ np.array(self.weights[1:])
        result: FloatArray = 1 / (1 + np.exp(-np.clip(z, -30, 30)))
        return result

    def source(self) -> str:
        """The Python literal of this model, for pasting into this module."""

        def numbers(values: tuple[float, ...]) -> str:
            return "(" + ", ".join(f"{value:.4f}" for value in values) + ")"

        return (
            "FUSED_MODEL = Logistic(\n"
            f"    mean={numbers(self.mean)},\n"
            f"    scale={numbers(self.scale)},\n"
            f"    weights={numbers(self.weights)},\n"
            ")"
        )


def fit(features: FloatArray, labels: FloatArray, *, penalty: float = 1.0) -> Logistic:
    """Fit by Newton's method (a few iterations converge on a few hundred questions)."""
    mean = features.mean(axis=0)
    scale = features.std(axis=0) + 1e-9
    design = np.c_[np.ones(len(features)), (features - mean) / scale]
    weights = np.zeros(design.shape[1])
    ridge = penalty * np.diag(np.r_[0.0, np.ones(design.shape[1] - 1)])
    for _ in range(50):
        predicted = 1 / (1 + np.exp(-np.clip(design @ weights, -30, 30)))
        gradient = design.T @ (predicted - labels) + ridge @ weights
        hessian = (design * (predicted * (1 - predicted))[:, None]).T @ design + ridge
        step = np.linalg.solve(hessian, gradient)
        weights -= step
        if float(np.abs(step).max()) < 1e-8:
            break
    return Logistic(
        tuple(float(v) for v in mean),
        tuple(float(v) for v in scale),
        tuple(float(v) for v in weights),
    )


def cross_validated(
    features: FloatArray,
    labels: FloatArray,
    *,
    folds: int = 5,
    seed: int = 0,
    train_share: float = 1.0,
) -> FloatArray:
    """Out-of-fold probabilities: each question scored by a model that never saw it.

    ``train_share`` below 1 trains each fold's model on a random part of the other
    folds only (a learning curve: would more labelled questions help?).
    """
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(labels))
    result = np.zeros(len(labels))
    for fold in range(folds):
        held = order[fold::folds]
        kept = np.setdiff1d(order, held)
        if train_share < 1:
            kept = rng.choice(kept, size=round(train_share * len(kept)), replace=False)
        result[held] = fit(features[kept], labels[kept]).probabilities(features[held])
    return result


def fit_ranking(
    features: Sequence[FloatArray], targets: Sequence[int], *, penalty: float = 0.01
) -> tuple[float, ...]:
    """Weights of a linear ranking score, scaled to sum to 1 (a conditional logit).

    ``features[q]`` holds one row per entry for question ``q`` (the same columns for
    every entry, so the weights say nothing about particular entries); ``targets[q]``
    is the right entry's row. Maximises the softmax likelihood of the right entry by
    Newton's method; the scale is dropped, since only the order counts.
    """
    weights = np.zeros(features[0].shape[1])
    for _ in range(100):
        gradient = penalty * weights
        hessian = penalty * np.eye(len(weights))
        for rows, target in zip(features, targets, strict=True):
            scores = rows @ weights
            p = np.exp(scores - scores.max())
            p /= p.sum()
            expected = p @ rows
            gradient += expected - rows[target]
            hessian += (rows * p[:, None]).T @ rows - np.outer(expected, expected)
        step = np.linalg.solve(hessian, gradient)
        weights -= step
        if float(np.abs(step).max()) < 1e-8:
            break
    return tuple(float(w) for w in weights / weights.sum())


# Fitted by benchmarks/fit_fusion.py on tests/data/questions.yaml (shipped knowledge base).
FUSED_MODEL = Logistic(
    mean=(0.5483, 0.1944, 0.6120, 0.2677, 0.8712, 0.0245, 0.7644, 0.1688, 1.5300, 0.6216, 0.3124),
    scale=(0.1887, 0.1423, 0.2600, 0.2017, 0.0336, 0.0254, 0.4244, 0.2852, 0.4032, 0.3334, 0.3219),
    weights=(
        2.3292,
        0.8904,
        0.5674,
        0.7845,
        -0.2789,
        0.9834,
        1.4429,
        -0.0147,
        0.2350,
        0.8106,
        0.7820,
        0.5708,
    ),
)
