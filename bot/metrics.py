"""Prometheus metrics: what admins watch on /metrics.

Each Metrics object has its own registry, so tests (and several bots in one process)
never share counters.
"""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

CONTENT_TYPE = CONTENT_TYPE_LATEST


class Metrics:
    """The bot's counters, gauges and histograms."""

    def __init__(self, entries: Callable[[], float] = lambda: 0.0) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.questions = Counter(
            "faqbot_questions_total",
            "Messages answered, by decision (answer, suggest, none, smalltalk).",
            ["decision"],
            registry=self.registry,
        )
        for decision in ("answer", "suggest", "none", "smalltalk"):
            self.questions.labels(decision)
        self.handoffs = Counter(
            "faqbot_handoffs_total",
            "Questions handed to the team: sent, answered (delivered), failed (not reached).",
            ["event"],
            registry=self.registry,
        )
        for event in ("sent", "answered", "failed"):
            self.handoffs.labels(event)
        self.answer_latency = Histogram(
            "faqbot_answer_latency_seconds",
            "Time from receiving a question to the reply being accepted by Telegram.",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
            registry=self.registry,
        )
        self.entries = Gauge(
            "faqbot_knowledge_base_entries",
            "Entries in the knowledge base being served.",
            registry=self.registry,
        )
        self.entries.set_function(entries)
        self.reload_errors = Counter(
            "faqbot_reload_errors_total",
            "Reloads of the knowledge base that failed (the last good one kept serving).",
            registry=self.registry,
        )
        self.telegram_errors = Counter(
            "faqbot_telegram_api_errors_total",
            "Failed Bot API requests, by kind (429, 4xx, 5xx, timeout, network).",
            ["kind"],
            registry=self.registry,
        )
        self.store_failures = Counter(
            "faqbot_store_failures_total",
            "Writes to the analytics store that failed (answering went on).",
            registry=self.registry,
        )

        # Delivery under Telegram's faults (issue 9): see bot/telegram/outbox.py.
        self.replies_pending = Gauge(
            "faqbot_replies_pending",
            "Replies queued for Telegram (waiting for a flood limit, an outage or their turn).",
            registry=self.registry,
        )
        self.replies_dropped = Counter(
            "faqbot_replies_dropped_total",
            "Replies given up, by reason (flood_wait, outage, queue_full, refused).",
            ["reason"],
            registry=self.registry,
        )
        for reason in ("flood_wait", "outage", "queue_full", "refused"):
            self.replies_dropped.labels(reason)
        self.updates_skipped = Counter(
            "faqbot_updates_skipped_total",
            "Updates not handled, by reason (unparseable, duplicate).",
            ["reason"],
            registry=self.registry,
        )
        for reason in ("unparseable", "duplicate"):
            self.updates_skipped.labels(reason)
        self.store_lost = Counter(
            "faqbot_store_events_lost_total",
            "Analytics events never stored, by reason (unavailable: the database stayed"
            " locked, read-only, full or missing past the retry time; unstorable; queue_full).",
            ["reason"],
            registry=self.registry,
        )
        for reason in ("unavailable", "unstorable", "queue_full"):
            self.store_lost.labels(reason)
        self.store_failing = Gauge(
            "faqbot_store_failing",
            "1 while the analytics store cannot write (events are kept and retried), else 0.",
            registry=self.registry,
        )

    def record_store_loss(self, reason: str, count: int) -> None:
        """Count analytics events that will never be stored."""
        self.store_lost.labels(reason).inc(count)

    def record_telegram_status(self, status: int) -> None:
        """Count a Bot API response that was not a success."""
        if status == 429:
            self.telegram_errors.labels("429").inc()
        elif 400 <= status < 500:
            self.telegram_errors.labels("4xx").inc()
        elif status >= 500:
            self.telegram_errors.labels("5xx").inc()

    def record_telegram_failure(self, kind: str) -> None:
        """Count a Bot API request that got no response ("timeout" or "network")."""
        self.telegram_errors.labels(kind).inc()

    def render(self) -> bytes:
        """The Prometheus text exposition of every metric."""
        return generate_latest(self.registry)
