"""``faqbot check``: everything staff should know about the FAQ folder, in one report.

Errors (nothing is loaded), then warnings, then the drafts that are kept out of the
bot. Beyond the schema, every question and alternative of an entry is matched against
the whole knowledge base: if another entry wins, or comes within the matcher's answer
margin, customers asking that way will get suggestions or the wrong answer, and staff
should make the phrasing more specific before customers notice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bot.errors import KnowledgeBaseError, Problem
from bot.fusion import top
from bot.knowledge import Entry, KnowledgeBase, load_knowledge_base
from bot.matcher import Matcher
from bot.progress import INDEXING, READING, Phase, quietly
from bot.smalltalk import shadowed_phrasings


@dataclass(frozen=True)
class CheckReport:
    """What ``faqbot check`` found: errors, warnings and drafts, in that order."""

    findings: tuple[Problem, ...]
    kb: KnowledgeBase | None

    @property
    def ok(self) -> bool:
        return self.kb is not None

    def summary(self) -> str:
        """One German line for the end of the output."""
        count = {
            severity: sum(1 for p in self.findings if p.severity == severity)
            for severity in ("error", "warning", "info")
        }
        if self.kb is None:
            return (
                f"{_plural(count['error'], 'Fehler', 'Fehler')} gefunden; nichts wurde geladen."
                " Der Bot antwortet weiter mit der letzten fehlerfreien Fassung."
            )
        small_talk = (
            f" {_plural(len(self.kb.smalltalk), 'Small-Talk-Eintrag', 'Small-Talk-Einträge')},"
            if self.kb.smalltalk
            else ""
        )
        return (
            f"OK: {_plural(len(self.kb), 'Eintrag', 'Einträge')} in"
            f" {_plural(len(self.kb.categories), 'Kategorie', 'Kategorien')},{small_talk}"
            f" {_plural(count['info'], 'Entwurf', 'Entwürfe')},"
            f" {_plural(count['warning'], 'Warnung', 'Warnungen')}."
        )


Progress = Callable[[int, int], None]
"""Called as (entries done, entries in all) while phrasings are compared."""


def check_folder(
    faq_dir: Path,
    *,
    confusions: bool = True,
    progress: Progress | None = None,
    phase: Phase = quietly,
) -> CheckReport:
    """Load ``faq_dir`` and collect every finding for staff.

    ``progress`` gets the confusable check's steps; ``phase`` names the reading and the
    index build before it (each over a second at 10,000 entries)."""
    try:
        with phase(READING):
            kb = load_knowledge_base(faq_dir)
    except KnowledgeBaseError as exc:
        return CheckReport(tuple(exc.problems), None)
    warnings = list(kb.warnings)
    if confusions:
        with phase(INDEXING):
            matcher = Matcher(kb)
        warnings += confusable_phrasings(matcher, progress=progress)
    warnings += shadowed_phrasings(kb)
    drafts = [draft_notice(entry) for entry in kb.drafts]
    return CheckReport((*warnings, *drafts), kb)


def draft_notice(entry: Entry) -> Problem:
    """The ``info`` line that lists a draft."""
    return Problem(
        entry.source,
        entry.line,
        f"Entwurf „{entry.id}“ („{entry.question}“) wird nicht angezeigt. Zum Veröffentlichen"
        " schreiben Sie die Antwort fertig und löschen die Zeile „draft: true“.",
        severity="info",
        code="draft",
    )


def confusable_phrasings(matcher: Matcher, *, progress: Progress | None = None) -> list[Problem]:
    """Warnings for phrasings that another entry matches as well as their own.

    Every phrasing is asked of the whole base: about 3 ms each, so 10,000 entries with
    seven phrasings take minutes, which ``progress`` can show.
    """
    margin = matcher.settings.margin
    warnings = []
    entries = matcher.kb.entries
    for number, entry in enumerate(entries):
        if progress is not None:
            progress(number, len(entries))
        lines = entry.phrasing_lines or (entry.line,) * len(entry.phrasings)
        for phrasing, line in zip(entry.phrasings, lines, strict=False):
            # Every entry's score, not the short ranking a reply shows: where many
            # entries tie, the own entry may rank beyond it and would read as 0.
            scores = matcher.lexical_pass(phrasing).scores
            own = round(float(scores[number]), 4)
            # The best other entry, ties in entry order as in a reply's ranking.
            rival_number = next((int(i) for i in top(scores, 2) if i != number), None)
            rival = round(float(scores[rival_number]), 4) if rival_number is not None else 0.0
            if rival_number is not None and rival >= own - margin and rival > 0:
                warnings.append(
                    Problem(
                        entry.source,
                        line,
                        f"„{phrasing}“ ({entry.id}) lässt sich mit dem Eintrag"
                        f" „{entries[rival_number].id}“ verwechseln (Übereinstimmung"
                        f" {_score(own)} zu {_score(rival)}). Formulieren Sie die Frage"
                        " eindeutiger oder ergänzen Sie Alternativen, die nur zu einem der"
                        " beiden passen.",
                        severity="warning",
                        code="confusable",
                    )
                )
    if progress is not None:
        progress(len(entries), len(entries))
    return warnings


def _score(value: float) -> str:
    return f"{value:.2f}".replace(".", ",")


def _plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"
