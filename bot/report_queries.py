"""Reading the analytics store into a Report (bot/report.py); all of the report's SQL.

Everything here reads; nothing changes the store or the knowledge base. The SQL is
portable: the same queries run on SQLite and, through bot/store_pg.py, on PostgreSQL.

Usage::

    with bot.store.reader(data_dir) as connection:
        print(build_report(connection, days=30).text(short=True))
"""

from __future__ import annotations

import json
import sqlite3
import statistics
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta

from bot.grouping import Group, group_questions, normalise
from bot.handoff_store import handoff_counts, has_handoffs
from bot.report import (
    DECISIONS,
    NOT_MATCHED,
    UNSURE_SCORE,
    ChosenEntry,
    Day,
    EntryStats,
    Period,
    Rates,
    Report,
    Totals,
    UnansweredGroup,
    period_start,
)
from bot.text import clean


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
        # CASE, not SUM(helpful != 0): PostgreSQL has no SUM over booleans.
        "SELECT entry_id, SUM(CASE WHEN helpful != 0 THEN 1 ELSE 0 END),"
        " SUM(CASE WHEN helpful = 0 THEN 1 ELSE 0 END) FROM feedback WHERE at >= ?"
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
        unanswered_groups=tuple(summary for _, summary in unanswered(connection, since)[:top]),
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
    _move_handoffs(connection, since, counts)
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


def _move_handoffs(
    connection: sqlite3.Connection, since: str | None, counts: dict[str, Counter[str]]
) -> None:
    """Count a question the customer handed to the team as "handoff", not twice.

    The question itself was recorded as "none" (or "suggest", when "Keine davon" led to
    the team button); the handoff is a row of its own, on the day it was sent.
    """
    if not has_handoffs(connection):
        return
    for row in connection.execute(
        "SELECT substr(created_at, 1, 10), COUNT(*) FROM handoffs WHERE created_at >= ? GROUP BY 1",
        (since or "",),
    ):
        day, handed = counts[str(row[0])], int(row[1])
        for source in ("none", "suggest"):
            moved = min(handed, day[source])
            day[source] -= moved
            day["handoff"] += moved
            handed -= moved


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
    asked = chosen_phrasings(connection, since)
    chosen = [
        ChosenEntry(entry_id, count, tuple(asked.get(entry_id, ())))
        for entry_id, count in sorted(picks.items(), key=lambda item: (-item[1], item[0]))
    ]
    return chosen, none_chosen


def chosen_phrasings(
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


def unanswered(
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
