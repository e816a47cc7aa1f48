"""End to end: a question the bot cannot answer goes to the team and the answer comes back."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.cli import main
from bot.handoff_store import HandoffRepository
from bot.knowledge import KnowledgeBase
from bot.replies import Action, parse_action
from bot.report_queries import build_report
from bot.store import DATABASE_FILE, QuestionEvent, Store, reader
from bot.suggestions import suggest_snippets
from bot.telegram import outbox as outbox_module
from tests.bot_runner import ADMIN_ID, BotThread, copy_faq, running_bot, settings_for
from tests.fake_bot_api import FakeBotApi

JSON = dict[str, Any]

CUSTOMER = 1001
OTHER_CUSTOMER = 1002
STAFF = -1009876543210
STAFF_MEMBER = 2001
CONTACT = "Rufen Sie uns an: 030 1234567."
UNKNOWN_QUESTION = "Wie pflege ich eine Photovoltaikanlage auf dem Dach?"
REFERENCE = re.compile(r"#[A-Z2-9]{5}")


@pytest.fixture
def bot(fake: FakeBotApi, tmp_path: Path) -> Iterator[BotThread]:
    fake.add_chat(STAFF, "supergroup", title="Agentur-Team")
    fake.add_chat(ADMIN_ID)
    settings = settings_for(
        fake, copy_faq(tmp_path / "faq"), tmp_path / "data", staff_chat_id=STAFF
    )
    with running_bot(settings, store=True) as running:
        yield running


# Helpers ------------------------------------------------------------------------------


def buttons(message: JSON) -> list[tuple[str, str]]:
    markup = message.get("reply_markup") or {}
    return [
        (b["text"], b["callback_data"]) for row in markup.get("inline_keyboard", []) for b in row
    ]


def data_of(message: JSON, label_part: str) -> str:
    """The callback data of the button whose label contains ``label_part``."""
    found = [data for label, data in buttons(message) if label_part in label]
    assert len(found) == 1, (label_part, buttons(message))
    return found[0]


def ask(fake: FakeBotApi, text: str, *, user_id: int = CUSTOMER, first_name: str = "Anna") -> JSON:
    before = len(fake.sent_messages(user_id))
    fake.send_text(text, user_id=user_id, first_name=first_name)
    return fake.wait_for_messages(before + 1, chat_id=user_id)[before]


def current(fake: FakeBotApi, message: JSON) -> JSON:
    chat_id, message_id = message["chat"]["id"], message["message_id"]
    return next(m for m in fake.sent_messages(chat_id) if m["message_id"] == message_id)


def press(fake: FakeBotApi, message: JSON, label_part: str, expect: str) -> JSON:
    """Press a button and wait until the message shows ``expect``."""
    fake.click(message, data_of(current(fake, message), label_part))
    fake.wait_for(
        lambda api: expect in current(api, message).get("text", ""), what=f"edit showing {expect}"
    )
    return current(fake, message)


def staff_posts(fake: FakeBotApi) -> list[JSON]:
    return fake.sent_messages(STAFF)


def hand_over(
    fake: FakeBotApi, *, user_id: int = CUSTOMER, question: str = UNKNOWN_QUESTION
) -> JSON:
    """A customer asks, presses the team button and confirms; returns the staff post."""
    before = len(staff_posts(fake))
    reply = ask(fake, question, user_id=user_id)
    preview = press(fake, reply, "Team", "Das senden wir an unser Team")
    press(fake, preview, "senden", "bei unserem Team")
    return fake.wait_for_messages(before + 1, chat_id=STAFF)[before]


def staff_answers(fake: FakeBotApi, post: JSON, text: str) -> None:
    fake.send_text(
        text,
        user_id=STAFF_MEMBER,
        chat_id=STAFF,
        chat_type="supergroup",
        first_name="Petra",
        reply_to_bot_message_id=post["message_id"],
    )


def round_trip(fake: FakeBotApi) -> None:
    """Prove the bot handled everything so far (updates are handled concurrently)."""
    for _ in range(2):
        before = len(fake.sent_messages(4711))
        fake.send_command("/help", user_id=4711)
        fake.wait_for_messages(before + 1, chat_id=4711)


def handoff_rows(bot: BotThread) -> list[sqlite3.Row]:
    connection = sqlite3.connect(bot.settings.data_dir / DATABASE_FILE)
    connection.row_factory = sqlite3.Row
    try:
        return connection.execute("SELECT * FROM handoffs ORDER BY id").fetchall()
    finally:
        connection.close()


# The whole way -----------------------------------------------------------------------


def suggesting_question(bot: BotThread) -> str:
    """A short question the loaded knowledge base answers with suggestions."""
    matcher = bot.holder.current.matcher
    candidates = ["wordpress", "google", "social media", "kommentare spam", "website"]
    question = next((q for q in candidates if matcher.match(q).decision == "suggest"), None)
    assert question is not None, "no candidate question gets suggestions any more"
    return question


def test_handoff_question_to_team_and_answer_back_to_customer(
    fake: FakeBotApi, bot: BotThread, capsys: pytest.CaptureFixture[str]
) -> None:
    reply = ask(fake, UNKNOWN_QUESTION)
    assert reply["text"].startswith("Dazu habe ich leider keine passende Antwort gefunden.")
    preview = press(fake, reply, "Team", "Das senden wir an unser Team")
    assert UNKNOWN_QUESTION in preview["text"] and "Anna" in preview["text"]
    assert "14 Tage" in preview["text"]  # what is kept, and for how long
    assert [label for label, _ in buttons(preview)] == ["Ja, senden", "Abbrechen"]
    assert not staff_posts(fake)  # nothing is sent before the customer confirms

    sent = press(fake, preview, "senden", "bei unserem Team")
    post = fake.wait_for_messages(1, chat_id=STAFF)[0]
    reference = REFERENCE.search(post["text"])
    assert reference is not None and reference.group() in sent["text"]
    assert UNKNOWN_QUESTION in post["text"] and "Anna" in post["text"]
    assert "Vermutung" in post["text"]  # the bot's best guesses (or that it had none)

    before = len(fake.sent_messages(CUSTOMER))
    staff_answers(fake, post, "Dafür empfehlen wir <b>Solar-Profis</b> & Co.\n\nViele Grüße")
    answer = fake.wait_for_messages(before + 1, chat_id=CUSTOMER)[before]
    assert answer["text"].startswith("Antwort von unserem Team")
    assert "Dafür empfehlen wir <b>Solar-Profis</b> & Co." in answer["text"]  # escaped
    assert not answer.get("entities") or all(e["type"] != "bold" for e in answer["entities"])
    confirmation = fake.wait_for_messages(2, chat_id=STAFF)[1]
    assert "zugestellt" in confirmation["text"] and reference.group() in confirmation["text"]

    metrics = bot.metrics.render().decode()
    assert 'faqbot_handoffs_total{event="sent"} 1.0' in metrics
    assert 'faqbot_handoffs_total{event="answered"} 1.0' in metrics
    [row] = handoff_rows(bot)
    assert row["status"] == "answered"
    assert row["customer_chat_id"] is None and row["first_name"] is None  # privacy

    bot.store.flush() if bot.store else None
    assert main(["suggest", "--data-dir", str(bot.settings.data_dir),
                 "--faq-dir", str(bot.settings.faq_dir), "--days", "0"]) == 0  # fmt: skip
    drafts = [e for e in yaml.safe_load(capsys.readouterr().out)["entries"] if e.get("draft")]
    assert len(drafts) == 1
    assert drafts[0]["draft"] is True
    assert drafts[0]["question"] == UNKNOWN_QUESTION
    assert drafts[0]["answer"] == "Dafür empfehlen wir <b>Solar-Profis</b> & Co.\n\nViele Grüße\n"


def test_handoff_customer_reply_reaches_the_same_thread(fake: FakeBotApi, bot: BotThread) -> None:
    post = hand_over(fake)
    before = len(fake.sent_messages(CUSTOMER))
    staff_answers(fake, post, "Bitte schicken Sie uns ein Foto.")
    answer = fake.wait_for_messages(before + 1, chat_id=CUSTOMER)[before]
    fake.wait_for_messages(2, chat_id=STAFF)  # "zugestellt": the answer is on record

    fake.send_text(
        "Wohin soll ich das Foto schicken?",
        user_id=CUSTOMER,
        reply_to_bot_message_id=answer["message_id"],
    )
    fake.wait_for(
        lambda api: any("Foto schicken" in m["text"] for m in api.sent_messages(STAFF)),
        what="the follow-up in the staff group",
    )
    follow_up = next(m for m in staff_posts(fake) if "Foto schicken" in m["text"])
    assert follow_up["reply_to_message"]["message_id"] == post["message_id"]  # same thread
    assert REFERENCE.search(post["text"]).group() in follow_up["text"]  # type: ignore[union-attr]
    thanks = fake.wait_for_messages(before + 2, chat_id=CUSTOMER)[before + 1]
    assert "an unser Team weitergegeben" in thanks["text"]

    before = len(fake.sent_messages(CUSTOMER))
    staff_answers(fake, follow_up, "An info@example.com, danke!")
    second = fake.wait_for_messages(before + 1, chat_id=CUSTOMER)[before]
    assert "An info@example.com, danke!" in second["text"]


def test_handoff_offered_after_none_of_these(fake: FakeBotApi, bot: BotThread) -> None:
    question = suggesting_question(bot)
    reply = ask(fake, question)
    contact = press(fake, reply, "Keine davon", "Schade")
    assert any("Team" in label for label, _ in buttons(contact))
    press(fake, contact, "Team", question)


def test_none_of_these_button_carries_its_draft(fake: FakeBotApi, bot: BotThread) -> None:
    question = suggesting_question(bot)
    reply = ask(fake, question)
    [data] = [data for label, data in buttons(reply) if label == "Keine davon"]
    action = parse_action(data)
    assert action is not None and action.kind == "none_of_these" and action.target
    assert parse_action("x") == Action("none_of_these")  # buttons sent before still work


def test_handoff_cancel_sends_nothing(fake: FakeBotApi, bot: BotThread) -> None:
    reply = ask(fake, UNKNOWN_QUESTION)
    preview = press(fake, reply, "Team", "Das senden wir")
    press(fake, preview, "Abbrechen", "nichts gesendet")
    round_trip(fake)
    assert not staff_posts(fake)


def test_handoff_confirmed_twice_is_sent_once(fake: FakeBotApi, bot: BotThread) -> None:
    reply = ask(fake, UNKNOWN_QUESTION)
    preview = press(fake, reply, "Team", "Das senden wir")
    send = data_of(preview, "senden")
    fake.click(preview, send)
    fake.click(preview, send)  # a double tap: both presses reach the bot
    fake.wait_for(lambda api: "bei unserem Team" in current(api, preview)["text"])
    round_trip(fake)
    assert len(staff_posts(fake)) == 1
    assert len(handoff_rows(bot)) == 1


def test_handoff_no_team_button_without_staff_chat(fake: FakeBotApi, tmp_path: Path) -> None:
    settings = settings_for(fake, copy_faq(tmp_path / "faq"), tmp_path / "data")
    with running_bot(settings):
        reply = ask(fake, UNKNOWN_QUESTION)
    assert not any("Team" in label for label, _ in buttons(reply))
    assert CONTACT in reply["text"]


def test_open_command_without_staff_chat_says_so(fake: FakeBotApi, tmp_path: Path) -> None:
    fake.add_chat(ADMIN_ID)
    settings = settings_for(fake, copy_faq(tmp_path / "faq"), tmp_path / "data")
    with running_bot(settings):
        fake.send_command("/offen", user_id=ADMIN_ID)
        [reply] = fake.wait_for_messages(1, chat_id=ADMIN_ID)
    assert "STAFF_CHAT_ID" in reply["text"]


def test_handoff_no_team_button_in_groups(fake: FakeBotApi, bot: BotThread) -> None:
    fake.send_command(f"/frage {UNKNOWN_QUESTION}", user_id=CUSTOMER, chat_type="supergroup")
    [reply] = fake.wait_for_messages(1, chat_id=-1001234567890)
    assert not any("Team" in label for label, _ in buttons(reply))


# Faults -------------------------------------------------------------------------------


def test_handoff_staff_group_unreachable_points_to_contact_and_tells_admins_once(
    fake: FakeBotApi, tmp_path: Path
) -> None:
    fake.add_chat(ADMIN_ID)
    settings = settings_for(  # a group the bot was never in: "chat not found"
        fake, copy_faq(tmp_path / "faq"), tmp_path / "data", staff_chat_id=-100555
    )
    with running_bot(settings):
        for customer in (CUSTOMER, OTHER_CUSTOMER):
            reply = ask(fake, UNKNOWN_QUESTION, user_id=customer)
            preview = press(fake, reply, "Team", "Das senden wir")
            failed = press(fake, preview, "senden", "nicht an unser Team weitergeben")
            assert CONTACT in failed["text"]
        round_trip(fake)
    notices = fake.sent_messages(ADMIN_ID)
    assert len(notices) == 1 and "STAFF_CHAT_ID" in notices[0]["text"]


def test_handoff_bot_removed_from_staff_group_tells_admins(
    fake: FakeBotApi, bot: BotThread
) -> None:
    member = {"user": fake.bot_user}
    fake.add_update(
        {
            "my_chat_member": {
                "chat": {"id": STAFF, "type": "supergroup", "title": "Agentur-Team"},
                "from": {"id": STAFF_MEMBER, "is_bot": False, "first_name": "Petra"},
                "date": 0,
                "old_chat_member": {**member, "status": "member"},
                "new_chat_member": {**member, "status": "left"},
            }
        }
    )
    [notice] = fake.wait_for_messages(1, chat_id=ADMIN_ID)
    assert "entfernt" in notice["text"]


def test_handoff_staff_reply_to_unknown_or_closed_message_gets_a_note(
    fake: FakeBotApi, bot: BotThread
) -> None:
    post = hand_over(fake)
    staff_answers(fake, post, "Erste Antwort.")
    confirmation = fake.wait_for_messages(2, chat_id=STAFF)[1]

    staff_answers(fake, confirmation, "Antwort auf die Bestätigung")
    note = fake.wait_for_messages(3, chat_id=STAFF)[2]
    assert "keine offene Anfrage" in note["text"]

    before = len(fake.sent_messages(CUSTOMER))
    staff_answers(fake, post, "Noch eine Antwort.")
    closed = fake.wait_for_messages(4, chat_id=STAFF)[3]
    assert "bereits abgeschlossen" in closed["text"]
    round_trip(fake)
    assert len(fake.sent_messages(CUSTOMER)) == before  # nothing more reached the customer


def test_handoff_customer_blocked_the_bot_staff_is_told(fake: FakeBotApi, bot: BotThread) -> None:
    post = hand_over(fake)
    fake.block_user(CUSTOMER)
    staff_answers(fake, post, "Hier ist die Antwort.")
    note = fake.wait_for_messages(2, chat_id=STAFF)[1]
    assert "blockiert" in note["text"]
    assert handoff_rows(bot)[0]["status"] == "open"


def test_handoff_answer_rides_out_a_short_telegram_outage(fake: FakeBotApi, bot: BotThread) -> None:
    post = hand_over(fake)
    before = len(fake.sent_messages(CUSTOMER))
    fake.fail_next("sendMessage", status=502, times=5)  # 12 s of Bad Gateway
    staff_answers(fake, post, "Hier ist die Antwort.")
    answer = fake.wait_for_messages(before + 1, chat_id=CUSTOMER, timeout=30)[before]
    assert "Hier ist die Antwort." in answer["text"]
    note = fake.wait_for_messages(2, chat_id=STAFF)[1]
    assert "zugestellt" in note["text"] and "blockiert" not in note["text"]
    assert handoff_rows(bot)[0]["status"] == "answered"


def test_handoff_answer_lost_to_a_long_outage_asks_staff_to_resend(
    fake: FakeBotApi, bot: BotThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    post = hand_over(fake)
    monkeypatch.setattr(outbox_module, "OUTAGE_BUDGET", 1.0)  # five minutes, shortened
    fake.fail_next("sendMessage", status=502, times=3)
    staff_answers(fake, post, "Hier ist die Antwort.")
    note = fake.wait_for_messages(2, chat_id=STAFF)[1]
    assert "nicht zugestellt" in note["text"] and "noch einmal" in note["text"]
    assert "blockiert" not in note["text"]
    assert handoff_rows(bot)[0]["status"] == "open"
    assert fake.sent_messages(ADMIN_ID) == []  # nothing for the admins to mend


# /offen --------------------------------------------------------------------------------


def test_open_command_lists_open_handoffs_oldest_first(fake: FakeBotApi, bot: BotThread) -> None:
    first = hand_over(fake, question="Wie pflege ich eine Photovoltaikanlage?")
    second = hand_over(fake, user_id=OTHER_CUSTOMER, question="Wo kaufe ich einen Wärmespeicher?")
    refs = [REFERENCE.search(p["text"]).group() for p in (first, second)]  # type: ignore[union-attr]

    fake.send_command("/offen", user_id=ADMIN_ID)
    [listing] = fake.wait_for_messages(1, chat_id=ADMIN_ID)
    assert listing["text"].index(refs[0]) < listing["text"].index(refs[1])
    assert "Photovoltaikanlage" in listing["text"]

    fake.send_command("/offen", user_id=STAFF_MEMBER, chat_id=STAFF, chat_type="supergroup")
    fake.wait_for(lambda api: any("Offene Anfragen" in m["text"] for m in api.sent_messages(STAFF)))

    fake.send_command("/offen", user_id=CUSTOMER)
    reply = fake.wait_for_messages(len(fake.sent_messages(CUSTOMER)) + 1, chat_id=CUSTOMER)[-1]
    assert "nur für Administratoren" in reply["text"]


# Retention ---------------------------------------------------------------------------


def test_repository_expires_open_handoffs_and_forgets_the_chat(tmp_path: Path) -> None:
    repository = HandoffRepository(tmp_path, open_days=14, text_days=90)
    handoff = repository.create(
        reference="#ABCDE",
        question="Frage",
        first_name="Anna",
        guesses=("dnssec",),
        chat_id=CUSTOMER,
        staff_message_id=7,
    )
    assert repository.by_message("staff", 7) == handoff
    assert repository.expire(datetime.now(UTC) + timedelta(days=13)) == 0
    assert repository.expire(datetime.now(UTC) + timedelta(days=15)) == 1
    expired = repository.by_message("staff", 7)
    assert expired is not None and expired.status == "expired"
    assert expired.customer_chat_id is None and expired.first_name == ""
    assert repository.open_handoffs() == []
    repository.expire(datetime.now(UTC) + timedelta(days=91))
    gone = repository.by_message("staff", 7)
    assert gone is not None and gone.question == ""  # texts follow RETENTION_DAYS
    repository.close()


def test_handoff_database_failure_loses_no_message(
    fake: FakeBotApi, bot: BotThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    post = hand_over(fake)
    desk = bot.application.bot_data.faqbot.handoffs
    assert desk is not None

    def broken(*args: object, **kwargs: object) -> None:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(desk.repository, "by_message", broken)
    staff_answers(fake, post, "Hier ist die Antwort.")
    note = fake.wait_for_messages(2, chat_id=STAFF)[1]
    assert "nicht lesbar" in note["text"]  # the staff member knows to try again

    before = len(fake.sent_messages(CUSTOMER))
    sent = fake.sent_messages(CUSTOMER)[-1]
    fake.send_text("Was ist DNSSEC?", user_id=CUSTOMER, reply_to_bot_message_id=sent["message_id"])
    reply = fake.wait_for_messages(before + 1, chat_id=CUSTOMER)[before]
    assert "DNSSEC" in reply["text"]  # answered as the question it is


# Reports and drafts ------------------------------------------------------------------


def test_report_counts_smalltalk_apart_and_handoffs_by_status(tmp_path: Path) -> None:

    store = Store(tmp_path)
    store.start()
    for decision in ("answer", "none", "smalltalk", "smalltalk"):
        store.record(QuestionEvent("private", CUSTOMER, CUSTOMER, "Text", decision, None, 0.5))
    assert store.flush()
    store.close()
    repository = HandoffRepository(tmp_path)
    for number in range(3):
        handoff = repository.create(
            reference=f"#AAAA{number + 2}",
            question="Frage",
            first_name="Anna",
            guesses=(),
            chat_id=CUSTOMER,
            staff_message_id=number,
        )
    repository.answered(handoff.id, "Antwort", 99)
    repository.close()

    with reader(tmp_path) as connection:
        report = build_report(connection, days=7)
    assert (report.totals.questions, report.totals.smalltalk) == (2, 2)
    assert report.rates.answered == 0.5  # small talk does not dilute the rates
    assert (report.handoffs.open, report.handoffs.answered) == (2, 1)
    assert "Small Talk: 2 · An das Team: 3 (beantwortet 1, offen 2)" in report.text()


@pytest.mark.parametrize(
    "answer",
    [
        "Ganz einfach: Ja.",
        'Zeile eins: "zitiert"\n\n- Punkt # kein Kommentar\n  eingerückt\n\nEnde',
        "  führende Leerzeichen\nund\ttab",
        "Steuerzeichen \x07 und Emoji 🎉",
    ],
)
def test_team_drafts_are_valid_yaml_with_the_answer_verbatim(
    tmp_path: Path, answer: str, shipped_kb: KnowledgeBase
) -> None:

    repository = HandoffRepository(tmp_path)
    handoff = repository.create(
        reference="#ABCDE",
        question="wie pflege ich solarzellen",
        first_name="Anna",
        guesses=(),
        chat_id=CUSTOMER,
        staff_message_id=1,
    )
    repository.answered(handoff.id, answer, 2)
    repository.close()
    with reader(tmp_path) as connection:
        [draft] = yaml.safe_load(suggest_snippets(connection, shipped_kb))["entries"]
    assert draft["draft"] is True and draft["question"] == "Wie pflege ich solarzellen?"
    text = answer.strip()
    expected = text if "\n" in text else " ".join(text.split())
    assert draft["answer"].rstrip("\n") == expected


def test_report_days_count_a_handed_over_question_once_as_handoff(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.start()
    for decision in ("answer", "none", "none", "suggest"):
        store.record(QuestionEvent("private", CUSTOMER, CUSTOMER, "Text", decision, None, 0.5))
    assert store.flush()
    store.close()
    repository = HandoffRepository(tmp_path)
    for number in range(3):  # two after "none", one after "Keine davon" under suggestions
        repository.create(
            reference=f"#BBBB{number + 2}",
            question="Frage",
            first_name="Anna",
            guesses=(),
            chat_id=CUSTOMER,
            staff_message_id=number,
        )
    repository.close()

    with reader(tmp_path) as connection:
        report = build_report(connection, days=7)
    today = report.days[-1].decisions
    assert (today["handoff"], today["none"], today["suggest"], today["answer"]) == (3, 0, 0, 1)
    assert sum(day.questions for day in report.days) == report.totals.questions == 4
