"""Small talk: greetings, thanks, "wer bist du", insults and English, answered briefly.

The phrases and replies are entries of FAQ files marked ``smalltalk: true`` (shipped:
``faq/smalltalk.yaml``), loaded and checked like every FAQ file but kept apart from the
FAQ entries: they are never browsed, shared inline or deep-linked, and the FAQ matcher
never sees them.

Small talk wins only when the *whole* message is small talk. The message is cut into
segments at punctuation and at "und"; every segment must be one of the small-talk
phrasings (question, alternatives, keywords) with a typo at most (character similarity
>= SIMILARITY), or a run of phrasings ("ok super"), give or take filler words ("Hallo
Bot", "danke dir"). So "Hallo, wie
richte ich DNSSEC ein?" and "Danke, und was kostet SSL?" go to the FAQ matcher, while
"Hallo und danke!" is small talk. The reply is that of the last segment: in "Hallo,
wer bist du?" the point comes last.

A message written in English (at least ENGLISH_MIN English function words making up
ENGLISH_SHARE of its words, at most one German one for every three) that the FAQ
matcher cannot answer outright gets the reply of the entry with the id ENGLISH_ENTRY,
if staff keep one: "How do I choose a WordPress theme?" still gets the (German)
WordPress answer. On tests/data/questions.yaml and holdout.yaml (519 questions) this
finds all 18 English ones and no German one.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

from rapidfuzz import fuzz, process

from bot.errors import Problem
from bot.knowledge import Entry, KnowledgeBase
from bot.matcher import LexicalPass, Matcher, MatchResult

SIMILARITY = 88.0
"""rapidfuzz ratio (0-100) from which a segment counts as a small-talk phrasing: one
typo in a word of five letters or more ("dankee", "tschüs"), not a different word."""
ENGLISH_ENTRY = "englisch"
ENGLISH_MIN = 2
ENGLISH_SHARE = 0.4


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


FILLER = _words(
    "bot faqbot lieber liebe liebes mal bitte sehr vielmals schon auch dir ihnen euch"
    " mir du sie noch nochmal nun so wirklich denn alles eigentlich"
)
"""Words that may surround a small-talk phrase without changing it."""

ENGLISH_WORDS = _words(
    "the is are how what why where when which who do does did can could would should"
    " my your you i me to of and for with it this that there have has please hello"
    " thanks thank get set up about from on or not be speak english any help"
    " website page a an good best rid make use need want much many way work works if at by"
    " we our us they will"
)
GERMAN_WORDS = _words(
    "ich du sie wir ihr ist sind wie was warum wo wann welche welcher welches wer der"
    " die das ein eine einen mein meine meiner kann koennen muss mit fuer und oder nicht"
    " auf bei zu von gibt es habe hat haben bitte danke"
)

_SEGMENT = re.compile(r"[.,!?;:\n()\u2013\u2014]+|\s+und\s+|\s+&\s+")
_TOKEN = re.compile(r"[^\W_]+")
_TAG = re.compile(r"</?[a-zA-Z][^<>]{0,200}>")
_APOSTROPHES = re.compile("(?<=\\w)['\u2019`\u00b4](?=\\w)")
_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})

Decision = Literal["answer", "suggest", "none", "smalltalk"]


def tokens(text: str) -> list[str]:
    """Lower-case words without umlauts or punctuation: "Tschüß!" -> ["tschuess"]."""
    text = unicodedata.normalize("NFKC", _TAG.sub(" ", text)).casefold().translate(_UMLAUTS)
    return _TOKEN.findall(_APOSTROPHES.sub("", text))


def _core(words: list[str]) -> str:
    kept = [word for word in words if word not in FILLER]
    return " ".join(kept or words)


class SmallTalk:
    """Recognises messages that are wholly small talk."""

    def __init__(self, entries: tuple[Entry, ...]) -> None:
        self.entries = entries
        self._phrases: dict[str, Entry] = {}
        for entry in entries:
            for phrasing in (*entry.phrasings, *entry.keywords):
                core = _core(tokens(phrasing))
                if core:
                    self._phrases.setdefault(core, entry)
        self._vocabulary = {word for phrase in self._phrases for word in phrase.split()}
        self._by_length: dict[int, list[str]] = {}
        for phrase in self._phrases:
            self._by_length.setdefault(len(phrase), []).append(phrase)
        self.english = next((e for e in entries if e.id == ENGLISH_ENTRY), None)

    def match(self, message: str) -> Entry | None:
        """The small-talk entry answering ``message``, or None if it is (also) a question."""
        if not self._phrases:
            return None
        whole = self._phrase(tokens(message))
        if whole is not None:
            return whole
        found: Entry | None = None
        for segment in _SEGMENT.split(message):
            words = tokens(segment)
            if not words:
                continue
            entry = self._phrase(words)
            if entry is None:
                return None
            found = entry
        return found

    def _phrase(self, words: list[str]) -> Entry | None:
        if not words:
            return None
        core = _core(words)
        exact = self._phrases.get(core) or self._run_of_phrases(core.split())
        if exact is not None:
            return exact
        if len(core) < 5:
            return None
        # Only phrasings of about the same length can be this one with a typo.
        pool = [
            phrase
            for length in range(len(core) - 2, len(core) + 3)
            for phrase in self._by_length.get(length, ())
        ]
        best = process.extractOne(core, pool, scorer=fuzz.ratio, score_cutoff=SIMILARITY)
        return self._phrases[best[0]] if best else None

    def _run_of_phrases(self, words: list[str]) -> Entry | None:
        """The last entry if ``words`` split into known phrasings ("ok super"), else None."""
        if not words or not self._vocabulary.issuperset(words):
            return None  # most questions: a word no small talk uses
        # last[i]: the entry of the phrasing ending the split of words[:i], if any.
        last: list[Entry | None] = [None] * (len(words) + 1)
        reachable = [True] + [False] * len(words)
        for end in range(1, len(words) + 1):
            for start in range(max(0, end - 6), end):
                entry = self._phrases.get(" ".join(words[start:end]))
                if reachable[start] and entry is not None:
                    reachable[end], last[end] = True, entry
        return last[-1] if reachable[-1] else None


def is_english(message: str) -> bool:
    """True for a message written in English ("How can I get rid of spam?")."""
    words = tokens(message)
    english = sum(word in ENGLISH_WORDS for word in words)
    german = sum(word in GERMAN_WORDS for word in words)
    return (
        english >= ENGLISH_MIN and english >= ENGLISH_SHARE * len(words) and german * 3 <= english
    )


_cache: list[tuple[KnowledgeBase, SmallTalk]] = []


def small_talk_of(kb: KnowledgeBase) -> SmallTalk:
    """The small talk of a knowledge base, built once per (immutable) knowledge base."""
    for known, small_talk in _cache:
        if known is kb:
            return small_talk
    small_talk = SmallTalk(kb.smalltalk)
    _cache[:] = [*_cache[-1:], (kb, small_talk)]  # the current and the previous one
    return small_talk


NOTHING = MatchResult("none", None, (), (), ())
"""The FAQ verdict recorded for small talk: the FAQ matcher was not asked."""


@dataclass(frozen=True)
class Understanding:
    """What a message is: small talk, or a question with the FAQ matcher's verdict."""

    result: MatchResult
    smalltalk: Entry | None = None

    @property
    def decision(self) -> Decision:
        return "smalltalk" if self.smalltalk is not None else self.result.decision

    @property
    def counts(self) -> bool:
        """Worth recording: small talk, or a question with at least one word."""
        return self.smalltalk is not None or bool(self.result.units)


def understand(kb: KnowledgeBase, matcher: Matcher, message: str) -> Understanding:
    """Small talk if the whole message is small talk, else the FAQ matcher's verdict."""
    return as_small_talk(kb, message) or as_question(kb, matcher, message)


def as_small_talk(kb: KnowledgeBase, message: str) -> Understanding | None:
    """The message as small talk, or None when it is not all small talk."""
    entry = small_talk_of(kb).match(message)
    return Understanding(NOTHING, entry) if entry is not None else None


def as_question(
    kb: KnowledgeBase, matcher: Matcher, message: str, lexical: LexicalPass | None = None
) -> Understanding:
    """The FAQ matcher's verdict on a message that is not small talk; an English one
    that the matcher does not answer gets the English entry (``lexical``: the matcher's
    lexical pass over the message, if already made)."""
    result = matcher.match(message, lexical)
    english = small_talk_of(kb).english
    if english is not None and result.decision != "answer" and is_english(message):
        return Understanding(result, english)
    return Understanding(result)


def shadowed_phrasings(kb: KnowledgeBase) -> list[Problem]:
    """Warnings for FAQ phrasings that count as small talk and so never reach their entry."""
    small_talk = small_talk_of(kb)
    warnings = []
    for entry in kb.entries:
        lines = entry.phrasing_lines or (entry.line,) * len(entry.phrasings)
        for phrasing, line in zip(entry.phrasings, lines, strict=False):
            chat = small_talk.match(phrasing)
            if chat is not None:
                warnings.append(
                    Problem(
                        entry.source,
                        line,
                        f"„{phrasing}“ ({entry.id}) gilt als Small Talk (Eintrag „{chat.id}“,"
                        f" {chat.source}:{chat.line}) und erreicht diesen Eintrag nie."
                        " Formulieren Sie eine der beiden genauer.",
                        severity="warning",
                        code="shadowed-by-smalltalk",
                    )
                )
    return warnings
