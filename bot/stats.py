"""Counts of what customers asked in this run, kept in memory.

/stats reads the SQLite analytics store (bot/store.py); these counts are its
fallback when the store is switched off (ANALYTICS=false) or cannot be read.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from bot.matcher import MatchResult
from bot.text import clean

TOP = 5


@dataclass
class Stats:
    """Questions by decision, answered entries, unanswered questions, feedback."""

    decisions: Counter[str] = field(default_factory=Counter)
    entries: Counter[str] = field(default_factory=Counter)
    unanswered: Counter[str] = field(default_factory=Counter)
    helpful: Counter[str] = field(default_factory=Counter)
    not_helpful: Counter[str] = field(default_factory=Counter)

    def record_question(self, question: str, result: MatchResult) -> None:
        if not result.units:
            return  # no words at all ("???", a lone emoji): not a question to learn from
        self.decisions[result.decision] += 1
        if result.match is not None:
            self.entries[result.match.entry.id] += 1
        elif result.decision == "none":
            self.unanswered[" ".join(clean(question).lower().split())[:200]] += 1

    def record_choice(self, entry_id: str) -> None:
        """A customer opened an entry from suggestions or the topic list."""
        self.entries[entry_id] += 1

    def record_feedback(self, entry_id: str, *, helpful: bool) -> None:
        (self.helpful if helpful else self.not_helpful)[entry_id] += 1

    def report(self) -> str:
        """A short German report for /stats."""
        total = sum(count for decision, count in self.decisions.items() if decision != "smalltalk")
        lines = [
            f"Fragen gesamt: {total}",
            f"beantwortet: {self.decisions['answer']}, Vorschläge: {self.decisions['suggest']},"
            f" keine Antwort: {self.decisions['none']}",
        ]
        if self.decisions["smalltalk"]:
            lines[1] += f", Small Talk: {self.decisions['smalltalk']}"
        if self.entries:
            lines.append("Häufigste Einträge:")
            lines += [f"  {count}× {entry_id}" for entry_id, count in self.entries.most_common(TOP)]
        if self.unanswered:
            lines.append("Häufigste unbeantwortete Fragen:")
            lines += [f"  {count}× {text}" for text, count in self.unanswered.most_common(TOP)]
        if self.helpful or self.not_helpful:
            lines.append(
                f"Feedback: {sum(self.helpful.values())} hilfreich,"
                f" {sum(self.not_helpful.values())} nicht hilfreich"
            )
        return "\n".join(lines)
