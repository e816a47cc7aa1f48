"""Checks for staff beyond the schema: entries customers could confuse.

Every question and alternative of an entry is matched against the whole knowledge
base. If another entry wins, or comes within the matcher's answer margin, customers
asking that way will get suggestions or the wrong answer; staff should make the
phrasing more specific before customers notice.
"""

from __future__ import annotations

from bot.errors import Problem
from bot.matcher import Matcher


def confusable_phrasings(matcher: Matcher) -> list[Problem]:
    """Warnings for phrasings that another entry matches as well as their own."""
    margin = matcher.settings.margin
    warnings = []
    for entry in matcher.kb.entries:
        lines = entry.phrasing_lines or (entry.line,) * len(entry.phrasings)
        for phrasing, line in zip(entry.phrasings, lines, strict=False):
            ranking = matcher.match(phrasing).ranking
            own = next((c.score for c in ranking if c.entry.id == entry.id), 0.0)
            rival = next((c for c in ranking if c.entry.id != entry.id), None)
            if rival is not None and rival.score >= own - margin and rival.score > 0:
                warnings.append(
                    Problem(
                        entry.source,
                        line,
                        f"'{phrasing}' ({entry.id}) is confusable with entry"
                        f" '{rival.entry.id}' (scores {own:.2f} vs {rival.score:.2f});"
                        " make it more specific",
                    )
                )
    return warnings
