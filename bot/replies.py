"""Reply composition shared by every front end (terminal chat, Telegram).

One function turns a question, the knowledge base and the matcher's verdict into a
neutral ``Reply``: a title, text blocks, links and buttons. Front ends only render it:
the terminal as numbered choices, Telegram as HTML with an inline keyboard. So a
question answered in ``faqbot chat`` is answered the same way on Telegram.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot import texts
from bot.knowledge import Entry, KnowledgeBase, Link
from bot.matcher import MatchResult
from bot.smalltalk import Understanding
from bot.texts import DEFAULT_CONTACT_TEXT

ReplyKind = Literal[
    "answer",
    "suggest",
    "none",
    "empty",
    "topics",
    "category",
    "contact",
    "text",
    "smalltalk",
    "handoff",
]

# Button actions, short enough for Telegram's 64-byte callback data with a 60-char id:
# "e:<id>" open an entry, "o:<id>" open it from the topic list (with a way back),
# "c:<category id>" a category (the slug of its file's name), "t" the topics, "x" none
# of the suggestions ("x:<draft>" where the team can take the question), "f+:<id>" /
# "f-:<id>" feedback on an answer, "h:<draft>" hand the question to the team,
# "h+:<draft>" / "h-:<draft>" confirm or cancel that.
ENTRY_ACTION = "e:"
BROWSE_ENTRY_ACTION = "o:"
CATEGORY_ACTION = "c:"
TOPICS_ACTION = "t"
NONE_OF_THESE_ACTION = "x"
NONE_OF_THESE_DRAFT_ACTION = "x:"
HELPFUL_ACTION = "f+:"
NOT_HELPFUL_ACTION = "f-:"
TEAM_ACTION = "h:"
TEAM_SEND_ACTION = "h+:"
TEAM_CANCEL_ACTION = "h-:"

RELATED_MARGIN = 0.2
"""A runner-up this close to the answer's score is offered under "Passt nicht?".

Measured on tests/data/questions.yaml after the 2026 content review; scores are fused,
or lexical where the lexical shortcut answered. Of 243 answers 2 are wrong, one out of
scope; in the other ("Shitstorm ... simulieren") the right entry runs second, 0.188
behind on the fused scale, 0.288 on the lexical one the shortcut now decides it on.
0.20 reaches such a fused near miss and adds buttons to 24 of the 241 right answers
(10 %); 0.15 to 15, 0.30 (which would reach the lexical one) to 85 (35 %)."""
RELATED_SHORT_FLOOR = 0.3
"""For a one-word question ("shitstorm") every runner-up scoring at least this is
offered: on the set, runners-up of answered one-word questions scored either at most
0.12 (unrelated) or from 0.35 (online-krisen-training under "shitstorm")."""
SHORT_QUESTION_UNITS = 1
MAX_RELATED = 2

ActionKind = Literal[
    "entry",
    "browse",
    "category",
    "topics",
    "none_of_these",
    "helpful",
    "not_helpful",
    "team",
    "team_send",
    "team_cancel",
]
_PREFIXED: tuple[tuple[str, ActionKind], ...] = (
    (ENTRY_ACTION, "entry"),
    (BROWSE_ENTRY_ACTION, "browse"),
    (CATEGORY_ACTION, "category"),
    (HELPFUL_ACTION, "helpful"),
    (NOT_HELPFUL_ACTION, "not_helpful"),
    (NONE_OF_THESE_DRAFT_ACTION, "none_of_these"),
    (TEAM_ACTION, "team"),
    (TEAM_SEND_ACTION, "team_send"),
    (TEAM_CANCEL_ACTION, "team_cancel"),
)
_PLAIN: dict[str, ActionKind] = {
    TOPICS_ACTION: "topics",
    NONE_OF_THESE_ACTION: "none_of_these",
}


@dataclass(frozen=True)
class Action:
    """A parsed button: what it does and its target (an entry id, a category id)."""

    kind: ActionKind
    target: str = ""


def parse_action(data: str) -> Action | None:
    """The action of a button's data, or None for data no button of ours carries."""
    plain = _PLAIN.get(data)
    if plain is not None:
        return Action(plain)
    for prefix, kind in _PREFIXED:
        if data.startswith(prefix) and len(data) > len(prefix):
            return Action(kind, data[len(prefix) :])
    return None


@dataclass(frozen=True)
class Button:
    """A choice offered to the customer: a label and what choosing it does."""

    label: str
    action: str


@dataclass(frozen=True)
class Block:
    """A paragraph, or a list when ``bullets`` is set (one item per line)."""

    lines: tuple[str, ...]
    bullets: bool = False


@dataclass(frozen=True)
class Reply:
    """What the bot says, independent of how a front end shows it."""

    kind: ReplyKind
    blocks: tuple[Block, ...]
    title: str | None = None
    links: tuple[Link, ...] = ()
    buttons: tuple[Button, ...] = ()
    entry_id: str | None = None
    footer: tuple[Block, ...] = ()
    """Shown after the links, right above the buttons it introduces."""


def answer_blocks(answer: str) -> tuple[Block, ...]:
    """Split an answer into paragraphs and lists ("- " lines), as staff wrote it."""
    blocks: list[Block] = []
    for paragraph in answer.strip().split("\n\n"):
        lines = [line.strip() for line in paragraph.splitlines() if line.strip()]
        run: list[str] = []
        for number, line in enumerate(lines):
            run.append(line)
            bullet = line.startswith("- ")
            following = lines[number + 1] if number + 1 < len(lines) else None
            if following is None or following.startswith("- ") != bullet:
                if bullet:
                    blocks.append(Block(tuple(item[2:].strip() for item in run), bullets=True))
                else:
                    blocks.append(Block((" ".join(run),)))
                run = []
    return tuple(blocks)


def entry_reply(entry: Entry, *, back_to: str | None = None, feedback: bool = True) -> Reply:
    """The answer of one entry: its question as title, the answer, its links.

    ``feedback`` adds helpful / not helpful buttons; ``back_to`` (a category id) a way
    back to that category, for answers opened while browsing the topics.
    """
    buttons = []
    if feedback:
        buttons += [
            Button(texts.HELPFUL_BUTTON, HELPFUL_ACTION + entry.id),
            Button(texts.NOT_HELPFUL_BUTTON, NOT_HELPFUL_ACTION + entry.id),
        ]
    if back_to is not None:
        buttons.append(Button(texts.BACK_BUTTON, CATEGORY_ACTION + back_to))
    return Reply(
        kind="answer",
        title=entry.question,
        blocks=answer_blocks(entry.answer),
        links=entry.links,
        buttons=tuple(buttons),
        entry_id=entry.id,
    )


def reply_to(
    understanding: Understanding,
    *,
    contact_text: str = DEFAULT_CONTACT_TEXT,
    feedback: bool = True,
    handoff: str | None = None,
) -> Reply:
    """The reply to a message: small talk, or by the matcher's decision."""
    if understanding.smalltalk is not None:
        return smalltalk_reply(understanding.smalltalk)
    return compose_reply(
        understanding.result, contact_text=contact_text, feedback=feedback, handoff=handoff
    )


def smalltalk_reply(entry: Entry) -> Reply:
    """A short answer to small talk, with the way into the topics."""
    return Reply(
        kind="smalltalk",
        blocks=answer_blocks(entry.answer),
        links=entry.links,
        buttons=(Button(texts.ALL_TOPICS, TOPICS_ACTION),),
        entry_id=entry.id,
    )


def related(result: MatchResult) -> tuple[Entry, ...]:
    """Runners-up worth a "Passt nicht? Vielleicht:" button under an answer."""
    if result.decision != "answer" or result.match is None:
        return ()
    top = result.match.score
    short = len(result.units) <= SHORT_QUESTION_UNITS
    return tuple(
        candidate.entry
        for candidate in result.ranking[1 : 1 + MAX_RELATED]
        if candidate.entry.id != result.match.entry.id
        and (
            top - candidate.score <= RELATED_MARGIN
            or (short and candidate.score >= RELATED_SHORT_FLOOR)
        )
    )


def compose_reply(
    result: MatchResult,
    *,
    contact_text: str = DEFAULT_CONTACT_TEXT,
    feedback: bool = True,
    handoff: str | None = None,
) -> Reply:
    """The reply to a free-text question, by the matcher's decision.

    ``handoff``: the draft under which the front end can hand this question to the
    team (offered with "none", and by the front end after "Keine davon").
    """
    if not result.units and result.decision == "none":
        return empty_question_reply()
    if result.decision == "answer" and result.match is not None:
        reply = entry_reply(result.match.entry, feedback=feedback)
        runners_up = related(result)
        if not runners_up:
            return reply
        return Reply(
            kind=reply.kind,
            title=reply.title,
            blocks=reply.blocks,
            links=reply.links,
            footer=(Block((texts.RELATED_INTRO,)),),
            buttons=(
                *reply.buttons,
                *(Button(entry.question, ENTRY_ACTION + entry.id) for entry in runners_up),
            ),
            entry_id=reply.entry_id,
        )
    if result.decision == "suggest":
        buttons = [Button(c.entry.question, ENTRY_ACTION + c.entry.id) for c in result.suggestions]
        # The draft travels on the button itself: a press the instant the reply
        # arrives must not depend on the front end having linked reply and draft yet.
        none_of_these = NONE_OF_THESE_DRAFT_ACTION + handoff if handoff else NONE_OF_THESE_ACTION
        buttons.append(Button(texts.NONE_OF_THESE_BUTTON, none_of_these))
        return Reply(
            kind="suggest",
            blocks=(Block((texts.SUGGEST_INTRO,)),),
            buttons=tuple(buttons),
        )
    return no_answer_reply(result, contact_text=contact_text, handoff=handoff)


def no_answer_reply(result: MatchResult, *, contact_text: str, handoff: str | None = None) -> Reply:
    """Nothing fits: say so honestly, give tips, offer the closest topics and a human."""
    blocks = [
        Block((texts.NO_ANSWER,)),
        Block((texts.NO_ANSWER_TIPS,)),
        Block((contact_text,)),
    ]
    buttons = [Button(c.entry.question, ENTRY_ACTION + c.entry.id) for c in result.suggestions]
    if buttons:
        blocks.insert(1, Block((texts.NO_ANSWER_CLOSEST,)))
    buttons.append(Button(texts.ALL_TOPICS, TOPICS_ACTION))
    if handoff is not None:
        blocks[-1] = Block((texts.TEAM_OFFER,))
        buttons.append(Button(texts.TEAM_BUTTON, TEAM_ACTION + handoff))
    return Reply(kind="none", blocks=tuple(blocks), buttons=tuple(buttons))


def empty_question_reply() -> Reply:
    """The message held no words to search for (empty, emoji, punctuation)."""
    return Reply(
        kind="empty",
        blocks=(Block((texts.EMPTY_QUESTION,)),),
        buttons=(Button(texts.ALL_TOPICS, TOPICS_ACTION),),
    )


def none_of_these_reply(
    *, contact_text: str = DEFAULT_CONTACT_TEXT, handoff: str | None = None
) -> Reply:
    """The customer rejected every suggestion: offer a human and the topic list."""
    buttons = [Button(texts.ALL_TOPICS, TOPICS_ACTION)]
    if handoff is not None:
        buttons.append(Button(texts.TEAM_BUTTON, TEAM_ACTION + handoff))
    return Reply(
        kind="contact",
        blocks=(
            Block((texts.NONE_OF_THESE,)),
            Block((texts.TEAM_OFFER if handoff is not None else contact_text,)),
        ),
        buttons=tuple(buttons),
    )


def topics_reply(kb: KnowledgeBase, *, stale: bool = False) -> Reply:
    """The categories of the knowledge base to browse; ``stale``: the button pressed
    named a category that is gone, so say that this is a fresh list."""
    intro = (texts.STALE_MENU, texts.TOPICS_INTRO) if stale else (texts.TOPICS_INTRO,)
    return Reply(
        kind="topics",
        blocks=tuple(Block((line,)) for line in intro),
        buttons=tuple(
            Button(f"{name} ({len(kb.in_category(name))})", CATEGORY_ACTION + kb.category_id(name))
            for name in kb.categories
        ),
    )


def category_reply(kb: KnowledgeBase, name: str) -> Reply:
    """The questions of one category (by name, as in ``kb.categories``)."""
    buttons = [
        Button(entry.question, BROWSE_ENTRY_ACTION + entry.id) for entry in kb.in_category(name)
    ]
    buttons.append(Button(texts.BACK_TO_TOPICS_BUTTON, TOPICS_ACTION))
    return Reply(
        kind="category",
        title=name,
        blocks=(Block((texts.CATEGORY_INTRO,)),),
        buttons=tuple(buttons),
    )
