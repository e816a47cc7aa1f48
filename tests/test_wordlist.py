"""bot.wordlist: the German word list, read once and as JSON would read it."""

from __future__ import annotations

import gzip
import json
from importlib import resources

import pytest

from bot.wordlist import GermanWords, german, json_keys, read_words


def test_the_german_word_list_ships_with_the_package() -> None:
    words = frozenset(read_words())
    assert len(words) > 100_000
    assert {"nichts", "verwenden", "für", "plötzlich"} <= words


def test_the_word_list_reads_as_json_would() -> None:
    raw = (resources.files("spellchecker") / "resources" / "de.json.gz").read_bytes()
    assert frozenset(read_words()) == frozenset(json.loads(gzip.decompress(raw)))


@pytest.mark.parametrize(
    "text",
    [
        '{"a": 1, "b\\"c": 2, "d\\u00e4": 3}',  # escapes
        '{"a": {"inner": 1}, "b": 2}',  # nested
        '{\n"über": 16,\n"zu": 5\n}',
    ],
)
def test_word_list_keys_are_the_json_objects_keys(text: str) -> None:
    assert json_keys(text) == list(json.loads(text))


def test_a_word_is_found_as_customers_write_it_with_or_without_umlauts() -> None:
    words = german()
    # The matcher's folded forms: lower case, umlauts as two letters.
    assert words.is_word("bewerbung")
    assert words.is_word("fuer")
    assert words.is_word("ploetzlich")
    assert not words.is_word("bewertnug")
    assert not words.is_word("wordpess")


def test_the_compact_list_answers_as_the_full_set_of_words_would() -> None:
    words = frozenset(read_words())
    looked_up = german()
    assert len(looked_up) == len(words)
    sample = sorted(words)[::97]
    near_misses = [word + "q" for word in sample] + [word[:-1] for word in sample]
    for word in sample + near_misses:
        assert (word in looked_up) == (word in words), word
    assert 42 not in looked_up
    assert looked_up.listed(sample + near_misses) == {w for w in sample + near_misses if w in words}


def test_without_a_word_list_nothing_is_a_word() -> None:
    bare = GermanWords(frozenset())
    assert not bare
    assert not bare.is_word("fuer")
    assert bare.with_umlauts("fuer") is None
    assert bare.listed(["fuer"]) == set()
