"""bot.reloader: staff edit the FAQ files and the bot serves the change, never a broken one."""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from bot.errors import KnowledgeBaseError, Problem
from bot.reloader import KnowledgeBaseHolder, ReloadResult, Signature, folder_signature
from tests.conftest import wait_until

BROKEN_YAML = 'category: Web\nentries:\n  - id: dnssec\n    question: "Was ist DNSSEC?\n'
WATCH_TIMEOUT = 10.0


def faq_text(category: str, *ids: str) -> str:
    lines = [f"category: {category}", "entries:"]
    for entry_id in ids:
        lines += [
            f"  - id: {entry_id}",
            f"    question: Was bedeutet {entry_id}?",
            f"    answer: {entry_id} ist ein Begriff aus dem Web.",
        ]
    return "\n".join(lines) + "\n"


_bumps = iter(range(1, 1_000_000))


def write(path: Path, text: str) -> None:
    """Write a file as an editor would, with a modification time clearly after the last."""
    path.write_text(text, encoding="utf-8")
    stamp = 1_700_000_000 + next(_bumps)
    os.utime(path, (stamp, stamp))


@pytest.fixture
def faq_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "faq"
    folder.mkdir()
    write(folder / "web.yaml", faq_text("Web", "dnssec", "ssl"))
    write(folder / "marketing.yaml", faq_text("Marketing", "blog"))
    return folder


@pytest.fixture
def holder(faq_dir: Path, looks: Looks) -> KnowledgeBaseHolder:
    held = KnowledgeBaseHolder(faq_dir, removal_settle=0.2, look=looks)
    looks.count = 0  # count the looks of watching, not the one at the start
    return held


def ids(holder: KnowledgeBaseHolder) -> list[str]:
    return [entry.id for entry in holder.current.kb]


def test_holder_loads_the_folder(holder: KnowledgeBaseHolder) -> None:
    assert sorted(ids(holder)) == ["blog", "dnssec", "ssl"]
    assert holder.current.matcher.kb is holder.current.kb
    assert holder.last_result.ok


def test_holder_broken_folder_at_start_fails_fast(faq_dir: Path) -> None:
    write(faq_dir / "web.yaml", BROKEN_YAML)
    with pytest.raises(KnowledgeBaseError):
        KnowledgeBaseHolder(faq_dir)


def test_reload_without_change_changes_nothing(holder: KnowledgeBaseHolder) -> None:
    before = holder.current
    result = holder.reload()
    assert (result.ok, result.changed, result.entries) == (True, False, 3)
    assert holder.current is before


def test_reload_forced_loads_again(holder: KnowledgeBaseHolder) -> None:
    before = holder.current
    result = holder.reload(force=True)
    assert (result.ok, result.changed) == (True, True)
    assert holder.current is not before


@pytest.mark.parametrize(
    ("name", "text", "served", "gone"),
    [
        ("web.yaml", faq_text("Web", "dnssec", "ssl", "cdn"), "cdn", None),
        ("web.yaml", faq_text("Web", "dnssec"), "dnssec", "ssl"),
        ("social.yaml", faq_text("Social Media", "xing"), "xing", None),
    ],
)
def test_reload_after_an_edit_serves_the_new_entries(
    name: str,
    text: str,
    served: str,
    gone: str | None,
    holder: KnowledgeBaseHolder,
    faq_dir: Path,
) -> None:
    write(faq_dir / name, text)
    assert holder.changed_on_disk()
    result = holder.reload()
    assert (result.ok, result.changed) == (True, True)
    assert result.entries == len(holder.current.kb)
    assert holder.current.kb.get(served) is not None
    if gone is not None:
        assert holder.current.kb.get(gone) is None
    assert not holder.changed_on_disk()


def test_reload_new_entry_is_matched(holder: KnowledgeBaseHolder, faq_dir: Path) -> None:
    write(faq_dir / "web.yaml", faq_text("Web", "dnssec", "ssl", "content-delivery-network"))
    holder.reload()
    result = holder.current.matcher.match("Was bedeutet content-delivery-network?")
    assert result.match is not None
    assert result.match.entry.id == "content-delivery-network"


def test_every_entry_is_prepared_in_the_background_after_a_load_and_a_reload(
    holder: KnowledgeBaseHolder, faq_dir: Path
) -> None:
    def prepared() -> bool:
        current = holder.current
        return current.matcher.ngrams.built == len(current.kb)

    wait_until(prepared, "every entry prepared after the start")
    write(faq_dir / "web.yaml", faq_text("Web", "dnssec", "ssl", "cdn", "captcha"))
    holder.reload()
    wait_until(prepared, "every entry prepared after the reload")
    assert holder.current.matcher.ngrams.built == 5  # the new snapshot's own entries


def test_reload_broken_yaml_keeps_the_good_knowledge_base(
    holder: KnowledgeBaseHolder, faq_dir: Path
) -> None:
    before = holder.current
    write(faq_dir / "web.yaml", BROKEN_YAML)
    result = holder.reload()
    assert not result.ok
    assert not result.changed
    assert result.entries == 3
    assert holder.current is before
    assert holder.current.kb.get("ssl") is not None
    assert holder.last_result is result
    [problem] = result.problems
    assert problem.file == str(faq_dir / "web.yaml")
    assert problem.line == 4  # where the quote opens
    assert str(problem).startswith(f"{faq_dir / 'web.yaml'}:4: Das Anführungszeichen in Zeile 4")


def test_reload_after_a_fix_serves_the_fixed_file(
    holder: KnowledgeBaseHolder, faq_dir: Path
) -> None:
    write(faq_dir / "web.yaml", BROKEN_YAML)
    assert not holder.reload().ok
    write(faq_dir / "web.yaml", faq_text("Web", "dnssec", "http3"))
    result = holder.reload()
    assert result.ok
    assert holder.current.kb.get("http3") is not None


def test_reload_all_files_deleted_keeps_the_old_knowledge_base(
    holder: KnowledgeBaseHolder, faq_dir: Path
) -> None:
    before = holder.current
    for path in faq_dir.iterdir():
        path.unlink()
    result = holder.reload()
    assert not result.ok
    assert "liegt keine .yaml-Datei" in result.describe()
    assert holder.current is before
    assert sorted(ids(holder)) == ["blog", "dnssec", "ssl"]


def test_reload_folder_deleted_keeps_the_old_knowledge_base(
    holder: KnowledgeBaseHolder, faq_dir: Path
) -> None:
    for path in faq_dir.iterdir():
        path.unlink()
    faq_dir.rmdir()
    result = holder.reload()
    assert not result.ok
    assert "wurde nicht gefunden" in result.describe()
    assert len(holder.current.kb) == 3


# Telling admins once -------------------------------------------------------------------------


def test_is_new_problem_once_per_distinct_problem_set(
    holder: KnowledgeBaseHolder, faq_dir: Path
) -> None:
    write(faq_dir / "web.yaml", BROKEN_YAML)
    first = holder.reload(force=True)
    assert holder.is_new_problem(first)
    again = holder.reload(force=True)
    assert again.problems == first.problems
    assert not holder.is_new_problem(again)
    write(faq_dir / "marketing.yaml", BROKEN_YAML)
    other = holder.reload(force=True)
    assert len(other.problems) == 2
    assert holder.is_new_problem(other)
    assert not holder.is_new_problem(other)


def test_is_new_problem_resets_after_a_good_reload(
    holder: KnowledgeBaseHolder, faq_dir: Path
) -> None:
    write(faq_dir / "web.yaml", BROKEN_YAML)
    broken = holder.reload()
    assert holder.is_new_problem(broken)
    write(faq_dir / "web.yaml", faq_text("Web", "dnssec"))
    fixed = holder.reload()
    assert not holder.is_new_problem(fixed)
    write(faq_dir / "web.yaml", BROKEN_YAML)
    broken_again = holder.reload()
    assert broken_again.problems == broken.problems
    assert holder.is_new_problem(broken_again)


# Watching the folder ---------------------------------------------------------------------------


class Looks:
    """Counts how often the holder looks at the folder; can act on a given look."""

    def __init__(self) -> None:
        self.count = 0
        self.actions: dict[int, Callable[[], None]] = {}
        self._lock = threading.Condition()

    def __call__(self, faq_dir: Path) -> Signature:
        with self._lock:
            self.count += 1
            action = self.actions.pop(self.count, None)
        if action is not None:
            action()
        signature = folder_signature(faq_dir)
        with self._lock:
            self._lock.notify_all()
        return signature

    def wait_for(self, count: int) -> None:
        with self._lock:
            assert self._lock.wait_for(lambda: self.count >= count, WATCH_TIMEOUT)


@pytest.fixture
def looks() -> Looks:
    return Looks()


def watch_until(
    holder: KnowledgeBaseHolder, looks: Looks, reports: int, then_looks: int = 3
) -> list[ReloadResult]:
    """Run watch() until it reported ``reports`` times and looked ``then_looks`` more."""

    async def scenario() -> list[ReloadResult]:
        results: list[ReloadResult] = []
        enough = asyncio.Event()

        async def on_change(result: ReloadResult) -> None:
            results.append(result)
            if len(results) >= reports:
                enough.set()

        task = asyncio.create_task(holder.watch(on_change, interval=0.01))
        try:
            await asyncio.wait_for(enough.wait(), WATCH_TIMEOUT)
            await asyncio.to_thread(looks.wait_for, looks.count + then_looks)
        finally:
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
        return results

    return asyncio.run(scenario())


def test_watch_picks_up_an_edit_and_reports_once(
    holder: KnowledgeBaseHolder, faq_dir: Path, looks: Looks
) -> None:
    write(faq_dir / "web.yaml", faq_text("Web", "dnssec", "ssl", "cdn"))
    [result] = watch_until(holder, looks, reports=1)
    assert (result.ok, result.changed, result.entries) == (True, True, 4)
    assert holder.current.kb.get("cdn") is not None


def test_watch_reports_a_broken_file_once(
    holder: KnowledgeBaseHolder, faq_dir: Path, looks: Looks
) -> None:
    write(faq_dir / "web.yaml", BROKEN_YAML)
    [result] = watch_until(holder, looks, reports=1)
    assert not result.ok
    assert holder.current.kb.get("ssl") is not None


def test_watch_waits_until_a_save_has_settled(
    holder: KnowledgeBaseHolder, faq_dir: Path, looks: Looks
) -> None:
    # An editor saving in two writes: the first look sees half a file, the next the whole.
    looks.actions[1] = lambda: write(faq_dir / "web.yaml", faq_text("Web", "dnssec")[:30])
    looks.actions[2] = lambda: write(faq_dir / "web.yaml", faq_text("Web", "dnssec", "cdn"))
    [result] = watch_until(holder, looks, reports=1)
    assert result.ok
    assert holder.current.kb.get("cdn") is not None


def test_watch_survives_a_failing_report(
    holder: KnowledgeBaseHolder, faq_dir: Path, looks: Looks
) -> None:
    calls: list[ReloadResult] = []

    async def scenario() -> None:
        reported = asyncio.Event()

        async def on_change(result: ReloadResult) -> None:
            calls.append(result)
            reported.set()
            if len(calls) == 1:
                raise RuntimeError("admin chat unreachable")

        task = asyncio.create_task(holder.watch(on_change, interval=0.01))
        try:
            write(faq_dir / "web.yaml", BROKEN_YAML)
            await asyncio.wait_for(reported.wait(), WATCH_TIMEOUT)
            reported.clear()
            write(faq_dir / "web.yaml", faq_text("Web", "dnssec", "cdn"))
            await asyncio.wait_for(reported.wait(), WATCH_TIMEOUT)
        finally:
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task

    asyncio.run(scenario())
    assert [result.ok for result in calls] == [False, True]
    assert holder.current.kb.get("cdn") is not None


def watch_scenario(
    holder: KnowledgeBaseHolder, steps: Callable[[list[ReloadResult]], Awaitable[None]]
) -> list[ReloadResult]:
    """Run watch() (every 10 ms) while ``steps`` edits the folder; the reports it made."""

    async def scenario() -> list[ReloadResult]:
        results: list[ReloadResult] = []

        async def on_change(result: ReloadResult) -> None:
            results.append(result)

        task = asyncio.create_task(holder.watch(on_change, interval=0.01))
        try:
            await asyncio.wait_for(steps(results), WATCH_TIMEOUT)
        finally:
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
        return results

    return asyncio.run(scenario())


def test_watch_holds_back_a_file_cut_at_an_entry_boundary(
    holder: KnowledgeBaseHolder, faq_dir: Path, looks: Looks
) -> None:
    holder.removal_settle = 2.0
    served_during_cut: list[bool] = []

    async def steps(results: list[ReloadResult]) -> None:
        # A non-atomic save: first valid YAML with one entry less, then the whole file.
        write(faq_dir / "web.yaml", faq_text("Web", "dnssec"))
        await asyncio.to_thread(looks.wait_for, looks.count + 20)  # ~0.2 s of looking
        served_during_cut.append(holder.current.kb.get("ssl") is not None)
        write(faq_dir / "web.yaml", faq_text("Web", "dnssec", "ssl", "cdn"))
        while not any(result.ok for result in results):
            await asyncio.sleep(0.01)

    results = watch_scenario(holder, steps)
    assert served_during_cut == [True]
    # A look may catch the second write half done (reported as an error, then fixed);
    # what must never happen is a reload that removed "ssl".
    [result] = [result for result in results if result.ok]
    assert (result.removed, result.added) == ((), ("cdn",))
    assert sorted(ids(holder)) == ["blog", "cdn", "dnssec", "ssl"]


def test_watch_applies_a_removal_once_the_folder_is_still_and_names_the_ids(
    holder: KnowledgeBaseHolder, faq_dir: Path
) -> None:
    async def steps(results: list[ReloadResult]) -> None:
        write(faq_dir / "web.yaml", faq_text("Web", "dnssec", "cdn"))
        while not any(result.ok for result in results):
            await asyncio.sleep(0.01)

    [result] = [result for result in watch_scenario(holder, steps) if result.ok]
    assert (result.removed, result.added) == (("ssl",), ("cdn",))
    assert holder.current.kb.get("ssl") is None
    assert "Removed: ssl\nAdded: cdn" in result.describe()


def test_reload_by_an_admin_removes_at_once(holder: KnowledgeBaseHolder, faq_dir: Path) -> None:
    holder.removal_settle = 3600.0
    (faq_dir / "marketing.yaml").unlink()
    result = holder.reload(force=True)
    assert (result.changed, result.removed) == (True, ("blog",))
    assert holder.current.kb.get("blog") is None


# What admins read ------------------------------------------------------------------------------


def problems(count: int) -> tuple[Problem, ...]:
    return tuple(
        Problem("faq/web.yaml", line, "'answer' must not be empty") for line in range(count)
    )


@pytest.mark.parametrize(
    ("result", "text"),
    [
        (ReloadResult(ok=True, changed=True, entries=18), "Knowledge base reloaded: 18 entries."),
        (ReloadResult(ok=True, changed=False, entries=18), "Knowledge base unchanged: 18 entries."),
        (
            ReloadResult(ok=False, changed=False, entries=18, problems=problems(1)),
            "Knowledge base NOT reloaded; still serving the last good version (18 entries)."
            " Fix:\nfaq/web.yaml: 'answer' must not be empty",
        ),
    ],
)
def test_describe_tells_admins_what_happened(result: ReloadResult, text: str) -> None:
    assert result.describe() == text


def test_describe_lists_at_most_twenty_problems() -> None:
    text = ReloadResult(ok=False, changed=False, entries=3, problems=problems(25)).describe()
    assert "faq/web.yaml:19:" in text
    assert "faq/web.yaml:20:" not in text
    assert text.endswith("\n… and 5 more")


def test_describe_of_a_real_failure_names_file_and_line(
    holder: KnowledgeBaseHolder, faq_dir: Path
) -> None:
    write(faq_dir / "web.yaml", BROKEN_YAML)
    text = holder.reload().describe()
    assert text.startswith("Knowledge base NOT reloaded; still serving the last good version")
    assert "(3 entries)" in text
    assert f"{faq_dir / 'web.yaml'}:4:" in text
