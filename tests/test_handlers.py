"""bot.telegram.handlers in process: updates in, the Bot API calls the bot makes out.

The real Application as ``faqbot run`` wires it, talking HTTP to the fake Bot API on
127.0.0.1 (tests/fake_bot_api.py). It handles the queued updates one step at a time
(tests/bot_runner.py's SteppedBot), so each test sees exactly what the bot sent to
Telegram for them: the raw parameters, before the fake parses any HTML.
"""

from __future__ import annotations

import html
import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from telegram import Chat, Message, MessageEntity, User

from bot import texts as bot_texts
from bot.grouping import normalise
from bot.knowledge import Entry
from bot.memory_store import MemoryStore
from bot.reloader import KnowledgeBaseHolder
from bot.telegram import handlers, inline
from tests.bot_runner import ADMIN_ID, SteppedBot, settings_for, stepped_bot
from tests.conftest import FAQ_DIR, overview, topic_labels
from tests.fake_bot_api import Call, FakeBotApi

JSON = dict[str, Any]

BOT_ID = 4242  # who the fake Bot API says the bot is
BOT_USERNAME = "faq_test_bot"
CUSTOMER_ID = 1001
GROUP_ID = -100123
CONTACT = "Rufen Sie uns an: 030 1234567."  # as settings_for() configures the bot

ANSWERED = "Hallo, wie werde ich Spamkommentare los?"
SUGGESTED = "WordPress"
UNANSWERED = "Wie backe ich einen Apfelkuchen?"


@dataclass
class Conversation:
    """What the bot sent to Telegram in one step, and what it recorded so far."""

    made: list[Call]
    recorder: MemoryStore

    def hits(self) -> list[tuple[str, int]]:
        return [(entry.entry_id, entry.hits) for entry in self.recorder.report().entries]

    def ratings(self, entry_id: str) -> tuple[int, int]:
        [rated] = [e for e in self.recorder.report().entries if e.entry_id == entry_id]
        return rated.helpful, rated.not_helpful

    def calls(self, method: str) -> list[dict[str, Any]]:
        return [call.params for call in self.made if call.method == method]

    @property
    def sent(self) -> list[dict[str, Any]]:
        return self.calls("sendMessage")

    @property
    def texts(self) -> list[str]:
        return [str(params["text"]) for params in self.sent]


Talk = Callable[..., Conversation]


@pytest.fixture(scope="module")
def holder() -> KnowledgeBaseHolder:
    return KnowledgeBaseHolder(FAQ_DIR)


@pytest.fixture
def bot(fake: FakeBotApi, tmp_path: Path, holder: KnowledgeBaseHolder) -> Iterator[SteppedBot]:
    settings = settings_for(fake, FAQ_DIR, tmp_path / "data")
    with stepped_bot(fake, settings, holder) as stepped:
        yield stepped


@pytest.fixture
def talk(fake: FakeBotApi, bot: SteppedBot) -> Talk:
    """Queue ``updates`` (those the fake queued itself are not queued twice), let the bot
    handle everything queued, and return what it sent for it."""

    def run(*updates: JSON) -> Conversation:
        pending = {update["update_id"] for update in fake.pending_updates}
        for update in updates:
            if update.get("update_id") not in pending:
                fake.add_update(update)
        conversation = Conversation(bot.step(), bot.recorder)
        assert bot.errors == []
        assert [call for call in conversation.made if not call.ok] == []
        return conversation

    return run


def entry(holder: KnowledgeBaseHolder, entry_id: str) -> Entry:
    found = holder.current.kb.get(entry_id)
    assert found is not None, entry_id
    return found


def title(holder: KnowledgeBaseHolder, entry_id: str) -> str:
    """How an answer starts: its question in bold."""
    return f"<b>{html.escape(entry(holder, entry_id).question)}</b>"


def back_row(holder: KnowledgeBaseHolder, entry_id: str) -> list[tuple[str, str]]:
    """The button back to the topic an entry was opened from."""
    category = entry(holder, entry_id).category
    return [("« Zurück", f"c:{holder.current.kb.category_id(category)}")]


def on_screen(fake: FakeBotApi, chat_id: int = CUSTOMER_ID) -> JSON:
    """The bot's latest message in the chat as the customer sees it (edits included)."""
    return fake.sent_messages(chat_id)[-1]


# Updates as Telegram sends them -------------------------------------------------------------


def user(user_id: int = CUSTOMER_ID) -> dict[str, Any]:
    return {"id": user_id, "is_bot": False, "first_name": "Anna", "language_code": "de"}


def private_chat(user_id: int = CUSTOMER_ID) -> dict[str, Any]:
    return {"id": user_id, "type": "private", "first_name": "Anna"}


GROUP_CHAT = {"id": GROUP_ID, "type": "supergroup", "title": "Kundenforum"}


# Customers' message ids, apart from the ids the fake gives the bot's messages (from 1).
_message_ids = itertools.count(1000)


def message_update(
    text: str,
    *,
    chat: dict[str, Any] | None = None,
    sender: int = CUSTOMER_ID,
    message_id: int | None = None,
    entities: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A text message as Telegram delivers it (the fake numbers the update)."""
    message: dict[str, Any] = {
        "message_id": next(_message_ids) if message_id is None else message_id,
        "date": 1_700_000_000,
        "chat": chat or private_chat(sender),
        "from": user(sender),
        "text": text,
    }
    if entities is None and text.startswith("/"):
        entities = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
    if entities:
        message["entities"] = entities
    return {"message": message}


def mention(text: str, name: str = f"@{BOT_USERNAME}") -> list[dict[str, Any]]:
    """The mention entity Telegram adds for @name in text (ASCII text only)."""
    return [{"type": "mention", "offset": text.index(name), "length": len(name)}]


def buttons(params: dict[str, Any]) -> list[list[tuple[str, str]]]:
    """The inline keyboard the bot asked for, row by row: (label, callback data)."""
    markup = params.get("reply_markup")
    if not markup:
        return []
    return [
        [(key["text"], key["callback_data"]) for key in row] for row in markup["inline_keyboard"]
    ]


# Private chats -------------------------------------------------------------------------------


def test_start_up_asks_telegram_who_the_bot_is(fake: FakeBotApi, talk: Talk) -> None:
    # The fake answers only requests with the bot's token (401 otherwise).
    assert [call.method for call in fake.calls][:1] == ["getMe"]
    assert all(call.ok for call in fake.calls)
    [menu] = fake.calls_to("setMyCommands")
    commands = [(item["command"], item["description"]) for item in menu.params["commands"]]
    assert commands == list(bot_texts.COMMAND_MENU)
    assert talk().made == []  # nothing more until a customer writes


def test_private_question_gets_the_answer(talk: Talk, holder: KnowledgeBaseHolder) -> None:
    conversation = talk(message_update(ANSWERED))
    [reply] = conversation.sent
    assert reply["chat_id"] == CUSTOMER_ID
    assert reply["parse_mode"] == "HTML"
    assert reply["text"].startswith(title(holder, "kommentar-spam") + "\n\n")
    assert buttons(reply) == [
        [("👍 Hilfreich", "f+:kommentar-spam"), ("👎 Nicht hilfreich", "f-:kommentar-spam")]
    ]
    assert "reply_parameters" not in reply
    report = conversation.recorder.report()
    assert (report.totals.questions, report.totals.answered) == (1, 1)
    assert conversation.hits() == [("kommentar-spam", 1)]


def test_private_vague_question_gets_suggestions(talk: Talk) -> None:
    conversation = talk(message_update(SUGGESTED))
    [reply] = conversation.sent
    assert reply["text"] == "Meinten Sie eine dieser Fragen?"
    rows = buttons(reply)
    actions = [data for row in rows for _, data in row]
    assert {"e:wordpress-installieren", "e:wordpress-theme"} <= set(actions)
    assert rows[-1] == [("Keine davon", "x")]
    assert all(len(row) == 1 for row in rows)


def test_private_unanswerable_question_offers_contact(talk: Talk) -> None:
    conversation = talk(message_update(UNANSWERED))
    [reply] = conversation.sent
    assert "keine passende Antwort" in reply["text"]
    assert CONTACT in reply["text"]
    assert buttons(reply)[-1] == [("Alle Themen", "t")]
    [unanswered] = conversation.recorder.report().unanswered_groups
    assert (unanswered.count, unanswered.example) == (1, UNANSWERED)


def test_private_answer_links_are_clickable(talk: Talk, holder: KnowledgeBaseHolder) -> None:
    blog = entry(holder, "corporate-blog")
    assert blog.links, "the test needs an entry with links"
    conversation = talk(message_update(blog.question))
    [reply] = conversation.sent
    assert reply["text"].endswith(
        "Mehr dazu:\n"
        + "\n".join(
            f'• <a href="{html.escape(link.url)}">{html.escape(link.title)}</a>'
            for link in blog.links
        )
    )


def test_private_edited_question_is_answered_again(talk: Talk, holder: KnowledgeBaseHolder) -> None:
    edited = message_update(ANSWERED)
    edited["edited_message"] = edited.pop("message")
    edited["edited_message"]["edit_date"] = 1_700_000_100
    conversation = talk(edited)
    [reply] = conversation.sent
    assert reply["text"].startswith(title(holder, "kommentar-spam"))


def test_start_welcomes_with_the_categories(talk: Talk, holder: KnowledgeBaseHolder) -> None:
    [reply] = talk(message_update("/start")).sent
    assert reply["text"].startswith("Guten Tag!")
    assert html.escape(overview(holder.current.kb)) in reply["text"]


@pytest.mark.parametrize(
    ("command", "opened", "count"),
    [
        ("/start dnssec", "dnssec", 1),
        ("/start DNSSEC", "dnssec", 1),
        ("/start gibt-es-nicht", None, 2),
    ],
)
def test_start_deep_link_opens_the_entry(
    command: str, opened: str | None, count: int, talk: Talk, holder: KnowledgeBaseHolder
) -> None:
    conversation = talk(message_update(command))
    assert len(conversation.sent) == count
    first_text = bot_texts.UNKNOWN_ENTRY if opened is None else title(holder, opened)
    assert conversation.texts[0].startswith(first_text)


def test_topics_lists_every_category(talk: Talk, holder: KnowledgeBaseHolder) -> None:
    [reply] = talk(message_update("/themen")).sent
    assert [label for row in buttons(reply) for label, _ in row] == topic_labels(holder.current.kb)


def test_help_names_the_bot(talk: Talk) -> None:
    [reply] = talk(message_update("/help")).sent
    assert f"@{BOT_USERNAME}" in reply["text"]


def test_sticker_gets_a_text_only_notice(talk: Talk) -> None:
    update = message_update("x")
    del update["message"]["text"]
    update["message"]["sticker"] = {
        "file_id": "s1",
        "file_unique_id": "u1",
        "type": "regular",
        "width": 512,
        "height": 512,
        "is_animated": False,
        "is_video": False,
    }
    [reply] = talk(update).sent
    assert reply["text"] == bot_texts.NOT_TEXT


def test_flooding_customer_gets_one_notice_then_silence(talk: Talk) -> None:
    conversation = talk(*(message_update("dnssec") for _ in range(25)))
    assert len(conversation.sent) == 21
    assert conversation.texts[20] == bot_texts.FLOOD_NOTICE


# Groups --------------------------------------------------------------------------------------


def test_group_message_without_mention_is_ignored(talk: Talk) -> None:
    conversation = talk(message_update(ANSWERED, chat=GROUP_CHAT))
    assert conversation.sent == []
    assert conversation.recorder.report().totals.questions == 0


def test_group_mention_answers_quoting_the_asker(talk: Talk, holder: KnowledgeBaseHolder) -> None:
    text = f"@{BOT_USERNAME} {ANSWERED}"
    conversation = talk(
        message_update(text, chat=GROUP_CHAT, message_id=321, entities=mention(text))
    )
    [reply] = conversation.sent
    assert reply["chat_id"] == GROUP_ID
    assert reply["text"].startswith(title(holder, "kommentar-spam"))
    assert reply["reply_parameters"] == {"message_id": 321, "allow_sending_without_reply": True}


def test_group_reply_to_the_bot_is_answered(
    fake: FakeBotApi, talk: Talk, holder: KnowledgeBaseHolder
) -> None:
    text = f"@{BOT_USERNAME} {SUGGESTED}"
    talk(message_update(text, chat=GROUP_CHAT, entities=mention(text)))
    bots_message = on_screen(fake, GROUP_ID)
    question = fake.send_text(
        "dnssec",
        chat_id=GROUP_ID,
        chat_type=str(GROUP_CHAT["type"]),
        reply_to_bot_message_id=bots_message["message_id"],
    )
    [reply] = talk(question).sent
    assert reply["text"].startswith(title(holder, "dnssec"))
    assert reply["reply_parameters"]["message_id"] == question["message"]["message_id"]


def test_group_ask_command_is_answered(talk: Talk, holder: KnowledgeBaseHolder) -> None:
    conversation = talk(message_update(f"/frage@{BOT_USERNAME} dnssec", chat=GROUP_CHAT))
    [reply] = conversation.sent
    assert reply["text"].startswith(title(holder, "dnssec"))


def test_group_sticker_not_for_the_bot_is_ignored(talk: Talk) -> None:
    update = message_update("x", chat=GROUP_CHAT)
    del update["message"]["text"]
    update["message"]["location"] = {"latitude": 52.5, "longitude": 13.4}
    assert talk(update).sent == []


# Admin commands ------------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["/stats", "/reload", "/debug dnssec"])
def test_admin_command_from_a_customer_is_refused(command: str, talk: Talk) -> None:
    [reply] = talk(message_update(command)).sent
    assert reply["text"] == bot_texts.ADMIN_ONLY


def test_stats_for_an_admin_reports_in_german(talk: Talk) -> None:
    talk(message_update(ANSWERED), message_update(UNANSWERED))
    # A step of its own: replies to different chats may reach Telegram in any order.
    conversation = talk(message_update("/stats", sender=ADMIN_ID))
    [reply] = conversation.sent
    report = reply["text"]
    assert reply["chat_id"] == ADMIN_ID
    assert report.startswith("Fragen (letzte 30 Tage): 2 · beantwortet 50 %")
    assert "1× kommentar-spam" in report
    assert f"1× {normalise(UNANSWERED)}" in report


def test_debug_for_an_admin_shows_the_decision(talk: Talk) -> None:
    [reply] = talk(message_update("/debug dnssec", sender=ADMIN_ID)).sent
    assert reply["text"].startswith("decision: answer")
    assert "dnssec" in reply["text"]


# Buttons -------------------------------------------------------------------------------------


def test_button_suggestion_opens_the_entry_in_place(
    fake: FakeBotApi, talk: Talk, holder: KnowledgeBaseHolder
) -> None:
    talk(message_update(SUGGESTED))
    suggestions = on_screen(fake)
    fake.press(suggestions, "e:dnssec")
    conversation = talk()
    [edit] = conversation.calls("editMessageText")
    assert edit["message_id"] == suggestions["message_id"]
    assert edit["text"].startswith(title(holder, "dnssec"))
    assert len(conversation.calls("answerCallbackQuery")) == 1
    assert conversation.hits() == [("dnssec", 1)]


def test_button_browsed_entry_has_a_way_back(
    fake: FakeBotApi, talk: Talk, holder: KnowledgeBaseHolder
) -> None:
    talk(message_update("/themen"))
    fake.press(on_screen(fake), "o:dnssec")
    [edit] = talk().calls("editMessageText")
    assert edit["text"].startswith(title(holder, "dnssec"))
    assert buttons(edit)[-1] == back_row(holder, "dnssec")


@pytest.mark.parametrize("data", ["e:gibt-es-nicht", "t"])
def test_button_gone_entry_or_topics_shows_the_topics(
    data: str, fake: FakeBotApi, talk: Talk, holder: KnowledgeBaseHolder
) -> None:
    talk(message_update(SUGGESTED))
    fake.press(on_screen(fake), data)
    [edit] = talk().calls("editMessageText")
    assert edit["text"] == "Zu diesen Themen kann ich Ihnen Auskunft geben:"
    assert [label for row in buttons(edit) for label, _ in row] == topic_labels(holder.current.kb)


# "c:3": a button from before categories had ids; "c:agentur": a category since removed.
@pytest.mark.parametrize("data", ["c:3", "c:agentur"])
def test_button_stale_category_says_so_with_fresh_topics(
    data: str, fake: FakeBotApi, talk: Talk, holder: KnowledgeBaseHolder
) -> None:
    talk(message_update("/themen"))
    fake.press(on_screen(fake), data)
    [edit] = talk().calls("editMessageText")
    assert edit["text"] == (
        "Dieses Menü ist nicht mehr aktuell. Hier ist die aktuelle Übersicht.\n\n"
        "Zu diesen Themen kann ich Ihnen Auskunft geben:"
    )
    assert [label for row in buttons(edit) for label, _ in row] == topic_labels(holder.current.kb)


def test_button_none_of_these_offers_contact(fake: FakeBotApi, talk: Talk) -> None:
    talk(message_update(SUGGESTED))
    fake.click(on_screen(fake), "x")
    [edit] = talk().calls("editMessageText")
    assert CONTACT in edit["text"]


FEEDBACK_ROW = [("👍 Hilfreich", "f+:dnssec"), ("👎 Nicht hilfreich", "f-:dnssec")]


def answer_on_screen(
    fake: FakeBotApi, talk: Talk, holder: KnowledgeBaseHolder, *, browsed: bool
) -> JSON:
    """The DNSSEC answer as the customer sees it: asked for, or opened from its topic."""
    if browsed:
        talk(message_update("/themen"))
        [(_, topic)] = back_row(holder, "dnssec")
        fake.click(on_screen(fake), topic)
        talk()
        fake.click(on_screen(fake), "o:dnssec")
        talk()
    else:
        talk(message_update("/start dnssec"))
    return on_screen(fake)


@pytest.mark.parametrize("browsed", [False, True], ids=["asked", "browsed"])
def test_button_feedback_thanks_and_drops_the_feedback_buttons(
    browsed: bool, fake: FakeBotApi, talk: Talk, holder: KnowledgeBaseHolder
) -> None:
    answer = answer_on_screen(fake, talk, holder, browsed=browsed)
    left = [back_row(holder, "dnssec")] if browsed else []
    assert buttons(answer) == [FEEDBACK_ROW, *left]
    fake.click(answer, "f+:dnssec")
    conversation = talk()
    [thanks] = conversation.calls("answerCallbackQuery")
    assert thanks["text"] == "Danke für Ihr Feedback!"
    [edit] = conversation.calls("editMessageReplyMarkup")
    assert buttons(edit) == left
    assert conversation.sent == []
    assert conversation.ratings("dnssec") == (1, 0)


def test_button_unhelpful_feedback_offers_contact(
    fake: FakeBotApi, talk: Talk, holder: KnowledgeBaseHolder
) -> None:
    fake.click(answer_on_screen(fake, talk, holder, browsed=False), "f-:dnssec")
    conversation = talk()
    [reply] = conversation.sent
    assert CONTACT in reply["text"]
    assert conversation.ratings("dnssec") == (0, 1)


# Inline mode ---------------------------------------------------------------------------------


def test_inline_query_offers_matching_answers_to_post(
    fake: FakeBotApi, talk: Talk, holder: KnowledgeBaseHolder
) -> None:
    [answer] = talk(fake.inline_query("dnssec")).calls("answerInlineQuery")
    first = answer["results"][0]
    assert first["id"] == "dnssec"
    assert first["title"] == entry(holder, "dnssec").question
    content = first["input_message_content"]
    assert content["parse_mode"] == "HTML"
    assert content["message_text"].startswith(title(holder, "dnssec"))
    assert len(answer["results"]) <= inline.INLINE_RESULTS


def test_inline_query_empty_lists_the_first_entries(fake: FakeBotApi, talk: Talk) -> None:
    [answer] = talk(fake.inline_query("")).calls("answerInlineQuery")
    assert len(answer["results"]) == inline.INLINE_RESULTS
    assert all(
        len(result["description"]) <= inline.INLINE_DESCRIPTION for result in answer["results"]
    )


# addressed_question ----------------------------------------------------------------------------

BOT = User(BOT_ID, "FAQ", is_bot=True, username=BOT_USERNAME)
OTHER_BOT = User(999, "Other", is_bot=True, username="other_bot")


def group_message(
    text: str,
    entities: tuple[MessageEntity, ...] = (),
    reply_to: Message | None = None,
) -> Message:
    chat = Chat(GROUP_ID, Chat.SUPERGROUP)
    return Message(
        10,
        datetime(2024, 1, 1, tzinfo=UTC),
        chat,
        from_user=User(CUSTOMER_ID, "Anna", is_bot=False),
        text=text,
        entities=entities,
        reply_to_message=reply_to,
    )


def mention_entity(text: str, name: str) -> tuple[MessageEntity, ...]:
    return (MessageEntity(MessageEntity.MENTION, text.index(name), len(name)),)


def reply_from(author: User) -> Message:
    return Message(
        9, datetime(2024, 1, 1, tzinfo=UTC), Chat(GROUP_ID, Chat.SUPERGROUP), from_user=author
    )


ADDRESSED = [
    pytest.param(
        group_message(
            "@faq_test_bot Was ist DNSSEC?",
            mention_entity("@faq_test_bot Was ist DNSSEC?", "@faq_test_bot"),
        ),
        "Was ist DNSSEC?",
        id="mention-first",
    ),
    pytest.param(
        group_message(
            "Was ist DNSSEC? @FAQ_Test_Bot",
            mention_entity("Was ist DNSSEC? @FAQ_Test_Bot", "@FAQ_Test_Bot"),
        ),
        "Was ist DNSSEC?",
        id="mention-last-other-case",
    ),
    pytest.param(
        group_message(
            "@faq_test_bot Was ist @faq_test_bot DNSSEC?",
            mention_entity("@faq_test_bot Was ist @faq_test_bot DNSSEC?", "@faq_test_bot"),
        ),
        "Was ist DNSSEC?",
        id="mentioned-twice",
    ),
    pytest.param(
        group_message(
            "FAQ-Bot, was ist DNSSEC?",
            (MessageEntity(MessageEntity.TEXT_MENTION, 0, 7, user=BOT),),
        ),
        "FAQ-Bot, was ist DNSSEC?",
        id="text-mention",
    ),
    pytest.param(
        group_message("Und was ist DNSSEC?", reply_to=reply_from(BOT)),
        "Und was ist DNSSEC?",
        id="reply-to-bot",
    ),
    pytest.param(
        group_message("@faq_test_bot dnssec"),
        "dnssec",
        id="mention-without-entity",
    ),
    pytest.param(group_message("Was ist DNSSEC?"), None, id="no-mention"),
    pytest.param(
        group_message(
            "@other_bot Was ist DNSSEC?",
            mention_entity("@other_bot Was ist DNSSEC?", "@other_bot"),
        ),
        None,
        id="other-bot-mentioned",
    ),
    pytest.param(
        group_message(
            "Anna, was ist DNSSEC?",
            (MessageEntity(MessageEntity.TEXT_MENTION, 0, 4, user=OTHER_BOT),),
        ),
        None,
        id="text-mention-of-someone-else",
    ),
    pytest.param(
        group_message("Was ist DNSSEC?", reply_to=reply_from(OTHER_BOT)),
        None,
        id="reply-to-someone-else",
    ),
    pytest.param(group_message("@faq_test_bot"), "", id="only-the-mention"),
]


@pytest.mark.parametrize(("message", "question"), ADDRESSED)
def test_addressed_question_finds_questions_for_the_bot(
    message: Message, question: str | None
) -> None:
    found = handlers.addressed_question(message, BOT_USERNAME, BOT_ID)
    assert (None if found is None else " ".join(found.split())) == question


def test_addressed_question_longer_username_is_someone_else() -> None:
    text = "@faq_test_bot_support Was ist DNSSEC?"
    message = group_message(text, mention_entity(text, "@faq_test_bot_support"))
    assert handlers.addressed_question(message, BOT_USERNAME, BOT_ID) is None
