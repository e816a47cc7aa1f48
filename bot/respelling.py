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

import re
from collections.abc import Mapping

from bot.text import fold
from bot.wordlist import GermanWords

_TOKEN = re.compile(r"[^\W\d_]+")


class Respeller:
    """Rewrites a question for the encoder with the repairs the lexical stage found."""

    def __init__(self, words: GermanWords) -> None:
        self.words = words

    def misspelt(self, folded: str) -> bool:
        """True when a word the lexical stage repaired is not a German word of its own."""
        return bool(self.words) and not self.words.is_word(folded)

    def respell(self, text: str, repairs: Mapping[str, str]) -> str:
        """``text`` with repaired words (by folded form) replaced and umlauts restored."""
        words = self.words
        if not words:
            return text

        def replace(found: re.Match[str]) -> str:
            token = found.group(0)
            lower = token.lower()
            repaired = repairs.get(fold(lower))
            if repaired is not None:
                return words.with_umlauts(repaired) or repaired
            if lower in words:
                return token
            return words.with_umlauts(token) or token

        return _TOKEN.sub(replace, text)
