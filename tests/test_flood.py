"""bot.flood: one customer sending dozens of messages is paused; everyone else is not."""

from __future__ import annotations

import pytest

from bot.flood import FloodGuard, Verdict

ANNA = 1001
BEN = 1002


class Clock:
    """Monotonic time that only moves when the test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def guard(clock: Clock) -> FloodGuard:
    return FloodGuard(clock=clock)


def send(
    guard: FloodGuard, clock: Clock, user: int, count: int, every: float = 1.0
) -> list[Verdict]:
    """The verdicts on ``count`` messages, ``every`` seconds apart."""
    verdicts = []
    for _ in range(count):
        verdicts.append(guard.check(user))
        clock.advance(every)
    return verdicts


def test_flood_twenty_messages_a_minute_are_answered(guard: FloodGuard, clock: Clock) -> None:
    assert send(guard, clock, ANNA, 20, every=2.9) == [Verdict.ALLOW] * 20


def test_flood_twenty_first_message_gets_one_notice(guard: FloodGuard, clock: Clock) -> None:
    send(guard, clock, ANNA, 20)
    assert guard.check(ANNA) is Verdict.WARN


def test_flood_after_the_notice_messages_are_ignored(guard: FloodGuard, clock: Clock) -> None:
    send(guard, clock, ANNA, 20)
    assert guard.check(ANNA) is Verdict.WARN
    assert send(guard, clock, ANNA, 59) == [Verdict.IGNORE] * 59


@pytest.mark.parametrize(("pause", "verdict"), [(59.9, Verdict.IGNORE), (60.0, Verdict.ALLOW)])
def test_flood_pause_lasts_one_minute(
    pause: float, verdict: Verdict, guard: FloodGuard, clock: Clock
) -> None:
    send(guard, clock, ANNA, 20, every=0.0)
    assert guard.check(ANNA) is Verdict.WARN
    clock.advance(pause)
    assert guard.check(ANNA) is verdict


def test_flood_after_the_pause_a_full_minute_is_allowed_again(
    guard: FloodGuard, clock: Clock
) -> None:
    send(guard, clock, ANNA, 21, every=0.0)
    clock.advance(60.0)
    assert send(guard, clock, ANNA, 20, every=0.0) == [Verdict.ALLOW] * 20
    assert guard.check(ANNA) is Verdict.WARN


def test_flood_other_users_are_unaffected(guard: FloodGuard, clock: Clock) -> None:
    send(guard, clock, ANNA, 21, every=0.0)
    assert guard.check(ANNA) is Verdict.IGNORE
    assert send(guard, clock, BEN, 20, every=0.0) == [Verdict.ALLOW] * 20
    assert guard.check(ANNA) is Verdict.IGNORE


def test_flood_old_messages_slide_out_of_the_window(guard: FloodGuard, clock: Clock) -> None:
    send(guard, clock, ANNA, 10, every=0.0)  # at 0 s
    clock.advance(30.0)
    send(guard, clock, ANNA, 10, every=0.0)  # at 30 s
    clock.advance(30.0)  # the first ten are now a minute old
    assert send(guard, clock, ANNA, 10, every=0.0) == [Verdict.ALLOW] * 10
    assert guard.check(ANNA) is Verdict.WARN  # 21 within the last minute


def test_flood_steady_pace_is_never_paused(guard: FloodGuard, clock: Clock) -> None:
    assert send(guard, clock, ANNA, 200, every=3.0) == [Verdict.ALLOW] * 200


@pytest.mark.parametrize(("limit", "window"), [(1, 10.0), (5, 1.0), (3, 120.0)])
def test_flood_limit_and_window_are_configurable(limit: int, window: float, clock: Clock) -> None:
    guard = FloodGuard(limit=limit, window=window, clock=clock)
    assert send(guard, clock, ANNA, limit, every=0.0) == [Verdict.ALLOW] * limit
    assert guard.check(ANNA) is Verdict.WARN
    clock.advance(window)
    assert guard.check(ANNA) is Verdict.ALLOW
