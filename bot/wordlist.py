"""The German word list: pyspellchecker's frequency list, its keys only (339,000 words).

Three places read it: the respelling for the encoder (a misspelling is no German word,
"besten" is one), the question reader, which trusts a typo repair less where the
customer's word is a German word of its own ("Bewerbung" is no misspelt Bewertung), and
the index, which takes the head of a closed compound as a word of its own only where
that head is a German word ("Krisensimulation" has Simulation, not "nsimulation").
Loaded once per process, in 0.2–0.4 s. Every use only asks whether a word is in it, so
it is held as a sorted array of the words' hashes (2.7 MB) rather than as 339,000
strings in a set (~40 MB, which also left the memory the index build freed around them
unusable for later: a 10,000-entry bot held 23 MiB more when the list loaded during the
build than after it).
"""

from __future__ import annotations

import gzip
import itertools
import json
import re
from collections.abc import Iterable
from functools import lru_cache
from importlib import resources

import numpy as np

_SPELLINGS = (("ae", "ä"), ("oe", "ö"), ("ue", "ü"), ("ss", "ß"))
MAX_SPOTS = 4
"""Tokens with more places that could be an umlaut are left alone (2**4 candidates)."""


class GermanWords:
    """Looks words up in the word list as customers write them: with or without umlauts.

    Membership is by the words' 64-bit hashes (Python's ``hash``, the same within one
    process): a word that is not in the list shares a hash with one of its 339,000 words
    about once in 5 * 10**13 lookups. A lookup takes ~2 µs instead of ~0.1 µs; the
    matcher makes about one per question, the respelling a few dozen at most.
    """

    def __init__(self, words: Iterable[str]) -> None:
        listed = list(words)
        self._hashes = np.fromiter(map(hash, listed), dtype=np.int64, count=len(listed))
        self._hashes.sort()

    def __bool__(self) -> bool:
        """False without a word list (pyspellchecker not installed)."""
        return len(self._hashes) > 0

    def __len__(self) -> int:
        return len(self._hashes)

    def __contains__(self, word: object) -> bool:
        """True for a word exactly as it is written in the list."""
        if not isinstance(word, str):
            return False
        wanted = hash(word)
        at = int(np.searchsorted(self._hashes, wanted))
        return at < len(self._hashes) and int(self._hashes[at]) == wanted

    def listed(self, words: Iterable[str]) -> set[str]:
        """Those of ``words`` that are in the list, looked up in one pass (a large base
        asks for hundreds of thousands of compound heads while it is indexed)."""
        asked = list(dict.fromkeys(words))
        if not asked or not self:
            return set()
        wanted = np.fromiter(map(hash, asked), dtype=np.int64, count=len(asked))
        at = np.minimum(np.searchsorted(self._hashes, wanted), len(self._hashes) - 1)
        found = self._hashes[at] == wanted
        return {word for word, hit in zip(asked, found.tolist(), strict=True) if hit}

    def is_word(self, folded: str) -> bool:
        """True for a German word, written with or without umlauts and ß."""
        return folded in self or self.with_umlauts(folded) is not None

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
            if candidate in self:
                return candidate[0].upper() + candidate[1:] if token[0].isupper() else candidate
        return None


@lru_cache(maxsize=1)
def german() -> GermanWords:
    """The German word list, for lookups (empty when it is not installed)."""
    return GermanWords(read_words())


def read_words() -> list[str]:
    """Lower-case German words, or none when the word list is not installed.

    Read anew on every call and not kept: lookups go through ``german()``."""
    try:
        raw = (resources.files("spellchecker") / "resources" / "de.json.gz").read_bytes()
    except (ModuleNotFoundError, OSError):
        return []
    return json_keys(gzip.decompress(raw).decode("utf-8"))


_JSON_KEY = re.compile(r'"([^"\\]*)":')


def json_keys(text: str) -> list[str]:
    """The keys of a JSON object of word counts.

    The word list is one flat object without escapes; there every key is the text
    between a quote and ``":``, and one regular expression finds them in a third of
    ``json.loads``'s time (0.12 against 0.38 s, a tenth of a warm start at 10,000
    entries). Anything else, nested or escaped, goes through ``json``.
    """
    if "\\" not in text and text.count("{") == 1:
        return _JSON_KEY.findall(text)
    # Keys only: the counts are not needed, and a dict of 339,000 ints costs 30 MB more.
    found: list[str] = json.loads(text, object_pairs_hook=lambda pairs: [k for k, _ in pairs])
    return found
