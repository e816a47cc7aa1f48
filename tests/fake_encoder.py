"""A small fake sentence encoder for tests of the semantic stage (no model needed)."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

import numpy as np

from bot.semantic import Vectors

CONCEPTS = {
    "bike": ("fahrrad", "rad", "velo"),
    "cake": ("kuchen", "torte", "backen"),
    "tax": ("steuer", "finanzamt"),
}
"""What the fake encoder understands: words of one concept mean the same."""


class ConceptEncoder:
    """A fake sentence encoder: texts about the same concept get cosines near 0.97,
    others near 0.8, as compressed as e5's. Counts the texts it encodes."""

    model_id = "fake-concepts-1"
    dimension = 8

    def __init__(self, *, delay: float = 0.0) -> None:
        self.encoded: list[str] = []
        self.threads: list[str] = []
        """The name of the thread each call ran on."""
        self.delay = delay

    def encode(self, texts: Sequence[str]) -> Vectors:
        if self.delay:
            time.sleep(self.delay)
        self.encoded += texts
        self.threads.append(threading.current_thread().name)
        rows = []
        for text in texts:
            vector = np.zeros(self.dimension)
            vector[0] = 2.0  # what all texts share: cosines stay high, as e5's do
            folded = text.lower()
            for axis, words in enumerate(CONCEPTS.values(), start=1):
                if any(word in folded for word in words):
                    vector[axis] += 1.0
            vector[7] = 0.3 * (len(folded) % 3)  # a little noise by length
            rows.append(vector / np.linalg.norm(vector))
        return np.array(rows, dtype=np.float32)
