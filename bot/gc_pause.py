"""Python's cyclic garbage collector held off while a knowledge base is read and indexed.

Reading and indexing allocate millions of small containers (YAML nodes, tuples, lists,
dicts, entries) that all survive until the step ends. Every surviving batch of
allocations moves the collector a step towards a full collection, and a full collection
walks every object the process holds, the half-built index included: reading a
10,000-entry file ran 11 full collections that took 1.5 s of its 3 s and found nothing,
because these objects hold no reference cycles. Reference counting still frees
everything as usual while the collector waits; only cycles made meanwhile (by any
thread) wait until the last pause ends.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_pauses = 0
_resume = False


@contextmanager
def collector_paused() -> Iterator[None]:
    """Keep the cyclic collector off inside; safe to nest and to use from several threads.

    The collector is turned back on when the last pause ends, and only if it was on when
    the first one began.
    """
    global _pauses, _resume
    with _lock:
        if _pauses == 0:
            _resume = gc.isenabled()
            gc.disable()
        _pauses += 1
    try:
        yield
    finally:
        with _lock:
            _pauses -= 1
            if _pauses == 0 and _resume:
                gc.enable()
