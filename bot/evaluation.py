"""Answer quality on a labelled question set: faqbot's matcher beside baselines.

Figures, for every method on the same questions:

    top-1 / top-3      in-scope questions whose entry ranks first / among the first three
    answered           in-scope questions answered outright with the right entry
    rejection          out-of-scope questions that got no answer (decision ``none``)
    wrong answers      questions answered with a wrong entry, out of all questions
    precision          right answers out of all answers given

faqbot is measured three ways in one run: as the bot decides (fused when the semantic
stage is on), lexical-only and semantic-only, on the same questions.

A baseline has no "unsure" state, so it answers whenever its best score reaches a
threshold; it gets the threshold that maximises correct outcomes on this very set,
which flatters it.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from bot.baselines import Ranker
from bot.errors import LabelledSetError
from bot.knowledge import KnowledgeBase
from bot.matcher import Matcher, MatchResult


@dataclass(frozen=True)
class LabelledQuestion:
    """A question and the entry id it must get (None: out of scope)."""

    text: str
    expected: str | None
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Outcome:
    """What a method did with one labelled question."""

    question: LabelledQuestion
    decision: str
    ranked: tuple[str, ...]
    score: float

    @property
    def answered(self) -> str | None:
        return self.ranked[0] if self.decision == "answer" and self.ranked else None


@dataclass
class Report:
    """Figures of one method on one labelled set."""

    method: str
    outcomes: list[Outcome]
    latencies_ms: list[float] = field(default_factory=list)
    threshold: float | None = None

    def _in_scope(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.question.expected is not None]

    def _out_of_scope(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.question.expected is None]

    def figures(self) -> dict[str, Any]:
        inside, outside = self._in_scope(), self._out_of_scope()
        top1 = sum(1 for o in inside if o.ranked[:1] == (o.question.expected,))
        top3 = sum(1 for o in inside if o.question.expected in o.ranked[:3])
        answered = sum(1 for o in inside if o.answered == o.question.expected)
        suggested = sum(
            1 for o in inside if o.decision == "suggest" and o.question.expected in o.ranked[:3]
        )
        rejected = sum(1 for o in outside if o.decision == "none")
        wrong = sum(1 for o in self.outcomes if o.answered and o.answered != o.question.expected)
        given = sum(1 for o in self.outcomes if o.answered)
        latencies = sorted(self.latencies_ms)
        return {
            "method": self.method,
            "questions": len(self.outcomes),
            "in_scope": len(inside),
            "out_of_scope": len(outside),
            "top1": _rate(top1, len(inside)),
            "top3": _rate(top3, len(inside)),
            "answered": _rate(answered, len(inside)),
            "suggested_with_right_entry": _rate(suggested, len(inside)),
            "rejection": _rate(rejected, len(outside)),
            "wrong_answer_rate": _rate(wrong, len(self.outcomes)),
            "precision": _rate(answered, given),
            "threshold": self.threshold,
            "latency_ms_median": statistics.median(latencies) if latencies else None,
            "latency_ms_p99": latencies[int(0.99 * (len(latencies) - 1))] if latencies else None,
        }

    def confusions(self) -> list[dict[str, Any]]:
        """Questions the method got wrong: wrong answers first, then misses."""
        rows = []
        for o in self.outcomes:
            expected = o.question.expected
            if o.answered and o.answered != expected:
                kind = "wrong answer"
            elif expected is None and o.decision == "suggest":
                kind = "suggested out of scope"
            elif expected is not None and o.decision == "none":
                kind = "missed"
            elif expected is not None and o.ranked[:1] != (expected,):
                kind = "ranked wrong"
            else:
                continue
            rows.append(
                {
                    "kind": kind,
                    "question": o.question.text,
                    "expected": expected,
                    "decision": o.decision,
                    "got": list(o.ranked[:3]),
                    "score": round(o.score, 3),
                }
            )
        order = ["wrong answer", "ranked wrong", "missed", "suggested out of scope"]
        return sorted(rows, key=lambda row: order.index(row["kind"]))


def _rate(count: int, total: int) -> float | None:
    return round(count / total, 4) if total else None


def load_labelled_set(path: Path | str, kb: KnowledgeBase | None = None) -> list[LabelledQuestion]:
    """Read a labelled set; with ``kb``, every expected id must exist in it."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise LabelledSetError(f"{path}: cannot read the labelled set: {exc}") from exc
    items = data.get("questions") if isinstance(data, dict) else None
    if not isinstance(items, list) or not items:
        raise LabelledSetError(f"{path}: expected a mapping with a non-empty 'questions' list")
    questions = []
    for number, item in enumerate(items, start=1):
        if not isinstance(item, dict) or not isinstance(item.get("text"), str):
            raise LabelledSetError(f"{path}: question {number} needs a 'text'")
        expected = item.get("expected")
        if expected is not None and (kb is not None and kb.get(str(expected)) is None):
            raise LabelledSetError(
                f"{path}: question {number} expects unknown entry id '{expected}'"
            )
        tags = tuple(str(tag) for tag in item.get("tags") or ())
        questions.append(LabelledQuestion(item["text"], expected, tags))
    return questions


def questions_only(kb: KnowledgeBase) -> KnowledgeBase:
    """The knowledge base with every entry reduced to its question and keywords: what
    a freshly added entry looks like before staff write alternatives."""
    return replace(kb, entries=tuple(replace(entry, alternatives=()) for entry in kb.entries))


Step = Callable[[], None]
"""Called once per question asked, for a progress bar."""


def evaluate_matcher(
    matcher: Matcher,
    questions: Sequence[LabelledQuestion],
    *,
    name: str = "faqbot",
    step: Step | None = None,
) -> Report:
    """Run faqbot's matcher on every question, timing each match."""
    outcomes, latencies = [], []
    for question in questions:
        started = time.perf_counter()
        result = matcher.match(question.text)
        latencies.append((time.perf_counter() - started) * 1000)
        outcomes.append(_outcome(question, result))
        if step is not None:
            step()
    return Report(name, outcomes, latencies)


def stages(matcher: Matcher) -> list[tuple[str, Matcher]]:
    """faqbot as it decides, then lexical-only and semantic-only (if the stage is on)."""
    runs = [("faqbot", matcher)]
    if matcher.semantic is not None:
        for stage in ("lexical", "semantic"):
            runs.append((f"faqbot {stage}-only", matcher.with_semantic(matcher.semantic, stage)))
    return runs


def evaluate_stages(
    runs: Sequence[tuple[str, Matcher]],
    questions: Sequence[LabelledQuestion],
    *,
    step: Step | None = None,
) -> list[Report]:
    """A report for each of ``stages``' matchers, in order."""
    return [evaluate_matcher(staged, questions, name=name, step=step) for name, staged in runs]


def _outcome(question: LabelledQuestion, result: MatchResult) -> Outcome:
    ranked = tuple(candidate.entry.id for candidate in result.ranking)
    return Outcome(question, result.decision, ranked, result.confidence)


def evaluate_ranker(
    name: str, rank: Ranker, questions: Sequence[LabelledQuestion], *, step: Step | None = None
) -> Report:
    """Run a baseline and give it the answer threshold that suits it best on this set."""
    ranked_all, latencies = [], []
    for question in questions:
        started = time.perf_counter()
        ranked = rank(question.text)
        latencies.append((time.perf_counter() - started) * 1000)
        ranked_all.append(ranked)
        if step is not None:
            step()
    best_threshold, best_correct = 0.0, -1
    for threshold in sorted({score for ranked in ranked_all for _, score in ranked[:1]}):
        correct = sum(
            1
            for question, ranked in zip(questions, ranked_all, strict=True)
            if _baseline_correct(question, ranked, threshold)
        )
        if correct > best_correct:
            best_threshold, best_correct = threshold, correct
    outcomes = [
        Outcome(
            question,
            "answer" if ranked and ranked[0][1] >= best_threshold else "none",
            tuple(entry_id for entry_id, score in ranked[:5] if score > 0),
            ranked[0][1] if ranked else 0.0,
        )
        for question, ranked in zip(questions, ranked_all, strict=True)
    ]
    return Report(name, outcomes, latencies, threshold=round(best_threshold, 4))


def _baseline_correct(
    question: LabelledQuestion, ranked: list[tuple[str, float]], threshold: float
) -> bool:
    answers = bool(ranked) and ranked[0][1] >= threshold
    if question.expected is None:
        return not answers
    return answers and ranked[0][0] == question.expected
