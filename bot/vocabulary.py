"""What a customer's word means in the knowledge base's vocabulary.

The vocabulary is every surface form the knowledge base uses, with its stem. A
question's word is resolved against it, with a credit below 1 where the link is less
certain:

    exact stem                 zertifikate -> zertifikat             1.0
    inflection by prefix       erneuert -> erneu                    0.9
    participle without ge      eingerichtet -> einricht             0.9
    zu-infinitive without zu   anzubieten -> anbiet                 0.9
    compound split             spamkommentare -> spam + kommentar   1.0 each
    compound head only         firmenblog -> blog                   0.3
    typo (OSA, 1-2 edits)      zertifkat -> zertifikat              0.85 / 0.7
    typo of a German word      bewerbung -> bewertung               half that
    unknown                    photovoltaikanlage                   0, but it weighs

The index uses the same splitting for its own words, so "Kommentar-Spam" and
"Spamkommentare" meet halfway.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Container, Iterable, Mapping
from dataclasses import dataclass

from rapidfuzz import process
from rapidfuzz.distance import OSA

from bot.text import Word, is_stopword, stem
from bot.wordlist import GermanWords

FUGEN = ("s", "es", "n", "en", "e")
"""Linking letters between the parts of a German compound (Unternehmen-s-blog)."""
MIN_PART = 3
MAX_WORD_LETTERS = 40
"""Longer "words" are pasted tokens, hashes or keys held down, not German (the longest
words in use, "Datenschutzgrundverordnung" or "Zertifikatserneuerung", have 26 and
21 letters). They stay unknown without the compound, inflection, typo and head searches,
whose cost grows with the square of the length: a 1,000-letter word took 90 ms."""
SEPARABLE_PARTICLES = (
    "ab",
    "an",
    "auf",
    "aus",
    "bei",
    "dar",
    "ein",
    "fest",
    "her",
    "hin",
    "los",
    "mit",
    "nach",
    "um",
    "vor",
    "weg",
    "weiter",
    "zu",
    "zurueck",
    "zusammen",
)
"""Prefixes of separable verbs, whose participle takes "ge" and whose infinitive takes
"zu" inside: eingetragen is einge + tragen, the participle of eintragen, einzutragen its
zu-infinitive (folded spelling: zurück is zurueck)."""
DERIVING_SUFFIXES = ("ig", "lich", "isch", "bar", "sam", "haft")
"""Endings that make another word of a stem, not another form of it: kündig(en) is no
Kunde, fraglich no Frage. A question's stem that ends in one is no inflection of the
stem before it (Snowball keeps them where the word is short)."""
IEREN_SUFFIXES = ("ation", "iert", "ier", "i")
"""Stem endings of one word family: simulieren (simuli), simuliert, Simulierung
(simulier), Simulation. Snowball stems the verb and the -ation noun apart."""
MIN_IEREN_ROOT = 4
MIN_HEAD_LEFT, MIN_HEAD = 4, 6
"""A closed compound's first part and head, in letters, for the head to count alone."""
SPLIT_CACHE_SIZE = 100_000
"""Compound splits remembered (each word's and its endings'); the memo is emptied when
full, so customers' ever new words cannot grow it without bound."""


@dataclass(frozen=True)
class Unit:
    """One content word of the question and the knowledge-base terms it may mean."""

    word: str
    weight: float
    forms: tuple[tuple[str, float], ...]
    how: str
    repaired: str = ""
    """For a misspelt word ("typo") or a prefix match ("inflection"), the knowledge-base
    spelling it was read as; the encoder reads that where the word is no German word."""

    @property
    def known(self) -> bool:
        return bool(self.forms)


@dataclass(frozen=True)
class Credits:
    """How much a less certain link between a word and a term counts."""

    prefix: float = 0.9
    head: float = 0.3
    typo: tuple[float, float] = (0.85, 0.7)
    real_word: float = 0.5
    """The share of a typo's credit left where the customer's word is a German word of
    its own: "Bewerbung" may be a misspelt Bewertung, but more likely a job application."""
    unknown_weight: float = 1.0


class Vocabulary:
    """The knowledge base's surface forms and their stems; splits compounds against them."""

    def __init__(self, surface: dict[str, str]) -> None:
        self.surface = surface
        self.stems: frozenset[str] = frozenset(surface.values())
        # Known stems by their shorter forms (erneu -> erneuer, erneuert), for spelling
        # variants: used to split compounds and to resolve a question's inflections.
        self.by_prefix: dict[str, list[str]] = defaultdict(list)
        for known in sorted(self.stems):
            for cut in range(1, 4):
                if len(known) - cut >= 5:
                    self.by_prefix[known[:-cut]].append(known)
        self.surface_by_length: dict[int, list[str]] = defaultdict(list)
        for form in surface:
            self.surface_by_length[len(form)].append(form)
        self._split_cache: dict[str, tuple[str, ...] | None] = {}
        self._terms_cache: dict[tuple[str, tuple[str, ...]], frozenset[str]] = {}
        self._spellings_by_term: dict[str, list[str]] | None = None

    def word_terms(self, word: Word) -> frozenset[str]:
        """The terms a knowledge-base word stands for: its stem and its parts' stems."""
        key = (word.text, word.parts)
        terms = self._terms_cache.get(key)
        if terms is None:
            terms = self._terms_cache[key] = frozenset(self._word_terms(word))
        return terms

    def carries(self, word: str) -> bool:
        """True for a word that can carry a match: no function word or filler, and a
        short number only where a keyword holds it (the index keeps no other)."""
        return not is_stopword(word) or word in self.surface

    def _word_terms(self, word: Word) -> set[str]:
        if not self.carries(word.text):
            return set()
        terms = {stem(word.text)}
        for part in word.parts if word.is_compound else ():
            if self.carries(part):
                terms.add(stem(part))
        split = self.split_compound(word.text)
        if split:
            terms.update(split)
        return terms

    def split_compound(self, word: str) -> tuple[str, ...] | None:
        """Split a closed compound into terms the knowledge base knows, or None.

        "spamkommentare" -> ("spam", "kommentar"); "zertifikatserneuerung" ->
        ("zertifikat", "erneu"). Every part must be known, allowing a linking letter
        (Fugen-s) and an inflected ending; the split with the longest shortest part
        wins.
        """
        # One lookup, not "in" and then [ ]: another thread may empty the memo between.
        # A split has two parts or more, so () stands for "not looked at yet".
        remembered = self._split_cache.get(word, ())
        if remembered != ():
            return remembered
        if len(self._split_cache) >= SPLIT_CACHE_SIZE:
            self._split_cache.clear()
        best: tuple[str, ...] | None = None
        best_key = 0
        if len(word) >= 2 * MIN_PART + 1:
            for cut in range(MIN_PART, len(word) - MIN_PART + 1):
                left = self._known_left(word[:cut])
                if left is None:
                    continue
                right_word = word[cut:]
                right_term = self.known_term(right_word)
                right = (right_term,) if right_term else self.split_compound(right_word)
                if right is None:
                    continue
                key = min(cut, len(right_word) if right_term else MIN_PART) * 10 - len(right)
                if key > best_key:
                    best, best_key = (left, *right), key
        self._split_cache[word] = best
        return best

    def closest_spelling(self, word: str, terms: list[str]) -> str:
        """The knowledge base's written form of one of ``terms`` nearest to ``word``."""
        spellings = [form for term in terms for form in self._spellings().get(term, ())]
        found = process.extractOne(word, spellings, scorer=OSA.distance)
        return str(found[0]) if found else ""

    def _spellings(self) -> dict[str, list[str]]:
        """Every term's surface forms, built on first use (questions need it, the index not)."""
        if self._spellings_by_term is None:
            by_term: dict[str, list[str]] = defaultdict(list)
            for form, term in self.surface.items():
                by_term[term].append(form)
            self._spellings_by_term = by_term
        return self._spellings_by_term

    def known_term(self, word: str, *, longer: bool = True) -> str | None:
        """The knowledge base's term for a word, tolerating another ending; or None.

        ``longer``: also the longer term the word may be the beginning of ("wordpres"
        for wordpress). Not for a compound's first part, which is a word of its own:
        "schnelles" is no "schnel(l)" + "les", "erscheint" no "erschein" + "int".
        """
        if is_stopword(word) or len(word) < MIN_PART:
            return None
        term = self.surface.get(word) or stem(word)
        if term in self.stems:
            return term
        for cut in range(len(term) - 1, max(4, len(term) - 3) - 1, -1):
            if term[:cut] in self.stems:
                return term[:cut]
        extended = self.by_prefix.get(term) if longer else None
        return extended[0] if extended else None

    def _known_left(self, left: str) -> str | None:
        term = self.known_term(left, longer=False)
        if term:
            return term
        for linker in FUGEN:
            trimmed = left.removesuffix(linker)
            if trimmed != left and len(trimmed) >= MIN_PART:
                term = self.known_term(trimmed, longer=False)
                if term:
                    return term
        return None


class QuestionReader:
    """Resolves a question's words into units against one index's terms and weights."""

    def __init__(
        self,
        vocabulary: Vocabulary,
        *,
        terms: Container[str],
        weight: Mapping[str, float],
        idf: Mapping[str, float],
        unknown_idf: float,
        credits: Credits,
        dictionary: GermanWords,
    ) -> None:
        self.vocabulary = vocabulary
        self.dictionary = dictionary
        self.terms = terms
        self.weight = weight
        self.idf = idf
        self.unknown_idf = unknown_idf
        self.credits = credits

    def units(self, found: list[Word]) -> tuple[Unit, ...]:
        """One unit per distinct content word of the question, in order."""
        units: list[Unit] = []
        seen: set[str] = set()
        # Case only tells nouns from other words if the writer uses capitals at all.
        cased = any(word.capitalised for word in found)
        for word in found:
            for unit in self._units_of(word, cased):
                if unit.word not in seen:
                    seen.add(unit.word)
                    units.append(unit)
        return tuple(units)

    def _units_of(self, word: Word, cased: bool) -> list[Unit]:
        carries = self.vocabulary.carries
        if not carries(word.text):
            return []
        noun = word.capitalised if cased else None
        if not word.is_compound:
            return self.resolve(word.text, noun)
        # A hyphenated compound is matched by its parts, as the index also holds them.
        return [unit for part in word.parts if carries(part) for unit in self.resolve(part, noun)]

    def resolve(self, word: str, noun: bool | None) -> list[Unit]:
        """Find what one word means in the knowledge base's vocabulary."""
        credits = self.credits
        noun_factor = {True: 1.0, None: 0.75, False: 0.5}[noun]
        unknown_weight = credits.unknown_weight * self.unknown_idf * noun_factor
        if len(word) > MAX_WORD_LETTERS:
            return [Unit(word, unknown_weight, (), "unknown")]
        term = stem(word)
        if len(word) == 1 and term not in self.terms:
            return []
        split = self.vocabulary.split_compound(word)
        if split:
            # Matched by its parts, as the index also holds the parts of every compound.
            return [
                Unit(part, self.weight[part], ((part, 1.0),), "compound part")
                for part in split
                if part in self.terms
            ]
        if term in self.terms:
            return [Unit(word, self.weight[term], ((term, 1.0),), "exact")]
        variants = self._inflections(term)
        if variants:
            weight = max(self.weight[v] for v in variants)
            forms = tuple((v, credits.prefix) for v in variants)
            # A prefix match is often a typo ("wordpres", "bewertnug"): the closest
            # spelling the knowledge base uses goes with it, for the encoder (which
            # writes it only where the customer's word is no German word).
            spelling = self.vocabulary.closest_spelling(word, variants)
            return [Unit(word, weight, forms, "inflection", spelling)]
        corrected = self._correct_typo(word)
        if corrected:
            term, credit, known = corrected
            return [Unit(word, self.weight[term], ((term, credit),), "typo", known)]
        head = self._known_head(word)
        if head:
            return [Unit(word, unknown_weight, ((head, credits.head),), "head")]
        return [Unit(word, unknown_weight, (), "unknown")]

    def _inflections(self, term: str) -> list[str]:
        """Known terms that differ from ``term`` only in an ending (erneuert ~ erneu)."""
        terms = self.terms
        # Up to three letters of ending ("reagiert" ~ reagi), but only two on a stem of
        # four ("aussuchen" is no form of außen), and never a deriving ending.
        found = [
            term[:cut]
            for cut in range(max(4, len(term) - 3), len(term))
            if term[:cut] in terms
            and not term[cut:].endswith(DERIVING_SUFFIXES)
            and (cut >= 5 or len(term) - cut <= 2)
        ]
        # A known stem the word begins: one or two letters more are a word cut short
        # ("termi"), three are another word ("verein" is not "vereinbar").
        longer = self.vocabulary.by_prefix.get(term, [])
        found += [known for known in longer if len(known) - len(term) <= 2]
        found += [known for known in ieren_family(term) if known in terms and known not in found]
        if not found:
            for particle, rest in participle_stems(term):
                if rest in terms:
                    found.append(rest)
                else:
                    shortest = max(4, len(particle) + 3)
                    found += [rest[:c] for c in range(shortest, len(rest)) if rest[:c] in terms]
        return found[:3]

    def _correct_typo(self, word: str) -> tuple[str, float, str] | None:
        """The knowledge-base word one or two edits away: its term, credit and spelling."""
        if len(word) < 4 or word.isdigit():
            return None
        max_edits = 1 if len(word) < 8 else 2
        vocabulary = self.vocabulary
        best: tuple[int, bool, float, str, str] | None = None
        for length in range(len(word) - max_edits, len(word) + max_edits + 1):
            pool = vocabulary.surface_by_length.get(length)
            if not pool:
                continue
            for known, distance, _ in process.extract(
                word, pool, scorer=OSA.distance, score_cutoff=max_edits, limit=5
            ):
                term = vocabulary.surface[known]
                if term not in self.terms:
                    continue
                # Fewest edits; then a kept first letter; then the commoner word.
                key = (int(distance), known[0] != word[0], self.idf[term], term, known)
                if best is None or key < best:
                    best = key
        if best is None:
            return None
        credit = self.credits.typo[best[0] - 1]
        if self.dictionary.is_word(word):
            credit *= self.credits.real_word
        return best[3], credit, best[4]

    def _known_head(self, word: str) -> str | None:
        """The last part of an unknown compound, if the knowledge base knows it."""
        for cut in range(3, len(word) - 3):
            particle = word[:cut] in SEPARABLE_PARTICLES
            if cut == 3 and not particle:
                # Three letters before a head are a prefix (be-, emp-, ver-), not a
                # word: "empfehlen" is not about "fehlen", "behalte" not about "alt".
                continue
            head = word[cut:]
            term = stem(head)
            if len(term) < 4 and not particle:
                continue
            if term in self.terms and not is_stopword(head):
                return term
        return None


def participle_stems(term: str) -> list[tuple[str, str]]:
    """A participle's stem without its "ge", with the particle before it (or "").

    gehackt -> hackt, eingerichtet -> einrichtet (einge-richtet), umgeleitet ->
    umleitet: what the knowledge base's infinitives and nouns (hacken, einrichten,
    Umleitung) share their beginning with. A separable verb's zu-infinitive likewise
    loses its "zu": anzubieten -> anbieten (an-zu-bieten)."""
    found = []
    if term.startswith("ge") and len(term) > 6:
        found.append(("", term[2:]))
    for particle in SEPARABLE_PARTICLES:
        start = len(particle) + 2
        # A verb's stem after "zu" may be short ("aus-zu-bau(en)"); the -zug nouns
        # (Anzug, Aufzug, Auszug) leave a single letter and stay what they are.
        for infix, shortest in (("ge", 4), ("zu", 3)):
            if term.startswith(particle + infix) and len(term) >= start + shortest:
                found.append((particle, particle + term[start:]))
    return found


def ieren_family(term: str) -> list[str]:
    """The other stems of an -ieren word's family ("simuli" -> simulation, simulier)."""
    for suffix in IEREN_SUFFIXES:
        root = term.removesuffix(suffix)
        if root != term and len(root) >= MIN_IEREN_ROOT:
            return [root + other for other in IEREN_SUFFIXES if other != suffix]
    return []


def compound_heads(
    vocabulary: Vocabulary, words: Iterable[str], dictionary: GermanWords
) -> dict[str, str]:
    """Closed compounds whose head the knowledge base writes nowhere alone, and that head.

    "krisensimulation" -> "simulation": the first part is a word the base writes
    (Krisen, or Krise with a linking letter) and the rest a German word of its own
    (``dictionary``) that the base does not know yet, so that a customer's "Simulation"
    meets the keyword. The dictionary tells the head from what only ends the word
    ("nsimulation"); the longest head wins.
    """
    surface = vocabulary.surface
    words = list(words)
    german_heads = dictionary.listed(word[cut:] for word in words for cut in _head_cuts(word))
    heads: dict[str, str] = {}
    for word in words:
        for cut in _head_cuts(word):
            head, left = word[cut:], word[:cut]
            if head not in german_heads or is_stopword(head):
                continue  # a function word stays one (the base keeps none as a term)
            written = left in surface or any(
                left.endswith(linker) and left.removesuffix(linker) in surface for linker in FUGEN
            )
            if written:
                if vocabulary.known_term(head) is None:
                    heads[word] = head
                break
    return heads


def _head_cuts(word: str) -> range:
    """Where a compound may split into a first part and a head, longest head first."""
    return range(MIN_HEAD_LEFT, len(word) - MIN_HEAD + 1)
