"""The semantic stage: encoder availability, the vector cache on real files, fusion and
the decision (with a small fake encoder), and the bot switching to vectors without
ever keeping a customer waiting."""

from __future__ import annotations

import logging
import os
import stat
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from bot import semantic
from bot.errors import ConfigError
from bot.fusion import entry_coverage
from bot.knowledge import KnowledgeBase, load_knowledge_base
from bot.matcher import Matcher, MatcherSettings, build_matcher
from bot.phrasing_vectors import embed_phrasings, mean_vectors
from bot.reloader import KnowledgeBaseHolder
from bot.semantic import (
    EncoderLoader,
    VectorCache,
    embed,
    load_encoder,
    parse_mode,
    text_key,
)
from tests.bot_runner import BotThread, settings_for
from tests.fake_bot_api import FakeBotApi
from tests.fake_encoder import ConceptEncoder


@pytest.fixture
def faq_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "faq"
    folder.mkdir()
    (folder / "alltag.yaml").write_text(
        "category: Alltag\nentries:\n"
        "  - id: fahrrad-kaufen\n    question: Wie finde ich das richtige Fahrrad?\n"
        '    alternatives: ["Welches Rad passt zu mir?"]\n'
        "    answer: Probefahren.\n"
        "  - id: kuchen-backen\n    question: Wie backe ich einen Kuchen?\n"
        "    alternatives: [Rezept für eine Torte]\n"
        "    answer: Mit Mehl.\n"
        "  - id: steuer-frist\n"
        "    question: Bis wann muss die Steuererklärung beim Finanzamt sein?\n"
        "    answer: Ende Juli.\n",
        encoding="utf-8",
    )
    return folder


@pytest.fixture
def kb(faq_dir: Path) -> KnowledgeBase:
    return load_knowledge_base(faq_dir)


# Availability ---------------------------------------------------------------------------


def test_parse_mode_accepts_auto_on_off_and_rejects_others() -> None:
    assert [parse_mode(v) for v in (None, "", "AUTO", "on", " off ")] == [
        "auto",
        "auto",
        "auto",
        "on",
        "off",
    ]
    with pytest.raises(ConfigError, match="SEMANTIC must be auto, on or off"):
        parse_mode("yes")


def test_cpu_flags_missing_avx2_is_named(tmp_path: Path) -> None:
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor : 0\nflags : fpu sse sse2 fma\n", encoding="ascii")
    assert semantic._missing_cpu_flags(cpuinfo, ("avx2", "fma")) == ["avx2"]
    assert semantic._missing_cpu_flags(tmp_path / "absent", ("avx2",)) == []


def test_load_encoder_off_is_lexical_with_the_reason() -> None:
    encoder, status = load_encoder("off")
    assert encoder is None
    assert status.as_json() == {"semantic": False, "semantic_reason": "SEMANTIC=off"}


def test_load_encoder_unusable_on_fails_auto_falls_back_with_one_log_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    loader = EncoderLoader(probe=lambda: "the CPU lacks avx2", make=ConceptEncoder)
    with pytest.raises(ConfigError, match=r"SEMANTIC=on, but .*the CPU lacks avx2.*SEMANTIC=auto"):
        loader.load("on")
    with caplog.at_level(logging.WARNING, logger="bot.semantic"):
        encoder, status = loader.load("auto")
    assert encoder is None and not status.active
    assert status.reason == "the CPU lacks avx2"
    assert [r.getMessage() for r in caplog.records] == [
        "Semantic matching is off: the CPU lacks avx2; matching lexically."
    ]


def test_load_encoder_a_model_that_fails_to_load_is_named_and_usable_ones_are_shared() -> None:
    def broken() -> ConceptEncoder:
        raise OSError("libgomp.so.1: cannot open shared object file")

    encoder, status = EncoderLoader(probe=lambda: None, make=broken).load("auto")
    assert encoder is None
    assert status.reason == (
        "the model failed to load (libgomp.so.1: cannot open shared object file)"
    )
    loaded: list[ConceptEncoder] = []

    def make() -> ConceptEncoder:
        loaded.append(ConceptEncoder())
        return loaded[-1]

    loader = EncoderLoader(probe=lambda: None, make=make)
    first, _ = loader.load("auto")
    second, status = loader.load("on")
    assert first is second is loaded[0] and len(loaded) == 1
    assert status.active


# The vector cache -----------------------------------------------------------------------


def test_cache_second_run_encodes_nothing(tmp_path: Path) -> None:
    encoder = ConceptEncoder()
    texts = ["Wie backe ich einen Kuchen?", "Fahrrad kaufen"]
    first = embed(encoder, VectorCache(tmp_path, encoder.model_id, encoder.dimension), texts)
    assert len(encoder.encoded) == 2
    cache = VectorCache(tmp_path, encoder.model_id, encoder.dimension)
    again = embed(encoder, cache, [*texts, "Steuer"])
    assert encoder.encoded[2:] == ["Steuer"]  # only the new text
    np.testing.assert_array_equal(again[:2], first)


def test_cache_corrupt_file_is_rebuilt_not_a_crash(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    encoder = ConceptEncoder()
    cache = VectorCache(tmp_path, encoder.model_id, encoder.dimension)
    assert cache.path is not None
    cache.path.write_bytes(b"PK\x03\x04 this is not a zip file")
    with caplog.at_level(logging.WARNING):
        rebuilt = VectorCache(tmp_path, encoder.model_id, encoder.dimension)
        vectors = embed(encoder, rebuilt, ["Kuchen"])
    assert "Ignoring the vector cache" in caplog.text
    assert vectors.shape == (1, encoder.dimension)
    assert len(VectorCache(tmp_path, encoder.model_id, encoder.dimension)) == 1  # rewritten


def test_cache_of_another_model_is_ignored(tmp_path: Path) -> None:
    encoder = ConceptEncoder()
    embed(encoder, VectorCache(tmp_path, encoder.model_id, encoder.dimension), ["Kuchen"])
    [written] = tmp_path.glob("vectors-*.npz")
    other = VectorCache(tmp_path, "another-model", encoder.dimension)
    assert other.path is not None
    other.path.write_bytes(written.read_bytes())  # a file claiming to be another's
    assert len(VectorCache(tmp_path, "another-model", encoder.dimension)) == 0
    assert len(VectorCache(tmp_path, encoder.model_id, 4)) == 0  # wrong dimension


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes to read-only folders")
def test_cache_read_only_folder_means_no_cache_not_no_vectors(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    folder.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        encoder = ConceptEncoder()
        with caplog.at_level(logging.WARNING):
            vectors = embed(
                encoder, VectorCache(folder, encoder.model_id, encoder.dimension), ["Kuchen"]
            )
        assert vectors.shape == (1, encoder.dimension)
        assert "Cannot write the vector cache" in caplog.text
        assert list(folder.iterdir()) == []
    finally:
        folder.chmod(stat.S_IRWXU)


def test_cache_read_only_file_system_path_still_answers(kb: KnowledgeBase, tmp_path: Path) -> None:
    # A file where the folder should be: no cache can be written, answers still come.
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("x", encoding="utf-8")
    matcher = build_matcher(kb, encoder=ConceptEncoder(), cache_folder=blocked / "data")
    assert matcher.semantic_active
    assert matcher.match("Welches Velo ist gut?").ranking[0].entry.id == "fahrrad-kaufen"


def test_cache_keeps_keys_that_end_in_a_zero_byte(tmp_path: Path) -> None:
    encoder = ConceptEncoder()
    # One text in 256 has a key ending in 0x00; numpy's bytes dtype would drop it.
    texts = [f"Frage {n}" for n in range(2000)]
    assert any(text_key(text).endswith(b"\0") for text in texts)
    embed(encoder, VectorCache(tmp_path, encoder.model_id, encoder.dimension), texts)
    encoder.encoded.clear()
    embed(encoder, VectorCache(tmp_path, encoder.model_id, encoder.dimension), texts)
    assert encoder.encoded == []


def test_text_key_differs_for_different_texts() -> None:
    assert text_key("Kuchen") != text_key("Kuchen ")
    assert len(text_key("x")) == 16


# Fusion and the decision ----------------------------------------------------------------


def semantic_matcher(kb: KnowledgeBase, tmp_path: Path) -> Matcher:
    return build_matcher(kb, encoder=ConceptEncoder(), cache_folder=tmp_path / "vectors")


def test_fused_paraphrase_without_shared_words_ranks_its_entry_first(
    kb: KnowledgeBase, tmp_path: Path
) -> None:
    question = "Welches Velo empfehlen Sie?"  # no word of the entry; same concept
    assert Matcher(kb).match(question).decision == "none"
    result = semantic_matcher(kb, tmp_path).match(question)
    assert result.semantic
    assert result.ranking[0].entry.id == "fahrrad-kaufen"
    best = result.ranking[0]
    assert best.lexical is not None and best.cosine is not None
    assert best.cosine > result.ranking[1].cosine  # type: ignore[operator]
    assert 0.0 <= result.confidence <= 1.0


def test_fused_exact_question_is_answered_with_a_high_probability(
    kb: KnowledgeBase, tmp_path: Path
) -> None:
    fused = semantic_matcher(kb, tmp_path)
    always = Matcher(kb, MatcherSettings(lexical_shortcut=1.0)).with_semantic(fused.semantic)
    result = always.match("Wie backe ich einen Kuchen?")
    assert result.decision == "answer" and result.semantic
    assert result.match is not None and result.match.entry.id == "kuchen-backen"
    assert result.probability is not None and result.probability >= 0.8


def test_fused_clear_lexical_answer_skips_the_encoder(kb: KnowledgeBase, tmp_path: Path) -> None:
    fused = semantic_matcher(kb, tmp_path)
    encoder = fused.semantic.encoder  # type: ignore[union-attr]
    assert isinstance(encoder, ConceptEncoder)
    before = len(encoder.encoded)
    result = fused.match("Wie backe ich einen Kuchen?")
    assert result.decision == "answer" and not result.semantic
    assert len(encoder.encoded) == before  # answered without encoding the question


def test_fused_out_of_scope_question_gets_none(kb: KnowledgeBase, tmp_path: Path) -> None:
    result = semantic_matcher(kb, tmp_path).match("Wie wird das Wetter morgen in Berlin?")
    assert result.decision == "none"
    assert result.suggestions == ()


def test_fused_question_without_content_words_is_left_to_small_talk(
    kb: KnowledgeBase, tmp_path: Path
) -> None:
    result = semantic_matcher(kb, tmp_path).match("Hallo!")
    assert (result.decision, result.units, result.semantic) == ("none", (), False)


def test_fused_one_word_naming_two_entries_suggests_both(tmp_path: Path) -> None:
    folder = tmp_path / "faq"
    folder.mkdir()
    (folder / "a.yaml").write_text(
        "category: A\nentries:\n"
        "  - id: spam-kommentare\n    question: Wie vermeide ich Spam in Kommentaren?\n"
        "    answer: Mit einem Filter.\n"
        "  - id: spam-gehackt\n    question: Meine Website verschickt Spam, ist sie gehackt?\n"
        "    answer: Prüfen Sie die Dateien.\n"
        "  - id: kuchen\n    question: Wie backe ich einen Kuchen?\n    answer: Mit Mehl.\n",
        encoding="utf-8",
    )
    result = semantic_matcher(load_knowledge_base(folder), tmp_path).match("spam")
    assert result.decision == "suggest"
    assert {c.entry.id for c in result.suggestions} == {"spam-kommentare", "spam-gehackt"}


def test_stages_lexical_only_ignores_vectors(kb: KnowledgeBase, tmp_path: Path) -> None:
    fused = semantic_matcher(kb, tmp_path)
    lexical = fused.with_semantic(fused.semantic, "lexical")
    assert not lexical.semantic_active
    assert lexical.match("Wie backe ich einen Kuchen?") == Matcher(kb).match(
        "Wie backe ich einen Kuchen?"
    )
    only = fused.with_semantic(fused.semantic, "semantic")
    ranking = only.match("Welches Velo empfehlen Sie?").ranking
    assert ranking[0].entry.id == "fahrrad-kaufen"
    assert ranking[0].score == pytest.approx(
        min(1.0, max(0.0, (ranking[0].cosine or 0) - 0.75) / 0.25), abs=1e-3
    )


# The bot: lexical at once, vectors in the background --------------------------------------


def test_holder_answers_lexically_until_vectors_are_ready_then_switches(faq_dir: Path) -> None:
    encoder = ConceptEncoder(delay=0.3)
    holder = KnowledgeBaseHolder(faq_dir, encoder=encoder, cache_folder=faq_dir.parent / "d")
    assert not holder.current.matcher.semantic_active  # served at once
    assert holder.semantic_status.reason.startswith("vectors are being computed")
    assert holder.current.matcher.match("Wie backe ich einen Kuchen?").decision == "answer"
    assert holder.wait_for_vectors(10)
    assert holder.semantic_status.as_json() == {"semantic": True}
    assert holder.current.matcher.match("Welches Velo empfehlen Sie?").semantic


def test_holder_small_edit_is_embedded_before_the_swap(faq_dir: Path) -> None:
    encoder = ConceptEncoder()
    holder = KnowledgeBaseHolder(faq_dir, encoder=encoder, cache_folder=faq_dir.parent / "d")
    assert holder.wait_for_vectors(10)
    before = len(encoder.encoded)
    path = faq_dir / "alltag.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace(
            '["Welches Rad passt zu mir?"]', '["Welches Rad passt zu mir?", Velo für die Stadt]'
        ),
        encoding="utf-8",
    )
    assert holder.reload(force=True).ok
    assert holder.current.matcher.semantic_active  # no lexical gap for a small edit
    assert encoder.encoded[before:] == ["Velo für die Stadt"]  # only the new phrasing


def holder_with_vectors(faq_dir: Path, data: Path) -> tuple[ConceptEncoder, KnowledgeBaseHolder]:
    """A holder serving ``faq_dir`` with the fake encoder, its vectors ready."""
    encoder = ConceptEncoder()
    holder = KnowledgeBaseHolder(faq_dir, encoder=encoder, cache_folder=data)
    assert holder.wait_for_vectors(10)
    return encoder, holder


def test_burst_during_a_reload_that_re_embeds_is_answered(
    fake: FakeBotApi, faq_dir: Path, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    encoder, holder = holder_with_vectors(faq_dir, data)
    # A big edit: more new phrasings than one batch, embedded slowly in the background.
    many = ", ".join(f"Frage Nummer {n} zum Kuchen" for n in range(80))
    path = faq_dir / "alltag.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("[Rezept für eine Torte]", f"[{many}]"),
        encoding="utf-8",
    )
    encoder.delay = 0.5  # 3 batches: 1.5 s of embedding
    bot = BotThread(settings_for(fake, faq_dir, data), holder=holder)
    bot.start()
    try:
        reloading = threading.Thread(target=holder.reload, kwargs={"force": True})
        reloading.start()
        deadline = time.monotonic() + 5
        while holder.current.matcher.semantic_active and time.monotonic() < deadline:
            time.sleep(0.01)  # until the reloaded base is served (lexically)
        assert holder.semantic_status.reason.startswith("vectors are being computed")
        for user in range(40):
            fake.send_text("Wie backe ich einen Kuchen?", user_id=5000 + user)
        sent = fake.wait_for_messages(40, timeout=10)
        assert not holder.current.matcher.semantic_active  # answered while embedding
        assert all("Mit Mehl." in message["text"] for message in sent)
        reloading.join(10)
        assert holder.wait_for_vectors(10)
    finally:
        bot.stop()


def test_bot_encodes_questions_off_the_event_loop(
    fake: FakeBotApi, faq_dir: Path, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    encoder, holder = holder_with_vectors(faq_dir, data)
    bot = BotThread(settings_for(fake, faq_dir, data), holder=holder)
    bot.start()
    try:
        before = len(encoder.threads)
        fake.send_text("Welches Velo empfehlen Sie?", user_id=5001)  # needs the encoder
        [reply] = fake.wait_for_messages(1, chat_id=5001)
        assert "Probefahren." in reply["text"] or "Fahrrad" in reply["text"]
    finally:
        bot.stop()
    # The bot's loop runs on the thread named "bot"; the encoder must not hold it.
    assert encoder.threads[before:] and "bot" not in encoder.threads[before:]


def test_embed_phrasings_reports_progress(kb: KnowledgeBase, tmp_path: Path) -> None:
    calls: list[tuple[int, int]] = []
    encoder = ConceptEncoder()
    cache = VectorCache(tmp_path, encoder.model_id, encoder.dimension)
    vectors = embed_phrasings(kb, encoder, cache, progress=lambda d, t: calls.append((d, t)))
    phrasings = sum(len(entry.phrasings) for entry in kb.entries)
    assert vectors.vectors.shape == (phrasings, encoder.dimension)
    assert calls[0] == (0, phrasings) and calls[-1] == (phrasings, phrasings)


def test_entry_cosine_is_the_mean_cosine_over_the_entry_s_phrasings(
    kb: KnowledgeBase, tmp_path: Path
) -> None:
    encoder = ConceptEncoder()
    vectors = embed_phrasings(kb, encoder, VectorCache(tmp_path, encoder.model_id, 8))
    question = "Mein Zertifikat ist abgelaufen"
    per_phrasing = vectors.vectors @ encoder.encode([question])[0]
    for number in range(len(kb.entries)):
        mine = per_phrasing[vectors.phrasing_entry == number]
        assert vectors.entry_cosines(question)[number] == pytest.approx(mine.mean(), abs=1e-6)


def test_mean_vectors_of_owners_in_any_order_and_with_any_number_of_rows() -> None:
    rng = np.random.default_rng(7)
    owners = rng.permutation(np.repeat(np.arange(6), [1, 3, 3, 0, 5, 2])).astype(np.int32)
    rows = rng.standard_normal((len(owners), 4)).astype(np.float32)
    means = mean_vectors(rows, owners, 7)
    for owner in range(7):
        mine = rows[owners == owner]
        expected = mine.mean(axis=0) if len(mine) else np.zeros(4)
        assert means[owner] == pytest.approx(expected, abs=1e-6)


def test_entry_coverage_is_the_share_of_the_question_an_entry_explains(kb: KnowledgeBase) -> None:
    matcher = Matcher(kb)
    ids = [entry.id for entry in kb.entries]
    whole = entry_coverage(matcher.index, matcher.analyse("Fahrrad finden").units, len(ids))
    half = entry_coverage(matcher.index, matcher.analyse("Fahrrad Zebrastreifen").units, len(ids))
    assert whole[ids.index("fahrrad-kaufen")] == pytest.approx(1.0)
    assert 0 < half[ids.index("fahrrad-kaufen")] < 1  # the unknown word stays unexplained
    assert half[ids.index("steuer-frist")] == 0
