"""German normalisation: from a chat message to the words that carry its meaning.

Pure functions, no state but caches. The pipeline is

    clean      Unicode NFKC, HTML tags, control and invisible characters removed, length capped
    fold       case folded, ä/ö/ü written ae/oe/ue, ß written ss
    words      runs of letters and digits; "Kommentar-Spam" stays one word of two parts
    stem       Snowball German (PyStemmer), which also unifies ä and ae, ß and ss

Stopwords are compared in folded form, so "für", "fuer" and "FÜR" are all filler.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import NamedTuple

import Stemmer

from bot.stopwords import QUESTION_WORDS_TEXT, STOPWORD_BLOCKS

MAX_QUESTION_CHARS = 1000
"""Longer messages are cut: no FAQ question needs more, and it bounds matching time."""

_TAG = re.compile(r"</?[a-zA-Z][^<>]{0,200}>")
_APOSTROPHES = re.compile("(?<=\\w)['\u2019`\u00b4](?=\\w)")
_WORD_SPLIT = re.compile(r"([^\W_]+(?:-[^\W_]+)*)")
_SENTENCE_ENDS = frozenset(".!?:;\"'(-\u2013\u2022\n")
"""What ends a sentence or starts a list item, quotation or text: the case of the next
word says nothing about the word."""
_INVISIBLE = re.compile("[\u00ad\u200b\u200c\u200d\u2060\ufeff]")
"""Soft hyphen, zero-width space/non-joiner/joiner, word joiner, BOM: they sit inside
words pasted from web pages and word processors ("DNS\u00adSEC") and mean nothing.
A regular expression, not str.translate, which looks every character of a non-ASCII
text up in its table: the expression was five times faster on a 10,000-entry build."""
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
    text = unicodedata.normalize("NFKC", _INVISIBLE.sub("", text))
    text = _TAG.sub(" ", text)
    text = text.replace("\n", " ").replace("\t", " ").replace("\r", " ")
    if not text.isprintable():  # rare: pay for the character loop only then
        text = "".join(char if unicodedata.category(char)[0] != "C" else " " for char in text)
    return text if limit is None else text[:limit]


def fold(word: str) -> str:
    """Case-fold and write umlauts as two letters, as customers without them do."""
    return word.casefold().translate(_UMLAUTS)


def words(
    text: str, limit: int | None = MAX_QUESTION_CHARS, *, letters: bool = False
) -> list[Word]:
    """The words of a text, folded; one-letter words are dropped unless ``letters``."""
    return words_of_many([text], limit, letters=letters)[0]


def words_of_many(
    texts: Sequence[str], limit: int | None = None, *, letters: bool = False
) -> list[list[Word]]:
    """The words of each text; one pass over all of them, for building an index.

    The texts are cleaned one by one, joined by newlines (which clean() removed from
    inside them) and split once, so the per-call cost is paid once, not per text.
    """
    cleaned = [_prepare(text, limit) for text in texts]
    # Separators and words alternate: [separator, word, separator, word, ..., separator].
    pieces = _WORD_SPLIT.split("\n".join(cleaned))
    result: list[list[Word]] = [[] for _ in texts]
    if len(pieces) < 2:
        return result
    made: dict[tuple[str, bool | None], Word] = {}  # words repeat; build each once
    # Most words follow a single space: inside a sentence, in the same text. Those are
    # looked up by the word alone: a quarter less time on a 10,000-entry build.
    inside: dict[str, Word] = {}
    text_number = 0
    append = result[0].append
    if not pieces[0].strip(" "):
        pieces[0] = "."  # the first word starts a sentence, even after spaces
    pairs = iter(pieces)
    for separator, raw in zip(pairs, pairs, strict=False):
        if separator == " ":
            word = inside.get(raw)
            if word is None:
                short = _too_short(raw, letters)
                word = inside[raw] = _SKIP if short else _make_word(raw, raw[0].isupper())
            if word is not _SKIP:
                append(word)
            continue
        if "\n" in separator:
            text_number += separator.count("\n")
            append = result[text_number].append
        if _too_short(raw, letters):
            continue
        at_start = separator.rstrip(" ")[-1:] in _SENTENCE_ENDS
        key = (raw, None if at_start else raw[0].isupper())
        word = made.get(key)
        if word is None:
            word = made[key] = _make_word(raw, key[1])
        append(word)
    return result


def written_words(text: str, limit: int | None = MAX_QUESTION_CHARS) -> list[str]:
    """The words of a text as written, unfolded; what ``words`` makes Words of."""
    return [raw for raw in _WORD_SPLIT.split(_prepare(text, limit))[1::2] if not _too_short(raw)]


def word_parts(raw: str) -> tuple[str, ...]:
    """A written word folded; a hyphenated one as its folded parts (``Word.parts``)."""
    return _make_word(raw, None).parts


def _too_short(raw: str, letters: bool = False) -> bool:
    """One-letter words ("a", "z", a stray "x") say nothing about a topic: dropped,
    unless ``letters`` keeps letters and digits (X, the platform once called Twitter;
    "Port 8")."""
    return len(raw) < 2 and not (letters and (raw.isalpha() or raw.isdigit()))


_SKIP = Word("", (), None)
"""A one-letter word in ``words_of_many``'s lookup: dropped, but looked up only once."""


def _make_word(raw: str, capitalised: bool | None) -> Word:
    folded = fold(raw)
    if "-" not in folded:
        return Word(folded, (folded,), capitalised)
    parts = tuple(part for part in folded.split("-") if part)
    return Word("".join(parts), parts, capitalised)


def _prepare(text: str, limit: int | None) -> str:
    if limit is not None:
        text = text[: limit * 4]
    # Apostrophes go before NFKC, which turns an acute accent (U+00B4) into a space.
    # Four `in` tests: a seventh of any() over the marks, paid for 80,000 texts at 10,000 entries.
    if "'" in text or "\u2019" in text or "`" in text or "\u00b4" in text:
        text = _APOSTROPHES.sub("", text)
    return clean(text, limit)


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """The Snowball German stem of a folded word."""
    return str(_stemmer.stemWord(word))


STOPWORDS: frozenset[str] = frozenset(
    fold(word) for block in STOPWORD_BLOCKS for word in block.split()
)


QUESTION_WORDS: frozenset[str] = frozenset(fold(word) for word in QUESTION_WORDS_TEXT.split())


def asks(found: Iterable[Word]) -> bool:
    """True when the words hold a question word (warum, wie, what): a question, not a
    bare keyword, even where only one content word is left."""
    return any(word.text in QUESTION_WORDS for word in found)


def is_stopword(word: str) -> bool:
    """True for function words and chat filler, which must not carry a match."""
    return word in STOPWORDS or is_short_number(word)


def is_short_number(word: str) -> bool:
    """One or two digits ("2 Fragen", "in 5 Minuten"): filler, unless staff made the
    number part of a keyword ("Port 80", "HTTP-01"), where it names the topic."""
    return word.isdigit() and len(word) < 3
