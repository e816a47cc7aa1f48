"""Progress of long work (embedding a knowledge base): a bar on a terminal, log lines
otherwise. Nothing is shown for work that ends within a second."""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import TextIO

logger = logging.getLogger(__name__)

BAR_WIDTH = 30
LOG_EVERY = 10.0
"""Seconds between progress log lines when no terminal is attached (the bot's logs)."""
REDRAW_EVERY = 0.1
"""Seconds between redraws of the bar on a terminal."""
TICK_EVERY = 0.5
"""Seconds between redraws of the elapsed time of work without steps (``working``)."""
READING = "Wissensdatenbank wird gelesen"
INDEXING = "Suchindex wird aufgebaut"

Phase = Callable[[str], AbstractContextManager[None]]
"""A named step of work without steps to count: ``working`` on a terminal, else ``quietly``."""


class ProgressReport:
    """Callable as (done, total); draws a bar on a terminal or logs every few seconds."""

    def __init__(
        self,
        label: str,
        *,
        stream: TextIO | None = None,
        delay: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        self.delay = delay
        self._clock = clock
        self._started: float | None = None
        self._last_log = 0.0
        self._drawn = False
        self._last_drawn = -REDRAW_EVERY
        self.terminal = bool(getattr(self.stream, "isatty", lambda: False)())

    def __call__(self, done: int, total: int) -> None:
        now = self._clock()
        if self._started is None:
            self._started = self._last_log = now
        elapsed = now - self._started
        if total <= 0 or (elapsed < self.delay and done < total):
            return
        if self.terminal:
            if done >= total and not self._drawn:
                return  # finished within the delay: nothing to show
            filled = BAR_WIDTH * done // total
            bar = "#" * filled + "-" * (BAR_WIDTH - filled)
            end = "\n" if done >= total else ""
            # Callers may report thousands of steps a second: redraw ten times a second.
            if done >= total or now - self._last_drawn >= REDRAW_EVERY:
                self.stream.write(f"\r{self.label} [{bar}] {done}/{total} ({elapsed:.0f} s){end}")
                self.stream.flush()
                self._last_drawn = now
            self._drawn = done < total
        elif done >= total:
            if elapsed >= self.delay:
                logger.info("%s: %d of %d done in %.0f s", self.label, done, total, elapsed)
        elif now - self._last_log >= LOG_EVERY or self._last_log == self._started:
            self._last_log = now
            logger.info("%s: %d of %d (%.0f s so far)", self.label, done, total, elapsed)


def quietly(label: str) -> AbstractContextManager[None]:
    """A ``Phase`` that shows nothing."""
    return nullcontext()


@contextmanager
def working(label: str, *, stream: TextIO | None = None, delay: float = 1.0) -> Iterator[None]:
    """Show ``label`` and the seconds so far on a terminal while the block runs.

    For work without steps to count (reading a 10,000-entry file: about 1.5 s, most of
    it one call into libyaml). Nothing for work that ends within ``delay``, nothing
    without a terminal. A thread draws the line: the work holds no lock it needs, and
    it gets its turn between the work's Python steps.
    """
    out = stream if stream is not None else sys.stderr
    if not getattr(out, "isatty", lambda: False)():
        yield
        return
    finished = threading.Event()
    started = time.monotonic()
    drawn = False

    def draw() -> None:
        nonlocal drawn
        wait = delay
        while not finished.wait(wait):
            out.write(f"\r{label} … ({time.monotonic() - started:.0f} s)")
            out.flush()
            drawn = True
            wait = TICK_EVERY

    thread = threading.Thread(target=draw, name="progress", daemon=True)
    thread.start()
    try:
        yield
    finally:
        finished.set()
        thread.join()  # after it, the drawing thread's last write and ``drawn`` are seen
        if drawn:
            out.write(f"\r{label} … fertig ({time.monotonic() - started:.0f} s)\n")
            out.flush()
