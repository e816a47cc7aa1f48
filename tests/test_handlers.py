"""bot.telegram.handlers in process: updates in, the Bot API calls the bot makes out.

The real Application with the real handlers; only HTTP is replaced by a recording
request object, so each test sees exactly what would have been sent to Telegram.
"""

from __future__ import annotations

import asyncio
import html
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from telegram import Chat, Message, MessageEntity, Update, User
from telegram.ext import ContextTypes
from telegram.request import BaseRequest, RequestData

from bot import texts as bot_texts
from bot.config import Settings
from bot.grouping import normalise
from bot.memory_store import MemoryStore
from bot.reloader import KnowledgeBaseHolder
from bot.telegram import app as wiring
from bot.telegram import handlers, inline
from tests.conftest import FAQ_DIR, overview, topic_labels

TOKEN = "123456:TEST-token"
BOT_ID = 4242
BOT_USERNAME = "faq_test_bot"
ADMIN_ID = 777
CUSTOMER_ID = 1001
GROUP_ID = -100123
CONTACT = "Rufen Sie uns an: 030 1234567."

ANSWERED = "Hallo, wie werde ich Spamkommentare los?"
SUGGESTED = "WordPress"
UNANSWERED = "Wie backe ich einen Apfelkuchen?"

BOT_USER = {
    "id": BOT_ID,
    "is_bot": True,
    "first_name": "FAQ",
    "username": BOT_USERNAME,
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": True,
}


# The fake Bot API ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    """One Bot API request the bot made."""

    url: str
    method: str  # the Bot API method, e.g. "sendMessage"
    params: dict[str, Any]


class RecordingRequest(BaseRequest):
    """Answers every Bot API call from canned JSON and records it."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self._message_ids = iter(range(5000, 10_000))

    @property
    def read_timeout(self) -> float | None:
        return 1.0

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = None,
        write_timeout: Any = None,
        connect_timeout: Any = None,
        pool_timeout: Any = None,
    ) -> tuple[int, bytes]:
        api_method = url.rsplit("/", 1)[-1]
        params = dict(request_data.parameters) if request_data is not None else {}
        self.calls.append(Call(url, api_method, params))
        return 200, json.dumps({"ok": True, "result": self._result(api_method, params)}).encode()

    def _result(self, api_method: str, params: dict[str, Any]) -> object:
        if api_method == "getMe":
            return BOT_USER
        if api_method == "sendMessage":
            chat_id = int(params["chat_id"])
            return {
                "message_id": next(self._message_ids),
                "date": 1_700_000_000,
                "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "group"},
                "from": BOT_USER,
                "text": params.get("text", ""),
            }
        return True


@dataclass
class Conversation:
    """A running bot and what it sent."""

    request: RecordingRequest
    recorder: MemoryStore
    errors: list[BaseException] = field(default_factory=list)

    def calls(self, method: str) -> list[dict[str, Any]]:
        return [call.params for call in self.request.calls if call.method == method]

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
def settings(tmp_path: Path) -> Settings:
    return Settings(
        token=TOKEN,
        faq_dir=FAQ_DIR,
        data_dir=tmp_path / "data",
        admin_ids=frozenset({ADMIN_ID}),
        rate_limit=0.0,
        contact_text=CONTACT,
    )


@pytest.fixture
def talk(settings: Settings, holder: KnowledgeBaseHolder) -> Talk:
    """Feed updates to the real Application; returns everything it sent."""

    def run(*updates: dict[str, Any]) -> Conversation:
        conversation = Conversation(RecordingRequest(), MemoryStore())

        async def record_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
            assert context.error is not None
            conversation.errors.append(context.error)

        async def scenario() -> None:
            # The real wiring (outbox, rate limiter, handlers); only HTTP is recorded.
            application = wiring.build_application(
                settings,
                holder,
                conversation.recorder,
                request=conversation.request,
                updates_request=RecordingRequest(),
            )
            application.add_error_handler(record_error)
            await application.initialize()
            try:
                for update in updates:
                    await application.process_update(Update.de_json(update, application.bot))
                    await wiring.outbox_of(application).flush()  # replied (and recorded)
            finally:
                await wiring.outbox_of(application).close(5)  # every reply is out
                await application.shutdown()

        asyncio.run(scenario())
        assert conversation.errors == []
        return conversation

    return run


# Updates as Telegram sends them -------------------------------------------------------------

_update_ids = iter(range(1, 1_000_000))


def user(user_id: int = CUSTOMER_ID) -> dict[str, Any]:
    return {"id": user_id, "is_bot": False, "first_name": "Anna", "language_code": "de"}


def private_chat(user_id: int = CUSTOMER_ID) -> dict[str, Any]:
    return {"id": user_id, "type": "private", "first_name": "Anna"}


GROUP_CHAT = {"id": GROUP_ID, "type": "supergroup", "title": "Kundenforum"}


def message_update(
    text: str,
    *,
    chat: dict[str, Any] | None = None,
    sender: int = CUSTOMER_ID,
    message_id: int = 10,
    entities: list[dict[str, Any]] | None = None,
    reply_to: dict[str, Any] | None = None,
) -> dict[str, Any]:
    message: dict[str, Any] = {
        "message_id": message_id,
        "date": 1_700_000_000,
        "chat": chat or private_chat(sender),
        "from": user(sender),
        "text": text,
    }
    if entities is None and text.startswith("/"):
        entities = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
    if entities:
        message["entities"] = entities
    if reply_to is not None:
        message["reply_to_message"] = reply_to
    return {"update_id": next(_update_ids), "message": message}


def mention(text: str, name: str = f"@{BOT_USERNAME}") -> list[dict[str, Any]]:
    """The mention entity Telegram adds for @name in text (ASCII text only)."""
    return [{"type": "mention", "offset": text.index(name), "length": len(name)}]


def buttons(params: dict[str, Any]) -> list[list[tuple[str, str]]]:
    markup = params.get("reply_markup")
    if markup is None:
        return []
    if isinstance(markup, str):
        markup = json.loads(markup)
    return [
        [(key["text"], key["callback_data"]) for key in row] for row in markup["inline_keyboard"]
    ]


# Private chats -------------------------------------------------------------------------------


def test_start_up_asks_telegram_who_the_bot_is(talk: Talk) -> None:
    conversation = talk()
    assert [call.method for call in conversation.request.calls] == ["getMe"]
    assert conversation.request.calls[0].url.endswith(f"/bot{TOKEN}/getMe")


def test_private_question_gets_the_answer(talk: Talk) -> None:
    conversation = talk(message_update(ANSWERED))
    [reply] = conversation.sent
    assert reply["chat_id"] == CUSTOMER_ID
    assert reply["parse_mode"] == "HTML"
    assert reply["text"].startswith("<b>Wie vermeide ich Kommentar-Spam in Blogs?</b>\n\n")
    assert buttons(reply) == [
        [("👍 Hilfreich", "f+:kommentar-spam"), ("👎 Nicht hilfreich", "f-:kommentar-spam")]
    ]
    assert "reply_parameters" not in reply
    report = conversation.recorder.report()
    assert (report.totals.questions, report.totals.answered) == (1, 1)
    assert [(entry.entry_id, entry.hits) for entry in report.entries] == [("kommentar-spam", 1)]


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


def test_private_answer_links_are_clickable(talk: Talk) -> None:
    conversation = talk(message_update("Was ist ein Corporate Blog?"))
    [reply] = conversation.sent
    assert reply["text"].endswith(
        "Mehr dazu:\n"
        '• <a href="https://developers.google.com/search/docs/fundamentals/'
        'creating-helpful-content?hl=de">'
        "Google Search Central: Hilfreiche, zuverlässige Inhalte erstellen</a>"
    )


def test_private_edited_question_is_answered_again(talk: Talk) -> None:
    edited = message_update(ANSWERED)
    edited["edited_message"] = edited.pop("message")
    edited["edited_message"]["edit_date"] = 1_700_000_100
    conversation = talk(edited)
    [reply] = conversation.sent
    assert "Kommentar-Spam" in reply["text"]


def test_start_welcomes_with_the_categories(talk: Talk, holder: KnowledgeBaseHolder) -> None:
    [reply] = talk(message_update("/start")).sent
    assert reply["text"].startswith("Guten Tag!")
    assert html.escape(overview(holder.current.kb)) in reply["text"]


@pytest.mark.parametrize(
    ("command", "first_text", "count"),
    [
        ("/start dnssec", "<b>Was ist DNSSEC und wozu dient es?</b>", 1),
        ("/start DNSSEC", "<b>Was ist DNSSEC und wozu dient es?</b>", 1),
        ("/start gibt-es-nicht", bot_texts.UNKNOWN_ENTRY, 2),
    ],
)
def test_start_deep_link_opens_the_entry(
    command: str, first_text: str, count: int, talk: Talk
) -> None:
    conversation = talk(message_update(command))
    assert len(conversation.sent) == count
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
    conversation = talk(*(message_update("dnssec", message_id=n) for n in range(25)))
    assert len(conversation.sent) == 21
    assert conversation.texts[20] == bot_texts.FLOOD_NOTICE


# Groups --------------------------------------------------------------------------------------


def test_group_message_without_mention_is_ignored(talk: Talk) -> None:
    conversation = talk(message_update(ANSWERED, chat=GROUP_CHAT))
    assert conversation.sent == []
    assert conversation.recorder.report().totals.questions == 0


def test_group_mention_answers_quoting_the_asker(talk: Talk) -> None:
    text = f"@{BOT_USERNAME} {ANSWERED}"
    conversation = talk(
        message_update(text, chat=GROUP_CHAT, message_id=321, entities=mention(text))
    )
    [reply] = conversation.sent
    assert reply["chat_id"] == GROUP_ID
    assert "Kommentar-Spam" in reply["text"]
    assert reply["reply_parameters"] == {"message_id": 321, "allow_sending_without_reply": True}


def test_group_reply_to_the_bot_is_answered(talk: Talk) -> None:
    bots_message = {
        "message_id": 300,
        "date": 1_700_000_000,
        "chat": GROUP_CHAT,
        "from": BOT_USER,
        "text": "Meinten Sie eine dieser Fragen?",
    }
    conversation = talk(message_update("dnssec", chat=GROUP_CHAT, reply_to=bots_message))
    [reply] = conversation.sent
    assert "DNSSEC" in reply["text"]
    assert reply["reply_parameters"]["message_id"] == 10


def test_group_ask_command_is_answered(talk: Talk) -> None:
    conversation = talk(message_update(f"/frage@{BOT_USERNAME} dnssec", chat=GROUP_CHAT))
    [reply] = conversation.sent
    assert "DNSSEC" in reply["text"]


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
    conversation = talk(
        message_update(ANSWERED),
        message_update(UNANSWERED),
        message_update("/stats", sender=ADMIN_ID),
    )
    report = conversation.texts[-1]
    assert conversation.sent[-1]["chat_id"] == ADMIN_ID
    assert report.startswith("Fragen (letzte 30 Tage): 2 · beantwortet 50 %")
    assert "1× kommentar-spam" in report
    assert f"1× {normalise(UNANSWERED)}" in report


def test_debug_for_an_admin_shows_the_decision(talk: Talk) -> None:
    [reply] = talk(message_update("/debug dnssec", sender=ADMIN_ID)).sent
    assert reply["text"].startswith("decision: answer")
    assert "dnssec" in reply["text"]


# Buttons -------------------------------------------------------------------------------------


def callback_update(
    data: str, *, markup: list[list[tuple[str, str]]] | None = None
) -> dict[str, Any]:
    message: dict[str, Any] = {
        "message_id": 77,
        "date": 1_700_000_000,
        "chat": private_chat(),
        "from": BOT_USER,
        "text": "Antwort",
    }
    if markup is not None:
        message["reply_markup"] = {
            "inline_keyboard": [
                [{"text": text, "callback_data": action} for text, action in row] for row in markup
            ]
        }
    return {
        "update_id": next(_update_ids),
        "callback_query": {
            "id": "cb-1",
            "from": user(),
            "chat_instance": "ci-1",
            "data": data,
            "message": message,
        },
    }


def test_button_suggestion_opens_the_entry_in_place(talk: Talk) -> None:
    conversation = talk(callback_update("e:dnssec"))
    [edit] = conversation.calls("editMessageText")
    assert edit["message_id"] == 77
    assert edit["text"].startswith("<b>Was ist DNSSEC und wozu dient es?</b>")
    assert len(conversation.calls("answerCallbackQuery")) == 1
    assert [(entry.entry_id, entry.hits) for entry in conversation.recorder.report().entries] == [
        ("dnssec", 1)
    ]


def test_button_browsed_entry_has_a_way_back(talk: Talk) -> None:
    [edit] = talk(callback_update("o:dnssec")).calls("editMessageText")
    assert edit["text"].startswith("<b>Was ist DNSSEC und wozu dient es?</b>")
    assert buttons(edit)[-1] == [("« Zurück", "c:web-technik")]


@pytest.mark.parametrize("data", ["e:gibt-es-nicht", "t"])
def test_button_gone_entry_or_topics_shows_the_topics(
    data: str, talk: Talk, holder: KnowledgeBaseHolder
) -> None:
    [edit] = talk(callback_update(data)).calls("editMessageText")
    assert edit["text"] == "Zu diesen Themen kann ich Ihnen Auskunft geben:"
    assert [label for row in buttons(edit) for label, _ in row] == topic_labels(holder.current.kb)


# "c:3": a button from before categories had ids; "c:agentur": a category since removed.
@pytest.mark.parametrize("data", ["c:3", "c:agentur"])
def test_button_stale_category_says_so_with_fresh_topics(
    data: str, talk: Talk, holder: KnowledgeBaseHolder
) -> None:
    [edit] = talk(callback_update(data)).calls("editMessageText")
    assert edit["text"] == (
        "Dieses Menü ist nicht mehr aktuell. Hier ist die aktuelle Übersicht.\n\n"
        "Zu diesen Themen kann ich Ihnen Auskunft geben:"
    )
    assert [label for row in buttons(edit) for label, _ in row] == topic_labels(holder.current.kb)


def test_button_none_of_these_offers_contact(talk: Talk) -> None:
    [edit] = talk(callback_update("x")).calls("editMessageText")
    assert CONTACT in edit["text"]


FEEDBACK_ROW = [("👍 Hilfreich", "f+:dnssec"), ("👎 Nicht hilfreich", "f-:dnssec")]
BACK_ROW = [("« Zurück", "c:web-technik")]


@pytest.mark.parametrize(
    ("markup", "left"),
    [([FEEDBACK_ROW], []), ([FEEDBACK_ROW, BACK_ROW], [BACK_ROW])],
)
def test_button_feedback_thanks_and_drops_the_feedback_buttons(
    markup: list[list[tuple[str, str]]], left: list[list[tuple[str, str]]], talk: Talk
) -> None:
    conversation = talk(callback_update("f+:dnssec", markup=markup))
    [answer] = conversation.calls("answerCallbackQuery")
    assert answer["text"] == "Danke für Ihr Feedback!"
    [edit] = conversation.calls("editMessageReplyMarkup")
    assert buttons(edit) == left
    assert conversation.sent == []
    [rated] = conversation.recorder.report().entries
    assert (rated.entry_id, rated.helpful, rated.not_helpful) == ("dnssec", 1, 0)


def test_button_unhelpful_feedback_offers_contact(talk: Talk) -> None:
    markup = [[("👍 Hilfreich", "f+:dnssec"), ("👎 Nicht hilfreich", "f-:dnssec")]]
    conversation = talk(callback_update("f-:dnssec", markup=markup))
    [reply] = conversation.sent
    assert CONTACT in reply["text"]
    [rated] = conversation.recorder.report().entries
    assert (rated.entry_id, rated.helpful, rated.not_helpful) == ("dnssec", 0, 1)


# Inline mode ---------------------------------------------------------------------------------


def inline_update(query: str) -> dict[str, Any]:
    return {
        "update_id": next(_update_ids),
        "inline_query": {"id": "iq-1", "from": user(), "query": query, "offset": ""},
    }


def test_inline_query_offers_matching_answers_to_post(talk: Talk) -> None:
    [answer] = talk(inline_update("dnssec")).calls("answerInlineQuery")
    first = answer["results"][0]
    assert first["id"] == "dnssec"
    assert first["title"] == "Was ist DNSSEC und wozu dient es?"
    content = first["input_message_content"]
    assert content["parse_mode"] == "HTML"
    assert content["message_text"].startswith("<b>Was ist DNSSEC und wozu dient es?</b>")
    assert len(answer["results"]) <= inline.INLINE_RESULTS


def test_inline_query_empty_lists_the_first_entries(talk: Talk) -> None:
    [answer] = talk(inline_update("")).calls("answerInlineQuery")
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
