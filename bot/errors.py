"""The error hierarchy of faqbot.

    FaqError
     ├── KnowledgeBaseError   the FAQ files cannot be loaded as a whole
     ├── LabelledSetError     an evaluation file is malformed
     └── ConfigError          a setting from the environment is missing or invalid

Every message says what is wrong, where, and what to do. The CLI turns these into
clean exits; nothing else should need to catch them.
"""

from __future__ import annotations

from dataclasses import dataclass


class FaqError(Exception):
    """Base class of every error faqbot reports to a person."""


@dataclass(frozen=True)
class Problem:
    """One finding in a file: where it is and what is wrong."""

    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


class KnowledgeBaseError(FaqError):
    """The knowledge base has errors; nothing of it was loaded."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(problem) for problem in problems))


class LabelledSetError(FaqError):
    """A labelled question file for evaluation is malformed."""


class ConfigError(FaqError):
    """An environment setting is missing or has a bad value."""
