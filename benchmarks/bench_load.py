"""Time to load a 10,000-entry FAQ file and to start answering from it lexically.

Usage: .venv/bin/python benchmarks/bench_load.py [ENTRIES]

Writes one synthetic file shaped like the shipped entries (question, 5 alternatives,
keywords, a 3-paragraph answer, a link) to a temporary folder and prints:

- the best of three loads with libyaml's composer and with PyYAML's pure-Python one
  (the whole load, schema checks included);
- the best of three lexical index builds (``Matcher``);
- the lexical start-up as an admin sees it: ``faqbot ask`` with ``SEMANTIC=off``, from
  the process's start to its answer, median of five runs (target 3 s): the first start,
  which parses every file, and a restart, which finds the parsed files in DATA_DIR
  (``bot.kbcache``).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from bot import yamlnodes
from bot.kbcache import CACHE_FILE
from bot.knowledge import load_knowledge_base
from bot.matcher import Matcher

ROOT = Path(__file__).resolve().parent.parent


def synthetic_file(entries: int) -> str:
    lines = ["category: Benchmark", "entries:"]
    for number in range(entries):
        lines += [
            f"  - id: eintrag-{number}",
            f'    question: "Wie funktioniert Thema {number} für Unternehmen?"',
            "    alternatives:",
            *[f'      - "Frage {variant} zu Thema {number}?"' for variant in range(5)],
            f"    keywords: [Thema {number}, Stichwort {number}, Produkt {number}]",
            "    answer: |",
            f"      Thema {number} ist ein Beispiel, das so lang ist wie eine echte Antwort.",
            "      Sie erhalten hier drei Absätze mit je einem Satz.",
            "",
            "      - ein Aufzählungspunkt",
            "      - noch ein Aufzählungspunkt",
            "",
            "      Wenn Sie Fragen haben, sprechen Sie uns gern an.",
            "    links:",
            f'      - title: "Mehr zu Thema {number}"',
            f"        url: https://example.com/thema/{number}",
        ]
    return "\n".join(lines) + "\n"


def best_of(runs: int, faq_dir: Path) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        kb = load_knowledge_base(faq_dir)
        times.append(time.perf_counter() - start)
        assert len(kb) > 0
    return min(times)


def best_build(runs: int, faq_dir: Path) -> float:
    kb = load_knowledge_base(faq_dir)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        Matcher(kb)
        times.append(time.perf_counter() - start)
    return min(times)


def lexical_startups(runs: int, faq_dir: Path, data_dir: Path, *, restart: bool) -> list[float]:
    """Start-up times; ``restart``: with the parsed files kept by the run before."""
    command = [sys.executable, "-m", "bot", "ask", "--json", "Wie funktioniert Thema 17?"]
    env = {**os.environ, "SEMANTIC": "off", "FAQ_DIR": str(faq_dir), "DATA_DIR": str(data_dir)}
    if restart:
        subprocess.run(command, cwd=ROOT, env=env, capture_output=True, check=True)
    times = []
    for _ in range(runs):
        if not restart:
            (data_dir / CACHE_FILE).unlink(missing_ok=True)
        start = time.perf_counter()
        subprocess.run(command, cwd=ROOT, env=env, capture_output=True, check=True)
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    entries = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    with tempfile.TemporaryDirectory() as folder:
        faq_dir = Path(folder)
        path = faq_dir / "benchmark.yaml"
        path.write_text(synthetic_file(entries), encoding="utf-8")
        size = path.stat().st_size / 1024 / 1024
        print(f"{entries} entries, one file of {size:.1f} MB")
        fast = best_of(3, faq_dir) if yaml.__with_libyaml__ else None
        build = best_build(3, faq_dir)
        with tempfile.TemporaryDirectory() as data_dir:
            first = lexical_startups(5, faq_dir, Path(data_dir), restart=False)
            again = lexical_startups(5, faq_dir, Path(data_dir), restart=True)
        yamlnodes.FastLoader = yaml.SafeLoader  # what a machine without libyaml does
        slow = best_of(3, faq_dir)
        print(f"pure-Python composer: {slow:.2f} s")
        if fast is None:
            print("libyaml composer:     not installed (PyYAML built without libyaml)")
        else:
            print(f"libyaml composer:     {fast:.2f} s  ({slow / fast:.1f}x faster)")
        print(f"lexical index build:  {build:.2f} s")
        print("lexical start-up (faqbot ask, SEMANTIC=off), target 3 s:")
        for label, times in (("first start", first), ("restart", again)):
            print(
                f"  {label:<12} median {statistics.median(times):.2f} s"
                f" ({min(times):.2f}-{max(times):.2f})"
            )


if __name__ == "__main__":
    main()
