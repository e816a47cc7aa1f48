"""faqbot suggest: YAML for staff to review and paste into faq/; nothing is applied.

Draft entries for frequent unanswered questions and from the team's answers to handed-
over questions, and new alternatives for entries customers picked from "Meinten Sie …?".
The HTML report (bot/report_html.py) shows the same drafts.
"""

from __future__ import annotations

import json
import re
import sqlite3
import unicodedata
from collections.abc import Iterable
from datetime import datetime

from bot.grouping import normalise
from bot.handoff_store import team_answers
from bot.knowledge import ID_PATTERN, Entry, KnowledgeBase
from bot.report import UnansweredGroup, period_start
from bot.report_queries import chosen_phrasings, unanswered
from bot.text import _WORD_SPLIT, clean, fold, is_stopword

DRAFT_ANSWER = "TODO: Antwort schreiben (3–8 Sätze, Sie-Form)."
MAX_DRAFT_ALTERNATIVES = 8
MAX_NEW_ALTERNATIVES = 10
SLUG_CHARS = 60
MIN_GROUP = 2
"""Draft an entry for unanswered questions asked at least this often (faqbot suggest)."""


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
    groups = [pair[1] for pair in unanswered(connection, since) if pair[1].count >= min_group]
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
    chosen = chosen_phrasings(connection, since)
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
    for word in _WORD_SPLIT.findall(fold(clean(text))):
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
