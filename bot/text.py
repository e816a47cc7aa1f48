"""German normalisation: from a chat message to the words that carry its meaning.

Pure functions, no state but caches. The pipeline is

    clean      Unicode NFKC, HTML tags and control characters removed, length capped
    fold       case folded, ä/ö/ü written ae/oe/ue, ß written ss
    words      runs of letters and digits; "Kommentar-Spam" stays one word of two parts
    stem       Snowball German (PyStemmer), which also unifies ä and ae, ß and ss

Stopwords are compared in folded form, so "für", "fuer" and "FÜR" are all filler.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import NamedTuple

import Stemmer

from bot.stopwords import STOPWORD_BLOCKS

MAX_QUESTION_CHARS = 1000
"""Longer messages are cut: no FAQ question needs more, and it bounds matching time."""

_TAG = re.compile(r"</?[a-zA-Z][^<>]{0,200}>")
_APOSTROPHE_MARKS = "'\u2019`\u00b4"
_APOSTROPHES = re.compile("(?<=\\w)['\u2019`\u00b4](?=\\w)")
_WORD = re.compile(r"[^\W_]+(?:-[^\W_]+)*")
_SENTENCE_START = re.compile("(?:^|[.!?:;\"'(\\-\u2013\u2022])\\s*(?=[^\\W_])")
"""Where a sentence, list item or quotation starts: the case of its first word says
nothing about the word."""
_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})

_stemmer = Stemmer.Stemmer("german")


class Word(NamedTuple):
    """A word of a text; hyphenated compounds keep their parts.

    ``capitalised`` is True for a word written with a capital inside a sentence (in
    German, almost always a noun, which carries the topic), False for a lower-case
    word, and None at the start of a sentence, where case says nothing.
    """

    text: str
    parts: tuple[str, ...]
    capitalised: bool | None = None

    @property
    def is_compound(self) -> bool:
        return len(self.parts) > 1


def clean(text: str, limit: int | None = MAX_QUESTION_CHARS) -> str:
    """Remove what is not language: HTML tags, control characters, excess length.

    ``limit`` caps customers' messages; the knowledge base's own texts pass None.
    """
    if limit is not None:
        text = text[: limit * 4]
    text = unicodedata.normalize("NFKC", text)
    text = _TAG.sub(" ", text)
    text = text.replace("\n", " ").replace("\t", " ").replace("\r", " ")
    if not text.isprintable():  # rare: pay for the character loop only then
        text = "".join(char if unicodedata.category(char)[0] != "C" else " " for char in text)
    return text if limit is None else text[:limit]


def fold(word: str) -> str:
    """Case-fold and write umlauts as two letters, as customers without them do."""
    return word.casefold().translate(_UMLAUTS)


def words(text: str, limit: int | None = MAX_QUESTION_CHARS) -> list[Word]:
    """The words of a text, folded; one-letter words are dropped."""
    # Apostrophes go before NFKC, which turns an acute accent (U+00B4) into a space.
    if limit is not None:
        text = text[: limit * 4]
    if any(mark in text for mark in _APOSTROPHE_MARKS):
        text = _APOSTROPHES.sub("", text)
    text = clean(text, limit)
    matches = [match for match in _WORD.finditer(text) if match.end() - match.start() > 1]
    if not matches:
        return []
    # One fold for the whole text is much cheaper than one per word.
    folded_words = fold("\0".join(match.group() for match in matches)).split("\0")
    starts = {match.end() for match in _SENTENCE_START.finditer(text)}
    found = []
    for match, folded in zip(matches, folded_words, strict=True):
        if "-" in folded:
            parts = tuple(part for part in folded.split("-") if part)
            folded = "".join(parts)
        else:
            parts = (folded,)
        capitalised = None if match.start() in starts else match.group()[0].isupper()
        found.append(Word(folded, parts, capitalised))
    return found


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """The Snowball German stem of a folded word."""
    return str(_stemmer.stemWord(word))


STOPWORDS: frozenset[str] = frozenset(
    fold(word) for block in STOPWORD_BLOCKS for word in block.split()
)


def is_stopword(word: str) -> bool:
    """True for function words and chat filler, which must not carry a match."""
    return word in STOPWORDS or (word.isdigit() and len(word) < 3)
