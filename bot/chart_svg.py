"""Drawing the report's Vega-Lite charts (bot/charts.py) to SVG with vl-convert.

Offline (no URL may load), German number and date formats, ids unique per chart, and
each bar's description as its hover title; see bot/charts.py for why build-time SVG.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import vl_convert

# Arial's metrics (Liberation Sans is metric-compatible): vl-convert lays labels out with
# the fonts of the machine that builds the page, the browser draws them with its own.
FONT = "'Liberation Sans', Arial, Helvetica, sans-serif"
CONFIG: dict[str, Any] = {
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
