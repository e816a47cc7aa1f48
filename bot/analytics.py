"""Reports over the analytics store: what customers asked, what helped, what is missing.

Everything here reads; nothing changes the store or the knowledge base.

    build_report      totals, answer rates, hits and feedback per entry, the entries
                      most often rated "nicht hilfreich", and the unanswered questions
                      grouped by topic; as German text (terminal and Telegram's /stats)
                      or JSON
    suggest_snippets  YAML for staff to review and paste into faq/: draft entries for
                      frequent unanswered questions, new alternatives for entries that
                      customers picked from "Meinten Sie …?"
    group_questions   the grouping of similar questions both use (pure)

The same Report also carries what only the HTML page (bot/report_html.py) draws: the
questions per day by decision, the matcher's median confidence, and the entries chosen
from suggestion lists; the page adds no numbers of its own.

Usage::

    with bot.store.reader(data_dir) as connection:
        print(build_report(connection, days=30).text(short=True))
"""

from __future__ import annotations

import json
import re
import sqlite3
import statistics
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from bot.handoff_store import HandoffCounts, handoff_counts, team_answers
from bot.knowledge import ID_PATTERN, Entry, KnowledgeBase
from bot.text import clean, fold, is_stopword, stem, words_of_many

UNSURE_SCORE = 0.7
"""A suggestion list whose best candidate scored below this counts as unanswered."""

SHORT_TEXT_CHARS = 70
DRAFT_ANSWER = "TODO: Antwort schreiben (3–8 Sätze, Sie-Form)."
MAX_DRAFT_ALTERNATIVES = 8
MAX_NEW_ALTERNATIVES = 10
SLUG_CHARS = 60
MIN_GROUP = 2
"""Draft an entry for unanswered questions asked at least this often (faqbot suggest)."""

DECISIONS = ("answer", "suggest", "smalltalk", "handoff", "none")
"""The decisions questions are counted by per day, in the order charts stack them; a
store may hold fewer (then they count zero) or others (then they follow)."""
NOT_MATCHED = frozenset({"smalltalk"})
"""Decisions whose score says nothing about the FAQ matcher (left out of its median)."""

# Grouping similar questions -----------------------------------------------------------
#
# Each text becomes its set of content stems (bot.text: words -> drop stopwords -> stem),
# with typos folded: a rarer stem one inserted or deleted letter away from a more
# frequent one (both >= 5 letters) counts as that one ("websiet" -> "websit", "folow" ->
# "follow", "ofnungszeit" -> "offnungszeit"). Identical stem sets form one bucket (so
# identical normalised texts always join); the buckets, most frequent first, join the
# group whose representative (its first, most frequent bucket) they overlap best with
# Jaccard >= threshold, or start a new group. Representatives never change, so groups
# cannot drift from topic to topic by chaining.
#
# Why Jaccard and not rapidfuzz token_set_ratio >= 85 (alone or or-ed with Jaccard, which
# gives the same groups): measured on the realistic sample in tests/test_analytics.py
# (120 questions, 84 phrasings, 8 topics), as precision (pairs of questions in one group
# that share a topic) and recall (pairs of a topic that share a group):
#
#                                     sample as is            "Was kostet das?" 16x
#     Jaccard >= 0.6, raw stems       P 1.00  R 0.16          P 1.00  R 0.20
#     token_set_ratio >= 85           P 0.98  R 0.29          P 0.86  R 0.52
#     Jaccard, typo-folded (chosen)   P 1.00  R 0.22          P 1.00  R 0.25
#     token_set_ratio, typo-folded    P 1.00  R 0.33          P 0.87  R 0.52
#
# token_set_ratio compares characters: "kost websiet" scores >= 85 against "host websit",
# so "was kostet ne websiet" landed in the hosting group. And it scores 100 whenever one
# stem set contains the other: once a short question is frequent ("Was kostet das?" ->
# {kost}), it swallows "Was kostet Hosting?", "Was kostet SEO?", "Was kostet ein
# Onlineshop?". Its extra recall is all such subset matches ("öffnungszeiten" with
# "öffnungszeiten am samstag"), good or bad, and nothing tells them apart. A wrong merge
# hides a topic from staff; a missed one only shows it twice, so precision wins. Typo
# folding (insertions and deletions only: "kost"/"host", "vergess"/"verbess" are real
# words) brings most of the typo recall without a wrong merge. What no character or
# stem measure finds (Homepage ~ Website, Preis ~ kosten) would need synonyms.
#
# Speed: an inverted index from stem to groups compares a bucket only with groups that
# share enough stems for the threshold. 10,000 questions of the sample with typos,
# greetings and extra words (6,700 distinct texts): ~0.25 s; 10,000 random distinct
# texts (worst case, ~10,000 groups): ~0.7 s.

_APOSTROPHE = re.compile("(?<=\\w)['\u2019`\u00b4](?=\\w)")
_TOKEN = re.compile(r"[^\W_]+(?:-[^\W_]+)*")
_TYPO_MIN_LETTERS = 5


@dataclass(frozen=True)
class Group:
    """Questions about the same thing."""

    count: int
    text: str
    """The most frequent normalised text: lower case, no punctuation, single spaces."""
    example: str
    """A question as a customer wrote it: the first of ``variants`` written as a question
    (ending with "?"), else the first."""
    variants: tuple[str, ...]
    """One original spelling per distinct normalised text, most frequent text first; of
    each, the spelling written as a question if any, else the most frequent."""
    stems: tuple[str, ...]
    """The representative's content stems (typos folded)."""
    members: tuple[int, ...]
    """Positions of this group's texts in the list given to group_questions."""


def normalise(text: str) -> str:
    """A question as staff read it in a list: "Was kostet 'ne Website?" -> "was kostet ne
    website": lower case, punctuation gone, single spaces."""
    text = _APOSTROPHE.sub("", clean(text)).lower()
    return " ".join(_TOKEN.findall(text))


def group_questions(texts: Sequence[str], *, threshold: float = 0.6) -> list[Group]:
    """Group similar questions, biggest group first; see the comment above for how.

    Texts without a content word ("Hallo?", "???") are in no group: nothing to learn.
    """
    if not 0 < threshold <= 1:
        raise ValueError("threshold must be in (0, 1]")
    # Per distinct spelling: its normalised text; per normalised text: its stems.
    spelling_of: list[str] = []
    normal_of_spelling: dict[str, str] = {}
    for text in texts:
        spelling = " ".join(clean(text).split())
        spelling_of.append(spelling)
        if spelling not in normal_of_spelling:
            normal_of_spelling[spelling] = normalise(spelling)
    normals = list(dict.fromkeys(normal_of_spelling.values()))
    raw_stems = {
        normal: _content_stems(found)
        for normal, found in zip(normals, words_of_many(normals), strict=True)
    }
    normal_count = Counter(normal_of_spelling[spelling] for spelling in spelling_of)
    stem_count: Counter[str] = Counter()
    for normal, stems in raw_stems.items():
        for one in stems:
            stem_count[one] += normal_count[normal]
    typo_fold = _typo_folding(stem_count)
    signature_of = {
        normal: tuple(sorted({typo_fold[one] for one in stems}))
        for normal, stems in raw_stems.items()
    }

    # Identical signatures first: one bucket each.
    buckets: dict[tuple[str, ...], list[int]] = defaultdict(list)
    for index, spelling in enumerate(spelling_of):
        signature = signature_of[normal_of_spelling[spelling]]
        if signature:
            buckets[signature].append(index)
    order = sorted(buckets, key=lambda signature: (-len(buckets[signature]), signature))

    # Then buckets join the best-overlapping group representative.
    sizes: list[int] = []  # of each group's representative
    grouped: list[list[tuple[str, ...]]] = []
    groups_with: dict[str, list[int]] = defaultdict(list)
    for signature in order:
        shared: Counter[int] = Counter()
        for one in signature:
            shared.update(groups_with[one])
        best, best_score = -1, 0.0
        length, minimum = len(signature), threshold * len(signature)
        for number, common in shared.most_common():  # sorted in C; most share little
            if common < minimum:
                break  # Jaccard <= common / len(signature) < threshold from here on
            score = common / (length + sizes[number] - common)
            if score >= threshold and (
                score > best_score or (score == best_score and number < best)
            ):
                best, best_score = number, score
        if best >= 0:
            grouped[best].append(signature)
            continue
        sizes.append(len(signature))
        grouped.append([signature])
        for one in signature:
            groups_with[one].append(len(grouped) - 1)

    groups = [
        _make_group(
            signatures[0],
            sorted(index for signature in signatures for index in buckets[signature]),
            spelling_of,
            normal_of_spelling,
        )
        for signatures in grouped
    ]
    groups.sort(key=lambda group: (-group.count, group.text))
    return groups


def _content_stems(found: Iterable[Any]) -> frozenset[str]:
    stems: set[str] = set()
    for word in found:
        if is_stopword(word.text):
            continue
        for part in word.parts:
            if len(part) > 1 and not is_stopword(part):
                stems.add(stem(part))
    return frozenset(stems)


def _typo_folding(stem_count: Counter[str]) -> dict[str, str]:
    """Map each stem to itself or to a more frequent stem one insertion/deletion away.

    Substitutions are not folded: "kost"/"host", "vergess"/"verbess" are different
    words far more often than typos. The lookup is by single-letter deletions (as in
    SymSpell), so it costs a few dictionary look-ups per stem.
    """
    folding: dict[str, str] = {}
    kept: set[str] = set()
    kept_by_deletion: dict[str, str] = {}
    for one, _ in sorted(stem_count.items(), key=lambda item: (-item[1], item[0])):
        target = None
        if len(one) >= _TYPO_MIN_LETTERS:
            target = kept_by_deletion.get(one)  # a kept stem with one letter more
            if target is None:
                for i in range(len(one)):  # a kept stem with one letter less
                    shorter = one[:i] + one[i + 1 :]
                    if len(shorter) >= _TYPO_MIN_LETTERS and shorter in kept:
                        target = shorter
                        break
        if target is not None:
            folding[one] = target
            continue
        folding[one] = one
        kept.add(one)
        if len(one) > _TYPO_MIN_LETTERS:
            for i in range(len(one)):
                kept_by_deletion.setdefault(one[:i] + one[i + 1 :], one)
    return folding


def _asks(spelling: str) -> bool:
    return spelling.endswith("?")


def _make_group(
    stems: tuple[str, ...],
    members: list[int],
    spelling_of: list[str],
    normal_of_spelling: dict[str, str],
) -> Group:
    spellings = Counter(spelling_of[index] for index in members)
    normals: Counter[str] = Counter()
    best_spelling: dict[str, str] = {}
    for spelling, count in sorted(
        spellings.items(), key=lambda item: (not _asks(item[0]), -item[1], item[0])
    ):
        normal = normal_of_spelling[spelling]
        normals[normal] += count
        best_spelling.setdefault(normal, spelling)
    ranked = sorted(normals, key=lambda normal: (-normals[normal], normal))
    variants = tuple(best_spelling[normal] for normal in ranked)
    example = next((variant for variant in variants if _asks(variant)), variants[0])
    return Group(
        count=len(members),
        text=ranked[0],
        example=example,
        variants=variants,
        stems=stems,
        members=tuple(members),
    )


# The report ---------------------------------------------------------------------------


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
                    lines.append(f"  {group.count}× {_shorten(group.text, SHORT_TEXT_CHARS)}")
                    continue
                line = f"  {group.count}× {group.text}"
                if normalise(group.example) != group.text:
                    line += f" (z. B. „{_shorten(group.example, 120)}“)"
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


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def period_start(days: int | None, now: datetime | None = None) -> str | None:
    """The ISO time ``days`` before ``now`` (as the store writes times), or None."""
    if days is None:
        return None
    now = now or datetime.now(UTC)
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    return (now.astimezone(UTC) - timedelta(days=days)).isoformat(timespec="seconds")


def build_report(
    connection: sqlite3.Connection,
    *,
    days: int | None = 30,
    now: datetime | None = None,
    top: int = 10,
) -> Report:
    """The report over the last ``days`` days (None: all time) from a store connection."""
    if days is not None and days < 1:
        raise ValueError("days must be at least 1, or None for all time")
    since = period_start(days, now)
    after = since or ""  # every stored time sorts after ""

    decisions: Counter[str] = Counter()
    for row in connection.execute(
        "SELECT decision, COUNT(*) FROM questions WHERE asked_at >= ? GROUP BY decision",
        (after,),
    ):
        decisions[str(row[0])] = int(row[1])
    total = decisions["answer"] + decisions["suggest"] + decisions["none"]
    totals = Totals(
        total, decisions["answer"], decisions["suggest"], decisions["none"], decisions["smalltalk"]
    )
    rates = Rates(
        *(
            count / total if total else 0.0
            for count in (totals.answered, totals.suggested, totals.none)
        )
    )

    hits: Counter[str] = Counter()
    helpful: Counter[str] = Counter()
    not_helpful: Counter[str] = Counter()
    for row in connection.execute(
        "SELECT top_entry, COUNT(*) FROM questions WHERE decision = 'answer'"
        " AND top_entry IS NOT NULL AND asked_at >= ? GROUP BY top_entry",
        (after,),
    ):
        hits[str(row[0])] += int(row[1])
    for row in connection.execute(
        "SELECT entry_id, COUNT(*) FROM choices WHERE entry_id IS NOT NULL AND at >= ?"
        " GROUP BY entry_id",
        (after,),
    ):
        hits[str(row[0])] += int(row[1])
    for row in connection.execute(
        "SELECT entry_id, SUM(helpful != 0), SUM(helpful = 0) FROM feedback WHERE at >= ?"
        " GROUP BY entry_id",
        (after,),
    ):
        helpful[str(row[0])] += int(row[1])
        not_helpful[str(row[0])] += int(row[2])
    rows = [
        EntryStats(entry_id, hits[entry_id], helpful[entry_id], not_helpful[entry_id])
        for entry_id in set(hits) | set(helpful) | set(not_helpful)
    ]
    rows.sort(key=lambda row: (-row.hits, -(row.helpful + row.not_helpful), row.entry_id))
    worst = sorted(
        (row for row in rows if row.not_helpful),
        key=lambda row: (-row.not_helpful, -row.not_helpful_ratio, row.entry_id),
    )
    per_day, median_confidence = _days(connection, since, now)
    chosen, none_chosen = _chosen_entries(connection, since)
    return Report(
        period=Period(days, since),
        totals=totals,
        rates=rates,
        entries=tuple(rows[:top]),
        most_not_helpful=tuple(worst[:top]),
        unanswered_groups=tuple(summary for _, summary in _unanswered(connection, since)[:top]),
        days=per_day,
        median_confidence=median_confidence,
        chosen=tuple(chosen[:top]),
        none_chosen=none_chosen,
        handoffs=handoff_counts(connection, since),
    )


def _days(
    connection: sqlite3.Connection, since: str | None, now: datetime | None
) -> tuple[tuple[Day, ...], float | None]:
    """Questions per day by decision and the median confidence, per day and overall."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for row in connection.execute(
        "SELECT substr(asked_at, 1, 10), decision, COUNT(*) FROM questions"
        " WHERE asked_at >= ? GROUP BY 1, 2",
        (since or "",),
    ):
        counts[str(row[0])][str(row[1])] = int(row[2])
    scores: dict[str, list[float]] = defaultdict(list)
    cursor = connection.cursor()
    cursor.row_factory = None  # plain tuples: a busy year is 100,000 rows here
    for day, score in cursor.execute(
        "SELECT substr(asked_at, 1, 10), top_score FROM questions WHERE asked_at >= ?"
        f" AND decision NOT IN ({', '.join('?' * len(NOT_MATCHED))})",
        (since or "", *sorted(NOT_MATCHED)),
    ):
        scores[day].append(score)
    everything = [score for day in scores.values() for score in day]
    overall = statistics.median(everything) if everything else None
    if not counts:
        return (), overall
    today = (now or datetime.now(UTC)).astimezone(UTC).date()
    first = date.fromisoformat(since[:10]) if since else date.fromisoformat(min(counts))
    last = max(today, date.fromisoformat(max(counts)))
    result = []
    for offset in range((last - first).days + 1):
        day = (first + timedelta(days=offset)).isoformat()
        found = counts.get(day, Counter())
        decisions = {decision: found[decision] for decision in DECISIONS}
        decisions.update(sorted((k, v) for k, v in found.items() if k not in decisions))
        median = statistics.median(scores[day]) if scores.get(day) else None
        result.append(Day(day, decisions, median))
    return tuple(result), overall


def _chosen_entries(
    connection: sqlite3.Connection, since: str | None
) -> tuple[list[ChosenEntry], int]:
    """Entries picked from suggestion lists, most often first; and "Keine davon" presses."""
    picks: Counter[str] = Counter()
    none_chosen = 0
    for row in connection.execute(
        "SELECT c.entry_id, COUNT(*) FROM choices AS c JOIN questions AS q"
        " ON q.id = c.question_id WHERE q.decision = 'suggest' AND c.at >= ?"
        " GROUP BY c.entry_id",
        (since or "",),
    ):
        if row[0] is None:
            none_chosen = int(row[1])
        else:
            picks[str(row[0])] = int(row[1])
    asked = _chosen_phrasings(connection, since)
    chosen = [
        ChosenEntry(entry_id, count, tuple(asked.get(entry_id, ())))
        for entry_id, count in sorted(picks.items(), key=lambda item: (-item[1], item[0]))
    ]
    return chosen, none_chosen


def _chosen_phrasings(
    connection: sqlite3.Connection, since: str | None
) -> dict[str, list[tuple[str, int]]]:
    """Per entry picked from a suggestion list: what the customers had asked, as
    (spelling, times), one per normalised text, most often first."""
    chosen: dict[str, Counter[str]] = defaultdict(Counter)
    spellings: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for row in connection.execute(
        "SELECT c.entry_id, q.text FROM choices AS c JOIN questions AS q ON q.id = c.question_id"
        " WHERE q.decision = 'suggest' AND c.entry_id IS NOT NULL AND q.text IS NOT NULL"
        " AND c.at >= ? ORDER BY c.at DESC, c.id DESC",
        (since or "",),
    ):
        entry_id, text = str(row[0]), " ".join(clean(str(row[1])).split())
        key = normalise(text)
        if key:
            chosen[entry_id][key] += 1
            spellings[entry_id, key][text] += 1  # most_common: ties go to the latest
    return {
        entry_id: [
            (spellings[entry_id, key].most_common(1)[0][0], count)
            for key, count in sorted(asked.items(), key=lambda item: (-item[1], item[0]))
        ]
        for entry_id, asked in chosen.items()
    }


def _unanswered(
    connection: sqlite3.Connection, since: str | None
) -> list[tuple[Group, UnansweredGroup]]:
    """Questions without an answer ("none", or suggestions the bot was unsure of), grouped."""
    rows = connection.execute(
        "SELECT text, asked_at, suggestions FROM questions WHERE asked_at >= ?"
        " AND text IS NOT NULL AND text != ''"
        " AND (decision = 'none' OR (decision = 'suggest' AND top_score < ?))"
        " ORDER BY asked_at DESC, id DESC",
        (since or "", UNSURE_SCORE),
    ).fetchall()
    result = []
    for group in group_questions([str(row[0]) for row in rows]):
        offered: Counter[str] = Counter()
        for index in group.members:
            offered.update(_suggestion_ids(rows[index][2]))
        summary = UnansweredGroup(
            count=group.count,
            text=group.text,
            example=group.example,
            suggested=tuple(entry_id for entry_id, _ in offered.most_common(3)),
            last_asked=max(str(rows[index][1]) for index in group.members),
            variants=group.variants,
        )
        result.append((group, summary))
    return result


def _suggestion_ids(raw: object) -> list[str]:
    try:
        ids = json.loads(str(raw))
    except ValueError:
        return []
    return [str(entry_id) for entry_id in ids] if isinstance(ids, list) else []


# Suggestions for staff ------------------------------------------------------------------


def suggest_snippets(
    connection: sqlite3.Connection,
    kb: KnowledgeBase,
    *,
    days: int | None = 30,
    min_group: int = MIN_GROUP,
    now: datetime | None = None,
) -> str:
    """YAML for staff to review and paste into faq/; nothing is applied.

    Draft entries from the team's answers to handed-over questions (``draft: true``)
    and for unanswered questions asked at least ``min_group`` times, and new
    alternatives for entries customers chose after a "Meinten Sie …?" list.
    """
    if days is not None and days < 1:
        raise ValueError("days must be at least 1, or None for all time")
    since = period_start(days, now)
    period = "aller Zeit" if days is None else f"der letzten {days} Tage"
    lines = [
        f"# Vorschläge von „faqbot suggest“ aus den Kundenfragen {period}.",
        "# Nichts davon wurde übernommen: Der Bot antwortet weiter wie bisher.",
        "# Prüfen Sie jeden Vorschlag, schreiben Sie die Antworten in eigenen Worten, kopieren",
        "# Sie nur Passendes in eine Datei in faq/ und prüfen Sie danach mit „faqbot check“.",
        "",
    ]
    lines += _draft_entries(connection, kb, since, min_group)
    lines.append("")
    lines += _new_alternatives(connection, kb, since)
    return "\n".join(lines) + "\n"


def _team_drafts(connection: sqlite3.Connection, since: str | None, used: set[str]) -> list[str]:
    """Answered handoffs as draft entries: the customer's question, the team's reply."""
    lines: list[str] = []
    for answer in team_answers(connection, since):
        entry_id = unique_slug(answer.question, used)
        used.add(entry_id)
        lines.append(
            f"  # Antwort unseres Teams auf Anfrage {answer.reference} vom"
            f" {_german_date(answer.answered_at)}. Allgemein formulieren,"
        )
        lines.append(
            "  # persönliche Angaben entfernen, Alternativen ergänzen, dann „draft: true“ löschen."
        )
        lines.append(f"  - id: {entry_id}")
        lines.append("    draft: true")
        lines.append(f"    question: {yaml_string(as_question(clean(answer.question)))}")
        lines.append("    alternatives: []")
        lines.append("    keywords: []")
        lines.append("    answer: " + _block_scalar(answer.answer, indent=6))
    return lines


def _block_scalar(text: str, *, indent: int) -> str:
    """A multi-line text as a YAML literal block (as staff write answers), else quoted."""
    body = [line.rstrip() for line in text.strip().splitlines()]
    if len(body) < 2 or _NOT_YAML_PRINTABLE.search(text) or "\t" in text:
        return yaml_string(" ".join(text.split()) if len(body) < 2 else text.strip())
    pad = " " * indent
    return "|\n" + "\n".join(pad + line if line else "" for line in body)


def _draft_entries(
    connection: sqlite3.Connection, kb: KnowledgeBase, since: str | None, min_group: int
) -> list[str]:
    groups = [pair[1] for pair in _unanswered(connection, since) if pair[1].count >= min_group]
    lines = [
        "# 1) Neue Einträge für Fragen, auf die der Bot keine sichere Antwort hatte, und",
        "#    Entwürfe („draft: true“) aus den Antworten unseres Teams auf weitergeleitete",
        "#    Fragen. Die Einträge unter „entries:“ einer passenden Datei einfügen und die",
        "#    Antwort schreiben; Frage und Alternativen dürfen Sie umformulieren und ergänzen.",
    ]
    used = {entry.id for entry in kb} | {entry.id for entry in kb.smalltalk}
    team = _team_drafts(connection, since, used)
    if not groups:
        lines.append(f"#    Keine Frage wurde mindestens {min_group}× ohne Antwort gestellt.")
        if not team:
            return [*lines, "entries: []"]
    lines.append("entries:")
    lines += team
    for summary, entry_id in zip(groups, draft_ids(groups, kb, used), strict=True):
        lines += draft_entry(summary, entry_id)
    return lines


def draft_ids(
    groups: Iterable[UnansweredGroup], kb: KnowledgeBase, used: set[str] | None = None
) -> list[str]:
    """An unused entry id per group, in order (as faqbot suggest gives them)."""
    if used is None:
        used = {entry.id for entry in kb} | {entry.id for entry in kb.smalltalk}
    ids = []
    for group in groups:
        entry_id = unique_slug(group.text, used)
        used.add(entry_id)
        ids.append(entry_id)
    return ids


def draft_entry(summary: UnansweredGroup, entry_id: str) -> list[str]:
    """The YAML lines of one draft entry, indented to paste under "entries:"."""
    question = as_question(summary.example)
    alternatives = [
        variant
        for variant in summary.variants or (summary.example,)
        if normalise(variant) != normalise(question)
    ][:MAX_DRAFT_ALTERNATIVES]
    lines = [
        f"  # {summary.count}× gefragt, zuletzt am {_german_date(summary.last_asked)}",
        f"  - id: {entry_id}",
        f"    question: {yaml_string(question)}",
    ]
    if alternatives:
        lines.append("    alternatives:")
        lines += [f"      - {yaml_string(text)}" for text in alternatives]
    else:
        lines.append("    alternatives: []")
    lines.append("    keywords: []")
    lines.append(f"    answer: {yaml_string(DRAFT_ANSWER)}")
    lines.append("    draft: true  # nie angezeigt; nach dem Schreiben der Antwort löschen")
    return lines


def _new_alternatives(
    connection: sqlite3.Connection, kb: KnowledgeBase, since: str | None
) -> list[str]:
    chosen = _chosen_phrasings(connection, since)
    lines = [
        "# 2) Neue Alternativen für vorhandene Einträge: So fragten Kunden, die danach",
        "#    unter „Meinten Sie …?“ diesen Eintrag gewählt haben. Die passenden Zeilen",
        "#    unter „alternatives:“ des Eintrags einfügen.",
    ]
    blocks: list[str] = []
    for entry in kb:
        new = new_alternatives(chosen.get(entry.id, ()), entry.phrasings)
        if new:
            blocks += alternatives_block(entry, new)
    if not blocks:
        return [*lines, "#    Keine neuen Formulierungen.", "new_alternatives: {}"]
    return [*lines, "new_alternatives:", *blocks]


def alternatives_block(entry: Entry, new: Iterable[tuple[str, int]]) -> list[str]:
    """The YAML lines of new alternatives for one entry, to paste under "new_alternatives:"."""
    lines = [
        f"  # Eintrag {entry.id} ({entry.source}): neue alternatives",
        f"  {entry.id}:",
        "    alternatives:",
    ]
    for spelling, count in new:
        times = f"  # {count}× gewählt" if count > 1 else ""
        lines.append(f"      - {yaml_string(spelling)}{times}")
    return lines


def new_alternatives(
    phrasings: Iterable[tuple[str, int]], known: Iterable[str]
) -> list[tuple[str, int]]:
    """The customers' phrasings an entry does not have yet, at most MAX_NEW_ALTERNATIVES."""
    have = {normalise(phrasing) for phrasing in known}
    return [(text, count) for text, count in phrasings if normalise(text) not in have][
        :MAX_NEW_ALTERNATIVES
    ]


def as_question(text: str) -> str:
    """A customer's text as a FAQ question: trimmed, capitalised, ending with "?"."""
    text = " ".join(text.split()).rstrip(" .!?…,;:")
    if not text:
        return "?"
    return text[0].upper() + text[1:] + "?"


def unique_slug(text: str, used: set[str] | frozenset[str]) -> str:
    """An entry id from the content words of ``text``, not in ``used``."""
    parts: list[str] = []
    for word in _TOKEN.findall(fold(clean(text))):
        if is_stopword(word):
            continue
        ascii_word = unicodedata.normalize("NFKD", word).encode("ascii", "ignore").decode()
        parts += [piece for piece in re.split(r"[^a-z0-9]+", ascii_word) if piece]
    base = ""
    for part in parts:
        candidate = f"{base}-{part}" if base else part
        if len(candidate) > SLUG_CHARS:
            break
        base = candidate
    base = base or "frage"
    slug, number = base, 1
    while slug in used or not ID_PATTERN.match(slug):
        number += 1
        suffix = f"-{number}"
        slug = base[: SLUG_CHARS - len(suffix)].rstrip("-") + suffix
    return slug


_NOT_YAML_PRINTABLE = re.compile(
    "[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
)


def yaml_string(text: str) -> str:
    """A double-quoted YAML scalar (JSON's escapes, plus those YAML insists on)."""
    quoted = json.dumps(text, ensure_ascii=False)
    return _NOT_YAML_PRINTABLE.sub(lambda match: f"\\u{ord(match.group()):04x}", quoted)


def _german_date(iso: str) -> str:
    try:
        return datetime.fromisoformat(iso).strftime("%d.%m.%Y")
    except ValueError:
        return iso[:10]
