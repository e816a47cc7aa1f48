"""Simple matchers to measure faqbot's matcher against, on the same knowledge base.

Each baseline ranks entries by its best score over the entry's question and
alternatives (BM25 and character n-grams score the entry as one document). They have no
notion of "unsure": the evaluation gives each one its own best answer threshold.
"""

from __future__ import annotations

import difflib
import math
from collections import Counter
from collections.abc import Callable

from rapidfuzz import fuzz, process, utils

from bot.knowledge import KnowledgeBase
from bot.text import clean, fold, is_stopword, stem, words

Ranker = Callable[[str], list[tuple[str, float]]]
"""question -> [(entry id, score)], best first."""


def _phrasing_table(kb: KnowledgeBase) -> tuple[list[str], list[str]]:
    ids, texts = [], []
    for entry in kb.entries:
        for phrasing in entry.phrasings:
            ids.append(entry.id)
            texts.append(phrasing)
    return ids, texts


def _best_per_entry(ids: list[str], scores: list[float]) -> list[tuple[str, float]]:
    best: dict[str, float] = {}
    for entry_id, score in zip(ids, scores, strict=True):
        if score > best.get(entry_id, -1.0):
            best[entry_id] = score
    return sorted(best.items(), key=lambda item: -item[1])


def difflib_ratio(kb: KnowledgeBase) -> Ranker:
    """difflib.SequenceMatcher ratio on lower-cased text."""
    ids, texts = _phrasing_table(kb)
    lowered = [text.lower() for text in texts]

    def rank(question: str) -> list[tuple[str, float]]:
        matcher = difflib.SequenceMatcher(autojunk=False)
        matcher.set_seq2(question.lower())
        scores = []
        for text in lowered:
            matcher.set_seq1(text)
            scores.append(matcher.ratio())
        return _best_per_entry(ids, scores)

    return rank


def rapidfuzz_scorer(kb: KnowledgeBase, scorer: Callable[..., float]) -> Ranker:
    """A rapidfuzz scorer over whole questions, with its default text processing."""
    ids, texts = _phrasing_table(kb)
    processed = [utils.default_process(text) for text in texts]

    def rank(question: str) -> list[tuple[str, float]]:
        query = utils.default_process(question)
        scores = process.cdist([query], processed, scorer=scorer)[0]
        return _best_per_entry(ids, [float(score) / 100 for score in scores])

    return rank


def _stems(text: str) -> list[str]:
    return [stem(word.text) for word in words(text) if not is_stopword(word.text)]


def bm25_stems(kb: KnowledgeBase, *, k1: float = 1.2, b: float = 0.75) -> Ranker:
    """Okapi BM25 over Snowball stems; an entry is its question, alternatives, keywords."""
    documents = [
        Counter(_stems(" ".join((*entry.phrasings, *entry.keywords)))) for entry in kb.entries
    ]
    lengths = [sum(doc.values()) for doc in documents]
    average = sum(lengths) / max(len(lengths), 1)
    frequency = Counter(term for doc in documents for term in doc)
    n = len(documents)
    idf = {t: math.log(1 + (n - f + 0.5) / (f + 0.5)) for t, f in frequency.items()}

    def rank(question: str) -> list[tuple[str, float]]:
        terms = _stems(question)
        scored = []
        for entry, doc, length in zip(kb.entries, documents, lengths, strict=True):
            score = 0.0
            for term in terms:
                tf = doc.get(term, 0)
                if tf:
                    score += idf[term] * tf * (k1 + 1) / (tf + k1 * (1 - b + b * length / average))
            scored.append((entry.id, score))
        return sorted(scored, key=lambda item: -item[1])

    return rank


def _char_ngrams(text: str, low: int = 3, high: int = 5) -> Counter[str]:
    padded = " " + " ".join(fold(clean(text)).split()) + " "
    return Counter(
        padded[i : i + n] for n in range(low, high + 1) for i in range(len(padded) - n + 1)
    )


def char_ngram_tfidf(kb: KnowledgeBase) -> Ranker:
    """Cosine of tf-idf vectors of character 3-5-grams; an entry is one document."""
    documents = [
        _char_ngrams(" ".join((*entry.phrasings, *entry.keywords))) for entry in kb.entries
    ]
    n = len(documents)
    frequency = Counter(gram for doc in documents for gram in doc)
    idf = {g: math.log((n + 1) / (f + 1)) + 1 for g, f in frequency.items()}

    def vector(grams: Counter[str]) -> dict[str, float]:
        weights = {g: (1 + math.log(c)) * idf.get(g, math.log(n + 1) + 1) for g, c in grams.items()}
        norm = math.sqrt(sum(w * w for w in weights.values())) or 1.0
        return {g: w / norm for g, w in weights.items()}

    vectors = [vector(doc) for doc in documents]

    def rank(question: str) -> list[tuple[str, float]]:
        query = vector(_char_ngrams(question))
        scored = [
            (entry.id, sum(w * vec.get(g, 0.0) for g, w in query.items()))
            for entry, vec in zip(kb.entries, vectors, strict=True)
        ]
        return sorted(scored, key=lambda item: -item[1])

    return rank


def all_baselines(kb: KnowledgeBase) -> dict[str, Ranker]:
    """The baselines `faqbot eval --baselines` prints, by display name."""
    return {
        "difflib ratio": difflib_ratio(kb),
        "rapidfuzz WRatio": rapidfuzz_scorer(kb, fuzz.WRatio),
        "rapidfuzz token_set_ratio": rapidfuzz_scorer(kb, fuzz.token_set_ratio),
        "BM25 over stems": bm25_stems(kb),
        "char 3-5-gram tf-idf": char_ngram_tfidf(kb),
    }
