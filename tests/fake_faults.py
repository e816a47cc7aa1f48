"""Fault injection for the fake Bot API: an operator's bad day on loopback (issue 9).

Kept apart from ``fake_bot_api.py`` so the fake's model of Telegram stays readable:
the fake asks :meth:`Faults.intercept` before answering any Bot API method, and a
matching rule answers instead, the way Telegram (or the network) would misbehave:

* ``throttle_chat``: 429 with ``retry_after`` for every request to one chat.
* ``storm``: a proxy's 5xx page for the chosen methods (every method by default).
* ``outage``: the connection is cut without an answer, as when the Bot API is down.
* ``migrate_chat``: a group upgraded to a supergroup (400 with ``migrate_to_chat_id``).

Rules stay until cleared (``clear``), so tests wait for what the bot does during the
fault (``hits``) instead of sleeping.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass
from typing import Any

JSON = dict[str, Any]

MIGRATED = "Bad Request: group chat was upgraded to a supergroup chat"


@dataclass(frozen=True)
class Injected:
    """What the fake answers instead of the real method: an error, or nothing at all."""

    status: int
    description: str = ""
    parameters: JSON | None = None
    cut: bool = False  # hang up without an answer


@dataclass(frozen=True)
class _Rule:
    name: str
    methods: frozenset[str] | None  # lower-case; None: every method
    chat_id: int | None
    answer: Injected


class Faults:
    """The active misbehaviours of one fake server, and how often each one struck."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[_Rule] = []
        self.hits: Counter[str] = Counter()
        """Requests answered by each rule (``throttle``, ``storm``, ``outage``, ``migrate``)."""

    def throttle_chat(self, chat_id: int, *, retry_after: int) -> None:
        """Every request to ``chat_id`` gets 429 Too Many Requests until cleared."""
        answer = Injected(
            429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}
        )
        self._add(_Rule("throttle", None, chat_id, answer))

    def storm(self, status: int = 502, *, methods: tuple[str, ...] | None = None) -> None:
        """``methods`` (default: all) answer ``status`` with a proxy page until cleared."""
        chosen = frozenset(m.lower() for m in methods) if methods else None
        self._add(_Rule("storm", chosen, None, Injected(status, "Internal Server Error")))

    def outage(self, *, methods: tuple[str, ...] | None = None) -> None:
        """``methods`` (default: all, getUpdates too) get their connection cut until cleared."""
        chosen = frozenset(m.lower() for m in methods) if methods else None
        self._add(_Rule("outage", chosen, None, Injected(0, cut=True)))

    def migrate_chat(self, old_chat_id: int, new_chat_id: int) -> None:
        """Requests to ``old_chat_id`` fail as for a group that became a supergroup."""
        answer = Injected(400, MIGRATED, {"migrate_to_chat_id": new_chat_id})
        self._add(_Rule("migrate", None, old_chat_id, answer))

    def clear(self, name: str | None = None) -> None:
        """End the rules called ``name`` (all rules without a name): Telegram is back."""
        with self._lock:
            self._rules = [rule for rule in self._rules if name is not None and rule.name != name]

    def intercept(self, method: str, params: JSON) -> Injected | None:
        """The answer of the first matching rule, or None to answer normally."""
        chat_id = params.get("chat_id")
        with self._lock:
            for rule in self._rules:
                if rule.methods is not None and method.lower() not in rule.methods:
                    continue
                if rule.chat_id is not None and chat_id != rule.chat_id:
                    continue
                self.hits[rule.name] += 1
                return rule.answer
        return None

    def _add(self, rule: _Rule) -> None:
        with self._lock:
            self._rules.append(rule)
