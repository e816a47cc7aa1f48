"""The frame of the staff report page: styles, the copy script, the HTML skeleton, and
the small pieces every section is made of (cards, copyable YAML, German numbers).

Everything is inline (no font, script or stylesheet from anywhere else), so the page
opens offline, can be mailed, and makes no network request.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from html import escape

STYLE = """
:root { --ink: #1f2a33; --muted: #5b6772; --line: #e1e6ea; --soft: #f5f7f9;
  --accent: #2f5d8a; --good: #3f8a5c; --bad: #c9423e; --warn: #b36b00; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--soft); color: var(--ink); line-height: 1.5;
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Liberation Sans", Arial,
  sans-serif; }
header.top { background: #1f3a56; color: #fff; padding: 28px 0 24px; }
.wrap { max-width: 1080px; margin: 0 auto; padding: 0 24px; }
header.top .brand { font-size: 13px; letter-spacing: .08em; text-transform: uppercase;
  opacity: .75; }
header.top h1 { margin: 4px 0 6px; font-size: 28px; font-weight: 650; }
header.top p { margin: 0; opacity: .85; }
main.wrap { padding-top: 24px; padding-bottom: 24px; }
section.card { background: #fff; border: 1px solid var(--line); border-radius: 10px;
  padding: 22px 24px; margin: 0 0 20px; }
section.card > h2 { margin: 0 0 4px; font-size: 20px; font-weight: 650; }
section.card > p.lead { margin: 0 0 16px; color: var(--muted); }
h3 { font-size: 16px; margin: 0 0 4px; }
.tiles { display: grid; grid-template-columns: repeat(auto-fit, minmax(118px, 1fr));
  gap: 12px; margin: 0 0 20px; }
.tile { background: #fff; border: 1px solid var(--line); border-radius: 10px;
  padding: 14px 16px; border-top: 4px solid var(--tile, var(--accent)); }
.tile .value { font-size: 24px; font-weight: 650; font-variant-numeric: tabular-nums; }
.tile .name { color: var(--muted); font-size: 13px; }
.tile .share { display: block; font-weight: 600; font-size: 13px; color: var(--muted); }
.note { border-left: 4px solid var(--accent); background: #eef3f8; padding: 10px 14px;
  border-radius: 6px; margin: 0 0 20px; }
.note.warn { border-color: var(--warn); background: #fbf3e6; }
.empty { color: var(--muted); font-style: italic; margin: 8px 0 0; }
figure.chart { margin: 4px 0 12px; overflow-x: auto; }
figure.chart svg { max-width: 100%; height: auto; display: block; }
.pair { display: grid; grid-template-columns: repeat(auto-fit, minmax(320px, 1fr));
  gap: 8px 24px; }
.pair figcaption { color: var(--muted); font-size: 13px; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { text-align: left; padding: 6px 10px; border-bottom: 1px solid var(--line);
  vertical-align: top; }
th { font-size: 13px; color: var(--muted); font-weight: 600; background: var(--soft); }
td.num, th.num { text-align: right; white-space: nowrap; }
code, pre { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, "Liberation Mono",
  monospace; font-size: 13px; }
td code { color: var(--muted); font-size: 12px; margin-left: 6px; }
details { margin: 8px 0 0; }
summary { cursor: pointer; color: var(--accent); }
details table { margin-top: 8px; }
.topic { border: 1px solid var(--line); border-radius: 8px; padding: 14px 16px;
  margin: 12px 0 0; }
.topic .meta { color: var(--muted); font-size: 13px; margin: 0 0 8px; }
.topic .cols { display: grid; grid-template-columns: minmax(0, 2fr) minmax(0, 3fr);
  gap: 16px; align-items: start; }
@media (max-width: 760px) { .topic .cols { grid-template-columns: 1fr; } }
.topic ul { margin: 0; padding-left: 20px; }
.topic .cols h4 { margin: 0 0 4px; font-size: 13px; color: var(--muted); font-weight: 600; }
.draft { border: 1px solid var(--line); border-radius: 6px; overflow: hidden; }
.draft .head { display: flex; justify-content: space-between; align-items: center;
  gap: 12px; background: var(--soft); padding: 6px 10px; font-size: 13px;
  color: var(--muted); }
.draft pre { margin: 0; padding: 10px 12px; overflow-x: auto; background: #fbfcfd; }
button.copy { font: inherit; font-size: 13px; padding: 4px 12px; border-radius: 6px;
  border: 1px solid var(--accent); background: #fff; color: var(--accent); cursor: pointer; }
button.copy:hover { background: var(--accent); color: #fff; }
button.copy.done { border-color: var(--good); background: var(--good); color: #fff; }
footer { color: var(--muted); font-size: 13px; padding: 0 0 32px; }
@media print {
  body { background: #fff; } header.top { background: #fff; color: var(--ink); }
  button.copy { display: none; } section.card { break-inside: avoid; }
}
"""

# Copies a YAML draft. navigator.clipboard needs a secure context (a file:// page may
# not be one in every browser), so a hidden textarea with execCommand is the fallback.
SCRIPT = """
"use strict";
document.addEventListener("click", async (event) => {
  const button = event.target.closest("button[data-copy]");
  if (!button) return;
  const text = document.getElementById(button.dataset.copy).textContent;
  let copied = false;
  try {
    await navigator.clipboard.writeText(text);
    copied = true;
  } catch (error) {
    const area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    try { copied = document.execCommand("copy"); } catch (ignored) { copied = false; }
    area.remove();
  }
  const label = button.dataset.label || button.textContent;
  button.dataset.label = label;
  button.textContent = copied ? "Kopiert ✓" : "Bitte markieren und kopieren";
  button.classList.toggle("done", copied);
  setTimeout(() => { button.textContent = label; button.classList.remove("done"); }, 2000);
});
"""


def page(*, title: str, subtitle: str, body: str, footer: str) -> str:
    """The whole document around ``body`` (trusted HTML); title and subtitle are text."""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="de">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        # Nothing from anywhere else, not even by mistake in a later change.
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\';'
        " img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'\">\n"
        f"<title>{escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
        f'<header class="top"><div class="wrap"><div class="brand">faqbot</div>'
        f"<h1>{escape(title)}</h1><p>{escape(subtitle)}</p></div></header>\n"
        f'<main class="wrap">\n{body}\n</main>\n'
        f'<footer class="wrap">{footer}</footer>\n'
        f"<script>{SCRIPT}</script>\n</body>\n</html>\n"
    )


# Pieces of a page ---------------------------------------------------------------------


def section(title: str, lead: str, body: str) -> str:
    """A card with a heading and a lead sentence (both text) around ``body`` (HTML)."""
    lead_html = f'<p class="lead">{escape(lead)}</p>' if lead else ""
    return f'<section class="card"><h2>{escape(title)}</h2>{lead_html}{body}</section>'


def copyable(element_id: str, heading: str, text: str) -> str:
    """``text`` as a block with a "YAML kopieren" button (the SCRIPT above copies it)."""
    return (
        f'<div class="draft"><div class="head"><span>{escape(heading)}</span>'
        f'<button type="button" class="copy" data-copy="{element_id}">YAML kopieren</button>'
        f'</div><pre id="{element_id}">{escape(text)}</pre></div>'
    )


def stamp(moment: datetime) -> str:
    """When the page was made: "01.12.2026 um 10:04 UTC"."""
    moment = moment.astimezone(UTC)
    return f"{moment:%d.%m.%Y} um {moment:%H:%M} UTC"


def german_date(iso: str) -> str:
    """The date of an ISO time as "30.11.2026" (as HTML)."""
    try:
        return date.fromisoformat(iso[:10]).strftime("%d.%m.%Y")
    except ValueError:
        return escape(iso[:10])


def number(value: int) -> str:
    """A count as Germans write it: 20.028."""
    return f"{value:,}".replace(",", ".")


def decimal(value: float) -> str:
    """A score as Germans write it: 0,82."""
    return f"{value:.2f}".replace(".", ",")
