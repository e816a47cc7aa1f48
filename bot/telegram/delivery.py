"""Getting a reply to the customer despite Telegram's bad moments.

- 429 Too Many Requests: wait ``retry_after`` and try again; no reply is lost.
- Network errors and timeouts: retry with exponential backoff.
- "Can't parse entities": send the plain-text twin instead.
- The user blocked the bot: log and move on; there is nobody to tell.
- "Message is not modified" or a button press too old to answer: nothing to do.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

logger = logging.getLogger(__name__)

T = TypeVar("T")

ATTEMPTS = 5
"""Network errors and timeouts tolerated per message."""
MAX_WAITS = 20
"""Flood-control waits per message before giving up (each at most MAX_RETRY_AFTER)."""
FIRST_BACKOFF = 0.5
MAX_RETRY_AFTER = 60.0


HARMLESS = (
    "message is not modified",  # a double tap asked for what is already shown
    "query is too old",  # a button pressed while the bot was down: just do the rest
    "query id is invalid",
)
"""Telegram refusals that mean there is nothing left to do, not that something failed."""


class Undeliverable(Exception):
    """The message could not be delivered after all retries, or never can be."""


async def deliver(
    send: Callable[[], Awaitable[T]],
    *,
    plain: Callable[[], Awaitable[T]] | None = None,
    what: str = "message",
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
) -> T | None:
    """Call ``send`` until it succeeds; None when the chat cannot be reached at all."""
    backoff = FIRST_BACKOFF
    failures = 0
    for _ in range(MAX_WAITS + ATTEMPTS):
        try:
            return await send()
        except RetryAfter as exc:
            # Telegram's flood control: waiting is always enough, so it does not count
            # as a failure; no reply is lost to a busy moment.
            wait = _seconds(exc.retry_after)
            logger.warning("Telegram asks to wait %.1f s before the %s", wait, what)
            await sleep(min(wait, MAX_RETRY_AFTER) + 0.1)
        except Forbidden as exc:
            logger.info("Cannot send the %s, the chat is closed to the bot: %s", what, exc)
            return None
        except BadRequest as exc:
            reason = str(exc).lower()
            if any(harmless in reason for harmless in HARMLESS):
                logger.info("Nothing to do for the %s: %s", what, exc)
                return None
            if plain is not None and "parse entities" in reason:
                logger.warning("Telegram could not parse the %s; sending plain text", what)
                send, plain = plain, None
                continue
            raise
        except (TimedOut, NetworkError) as exc:
            failures += 1
            if failures == ATTEMPTS:
                raise Undeliverable(f"{what}: {exc}") from exc
            logger.warning("Sending the %s failed (%s); retrying in %.1f s", what, exc, backoff)
            await sleep(backoff)
            backoff *= 2
    raise Undeliverable(f"{what}: gave up after {MAX_WAITS + ATTEMPTS} attempts")


def _seconds(retry_after: object) -> float:
    total_seconds = getattr(retry_after, "total_seconds", None)
    if callable(total_seconds):
        return float(total_seconds())
    return float(retry_after)  # type: ignore[arg-type]
