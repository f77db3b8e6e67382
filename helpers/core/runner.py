"""Run tasks on workers through concurrent.futures and record what happened.

Every task leaves a Span (which worker, pid, thread, when, how much CPU) on one
clock, so a timeline can show the GIL serialising threads. Pools are warmed
before the clock starts, and always shut down: on an exception, a timeout or
KeyboardInterrupt the children are terminated before the error goes on.
"""
from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
import pickle
import statistics
import sys
import tempfile
import threading
import time
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence

import psutil
from threadpoolctl import threadpool_limits

from . import machine, probe, workloads

BACKENDS = ("sequential", "threads", "processes")
MAX_THREADS = 256
MAX_TASKS = 100_000  # each task holds a future and a span: more would fill memory, not teach
MAX_REPEATS = 1000
WARM_UP_SECONDS = 60.0
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Span:
    """One task: who ran it and when, in seconds from the start of its repeat."""

    task: int
    worker: int
    pid: int
    thread_id: int
    start: float
    end: float
    cpu_time: float

    @property
    def duration(self) -> float:
        return self.end - self.start


@dataclass(frozen=True)
class RunResult:
    """Wall times of every repeat and the spans of the median one."""

    work: str
    backend: str
    start_method: str | None
    workers: int
    tasks: int
    walls: tuple[float, ...]
    spans: tuple[Span, ...]
    results: tuple = field(default=(), repr=False)
    origin: float = field(default=0.0, repr=False)  # time.perf_counter() when the spans' repeat began

    @property
    def median(self) -> float:
        return statistics.median(self.walls)

    @property
    def fastest(self) -> float:
        return min(self.walls)

    @property
    def slowest(self) -> float:
        return max(self.walls)

    @property
    def wall(self) -> float:
        """Wall time of the repeat the spans come from (the median one)."""
        return _median_value(self.walls)

    @property
    def cpu_time(self) -> float:
        return sum(span.cpu_time for span in self.spans)

    @property
    def parallelism(self) -> float:
        """CPU seconds per wall second: how many cores were busy on average."""
        return self.cpu_time / self.wall if self.wall > 0 else 0.0

    @property
    def label(self) -> str:
        if self.backend == "processes":
            return f"{self.workers} processes ({self.start_method})"
        if self.backend == "threads":
            return f"{self.workers} threads"
        if self.backend == "sequential":
            return "sequential"
        return f"{self.backend} ({self.workers} workers)"  # run_on: the executor's own name


def max_workers(backend: str) -> int:
    """The largest worker count the lab allows for `backend` on this machine."""
    check_backend(backend)
    if backend == "sequential":
        return 1
    if backend == "threads":
        return MAX_THREADS
    cap = max(8, 4 * machine.usable_cpus().value)
    return min(cap, 61) if sys.platform == "win32" else cap


def check_backend(backend: str) -> None:
    check_choice("backend", backend, BACKENDS)


def check_choice(name: str, value, allowed) -> None:
    """Raise ValueError unless `value` is one of `allowed`, naming them all."""
    if value not in allowed:
        raise ValueError(f"unknown {name} {value!r}; allowed: {', '.join(map(str, allowed))}")


def check_workers(workers: int, backend: str) -> None:
    """Raise ValueError unless 1 <= workers <= max_workers(backend)."""
    limit = max_workers(backend)
    if isinstance(workers, bool) or not isinstance(workers, int) or not 1 <= workers <= limit:
        raise ValueError(f"workers for {backend} must be an integer from 1 to {limit}, got {workers!r}")


def check_int(name: str, value, low: int, high: int) -> None:
    """Raise ValueError unless `value` is an integer from `low` to `high`."""
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{name} must be an integer from {low:,} to {high:,}, got {value!r}")


def check_seconds(name: str, value, low: float, high: float) -> float:
    """Raise ValueError unless `value` is a number of seconds from `low` to `high`."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise ValueError(f"{name} must be a number of seconds from {low:g} to {high:g}, "
                         f"got {value!r}")
    return float(value)


def check_start_method(start_method: str | None) -> str:
    """The start method to use: the one given, or the lab's; ValueError if unknown here."""
    if start_method is None:
        return machine.lab_start_method()
    available = multiprocessing.get_all_start_methods()
    check_choice("start method", start_method, available)
    return start_method


def run(
    work: str | Callable,
    *,
    workers: int = 1,
    backend: str = "threads",
    tasks: int | None = None,
    args: Iterable | None = None,
    units: float = 1.0,
    repeats: int = 1,
    start_method: str | None = None,
    timeout: float | None = None,
    progress: Progress | None = None,
) -> RunResult:
    """Run `tasks` tasks of a kind (or `fn(arg)` for each of `args`) on `workers` workers.

    Repeats reuse one warmed pool; `timeout` bounds the whole call in seconds.
    """
    name, fn, arguments = _plan(work, tasks, args, units)
    check_backend(backend)
    check_workers(workers, backend)
    _check_count("repeats", repeats, MAX_REPEATS)
    method = check_start_method(start_method) if backend == "processes" else None
    if backend == "processes":
        _check_picklable(fn, method)
    deadline = _deadline(timeout)
    counter = _ProgressCounter(progress, len(arguments) * repeats)
    import numpy  # noqa: F401  (load BLAS now: threadpool_limits only reaches loaded libraries)

    with threadpool_limits(limits=1), _pool(backend, workers, method) as pool:
        rounds = _measure(pool, fn, arguments, workers, repeats, deadline, counter)
    return _result(name, backend, method, workers, arguments, rounds)


def run_on(
    executor: cf.Executor,
    work: str | Callable,
    *,
    workers: int,
    name: str,
    tasks: int | None = None,
    args: Iterable | None = None,
    units: float = 1.0,
    repeats: int = 1,
    timeout: float | None = None,
    progress: Progress | None = None,
) -> RunResult:
    """Like `run`, on an executor someone else made (Dask, subinterpreters, …) with `workers`
    workers; `name` labels the result. The executor stays open: its owner closes it."""
    run_name, fn, arguments = _plan(work, tasks, args, units)
    check_int("workers", workers, 1, MAX_THREADS)
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"name must be a non-empty string that labels the run, got {name!r}")
    _check_count("repeats", repeats, MAX_REPEATS)
    deadline = _deadline(timeout)
    counter = _ProgressCounter(progress, len(arguments) * repeats)
    rounds = _measure(executor, fn, arguments, workers, repeats, deadline, counter)
    return _result(run_name, name, None, workers, arguments, rounds)


def _measure(pool, fn, arguments, workers, repeats, deadline, counter) -> list:
    workers_by_id = _warm_up(pool, workers, deadline)
    return [_run_once(pool, fn, arguments, workers_by_id, deadline, counter)
            for _ in range(repeats)]


def _result(name, backend, method, workers, arguments, rounds) -> RunResult:
    walls = [wall for wall, *_ in rounds]
    _, spans, results, origin = rounds[walls.index(_median_value(walls))]
    return RunResult(name, backend, method, workers, len(arguments), tuple(walls), spans, results,
                     origin)


def automatic_chunksize(tasks: int, workers: int, most_tasks: int = 10**9) -> int:
    """The chunksize multiprocessing.Pool.map picks when given none: about four chunks per worker.

    The same formula as CPython's Pool._map_async: divmod(tasks, workers * 4), rounded up.
    """
    check_int("tasks", tasks, 1, most_tasks)
    check_workers(workers, "processes")
    chunks, extra = divmod(tasks, workers * 4)
    return chunks + 1 if extra else chunks


@contextmanager
def open_pool(backend: str, workers: int, start_method: str | None = None):
    """A warmed executor for experiments that submit their own tasks; always cleaned up.

    On an exception or interrupt inside the block, queued tasks are dropped and child
    processes terminated; on a normal exit the pool waits for its tasks.
    """
    check_backend(backend)
    check_workers(workers, backend)
    method = check_start_method(start_method) if backend == "processes" else None
    with _pool(backend, workers, method) as pool:
        _warm_up(pool, workers, None)
        yield pool


def lab_threads() -> list[str]:
    """Names of the lab's threads (named "lab-…") that are still running.

    Asks the interpreter which threads have a frame, not `is_alive()`: on CPython 3.11 a
    join interrupted by Ctrl+C marks the thread stopped while it still runs."""
    running = sys._current_frames()
    return sorted(t.name for t in threading.enumerate()
                  if t.name.startswith("lab-") and t.ident in running)


def join_thread(thread: threading.Thread, timeout: float) -> bool:
    """Wait up to `timeout` s for `thread` to end; True if it has. Unlike `Thread.join`, this
    still waits after an earlier join was interrupted (see lab_threads)."""
    deadline = time.monotonic() + timeout
    thread.join(timeout)
    while thread.ident in sys._current_frames() and time.monotonic() < deadline:
        time.sleep(0.005)
    return thread.ident not in sys._current_frames()


def worker_processes(parent: int | None = None) -> list[psutil.Process]:
    """Live descendants of `parent` (default: this process), except multiprocessing's servers."""
    servers = ("multiprocessing.forkserver", "multiprocessing.resource_tracker",
               "loky.backend.resource_tracker")  # joblib's own, kept like multiprocessing's
    root = psutil.Process(parent)
    leftovers = []
    for child in root.children(recursive=True):
        try:
            if child.status() == psutil.STATUS_ZOMBIE:
                continue
            # the servers are our own children; workers forked by the forkserver share its
            # command line but are its children, so they still count
            if child.ppid() == root.pid and any(s in " ".join(child.cmdline()) for s in servers):
                continue
        except psutil.NoSuchProcess:
            continue
        leftovers.append(child)
    return leftovers


# --- planning and checks -------------------------------------------------------------


def _plan(work, tasks, args, units) -> tuple[str, Callable, list]:
    if isinstance(work, str):
        workloads.check_kind(work)
        if args is not None:
            raise ValueError("args is only for a callable; a task kind takes tasks and units")
        _check_count("tasks", tasks, MAX_TASKS)
        argument = workloads.calibrate().argument(work, units)
        return work, workloads.TASKS[work], [argument] * tasks
    if not callable(work):
        raise ValueError(f"work must be a task kind ({', '.join(workloads.KINDS)}) or a callable")
    if args is None:
        _check_count("tasks", tasks, MAX_TASKS)
    arguments = list(args) if args is not None else list(range(tasks))
    _check_count("tasks", len(arguments), MAX_TASKS)
    return getattr(work, "__qualname__", repr(work)), work, arguments


def _check_count(name: str, value, limit: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= limit:
        raise ValueError(f"{name} must be a positive integer, at most {limit:,}, got {value!r}")


def _check_picklable(fn: Callable, method: str) -> None:
    where = getattr(fn, "__module__", None)
    if where == "__main__" and method != "fork":
        raise ValueError(
            f"{getattr(fn, '__qualname__', fn)!r} is defined in the notebook (__main__): a "
            f"{method} child cannot import it. Put it in a module file and import it from there."
        )
    try:
        pickle.dumps(fn)
    except Exception as error:
        raise ValueError(
            f"{fn!r} cannot be pickled for a process ({error}); use a module-level function"
        ) from None


def _deadline(timeout: float | None) -> float | None:
    if timeout is None:
        return None
    if not timeout > 0:
        raise ValueError(f"timeout must be a positive number of seconds or None, got {timeout!r}")
    return time.perf_counter() + timeout


def _remaining(deadline: float | None) -> float | None:
    return None if deadline is None else max(0.0, deadline - time.perf_counter())


def _time_left(deadline: float | None) -> float | None:
    left = _remaining(deadline)
    if left is not None and left <= 0:
        raise TimeoutError("the sweep did not finish before its timeout")
    return left


def _median_value(values: Sequence[float]) -> float:
    """The middle value itself (the lower one for an even count), not an average."""
    return sorted(values)[(len(values) - 1) // 2]


# --- pools ---------------------------------------------------------------------------


class _InlineExecutor(cf.Executor):
    """Runs each task at submit time in the calling thread: the sequential baseline."""

    def submit(self, fn, /, *args, **kwargs):
        future = cf.Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as error:
            if not isinstance(error, Exception):
                raise
            future.set_exception(error)
        return future


BLAS_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                  "BLIS_NUM_THREADS", "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")


def _limit_blas_in_child() -> None:
    # Libraries loaded later read the variables; ones loaded already (fork) need threadpoolctl.
    os.environ.update({name: "1" for name in BLAS_VARIABLES})
    threadpool_limits(limits=1)


def blas_threads(_=None) -> int:
    """How many threads NumPy's BLAS may use in the calling process (0 if none is loaded)."""
    import numpy  # noqa: F401  (loads the BLAS library, so threadpoolctl can see it)
    from threadpoolctl import threadpool_info

    counts = [info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas"]
    return max(counts, default=0)


@contextmanager
def _pool(backend: str, workers: int, method: str | None):
    if backend == "sequential":
        pool = _InlineExecutor()
    elif backend == "threads":
        pool = cf.ThreadPoolExecutor(workers, thread_name_prefix="lab-worker")
    else:
        context = multiprocessing.get_context(method)
        pool = cf.ProcessPoolExecutor(workers, mp_context=context, initializer=_limit_blas_in_child)
    try:
        yield pool
    except BaseException:
        _abandon(pool)
        raise
    pool.shutdown(wait=True)


# CPython 3.12+ warns (DeprecationWarning) when os.fork() runs in a process with threads, and a
# Jupyter kernel always has some: every fork start from a notebook is one. The risk it names is
# real, so notebook 02 explains it and the lab's default is forkserver; fork runs only when asked
# for (LAB_START_METHOD=fork, or the start-method comparisons). Python hides the warning by
# default, as it comes from multiprocessing, not __main__; but a kernel inherits PYTHONWARNINGS
# and PYTHONDEVMODE, and under =default or =1 it lands in a notebook cell's stderr.
FORK_WARNING = r"This process \(pid=\d+\) is multi-threaded, use of fork\(\) may lead to deadlocks"


@contextmanager
def fork_warning_hidden() -> Iterator[None]:
    """Around the lab's own process starts: hide that one warning, and no other."""
    # catch_warnings swaps the process-wide filter list (not thread-safe before 3.14, and panels
    # start processes from threads): hold it around starts, not whole runs. The exercise
    # checkers are the exception: they hold it around the learner's call, on the main thread.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=FORK_WARNING, category=DeprecationWarning)
        yield


def start(process: multiprocessing.process.BaseProcess) -> None:
    """process.start(), without the fork-with-threads warning (see fork_warning_hidden)."""
    with fork_warning_hidden():
        process.start()


def _abandon(pool: cf.Executor) -> None:
    """Stop a pool now: drop queued tasks, terminate child processes, reap them; give worker
    threads (which cannot be stopped) a moment to finish the task they are in."""
    children = list((getattr(pool, "_processes", None) or {}).values())
    threads = list(getattr(pool, "_threads", ()))
    pool.shutdown(wait=False, cancel_futures=True)
    for thread in threads:
        join_thread(thread, timeout=2)
    for child in children:
        child.terminate()
    for child in children:
        child.join(timeout=2)
        if child.is_alive():
            child.kill()
            child.join(timeout=2)


def _warm_up(pool: cf.Executor, workers: int, deadline: float | None) -> dict:
    """Start every worker before the clock starts; map (pid, thread) to a worker number."""
    seen: dict[tuple[int, int], int] = {}
    give_up = time.perf_counter() + WARM_UP_SECONDS
    pause = 0.0 if isinstance(pool, _InlineExecutor) else 0.02
    while len(seen) < workers:
        if time.perf_counter() > give_up:
            raise RuntimeError(f"only {len(seen)} of {workers} workers started in {WARM_UP_SECONDS}s")
        with fork_warning_hidden():  # a fork pool starts all its workers at the first submit
            futures = [pool.submit(probe.whoami, pause) for _ in range(workers)]
        try:
            for done in cf.as_completed(futures, timeout=_remaining(deadline)):
                seen.setdefault(done.result(), len(seen))
        except cf.process.BrokenProcessPool as error:
            raise RuntimeError(
                "worker processes died while starting: a spawn or forkserver child re-imports "
                "the main script, which fails for code typed at `python -` or an interactive "
                "prompt; run it from a file or a notebook instead"
            ) from error
        pause *= 2
    return seen


# --- one timed round -----------------------------------------------------------------


class _ProgressCounter:
    def __init__(self, callback: Progress | None, total: int):
        self.callback, self.total, self.done = callback, total, 0

    def step(self) -> None:
        self.report(self.done + 1)

    def report(self, done: int) -> None:
        self.done = done
        if self.callback is not None:
            self.callback(done, self.total)


def _run_once(pool, fn, arguments, workers_by_id, deadline, counter):
    origin = time.perf_counter()
    futures = [pool.submit(probe.timed_call, fn, arg, i) for i, arg in enumerate(arguments)]
    records = []
    try:
        for done in cf.as_completed(futures, timeout=_remaining(deadline)):
            records.append(done.result())
            counter.step()
    except BaseException as error:
        for future in futures:  # a borrowed executor has no _abandon: drop what is queued
            future.cancel()
        if isinstance(error, cf.TimeoutError):
            raise TimeoutError(f"the run did not finish before its timeout; {counter.done} "
                               "tasks done") from None
        raise
    wall = time.perf_counter() - origin
    records.sort()
    spans = tuple(
        Span(
            task=index,
            worker=workers_by_id.setdefault((pid, tid), len(workers_by_id)),
            pid=pid,
            thread_id=tid,
            start=start - origin,
            end=end - origin,
            cpu_time=cpu_time,
        )
        for index, pid, tid, start, end, cpu_time, _ in records
    )
    return wall, spans, tuple(value for *_, value in records), origin


# --- sweeps over worker counts -------------------------------------------------------


@dataclass(frozen=True)
class Point:
    """Speedup of one run against the sequential baseline, with its min-max range."""

    workers: int
    speedup: float
    low: float
    high: float
    efficiency: float


@dataclass(frozen=True)
class Sweep:
    """A sequential baseline and, per backend, one run per worker count."""

    work: str
    usable_cpus: int
    baseline: RunResult
    runs: dict[str, tuple[RunResult, ...]]

    def points(self, backend: str) -> list[Point]:
        """Speedup (median, and the range from fastest to slowest repeat) per worker count."""
        base = self.baseline.median
        return [
            Point(
                workers=result.workers,
                speedup=base / result.median,
                low=base / result.slowest,
                high=base / result.fastest,
                efficiency=base / result.median / min(result.workers, self.usable_cpus),
            )
            for result in self.runs[backend]
        ]

    def best(self, backend: str) -> Point:
        return max(self.points(backend), key=lambda point: point.speedup)


def sweep(
    work: str | Callable,
    *,
    workers: Sequence[int] | dict[str, Sequence[int]],
    backends: Sequence[str] = ("threads", "processes"),
    tasks: int | None = None,
    args: Iterable | None = None,
    units: float = 1.0,
    repeats: int = 3,
    start_method: str | None = None,
    timeout: float | None = None,
    progress: Progress | None = None,
) -> Sweep:
    """Run the sequential baseline, then every backend at every worker count.

    `workers` is one list for all backends, or a dict with a list per backend.
    """
    counts = _counts_per_backend(workers, backends)
    if "processes" in counts:  # checked now: the sequential baseline runs before any process
        check_start_method(start_method)
    arguments = list(args) if args is not None else None
    tasks_each = len(arguments) if arguments is not None else tasks
    total = (tasks_each or 0) * repeats * (1 + sum(len(c) for c in counts.values()))
    counter = _ProgressCounter(progress, total)
    deadline = _deadline(timeout)

    def one(backend: str, count: int) -> RunResult:
        done_before = counter.done
        return run(
            work, workers=count, backend=backend, tasks=tasks, args=arguments, units=units,
            repeats=repeats, start_method=start_method, timeout=_time_left(deadline),
            progress=lambda done, _: counter.report(done_before + done),
        )

    baseline = one("sequential", 1)
    runs = {backend: tuple(one(backend, count) for count in counts[backend]) for backend in counts}
    return Sweep(baseline.work, machine.usable_cpus().value, baseline, runs)


def _counts_per_backend(workers, backends) -> dict[str, list[int]]:
    if not isinstance(workers, dict):
        workers = {backend: workers for backend in backends}
    counts = {backend: list(workers.get(backend, ())) for backend in backends}
    for backend, listed in counts.items():
        check_backend(backend)
        if not listed:
            raise ValueError(f"workers must list at least one worker count for {backend}")
        for count in listed:
            check_workers(count, backend)
    return counts


# --- a function a child process cannot find ---------------------------------------------------


def _quiet_child(path: str) -> None:
    """Pool initializer: the child's error report goes to a file the parent shows."""
    sys.stderr = open(path, "w", buffering=1)


def send_to_pool(fn: Callable, method: str, timeout: float = 30) -> str:
    """Call fn(3) in a one-worker pool of `method`; say what happened, never hang."""
    check_start_method(method)
    if not timeout > 0:
        raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
    handle, log = tempfile.mkstemp(suffix=".log")
    os.close(handle)
    context = multiprocessing.get_context(method)
    pool = cf.ProcessPoolExecutor(1, mp_context=context, initializer=_quiet_child, initargs=(log,))
    try:
        with fork_warning_hidden():
            answer = pool.submit(fn, 3)
        return f"{method}: it worked, fn(3) = {answer.result(timeout=timeout)!r}"
    except cf.process.BrokenProcessPool:
        lines = [line for line in Path(log).read_text().splitlines() if line.strip()]
        return f"{method}: BrokenProcessPool — the child said: {lines[-1] if lines else '(nothing)'}"
    except (pickle.PicklingError, AttributeError, TypeError) as error:
        return f"{method}: it could not even be sent — {type(error).__name__}: {error}"
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        os.remove(log)
