"""The error hierarchy of faqbot.

    FaqError
     ├── KnowledgeBaseError   the FAQ files cannot be loaded as a whole
     ├── LabelledSetError     an evaluation file is malformed
     ├── ConfigError          a setting from the environment is missing or invalid
     └── ReportUnavailable    the analytics store cannot be read just now

Every message says what is wrong, where, and what to do. The CLI turns these into
clean exits; nothing else should need to catch them.
"""

from __future__ import annotations

from dataclasses import dataclass


class FaqError(Exception):
    """Base class of every error faqbot reports to a person."""


@dataclass(frozen=True)
class Problem:
    """One finding in a file: where it is, how serious, and what to do (German for staff)."""

    file: str
    line: int
    """1-based; 0 when the finding concerns a whole file or folder."""
    message: str
    column: int = 0
    """1-based; 0 when no single spot can be named."""
    severity: str = "error"
    """"error" (nothing is loaded), "warning" or "info" (listed only)."""
    code: str = ""
    """A stable name of the kind of finding, for editors and CI (``faqbot check --json``)."""
    excerpt: str = ""
    """The offending line as written, shown with a marker under ``column``."""

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.message}"

    def render(self) -> str:
        """The message, then the offending line with a marker under the spot (for terminals)."""
        where = f"{self.file}:{self.line}" if self.line else self.file
        label = {"warning": "Warnung: ", "info": "Hinweis: "}.get(self.severity, "")
        text = f"{where}: {label}{self.message}"
        if self.excerpt:
            number = str(self.line)
            shown = self.excerpt.replace("\t", "→")  # a tab would misplace the marker
            text += f"\n  {number} | {shown}"
            if self.column:
                text += f"\n  {' ' * len(number)} | {' ' * (self.column - 1)}^"
        return text

    def as_json(self) -> dict[str, object]:
        """The ``faqbot check --json`` shape (an interface: keep it stable)."""
        return {
            "file": self.file,
            "line": self.line or None,
            "column": self.column or None,
            "severity": self.severity,
            "code": self.code,
            "message": self.message,
        }


class KnowledgeBaseError(FaqError):
    """The knowledge base has errors; nothing of it was loaded."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(problem) for problem in problems))


class LabelledSetError(FaqError):
    """A labelled question file for evaluation is malformed."""


class ConfigError(FaqError):
    """An environment setting is missing or has a bad value."""


class ReportUnavailable(FaqError):
    """The analytics store cannot be read just now (locked, missing, database down)."""
