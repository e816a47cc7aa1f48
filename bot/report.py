"""The analytics report: what customers asked, what helped, what is missing.

The model (Report and its parts), rendered as German text (terminal and Telegram's
/stats) or as the ``--json`` shape. The store is read by bot/report_queries.py; the HTML
page (bot/report_html.py) draws the same Report and adds no numbers of its own: the
questions per day by decision, the matcher's median confidence, and the entries chosen
from suggestion lists.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.grouping import normalise
from bot.handoff_store import HandoffCounts
from bot.texts import shorten

UNSURE_SCORE = 0.7
"""A suggestion list whose best candidate scored below this counts as unanswered."""

SHORT_TEXT_CHARS = 70
"""Unanswered questions in the short text (/stats) are cut to this length."""

DECISIONS = ("answer", "suggest", "smalltalk", "handoff", "none")
"""The decisions questions are counted by per day, in the order charts stack them; a
store may hold fewer (then they count zero) or others (then they follow)."""
NOT_MATCHED = frozenset({"smalltalk"})
"""Decisions whose score says nothing about the FAQ matcher (left out of its median)."""


@dataclass(frozen=True)
class Period:
    days: int | None
    """None: all time."""
    since: str | None
    """ISO time of the first moment counted; None: all time."""


@dataclass(frozen=True)
class Totals:
    questions: int
    """Questions to the FAQ (answer, suggest, none); small talk is counted apart."""
    answered: int
    suggested: int
    none: int
    smalltalk: int = 0


@dataclass(frozen=True)
class Rates:
    """Shares of all questions, 0 to 1."""

    answered: float
    suggested: float
    none: float


@dataclass(frozen=True)
class EntryStats:
    entry_id: str
    hits: int
    """Questions answered with this entry, plus choices of it from suggestion lists."""
    helpful: int
    not_helpful: int

    @property
    def not_helpful_ratio(self) -> float:
        rated = self.helpful + self.not_helpful
        return self.not_helpful / rated if rated else 0.0


@dataclass(frozen=True)
class UnansweredGroup:
    """Similar questions the bot had no sure answer to (see Group)."""

    count: int
    text: str
    example: str
    suggested: tuple[str, ...]
    """The entries most often offered for these questions, most often first."""
    last_asked: str
    variants: tuple[str, ...] = ()
    """As in Group: one spelling per distinct text, most frequent first."""


@dataclass(frozen=True)
class Day:
    """One calendar day (UTC) of the period."""

    day: str
    """YYYY-MM-DD."""
    decisions: dict[str, int]
    """Questions by decision: every one of DECISIONS (0 where none), then any other."""
    median_confidence: float | None
    """The median best score of the day's FAQ questions; None without any."""

    @property
    def questions(self) -> int:
        return sum(self.decisions.values())

    @property
    def answered_share(self) -> float | None:
        """Answered outright / all questions, 0 to 1; None on a day without questions."""
        return self.decisions.get("answer", 0) / self.questions if self.questions else None


@dataclass(frozen=True)
class ChosenEntry:
    """An entry customers picked from a "Meinten Sie …?" list."""

    entry_id: str
    count: int
    phrasings: tuple[tuple[str, int], ...]
    """What those customers had asked: (spelling, times), most often first, one per
    normalised text; empty where texts are not kept."""


@dataclass(frozen=True)
class Report:
    period: Period
    totals: Totals
    rates: Rates
    entries: tuple[EntryStats, ...]
    most_not_helpful: tuple[EntryStats, ...]
    unanswered_groups: tuple[UnansweredGroup, ...]
    days: tuple[Day, ...] = ()
    """Every day of the period (all time: first to last question), none left out."""
    median_confidence: float | None = None
    chosen: tuple[ChosenEntry, ...] = ()
    none_chosen: int = 0
    """How often "Keine davon" was pressed under a suggestion list."""
    handoffs: HandoffCounts = field(default_factory=HandoffCounts)
    """Questions handed to the team in the period, by what became of them."""

    def text(self, short: bool = False) -> str:
        """German plain text for the terminal and for Telegram.

        ``short`` (Telegram's /stats): at most 15 lines, one message.
        """
        lines = [self._headline()]
        extra = []
        if self.totals.smalltalk:
            extra.append(f"Small Talk: {self.totals.smalltalk}")
        handoffs = self.handoffs
        if handoffs.open or handoffs.answered or handoffs.expired:
            extra.append(
                f"An das Team: {handoffs.open + handoffs.answered + handoffs.expired}"
                f" (beantwortet {handoffs.answered}, offen {handoffs.open})"
            )
        if extra:
            lines.append(" · ".join(extra))
        if not self.totals.questions and not self.entries:
            lines.append("Noch keine Fragen in diesem Zeitraum.")
            return "\n".join(lines)
        entries = self.entries[:4] if short else self.entries
        if entries:
            lines += ["", "Häufigste Einträge:"] if not short else ["Häufigste Einträge:"]
            lines += [f"  {entry.hits}× {entry.entry_id}{_ratings(entry)}" for entry in entries]
        worst = self.most_not_helpful[:2] if short else self.most_not_helpful
        if worst:
            lines += ["", "Meist „nicht hilfreich“:"] if not short else ["Meist „nicht hilfreich“:"]
            lines += [
                f"  {entry.entry_id}: {entry.not_helpful}× 👎 von"
                f" {entry.helpful + entry.not_helpful} Bewertungen"
                for entry in worst
            ]
        groups = self.unanswered_groups[:5] if short else self.unanswered_groups
        if groups:
            lines += ["", "Häufige unbeantwortete Fragen:"] if not short else ["Unbeantwortet:"]
            for group in groups:
                if short:
                    lines.append(f"  {group.count}× {shorten(group.text, SHORT_TEXT_CHARS)}")
                    continue
                line = f"  {group.count}× {group.text}"
                if normalise(group.example) != group.text:
                    line += f" (z. B. „{shorten(group.example, 120)}“)"
                lines.append(line)
        if not short and self.unanswered_groups:
            lines += ["", "Vorschläge für neue Einträge und Alternativen: faqbot suggest"]
        return "\n".join(lines)

    def _headline(self) -> str:
        period = "gesamt" if self.period.days is None else f"letzte {self.period.days} Tage"
        if self.period.days == 1:
            period = "letzter Tag"
        totals, rates = self.totals, self.rates
        if not totals.questions:
            return f"Fragen ({period}): 0"
        return (
            f"Fragen ({period}): {totals.questions} · beantwortet {_percent(rates.answered)}"
            f" · Vorschläge {_percent(rates.suggested)} · keine Antwort {_percent(rates.none)}"
        )

    def as_json(self) -> dict[str, Any]:
        """The ``--json`` shape (an interface: keep the keys stable)."""

        def entry(row: EntryStats) -> dict[str, Any]:
            return {
                "entry_id": row.entry_id,
                "hits": row.hits,
                "helpful": row.helpful,
                "not_helpful": row.not_helpful,
            }

        return {
            "period": {"days": self.period.days, "since": self.period.since},
            "totals": {
                "questions": self.totals.questions,
                "answered": self.totals.answered,
                "suggested": self.totals.suggested,
                "none": self.totals.none,
                "smalltalk": self.totals.smalltalk,
            },
            "rates": {
                "answered": round(self.rates.answered, 4),
                "suggested": round(self.rates.suggested, 4),
                "none": round(self.rates.none, 4),
            },
            "entries": [entry(row) for row in self.entries],
            "most_not_helpful": [entry(row) for row in self.most_not_helpful],
            "unanswered": [
                {
                    "count": group.count,
                    "text": group.text,
                    "example": group.example,
                    "suggested": list(group.suggested),
                    "last_asked": group.last_asked,
                }
                for group in self.unanswered_groups
            ],
            "handoffs": {
                "open": self.handoffs.open,
                "answered": self.handoffs.answered,
                "expired": self.handoffs.expired,
            },
        }


def _percent(share: float) -> str:
    return f"{round(share * 100)} %"


def _ratings(entry: EntryStats) -> str:
    if not entry.helpful and not entry.not_helpful:
        return ""
    return f" · 👍 {entry.helpful} · 👎 {entry.not_helpful}"


def period_start(days: int | None, now: datetime | None = None) -> str | None:
    """The ISO time ``days`` before ``now`` (as the store writes times), or None."""
    if days is None:
        return None
    now = now or datetime.now(UTC)
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    return (now.astimezone(UTC) - timedelta(days=days)).isoformat(timespec="seconds")
