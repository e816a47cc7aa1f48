"""Docs and data are tested like code: the README, the staff guide, the labelled set."""

from __future__ import annotations

import re

import pytest
import yaml

from bot.knowledge import KnowledgeBase
from tests.conftest import FAQ_DIR, LABELLED_SET, ROOT

COMMANDS = ["ask", "check", "eval", "chat", "run", "health", "stats", "suggest", "report"]


@pytest.fixture(scope="module")
def labelled() -> list[dict[str, object]]:
    questions: list[dict[str, object]] = yaml.safe_load(LABELLED_SET.read_text("utf-8"))[
        "questions"
    ]
    return questions


def _normal(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.casefold()).split())


def test_readme_documents_every_command_and_both_setup_commands() -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    for command in COMMANDS:
        assert f"faqbot {command}" in readme
    assert "pip install -e . && .venv/bin/faqbot run" in readme
    assert "pip install -e '.[dev]' && .venv/bin/pytest" in readme


def test_readme_and_staff_guide_show_how_to_get_the_report_from_the_container() -> None:
    command = "docker compose run --rm faqbot faqbot report --out - > report.html"
    assert command in (ROOT / "README.md").read_text("utf-8")
    assert command in (FAQ_DIR / "README.md").read_text("utf-8")


def test_ci_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text("utf-8")
    assert ".venv/bin/pytest" in ci
    assert "pip install --quiet -e '.[dev]'" in ci


def test_staff_guide_is_german_and_covers_checking_and_trying() -> None:
    guide = (FAQ_DIR / "README.md").read_text("utf-8")
    for command in ["faqbot check", "faqbot ask", "faqbot chat", "faqbot eval"]:
        assert command in guide
    assert "Sie" in guide and "alternatives" in guide


def test_labelled_set_has_the_promised_size_and_mix(labelled: list[dict[str, object]]) -> None:
    out_of_scope = [q for q in labelled if q["expected"] is None]
    with_typos = [q for q in labelled if "typo" in (q.get("tags") or [])]  # type: ignore[operator]
    assert len(labelled) >= 250
    assert len(out_of_scope) >= 60
    assert len(with_typos) >= len(labelled) / 5


def test_labelled_set_covers_every_entry(
    labelled: list[dict[str, object]], shipped_kb: KnowledgeBase
) -> None:
    expected = {q["expected"] for q in labelled}
    assert {entry.id for entry in shipped_kb} <= expected
    assert expected - {None} <= {entry.id for entry in shipped_kb}


def test_labelled_set_never_repeats_knowledge_base_wording(
    labelled: list[dict[str, object]], shipped_kb: KnowledgeBase
) -> None:
    phrasings = {_normal(p) for entry in shipped_kb for p in entry.phrasings}
    repeated = [q["text"] for q in labelled if _normal(str(q["text"])) in phrasings]
    assert repeated == []


def test_labelled_questions_are_unique(labelled: list[dict[str, object]]) -> None:
    texts = [_normal(str(q["text"])) for q in labelled]
    assert len(texts) == len(set(texts))


def test_readme_layout_names_every_module_and_only_existing_ones() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    named = set(re.findall(r"\bbot/[a-z_]+\.py\b", readme))
    modules = {
        f"bot/{path.name}" for path in (ROOT / "bot").glob("*.py") if not path.name.startswith("_")
    }
    assert sorted(modules - named) == [], "modules the README's layout does not describe"
    assert sorted(named - modules) == [], "modules the README names that do not exist"
