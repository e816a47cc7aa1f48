"""faqbot: answers German customer questions from a YAML FAQ knowledge base."""

from __future__ import annotations

__version__ = "0.1.0"
