"""`faqbot report`: the staff report as one self-contained German HTML page.

It draws the Report that `faqbot stats` prints (bot/report.py) and adds no numbers
of its own: the tiles are its totals, the charts its days, entries, groups and choices
(bot/charts.py), the YAML drafts the ones `faqbot suggest` writes. Every text from the
store or the knowledge base is escaped. Privacy as in `stats`: no user or chat hashes
ever reach the page; question texts only where STORE_QUESTIONS kept them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from html import escape

from bot import charts
from bot.chart_svg import render_svg
from bot.charts import DECISION_STYLE
from bot.config import StoreSettings
from bot.knowledge import KnowledgeBase
from bot.report import DECISIONS, UNSURE_SCORE, EntryStats, Report
from bot.report_page import copyable, decimal, german_date, number, page, section, stamp
from bot.suggestions import (
    MIN_GROUP,
    alternatives_block,
    draft_entry,
    draft_ids,
    new_alternatives,
)

TITLE = "Bericht: Was Kunden gefragt haben"


def render_report(
    report: Report,
    kb: KnowledgeBase,
    *,
    privacy: StoreSettings | None = None,
    generated_at: datetime | None = None,
) -> str:
    """The page for ``report``; ``kb`` names the entries and keeps draft ids unique."""
    generated_at = generated_at or datetime.now(UTC)
    privacy = privacy or StoreSettings()
    body = [_tiles(report), _privacy_note(report, privacy)]
    if not report.totals.questions and not report.entries:
        body.append(
            section(
                "Noch keine Fragen",
                "In diesem Zeitraum hat noch niemand dem Bot eine Frage gestellt. Sobald"
                " Kunden fragen, erscheinen hier Diagramme und Vorschläge.",
                "",
            )
        )
    else:
        body += [
            _per_day(report),
            _top_entries(report, kb),
            _not_helpful(report, kb),
            _unanswered(report, kb, privacy),
            _chosen(report, kb, privacy),
            _handoffs(report),
            _matcher(report),
        ]
    return page(
        title=TITLE,
        subtitle=f"{_period(report)} · erstellt am {stamp(generated_at)}",
        body="\n".join(part for part in body if part),
        footer=_footer(),
    )


def render_unavailable(
    reason: str, *, days: int | None, generated_at: datetime | None = None
) -> str:
    """The page when there is no store to read (missing, or analytics switched off)."""
    generated_at = generated_at or datetime.now(UTC)
    period = "gesamter Zeitraum" if days is None else f"letzte {days} Tage"
    body = section("Noch keine Daten", escape(reason), "")
    return page(
        title=TITLE,
        subtitle=f"{period} · erstellt am {stamp(generated_at)}",
        body=body,
        footer=_footer(),
    )


# Parts ---------------------------------------------------------------------------------


def decision_counts(report: Report) -> dict[str, int]:
    """Questions per decision: the totals, plus decisions only the days count."""
    counts = {decision: 0 for decision in DECISIONS}
    for day in report.days:
        for decision, count in day.decisions.items():
            counts[decision] = counts.get(decision, 0) + count
    counts.update(
        answer=report.totals.answered, suggest=report.totals.suggested, none=report.totals.none
    )
    return counts


def _tiles(report: Report) -> str:
    total = report.totals.questions
    tiles = [_tile("Fragen", number(total), "", "#1f3a56")]
    for decision, count in decision_counts(report).items():
        name, colour = DECISION_STYLE.get(decision, (decision, charts.OTHER_COLOUR))
        share = f"{round(count / total * 100)} %" if total else ""
        tiles.append(_tile(name, number(count), share, colour))
    median = report.median_confidence
    tiles.append(
        _tile("Median-Konfidenz", decimal(median) if median is not None else "–", "", charts.ACCENT)
    )
    return '<div class="tiles">' + "".join(tiles) + "</div>"


def _tile(name: str, value: str, share: str, colour: str) -> str:
    extra = f'<span class="share">{escape(share)}</span>' if share else ""
    return (
        f'<div class="tile" style="--tile: {colour}"><div class="value">{escape(value)}</div>'
        f'<div class="name">{escape(name)}{extra}</div></div>'
    )


def _privacy_note(report: Report, privacy: StoreSettings) -> str:
    text = "Datenschutz: Der Bericht enthält keine Nutzer- oder Chat-Kennungen. "
    if not privacy.store_questions:
        text += (
            "Der Bot speichert keine Fragetexte (STORE_QUESTIONS=false): Zahlen und"
            " Bewertungen sind vollständig, Fragetexte und Entwürfe gibt es nicht."
        )
        return f'<p class="note warn">{escape(text)}</p>'
    text += (
        f"Fragetexte werden nach {privacy.retention_days} Tagen gelöscht (RETENTION_DAYS);"
        " ältere Fragen zählen weiter mit, erscheinen aber nicht mehr als Text."
    )
    days = report.period.days
    if days is None or days > privacy.retention_days:
        text += (
            f" Fragetexte gibt es deshalb nur aus den letzten {privacy.retention_days} Tagen"
            " dieses Zeitraums."
        )
    return f'<p class="note">{escape(text)}</p>'


def _per_day(report: Report) -> str:
    if not report.days:
        return ""
    rows = "".join(
        f"<tr><td>{german_date(day.day)}</td>"
        + "".join(f'<td class="num">{number(day.decisions.get(d, 0))}</td>' for d in DECISIONS)
        + f'<td class="num">{number(day.questions)}</td></tr>'
        for day in reversed(report.days)
    )
    head = "".join(f'<th class="num">{escape(charts.label(d))}</th>' for d in DECISIONS)
    table = (
        "<details><summary>Zahlen pro Tag als Tabelle</summary><table><thead><tr><th>Tag</th>"
        f'{head}<th class="num">Gesamt</th></tr></thead><tbody>{rows}</tbody></table></details>'
    )
    return section(
        "Fragen pro Tag",
        "Jede Frage eines Tages (UTC), nach dem, was der Bot getan hat.",
        _chart("questions-per-day", charts.questions_per_day(report.days)) + table,
    )


def _entry_name(entry_id: str, kb: KnowledgeBase) -> str:
    entry = kb.get(entry_id)
    question = entry.question if entry else "(nicht mehr in der Wissensbasis)"
    return f"{escape(question)}<code>{escape(entry_id)}</code>"


def _top_entries(report: Report, kb: KnowledgeBase) -> str:
    if not report.entries:
        return section("Häufigste Einträge", "", '<p class="empty">Noch keine Einträge.</p>')
    return section(
        "Häufigste Einträge",
        "Wie oft ein Eintrag angezeigt wurde (direkte Antworten und gewählte Vorschläge),"
        " mit den Bewertungen der Kunden.",
        _chart("entries-by-hits", charts.entries_by_hits(report.entries))
        + _entry_table(report.entries, kb, _HITS_COLUMNS),
    )


EntryColumn = tuple[str, Callable[[EntryStats], str]]
"""A numeric column of an entry table: its heading and its cell."""

_HITS_COLUMNS: tuple[EntryColumn, ...] = (
    ("Aufrufe", lambda e: number(e.hits)),
    ("hilfreich", lambda e: number(e.helpful)),
    ("nicht hilfreich", lambda e: number(e.not_helpful)),
)
_RATING_COLUMNS: tuple[EntryColumn, ...] = (
    ("nicht hilfreich", lambda e: number(e.not_helpful)),
    ("Bewertungen", lambda e: number(e.helpful + e.not_helpful)),
    ("Anteil", lambda e: f"{round(e.not_helpful_ratio * 100)} %"),
)


def _entry_table(
    entries: Iterable[EntryStats], kb: KnowledgeBase, columns: Sequence[EntryColumn]
) -> str:
    """One row per entry: its name, then the ``columns``."""
    head = "".join(f'<th class="num">{heading}</th>' for heading, _ in columns)
    rows = "".join(
        f"<tr><td>{_entry_name(e.entry_id, kb)}</td>"
        + "".join(f"<td class='num'>{cell(e)}</td>" for _, cell in columns)
        + "</tr>"
        for e in entries
    )
    return f"<table><thead><tr><th>Eintrag</th>{head}</tr></thead><tbody>{rows}</tbody></table>"


def _not_helpful(report: Report, kb: KnowledgeBase) -> str:
    title = "Meist „nicht hilfreich“ bewertet"
    if not report.most_not_helpful:
        return section(
            title, "", '<p class="empty">Keine Bewertung „nicht hilfreich“ in diesem Zeitraum.</p>'
        )
    return section(
        title,
        "Diese Antworten haben Kunden am häufigsten als „nicht hilfreich“ bewertet: Lohnt"
        " sich ein Blick auf Antworttext und Formulierungen?",
        _chart("ratings", charts.ratings(report.most_not_helpful))
        + _entry_table(report.most_not_helpful, kb, _RATING_COLUMNS),
    )


def _unanswered(report: Report, kb: KnowledgeBase, privacy: StoreSettings) -> str:
    title = "Unbeantwortete Fragen nach Thema"
    lead = (
        "Fragen ohne sichere Antwort (keine Antwort oder unsichere Vorschläge unter"
        f" {decimal(UNSURE_SCORE)}), ähnliche zusammengefasst. Der YAML-Entwurf ist der von"
        " „faqbot suggest“: Antwort schreiben, in eine Datei in faq/ einfügen, mit"
        " „faqbot check“ prüfen."
    )
    if not privacy.store_questions:
        return section(
            title,
            "",
            '<p class="empty">Ohne gespeicherte Fragetexte'
            " (STORE_QUESTIONS=false) lassen sich Fragen nicht gruppieren.</p>",
        )
    groups = report.unanswered_groups
    if not groups:
        return section(
            title,
            "",
            '<p class="empty">Keine unbeantworteten Fragen mit Text in diesem Zeitraum.</p>',
        )
    # Ids given in the order faqbot suggest gives them: unique across all drafts.
    drafted = [rank for rank, group in enumerate(groups, start=1) if group.count >= MIN_GROUP]
    ids = dict(zip(drafted, draft_ids((groups[r - 1] for r in drafted), kb), strict=True))
    topics = []
    for rank, group in enumerate(groups, start=1):
        offered = f" · angeboten: {escape(', '.join(group.suggested))}" if group.suggested else ""
        variants = "".join(f"<li>{escape(text)}</li>" for text in group.variants[:6])
        more = len(group.variants) - 6
        if more > 0:
            variants += f"<li>… und {more} weitere Formulierungen</li>"
        if rank in ids:
            yaml = "\n".join(draft_entry(group, ids[rank]))
            draft = copyable(f"draft-{rank}", "Entwurf für faq/ (wie „faqbot suggest“)", yaml)
        else:
            draft = (
                f'<p class="empty">Erst {group.count}× gefragt: „faqbot suggest“ entwirft einen'
                f" Eintrag ab {MIN_GROUP} Fragen.</p>"
            )
        topics.append(
            f'<article class="topic"><h3>{rank}. „{escape(group.example)}“</h3>'
            f'<p class="meta">{number(group.count)}× gefragt · zuletzt am'
            f" {german_date(group.last_asked)}{offered}</p>"
            f'<div class="cols"><div><h4>So fragten Kunden</h4><ul>{variants}</ul></div>'
            f"<div>{draft}</div></div></article>"
        )
    return section(
        title, lead, _chart("unanswered-topics", charts.unanswered_topics(groups)) + "".join(topics)
    )


def _chosen(report: Report, kb: KnowledgeBase, privacy: StoreSettings) -> str:
    title = "Gewählte Vorschläge („Meinten Sie …?“)"
    if not report.chosen and not report.none_chosen:
        return section(title, "", '<p class="empty">Noch keine Auswahl aus Vorschlägen.</p>')
    rows = []
    for rank, chosen in enumerate(report.chosen, start=1):
        entry = kb.get(chosen.entry_id)
        new = new_alternatives(chosen.phrasings, entry.phrasings) if entry else []
        if not privacy.store_questions:  # older texts may remain; not shown either
            cell = '<span class="empty">ohne Fragetexte</span>'
        elif new and entry is not None:
            yaml = "\n".join(alternatives_block(entry, new))
            cell = copyable(
                f"alternatives-{rank}", "Neue alternatives (wie „faqbot suggest“)", yaml
            )
        else:
            cell = '<span class="empty">nichts Neues</span>'
        rows.append(
            f"<tr><td>{_entry_name(chosen.entry_id, kb)}</td>"
            f'<td class="num">{number(chosen.count)}</td><td>{cell}</td></tr>'
        )
    if report.none_chosen:
        rows.append(
            f'<tr><td>„Keine davon“</td><td class="num">{number(report.none_chosen)}</td>'
            "<td></td></tr>"
        )
    table = (
        '<table><thead><tr><th>Gewählt</th><th class="num">Auswahlen</th>'
        f"<th>Kandidaten für neue Alternativen</th></tr></thead><tbody>{''.join(rows)}"
        "</tbody></table>"
    )
    return section(
        title,
        "Welchen Eintrag Kunden nach „Meinten Sie …?“ gewählt haben. Wie sie gefragt"
        " hatten, eignet sich als neue Alternative, damit der Bot künftig direkt antwortet.",
        _chart("chosen-entries", charts.chosen_entries(report.chosen, report.none_chosen)) + table,
    )


def _handoffs(report: Report) -> str:
    counts = report.handoffs
    if not (counts.open or counts.answered or counts.expired):
        return ""  # the handoff is off, or nobody used it in this period
    body = _chart("handoffs", charts.handoffs(counts))
    if counts.expired:
        body += (
            f'<p class="note">{counts.expired} weitere Übergabe(n) blieben unbeantwortet'
            " und wurden nach Ablauf der Aufbewahrungsfrist gelöscht.</p>"
        )
    return section(
        "Übergaben an das Team",
        "Fragen, die Kunden an das Team geschickt haben: noch offen und schon beantwortet.",
        body,
    )


def _matcher(report: Report) -> str:
    if not any(day.questions for day in report.days):
        return ""
    share = report.rates.answered
    median = report.median_confidence
    lead = (
        f"Im Zeitraum direkt beantwortet: {round(share * 100)} %; Median-Konfidenz der"
        f" FAQ-Fragen: {decimal(median) if median is not None else '–'} (1 = sicher)."
    )
    return section(
        "Wie gut der Bot trifft",
        lead,
        '<div class="pair">'
        + _chart(
            "answered-share",
            charts.answered_share(report.days),
            "Anteil direkt beantworteter Fragen pro Tag",
        )
        + _chart(
            "median-confidence",
            charts.median_confidence(report.days),
            "Median der besten Trefferwertung pro Tag",
        )
        + "</div>",
    )


# Helpers -------------------------------------------------------------------------------


def _chart(name: str, spec: charts.Spec, caption: str = "") -> str:
    caption_html = f"<figcaption>{escape(caption)}</figcaption>" if caption else ""
    return (
        f'<figure class="chart" data-chart="{escape(name)}">{caption_html}'
        f"{render_svg(spec, name=name)}</figure>"
    )


def _period(report: Report) -> str:
    days = report.period.days
    if days is None:
        if report.days:
            first, last = report.days[0].day, report.days[-1].day
            return f"Gesamter Zeitraum · {german_date(first)} – {german_date(last)}"
        return "Gesamter Zeitraum"
    since = report.period.since or ""
    name = "Letzter Tag" if days == 1 else f"Letzte {days} Tage"
    return f"{name} · seit {german_date(since)}" if since else name


def _footer() -> str:
    return (
        "Erstellt mit <code>faqbot report</code> aus denselben Zahlen wie"
        " <code>faqbot stats</code>. Die Seite lädt nichts nach und funktioniert offline."
    )
