"""faqbot eval: answer quality on labelled question sets, as figures and a table.

Only the wiring and the table live here; the figures come from bot/evaluation.py.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bot.commands_common import common_settings, semantic_matcher
from bot.knowledge import KnowledgeBase, load_knowledge_base

DEFAULT_LABELLED_SET = Path("tests/data/questions.yaml")
DEFAULT_HOLDOUT_SET = Path("tests/data/holdout.yaml")


def cmd_eval(args: argparse.Namespace) -> int:
    """faqbot eval: the figures of every labelled set, as a table or JSON."""
    from bot.baselines import all_baselines
    from bot.evaluation import (
        evaluate_ranker,
        evaluate_stages,
        load_labelled_set,
        questions_only,
        stages,
    )
    from bot.progress import READING, ProgressReport, working

    settings = common_settings(args)
    with working(READING):
        kb = load_knowledge_base(settings.faq_dir)
    if args.questions_only:
        kb = questions_only(kb)
    matcher, status = semantic_matcher(kb, settings)
    files = args.files or [f for f in (DEFAULT_LABELLED_SET, DEFAULT_HOLDOUT_SET) if f.exists()]
    runs = stages(matcher)
    all_figures: list[dict[str, Any]] = []
    all_confusions: list[dict[str, Any]] = []
    texts = []
    for file in files:
        questions = load_labelled_set(file, kb)
        baselines = all_baselines(kb) if args.baselines else {}
        step = _counter(
            ProgressReport(f"{file.name}: Fragen werden gestellt"),
            len(questions) * (len(runs) + len(baselines)),
        )
        reports = evaluate_stages(runs, questions, step=step)
        reports += [evaluate_ranker(n, r, questions, step=step) for n, r in baselines.items()]
        figures = [{**report.figures(), "set": str(file)} for report in reports]
        confusions = [{**row, "set": str(file)} for row in reports[0].confusions()]
        all_figures += figures
        all_confusions += confusions
        texts.append(_eval_text(file, kb, figures, confusions, args.confusions))
    if args.json:
        report = {
            "figures": all_figures,
            "confusions": all_confusions,
            "questions_only": args.questions_only,
            **status.as_json(),
        }
        print(json.dumps(report, ensure_ascii=False))
        return 0
    state = "on" if status.active else f"off ({status.reason})"
    reduced = "; entries reduced to question and keywords" if args.questions_only else ""
    print(f"Semantic matching: {state}{reduced}\n")
    print("\n\n".join(texts))
    print(
        "\ntop-1/top-3: in-scope questions whose entry ranks first/in the first three;"
        " answered: answered outright\nwith the right entry; rejection: out-of-scope"
        " questions answered 'none'; wrong: wrong answers / all;\nprecision: right answers /"
        " all answers. faqbot is what the bot does (fused when semantic matching is on);\n"
        "semantic-only reuses faqbot's question vectors, so its latency excludes encoding.\n"
        "Baselines answer when their best score reaches the threshold that suits them best"
        " on this set."
    )
    return 0


def _counter(progress: Callable[[int, int], None], total: int) -> Callable[[], None]:
    """One step of ``total`` per call, reported to ``progress``."""
    done = 0
    progress(0, total)

    def step() -> None:
        nonlocal done
        done += 1
        progress(done, total)

    return step


def _eval_text(
    file: Path,
    kb: KnowledgeBase,
    figures: list[dict[str, Any]],
    confusions: list[dict[str, Any]],
    limit: int,
) -> str:
    first = figures[0]
    lines = [
        f"{file}: {first['questions']} questions, {first['in_scope']} in scope,"
        f" {first['out_of_scope']} out of scope; knowledge base: {len(kb)} entries\n",
        _figures_table(figures),
    ]
    shown = confusions[:limit]
    if shown:
        lines.append(f"\nMistakes of faqbot ({len(confusions)}, showing {len(shown)}):")
        for row in shown:
            got = ", ".join(row["got"]) or "-"
            lines.append(
                f"  {row['kind']:<22} {row['question']!r}\n"
                f"  {'':<22} expected {row['expected']}, {row['decision']} [{got}]"
                f" {row['score']:.2f}"
            )
    return "\n".join(lines)


def _figures_table(figures: list[dict[str, Any]]) -> str:
    columns = [
        ("method", "method", "{}"),
        ("top-1", "top1", "{:.1%}"),
        ("top-3", "top3", "{:.1%}"),
        ("answered", "answered", "{:.1%}"),
        ("rejection", "rejection", "{:.1%}"),
        ("wrong", "wrong_answer_rate", "{:.1%}"),
        ("precision", "precision", "{:.1%}"),
        ("threshold", "threshold", "{:.3f}"),
        ("median ms", "latency_ms_median", "{:.3f}"),
        ("p99 ms", "latency_ms_p99", "{:.3f}"),
    ]
    rows = [[title for title, _, _ in columns]]
    for row in figures:
        rows.append(
            [fmt.format(row[key]) if row[key] is not None else "-" for _, key, fmt in columns]
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(columns))]
    return "\n".join(
        "  ".join(
            cell.ljust(width) if i == 0 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        )
        for row in rows
    )
