"""The staff report's charts: Vega-Lite specs from the report model, drawn to SVG.

Each chart is a pure function from report data to a Vega-Lite spec; its
``data.values`` are exactly the numbers drawn (the tests read them). bot/chart_svg.py
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

from collections.abc import Callable, Mapping, Sequence
from typing import Any

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


def _daily_line(
    days: Sequence[Day],
    value: Callable[[Day], float | None],
    text: Callable[[float], str],
    *,
    title: str,
    axis: Spec,
    colour: str,
) -> Spec:
    """A line over the days that have a value; ``text`` is the tooltip after the day."""
    points = [
        {
            "day": day.day,
            "value": round(number, 4),
            "text": f"{_german_day(day.day)}: {text(number)}",
        }
        for day in days
        if (number := value(day)) is not None
    ]
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
    return _daily_line(
        days,
        lambda day: day.answered_share,
        lambda share: f"{round(share * 100)} % direkt beantwortet",
        title="direkt beantwortet",
        axis={"format": ".0%", "tickCount": 5},
        colour=DECISION_STYLE["answer"][1],
    )


def median_confidence(days: Sequence[Day]) -> Spec:
    """Line: the median best score of each day's FAQ questions (0 to 1)."""
    return _daily_line(
        days,
        lambda day: day.median_confidence,
        lambda median: "Median " + f"{median:.2f}".replace(".", ","),
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
