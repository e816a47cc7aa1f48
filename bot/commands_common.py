"""What the faqbot commands share: their settings, the knowledge base and the matcher.

Options on the command line win over the environment and ``.env``; the matcher is
built as ``faqbot run`` builds it, so a question answers the same in every command.
"""

from __future__ import annotations

import argparse

from bot.config import CommonSettings, load_common_settings, read_environment
from bot.kbcache import ParsedFiles
from bot.knowledge import KnowledgeBase, load_knowledge_base
from bot.matcher import Matcher
from bot.semantic import SemanticStatus


def common_settings(args: argparse.Namespace) -> CommonSettings:
    """The settings every command shares, from the options, the environment and .env."""
    return load_common_settings(
        read_environment(), faq_dir=args.faq_dir, data_dir=getattr(args, "data_dir", None)
    )


def load(args: argparse.Namespace) -> tuple[KnowledgeBase, Matcher]:
    """The knowledge base of --faq-dir and its matcher."""
    from bot.progress import READING, working

    settings = common_settings(args)
    with working(READING):
        kb = load_knowledge_base(settings.faq_dir, parsed=ParsedFiles(settings.data_dir))
    matcher, _ = semantic_matcher(kb, settings)
    return kb, matcher


def semantic_matcher(kb: KnowledgeBase, settings: CommonSettings) -> tuple[Matcher, SemanticStatus]:
    """The matcher as the bot runs it: SEMANTIC decides, vectors cached in DATA_DIR."""
    from bot.matcher import build_matcher
    from bot.progress import INDEXING, ProgressReport, working
    from bot.semantic import load_encoder

    encoder, status = load_encoder(settings.semantic)
    progress = ProgressReport("Semantische Suche: Formulierungen werden eingelesen")
    matcher = build_matcher(
        kb,
        encoder=encoder,
        cache_folder=settings.data_dir,
        progress=progress,
        indexing=working(INDEXING),
    )
    return matcher, status
