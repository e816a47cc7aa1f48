"""The German word list: pyspellchecker's frequency list, its keys only (339,000 words).

Three places read it: the respelling for the encoder (a misspelling is no German word,
"besten" is one), the question reader, which trusts a typo repair less where the
customer's word is a German word of its own ("Bewerbung" is no misspelt Bewertung), and
the index, which takes the head of a closed compound as a word of its own only where
that head is a German word ("Krisensimulation" has Simulation, not "nsimulation").
Loaded once per process: 0.13–0.3 s and ~40 MB.
"""

from __future__ import annotations

import gzip
import itertools
import json
import re
from functools import lru_cache
from importlib import resources

_SPELLINGS = (("ae", "ä"), ("oe", "ö"), ("ue", "ü"), ("ss", "ß"))
MAX_SPOTS = 4
"""Tokens with more places that could be an umlaut are left alone (2**4 candidates)."""


class GermanWords:
    """Looks words up in the word list as customers write them: with or without umlauts."""

    def __init__(self, words: frozenset[str]) -> None:
        self.words = words

    def __bool__(self) -> bool:
        """False without a word list (pyspellchecker not installed)."""
        return bool(self.words)

    def is_word(self, folded: str) -> bool:
        """True for a German word, written with or without umlauts and ß."""
        return folded in self.words or self.with_umlauts(folded) is not None

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
            if candidate in self.words:
                return candidate[0].upper() + candidate[1:] if token[0].isupper() else candidate
        return None


@lru_cache(maxsize=1)
def german() -> GermanWords:
    """The German word list, for lookups (empty when it is not installed)."""
    return GermanWords(german_words())


@lru_cache(maxsize=1)
def german_words() -> frozenset[str]:
    """Lower-case German words, or none when the word list is not installed."""
    try:
        raw = (resources.files("spellchecker") / "resources" / "de.json.gz").read_bytes()
    except (ModuleNotFoundError, OSError):
        return frozenset()
    return json_keys(gzip.decompress(raw).decode("utf-8"))


_JSON_KEY = re.compile(r'"([^"\\]*)":')


def json_keys(text: str) -> frozenset[str]:
    """The keys of a JSON object of word counts.

    The word list is one flat object without escapes; there every key is the text
    between a quote and ``":``, and one regular expression finds them in a third of
    ``json.loads``'s time (0.12 against 0.38 s, a tenth of a warm start at 10,000
    entries). Anything else, nested or escaped, goes through ``json``.
    """
    if "\\" not in text and text.count("{") == 1:
        return frozenset(_JSON_KEY.findall(text))
    # Keys only: the counts are not needed, and a dict of 339,000 ints costs 30 MB more.
    found: frozenset[str] = json.loads(
        text, object_pairs_hook=lambda pairs: frozenset(k for k, _ in pairs)
    )
    return found
