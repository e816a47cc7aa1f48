"""The question as the sentence encoder should read it: typos repaired, umlauts restored.

The encoder learned German from well-spelled text. "Wordpess", "Zertifkat" or
"ploetzlich" fall apart into rare word pieces, and the cosine of a right paraphrase
drops to where out-of-scope questions sit. The lexical stage already knows which
knowledge-base word a misspelt word stands for (``bot.vocabulary`` repairs it); a German
word list tells a misspelling from a real word that merely looks like a knowledge-base
word ("besten" is not "testen", "nichts" not "nachts"), and which umlaut a customer
without a German keyboard meant ("fuer" -> "für").

The word list is pyspellchecker's German frequency list (``bot.wordlist``). On the labelled
set the respelled question raised the calibrated answered-right share by about 1 point
(5-fold cross-validated), on the held-out set by 2; ``benchmarks/fit_fusion.py``
measures it.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping

from bot.text import fold

_TOKEN = re.compile(r"[^\W\d_]+")
_SPELLINGS = (("ae", "ä"), ("oe", "ö"), ("ue", "ü"), ("ss", "ß"))
MAX_SPOTS = 4
"""Tokens with more places that could be an umlaut are left alone (2**4 candidates)."""


class Respeller:
    """Rewrites a question for the encoder with the repairs the lexical stage found."""

    def __init__(self, known_words: frozenset[str]) -> None:
        self.known_words = known_words

    def is_word(self, folded: str) -> bool:
        """True for a German word, written with or without umlauts and ß."""
        return folded in self.known_words or self.with_umlauts(folded) is not None

    def with_umlauts(self, token: str) -> str | None:
        """The German word ``token`` is when ae/oe/ue/ss are umlauts or ß, or None."""
        lower = token.lower()
        spots = [
            (at, pair, umlaut)
            for pair, umlaut in _SPELLINGS
            for at in range(len(lower) - 1)
            if lower.startswith(pair, at)
        ]
        if not spots or len(spots) > MAX_SPOTS:
            return None
        # Right to left, so that earlier positions stay valid while replacing.
        spots.sort(reverse=True)
        for choice in itertools.product((False, True), repeat=len(spots)):
            if not any(choice):
                continue
            candidate = lower
            for (at, _, umlaut), take in zip(spots, choice, strict=True):
                if take:
                    candidate = candidate[:at] + umlaut + candidate[at + 2 :]
            if candidate in self.known_words:
                return candidate[0].upper() + candidate[1:] if token[0].isupper() else candidate
        return None

    def misspelt(self, folded: str) -> bool:
        """True when a word the lexical stage repaired is not a German word of its own."""
        return bool(self.known_words) and not self.is_word(folded)

    def respell(self, text: str, repairs: Mapping[str, str]) -> str:
        """``text`` with repaired words (by folded form) replaced and umlauts restored."""
        if not self.known_words:
            return text

        def replace(found: re.Match[str]) -> str:
            token = found.group(0)
            lower = token.lower()
            repaired = repairs.get(fold(lower))
            if repaired is not None:
                return self.with_umlauts(repaired) or repaired
            if lower in self.known_words:
                return token
            return self.with_umlauts(token) or token

        return _TOKEN.sub(replace, text)
