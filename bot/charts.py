"""The staff report's charts: Vega-Lite specs from the report model, drawn to SVG.

Each chart is a pure function from report data to a Vega-Lite spec; its
``data.values`` are exactly the numbers drawn (the tests read them). ``render_svg``
draws a spec with vl-convert, which runs Vega inside its wheel: offline, with no URL
allowed to load, German number and date formats. The page then needs no chart
JavaScript at all, works in any browser or mail viewer, and prints.

Why build-time SVG from Vega-Lite (measured here, 365 days x 5 decisions): the
inlined vega + vega-lite + vega-embed bundle is ~900 KB and plotly.min.js ~4.6 MB per
page before any data; the SVG of the daily chart is ~250 KB after rounding, the other
charts 10-30 KB each. vl-convert takes ~1 s for its first chart (starting V8), then
~0.05-0.3 s per chart. Each bar's aria-label (from the ``description`` channel)
becomes a ``<title>`` too, so hovering a bar shows its numbers without JavaScript.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import vl_convert

from bot.handoff_store import HandoffCounts
from bot.report import DECISIONS, ChosenEntry, Day, EntryStats, UnansweredGroup
from bot.texts import shorten

Spec = dict[str, Any]

DECISION_STYLE: dict[str, tuple[str, str]] = {
    "answer": ("Direkt beantwortet", "#4c9a6a"),
    "suggest": ("Vorschläge", "#4e79a7"),
    "smalltalk": ("Smalltalk", "#b07aa1"),
    "handoff": ("An das Team übergeben", "#f0a04b"),
    "none": ("Keine Antwort", "#d9534f"),
}
"""Label and colour per decision, in DECISIONS order."""
OTHER_COLOUR = "#9aa0a6"
HELPFUL_COLOUR = "#4c9a6a"
NOT_HELPFUL_COLOUR = "#d9534f"
ACCENT = "#4e79a7"
LABEL_CHARS = 48
WIDTH = 760
BAR_STEP = 26

# Arial's metrics (Liberation Sans is metric-compatible): vl-convert lays labels out with
# the fonts of the machine that builds the page, the browser draws them with its own.
FONT = "'Liberation Sans', Arial, Helvetica, sans-serif"
CONFIG: Spec = {
    "font": FONT,
    "background": None,
    "view": {"stroke": None},
    "axis": {
        "labelColor": "#4a5560",
        "titleColor": "#4a5560",
        "labelFontSize": 12,
        "titleFontSize": 12,
        "titleFontWeight": "normal",
        "domainColor": "#c8ced4",
        "tickColor": "#c8ced4",
        "gridColor": "#eceff2",
    },
    "legend": {"labelFontSize": 12, "titleFontSize": 12, "labelColor": "#2b3640"},
    "bar": {"cornerRadiusEnd": 2},
}


def label(decision: str) -> str:
    """The German name of a decision as the charts and the page show it."""
    return DECISION_STYLE.get(decision, (decision, ""))[0]


def _german_day(iso_day: str) -> str:
    year, month, day = iso_day.split("-")
    return f"{day}.{month}.{year}"


def _spec(**parts: Any) -> Spec:
    return {"$schema": "https://vega.github.io/schema/vega-lite/v5.json", **parts}


def _day_format(days: Sequence[Any]) -> str:
    """Day and month ("24.11.") for a few weeks; month and year ("Dez. 2025") beyond."""
    return "%d.%m." if len(days) <= 62 else "%b %Y"


def questions_per_day(days: Sequence[Day]) -> Spec:
    """Stacked bars: each day's questions by decision (every decision, zero included)."""
    decisions = list(DECISIONS)
    for day in days:
        decisions += [d for d in day.decisions if d not in decisions]
    values = [
        {
            "day": day.day,
            "decision": label(decision),
            "order": decisions.index(decision),
            "count": day.decisions.get(decision, 0),
            "text": f"{_german_day(day.day)}: {day.decisions.get(decision, 0)}× {label(decision)}",
        }
        for day in days
        for decision in decisions
    ]
    colours = [DECISION_STYLE.get(d, ("", OTHER_COLOUR))[1] for d in decisions]
    return _spec(
        width=WIDTH + 120,
        height=240,
        data={"values": values},
        mark={"type": "bar", "cornerRadiusEnd": 0},
        encoding={
            "x": {
                "field": "day",
                "type": "ordinal" if len(days) <= 14 else "temporal",
                "timeUnit": "utcyearmonthdate",
                "title": None,
                "axis": {
                    "format": _day_format(days),
                    "labelAngle": 0,
                    "grid": False,
                    "labelOverlap": "greedy",
                    "labelSeparation": 8,
                },
            },
            "y": {
                "field": "count",
                "type": "quantitative",
                "stack": "zero",
                "title": "Fragen",
                "axis": _count_axis([{"count": day.questions} for day in days]),
            },
            "color": {
                "field": "decision",
                "type": "nominal",
                "title": None,
                "sort": [label(d) for d in decisions],
                "scale": {"domain": [label(d) for d in decisions], "range": colours},
                "legend": {"orient": "top", "direction": "horizontal"},
            },
            "order": {"field": "order", "type": "quantitative"},
            "description": {"field": "text"},
        },
    )


def _horizontal_bars(values: list[dict[str, Any]], *, title: str, colour: str | Spec) -> Spec:
    """Bars with a label per row, longest first, and the count at the end of each."""
    y = {
        "field": "label",
        "type": "nominal",
        "sort": None,
        "title": None,
        "axis": {"labelLimit": 360, "labelFontSize": 12, "ticks": False, "domain": False},
    }
    x = {"field": "count", "type": "quantitative", "title": title, "axis": _count_axis(values)}
    bar_colour = {"value": colour} if isinstance(colour, str) else colour
    return _spec(
        width=WIDTH - 360,
        height={"step": BAR_STEP},
        data={"values": values},
        encoding={"y": y},
        layer=[
            {
                "mark": {"type": "bar", "height": {"band": 0.7}},
                "encoding": {"x": x, "color": bar_colour, "description": {"field": "text"}},
            },
            {
                "mark": {"type": "text", "align": "left", "dx": 4, "color": "#2b3640"},
                "encoding": {
                    "x": x,
                    "text": {"field": "count", "type": "quantitative", "format": ",d"},
                },
            },
        ],
    )


def _count_axis(values: Sequence[Mapping[str, Any]], field: str = "count") -> Spec:
    """Whole numbers only: small counts get one tick per number (no "0,5 Fragen")."""
    top = max((int(row[field]) for row in values), default=0)
    axis: Spec = {"format": ",d", "tickMinStep": 1}  # 20.028: German thousands
    if top <= 10:
        axis["values"] = list(range(top + 1))
    return axis


def entries_by_hits(entries: Sequence[EntryStats]) -> Spec:
    """Bars: how often each entry was shown (answers plus choices), most first."""
    values = [
        {
            "label": entry.entry_id,
            "count": entry.hits,
            "text": f"{entry.entry_id}: {entry.hits}× angezeigt",
        }
        for entry in entries
    ]
    return _horizontal_bars(values, title="Aufrufe", colour=ACCENT)


def ratings(entries: Sequence[EntryStats]) -> Spec:
    """Stacked bars per entry: 👍 and 👎 ratings, the most often unhelpful first."""
    values = []
    for entry in entries:
        for rating, count in (("nicht hilfreich", entry.not_helpful), ("hilfreich", entry.helpful)):
            values.append(
                {
                    "label": entry.entry_id,
                    "rating": rating,
                    "count": count,
                    "text": f"{entry.entry_id}: {count}× {rating}",
                }
            )
    return _spec(
        width=WIDTH - 360,
        height={"step": BAR_STEP},
        data={"values": values},
        mark={"type": "bar", "height": {"band": 0.7}},
        encoding={
            "y": {
                "field": "label",
                "type": "nominal",
                "sort": None,
                "title": None,
                "axis": {"labelLimit": 360, "ticks": False, "domain": False},
            },
            "x": {
                "field": "count",
                "type": "quantitative",
                "stack": "zero",
                "title": "Bewertungen",
                "axis": _count_axis([{"count": e.helpful + e.not_helpful} for e in entries]),
            },
            "color": {
                "field": "rating",
                "type": "nominal",
                "title": None,
                "scale": {
                    "domain": ["nicht hilfreich", "hilfreich"],
                    "range": [NOT_HELPFUL_COLOUR, HELPFUL_COLOUR],
                },
                "legend": {"orient": "top", "direction": "horizontal"},
            },
            "order": {"field": "rating", "sort": "descending"},
            "description": {"field": "text"},
        },
    )


def unanswered_topics(groups: Sequence[UnansweredGroup]) -> Spec:
    """Bars: unanswered questions per topic, named by an example question."""
    values = [
        {
            "label": f"{rank}. {shorten(group.example, LABEL_CHARS)}",
            "count": group.count,
            "text": f"{group.count}× „{shorten(group.example, 120)}“",
        }
        for rank, group in enumerate(groups, start=1)
    ]
    return _horizontal_bars(values, title="Fragen ohne Antwort", colour=NOT_HELPFUL_COLOUR)


def chosen_entries(chosen: Sequence[ChosenEntry], none_chosen: int) -> Spec:
    """Bars: which entry customers picked after "Meinten Sie …?" (and "Keine davon")."""
    values = [
        {
            "label": entry.entry_id,
            "kind": "entry",
            "count": entry.count,
            "text": f"{entry.entry_id}: {entry.count}× gewählt",
        }
        for entry in chosen
    ]
    if none_chosen:
        values.append(
            {
                "label": "„Keine davon“",
                "kind": "none",
                "count": none_chosen,
                "text": f"„Keine davon“: {none_chosen}× gewählt",
            }
        )
    colour = {
        "field": "kind",
        "type": "nominal",
        "legend": None,
        "scale": {"domain": ["entry", "none"], "range": [ACCENT, OTHER_COLOUR]},
    }
    return _horizontal_bars(values, title="Auswahlen", colour=colour)


def _daily_line(points: list[dict[str, Any]], *, title: str, axis: Spec, colour: str) -> Spec:
    return _spec(
        width=WIDTH // 2 - 20,
        height=200,
        data={"values": points},
        encoding={
            "x": {
                "field": "day",
                "type": "temporal",
                "timeUnit": "utcyearmonthdate",
                "title": None,
                "axis": {
                    "format": _day_format(points),
                    "labelAngle": 0,
                    "grid": False,
                    "tickCount": 5,
                },
            },
            "y": {
                "field": "value",
                "type": "quantitative",
                "title": title,
                "scale": {"domain": [0, 1]},
                "axis": axis,
            },
        },
        layer=[
            {"mark": {"type": "line", "color": colour, "strokeWidth": 2, "interpolate": "linear"}},
            {
                "mark": {"type": "point", "color": colour, "filled": True, "size": 28},
                "encoding": {"description": {"field": "text"}},
            },
        ],
    )


def answered_share(days: Sequence[Day]) -> Spec:
    """Line: the share of questions answered outright, per day with questions."""
    points = [
        {
            "day": day.day,
            "value": round(share, 4),
            "text": f"{_german_day(day.day)}: {round(share * 100)} % direkt beantwortet",
        }
        for day in days
        if (share := day.answered_share) is not None
    ]
    return _daily_line(
        points,
        title="direkt beantwortet",
        axis={"format": ".0%", "tickCount": 5},
        colour=DECISION_STYLE["answer"][1],
    )


def median_confidence(days: Sequence[Day]) -> Spec:
    """Line: the median best score of each day's FAQ questions (0 to 1)."""
    points = [
        {
            "day": day.day,
            "value": round(median, 4),
            "text": f"{_german_day(day.day)}: Median " + f"{median:.2f}".replace(".", ","),
        }
        for day in days
        if (median := day.median_confidence) is not None
    ]
    return _daily_line(
        points,
        title="Median-Konfidenz",
        axis={"format": ".1f", "tickCount": 5},
        colour=ACCENT,
    )


def handoffs(counts: HandoffCounts) -> Spec:
    """Bars: open and answered handoffs to the team."""
    values = [
        {"label": "Offen", "count": counts.open, "text": f"{counts.open} offen"},
        {
            "label": "Beantwortet",
            "count": counts.answered,
            "text": f"{counts.answered} beantwortet",
        },
    ]
    colour = {
        "field": "label",
        "type": "nominal",
        "legend": None,
        "scale": {"domain": ["Offen", "Beantwortet"], "range": ["#f0a04b", HELPFUL_COLOUR]},
    }
    return _horizontal_bars(values, title="Übergaben", colour=colour)


# Drawing -------------------------------------------------------------------------------

_LABELLED_MARK = re.compile(r'<path aria-label="([^"]*)"([^>]*?)/>')
_GEOMETRY = re.compile(r' (d|transform|x|y|x1|x2|y1|y2|width|height)="([^"]*)"')
_LONG_DECIMAL = re.compile(r"(\d\.\d)\d+")
_ID = re.compile(r'\bid="([^"]+)"')
_ID_REFERENCE = re.compile(r"url\(#([^)]+)\)")


def render_svg(spec: Mapping[str, Any], *, name: str = "chart") -> str:
    """The chart as an SVG element (no XML prolog), offline, with German formats.

    ``name`` prefixes the SVG's ids (clip paths): several charts share one page.
    """
    svg = vl_convert.vegalite_to_svg(
        dict(spec),
        config=CONFIG,
        allowed_base_urls=[],
        format_locale="de-DE",
        time_format_locale="de-DE",
    )
    # Tenths of a pixel are plenty on screen and halve the daily chart's size.
    svg = _GEOMETRY.sub(
        lambda m: f' {m.group(1)}="' + _LONG_DECIMAL.sub(r"\1", m.group(2)) + '"', svg
    )
    # vl-convert numbers clip paths per process; the page needs them unique and stable.
    ids: dict[str, str] = {}
    svg = _ID.sub(lambda m: f'id="{ids.setdefault(m.group(1), f"{name}-{len(ids) + 1}")}"', svg)
    svg = _ID_REFERENCE.sub(lambda m: f"url(#{ids.get(m.group(1), m.group(1))})", svg)
    # A bar's description also as its <title>: browsers show it on hover.
    return _LABELLED_MARK.sub(r'<path aria-label="\1"\2><title>\1</title></path>', svg)
