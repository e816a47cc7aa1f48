"""Speed and memory of the semantic stage: latency, threads, 10,000 entries, start-up.

    python benchmarks/bench_semantic.py [--queries 300] [--skip-10k]

Prints, with the load average beside the figures (other work on the machine shifts
them):

- match latency on the shipped KB: lexical-only, fused as shipped (clear lexical
  answers skip the encoder) and fused with every question encoded;
- OpenMP threads as shipped (chosen per call) vs fixed at 1 and 2, on an idle machine
  and with one core kept busy;
- 10,000 synthetic entries with 30,000 phrasings, vectors cached: warm start, RSS and
  fused latency. The cached vectors are random unit vectors under the real model id
  (embedding 30,000 texts takes minutes; latency and memory do not depend on the
  values); the cold embedding time is extrapolated from the measured batch rate;
- `faqbot ask` start-up on the shipped KB with an empty and with a warm cache;
- inline queries (lexical ranking, see README) on the shipped KB and at 10,000 entries.

Every child runs in its own process, since OpenMP reads its thread count once.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_matcher import make_queries, synthetic_kb  # noqa: E402

from bot.knowledge import KnowledgeBase, load_knowledge_base  # noqa: E402
from bot.matcher import Matcher, MatcherSettings, build_matcher  # noqa: E402
from bot.semantic import VectorCache, load_encoder, text_key  # noqa: E402
from bot.text import clean  # noqa: E402


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def percentiles(times: list[float]) -> dict[str, float]:
    return {
        "median": statistics.median(times),
        "p95": float(np.percentile(times, 95)),
        "p99": float(np.percentile(times, 99)),
    }


def timed(func, queries: list[str]) -> dict[str, float]:  # type: ignore[no-untyped-def]
    times = []
    for query in queries:
        started = time.perf_counter()
        func(query)
        times.append((time.perf_counter() - started) * 1000)
    return percentiles(times)


# Children (run in their own process) ------------------------------------------------------


def child_latency(queries: int, cache: Path) -> dict[str, object]:
    kb = load_knowledge_base(ROOT / "faq")
    encoder, _ = load_encoder("on")
    fused = build_matcher(kb, encoder=encoder, cache_folder=cache)
    always = Matcher(kb, MatcherSettings(lexical_shortcut=1.0)).with_semantic(fused.semantic)
    lexical = Matcher(kb)
    asked = make_queries(kb, queries)
    fused.match("Aufwärmen")
    always.match("Aufwärmen, zweiter Versuch")
    return {
        "lexical": timed(lexical.match, asked),
        # Fresh texts for each: the question-vector cache must not answer.
        "fused_every_question_encoded": timed(always.match, [q + " ?" for q in asked]),
        "fused_as_shipped": timed(fused.match, [q + " !" for q in asked]),
        "inline_rank": timed(lambda q: fused.rank(q, 10), asked),
        "threads": os.environ.get("OMP_NUM_THREADS"),
    }


def child_big(cache: Path, queries: int) -> dict[str, object]:
    started = time.perf_counter()
    kb = big_kb()
    generated = time.perf_counter() - started
    encoder, _ = load_encoder("on")
    started = time.perf_counter()
    matcher = build_matcher(kb, encoder=encoder, cache_folder=cache)
    warm = time.perf_counter() - started
    always = Matcher(kb, MatcherSettings(lexical_shortcut=1.0))
    always = always.with_semantic(matcher.semantic)
    asked = make_queries(kb, queries)
    always.match("Aufwärmen")
    figures: dict[str, object] = {
        "phrasings": sum(len(e.phrasings) for e in kb.entries),
        "generate_s": generated,
        "warm_start_s": warm,
        "fused_every_question_encoded": timed(always.match, asked),
        "fused_as_shipped": timed(matcher.match, [q + " !" for q in asked]),
        "inline_rank": timed(lambda q: matcher.rank(q, 10), asked),
        "rss_mib": peak_rss_mib(),
        # A long-running bot reaches every entry in time; n-gram vectors are built lazily.
        "rss_every_entry_mib": every_entry_reached(matcher),
    }
    # What the bot's warm-up thread does after a load (bot.reloader), then the same
    # questions again (new texts, so no cache answers).
    started = time.perf_counter()
    always.ngrams.build(range(len(kb.entries)))
    figures["prepare_s"] = time.perf_counter() - started
    figures["fused_every_question_encoded_prepared"] = timed(
        always.match, [q + " ?" for q in asked]
    )
    return figures


def child_bot_memory(cache: Path, queries: int) -> dict[str, object]:
    """Peak RSS of what the bot holds: one matcher, every entry's n-grams built, the
    questions answered as shipped (``child_big`` keeps a second index beside it)."""
    kb = big_kb()
    encoder, _ = load_encoder("on")
    matcher = build_matcher(kb, encoder=encoder, cache_folder=cache)
    matcher.ngrams.build(range(len(kb.entries)))
    for question in make_queries(kb, queries):
        matcher.match(question)
    return {"rss_bot_mib": peak_rss_mib(), "rss_bot_now_mib": current_rss_mib()}


def current_rss_mib() -> float:
    """Resident memory now (the peak above is reached while the matcher is built)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def every_entry_reached(matcher: Matcher) -> float:
    """Peak RSS once every entry's lazily built n-gram vector exists."""
    matcher.ngrams.build(range(len(matcher.kb.entries)))
    return peak_rss_mib()


def big_kb() -> KnowledgeBase:
    """10,000 synthetic entries, question + 2 alternatives: 30,000 phrasings."""
    kb = synthetic_kb(10_000)
    return replace(kb, entries=tuple(replace(e, alternatives=e.alternatives[:2]) for e in kb))


def fill_random_cache(kb: KnowledgeBase, cache_dir: Path) -> float:
    """Random unit vectors for every phrasing, under the real model id; returns the
    measured embedding rate (texts/s) of 256 real phrasings for the cold estimate."""
    encoder, _ = load_encoder("on")
    assert encoder is not None
    texts = [clean(p, None) for e in kb.entries for p in e.phrasings]
    started = time.perf_counter()
    encoder.encode(texts[:256])
    rate = 256 / (time.perf_counter() - started)
    cache = VectorCache(cache_dir, encoder.model_id, encoder.dimension)
    rng = np.random.default_rng(1)
    vectors = rng.normal(size=(len(texts), encoder.dimension)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    keys = [text_key(t) for t in texts]
    cache.put(keys, vectors)
    cache.save(set(keys))
    return rate


# Parent ---------------------------------------------------------------------------------


def run_child(args: list[str], threads: str = "adaptive") -> dict[str, object]:
    """Run this script's ``--child``; ``threads`` fixes OMP_NUM_THREADS or leaves the
    count to faqbot's per-call choice (bot/encoder_threads.py)."""
    env = {key: value for key, value in os.environ.items() if key != "OMP_NUM_THREADS"}
    if threads != "adaptive":
        env["OMP_NUM_THREADS"] = threads
    done = subprocess.run(
        [sys.executable, __file__, *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(done.stderr)
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def startup(data_dir: Path) -> float:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "bot", "ask", "--json", "Was ist DNSSEC?"],
        cwd=ROOT,
        env={**os.environ, "DATA_DIR": str(data_dir), "SEMANTIC": "on"},
        capture_output=True,
        check=True,
    )
    return time.perf_counter() - started


def show(name: str, figures: object) -> None:
    assert isinstance(figures, dict)
    print(
        f"  {name:<32} median {figures['median']:7.2f} ms  p95 {figures['p95']:7.2f}"
        f"  p99 {figures['p99']:7.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--skip-10k", action="store_true")
    parser.add_argument("--child", choices=("latency", "big", "bot-memory"), help=argparse.SUPPRESS)
    parser.add_argument("--cache", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child == "latency":
        print(json.dumps(child_latency(args.queries, args.cache)))
        return
    if args.child == "bot-memory":
        print(json.dumps(child_bot_memory(args.cache, args.queries)))
        return
    if args.child == "big":
        print(json.dumps(child_big(args.cache, args.queries)))
        return

    scratch = Path(tempfile.mkdtemp(prefix="faqbot-bench-"))
    shipped_cache = scratch / "shipped"
    print(f"start-up, shipped KB (faqbot ask, SEMANTIC=on)   load {load()}")
    cold = startup(shipped_cache)
    warm = statistics.median(startup(shipped_cache) for _ in range(3))
    print(f"  first start (empty cache) {cold:.2f} s (target 8), warm {warm:.2f} s (target 1.5)")

    print("\nmatch latency, shipped KB")
    for threads in ("adaptive", "1", "2"):
        for busy in (False, True):
            burner = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if busy else None
            try:
                figures = run_child(
                    [
                        "--child",
                        "latency",
                        "--cache",
                        str(shipped_cache),
                        "--queries",
                        str(args.queries),
                    ],
                    threads,
                )
            finally:
                if burner is not None:
                    burner.kill()
                    burner.wait()
            what = "as shipped (adaptive)" if threads == "adaptive" else f"fixed at {threads}"
            print(f" OMP threads {what}, {'one core busy' if busy else 'idle'}   load {load()}")
            for key in (
                "lexical",
                "fused_every_question_encoded",
                "fused_as_shipped",
                "inline_rank",
            ):
                show(key, figures[key])

    if args.skip_10k:
        return
    print(f"\n10,000 entries, 30,000 phrasings, vectors cached   load {load()}")
    big_cache = scratch / "big"
    kb = big_kb()
    rate = fill_random_cache(kb, big_cache)
    phrasings = sum(len(e.phrasings) for e in kb.entries)
    print(f"  embedding rate {rate:.0f} texts/s: first start ~{phrasings / rate / 60:.1f} min")
    figures = run_child(["--child", "big", "--cache", str(big_cache), "--queries", "200"])
    print(
        f"  warm start {figures['warm_start_s']:.2f} s (target 3; plus"
        f" {figures['generate_s']:.2f} s generating the synthetic KB), RSS"
        f" {figures['rss_mib']:.0f} MiB (target 400), {figures['rss_every_entry_mib']:.0f} MiB"
        " once every entry's n-grams are built"
    )
    bot = run_child(["--child", "bot-memory", "--cache", str(big_cache), "--queries", "200"])
    print(
        "  RSS of a process holding only the bot's matcher (every entry's n-grams built,"
        f" 200 questions answered): peak {bot['rss_bot_mib']:.0f} MiB, reached while it is"
        f" built; {bot['rss_bot_now_mib']:.0f} MiB after (the run above also holds the second"
        " index its 'every question encoded' timings use)"
    )
    for key in ("fused_every_question_encoded", "fused_as_shipped", "inline_rank"):
        show(key, figures[key])
    print(
        f"  every entry's n-grams prepared in {figures['prepare_s']:.1f} s (the bot does this on"
        " a worker thread after a load), then:"
    )
    show("fused_every_question_encoded_prepared", figures["fused_every_question_encoded_prepared"])


if __name__ == "__main__":
    main()
