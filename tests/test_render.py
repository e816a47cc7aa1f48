"""bot.telegram.render: what a customer sees of a reply in Telegram (HTML, parts, buttons)."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

import pytest

from bot.knowledge import CATEGORY_ID_CHARS, Entry, KnowledgeBase, Link
from bot.replies import Block, Button, Reply, category_reply, entry_reply
from bot.telegram.render import MAX_BUTTON_LABEL, MAX_MESSAGE, keyboard_for, render

ALLOWED_TAGS = {"b", "a"}
ENTITY = re.compile(r"&(?:amp|lt|gt|quot|#x27);")


def reply_of(*paragraphs: str, **fields: object) -> Reply:
    """A hand-built reply of plain paragraphs."""
    blocks = tuple(Block((p,)) for p in paragraphs)
    return Reply(kind="text", blocks=blocks, **fields)  # type: ignore[arg-type]


def tags(text: str) -> set[str]:
    return set(re.findall(r"</?([a-zA-Z]+)", text))


def visible(text: str) -> str:
    """What Telegram shows for an HTML message: tags gone, entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", "", text))


def squeeze(text: str) -> str:
    return "".join(text.split())


class _Anchors(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.hrefs += [value or "" for name, value in attrs if name == "href"]


def hrefs(text: str) -> list[str]:
    parser = _Anchors()
    parser.feed(text)
    return parser.hrefs


def entities_intact(text: str) -> bool:
    """Every '&' in an HTML part starts a whole entity."""
    return all(ENTITY.match(text, match.start()) for match in re.finditer("&", text))


@pytest.fixture
def long_entry() -> Entry:
    """An entry with the longest id the loader accepts (60 characters)."""
    return Entry(
        id="a" + "-b" * 29 + "c",
        category="Web & Technik",
        question="Wie lang darf eine Frage sein, bevor der Knopf zu breit wird?" * 2,
        answer="Kurz.",
    )


# Escaping -------------------------------------------------------------------------------

UNSAFE_TEXTS = [
    ("<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"),
    ("Preise & Leistungen", "Preise &amp; Leistungen"),
    ('Tarif "Pro" <b>fett</b>', "Tarif &quot;Pro&quot; &lt;b&gt;fett&lt;/b&gt;"),
    ("Kunden's Wahl > alles", "Kunden&#x27;s Wahl &gt; alles"),
    ("&amp; bleibt sichtbar", "&amp;amp; bleibt sichtbar"),
]


@pytest.mark.parametrize(("raw", "escaped"), UNSAFE_TEXTS)
def test_render_escapes_knowledge_base_text_in_every_place(raw: str, escaped: str) -> None:
    reply = Reply(
        kind="answer",
        title=raw,
        blocks=(Block((raw,)), Block((raw, raw), bullets=True)),
        links=(Link(raw, "https://example.com/"),),
    )
    [message] = render(reply)
    assert f"<b>{escaped}</b>" in message.html
    assert f"\n\n{escaped}\n\n" in message.html
    assert f"• {escaped}\n• {escaped}" in message.html
    assert f">{escaped}</a>" in message.html
    assert tags(message.html) <= ALLOWED_TAGS
    assert visible(message.html).count(raw) == 5


@pytest.mark.parametrize("raw", [raw for raw, _ in UNSAFE_TEXTS])
def test_render_plain_twin_shows_text_as_written(raw: str) -> None:
    [message] = render(reply_of(raw, title=raw))
    assert message.plain == f"{raw}\n\n{raw}"


# Links and bullets ------------------------------------------------------------------------

LINKS = [
    ("Google Alerts", "https://www.google.com/alerts"),
    ("Preise & Leistungen", "https://example.com/preise?tarif=pro&jahr=2024"),
    ('Hilfe "FAQ"', 'https://example.com/suche?q="dns"&x=<1>'),
]


@pytest.mark.parametrize(("title", "url"), LINKS)
def test_render_link_becomes_anchor_with_escaped_url(title: str, url: str) -> None:
    [message] = render(reply_of("Antwort.", links=(Link(title, url),)))
    expected = f'• <a href="{html.escape(url)}">{html.escape(title)}</a>'
    assert message.html.endswith("Mehr dazu:\n" + expected)
    assert hrefs(message.html) == [url]
    assert tags(message.html) == {"a"}


def test_render_links_keep_their_order() -> None:
    links = tuple(Link(title, url) for title, url in LINKS)
    [message] = render(reply_of("Antwort.", links=links))
    assert hrefs(message.html) == [url for _, url in LINKS]


def test_render_bullets_become_bullet_points() -> None:
    reply = Reply(
        kind="answer",
        blocks=(Block(("Das hilft:",)), Block(("Updates", "Backups", "Captcha"), bullets=True)),
    )
    [message] = render(reply)
    assert message.html == "Das hilft:\n\n• Updates\n• Backups\n• Captcha"
    assert message.plain == message.html


def test_render_title_is_bold_above_the_answer() -> None:
    [message] = render(reply_of("Eine Antwort.", title="Eine Frage?"))
    assert message.html == "<b>Eine Frage?</b>\n\nEine Antwort."


# Plain twin -------------------------------------------------------------------------------


def test_render_plain_twin_has_no_tags_but_the_addresses() -> None:
    reply = Reply(
        kind="answer",
        title="Was ist DNSSEC?",
        blocks=(Block(("Signierte <Antworten>.",)), Block(("eins", "zwei"), bullets=True)),
        links=(Link("DENIC", "https://www.denic.de/"),),
    )
    [message] = render(reply)
    assert "<b>" not in message.plain
    assert "<a" not in message.plain
    assert "&lt;" not in message.plain
    assert "Signierte <Antworten>." in message.plain
    assert "• DENIC: https://www.denic.de/" in message.plain
    assert message.plain.startswith("Was ist DNSSEC?")


# Splitting --------------------------------------------------------------------------------


def paragraphs(count: int, size: int) -> list[str]:
    """Distinct paragraphs of about ``size`` characters, with '&' to be escaped."""
    texts = []
    for number in range(count):
        words = f"Absatz{number:02d} Preise & Leistungen"
        texts.append((words + " ") * (size // (len(words) + 1)))
    return [text.strip() for text in texts]


@pytest.fixture
def long_reply() -> Reply:
    """About 10,000 characters in 20 paragraphs, with buttons."""
    return Reply(
        kind="answer",
        title="Eine sehr lange Antwort",
        blocks=tuple(Block((text,)) for text in paragraphs(20, 500)),
        buttons=(Button("👍 Hilfreich", "f+:lang"), Button("👎 Nicht hilfreich", "f-:lang")),
    )


def test_render_long_reply_splits_into_parts_that_fit(long_reply: Reply) -> None:
    messages = render(long_reply)
    assert len(messages) >= 3
    assert all(len(message.html) <= MAX_MESSAGE for message in messages)
    assert all(len(message.plain) <= MAX_MESSAGE for message in messages)


def test_render_long_reply_splits_at_paragraph_boundaries(long_reply: Reply) -> None:
    messages = render(long_reply)
    for text in paragraphs(20, 500):
        holders = [m for m in messages if html.escape(text) in m.html]
        assert len(holders) == 1, text[:20]
    assert messages[0].html.startswith("<b>Eine sehr lange Antwort</b>\n\n")


def test_render_long_reply_keeps_the_text_in_order(long_reply: Reply) -> None:
    messages = render(long_reply)
    expected = "Eine sehr lange Antwort" + "".join(paragraphs(20, 500))
    assert squeeze("".join(visible(m.html) for m in messages)) == squeeze(expected)
    assert squeeze("".join(m.plain for m in messages)) == squeeze(expected)


def test_render_long_reply_puts_buttons_on_the_last_part_only(long_reply: Reply) -> None:
    messages = render(long_reply)
    assert [m.keyboard is not None for m in messages] == [False] * (len(messages) - 1) + [True]


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(("Wort & Wert " * 750).strip(), id="words"),
        pytest.param("x&" * 4500, id="no-spaces"),
        pytest.param("Kurz&" + "y" * 9000, id="one-long-word"),
    ],
)
def test_render_single_huge_paragraph_splits_outside_entities(text: str) -> None:
    messages = render(reply_of(text))
    assert len(messages) >= 2
    assert all(len(m.html) <= MAX_MESSAGE for m in messages)
    assert all(entities_intact(m.html) for m in messages)
    assert squeeze("".join(visible(m.html) for m in messages)) == squeeze(text)
    assert squeeze("".join(m.plain for m in messages)) == squeeze(text)


def test_render_single_huge_paragraph_splits_at_spaces() -> None:
    words = [f"wort{number}" for number in range(1500)]
    messages = render(reply_of(" ".join(words)))
    assert len(messages) >= 2
    for message in messages:
        assert set(message.plain.split()) <= set(words)  # no word was cut in two


def test_render_plain_twin_matches_its_html_part() -> None:
    # 2,000 characters plain each; escaping '&' makes the first two too long for one part
    # in HTML only, so HTML packs [a] [b c] while plain packs [a b] [c].
    first = "&" * 200 + "a" * 1800
    second = "b" * 2000
    third = "c" * 2000
    messages = render(reply_of(first, second, third))
    assert len(messages) == 2
    for message in messages:
        assert squeeze(message.plain) == squeeze(visible(message.html))


def test_render_every_shipped_answer_fits(shipped_kb: KnowledgeBase) -> None:
    for entry in shipped_kb:
        for message in render(entry_reply(entry)):
            assert 0 < len(message.html) <= MAX_MESSAGE
            assert tags(message.html) <= ALLOWED_TAGS


# Keyboards --------------------------------------------------------------------------------


def button_rows(markup: object) -> list[list[str]]:
    assert markup is not None
    return [[key.text for key in row] for row in markup.inline_keyboard]  # type: ignore[attr-defined]


def test_keyboard_for_feedback_buttons_share_one_row(long_entry: Entry) -> None:
    rows = button_rows(keyboard_for(entry_reply(long_entry, back_to="web-technik")))
    assert rows == [["👍 Hilfreich", "👎 Nicht hilfreich"], ["« Zurück"]]


def test_keyboard_for_other_buttons_one_per_row() -> None:
    reply = Reply(
        kind="suggest",
        blocks=(Block(("Meinten Sie eine dieser Fragen?",)),),
        buttons=(
            Button("Was ist DNSSEC?", "e:dnssec"),
            Button("Was ist ein Corporate Blog?", "e:corporate-blog"),
            Button("Keine davon", "x"),
        ),
    )
    rows = button_rows(keyboard_for(reply))
    assert rows == [["Was ist DNSSEC?"], ["Was ist ein Corporate Blog?"], ["Keine davon"]]


def test_keyboard_for_reply_without_buttons_is_none() -> None:
    assert keyboard_for(reply_of("Hallo")) is None


@pytest.mark.parametrize(
    ("label", "shown"),
    [
        ("Kurz", "Kurz"),
        ("x" * MAX_BUTTON_LABEL, "x" * MAX_BUTTON_LABEL),
        ("y" * (MAX_BUTTON_LABEL + 1), "y" * (MAX_BUTTON_LABEL - 1) + "…"),
        ("Wie " * 40, ("Wie " * 40)[: MAX_BUTTON_LABEL - 1] + "…"),
    ],
)
def test_keyboard_for_long_labels_are_shortened(label: str, shown: str) -> None:
    reply = Reply(kind="suggest", blocks=(), buttons=(Button(label, "e:x"),))
    assert button_rows(keyboard_for(reply)) == [[shown]]
    assert len(shown) <= MAX_BUTTON_LABEL


@pytest.mark.parametrize(
    "build",
    [
        pytest.param(lambda entry: entry_reply(entry), id="answer"),
        pytest.param(
            lambda entry: entry_reply(entry, back_to="x" * CATEGORY_ID_CHARS), id="answer-browsed"
        ),
        pytest.param(
            lambda entry: category_reply(KnowledgeBase((entry,)), entry.category),
            id="category-list",
        ),
    ],
)
def test_keyboard_for_callback_data_fits_telegram_limit(build: object, long_entry: Entry) -> None:
    assert len(long_entry.id) == 60
    reply = build(long_entry)  # type: ignore[operator]
    markup = keyboard_for(reply)
    assert markup is not None
    data = [key.callback_data for row in markup.inline_keyboard for key in row]
    assert data
    assert all(len(str(item).encode()) <= 64 for item in data)
    assert any(long_entry.id in str(item) for item in data)
