"""Telegram handlers: thin adapters from updates to the shared core and back.

Every handler reads the current knowledge base from the holder once, so a hot reload
in the middle of a conversation never mixes two versions in one reply.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial

from telegram import (
    CallbackQuery,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
    Message,
    Update,
)
from telegram.constants import ChatType, MessageEntityType, ParseMode
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot.analytics import build_report
from bot.config import Settings
from bot.flood import FloodGuard, Verdict
from bot.handoff import Desk
from bot.knowledge import Entry, KnowledgeBase
from bot.logs import current_update_id
from bot.metrics import Metrics
from bot.reloader import KnowledgeBaseHolder
from bot.replies import (
    BROWSE_ENTRY_ACTION,
    CATEGORY_ACTION,
    ENTRY_ACTION,
    HELPFUL_ACTION,
    NONE_OF_THESE_ACTION,
    NOT_HELPFUL_ACTION,
    TOPICS_ACTION,
    Block,
    Reply,
    category_reply,
    entry_reply,
    none_of_these_reply,
    reply_to,
    topics_reply,
)
from bot.smalltalk import understand
from bot.stats import Stats
from bot.store import ChoiceEvent, Event, FeedbackEvent, QuestionEvent, Store
from bot.stores import reader_for
from bot.telegram.delivery import Outgoing, Undeliverable, deliver, transmit
from bot.telegram.outbox import OnSent, Outbox
from bot.telegram.render import MAX_MESSAGE, render

logger = logging.getLogger(__name__)

INLINE_RESULTS = 10
INLINE_DESCRIPTION = 120


@dataclass
class BotContext:
    """What the handlers need, passed in once at wiring time."""

    settings: Settings
    holder: KnowledgeBaseHolder
    stats: Stats
    metrics: Metrics = field(default_factory=Metrics)
    store: Store | None = None
    flood: FloodGuard = field(default_factory=FloodGuard)
    votes: dict[tuple[int, int, int, str], bool] = field(default_factory=dict)
    """The last 👍/👎 per (chat, message, user, entry): a vote pressed again is not new."""
    outbox: Outbox | None = None
    """Where replies leave (the run loop's); None sends at once (handler tests)."""
    handoffs: Desk | None = None
    """The team handoff, when STAFF_CHAT_ID is set."""

    def record(self, event: Event) -> None:
        """Queue an event for the analytics store, if there is one (never blocks)."""
        if self.store is not None:
            self.store.record(event)

    @property
    def kb(self) -> KnowledgeBase:
        return self.holder.current.kb

    def handoff_desk(self, update: Update) -> Desk | None:
        """The handoff desk if replies in this chat may offer it (private chats only)."""
        chat = update.effective_chat
        return self.handoffs if chat is not None and chat.type == ChatType.PRIVATE else None

    def is_admin(self, update: Update) -> bool:
        user = update.effective_user
        return user is not None and user.id in self.settings.admin_ids


def text_reply(*paragraphs: str) -> Reply:
    """A plain reply of a few paragraphs (German, for customers)."""
    return Reply(kind="text", blocks=tuple(Block((p,)) for p in paragraphs))


WELCOME = (
    "Guten Tag! Ich beantworte Ihre Fragen rund um Websites, Online-Marketing,"
    " Social Media und Ihren guten Ruf im Netz."
)
HOW_TO_ASK = (
    "Schreiben Sie Ihre Frage einfach in eigenen Worten, zum Beispiel:"
    " „Wie werde ich Spam-Kommentare los?“ Mit /themen sehen Sie alle Themen."
)
HELP_TEXTS = (
    "So nutzen Sie mich:",
    "• Im Privatchat: Schreiben Sie Ihre Frage als Nachricht. Bin ich unsicher,"
    " schlage ich passende Fragen vor.",
    "• /themen zeigt alle Themen zum Durchblättern.",
    "• In Gruppen antworte ich, wenn Sie mich mit @{username} erwähnen, auf eine meiner"
    " Nachrichten antworten oder /frage gefolgt von Ihrer Frage schreiben.",
    "• In jedem Chat: Tippen Sie @{username} und Ihre Frage, um eine Antwort direkt zu teilen.",
)
NOT_TEXT = (
    "Ich kann leider nur Textnachrichten beantworten. Bitte schreiben Sie Ihre Frage als Text."
)
APOLOGY = "Entschuldigung, da ist etwas schiefgegangen. Bitte versuchen Sie es gleich noch einmal."
FLOOD_NOTICE = (
    "Sie senden gerade sehr viele Nachrichten. Ich mache eine Minute Pause und"
    " beantworte danach gern wieder Ihre Fragen."
)
ADMIN_ONLY = "Dieser Befehl ist nur für Administratoren verfügbar."
NOT_YOUR_BUTTONS = "Diese Knöpfe gehören zur Frage einer anderen Person. Fragen Sie gern selbst!"
ENTRY_GONE = "Dieser Eintrag ist nicht mehr verfügbar."
MAX_VOTES_REMEMBERED = 10_000
UNKNOWN_ENTRY = "Diesen Eintrag gibt es leider nicht (mehr). Hier sind alle Themen:"


async def send_reply(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    reply: Reply,
    *,
    quote: bool = False,
    on_sent: OnSent | None = None,
) -> None:
    """Send a reply as one or more messages, quoting the asker in groups."""
    chat = update.effective_chat
    message = update.effective_message
    if chat is None:
        return
    reply_to = message.message_id if quote and message is not None else None
    parts = [
        Outgoing(chat.id, part.html, part.plain, part.keyboard, reply_to=reply_to)
        for part in render(reply)
    ]
    await send(context, parts, on_sent=on_sent)


async def edit_reply(
    query: CallbackQuery, context: ContextTypes.DEFAULT_TYPE, reply: Reply
) -> None:
    """Show a reply in place of the message whose button was pressed."""
    parts = render(reply)
    chat_id = query.message.chat.id if query.message else query.from_user.id
    # One part fits in place of the pressed message; a longer reply is sent anew.
    edit = query.message.message_id if len(parts) == 1 and query.message is not None else None
    await send(
        context,
        [Outgoing(chat_id, p.html, p.plain, p.keyboard, edit_message_id=edit) for p in parts],
    )


async def send(
    context: ContextTypes.DEFAULT_TYPE,
    parts: Sequence[Outgoing],
    *,
    on_sent: OnSent | None = None,
) -> None:
    """The one send path: every message to a chat leaves through the chat's outbox.

    The handler does not wait for Telegram, so a throttled chat never holds an update
    slot; ``on_sent`` gets the messages once they are out.
    """
    outbox = _bot_context(context).outbox
    if outbox is not None:
        outbox.post(parts, on_sent=on_sent)
        return
    # Without the run loop's outbox (handler tests): send now, by the same rules.
    sent = []
    for part in parts:
        message, _ = await transmit(context.bot, part)
        if message is not None:
            sent.append(message)
    if on_sent is not None:
        on_sent(sent)


async def answer_button(query: CallbackQuery, notice: str | None = None) -> None:
    """Stop the button's spinner; a failure only leaves the spinner running a while."""
    try:
        await deliver(partial(query.answer, notice), what="button answer")
    except (TelegramError, Undeliverable) as exc:
        logger.info("Could not answer a button press: %s", exc)


async def remember_update(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Make the update id part of every log line written while it is handled."""
    if isinstance(update, Update):
        current_update_id.set(update.update_id)


# Commands ----------------------------------------------------------------------------


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/start, and /start <entry-id> from a deep link on the agency's website."""
    bot_context = _bot_context(context)
    kb = bot_context.kb
    if context.args:
        entry = kb.get(context.args[0].strip().lower())
        if entry is not None:
            bot_context.stats.record_choice(entry.id)
            await send_reply(update, context, entry_reply(entry))
            return
        await send_reply(update, context, text_reply(UNKNOWN_ENTRY))
        await send_reply(update, context, topics_reply(kb))
        return
    await send_reply(
        update,
        context,
        text_reply(
            WELCOME,
            f"Ich kenne {len(kb)} Antworten zu: {', '.join(kb.categories)}.",
            HOW_TO_ASK,
        ),
    )


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/help: how to ask, in private chats, groups and inline mode."""
    username = context.bot.username
    await send_reply(
        update, context, text_reply(*(text.format(username=username) for text in HELP_TEXTS))
    )


async def topics(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/themen: browse the categories."""
    await send_reply(update, context, topics_reply(_bot_context(context).kb))


async def ask_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/frage <text>: ask explicitly, the way to address the bot in groups."""
    await answer_question(update, context, " ".join(context.args or ()))


# Free text -----------------------------------------------------------------------------


async def private_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A question in a private chat (also an edited one: the corrected question)."""
    message = update.effective_message
    if message is not None and message.text is not None:
        await answer_question(update, context, message.text)


async def group_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A message in a group: answer only when the bot is addressed."""
    message = update.effective_message
    if message is None or message.text is None:
        return
    question = addressed_question(message, context.bot.username, context.bot.id)
    if question is not None:
        await answer_question(update, context, question)


def addressed_question(message: Message, username: str, bot_id: int) -> str | None:
    """The question if the message mentions the bot or replies to it, else None."""
    text = message.text or ""
    # "@faq_bot" but not "@faq_bot_support": a username ends where its characters do.
    mention = re.compile(rf"@{re.escape(username)}(?![A-Za-z0-9_])", re.IGNORECASE)
    mentioned = bool(mention.search(text))
    for entity in message.entities:
        if entity.type == MessageEntityType.TEXT_MENTION and entity.user is not None:
            mentioned = mentioned or entity.user.id == bot_id
    replied = message.reply_to_message
    if replied is not None and replied.from_user is not None and replied.from_user.id == bot_id:
        mentioned = True
    if not mentioned:
        return None
    return " ".join(mention.sub(" ", text).split())


async def answer_question(
    update: Update, context: ContextTypes.DEFAULT_TYPE, question: str
) -> None:
    """Match a question and send what the matcher decided."""
    bot_context = _bot_context(context)
    in_group = _in_group(update)
    user = update.effective_user
    if user is not None:
        verdict = bot_context.flood.check(user.id)
        if verdict is Verdict.IGNORE:
            return
        if verdict is Verdict.WARN:
            await send_reply(update, context, text_reply(FLOOD_NOTICE), quote=in_group)
            return
    started = time.perf_counter()
    snapshot = bot_context.holder.current
    understanding = understand(snapshot.kb, snapshot.matcher, question)
    result = understanding.result
    if understanding.smalltalk is not None:
        bot_context.stats.decisions["smalltalk"] += 1
    else:
        bot_context.stats.record_question(question, result)
    bot_context.metrics.questions.labels(understanding.decision).inc()
    logger.debug(
        "Decision %s, best %s (%.2f)",
        understanding.decision,
        result.ranking[0].entry.id if result.ranking else "-",
        result.confidence,
    )
    chat = update.effective_chat
    desk = bot_context.handoff_desk(update)
    draft = (
        desk.drafts.offer(chat.id, question, user.first_name, understanding)
        if desk is not None and chat is not None and user is not None
        else None
    )
    reply = reply_to(
        understanding,
        contact_text=bot_context.settings.contact_text,
        handoff=draft.token if draft else None,
    )

    def sent(messages: list[Message]) -> None:
        bot_context.metrics.answer_latency.observe(time.perf_counter() - started)
        if desk is not None and draft is not None and messages:
            desk.drafts.shown_in(draft, messages[-1].message_id)
        if not understanding.counts or user is None or chat is None:
            return
        top = result.ranking[0] if result.ranking else None
        top_entry = understanding.smalltalk.id if understanding.smalltalk else None
        bot_context.record(
            QuestionEvent(
                chat_type=str(chat.type),
                user_id=user.id,
                chat_id=chat.id,
                text=question,
                decision=understanding.decision,
                top_entry=top_entry or (top.entry.id if top else None),
                top_score=1.0 if top_entry else (top.score if top else 0.0),
                suggestions=tuple(c.entry.id for c in result.suggestions),
                # The buttons sit on the last part: clicks on it point back here.
                reply_message_id=messages[-1].message_id if messages else None,
            )
        )

    await send_reply(update, context, reply, quote=in_group, on_sent=sent)


async def not_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stickers, photos, voice, documents, locations: say that only text is answered."""
    message = update.effective_message
    if _in_group(update):
        replied = message.reply_to_message if message else None
        if replied is None or replied.from_user is None or replied.from_user.id != context.bot.id:
            return  # not addressed to the bot: stay silent in groups
    await send_reply(update, context, text_reply(NOT_TEXT), quote=_in_group(update))


def _in_group(update: Update) -> bool:
    chat = update.effective_chat
    return chat is not None and chat.type in (ChatType.GROUP, ChatType.SUPERGROUP)


# Buttons -------------------------------------------------------------------------------


async def button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A pressed inline button: navigate, open an entry, or take feedback.

    Callback data comes from the client and can be anything: what does not parse is
    ignored (the spinner is stopped, nothing changes). In a group, the buttons under
    an answer belong to whoever asked; others get a short notice.
    """
    query = update.callback_query
    if query is None or query.data is None:
        return
    bot_context = _bot_context(context)
    kb = bot_context.kb
    data = query.data
    if not _is_asker(query):
        await answer_button(query, NOT_YOUR_BUTTONS)
        return
    notice: str | None = None
    reply: Reply | None = None
    if data.startswith((ENTRY_ACTION, BROWSE_ENTRY_ACTION)):
        entry = kb.get(data[len(ENTRY_ACTION) :])
        if entry is None:
            notice, reply = ENTRY_GONE, topics_reply(kb)
        else:
            bot_context.stats.record_choice(entry.id)
            if data.startswith(ENTRY_ACTION):  # chosen from "Meinten Sie …?"
                bot_context.record(_choice(query, entry.id))
            back_to = (
                kb.categories.index(entry.category)
                if data.startswith(BROWSE_ENTRY_ACTION)
                else None
            )
            reply = entry_reply(entry, back_to=back_to)
    elif data.startswith(CATEGORY_ACTION):
        number = data.removeprefix(CATEGORY_ACTION)
        if number.isascii() and number.isdigit():  # not "²": isdigit() alone takes it
            reply = category_reply(kb, int(number)) or topics_reply(kb)
    elif data == TOPICS_ACTION:
        reply = topics_reply(kb)
    elif data == NONE_OF_THESE_ACTION:
        bot_context.record(_choice(query, None))
        desk = bot_context.handoff_desk(update)
        message = query.message
        draft = (
            desk.drafts.for_message(message.chat.id, message.message_id)
            if desk is not None and message is not None
            else None
        )
        reply = none_of_these_reply(
            contact_text=bot_context.settings.contact_text,
            handoff=draft.token if draft else None,
        )
    elif data.startswith((HELPFUL_ACTION, NOT_HELPFUL_ACTION)):
        await feedback(query, context, helpful=data.startswith(HELPFUL_ACTION))
        return
    else:
        logger.debug("Ignored a button with unknown data")
    await answer_button(query, notice)
    if reply is not None:
        await edit_reply(query, context, reply)


def _is_asker(query: CallbackQuery) -> bool:
    """False if the buttons sit on a reply to someone else's question (in a group)."""
    message = query.message
    if not isinstance(message, Message) or message.chat.type not in (
        ChatType.GROUP,
        ChatType.SUPERGROUP,
    ):
        return True
    asked = message.reply_to_message
    if asked is None or asked.from_user is None or asked.from_user.is_bot:
        return True  # not an answer to a question (/themen), or the question is gone
    return asked.from_user.id == query.from_user.id


def _choice(query: CallbackQuery, entry_id: str | None) -> ChoiceEvent:
    return ChoiceEvent(
        user_id=query.from_user.id,
        chat_id=query.message.chat.id if query.message else query.from_user.id,
        message_id=query.message.message_id if query.message else None,
        entry_id=entry_id,
    )


async def feedback(
    query: CallbackQuery, context: ContextTypes.DEFAULT_TYPE, *, helpful: bool
) -> None:
    """Record feedback, thank the customer, and drop the feedback buttons.

    One vote per person and answer: the same 👍 pressed again (a stale copy of the
    message, a double tap) changes nothing; 👎 after 👍 replaces it.
    """
    bot_context = _bot_context(context)
    entry_id = (query.data or "")[len(HELPFUL_ACTION) :]
    if bot_context.kb.get(entry_id) is None:  # forged data or an entry since removed
        await answer_button(query, ENTRY_GONE)
        return
    chat_id = query.message.chat.id if query.message else query.from_user.id
    message_id = query.message.message_id if query.message else None
    previous = _remember_vote(
        bot_context, (chat_id, message_id or 0, query.from_user.id, entry_id), helpful
    )
    if previous is not helpful:
        if previous is not None:
            (bot_context.stats.not_helpful if helpful else bot_context.stats.helpful)[entry_id] -= 1
        bot_context.stats.record_feedback(entry_id, helpful=helpful)
        bot_context.record(
            FeedbackEvent(
                user_id=query.from_user.id,
                chat_id=chat_id,
                message_id=message_id,
                entry_id=entry_id,
                helpful=helpful,
            )
        )
    await answer_button(query, "Danke für Ihr Feedback!")
    message = query.message if isinstance(query.message, Message) else None
    markup = message.reply_markup if message is not None else None
    # On a second press the feedback buttons are gone already.
    if message is not None and markup is not None and previous is None:
        rows = [
            row
            for row in markup.inline_keyboard
            if not any(
                str(b.callback_data or "").startswith((HELPFUL_ACTION, NOT_HELPFUL_ACTION))
                for b in row
            )
        ]
        keyboard = InlineKeyboardMarkup(rows) if rows else None
        edit = Outgoing(
            message.chat.id,
            "",
            "",
            keyboard,
            edit_message_id=message.message_id,
            markup_only=True,
        )
        await send(context, [edit])
    if not helpful and previous is not False and query.message is not None:
        text = (
            "Schade, dass die Antwort nicht geholfen hat. Mit /themen finden Sie weitere"
            f" Fragen. {bot_context.settings.contact_text}"
        )
        await send(context, [Outgoing.text(query.message.chat.id, text)])


def _remember_vote(
    bot_context: BotContext, key: tuple[int, int, int, str], helpful: bool
) -> bool | None:
    """Store the vote; return the one it replaces (None for a first vote)."""
    votes = bot_context.votes
    previous = votes.pop(key, None)
    votes[key] = helpful
    if len(votes) > MAX_VOTES_REMEMBERED:
        del votes[next(iter(votes))]  # the oldest: dicts keep insertion order
    return previous


# Inline mode ---------------------------------------------------------------------------


async def inline_query(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """@bot <question> in any chat: up to 10 entries to post."""
    query = update.inline_query
    if query is None:
        return
    kb = _bot_context(context).kb
    text = query.query.strip()
    if text:
        snapshot = _bot_context(context).holder.current
        entries = [c.entry for c in snapshot.matcher.rank(text, INLINE_RESULTS)]
    else:
        entries = list(kb.entries[:INLINE_RESULTS])
    results = []
    for entry in entries:
        message = inline_message(entry, context.bot.username)
        description = " ".join(entry.answer.split())
        if len(description) > INLINE_DESCRIPTION:
            description = description[: INLINE_DESCRIPTION - 1] + "…"
        results.append(
            InlineQueryResultArticle(
                id=entry.id,
                title=entry.question,
                description=description,
                input_message_content=InputTextMessageContent(message, parse_mode=ParseMode.HTML),
            )
        )
    await deliver(partial(query.answer, results, cache_time=30), what="inline answer")


def inline_message(entry: Entry, username: str) -> str:
    """The answer as one shareable message; a long one is cut at a paragraph and
    points to the whole answer in the bot's chat (deep link)."""
    parts = render(entry_reply(entry, feedback=False))
    if len(parts) == 1:
        return parts[0].html
    link = f'\n\n<a href="https://t.me/{username}?start={entry.id}">Ganze Antwort lesen</a>'
    first = parts[0].html
    cut = first.rfind("\n\n", 0, MAX_MESSAGE - len(link) - 2)
    return (first[:cut] if cut > 0 else first[: MAX_MESSAGE - len(link) - 2]) + " …" + link


# Admin ---------------------------------------------------------------------------------


async def stats_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/stats (admins): questions by decision, top entries, top unanswered questions."""
    bot_context = _bot_context(context)
    if not bot_context.is_admin(update):
        await send_reply(update, context, text_reply(ADMIN_ONLY))
        return
    report = await asyncio.to_thread(stored_report, bot_context)
    await send_reply(update, context, _preformatted(report or bot_context.stats.report()))


def stored_report(bot_context: BotContext) -> str | None:
    """The short report of `faqbot stats` from the store, or None if it cannot be read."""
    if bot_context.store is None:
        return None
    try:
        settings = bot_context.settings
        with reader_for(settings.data_dir, settings.database_url) as connection:
            return build_report(connection, days=30).text(short=True)
    except Exception:
        logger.warning("The analytics store cannot be read; /stats shows this run's counts")
        return None


async def reload_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/reload (admins): load the FAQ files now and report the result."""
    bot_context = _bot_context(context)
    if not bot_context.is_admin(update):
        await send_reply(update, context, text_reply(ADMIN_ONLY))
        return
    result = await asyncio.to_thread(bot_context.holder.reload, force=True)
    if not result.ok:
        bot_context.metrics.reload_errors.inc()
    await send_reply(update, context, _preformatted(result.describe()))


async def debug_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/debug <question> (admins): the top candidates with scores and the decision."""
    bot_context = _bot_context(context)
    if not bot_context.is_admin(update):
        await send_reply(update, context, text_reply(ADMIN_ONLY))
        return
    question = " ".join(context.args or ())
    snapshot = bot_context.holder.current
    understanding = understand(snapshot.kb, snapshot.matcher, question)
    if understanding.smalltalk is not None:
        entry = understanding.smalltalk
        await send_reply(update, context, _preformatted(f"decision: smalltalk ({entry.id})"))
        return
    result = understanding.result
    lines = [f"decision: {result.decision} (confidence {result.confidence:.2f})"]
    lines += [f"{c.score:.2f} {c.entry.id}" for c in result.ranking]
    words = ", ".join(f"{u.word}→{u.how}" for u in result.units) or "-"
    lines.append(f"words: {words}")
    await send_reply(update, context, _preformatted("\n".join(lines)))


def _preformatted(text: str) -> Reply:
    return Reply(kind="text", blocks=tuple(Block((line,)) for line in text.split("\n")))


# Errors --------------------------------------------------------------------------------


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log every failure once, with the update id; apologise to the customer."""
    update_id = update.update_id if isinstance(update, Update) else None
    logger.error("Handling update %s failed", update_id, exc_info=context.error)
    if not isinstance(update, Update):
        return
    try:
        if update.callback_query is not None:  # stop the button's loading spinner
            await answer_button(update.callback_query)
        if update.effective_chat is not None:
            await send_reply(update, context, text_reply(APOLOGY))
    except Exception:
        logger.warning("Could not apologise for update %s", update_id)


def _bot_context(context: ContextTypes.DEFAULT_TYPE) -> BotContext:
    bot_context = context.bot_data["faqbot"]
    assert isinstance(bot_context, BotContext)
    return bot_context
