"""Notebook 06, section 4: asyncio, the third option for io-bound work.

The same io workload two ways: N threads each blocked in `time.sleep` (the lab's
`workloads.io`), and N asyncio tasks each in `await asyncio.sleep`, gathered with
`asyncio.gather`. Both are plain timed waits, not sockets: the lesson is what it costs to keep
N waits in flight, not what a network does. The waiters are started first and held at a gate
(start cost and memory are measured there); then they are released together and every wait is
due `wait` seconds after the release, so the wall time shows what it costs to get N waiters
back to work when their replies arrive at once.

A notebook kernel already runs an event loop in its main thread, so every coroutine here runs
in a fresh loop in a thread of its own (`lab-aio-loop`), joined with a timeout; on an error, a
timeout or KeyboardInterrupt its tasks are cancelled and the loop closed before the error goes on.
"""
from __future__ import annotations

import asyncio
import gc
import inspect
import statistics
import threading
import time
import tracemalloc
from dataclasses import dataclass
from typing import Awaitable, Callable, Sequence

import psutil

from ..core import machine, runner, text, workloads
from ..core.text import Verdict

BACKENDS = ("threads", "asyncio")
MAX_CONCURRENCY = 1000
MAX_LEVELS = 6
MAX_REPEATS = 10
GATE_SECONDS = 30.0   # a waiter held at the gate longer than this gives up
GRACE_SECONDS = 5.0   # extra time for a loop thread to cancel and close
FETCH_SECONDS = 0.05  # one aio.fetch in the exercise


# --- running a coroutine from anywhere, even inside a running loop ------------------------------


def run(make: Callable[[], Awaitable], timeout: float = 30.0):
    """Run the coroutine `make()` in a fresh event loop in a `lab-aio-loop` thread; return its value.

    Works where `asyncio.run()` cannot (a Jupyter cell, whose thread already runs a loop).
    TimeoutError after `timeout` seconds; on any error or interrupt nothing is left running."""
    if not callable(make):
        raise ValueError("make must be a callable returning a coroutine, e.g. lambda: main()")
    _check_timeout(timeout)
    loop = asyncio.new_event_loop()
    box: dict = {}
    task_made, finished = threading.Event(), threading.Event()

    def main() -> None:
        try:
            async def bounded():
                return await asyncio.wait_for(_awaitable(make()), timeout)
            box["task"] = loop.create_task(bounded())
            task_made.set()
            box["value"] = loop.run_until_complete(box["task"])
        except BaseException as error:  # handed to the caller's thread, never printed here
            box["error"] = error
        finally:
            task_made.set()
            try:
                _close(loop)
            finally:
                finished.set()

    # Waits use our own Event, not Thread.join: on 3.11 a join cut short by Ctrl+C marks the
    # thread stopped while it still runs, and every later join returns at once.
    thread = threading.Thread(target=main, name="lab-aio-loop", daemon=True)
    try:
        thread.start()
        if not finished.wait(timeout + GRACE_SECONDS):
            raise TimeoutError(f"the coroutine did not finish within {timeout:g} s")
    except BaseException:
        _stop(loop, box, task_made, finished)
        raise
    thread.join(GRACE_SECONDS)
    if "error" in box:
        error = box["error"]
        if isinstance(error, asyncio.TimeoutError):
            raise TimeoutError(f"the coroutine did not finish within {timeout:g} s") from None
        raise error
    return box["value"]


def _check_timeout(timeout) -> None:
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 0 < timeout <= 600:
        raise ValueError(f"timeout must be a number of seconds above 0 and at most 600, got {timeout!r}")


async def _awaitable(value):
    if not inspect.isawaitable(value):
        raise ValueError(f"make() must return a coroutine (call an async def), got {type(value).__name__}")
    return await value


def _stop(loop, box, task_made, finished) -> None:
    """Cancel the loop's main task from outside, then wait (bounded) for its thread to end."""
    if not task_made.wait(GRACE_SECONDS):
        return  # the thread never got going
    task = box.get("task")
    if task is not None:
        try:
            loop.call_soon_threadsafe(task.cancel)
        except RuntimeError:  # the loop closed in the meantime: nothing left to cancel
            pass
    finished.wait(GRACE_SECONDS)


def _close(loop) -> None:
    """Cancel whatever is still pending, let it finish cancelling, close the loop."""
    try:
        pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
        for task in pending:
            task.cancel()
        if pending:
            loop.run_until_complete(asyncio.wait(pending, timeout=GRACE_SECONDS))
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.run_until_complete(loop.shutdown_default_executor())
    finally:
        loop.close()


# --- one round: N waiters held at a gate, then released together -------------------------------


@dataclass(frozen=True)
class Round:
    """One round of N waits: start cost per waiter, memory while held, wall of the waits."""

    backend: str
    concurrency: int
    start_seconds: float        # to start all N and have them waiting, per waiter
    wall: float                 # from releasing the gate to the last wait done
    memory_bytes: float | None  # added while all N were held, per waiter (None: not measured)


def _memory_now(traced: bool) -> float:
    """Bytes in use: Python's traced heap, or this process's USS (RSS where USS is missing)."""
    if traced:
        return float(tracemalloc.get_traced_memory()[0])
    process = psutil.Process()
    try:
        return float(process.memory_full_info().uss)
    except (psutil.AccessDenied, AttributeError):
        return float(process.memory_info().rss)


def process_memory_name() -> str:
    """What `_memory_now` reads for this process: "USS", or "RSS" where the platform denies USS
    (macOS, for some processes), so a sentence never calls an RSS figure USS."""
    try:
        psutil.Process().memory_full_info().uss
        return "USS"
    except (psutil.AccessDenied, AttributeError):
        return "RSS"


def _thread_round(n: int, wait: float, memory: str | None, deadline: float) -> Round:
    """N threads held at a gate, then each in `workloads.io` (a blocking sleep) until `wait`
    after the release: all N replies are due at the same moment."""
    gate, stop, all_in = threading.Event(), threading.Event(), threading.Event()
    arrived, ends, ends_at = [0], [], [0.0]
    running, changed = [0], threading.Condition()  # launched and not yet out of waiter()

    def waiter() -> None:
        try:
            with changed:
                arrived[0] += 1
                if arrived[0] == n:
                    all_in.set()
            if gate.wait(GATE_SECONDS) and not stop.is_set():
                workloads.io(max(0.0, ends_at[0] - time.perf_counter()))
                ends.append(time.perf_counter())
        finally:
            with changed:
                running[0] -= 1
                changed.notify_all()

    def all_out(seconds: float) -> bool:
        # Our own count, not Thread.join: on 3.11 a join cut short by Ctrl+C marks the thread
        # stopped while it still runs, and every later join of it returns at once.
        with changed:
            return changed.wait_for(lambda: running[0] == 0, seconds)

    threads = [threading.Thread(target=waiter, name=f"lab-aio-thread-{i}", daemon=True)
               for i in range(n)]
    with _measuring(memory) as measure:
        try:
            started = time.perf_counter()
            for thread in threads:
                with changed:
                    running[0] += 1
                try:
                    thread.start()
                except RuntimeError:  # the OS refused a thread: it will never count itself out
                    with changed:
                        running[0] -= 1
                    raise
            if not all_in.wait(_left(deadline)):
                raise TimeoutError(f"only {arrived[0]} of {n} threads started in time")
            start_seconds = (time.perf_counter() - started) / n
            added = measure()
            released = time.perf_counter()
            ends_at[0] = released + wait
            gate.set()
            if not all_out(_left(deadline)):
                raise TimeoutError(f"only {len(ends)} of {n} thread waits finished in time")
        except BaseException:
            stop.set()
            gate.set()
            all_out(wait + GRACE_SECONDS)
            raise
        finally:
            for thread in threads:
                if thread.ident is not None:
                    thread.join(GRACE_SECONDS)  # each is out of waiter(): only its exit is left
    return Round("threads", n, start_seconds, max(ends) - released, _per(added, n))


async def _task_round(n: int, wait: float, memory: str | None) -> Round:
    """N tasks held at a gate, then each in `await asyncio.sleep` until `wait` after the
    release, as the threads; gathered with asyncio.gather."""
    gate, arrived, ends_at = asyncio.Event(), [0], [0.0]

    async def waiter() -> float:
        arrived[0] += 1
        await gate.wait()
        await asyncio.sleep(max(0.0, ends_at[0] - time.perf_counter()))
        return time.perf_counter()

    with _measuring(memory) as measure:
        started = time.perf_counter()
        tasks = [asyncio.create_task(waiter()) for _ in range(n)]
        while arrived[0] < n:  # one pass of the loop runs each new task up to the gate
            await asyncio.sleep(0)
        start_seconds = (time.perf_counter() - started) / n
        added = measure()
        released = time.perf_counter()
        ends_at[0] = released + wait
        gate.set()
        ends = await asyncio.gather(*tasks)
    return Round("asyncio", n, start_seconds, max(ends) - released, _per(added, n))


class _measuring:
    """`with _measuring(kind) as measure:` … `measure()` gives bytes added since entering.

    kind None: nothing (measure() is None); "uss": process memory; "traced": tracemalloc.
    The garbage collector is paused inside, so no collection lands between the two readings
    (cheaper than gc.collect(), which takes a tenth of a second in a notebook kernel)."""

    def __init__(self, kind: str | None):
        self.kind, self.started_tracing, self.gc_was_on = kind, False, gc.isenabled()

    def __enter__(self):
        if self.kind is None:
            return lambda: None
        if self.kind == "traced" and not tracemalloc.is_tracing():
            tracemalloc.start()
            self.started_tracing = True
        gc.disable()
        base = _memory_now(self.kind == "traced")
        return lambda: _memory_now(self.kind == "traced") - base

    def __exit__(self, *exc) -> None:
        if self.gc_was_on:
            gc.enable()
        if self.started_tracing:
            tracemalloc.stop()


def _per(added: float | None, n: int) -> float | None:
    return None if added is None else added / n


def _left(deadline: float) -> float:
    left = deadline - time.perf_counter()
    if left <= 0:
        raise TimeoutError("the comparison did not finish before its timeout")
    return left


def one_round(backend: str, n: int, wait: float, memory: str | None = None,
              timeout: float = 60.0) -> Round:
    """One round of `n` concurrent waits of `wait` seconds with threads or asyncio."""
    runner.check_choice("backend", backend, BACKENDS)
    runner.check_int("n", n, 1, MAX_CONCURRENCY)
    _check_wait(wait)
    if memory not in (None, "uss", "traced"):
        raise ValueError(f"memory must be None, 'uss' or 'traced', got {memory!r}")
    _check_timeout(timeout)
    if backend == "threads":
        return _thread_round(n, wait, memory, time.perf_counter() + timeout)
    return run(lambda: _task_round(n, wait, memory), timeout=timeout)


def _check_wait(wait) -> None:
    if isinstance(wait, bool) or not isinstance(wait, (int, float)) or not 0.005 <= wait <= 1.0:
        raise ValueError(f"wait must be a number of seconds from 0.005 to 1.0, got {wait!r}")


# --- the comparison --------------------------------------------------------------------------


@dataclass(frozen=True)
class AioComparison:
    """Threads vs asyncio at several concurrencies: walls, start costs and memory per waiter."""

    wait: float
    concurrency: tuple[int, ...]
    walls: dict[str, tuple[tuple[float, ...], ...]]  # backend → per concurrency → repeats
    start_seconds: dict[str, tuple[float, ...]]      # backend → per concurrency, median per waiter
    memory_at: int                                   # the concurrency memory was measured at
    uss_per_task: dict[str, float]                   # bytes of process memory per waiter
    traced_per_task: dict[str, float]                # bytes of Python heap per waiter
    usable_cpus: int

    def wall(self, backend: str, n: int) -> float:
        return statistics.median(self.walls[backend][self.concurrency.index(n)])

    def throughput(self, backend: str) -> tuple[float, ...]:
        """Waits completed per second at each concurrency (median round)."""
        return tuple(n / self.wall(backend, n) for n in self.concurrency)

    def ideal(self) -> tuple[float, ...]:
        """Every wait at once: N waits per `wait` seconds."""
        return tuple(n / self.wait for n in self.concurrency)


def compare(concurrency: Sequence[int] = (10, 100, 1000), wait_ms: int = 50, repeats: int = 3,
            timeout: float = 60.0, progress: runner.Progress | None = None) -> AioComparison:
    """N waits of `wait_ms` each, all in flight at once, with N threads and with N asyncio tasks.

    Memory per waiter is measured at the largest N, by USS and by tracemalloc."""
    levels = _check_levels(concurrency)
    runner.check_int("wait_ms", wait_ms, 5, 1000)
    runner.check_int("repeats", repeats, 1, MAX_REPEATS)
    _check_timeout(timeout)
    wait, deadline = wait_ms / 1000, time.perf_counter() + timeout
    top = levels[-1]
    total = len(levels) * repeats * 2 + 2
    rounds: dict[tuple[str, int], list[Round]] = {}
    done = 0
    for n in levels:
        for _ in range(repeats):
            for backend in BACKENDS:  # interleaved, so drift hits both alike
                memory = "uss" if n == top else None
                rounds.setdefault((backend, n), []).append(
                    one_round(backend, n, wait, memory, _left(deadline)))
                done += 1
                if progress:
                    progress(done, total)
    traced = {}
    for backend in BACKENDS:
        traced[backend] = one_round(backend, top, wait, "traced", _left(deadline)).memory_bytes
        done += 1
        if progress:
            progress(done, total)
    return AioComparison(
        wait=wait,
        concurrency=tuple(levels),
        walls={b: tuple(tuple(r.wall for r in rounds[b, n]) for n in levels) for b in BACKENDS},
        start_seconds={b: tuple(statistics.median(r.start_seconds for r in rounds[b, n])
                                for n in levels) for b in BACKENDS},
        memory_at=top,
        uss_per_task={b: statistics.median(r.memory_bytes for r in rounds[b, top]) for b in BACKENDS},
        traced_per_task=traced,
        usable_cpus=machine.usable_cpus().value,
    )


def _check_levels(concurrency) -> list[int]:
    if isinstance(concurrency, (str, bytes)) or not isinstance(concurrency, (list, tuple, range)):
        raise ValueError("concurrency must be a list of integers from 1 to "
                         f"{MAX_CONCURRENCY:,}, e.g. (10, 100, 1000)")
    if not 1 <= len(concurrency) <= MAX_LEVELS:
        raise ValueError(f"concurrency must list from 1 to {MAX_LEVELS} integers from 1 to "
                         f"{MAX_CONCURRENCY:,}, got {len(concurrency)}")
    for n in concurrency:
        runner.check_int("each concurrency", n, 1, MAX_CONCURRENCY)
    return sorted(set(concurrency))





def _ratio_words(a: float, b: float, more: str, less: str) -> str:
    """'3.2× more' style comparison of a against b, or 'about the same'."""
    if a <= 0 or b <= 0:
        return "not comparable (one of them was below what the measurement can see)"
    ratio = a / b
    if 0.9 <= ratio <= 1.1:
        return "about the same"
    return f"{ratio:.1f}× {more}" if ratio > 1 else f"{1 / ratio:.1f}× {less}"


def compare_verdict(result: AioComparison) -> Verdict:
    """At the largest concurrency: throughput of both, and memory per waiter of both."""
    n, wait_ms = result.concurrency[-1], result.wait * 1000
    threads, tasks = result.throughput("threads")[-1], result.throughput("asyncio")[-1]
    ideal = result.ideal()[-1]
    speed = _ratio_words(tasks, threads, "the throughput of", "less throughput than")
    speed = (f"asyncio got {speed} threads" if "×" in speed else f"the two were {speed}")
    memory = _memory_sentence(result)
    cpus = ("" if result.usable_cpus > 1 else
            " (This kernel may use 1 CPU; both ran on it — a wait itself needs no CPU.)")
    return Verdict(f"On this machine, with {n:,} waits of {wait_ms:g} ms in flight at once, {speed}.",
                   f"Threads completed {threads:,.0f} waits/s and asyncio {tasks:,.0f} (ideal "
                   f"{ideal:,.0f}: every wait at once). {memory}{cpus}")


def memory_per_task(result: AioComparison, backend: str) -> float:
    """Bytes per waiter: the larger of its USS and tracemalloc figures (each sees part of it).

    USS sees a thread's stack pages but misses Python objects placed in heap memory the
    process already had; tracemalloc sees every Python allocation but no stack."""
    return max(result.uss_per_task[backend], result.traced_per_task[backend], 0.0)


def _memory_sentence(result: AioComparison) -> str:
    thread, task = memory_per_task(result, "threads"), memory_per_task(result, "asyncio")
    ratio = _ratio_words(thread, task, "more", "less")
    return (f"Each blocked thread cost {text.size(thread)} ({process_memory_name()} "
            f"{text.size(result.uss_per_task['threads'])}, "
            f"mostly its stack), each pending task {text.size(task)} (Python heap "
            f"{text.size(result.traced_per_task['asyncio'])}): a thread cost {ratio} than a task.")


# --- exercise: gather the fetches -------------------------------------------------------------


class _Flight:
    """How many fetches were called, and how many were waiting at once at most."""

    calls = 0
    now = 0
    peak = 0


async def fetch(i: int, seconds: float = FETCH_SECONDS) -> str:
    """A pretend network request: waits `seconds` without blocking the loop, returns 'reply i'."""
    _Flight.calls += 1
    _Flight.now += 1
    _Flight.peak = max(_Flight.peak, _Flight.now)
    try:
        await asyncio.sleep(seconds)
    finally:
        _Flight.now -= 1
    return f"reply {i}"


def check_gather(fetch_all, n: int = 10) -> str:
    """Exercise: does `async def fetch_all(n)` return the n replies in order, waiting all at once?"""
    runner.check_int("n", n, 2, 100)
    if not inspect.iscoroutinefunction(fetch_all):
        return ("Not yet: fetch_all must be an `async def`, so that it can `await` "
                "asyncio.gather(...) inside.")
    limit = 2 * n * FETCH_SECONDS + 2.0
    _Flight.calls = _Flight.now = _Flight.peak = 0
    started = time.perf_counter()
    try:
        got = run(lambda: fetch_all(n), timeout=limit)
    except TimeoutError:
        return f"Not yet: fetch_all({n}) did not finish within {limit:g} s, so it was cancelled."
    except Exception as error:
        return f"Not yet: fetch_all({n}) raised {type(error).__name__}: {error}"
    wall = time.perf_counter() - started
    expected = [f"reply {i}" for i in range(n)]
    figures = (f"{n} fetches of {FETCH_SECONDS * 1000:g} ms took {wall * 1000:.0f} ms "
               f"({wall / FETCH_SECONDS:.1f}× one fetch); at most {_Flight.peak} waited at once.")
    if got is None or list(got) != expected:
        return (f"Not yet: fetch_all({n}) must return the replies of aio.fetch(0) … "
                f"aio.fetch({n - 1}), in that order; it returned {_short(got)}.")
    if _Flight.calls != n:
        return f"Not yet: aio.fetch was called {_Flight.calls} times; call it once per i. " + figures
    if _Flight.peak == n:
        if wall <= max(3 * FETCH_SECONDS, n * FETCH_SECONDS / 2):  # loose: a busy machine is slow
            return ("Right: the fetches waited together, so the whole batch took about as long "
                    "as one — " + figures)
        return ("Not yet: all the fetches were in flight together, yet the batch was slow — "
                + figures + " Something else held up the loop: a blocking call such as "
                "time.sleep, or a long computation, stops every task.")
    if _Flight.peak <= 1:
        return ("Not yet: the fetches ran one after another (each `await` finished before the next "
                "began) — " + figures + " Create them all, then `await asyncio.gather(...)`.")
    return ("Not yet: some fetches overlapped, but not all at once — " + figures +
            " Pass all of them to one asyncio.gather(...).")


def _short(value) -> str:
    shown = repr(value)
    return shown if len(shown) <= 80 else shown[:77] + "…"
