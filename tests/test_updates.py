"""bot.telegram.updates: the offset confirms only handled updates; restarts skip done ones."""

from __future__ import annotations

import asyncio
from pathlib import Path

from telegram import Update

from bot.telegram.updates import HANDLED_FILE, LedgerProcessor, UpdateLedger


def test_ledger_offset_stops_at_the_oldest_update_not_done() -> None:
    ledger = UpdateLedger()
    for update_id in (7, 8, 9):
        assert ledger.receive(update_id)
    ledger.release(8)
    ledger.release(9)
    assert ledger.offset == 7  # 8 and 9 are done, but 7 is not: Telegram keeps all three
    ledger.release(7)
    assert ledger.offset == 10
    assert ledger.in_hand == 0


def test_ledger_held_reply_keeps_its_update_open() -> None:
    ledger = UpdateLedger()
    ledger.receive(1)
    ledger.hold(1)  # the handler queued a reply
    ledger.release(1)  # the handler returned
    assert ledger.offset == 1
    ledger.release(1)  # the reply was sent
    assert ledger.offset == 2


def test_ledger_duplicate_is_refused_while_in_hand_and_after_done() -> None:
    ledger = UpdateLedger()
    assert ledger.receive(5)
    assert not ledger.receive(5)
    ledger.release(5)
    assert not ledger.receive(5)


def test_ledger_save_and_load_skip_what_the_last_run_answered(tmp_path: Path) -> None:
    before = UpdateLedger()
    for update_id in (1, 2, 3):
        before.receive(update_id)
    before.release(2)
    before.release(3)
    before.save(tmp_path)

    after = UpdateLedger()
    after.load(tmp_path)

    assert after.is_done(2) and after.is_done(3)
    assert not after.knows(1)  # comes again from Telegram and is answered then
    assert not (tmp_path / HANDLED_FILE).exists()


def test_ledger_save_with_nothing_out_of_order_writes_no_file(tmp_path: Path) -> None:
    ledger = UpdateLedger()
    ledger.receive(1)
    ledger.release(1)
    ledger.save(tmp_path)
    assert not (tmp_path / HANDLED_FILE).exists()


def test_ledger_load_ignores_an_unreadable_file(tmp_path: Path) -> None:
    (tmp_path / HANDLED_FILE).write_text("{not json", encoding="ascii")
    ledger = UpdateLedger()
    ledger.load(tmp_path)
    assert ledger.in_hand == 0 and ledger.offset == 0


def test_processor_after_shutdown_began_starts_nothing_and_confirms_nothing() -> None:
    ledger = UpdateLedger()
    processor = LedgerProcessor(ledger, 4)
    handled: list[int] = []

    async def handle(update_id: int) -> None:
        handled.append(update_id)

    async def scenario() -> None:
        await processor.process_update(Update(1), handle(1))
        ledger.stopping = True
        await processor.process_update(Update(2), handle(2))

    asyncio.run(scenario())
    assert handled == [1]
    assert ledger.offset == 2  # update 2 stays Telegram's


def test_processor_cancelled_handler_leaves_the_update_open() -> None:
    ledger = UpdateLedger()
    processor = LedgerProcessor(ledger, 4)

    async def scenario() -> None:
        task = asyncio.create_task(processor.process_update(Update(3), asyncio.sleep(60)))
        await asyncio.sleep(0)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    asyncio.run(scenario())
    assert ledger.offset == 3
