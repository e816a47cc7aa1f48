"""End to end: customers talking to the real Application over HTTP (fake Bot API)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from bot import texts as bot_texts
from bot.grouping import normalise
from bot.matcher import LexicalPass, Matcher, MatchResult
from tests.bot_runner import (
    ADMIN_ID,
    BotThread,
    copy_faq,
    running_bot,
    settings_for,
    wait_recorded,
)
from tests.conftest import (
    BOT_MENTION,
    CUSTOMER,
    THANKS,
    buttons,
    callback_answer,
    mention,
    overview,
    round_trip,
    texts,
    topic_labels,
    wait_for_edit,
)
from tests.fake_bot_api import FakeBotApi

JSON = dict[str, Any]

OTHER_CUSTOMER = 1002
CONTACT = "Rufen Sie uns an: 030 1234567."

DNSSEC_QUESTION = "Was ist DNSSEC und wozu dient es?"
DNSSEC_TITLE = f"<b>{DNSSEC_QUESTION}</b>"
SHITSTORM_QUESTION = "Wie kann ich mich auf einen Shitstorm vorbereiten?"
FEEDBACK_LABELS = ["👍 Hilfreich", "👎 Nicht hilfreich"]
EMPTY_HINT = "Ich habe darin keine Frage erkannt."
NO_ANSWER = "Dazu habe ich leider keine passende Antwort gefunden."


@pytest.fixture
def bot(fake: FakeBotApi, tmp_path: Path) -> Iterator[BotThread]:
    settings = settings_for(fake, copy_faq(tmp_path / "faq"), tmp_path / "data")
    with running_bot(settings) as running:
        yield running


# Helpers ------------------------------------------------------------------------------


def labels(message: JSON) -> list[str]:
    return [label for label, _ in buttons(message)]


def question_of(bot: BotThread, entry_id: str) -> str:
    entry = bot.holder.current.kb.get(entry_id)
    assert entry is not None, entry_id
    return entry.question


def button_label(question: str) -> str:
    """How a question looks on a button (long ones are shortened)."""
    return question if len(question) <= 60 else question[:59] + "…"


def hits(bot: BotThread) -> dict[str, int]:
    """The report's hits per entry (answered questions and choices from suggestions)."""
    return {entry.entry_id: entry.hits for entry in bot.report().entries if entry.hits}


def votes(bot: BotThread) -> dict[str, tuple[int, int]]:
    """The report's (👍, 👎) per entry that has any."""
    return {
        entry.entry_id: (entry.helpful, entry.not_helpful)
        for entry in bot.report().entries
        if entry.helpful or entry.not_helpful
    }


def ask(fake: FakeBotApi, text: str, *, user_id: int = CUSTOMER) -> JSON:
    """A customer asks in a private chat; returns the bot's (first) reply."""
    before = len(fake.sent_messages(user_id))
    fake.send_text(text, user_id=user_id)
    return fake.wait_for_messages(before + 1, chat_id=user_id)[before]


def as_telegram_message(sent: JSON) -> JSON:
    """A sent message as Telegram puts it into updates (without the fake's extras)."""
    extras = {"parse_mode", "source_text", "reply_parameters", "method", "deleted"}
    return {key: value for key, value in sent.items() if key not in extras}


def write_faq(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


# 1. Private chat --------------------------------------------------------------------------


def test_private_question_gets_the_answer_with_feedback_buttons(
    fake: FakeBotApi, bot: BotThread
) -> None:
    fake.send_text("Hallo, wie werde ich Spamkommentare los?", user_id=1001)
    [reply] = fake.wait_for_messages(1, chat_id=1001)
    assert reply["parse_mode"] == "HTML"
    assert "<b>Wie vermeide ich Kommentar-Spam in Blogs?</b>" in reply["source_text"]
    buttons = [b["callback_data"] for row in reply["reply_markup"]["inline_keyboard"] for b in row]
    assert buttons == ["f+:kommentar-spam", "f-:kommentar-spam"]


def test_private_answer_shows_bold_title_links_and_feedback(
    fake: FakeBotApi, bot: BotThread
) -> None:
    reply = ask(fake, "Was ist DNSSEC?")

    assert reply["source_text"].startswith(DNSSEC_TITLE)
    assert reply["text"].startswith(DNSSEC_QUESTION)
    assert '<a href="https://www.denic.de/wissen/dnssec/">DENIC: DNSSEC</a>' in reply["source_text"]
    assert {"type": "bold", "offset": 0, "length": len(DNSSEC_QUESTION)} in reply["entities"]
    assert any(
        e["type"] == "text_link" and e["url"] == "https://www.denic.de/wissen/dnssec/"
        for e in reply["entities"]
    )
    assert buttons(reply) == [("👍 Hilfreich", "f+:dnssec"), ("👎 Nicht hilfreich", "f-:dnssec")]


def test_private_vague_question_gets_suggestions(fake: FakeBotApi, bot: BotThread) -> None:
    reply = ask(fake, "wordpress")

    assert reply["text"] == "Meinten Sie eine dieser Fragen?"
    suggested = buttons(reply)[:-1]
    assert len(suggested) >= 2
    for label, action in suggested:
        assert action.startswith("e:")
        assert label == button_label(question_of(bot, action.removeprefix("e:")))
    assert "Wie finde ich das richtige WordPress Theme?" in labels(reply)
    assert buttons(reply)[-1] == ("Keine davon", "x")


def test_private_suggestion_click_edits_the_message_into_the_answer(
    fake: FakeBotApi, bot: BotThread
) -> None:
    suggestions = ask(fake, "wordpress")

    click = fake.click(suggestions, "e:wordpress-theme")
    answer = wait_for_edit(
        fake, suggestions, lambda m: "WordPress Theme" in m["text"], "the answer in place"
    )

    assert callback_answer(fake, click).get("text") is None  # just stops the spinner
    assert answer["source_text"].startswith("<b>Wie finde ich das richtige WordPress Theme?</b>")
    assert buttons(answer) == [
        ("👍 Hilfreich", "f+:wordpress-theme"),
        ("👎 Nicht hilfreich", "f-:wordpress-theme"),
    ]
    assert len(fake.sent_messages(CUSTOMER)) == 1
    assert hits(bot) == {"wordpress-theme": 1}  # /stats counts the entry chosen


def test_private_none_of_these_click_edits_into_the_contact_text(
    fake: FakeBotApi, bot: BotThread
) -> None:
    suggestions = ask(fake, "wordpress")

    click = fake.click(suggestions, "x")
    contact = wait_for_edit(fake, suggestions, lambda m: CONTACT in m["text"], "the contact text")

    callback_answer(fake, click)
    assert contact["text"].startswith("Schade, dass nichts Passendes dabei war.")
    assert labels(contact) == ["Alle Themen"]
    assert len(fake.sent_messages(CUSTOMER)) == 1


def test_private_unknown_topic_gets_a_friendly_reply_with_tips(
    fake: FakeBotApi, bot: BotThread
) -> None:
    reply = ask(fake, "Was ist eine Photovoltaikanlage?")

    assert reply["text"].startswith(NO_ANSWER)
    assert "mit anderen Worten" in reply["text"]
    assert "/themen" in reply["text"]
    assert CONTACT in reply["text"]
    assert labels(reply)[-1] == "Alle Themen"


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        pytest.param("<b>dnssec</b> & <script>", DNSSEC_QUESTION, id="answer"),
        pytest.param("<i>Photovoltaik</i> & <script>alert(1)</script>", NO_ANSWER, id="none"),
        pytest.param('"><a href="x">wordpress</a>', "Meinten Sie", id="suggest"),
    ],
)
def test_private_markup_in_the_question_is_never_echoed(
    fake: FakeBotApi, bot: BotThread, question: str, expected: str
) -> None:
    reply = ask(fake, question)

    assert reply["text"].startswith(expected)
    assert reply["parse_mode"] == "HTML"
    assert "<script" not in reply["source_text"]
    assert "<i>" not in reply["source_text"]
    assert 'href="x"' not in reply["source_text"]


@pytest.mark.parametrize("question", ["???", "🙂", "  …  "])
def test_private_question_without_words_gets_a_hint(
    fake: FakeBotApi, bot: BotThread, question: str
) -> None:
    reply = ask(fake, question)

    assert reply["text"].startswith(EMPTY_HINT)
    assert "Bitte schreiben Sie Ihre Frage als Text" in reply["text"]
    assert labels(reply) == ["Alle Themen"]


# 2. /start and /help ------------------------------------------------------------------------


def test_start_gives_an_overview_with_entry_and_category_counts(
    fake: FakeBotApi, bot: BotThread
) -> None:
    fake.send_command("/start", user_id=CUSTOMER)
    [welcome] = fake.wait_for_messages(1, chat_id=CUSTOMER)

    assert welcome["text"].startswith("Guten Tag!")
    assert overview(bot.holder.current.kb) in welcome["text"]
    assert "/themen" in welcome["text"]


def test_start_deep_link_opens_the_entry(fake: FakeBotApi, bot: BotThread) -> None:
    fake.send_command("/start dnssec", user_id=CUSTOMER)
    [answer] = fake.wait_for_messages(1, chat_id=CUSTOMER)

    assert answer["source_text"].startswith(DNSSEC_TITLE)
    assert labels(answer) == FEEDBACK_LABELS
    assert hits(bot) == {}  # a link opened is neither a question nor a choice from a list


def test_start_unknown_deep_link_gets_a_notice_and_the_topics(
    fake: FakeBotApi, bot: BotThread
) -> None:
    fake.send_command("/start gibt-es-nicht", user_id=CUSTOMER)
    notice, topics = fake.wait_for_messages(2, chat_id=CUSTOMER)

    assert notice["text"] == bot_texts.UNKNOWN_ENTRY
    assert topics["text"] == "Zu diesen Themen kann ich Ihnen Auskunft geben:"
    kb = bot.holder.current.kb
    actions = [action for _, action in buttons(topics)]
    assert actions == [f"c:{kb.category_id(name)}" for name in kb.categories]


@pytest.mark.parametrize("command", ["/help", "/hilfe"])
def test_help_explains_private_chats_groups_and_inline_mode(
    fake: FakeBotApi, bot: BotThread, command: str
) -> None:
    fake.send_command(command, user_id=CUSTOMER)
    [help_text] = fake.wait_for_messages(1, chat_id=CUSTOMER)

    text = help_text["text"]
    assert "Im Privatchat" in text
    assert f"In Gruppen antworte ich, wenn Sie mich mit {BOT_MENTION} erwähnen" in text
    assert "/frage" in text
    assert f"In jedem Chat: Tippen Sie {BOT_MENTION} und Ihre Frage" in text
    assert "/themen" in text


# 3. Browsing the topics ----------------------------------------------------------------------


def test_topics_browse_category_question_and_back(fake: FakeBotApi, bot: BotThread) -> None:
    kb = bot.holder.current.kb
    fake.send_command("/themen", user_id=CUSTOMER)
    [topics] = fake.wait_for_messages(1, chat_id=CUSTOMER)
    assert labels(topics) == topic_labels(kb)

    click = fake.click(topics, "c:web-technik")
    category = wait_for_edit(
        fake, topics, lambda m: m["text"].startswith("Web & Technik"), "the category"
    )
    callback_answer(fake, click)
    assert category["text"] == "Web & Technik\n\nWählen Sie eine Frage:"
    assert labels(category) == [
        *(button_label(e.question) for e in kb.in_category("Web & Technik")),
        "« Zurück zu den Themen",
    ]

    fake.click(category, "o:dnssec")
    answer = wait_for_edit(
        fake, topics, lambda m: m["text"].startswith(DNSSEC_QUESTION), "the answer"
    )
    assert answer["source_text"].startswith(DNSSEC_TITLE)
    assert buttons(answer) == [
        ("👍 Hilfreich", "f+:dnssec"),
        ("👎 Nicht hilfreich", "f-:dnssec"),
        ("« Zurück", "c:web-technik"),
    ]

    fake.click(answer, "c:web-technik")
    back = wait_for_edit(
        fake, topics, lambda m: m["text"].startswith("Web & Technik"), "back to the category"
    )
    assert labels(back) == labels(category)

    fake.click(back, "t")
    wait_for_edit(
        fake, topics, lambda m: m["text"].startswith("Zu diesen Themen"), "back to the topics"
    )

    assert len(fake.sent_messages(CUSTOMER)) == 1  # everything happened in one message
    assert hits(bot) == {}  # browsing is not asking: /stats counts no hit


# 4. Feedback ---------------------------------------------------------------------------------


def test_feedback_helpful_thanks_and_removes_the_buttons(fake: FakeBotApi, bot: BotThread) -> None:
    answer = ask(fake, "Was ist DNSSEC?")

    click = fake.click(answer, "f+:dnssec")

    assert callback_answer(fake, click)["text"] == THANKS
    without = wait_for_edit(fake, answer, lambda m: not buttons(m), "the buttons removed")
    assert without["text"] == answer["text"]
    round_trip(fake)
    assert len(fake.sent_messages(CUSTOMER)) == 1
    assert votes(bot) == {"dnssec": (1, 0)}


def test_feedback_not_helpful_offers_the_contact(fake: FakeBotApi, bot: BotThread) -> None:
    answer = ask(fake, "Was ist DNSSEC?")

    click = fake.click(answer, "f-:dnssec")

    assert callback_answer(fake, click)["text"] == THANKS
    _, sorry = fake.wait_for_messages(2, chat_id=CUSTOMER)
    assert sorry["text"].startswith("Schade, dass die Antwort nicht geholfen hat.")
    assert "/themen" in sorry["text"]
    assert sorry["text"].endswith(CONTACT)
    wait_for_edit(fake, answer, lambda m: not buttons(m), "the buttons removed")
    assert votes(bot) == {"dnssec": (0, 1)}


def test_feedback_on_a_browsed_answer_keeps_the_way_back(fake: FakeBotApi, bot: BotThread) -> None:
    fake.send_command("/themen", user_id=CUSTOMER)
    [topics] = fake.wait_for_messages(1, chat_id=CUSTOMER)
    fake.click(topics, "c:web-technik")
    category = wait_for_edit(
        fake, topics, lambda m: m["text"].startswith("Web & Technik"), "the category"
    )
    fake.click(category, "o:dnssec")
    answer = wait_for_edit(
        fake, topics, lambda m: m["text"].startswith(DNSSEC_QUESTION), "the answer"
    )

    fake.click(answer, "f+:dnssec")

    after = wait_for_edit(fake, topics, lambda m: len(buttons(m)) == 1, "feedback row removed")
    assert buttons(after) == [("« Zurück", "c:web-technik")]
    assert votes(bot) == {"dnssec": (1, 0)}


# 5. Groups -----------------------------------------------------------------------------------

GROUPS = [
    pytest.param("group", -4001, id="group"),
    pytest.param("supergroup", -1001234567890, id="supergroup"),
]


@pytest.mark.parametrize(("chat_type", "chat_id"), GROUPS)
def test_group_plain_question_is_ignored_but_a_mention_is_answered_as_reply(
    fake: FakeBotApi, bot: BotThread, chat_type: str, chat_id: int
) -> None:
    fake.send_text("Was ist DNSSEC?", chat_type=chat_type, chat_id=chat_id)
    text = f"{BOT_MENTION} was ist dnssec"
    asked = fake.send_text(
        text,
        user_id=OTHER_CUSTOMER,
        chat_type=chat_type,
        chat_id=chat_id,
        entities=mention(text),
    )

    [answer] = fake.wait_for_messages(1, chat_id=chat_id)
    round_trip(fake)

    assert len(fake.sent_messages(chat_id)) == 1
    assert answer["source_text"].startswith(DNSSEC_TITLE)
    asked_id = asked["message"]["message_id"]
    assert answer["reply_parameters"]["message_id"] == asked_id
    assert answer["reply_to_message"]["message_id"] == asked_id
    assert labels(answer) == FEEDBACK_LABELS


@pytest.mark.parametrize(("chat_type", "chat_id"), GROUPS)
def test_group_reply_to_the_bot_is_answered(
    fake: FakeBotApi, bot: BotThread, chat_type: str, chat_id: int
) -> None:
    text = f"{BOT_MENTION} was ist dnssec"
    fake.send_text(text, chat_type=chat_type, chat_id=chat_id, entities=mention(text))
    [first] = fake.wait_for_messages(1, chat_id=chat_id)

    follow_up = fake.send_text(
        "Und wie kann ich mich auf einen Shitstorm vorbereiten?",
        user_id=OTHER_CUSTOMER,
        chat_type=chat_type,
        chat_id=chat_id,
        reply_to_bot_message_id=first["message_id"],
    )

    _, answer = fake.wait_for_messages(2, chat_id=chat_id)
    assert answer["text"].startswith(SHITSTORM_QUESTION)
    assert answer["reply_parameters"]["message_id"] == follow_up["message"]["message_id"]


@pytest.mark.parametrize(("chat_type", "chat_id"), GROUPS)
@pytest.mark.parametrize("command", ["/frage", "/frage@faq_test_bot"])
def test_group_ask_command_is_answered_as_reply(
    fake: FakeBotApi, bot: BotThread, chat_type: str, chat_id: int, command: str
) -> None:
    asked = fake.send_command(
        f"{command} shitstorm vorbereiten", chat_type=chat_type, chat_id=chat_id
    )

    [answer] = fake.wait_for_messages(1, chat_id=chat_id)
    assert answer["source_text"].startswith(f"<b>{SHITSTORM_QUESTION}</b>")
    assert answer["reply_parameters"]["message_id"] == asked["message"]["message_id"]


@pytest.mark.parametrize(("chat_type", "chat_id"), GROUPS)
def test_group_sticker_is_ignored_unless_it_replies_to_the_bot(
    fake: FakeBotApi, bot: BotThread, chat_type: str, chat_id: int
) -> None:
    text = f"{BOT_MENTION} was ist dnssec"
    fake.send_text(text, chat_type=chat_type, chat_id=chat_id, entities=mention(text))
    [answer] = fake.wait_for_messages(1, chat_id=chat_id)

    fake.send_sticker(chat_type=chat_type, chat_id=chat_id, user_id=OTHER_CUSTOMER)
    sticker_reply = fake.send_sticker(
        chat_type=chat_type, chat_id=chat_id, reply_to_bot_message_id=answer["message_id"]
    )

    _, hint = fake.wait_for_messages(2, chat_id=chat_id)
    round_trip(fake)
    assert len(fake.sent_messages(chat_id)) == 2
    assert hint["text"] == bot_texts.NOT_TEXT
    assert hint["reply_parameters"]["message_id"] == sticker_reply["message"]["message_id"]


def test_group_mention_of_another_bot_with_a_longer_name_is_ignored(
    fake: FakeBotApi, bot: BotThread
) -> None:
    other = "@faq_test_bot_beta was ist dnssec"
    fake.send_text(
        other,
        chat_type="supergroup",
        entities=[{"type": "mention", "offset": 0, "length": len("@faq_test_bot_beta")}],
    )
    ours = f"{BOT_MENTION} shitstorm vorbereiten"
    fake.send_text(ours, chat_type="supergroup", entities=mention(ours))

    fake.wait_for_messages(1, chat_id=-1001234567890)
    round_trip(fake)

    assert [m["text"].split("\n")[0] for m in fake.sent_messages(-1001234567890)] == [
        SHITSTORM_QUESTION
    ]


# 6. Inline mode ------------------------------------------------------------------------------


def inline_results(fake: FakeBotApi, query: str) -> list[JSON]:
    query_id = fake.inline_query(query, user_id=CUSTOMER)["inline_query"]["id"]
    fake.wait_for(lambda api: query_id in api.inline_answers, what="the inline answer")
    results = fake.inline_answers[query_id]["results"]
    assert isinstance(results, list)
    return results


def test_inline_query_offers_the_matching_entry_first(fake: FakeBotApi, bot: BotThread) -> None:
    results = inline_results(fake, "dnssec")

    assert 1 <= len(results) <= 10
    first = results[0]
    assert first["type"] == "article"
    assert first["title"] == DNSSEC_QUESTION
    assert first["description"].startswith("DNSSEC (Domain Name System Security Extensions)")
    assert len(first["description"]) <= 120
    content = first["input_message_content"]
    assert content["parse_mode"] == "HTML"
    assert content["message_text"].startswith(DNSSEC_TITLE)
    assert '<a href="https://www.denic.de/wissen/dnssec/">' in content["message_text"]
    assert "reply_markup" not in first  # no feedback buttons in other people's chats


def test_inline_empty_query_offers_up_to_ten_entries(fake: FakeBotApi, bot: BotThread) -> None:
    results = inline_results(fake, "")

    kb = bot.holder.current.kb
    assert len(results) == 10
    assert len({r["id"] for r in results}) == 10
    assert [r["title"] for r in results] == [e.question for e in kb.entries[:10]]


# 7. Non-text messages, edits -------------------------------------------------------------------

NON_TEXT: dict[str, Callable[[FakeBotApi], JSON]] = {
    "sticker": lambda fake: fake.send_sticker(user_id=CUSTOMER),
    "photo": lambda fake: fake.send_photo(user_id=CUSTOMER),
    "photo-with-caption": lambda fake: fake.send_photo(caption="Was ist das?", user_id=CUSTOMER),
    "voice": lambda fake: fake.send_voice(user_id=CUSTOMER),
    "document": lambda fake: fake.send_document(user_id=CUSTOMER),
    "location": lambda fake: fake.send_location(user_id=CUSTOMER),
}


@pytest.mark.parametrize("kind", list(NON_TEXT))
def test_private_non_text_message_gets_the_text_only_hint(
    fake: FakeBotApi, bot: BotThread, kind: str
) -> None:
    NON_TEXT[kind](fake)

    [hint] = fake.wait_for_messages(1, chat_id=CUSTOMER)
    assert hint["text"] == bot_texts.NOT_TEXT
    assert hint["text"].startswith("Ich kann leider nur Textnachrichten beantworten.")


def test_private_edited_question_is_answered_as_corrected(fake: FakeBotApi, bot: BotThread) -> None:
    asked = fake.send_text("Was ist DNSEC?", user_id=CUSTOMER)
    fake.wait_for_messages(1, chat_id=CUSTOMER)

    fake.edit_text(asked["message"]["message_id"], "Was ist DNSSEC?", user_id=CUSTOMER)

    [_, corrected] = fake.wait_for_messages(2, chat_id=CUSTOMER)
    assert corrected["source_text"].startswith(DNSSEC_TITLE)
    assert labels(corrected) == FEEDBACK_LABELS


# 8. Long answers ---------------------------------------------------------------------------------

LONG_QUESTION = "Wie ziehe ich meine Website zu einem neuen Hoster um?"
LONG_PARAGRAPHS = [
    f"Schritt {number:02d}: Prüfen Sie Dateien & Datenbank (Größe < 2 GB) gründlich,"
    " bevor Sie die DNS-Einträge beim Registrar umstellen."
    for number in range(1, 33)
]


@pytest.fixture
def long_faq(tmp_path: Path) -> Path:
    answer = "\n\n".join(LONG_PARAGRAPHS)
    # As long as `faqbot check` allows (4,000); escaped as HTML it needs two messages.
    assert 3500 < len(answer) <= 4000
    indented = "\n".join(f"      {line}" if line else "" for line in answer.split("\n"))
    folder = tmp_path / "long-faq"
    write_faq(
        folder,
        "umzug.yaml",
        "category: Umzug\n"
        "entries:\n"
        "  - id: hoster-umzug\n"
        f'    question: "{LONG_QUESTION}"\n'
        "    alternatives:\n"
        '      - "Website umziehen"\n'
        '      - "Hosterwechsel Anleitung"\n'
        "    keywords: [Umzug, Hoster, Hosting]\n"
        "    answer: |\n"
        f"{indented}\n"
        "    links:\n"
        '      - title: "Checkliste & Vorlage"\n'
        "        url: https://example.com/umzug?liste=1&format=pdf\n"
        "  - id: kurz\n"
        '    question: "Was kostet ein Domainumzug?"\n'
        "    answer: |\n"
        "      Meist nichts.\n",
    )
    return folder


@pytest.fixture
def long_bot(fake: FakeBotApi, tmp_path: Path, long_faq: Path) -> Iterator[BotThread]:
    with running_bot(settings_for(fake, long_faq, tmp_path / "data")) as running:
        yield running


def assert_long_answer(parts: list[JSON]) -> None:
    assert len(parts) >= 2
    for part in parts:
        assert len(part["text"]) <= 4096
        assert part["parse_mode"] == "HTML"
    assert parts[0]["source_text"].startswith(f"<b>{LONG_QUESTION}</b>")
    assert all(not buttons(part) for part in parts[:-1])
    assert labels(parts[-1])[:2] == FEEDBACK_LABELS
    whole = "\n\n".join(part["text"] for part in parts)
    positions = [whole.find(paragraph) for paragraph in LONG_PARAGRAPHS]
    assert -1 not in positions, "a paragraph was lost or cut"
    assert positions == sorted(positions)
    assert parts[-1]["text"].endswith("• Checkliste & Vorlage")


def test_long_answer_arrives_in_several_messages_with_buttons_on_the_last(
    fake: FakeBotApi, long_bot: BotThread
) -> None:
    fake.send_text("Wie ziehe ich meine Website zu einem neuen Hoster um?", user_id=CUSTOMER)

    fake.wait_for(
        lambda api: any(buttons(m) for m in api.sent_messages(CUSTOMER)), what="the last part"
    )
    parts = fake.sent_messages(CUSTOMER)
    assert_long_answer(parts)
    assert labels(parts[-1]) == FEEDBACK_LABELS


def test_long_answer_opened_from_the_topics_is_sent_anew(
    fake: FakeBotApi, long_bot: BotThread
) -> None:
    fake.send_command("/themen", user_id=CUSTOMER)
    [topics] = fake.wait_for_messages(1, chat_id=CUSTOMER)
    fake.click(topics, "c:umzug")
    category = wait_for_edit(fake, topics, lambda m: m["text"].startswith("Umzug"), "category")

    fake.click(category, "o:hoster-umzug")

    fake.wait_for(
        lambda api: any(buttons(m) for m in api.sent_messages(CUSTOMER)[1:]), what="last part"
    )
    parts = fake.sent_messages(CUSTOMER)[1:]
    assert_long_answer(parts)
    assert labels(parts[-1]) == [*FEEDBACK_LABELS, "« Zurück"]


def test_long_answer_shared_inline_fits_one_message(fake: FakeBotApi, long_bot: BotThread) -> None:
    [first, *_] = inline_results(fake, "Hoster Umzug")

    assert first["title"] == LONG_QUESTION
    message_text = first["input_message_content"]["message_text"]
    assert len(message_text) <= 4096  # the fake accepted its HTML
    # Cut at a paragraph, with a deep link to the whole answer in the bot's chat.
    assert message_text.endswith("Ganze Antwort lesen</a>")
    assert "https://t.me/faq_test_bot?start=" in message_text


# 9. Admin commands -------------------------------------------------------------------------------


def test_stats_shows_the_admin_what_customers_asked(fake: FakeBotApi, bot: BotThread) -> None:
    ask(fake, "Was ist DNSSEC?")
    ask(fake, "wordpress")
    unknown = "Was ist eine <b>Photovoltaikanlage</b> & Co?"
    ask(fake, unknown, user_id=OTHER_CUSTOMER)
    wait_recorded(fake, bot, questions=3)

    fake.send_command("/stats", user_id=ADMIN_ID)

    [report] = fake.wait_for_messages(1, chat_id=ADMIN_ID)
    lines = [line for line in report["text"].split("\n") if line]
    assert lines[0] == (
        "Fragen (letzte 30 Tage): 3 · beantwortet 33 % · Vorschläge 33 % · keine Antwort 33 %"
    )
    assert lines[lines.index("Häufigste Einträge:") + 1] == "  1× dnssec"
    # The question as the report groups it: the customer's markup is gone.
    assert lines[lines.index("Unbeantwortet:") + 1] == f"  1× {normalise(unknown)}"
    assert "<b>" not in report["source_text"]
    # ANALYTICS is off in this bot: the admin learns the numbers are this run's only.
    assert lines[-1].startswith("Nur seit dem Start am ")
    assert "ANALYTICS=false" in lines[-1]


@pytest.mark.parametrize("command", ["/stats", "/reload", "/debug dnssec"])
def test_admin_command_by_a_customer_is_refused(
    fake: FakeBotApi, bot: BotThread, command: str
) -> None:
    ask(fake, "Was ist DNSSEC?")

    fake.send_command(command, user_id=OTHER_CUSTOMER)

    [refusal] = fake.wait_for_messages(1, chat_id=OTHER_CUSTOMER)
    round_trip(fake)
    assert [m["text"] for m in fake.sent_messages(OTHER_CUSTOMER)] == [
        "Dieser Befehl ist nur für Administratoren verfügbar."
    ]
    assert "Fragen (" not in refusal["text"]
    assert "decision" not in refusal["text"]
    assert "Knowledge base" not in refusal["text"]


def test_debug_shows_the_admin_the_decision_and_candidates(
    fake: FakeBotApi, bot: BotThread
) -> None:
    fake.send_command("/debug dnssec", user_id=ADMIN_ID)

    [debug] = fake.wait_for_messages(1, chat_id=ADMIN_ID)
    lines = debug["text"].split("\n\n")
    assert lines[0].startswith("decision: answer (confidence ")
    assert lines[1].endswith(" dnssec")
    assert lines[-1].startswith("words: ")
    totals = bot.report().totals
    assert totals.questions == totals.smalltalk == 0  # debugging is not a customer question


def test_reload_by_the_admin_reports_the_entries(fake: FakeBotApi, bot: BotThread) -> None:
    fake.send_command("/reload", user_id=ADMIN_ID)

    [reloaded] = fake.wait_for_messages(1, chat_id=ADMIN_ID)
    assert reloaded["text"] == f"Knowledge base reloaded: {len(bot.holder.current.kb)} entries."


# 10. Hot reload ----------------------------------------------------------------------------------

NEW_DNSSEC_QUESTION = "Was ist DNSSEC und wie schützt es meine Domain?"
SOLAR_ENTRY = """
  - id: photovoltaik
    question: "Lohnt sich eine Photovoltaikanlage auf dem Firmendach?"
    alternatives:
      - "Was ist eine Photovoltaikanlage?"
      - "Solaranlage fürs Büro"
    keywords: [Photovoltaik, Solar]
    answer: |
      Das rechnen wir gern gemeinsam mit Ihnen durch.
"""


def wait_until_served(
    fake: FakeBotApi, bot: BotThread, condition: Callable[[BotThread], bool], what: str
) -> None:
    """Staff saved a file: wait (at most 8 s) until the bot serves the new version."""
    fake.wait_for(lambda _: condition(bot), timeout=8, what=what)


def test_hot_reload_serves_edited_and_added_entries(fake: FakeBotApi, bot: BotThread) -> None:
    path = bot.settings.faq_dir / "web-technik.yaml"
    original = path.read_text(encoding="utf-8")
    assert ask(fake, "Was ist eine Photovoltaikanlage?")["text"].startswith(NO_ANSWER)

    edited = original.replace(DNSSEC_QUESTION, NEW_DNSSEC_QUESTION)
    path.write_text(edited + SOLAR_ENTRY, encoding="utf-8")
    wait_until_served(
        fake, bot, lambda b: b.holder.current.kb.get("photovoltaik") is not None, "the reload"
    )

    solar = ask(fake, "Was ist eine Photovoltaikanlage?")
    assert solar["text"].startswith("Lohnt sich eine Photovoltaikanlage auf dem Firmendach?")
    assert ask(fake, "Was ist DNSSEC?")["text"].startswith(NEW_DNSSEC_QUESTION)


def test_hot_reload_broken_file_is_reported_and_the_last_good_version_served(
    fake: FakeBotApi, bot: BotThread
) -> None:
    fake.add_chat(ADMIN_ID)
    path = bot.settings.faq_dir / "web-technik.yaml"
    original = path.read_text(encoding="utf-8")
    broken_line = original.split("\n").index(f'    question: "{DNSSEC_QUESTION}"') + 1
    # Staff dropped the quotes around a question with a colon: invalid YAML.
    broken = original.replace(f'"{DNSSEC_QUESTION}"', "Was ist DNSSEC: und wozu dient es?")

    path.write_text(broken, encoding="utf-8")

    [notice] = fake.wait_for_messages(1, chat_id=ADMIN_ID, timeout=8)
    assert "NOT reloaded" in notice["text"]
    assert (
        f"web-technik.yaml:{broken_line}: In Zeile {broken_line} steht ein Doppelpunkt"
        in (notice["text"])
    )
    assert ask(fake, "Was ist DNSSEC?")["text"].startswith(DNSSEC_QUESTION)

    path.write_text(original.replace(DNSSEC_QUESTION, NEW_DNSSEC_QUESTION), encoding="utf-8")
    wait_until_served(
        fake,
        bot,
        lambda b: question_of(b, "dnssec") == NEW_DNSSEC_QUESTION,
        "the fixed file served",
    )

    assert ask(fake, "Was ist DNSSEC?")["text"].startswith(NEW_DNSSEC_QUESTION)
    assert len(fake.sent_messages(ADMIN_ID)) == 1  # the fix needs no second notice


def test_hot_reload_removed_entry_button_shows_the_topics(fake: FakeBotApi, bot: BotThread) -> None:
    bot.holder.removal_settle = 0.5  # a removal waits for a still folder (5 s by default)
    suggestions = ask(fake, "wordpress")
    removed = bot.holder.current.kb.get("wordpress-theme")
    assert removed is not None
    before = len(bot.holder.current.kb.in_category(removed.category))
    path = bot.settings.faq_dir / "web-technik.yaml"
    original = path.read_text(encoding="utf-8")
    start = original.index("  - id: wordpress-theme")
    end = original.index("  - id: kommentar-spam")
    path.write_text(original[:start] + original[end:], encoding="utf-8")
    wait_until_served(
        fake, bot, lambda b: b.holder.current.kb.get("wordpress-theme") is None, "the removal"
    )

    click = fake.click(suggestions, "e:wordpress-theme")

    assert callback_answer(fake, click)["text"] == "Dieser Eintrag ist nicht mehr verfügbar."
    topics = wait_for_edit(fake, suggestions, lambda m: "Themen" in m["text"], "the topics")
    assert f"{removed.category} ({before - 1})" in labels(topics)
    assert labels(topics) == topic_labels(bot.holder.current.kb)


def test_hot_reload_that_removes_entries_tells_the_admins_which(
    fake: FakeBotApi, bot: BotThread
) -> None:
    bot.holder.removal_settle = 1.0
    fake.add_chat(ADMIN_ID)
    path = bot.settings.faq_dir / "web-technik.yaml"
    before = {entry.id for entry in bot.holder.current.kb}
    original = path.read_text(encoding="utf-8")
    # Cut at an entry boundary, as a non-atomic save leaves it: valid YAML, fewer entries.
    path.write_text(original[: original.index("  - id: kommentar-spam")], encoding="utf-8")

    [notice] = fake.wait_for_messages(1, chat_id=ADMIN_ID, timeout=15)

    gone = before - {entry.id for entry in bot.holder.current.kb}
    lines = str(notice["text"]).splitlines()
    [removed] = [line.removeprefix("Removed: ") for line in lines if line.startswith("Removed:")]
    assert gone and set(removed.split(", ")) == gone
    assert "Added: -" in lines


def test_hot_reload_notice_reaches_admins_after_an_unreachable_one(
    fake: FakeBotApi, tmp_path: Path
) -> None:
    never_started = 5  # in ADMIN_IDS, but never opened the bot: Telegram: chat not found
    faq_dir = copy_faq(tmp_path / "faq")
    settings = settings_for(
        fake, faq_dir, tmp_path / "data", admin_ids=frozenset({never_started, ADMIN_ID})
    )
    fake.add_chat(ADMIN_ID)
    with running_bot(settings):
        path = faq_dir / "web-technik.yaml"
        path.write_text(path.read_text(encoding="utf-8") + "  - id: [kaputt\n", encoding="utf-8")
        fake.wait_for(
            lambda api: any(
                c.params.get("chat_id") == never_started for c in api.calls_to("sendMessage")
            ),
            timeout=8,
            what="the notice to the first admin",
        )

        [notice] = fake.wait_for_messages(1, chat_id=ADMIN_ID, timeout=2)
        assert "web-technik.yaml" in notice["text"]


# 11. Robustness ----------------------------------------------------------------------------------


def test_delivery_waits_out_flood_control(fake: FakeBotApi, bot: BotThread) -> None:
    fake.fail_next("sendMessage", status=429, retry_after=1)

    reply = ask(fake, "Was ist DNSSEC?")

    assert reply["source_text"].startswith(DNSSEC_TITLE)
    refused, delivered = fake.calls_to("sendMessage")
    assert (refused.status, delivered.status) == (429, 200)
    assert delivered.time - refused.time >= 0.9  # it waited as Telegram asked
    assert len(fake.sent_messages(CUSTOMER)) == 1


def test_delivery_retries_a_bad_gateway(fake: FakeBotApi, bot: BotThread) -> None:
    fake.fail_next("sendMessage", status=502)

    reply = ask(fake, "Was ist DNSSEC?")

    assert reply["source_text"].startswith(DNSSEC_TITLE)
    assert [c.status for c in fake.calls_to("sendMessage")] == [502, 200]


def test_delivery_retries_after_a_timeout(fake: FakeBotApi, bot: BotThread) -> None:
    # PTB gives up reading after 5 s; the slow attempt may still land (Telegram is
    # at-least-once here), but the customer gets the answer without asking again.
    fake.fail_next("sendMessage", delay=6)

    reply = ask(fake, "Was ist DNSSEC?")

    assert reply["source_text"].startswith(DNSSEC_TITLE)


def test_blocked_user_is_logged_and_others_are_still_answered(
    fake: FakeBotApi, bot: BotThread, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.telegram.delivery")
    fake.block_user(CUSTOMER)

    fake.send_text("Was ist DNSSEC?", user_id=CUSTOMER)
    fake.wait_for(
        lambda api: any(c.status == 403 for c in api.calls_to("sendMessage")),
        what="the refused reply",
    )
    reply = ask(fake, "Was ist DNSSEC?", user_id=OTHER_CUSTOMER)

    assert reply["source_text"].startswith(DNSSEC_TITLE)
    assert fake.sent_messages(CUSTOMER) == []
    assert "closed to the bot" in caplog.text
    assert "blocked by the user" in caplog.text
    assert bot_texts.APOLOGY not in texts(fake, OTHER_CUSTOMER)


def test_flood_guard_warns_once_and_keeps_serving_others(fake: FakeBotApi, bot: BotThread) -> None:
    flooder = 2001
    for number in range(25):
        fake.send_text("Was ist DNSSEC?", user_id=flooder)
        if number == 12:
            fake.send_text("wordpress", user_id=OTHER_CUSTOMER)

    [other] = fake.wait_for_messages(1, chat_id=OTHER_CUSTOMER)
    fake.wait_for_messages(21, chat_id=flooder)
    round_trip(fake)

    assert other["text"] == "Meinten Sie eine dieser Fragen?"
    received = texts(fake, flooder)
    assert received.count(bot_texts.FLOOD_NOTICE) == 1
    assert bot_texts.FLOOD_NOTICE.startswith("Sie senden gerade sehr viele Nachrichten")
    assert len(received) == 21
    assert sum(text.startswith(DNSSEC_QUESTION) for text in received) == 20


class _FailingMatcher:
    """The real matcher, except that one question makes it crash."""

    def __init__(self, matcher: Matcher, trigger: str) -> None:
        self._matcher = matcher
        self._trigger = trigger

    def match(self, question: str, lexical: LexicalPass | None = None) -> MatchResult:
        if self._trigger in question:
            raise RuntimeError("matcher exploded")
        return self._matcher.match(question, lexical)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._matcher, name)


def test_handler_crash_apologises_and_the_next_question_is_answered(
    fake: FakeBotApi, bot: BotThread, caplog: pytest.LogCaptureFixture
) -> None:
    good = bot.holder.current
    failing = _FailingMatcher(good.matcher, "Absturz")
    bot.holder.current = replace(good, matcher=failing)  # type: ignore[arg-type]

    apology = ask(fake, "Absturz: Was ist DNSSEC?")
    answer = ask(fake, "Was ist DNSSEC?")

    assert apology["text"] == bot_texts.APOLOGY
    assert apology["text"].startswith("Entschuldigung, da ist etwas schiefgegangen")
    assert answer["source_text"].startswith(DNSSEC_TITLE)
    assert "matcher exploded" in caplog.text


def test_feedback_double_tap_does_not_apologise(fake: FakeBotApi, bot: BotThread) -> None:
    answer = ask(fake, "Was ist DNSSEC?")
    fake.fail_next("answerCallbackQuery", delay=0.5)  # the first tap is still in flight...

    first = fake.click(answer, "f+:dnssec")
    second = fake.click(answer, "f+:dnssec")  # ...when the second arrives

    assert callback_answer(fake, first)["text"] == THANKS
    assert callback_answer(fake, second)["text"] == THANKS
    fake.wait_for_call("editMessageReplyMarkup")
    round_trip(fake)
    assert bot_texts.APOLOGY not in texts(fake, CUSTOMER)
    assert len(fake.calls_to("editMessageReplyMarkup")) == 1  # the second tap is no new vote
    assert votes(bot) == {"dnssec": (1, 0)}


def test_button_pressed_while_the_bot_was_busy_still_navigates(
    fake: FakeBotApi, bot: BotThread
) -> None:
    fake.send_command("/themen", user_id=CUSTOMER)
    [topics] = fake.wait_for_messages(1, chat_id=CUSTOMER)
    stale = {
        "id": "stale-query",  # Telegram no longer accepts an answer to it
        "from": {"id": CUSTOMER, "is_bot": False, "first_name": "Kunde"},
        "message": as_telegram_message(topics),
        "chat_instance": f"ci{CUSTOMER}",
        "data": "c:web-technik",
    }

    fake.add_update({"callback_query": stale})

    fake.wait_for(
        lambda api: (
            "edit_date" in api.sent_messages(CUSTOMER)[0] or len(api.sent_messages(CUSTOMER)) > 1
        ),
        what="the category or an apology",
    )
    round_trip(fake)
    assert texts(fake, CUSTOMER) == ["Web & Technik\n\nWählen Sie eine Frage:"]
