"""The faqbot command as staff and scripts use it."""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import build_parser, main
from bot.knowledge import load_knowledge_base
from tests.conftest import FAQ_DIR, ROOT


def subcommands() -> dict[str, argparse.ArgumentParser]:
    """The parser's commands, as ``faqbot --help`` lists them (argparse has no public
    way to list them, so this reads its subparsers action)."""
    actions = build_parser()._actions
    [commands] = [action for action in actions if isinstance(action, argparse._SubParsersAction)]
    return dict(commands.choices)


COMMANDS = sorted(subcommands())


def run_cli(
    *args: str, stdin: str = "", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=environment,
        timeout=120,
        check=False,
    )


@pytest.fixture
def broken_faq_dir(tmp_path: Path) -> Path:
    (tmp_path / "web.yaml").write_text(
        "category: Web\nentries:\n  - id: dnssec\n    question: Was ist DNSSEC?\n"
        "    alternativs: [x]\n    answer: Eine Antwort.\n",
        encoding="utf-8",
    )
    return tmp_path


def test_ask_json_answer_has_the_documented_shape(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", "--json", "--faq-dir", str(FAQ_DIR), "Was genau ist dnssec?"]) == 0
    reply = json.loads(capsys.readouterr().out)
    assert set(reply) == {"decision", "confidence", "semantic", "match", "suggestions"}
    assert reply["decision"] == "answer"
    assert reply["match"]["id"] == "dnssec"
    assert set(reply["match"]) == {"id", "score", "question", "lexical", "cosine"}
    assert 0 < reply["match"]["score"] <= 1
    assert 0 < reply["confidence"] <= 1
    # Both signals whenever the semantic stage ran; the lexical one always.
    assert 0 < reply["match"]["lexical"] <= 1
    assert (reply["match"]["cosine"] is not None) == reply["semantic"]
    assert all(s["id"] != "dnssec" for s in reply["suggestions"])


def test_ask_json_ambiguous_question_suggests_without_match(
    capsys: pytest.CaptureFixture[str],
) -> None:
    main(["ask", "--json", "--faq-dir", str(FAQ_DIR), "wordpress"])
    reply = json.loads(capsys.readouterr().out)
    assert reply["decision"] == "suggest"
    assert reply["match"] is None
    ids = [s["id"] for s in reply["suggestions"]]
    assert {"wordpress-theme", "wordpress-installieren"} <= set(ids)
    scores = [s["score"] for s in reply["suggestions"]]
    assert scores == sorted(scores, reverse=True)
    assert len(ids) <= 3


def test_ask_readable_output_shows_decision_and_answer(capsys: pytest.CaptureFixture[str]) -> None:
    main(["ask", "--faq-dir", str(FAQ_DIR), "Hallo, was kann ich gegen Spamkommentare tun?"])
    out = capsys.readouterr().out
    assert out.startswith("decision: answer")
    assert "kommentar-spam" in out
    assert "Wie vermeide ich Kommentar-Spam in Blogs?" in out


def test_ask_out_of_scope_question_gets_none(capsys: pytest.CaptureFixture[str]) -> None:
    main(["ask", "--json", "--faq-dir", str(FAQ_DIR), "Was ist eine Photovoltaikanlage?"])
    assert json.loads(capsys.readouterr().out)["decision"] == "none"


def test_ask_stdin_writes_one_json_line_per_question_in_order() -> None:
    questions = ["dnssec", "", "🙂", "Wie finde ich das richtige Fahrrad?", "shitstorm"] * 2000
    result = run_cli("ask", stdin="\n".join(questions) + "\n")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 10_000
    replies = [json.loads(line) for line in lines[:5]]
    assert [r["decision"] for r in replies] == ["answer", "none", "none", "none", "answer"]
    assert replies[4]["match"]["id"] == "shitstorm"


def test_ask_faq_dir_from_environment(tmp_path: Path) -> None:
    result = run_cli("ask", "--json", "dnssec", env={"FAQ_DIR": str(tmp_path)})
    assert result.returncode == 1
    assert f"Im FAQ-Ordner „{tmp_path}“ liegt keine .yaml-Datei." in result.stderr


def test_check_shipped_knowledge_base_passes() -> None:
    result = run_cli("check")
    assert result.returncode == 0, result.stdout + result.stderr
    kb = load_knowledge_base(FAQ_DIR)
    small_talk = f" {len(kb.smalltalk)} Small-Talk-Einträge," if kb.smalltalk else ""
    summary = (
        f"OK: {len(kb)} Einträge in {len(kb.categories)} Kategorien,{small_talk}"
        " 0 Entwürfe, 0 Warnungen."
    )
    assert result.stdout.splitlines()[-1] == summary


def test_check_reports_file_line_and_fails(
    broken_faq_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", "--faq-dir", str(broken_faq_dir)]) == 1
    out = capsys.readouterr().out
    assert f"{broken_faq_dir / 'web.yaml'}:5: Das Feld „alternativs“ gibt es nicht." in out
    assert "Meinten Sie „alternatives“?" in out
    assert "  5 |     alternativs: [x]\n    |     ^\n" in out
    assert out.rstrip().endswith(
        "1 Fehler gefunden; nichts wurde geladen."
        " Der Bot antwortet weiter mit der letzten fehlerfreien Fassung."
    )


def test_check_json_lists_problems_for_editors(
    broken_faq_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", "--json", "--faq-dir", str(broken_faq_dir)]) == 1
    captured = capsys.readouterr()
    [problem] = json.loads(captured.out)
    assert problem == {
        "file": str(broken_faq_dir / "web.yaml"),
        "line": 5,
        "column": 5,
        "severity": "error",
        "code": "unknown-key",
        "message": problem["message"],
    }
    assert problem["message"].startswith("Das Feld „alternativs“ gibt es nicht.")
    assert "nichts wurde geladen" in captured.err


def test_check_json_of_a_good_folder_is_an_empty_list(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["check", "--json", "--no-confusions", "--faq-dir", str(FAQ_DIR)]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out) == []
    assert captured.err.startswith("OK: ")


def test_check_warns_about_confusable_entries(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "a.yaml").write_text(
        "category: A\nentries:\n"
        "  - id: rad-kaufen\n    question: Wie kaufe ich ein Fahrrad?\n"
        "    answer: Im Fachhandel.\n"
        "  - id: rad-kauf\n    question: Wo kaufe ich ein Fahrrad?\n"
        "    answer: Beim Händler.\n",
        encoding="utf-8",
    )
    assert main(["check", "--faq-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert f"{tmp_path / 'a.yaml'}:4: Warnung: „Wie kaufe ich ein Fahrrad?“ (rad-kaufen)" in out
    assert "lässt sich mit dem Eintrag „rad-kauf“ verwechseln" in out


def test_eval_prints_figures_and_baselines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    labelled = tmp_path / "set.yaml"
    labelled.write_text(
        "questions:\n"
        '  - {text: "dnssec was ist das", expected: dnssec}\n'
        '  - {text: "shitstrom vorbereiten", expected: shitstorm}\n'
        '  - {text: "Rezept für Apfelkuchen", expected: null}\n',
        encoding="utf-8",
    )
    assert main(["eval", "--faq-dir", str(FAQ_DIR), "--baselines", str(labelled)]) == 0
    out = capsys.readouterr().out
    assert "3 questions, 2 in scope, 1 out of scope" in out
    for method in ["faqbot", "difflib ratio", "rapidfuzz WRatio", "token_set_ratio", "BM25"]:
        assert method in out


def test_eval_json_reports_every_method(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    labelled = tmp_path / "set.yaml"
    labelled.write_text('questions:\n  - {text: "dnssec", expected: dnssec}\n', encoding="utf-8")
    main(["eval", "--json", "--baselines", "--faq-dir", str(FAQ_DIR), str(labelled)])
    report = json.loads(capsys.readouterr().out)
    assert report["figures"][0]["method"] == "faqbot"
    assert report["figures"][0]["top1"] == 1.0
    methods = [figures["method"] for figures in report["figures"]]
    stages = ["faqbot lexical-only", "faqbot semantic-only"] if report["semantic"] else []
    assert methods[: 1 + len(stages)] == ["faqbot", *stages]
    assert len(methods) == 1 + len(stages) + 5  # and the five baselines


def test_eval_questions_only_reduces_entries_to_their_question(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    labelled = tmp_path / "set.yaml"
    labelled.write_text('questions:\n  - {text: "dnssec", expected: dnssec}\n', encoding="utf-8")
    main(["eval", "--json", "--questions-only", "--faq-dir", str(FAQ_DIR), str(labelled)])
    report = json.loads(capsys.readouterr().out)
    assert report["questions_only"] is True
    assert report["figures"][0]["set"] == str(labelled)
    assert 0 <= report["figures"][0]["precision"] <= 1 or report["figures"][0]["precision"] is None


def test_eval_unknown_expected_id_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    labelled = tmp_path / "set.yaml"
    labelled.write_text('questions:\n  - {text: "x", expected: no-such-entry}\n', encoding="utf-8")
    assert main(["eval", "--faq-dir", str(FAQ_DIR), str(labelled)]) == 1
    assert "unknown entry id 'no-such-entry'" in capsys.readouterr().err


def _none_of_these_number(question: str) -> int:
    """Where "Keine davon" is listed: after the suggestions the bot makes (as configured)."""
    from bot.commands_common import semantic_matcher
    from bot.config import load_common_settings

    settings = load_common_settings(os.environ)
    matcher, _ = semantic_matcher(load_knowledge_base(FAQ_DIR), settings)
    return len(matcher.match(question).suggestions) + 1


def test_chat_runs_the_conversation_with_numbered_choices() -> None:
    result = run_cli("chat", stdin="wordpress\n2\nthemen\n1\nende\n")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Meinten Sie eine dieser Fragen?" in out
    assert f"[{_none_of_these_number('wordpress')}] Keine davon" in out
    assert "Zu diesen Themen kann ich Ihnen Auskunft geben:" in out
    assert "« Zurück zu den Themen" in out
    assert out.rstrip().endswith("Auf Wiedersehen!")


def test_chat_none_of_these_offers_contact() -> None:
    number = _none_of_these_number("wordpress")
    result = run_cli(
        "chat", stdin=f"wordpress\n{number}\n", env={"CONTACT_TEXT": "Rufen Sie uns an: 0123"}
    )
    assert "Rufen Sie uns an: 0123" in result.stdout


CONTACT_IN_ENV_FILE = "Schreiben Sie uns: hallo@example.com"
NO_ANSWER_QUESTION = "Wie backe ich einen Apfelkuchen?"


@pytest.fixture
def env_file_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The working folder holds a .env with CONTACT_TEXT and FAQ_DIR, as in a deployment."""
    monkeypatch.delenv("CONTACT_TEXT", raising=False)
    monkeypatch.delenv("FAQ_DIR", raising=False)
    (tmp_path / ".env").write_text(
        f'CONTACT_TEXT="{CONTACT_IN_ENV_FILE}"\nFAQ_DIR={FAQ_DIR}\n', encoding="utf-8"
    )
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_chat_reads_contact_text_and_faq_dir_from_env_file(
    env_file_folder: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(f"{NO_ANSWER_QUESTION}\nende\n"))
    assert main(["chat"]) == 0
    out = capsys.readouterr().out
    assert "Dazu habe ich leider keine passende Antwort gefunden." in out
    assert CONTACT_IN_ENV_FILE in out


def test_ask_uses_contact_text(env_file_folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", NO_ANSWER_QUESTION]) == 0
    out = capsys.readouterr().out
    assert out.startswith("decision: none")
    assert CONTACT_IN_ENV_FILE in out


def test_ask_reads_semantic_and_data_dir_from_env_file(
    env_file_folder: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("SEMANTIC", raising=False)
    monkeypatch.delenv("DATA_DIR", raising=False)
    with (env_file_folder / ".env").open("a", encoding="utf-8") as env_file:
        env_file.write("SEMANTIC=off\nDATA_DIR=elsewhere\n")
    assert main(["ask", "--json", "Was ist DNSSEC?"]) == 0
    assert json.loads(capsys.readouterr().out)["semantic"] is False
    assert not (env_file_folder / "data").exists()


def test_run_without_token_points_to_chat() -> None:
    env = {k: v for k, v in os.environ.items() if k != "TELEGRAM_BOT_TOKEN"}
    result = subprocess.run(
        [sys.executable, "-m", "bot", "run"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "TELEGRAM_BOT_TOKEN is not set" in result.stderr
    assert "faqbot chat" in result.stderr


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_with_an_example(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args([command, "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    examples = re.findall(rf"^Example: .*\bfaqbot {re.escape(command)}\b", out, re.MULTILINE)
    assert examples, f"faqbot {command} --help shows no example"
    assert "--faq-dir" in out


def test_commands_are_those_the_module_docstring_names() -> None:
    import bot.cli

    assert bot.cli.__doc__ is not None
    named = bot.cli.__doc__.splitlines()[0].split(": ", 1)[1].rstrip(".").split(", ")
    assert sorted(named) == COMMANDS


# stats and suggest ------------------------------------------------------------------------


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    from bot.store import ChoiceEvent, FeedbackEvent
    from tests.conftest import ago, question, write

    return write(
        tmp_path / "data",
        [
            question("Was ist DNSSEC?", "answer", "dnssec", 0.95),
            question("dnssec", "answer", "dnssec", 0.9),
            FeedbackEvent(1, 1, None, "dnssec", helpful=False),
            question("Was kostet eine Website?", "none", None, 0.1, asked_at=ago(days=40)),
            question("Was kostet eine neue Website?", "none", None, 0.1),
            question("was kostet eine neue website", "none", None, 0.2),
            question("dnssec sicher?", "suggest", "dnssec", 0.66, chat=7, reply=70),
            ChoiceEvent(1, 7, 70, "dnssec"),
        ],
    )


def test_stats_prints_the_report(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["stats", "--data-dir", str(data_dir)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Fragen (letzte 30 Tage): 5 · beantwortet 40 % · Vorschläge 20 %")
    assert "  3× dnssec · 👍 0 · 👎 1" in out
    assert "Meist „nicht hilfreich“:" in out
    assert "  2× was kostet eine neue website" in out


def test_stats_json_and_all_time(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["stats", "--json", "--days", "0", "--data-dir", str(data_dir)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert set(report) == {
        "period",
        "totals",
        "rates",
        "entries",
        "most_not_helpful",
        "unanswered",
        "handoffs",
    }
    assert report["period"] == {"days": None, "since": None}
    assert report["totals"]["questions"] == 6
    assert report["unanswered"][0]["count"] == 3  # the one 40 days ago counts too
    assert main(["stats", "--json", "--days", "7", "--data-dir", str(data_dir)]) == 0
    assert json.loads(capsys.readouterr().out)["totals"]["questions"] == 5


def test_stats_reads_data_dir_from_environment(data_dir: Path) -> None:
    result = run_cli("stats", "--days", "0", env={"DATA_DIR": str(data_dir)})
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Fragen (gesamt): 6 ·")


def test_suggest_prints_yaml_drafts_and_alternatives(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import yaml

    assert main(["suggest", "--data-dir", str(data_dir), "--faq-dir", str(FAQ_DIR)]) == 0
    out = capsys.readouterr().out
    assert "Nichts davon wurde übernommen" in out
    suggestions = yaml.safe_load(out)
    assert [draft["id"] for draft in suggestions["entries"]] == ["kostet-neue-website"]
    assert suggestions["entries"][0]["question"] == "Was kostet eine neue Website?"
    assert suggestions["new_alternatives"] == {"dnssec": {"alternatives": ["dnssec sicher?"]}}


@pytest.mark.parametrize("command", ["stats", "suggest"])
def test_stats_and_suggest_without_a_store_name_the_path(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nothing-here"
    args = [command, "--data-dir", str(missing), "--faq-dir", str(FAQ_DIR)]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert f"no analytics store at {missing / 'faqbot.sqlite3'}" in err
    assert "Traceback" not in err


def test_stats_rejects_a_negative_period_and_a_broken_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["stats", "--days", "-1", "--data-dir", str(tmp_path)]) == 1
    assert "--days must be 0 (all time) or more" in capsys.readouterr().err
    (tmp_path / "faqbot.sqlite3").write_bytes(b"this is not a database" * 100)
    assert main(["stats", "--data-dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert f"cannot read the analytics store {tmp_path / 'faqbot.sqlite3'}" in err
