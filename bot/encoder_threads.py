"""How many OpenMP threads one call into the encoder may use.

Measured on a 2-core machine (``benchmarks/bench_semantic.py``): one question takes a
median 17-22 ms with two threads and 30-35 ms with one while the machine is otherwise
idle. With another process busy on the second core, two threads fall to a p95 of about
200 ms, because OpenMP's threads wait for each other at every layer, while one thread
keeps about 60 ms. No fixed count is right for both, so it is chosen per call:

- the cores the rest of the machine left free since the last look, at most
  ``MAX_THREADS``: the machine's busy time from ``/proc/stat`` minus this process's own
  CPU time, so the bot's own encoding never counts against itself;
- shared among this process's encodes in flight (a burst of questions gets one thread
  each, which is what throughput wants) and its other CPU-bound work in the background
  (``background_work``);
- one thread where that cannot be read, and exactly ``OMP_NUM_THREADS`` where the admin
  set it.

The count is set per calling thread (OpenMP keeps it per thread), just before the call.
numpy's BLAS is kept to one thread beside it: scoring a question against 30,000 cached
vectors is bound by memory, not arithmetic, and BLAS threads that spin after the product
took the encoder's second core (median 60 ms per question at 10,000 entries, 25 ms with
one BLAS thread).
"""

from __future__ import annotations

import ctypes
import glob
import logging
import math
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

logger = logging.getLogger(__name__)

MAX_THREADS = 2
"""Measured up to two; more threads per question are untested."""
SAMPLE_SECONDS = 0.25
"""How old the last look at the machine may be before the next call takes another."""
BUSY_SHARE = 0.5
"""A core the rest of the machine keeps busier than this is not free."""

SetThreads = Callable[[int], None]

_background = 0
_background_lock = threading.Lock()


@contextmanager
def background_work() -> Iterator[None]:
    """Mark CPU-bound work of this process other than encoding as holding a core.

    The budget subtracts this process's own CPU time from the machine's, so that its
    own encodes never count against it; work such as preparing n-gram vectors after a
    load would then look like a free core, and an encode beside it would take two
    threads and wait for the busy one at every layer.
    """
    global _background
    with _background_lock:
        _background += 1
    try:
        yield
    finally:
        with _background_lock:
            _background -= 1


class ThreadBudget:
    """Chooses the thread count for each encoder call (thread-safe)."""

    def __init__(
        self,
        cores: int,
        set_threads: SetThreads | None,
        *,
        machine_busy: Callable[[], float | None],
        own_cpu: Callable[[], float] = time.process_time,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.cores = max(1, cores)
        self._set_threads = set_threads
        self._machine_busy = machine_busy
        self._own_cpu = own_cpu
        self._clock = clock
        self._lock = threading.Lock()
        self._in_flight = 0
        self._sample = self._look()
        self._free = 1.0  # until two looks say more

    @property
    def adaptive(self) -> bool:
        return self._set_threads is not None and self.cores > 1

    @contextmanager
    def call(self) -> Iterator[int]:
        """Reserve threads for one encoder call made inside the block."""
        with self._lock:
            self._in_flight += 1
            threads = self._choose() if self.adaptive else 1
        try:
            if self._set_threads is not None:
                self._set_threads(threads)
            yield threads
        finally:
            with self._lock:
                self._in_flight -= 1

    def _choose(self) -> int:
        now = self._clock()
        if self._sample is None or now - self._sample[0] >= SAMPLE_SECONDS:
            sample = self._look()
            if sample is not None and self._sample is not None:
                elapsed = sample[0] - self._sample[0]
                others = (sample[1] - self._sample[1]) - (sample[2] - self._sample[2])
                busy_cores = max(0.0, others / elapsed) if elapsed > 0 else self.cores
                self._free = self.cores - busy_cores
            self._sample = sample
        free_cores = max(1, math.floor(self._free + BUSY_SHARE))
        return max(1, min(MAX_THREADS, free_cores // (self._in_flight + _background)))

    def _look(self) -> tuple[float, float, float] | None:
        """(wall clock, machine busy seconds, own CPU seconds), or None if unreadable."""
        busy = self._machine_busy()
        return None if busy is None else (self._clock(), busy, self._own_cpu())


def machine_busy_seconds(
    stat: Path = Path("/proc/stat"), cpus: frozenset[int] | None = None
) -> float | None:
    """CPU seconds the machine's ``cpus`` (all if None) spent busy since boot."""
    try:
        lines = stat.read_text(encoding="ascii").splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    busy = 0
    for line in lines:
        name, _, rest = line.partition(" ")
        if not name.startswith("cpu") or name == "cpu":
            continue
        if cpus is not None and name[3:].isdigit() and int(name[3:]) not in cpus:
            continue
        fields = [int(value) for value in rest.split()]
        # user nice system idle iowait irq softirq steal: idle and iowait are not busy.
        busy += sum(fields[:8]) - fields[3] - (fields[4] if len(fields) > 4 else 0)
    return busy / ticks


def available_cores(cgroup: Path = Path("/sys/fs/cgroup")) -> int:
    """CPUs this process may run on, within a container's CPU quota."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
    quota = cpu_quota(cgroup)
    if quota is not None:
        cores = min(cores, max(1, int(quota)))
    return max(1, cores)


def cpu_quota(cgroup: Path) -> float | None:
    """The CPUs' worth of time a container may use, or None where unlimited or unknown.

    cgroup v2 writes it to ``cpu.max`` ("max 100000" or "150000 100000"); v1, still on
    older Docker hosts, to ``cpu.cfs_quota_us`` (-1: unlimited) and
    ``cpu.cfs_period_us`` in the ``cpu`` controller's folder. Missed, a container
    started with ``--cpus 1`` on two host cores would encode with two threads on one
    core's time, where they wait for each other at every layer.
    """
    try:
        quota, period = (cgroup / "cpu.max").read_text(encoding="ascii").split()[:2]
        return None if quota == "max" else int(quota) / int(period)
    except (OSError, ValueError, ZeroDivisionError):
        pass
    for folder in ("cpu", "cpu,cpuacct"):
        try:
            quota_us = int((cgroup / folder / "cpu.cfs_quota_us").read_text(encoding="ascii"))
            period_us = int((cgroup / folder / "cpu.cfs_period_us").read_text(encoding="ascii"))
        except (OSError, ValueError):
            continue
        return quota_us / period_us if quota_us > 0 and period_us > 0 else None
    return None


def openmp_setter(package_folder: Path) -> SetThreads | None:
    """``omp_set_num_threads`` of the OpenMP runtime bundled beside the engine
    (auditwheel puts it in ``<package>.libs``). Loaded before the engine, it is the copy
    the engine's own load then links to (the same file, so the same library)."""
    libs = package_folder.parent / f"{package_folder.name}.libs"
    for path in sorted(glob.glob(str(libs / "libgomp*.so*"))):
        try:
            runtime = ctypes.CDLL(path)
            setter = runtime.omp_set_num_threads
        except (OSError, AttributeError):
            continue
        setter.argtypes = [ctypes.c_int]
        setter.restype = None
        return lambda threads: setter(threads)
    return None


def keep_blas_single_threaded() -> None:
    """Limit numpy's BLAS to one thread for the rest of the process (see above)."""
    if os.environ.get("OPENBLAS_NUM_THREADS") or os.environ.get("OMP_NUM_THREADS"):
        return  # the admin chose
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1, user_api="blas")


def thread_budget(package_folder: Path | None) -> ThreadBudget:
    """The budget for the engine in ``package_folder``; call before the engine loads.

    Fixed when OMP_NUM_THREADS is set. Where no adjustable runtime is found, the count
    is fixed at one through OMP_NUM_THREADS, which the runtime reads when it loads.
    """
    if os.environ.get("OMP_NUM_THREADS"):
        return _fixed()
    setter = openmp_setter(package_folder) if package_folder is not None else None
    if setter is None:
        os.environ["OMP_NUM_THREADS"] = "1"
        logger.info("The encoder runs on one thread (no adjustable OpenMP runtime found).")
        return _fixed()
    cpus = frozenset(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    return ThreadBudget(
        available_cores(), setter, machine_busy=lambda: machine_busy_seconds(cpus=cpus)
    )


def _fixed() -> ThreadBudget:
    """No choice per call: the OpenMP runtime keeps the count it read when it loaded."""
    return ThreadBudget(1, None, machine_busy=lambda: None)
