"""Replies leave through one queue per chat, apart from the slots that handle updates.

A handler composes its reply and posts it here; one task per chat with pending
replies sends them in order through ``transmit``. So a chat that Telegram throttles
waits in its own task (16 replies waiting for one flooded group once held all 16
update slots and starved everyone else), and replies ride out an outage:

- 429 for a chat: that chat's task waits ``retry_after``; a wait over
  ``MAX_FLOOD_WAIT`` (5 minutes) is given up at once, with a log line and a metric.
- Network errors, timeouts, 5xx: retried with backoff (0.5 s doubling to 5 s) for up
  to ``OUTAGE_BUDGET`` (5 minutes) per reply, then dropped with one log line. Retrying
  every 5 s at most means answers flow again within about 5 s of Telegram's return.
- Bounded: at most ``MAX_PENDING`` replies in all and ``MAX_PER_CHAT`` per chat; what
  does not fit is dropped and counted (``faqbot_replies_dropped_total``).
- Shutdown: replies waiting out a ``retry_after`` are abandoned at once (SIGTERM never
  waits on one), the rest get until the deadline. An abandoned reply leaves its update
  unconfirmed (see ``bot.telegram.updates``), so it is answered after the restart.

``post`` returns at once (a handler never waits for Telegram); ``send`` waits for the
messages, for the few callers that need them before going on: the team handoff must
know the staff post's id and whether the customer got the team's answer.

Log lines name no chat or user: the update id (LOG_FORMAT=json) is enough to follow one.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace

from telegram import Message
from telegram.error import BadRequest, NetworkError, RetryAfter, TimedOut
from telegram.ext import ExtBot

from bot.logs import current_update_id
from bot.metrics import Metrics
from bot.telegram.delivery import Outgoing, TelegramUnavailable, Undeliverable, transmit
from bot.telegram.ratelimit import ChatRateLimiter, retry_after_seconds
from bot.telegram.updates import UpdateLedger

logger = logging.getLogger(__name__)

MAX_FLOOD_WAIT = 300.0
OUTAGE_BUDGET = 300.0
FIRST_BACKOFF = 0.5
MAX_BACKOFF = 5.0
MAX_PENDING = 2000
MAX_PER_CHAT = 50

OnSent = Callable[[list[Message]], None]


@dataclass(frozen=True)
class _Job:
    parts: tuple[Outgoing, ...]
    on_sent: OnSent | None
    update_id: int | None
    outcome: asyncio.Future[list[Message]] | None = None
    """Where ``send`` waits for the messages, or for the reason there are none."""


class _Abandoned(Exception):
    """Shutdown: leave this reply unsent (its update stays unconfirmed)."""


class _Dropped(Exception):
    """This reply cannot be delivered; already logged and counted."""

    def __init__(self, failure: Undeliverable) -> None:
        super().__init__(str(failure))
        self.failure = failure
        """What ``send``'s caller is told."""


class Outbox:
    """Per-chat ordered delivery with flood waits, outage retries, caps and a drain."""

    def __init__(
        self,
        bot: ExtBot[None],
        *,
        metrics: Metrics,
        limiter: ChatRateLimiter | None = None,
        ledger: UpdateLedger | None = None,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.bot = bot
        self.metrics = metrics
        self.limiter = limiter
        self.ledger = ledger
        self._sleep = sleep
        self._clock = clock
        self._queues: dict[int, deque[_Job]] = {}
        self._workers: dict[int, asyncio.Task[None]] = {}
        self._parked: set[asyncio.Task[None]] = set()
        self._migrated: dict[int, int] = {}
        self._pending = 0
        self._closing = False
        self._changed = asyncio.Event()
        self._outage_since: float | None = None

    @property
    def pending(self) -> int:
        """Replies queued or being sent."""
        return self._pending

    def post(self, parts: Sequence[Outgoing], *, on_sent: OnSent | None = None) -> None:
        """Queue the parts of one reply for their chat; ``on_sent`` gets what was sent."""
        self._queue(_Job(tuple(parts), on_sent, current_update_id.get()))

    async def send(self, parts: Sequence[Outgoing]) -> list[Message]:
        """Queue one reply and wait until it is out, in its chat's order and by its rules.

        Returns the messages sent: none when the chat is closed to the bot. Raises
        ``TelegramUnavailable`` after ``OUTAGE_BUDGET`` without Telegram or when it asks
        to wait over ``MAX_FLOOD_WAIT``, and ``Undeliverable`` when Telegram refused the
        reply, the queue was full or the bot stopped first.
        """
        outcome: asyncio.Future[list[Message]] = asyncio.get_running_loop().create_future()
        self._queue(_Job(tuple(parts), None, current_update_id.get(), outcome))
        return await outcome

    def _queue(self, job: _Job) -> None:
        if not job.parts:
            _settle(job, [])
            return
        chat_id = self._migrated.get(job.parts[0].chat_id, job.parts[0].chat_id)
        queue = self._queues.setdefault(chat_id, deque())
        if self._pending >= MAX_PENDING or len(queue) >= MAX_PER_CHAT:
            logger.warning("Too many replies waiting (%d); dropping a reply", self._pending)
            self.metrics.replies_dropped.labels("queue_full").inc()
            if not queue:
                del self._queues[chat_id]
            _settle(job, [], Undeliverable("too many replies waiting"))
            return
        if self.ledger is not None:
            self.ledger.hold(job.update_id)
        queue.append(job)
        self._set_pending(self._pending + 1)
        if chat_id not in self._workers:
            self._workers[chat_id] = asyncio.get_running_loop().create_task(
                self._work(chat_id), name="faqbot-outbox"
            )

    async def flush(self) -> None:
        """Wait until every queued reply is sent or given up (tests, benchmarks)."""
        while self._workers:
            await asyncio.gather(*list(self._workers.values()), return_exceptions=True)

    async def close(self, timeout: float) -> int:
        """Send what can be sent within ``timeout`` s; returns the replies left unsent."""
        self._closing = True
        deadline = self._clock() + timeout
        while self._workers:
            for task in list(self._parked):
                task.cancel()  # never wait on a retry_after at shutdown
            remaining = deadline - self._clock()
            if remaining <= 0:
                break
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), remaining)
            except TimeoutError:
                break
        left = self._pending
        workers = list(self._workers.values())
        for task in workers:
            task.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        if left:
            logger.warning("Stopping with replies unsent (%d); their updates come again", left)
        return left

    # The chat's task -------------------------------------------------------------------

    async def _work(self, chat_id: int) -> None:
        queue = self._queues[chat_id]
        try:
            while queue:
                job = queue[0]
                current_update_id.set(job.update_id)
                try:
                    await self._send_job(job)
                except _Abandoned:
                    return
                queue.popleft()
                self._set_pending(self._pending - 1)
                if self.ledger is not None:
                    self.ledger.release(job.update_id)
        finally:
            self._workers.pop(chat_id, None)
            if not queue or self._closing:
                self._queues.pop(chat_id, None)
                for left in queue:  # abandoned at shutdown: nobody may wait on them
                    _settle(left, [], Undeliverable("the bot stopped before sending it"))
            self._changed.set()

    async def _send_job(self, job: _Job) -> None:
        sent: list[Message] = []
        failure: Undeliverable | None = None
        try:
            for part in job.parts:
                message = await self._send_part(replace(part, chat_id=self._target(part)))
                if message is not None:
                    sent.append(message)
        except _Dropped as dropped:
            failure = dropped.failure  # the rest of this reply makes no sense without it
        _settle(job, sent, failure)

    def _target(self, part: Outgoing) -> int:
        return self._migrated.get(part.chat_id, part.chat_id)

    async def _send_part(self, part: Outgoing) -> Message | None:
        backoff = FIRST_BACKOFF
        failing_since: float | None = None
        while True:
            wait = self.limiter.blocked_for(part.chat_id) if self.limiter is not None else 0.0
            if wait > 0:
                await self._wait_out_flood(wait)
                continue
            try:
                message, chat_id = await transmit(self.bot, part)
            except RetryAfter as exc:
                if self.limiter is None:  # no limiter remembers it: wait here
                    await self._wait_out_flood(retry_after_seconds(exc))
                continue
            except BadRequest as exc:  # before NetworkError: PTB derives it from that
                logger.error("Telegram refused a reply: %s", exc)
                self.metrics.replies_dropped.labels("refused").inc()
                raise _Dropped(Undeliverable(str(exc))) from exc
            except (TimedOut, NetworkError) as exc:
                now = self._clock()
                failing_since = now if failing_since is None else failing_since
                self._outage_began(now, exc)
                if now - failing_since >= OUTAGE_BUDGET:
                    logger.error("Gave up a reply after %.0f s without Telegram", OUTAGE_BUDGET)
                    self.metrics.replies_dropped.labels("outage").inc()
                    raise _Dropped(TelegramUnavailable(str(exc))) from exc
                await self._sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF)
                continue
            self._outage_ended()
            if chat_id != part.chat_id:
                self._migrated[part.chat_id] = chat_id
            return message

    async def _wait_out_flood(self, wait: float) -> None:
        if wait > MAX_FLOOD_WAIT:
            logger.warning(
                "Telegram asks to wait %.0f s before writing to a chat (limit %.0f s);"
                " dropping the reply",
                wait,
                MAX_FLOOD_WAIT,
            )
            self.metrics.replies_dropped.labels("flood_wait").inc()
            raise _Dropped(TelegramUnavailable(f"Telegram asks to wait {wait:.0f} s"))
        if self._closing:
            raise _Abandoned
        logger.info("Waiting %.1f s for Telegram's flood limit on one chat", wait)
        task = asyncio.current_task()
        assert task is not None
        self._parked.add(task)
        self._changed.set()
        try:
            await self._sleep(wait + 0.05)
        except asyncio.CancelledError:
            if self._closing:
                raise _Abandoned from None
            raise
        finally:
            self._parked.discard(task)

    def _outage_began(self, now: float, exc: Exception) -> None:
        if self._outage_since is None:
            self._outage_since = now
            logger.warning("Telegram cannot be reached (%s); replies wait and are retried", exc)

    def _outage_ended(self) -> None:
        if self._outage_since is not None:
            seconds = self._clock() - self._outage_since
            self._outage_since = None
            logger.warning("Telegram reachable again after %.1f s; sending what waited", seconds)

    def _set_pending(self, value: int) -> None:
        self._pending = value
        self.metrics.replies_pending.set(value)


def _settle(job: _Job, sent: list[Message], failure: Undeliverable | None = None) -> None:
    """Tell whoever waits for this reply how it went: ``on_sent``, or ``send``'s caller."""
    if job.on_sent is not None:
        try:
            job.on_sent(sent)
        except Exception:
            logger.exception("Recording a sent reply failed")
    if job.outcome is not None and not job.outcome.done():  # done: its caller was cancelled
        if failure is None:
            job.outcome.set_result(sent)
        else:
            job.outcome.set_exception(failure)
