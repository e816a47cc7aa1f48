"""Grouping similar customer questions: pure, no store, no knowledge base.

    normalise        a question as staff read it in a list
    group_questions  similar questions together, biggest group first

Used by the report (bot/report.py, bot/report_queries.py) for the unanswered questions
and by faqbot suggest (bot/suggestions.py) for its draft entries.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

# text.py's own patterns, so that staff's lists split words exactly as the matcher does.
from bot.text import _APOSTROPHES, _WORD_SPLIT, clean, is_stopword, stem, words_of_many

# How: each text becomes its set of content stems (bot.text: words -> drop stopwords -> stem),
# with typos folded: a rarer stem one inserted or deleted letter away from a more
# frequent one (both >= 5 letters) counts as that one ("websiet" -> "websit", "folow" ->
# "follow", "ofnungszeit" -> "offnungszeit"). Identical stem sets form one bucket (so
# identical normalised texts always join); the buckets, most frequent first, join the
# group whose representative (its first, most frequent bucket) they overlap best with
# Jaccard >= threshold, or start a new group. Representatives never change, so groups
# cannot drift from topic to topic by chaining.
#
# Why Jaccard and not rapidfuzz token_set_ratio >= 85 (alone or or-ed with Jaccard, which
# gives the same groups): measured on the realistic sample in tests/test_analytics.py
# (120 questions, 84 phrasings, 8 topics), as precision (pairs of questions in one group
# that share a topic) and recall (pairs of a topic that share a group):
#
#                                     sample as is            "Was kostet das?" 16x
#     Jaccard >= 0.6, raw stems       P 1.00  R 0.16          P 1.00  R 0.20
#     token_set_ratio >= 85           P 0.98  R 0.29          P 0.86  R 0.52
#     Jaccard, typo-folded (chosen)   P 1.00  R 0.22          P 1.00  R 0.25
#     token_set_ratio, typo-folded    P 1.00  R 0.33          P 0.87  R 0.52
#
# token_set_ratio compares characters: "kost websiet" scores >= 85 against "host websit",
# so "was kostet ne websiet" landed in the hosting group. And it scores 100 whenever one
# stem set contains the other: once a short question is frequent ("Was kostet das?" ->
# {kost}), it swallows "Was kostet Hosting?", "Was kostet SEO?", "Was kostet ein
# Onlineshop?". Its extra recall is all such subset matches ("öffnungszeiten" with
# "öffnungszeiten am samstag"), good or bad, and nothing tells them apart. A wrong merge
# hides a topic from staff; a missed one only shows it twice, so precision wins. Typo
# folding (insertions and deletions only: "kost"/"host", "vergess"/"verbess" are real
# words) brings most of the typo recall without a wrong merge. What no character or
# stem measure finds (Homepage ~ Website, Preis ~ kosten) would need synonyms.
#
# Speed: an inverted index from stem to groups compares a bucket only with groups that
# share enough stems for the threshold. 10,000 questions of the sample with typos,
# greetings and extra words (6,700 distinct texts): ~0.25 s; 10,000 random distinct
# texts (worst case, ~10,000 groups): ~0.7 s.

_TYPO_MIN_LETTERS = 5


@dataclass(frozen=True)
class Group:
    """Questions about the same thing."""

    count: int
    text: str
    """The most frequent normalised text: lower case, no punctuation, single spaces."""
    example: str
    """A question as a customer wrote it: the first of ``variants`` written as a question
    (ending with "?"), else the first."""
    variants: tuple[str, ...]
    """One original spelling per distinct normalised text, most frequent text first; of
    each, the spelling written as a question if any, else the most frequent."""
    stems: tuple[str, ...]
    """The representative's content stems (typos folded)."""
    members: tuple[int, ...]
    """Positions of this group's texts in the list given to group_questions."""


def normalise(text: str) -> str:
    """A question as staff read it in a list: "Was kostet 'ne Website?" -> "was kostet ne
    website": lower case, punctuation gone, single spaces."""
    text = _APOSTROPHES.sub("", clean(text)).lower()
    return " ".join(_WORD_SPLIT.findall(text))


def group_questions(texts: Sequence[str], *, threshold: float = 0.6) -> list[Group]:
    """Group similar questions, biggest group first; see the comment above for how.

    Texts without a content word ("Hallo?", "???") are in no group: nothing to learn.
    """
    if not 0 < threshold <= 1:
        raise ValueError("threshold must be in (0, 1]")
    # Per distinct spelling: its normalised text; per normalised text: its stems.
    spelling_of: list[str] = []
    normal_of_spelling: dict[str, str] = {}
    for text in texts:
        spelling = " ".join(clean(text).split())
        spelling_of.append(spelling)
        if spelling not in normal_of_spelling:
            normal_of_spelling[spelling] = normalise(spelling)
    normals = list(dict.fromkeys(normal_of_spelling.values()))
    raw_stems = {
        normal: _content_stems(found)
        for normal, found in zip(normals, words_of_many(normals), strict=True)
    }
    normal_count = Counter(normal_of_spelling[spelling] for spelling in spelling_of)
    stem_count: Counter[str] = Counter()
    for normal, stems in raw_stems.items():
        for one in stems:
            stem_count[one] += normal_count[normal]
    typo_fold = _typo_folding(stem_count)
    signature_of = {
        normal: tuple(sorted({typo_fold[one] for one in stems}))
        for normal, stems in raw_stems.items()
    }

    # Identical signatures first: one bucket each.
    buckets: dict[tuple[str, ...], list[int]] = defaultdict(list)
    for index, spelling in enumerate(spelling_of):
        signature = signature_of[normal_of_spelling[spelling]]
        if signature:
            buckets[signature].append(index)
    order = sorted(buckets, key=lambda signature: (-len(buckets[signature]), signature))

    # Then buckets join the best-overlapping group representative.
    sizes: list[int] = []  # of each group's representative
    grouped: list[list[tuple[str, ...]]] = []
    groups_with: dict[str, list[int]] = defaultdict(list)
    for signature in order:
        shared: Counter[int] = Counter()
        for one in signature:
            shared.update(groups_with[one])
        best, best_score = -1, 0.0
        length, minimum = len(signature), threshold * len(signature)
        for number, common in shared.most_common():  # sorted in C; most share little
            if common < minimum:
                break  # Jaccard <= common / len(signature) < threshold from here on
            score = common / (length + sizes[number] - common)
            if score >= threshold and (
                score > best_score or (score == best_score and number < best)
            ):
                best, best_score = number, score
        if best >= 0:
            grouped[best].append(signature)
            continue
        sizes.append(len(signature))
        grouped.append([signature])
        for one in signature:
            groups_with[one].append(len(grouped) - 1)

    groups = [
        _make_group(
            signatures[0],
            sorted(index for signature in signatures for index in buckets[signature]),
            spelling_of,
            normal_of_spelling,
        )
        for signatures in grouped
    ]
    groups.sort(key=lambda group: (-group.count, group.text))
    return groups


def _content_stems(found: Iterable[Any]) -> frozenset[str]:
    stems: set[str] = set()
    for word in found:
        if is_stopword(word.text):
            continue
        for part in word.parts:
            if len(part) > 1 and not is_stopword(part):
                stems.add(stem(part))
    return frozenset(stems)


def _typo_folding(stem_count: Counter[str]) -> dict[str, str]:
    """Map each stem to itself or to a more frequent stem one insertion/deletion away.

    Substitutions are not folded: "kost"/"host", "vergess"/"verbess" are different
    words far more often than typos. The lookup is by single-letter deletions (as in
    SymSpell), so it costs a few dictionary look-ups per stem.
    """
    folding: dict[str, str] = {}
    kept: set[str] = set()
    kept_by_deletion: dict[str, str] = {}
    for one, _ in sorted(stem_count.items(), key=lambda item: (-item[1], item[0])):
        target = None
        if len(one) >= _TYPO_MIN_LETTERS:
            target = kept_by_deletion.get(one)  # a kept stem with one letter more
            if target is None:
                for i in range(len(one)):  # a kept stem with one letter less
                    shorter = one[:i] + one[i + 1 :]
                    if len(shorter) >= _TYPO_MIN_LETTERS and shorter in kept:
                        target = shorter
                        break
        if target is not None:
            folding[one] = target
            continue
        folding[one] = one
        kept.add(one)
        if len(one) > _TYPO_MIN_LETTERS:
            for i in range(len(one)):
                kept_by_deletion.setdefault(one[:i] + one[i + 1 :], one)
    return folding


def _asks(spelling: str) -> bool:
    return spelling.endswith("?")


def _make_group(
    stems: tuple[str, ...],
    members: list[int],
    spelling_of: list[str],
    normal_of_spelling: dict[str, str],
) -> Group:
    spellings = Counter(spelling_of[index] for index in members)
    normals: Counter[str] = Counter()
    best_spelling: dict[str, str] = {}
    for spelling, count in sorted(
        spellings.items(), key=lambda item: (not _asks(item[0]), -item[1], item[0])
    ):
        normal = normal_of_spelling[spelling]
        normals[normal] += count
        best_spelling.setdefault(normal, spelling)
    ranked = sorted(normals, key=lambda normal: (-normals[normal], normal))
    variants = tuple(best_spelling[normal] for normal in ranked)
    example = next((variant for variant in variants if _asks(variant)), variants[0])
    return Group(
        count=len(members),
        text=ranked[0],
        example=example,
        variants=variants,
        stems=stems,
        members=tuple(members),
    )
