"""faqbot ask, check and chat: the knowledge base answering, checked, or in a chat.

``ask --json`` and ``check --json`` are interfaces other tools read: keep their fields.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from bot.commands_common import common_settings, load, semantic_matcher
from bot.matcher import Candidate, MatchResult
from bot.smalltalk import Understanding, understand


def result_json(result: MatchResult | Understanding) -> dict[str, Any]:
    """The ``--json`` shape of a match result (an interface: keep it stable).

    Small talk is ``"decision": "smalltalk"`` with the small-talk entry as ``match``.
    """

    def candidate(c: Candidate) -> dict[str, Any]:
        signals = {"lexical": c.lexical if c.lexical is not None else c.score, "cosine": c.cosine}
        return {"id": c.entry.id, "score": c.score, "question": c.entry.question, **signals}

    if isinstance(result, Understanding):
        if result.smalltalk is not None:
            entry = result.smalltalk
            return {
                "decision": "smalltalk",
                "match": {"id": entry.id, "score": 1.0, "question": entry.question},
                "suggestions": [],
            }
        result = result.result
    return {
        "decision": result.decision,
        "confidence": round(result.confidence, 4),
        "semantic": result.semantic,
        "match": candidate(result.match) if result.match else None,
        "suggestions": [candidate(c) for c in result.suggestions],
    }


def cmd_ask(args: argparse.Namespace) -> int:
    """faqbot ask: one question answered, or one JSON line per line of stdin."""
    kb, matcher = load(args)
    if not args.question:
        for line in sys.stdin:
            understanding = understand(kb, matcher, line.rstrip("\n"))
            sys.stdout.write(json.dumps(result_json(understanding), ensure_ascii=False) + "\n")
            sys.stdout.flush()
        return 0
    understanding = understand(kb, matcher, " ".join(args.question))
    if args.json:
        print(json.dumps(result_json(understanding), ensure_ascii=False))
        return 0
    from bot.replies import reply_to
    from bot.terminal import render_reply

    result = understanding.result
    if understanding.smalltalk is not None:
        print(f"decision: smalltalk ({understanding.smalltalk.id})")
    else:
        print(f"decision: {result.decision} (confidence {result.confidence:.2f})")
    if result.semantic:
        print("  fused  lexical  cosine")
        for c in result.ranking[:4]:
            print(
                f"  {c.score:5.2f}  {c.lexical or 0:7.2f}  {c.cosine or 0:6.3f}"
                f"  {c.entry.id}: {c.entry.question}"
            )
    else:
        for c in result.ranking[:4]:
            print(f"  {c.score:.2f}  {c.entry.id}: {c.entry.question}")
    print()
    contact = common_settings(args).contact_text
    print(render_reply(reply_to(understanding, contact_text=contact, feedback=False)))
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    """faqbot check: the staff's findings; exit 1 on errors."""
    from bot.checks import check_folder
    from bot.progress import ProgressReport, working

    settings = common_settings(args)
    progress = ProgressReport("Formulierungen werden verglichen")
    report = check_folder(
        settings.faq_dir, confusions=not args.no_confusions, progress=progress, phase=working
    )
    semantic = None
    if report.kb is not None:
        # Embeds new phrasings into the cache now (with a progress bar), not at the bot's start.
        _, status = semantic_matcher(report.kb, settings)
        semantic = "Semantische Suche: " + (
            "aktiv." if status.active else f"aus ({status.reason})."
        )
    out = sys.stderr if args.json else sys.stdout
    if args.json:
        print(json.dumps([p.as_json() for p in report.findings], ensure_ascii=False, indent=2))
    else:
        for problem in report.findings:
            print(problem.render() + ("\n" if problem.excerpt else ""))
    if semantic is not None and not args.json:  # stdout stays pure JSON for editors
        print(semantic)
    print(report.summary(), file=out)
    return 0 if report.ok else 1


def cmd_chat(args: argparse.Namespace) -> int:
    """faqbot chat: the conversation in the terminal (piped: one message per line)."""
    from bot.terminal import Conversation, enable_line_editing, run_chat, typed_messages

    kb, matcher = load(args)
    contact = common_settings(args).contact_text
    conversation = Conversation(kb, matcher, contact_text=contact)
    if not sys.stdin.isatty():  # piped: one question per line
        run_chat(conversation, sys.stdin, sys.stdout.write)
        return 0
    save_history = enable_line_editing()
    try:
        run_chat(conversation, typed_messages(), sys.stdout.write)
    finally:
        save_history()
    return 0
