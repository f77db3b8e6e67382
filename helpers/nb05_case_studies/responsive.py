"""Notebook 05, a responsive UI: a long computation beside an event loop.

A UI is a loop on one thread that must handle events (clicks, redraws) as they come.
Here a `lab-ticker` thread posts an event every few milliseconds, the loop on the calling
thread handles them, and a CPU-bound computation runs inline on the loop's thread, in a
`lab-` thread, or in a child process. Each event's delay says how frozen the UI was.
The same jobs (`start_job`) drive the live panel in widgets.responsive_panel().
"""
from __future__ import annotations

import multiprocessing
import queue
import statistics
import sys
import threading
import time
from dataclasses import dataclass
from typing import Callable

from ..core import machine, runner, text, workloads
from ..core.text import Verdict

MODES = ("main thread", "background thread", "process")
JOB_MODES = ("thread", "process")
STEPS = 50  # the computation reports progress this many times
MAX_STEPS = 10_000
MAX_ITERATIONS = 10**9  # one slice: minutes of work at most
MAX_SECONDS = 10.0
TICK_SECONDS = 0.010
CHILD_START_SECONDS = 60.0  # a spawn child re-imports the lab: generous, but bounded
Progress = Callable[[int, int], None]


def _step_iterations(seconds: float) -> int:
    """Loop iterations of one progress step, so STEPS steps last about `seconds` here."""
    return workloads.calibrate().argument("cpu", seconds / STEPS / workloads.DEFAULT_UNIT_SECONDS)


# --- the computation ----------------------------------------------------------------------------


def crunch(iterations: int, steps: int = STEPS, progress: Progress | None = None,
           stop: threading.Event | None = None) -> int:
    """The long computation: `steps` slices of pure-Python work (holds the GIL).

    Reports progress after each slice; returns how many slices ran (fewer if `stop` was set)."""
    runner.check_int("iterations", iterations, 1, MAX_ITERATIONS)
    runner.check_int("steps", steps, 1, MAX_STEPS)
    done = 0
    for done in range(1, steps + 1):
        workloads.cpu(iterations)
        if progress is not None:
            progress(done, steps)
        if stop is not None and stop.is_set():
            break
    return done


def crunch_in_child(iterations: int, steps: int, done) -> None:
    """Runs in a child process: crunch, writing the slices done into a shared integer."""
    def report(count: int, _total: int) -> None:
        done.value = count

    crunch(iterations, steps, report)


# --- the event loop -----------------------------------------------------------------------------


class _Ticker:
    """A `lab-ticker` thread posting each event's intended time into a queue every `tick` s.

    Events missed while it could not run are posted late, with their intended times, the way
    clicks and redraws pile up in a frozen UI."""

    def __init__(self, tick: float = TICK_SECONDS):
        self.tick, self.events, self._stop = tick, queue.SimpleQueue(), threading.Event()
        self.origin = time.perf_counter()
        self._thread = threading.Thread(target=self._run, name="lab-ticker", daemon=True)

    def __enter__(self) -> "_Ticker":
        self._thread.start()
        return self

    def __exit__(self, *_) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        count = 0
        while not self._stop.wait(max(0.0, self.origin + (count + 1) * self.tick - time.perf_counter())):
            now = time.perf_counter()
            while self.origin + (count + 1) * self.tick <= now:
                count += 1
                self.events.put(self.origin + count * self.tick)


@dataclass(frozen=True)
class ModeRun:
    """What the loop saw while the computation ran one way."""

    mode: str
    work_seconds: float  # from the start click until the computation had finished
    delays: tuple[float, ...]  # per event: handled minus posted, in seconds
    progress_seen: int  # distinct progress values the loop could show while it ran
    steps: int
    posted: tuple[float, ...] = ()  # per event: when it was posted, in s from the start click

    @property
    def median_delay(self) -> float:
        return statistics.median(self.delays)

    @property
    def max_delay(self) -> float:
        return max(self.delays)


@dataclass(frozen=True)
class Responsiveness:
    """One ModeRun per mode, and the conditions they ran under."""

    runs: dict[str, ModeRun]
    tick: float
    switch_interval: float
    start_method: str
    usable_cpus: int


def _handle_events(ticker: _Ticker, delays: list, until: float | None = None) -> None:
    """Handle every waiting event (and wait for more until `until`); record (posted, handled)."""
    while True:
        wait = None if until is None else until - time.perf_counter()
        try:
            posted = ticker.events.get(timeout=wait) if wait and wait > 0 else ticker.events.get_nowait()
        except queue.Empty:
            return
        delays.append((posted, time.perf_counter()))


def _loop_while(busy: Callable[[], bool], read_progress: Callable[[], int], ticker: _Ticker,
                delays: list, deadline: float) -> tuple[int, float]:
    """The UI loop: handle events and redraw progress while `busy()`; (values seen, end time)."""
    seen = {0}
    while busy():
        if time.perf_counter() > deadline:
            raise TimeoutError("the computation did not finish in time")
        _handle_events(ticker, delays, until=time.perf_counter() + ticker.tick)
        seen.add(read_progress())
    return len(seen - {0}), time.perf_counter()


def _inline(iterations: int, ticker: _Ticker, delays: list) -> tuple[int, float]:
    crunch(iterations)  # the loop itself computes: no event is handled, nothing is redrawn
    return 0, time.perf_counter()


def _threaded(iterations: int, ticker: _Ticker, delays: list) -> tuple[int, float]:
    done = [0]
    stop = threading.Event()

    def report(count: int, _total: int) -> None:
        done[0] = count

    worker = threading.Thread(target=crunch, args=(iterations, STEPS, report, stop),
                              name="lab-crunch", daemon=True)
    worker.start()
    try:
        return _loop_while(worker.is_alive, lambda: done[0], ticker, delays,
                           time.perf_counter() + 60)
    finally:
        stop.set()
        worker.join(timeout=10)


def _in_process(iterations: int, ticker: _Ticker, delays: list) -> tuple[int, float]:
    context = multiprocessing.get_context(runner.check_start_method(None))
    done = context.RawValue("l", 0)
    child = context.Process(target=crunch_in_child, args=(iterations, STEPS, done), daemon=True,
                            name="lab-crunch")
    runner.start(child)
    try:
        outcome = _loop_while(child.is_alive, lambda: done.value, ticker, delays,
                              time.perf_counter() + CHILD_START_SECONDS)
    finally:
        _stop_child(child)
    if child.exitcode != 0:
        raise RuntimeError(_child_failed(child.exitcode))
    return outcome


def _child_failed(exitcode) -> str:
    return (f"the computing child process failed (exit code {exitcode}): a spawn or forkserver "
            "child re-imports the main script, which must be a notebook or guarded by "
            "`if __name__ == '__main__':`")


def _stop_child(child) -> None:
    """Terminate a child if it still runs, and reap it; kill it if terminate is ignored."""
    if child.is_alive():
        child.terminate()
    child.join(timeout=2)
    if child.is_alive():
        child.kill()
        child.join(timeout=2)


_RUNNERS = {"main thread": _inline, "background thread": _threaded, "process": _in_process}


def responsiveness(seconds: float = 0.6, modes=MODES, progress: runner.Progress | None = None
                   ) -> Responsiveness:
    """The computation (about `seconds` long) in each mode, beside a loop handling an event
    every 10 ms; every event's delay and the progress the loop could show."""
    seconds = runner.check_seconds("seconds", seconds, 0.1, MAX_SECONDS)
    modes = tuple(modes)
    if not modes or any(mode not in MODES for mode in modes):
        raise ValueError(f"modes must be a non-empty list of {', '.join(MODES)}; got {modes!r}")
    iterations = _step_iterations(seconds)
    runs = {}
    for index, mode in enumerate(modes):
        runs[mode] = _measure_mode(mode, iterations)
        if progress is not None:
            progress(index + 1, len(modes))
    return Responsiveness(runs, TICK_SECONDS, sys.getswitchinterval(),
                          runner.check_start_method(None), machine.usable_cpus().value)


def _measure_mode(mode: str, iterations: int) -> ModeRun:
    delays: list = []
    with _Ticker() as ticker:
        _handle_events(ticker, delays, until=time.perf_counter() + 3 * ticker.tick)  # a calm start
        delays.clear()
        started = time.perf_counter()
        seen, finished = _RUNNERS[mode](iterations, ticker, delays)
        _handle_events(ticker, delays)  # what piled up
    return ModeRun(mode, finished - started, tuple(done - posted for posted, done in delays),
                   seen, STEPS, tuple(posted - started for posted, _ in delays))


def responsiveness_verdict(result: Responsiveness) -> Verdict:
    """One sentence per mode, from the measured delays."""
    parts = []
    for mode, run in result.runs.items():
        parts.append(f"{mode} ({run.work_seconds:.1f} s): events waited {run.median_delay * 1000:.1f} ms (median), "
                     f"{run.max_delay * 1000:.0f} ms at worst, progress drawn "
                     f"{run.progress_seen} of {run.steps} times")
    said = "On this machine, while the computation ran — " + "; ".join(parts) + "."
    headline = said
    inline, thread = result.runs.get("main thread"), result.runs.get("background thread")
    if inline and thread and inline.max_delay > 0:
        headline = (f"On the main thread the UI froze for {inline.max_delay:.2f} s, as long as the "
                    f"computation; beside a thread its worst wait was "
                    f"{text.times(max(thread.max_delay, 1e-6) / inline.max_delay, 'longer', 'shorter', 'about as long')}.")
    if "process" in result.runs and result.usable_cpus < 2:
        said += (" With 1 usable CPU the process shares it with the UI, so the operating system "
                 "splits the time between them.")
    return Verdict(headline, said if headline != said else "")


# --- cancellation -------------------------------------------------------------------------------


@dataclass(frozen=True)
class CancelRun:
    """Stop was asked `asked_after` s into the work; it stopped `stopped_after` s later."""

    way: str
    asked_after: float
    stopped_after: float
    cancelled: bool  # True if the work stopped early; False if it ran to its end regardless
    left_running: int  # lab threads and child processes still alive afterwards


@dataclass(frozen=True)
class Cancelling:
    """One CancelRun per way of running the work."""

    runs: tuple[CancelRun, ...]
    work_seconds: float
    start_method: str


CANCEL_WAYS = ("main thread", "cooperative thread", "thread in one C call", "process")


def cancelling(seconds: float = 0.4, progress: runner.Progress | None = None) -> Cancelling:
    """Ask each way of running a `seconds`-long computation to stop once it is half done
    (the single C call, which shows no progress, a quarter of the way in); time the stop."""
    seconds = runner.check_seconds("seconds", seconds, 0.1, MAX_SECONDS)
    steps = (_cancel_inline, _cancel_cooperative, _cancel_c_call, _cancel_process)
    runs = []
    for index, (way, measure) in enumerate(zip(CANCEL_WAYS, steps)):
        runs.append(measure(way, seconds))
        if progress is not None:
            progress(index + 1, len(steps))
    return Cancelling(tuple(runs), seconds, runner.check_start_method(None))


def _left_running() -> int:
    threads = [t for t in threading.enumerate() if t.name.startswith("lab-crunch") and t.is_alive()]
    return len(threads) + len(runner.worker_processes())


def _cancel_inline(way: str, seconds: float) -> CancelRun:
    """The learner clicks Cancel when the bar is half full; the click is an event, and a loop
    busy computing handles it only afterwards."""
    done, clicks = [0], queue.SimpleQueue()

    def report(count: int, _total: int) -> None:
        done[0] = count

    clicker = threading.Thread(target=_click_at_half, args=(lambda: done[0], clicks),
                               name="lab-clicker", daemon=True)
    started = time.perf_counter()
    clicker.start()
    try:
        steps = crunch(_step_iterations(seconds), progress=report)
        stopped = time.perf_counter()
    finally:
        done[0] = STEPS  # the clicker gives up if the work ended first
        clicker.join(timeout=5)
    asked = clicks.get(timeout=5)  # the click, posted halfway, read only now
    return CancelRun(way, asked - started, stopped - asked, steps < STEPS, _left_running())


def _click_at_half(read_progress: Callable[[], int], clicks: queue.SimpleQueue) -> None:
    while read_progress() < STEPS // 2:
        time.sleep(0.001)
    clicks.put(time.perf_counter())


def _wait_for_half(read_progress: Callable[[], int], alive: Callable[[], bool], timeout: float) -> float:
    """Wait until the work has done half its slices (what a learner would watch for)."""
    give_up = time.perf_counter() + timeout
    while read_progress() < STEPS // 2 and alive():
        if time.perf_counter() > give_up:
            raise TimeoutError("the computation did not reach halfway in time")
        time.sleep(0.001)
    return time.perf_counter()


def _cancel_cooperative(way: str, seconds: float) -> CancelRun:
    stop, done, slices = threading.Event(), [0], []

    def report(count: int, _total: int) -> None:
        done[0] = count

    worker = threading.Thread(
        target=lambda: slices.append(crunch(_step_iterations(seconds), STEPS, report, stop)),
        name="lab-crunch", daemon=True)
    started = time.perf_counter()
    worker.start()
    try:
        asked = _wait_for_half(lambda: done[0], worker.is_alive, 30)
    finally:
        stop.set()
        worker.join(timeout=30)
    stopped = time.perf_counter()
    return CancelRun(way, asked - started, stopped - asked, bool(slices) and slices[0] < STEPS,
                     _left_running())


def _cancel_c_call(way: str, seconds: float) -> CancelRun:
    """One hashlib call (it releases the GIL, so the UI stays live) cannot look at a flag.

    Stop is asked a quarter of the way through; if the call was already over, it is timed
    again twice as long (calibration is only an estimate on a busy machine)."""
    rounds = workloads.calibrate().argument("gil_free", seconds / workloads.DEFAULT_UNIT_SECONDS)
    for _ in range(4):
        run = _stop_one_call(way, rounds, seconds / 4)
        if run is not None:
            return run
        rounds *= 2
    raise RuntimeError("the hashlib call always ended before it could be asked to stop")


def _stop_one_call(way: str, rounds: int, ask_after: float) -> CancelRun | None:
    stop, outcome = threading.Event(), []

    def one_call() -> None:
        if stop.is_set():
            return
        workloads.gil_free(rounds)  # the flag can only be checked before and after this call
        outcome.append(time.perf_counter())

    worker = threading.Thread(target=one_call, name="lab-crunch", daemon=True)
    started = time.perf_counter()
    worker.start()
    try:
        time.sleep(ask_after)
        asked = time.perf_counter()
    finally:  # on an interrupt too: the call cannot be stopped, only waited for
        stop.set()
        worker.join(timeout=60)
    stopped = time.perf_counter()
    if outcome and outcome[0] < asked:
        return None  # it had finished before anyone asked
    return CancelRun(way, asked - started, stopped - asked, not outcome, _left_running())


def _cancel_process(way: str, seconds: float) -> CancelRun:
    context = multiprocessing.get_context(runner.check_start_method(None))
    done = context.RawValue("l", 0)
    child = context.Process(target=crunch_in_child, args=(_step_iterations(seconds), STEPS, done),
                            daemon=True, name="lab-crunch")
    runner.start(child)
    try:
        give_up = time.perf_counter() + CHILD_START_SECONDS
        while done.value == 0 and child.is_alive() and time.perf_counter() < give_up:
            time.sleep(0.001)  # the clock starts when the child computes, not when it imports
        if done.value == 0:
            raise RuntimeError(_child_failed(child.exitcode))
        started = time.perf_counter()
        asked = _wait_for_half(lambda: done.value, child.is_alive, 30)
        child.terminate()
        child.join(timeout=5)
        stopped = time.perf_counter()
        steps = done.value
    finally:
        _stop_child(child)
    return CancelRun(way, asked - started, stopped - asked, steps < STEPS, _left_running())


def cancelling_verdict(result: Cancelling) -> Verdict:
    """Which ways stopped when asked, and how fast, from the numbers."""
    runs = {run.way: run for run in result.runs}
    sentences = []
    inline = runs["main thread"]
    sentences.append(
        f"On this machine the main-thread computation could not be cancelled: the click waited "
        f"{inline.stopped_after * 1000:.0f} ms, until the work "
        + ("had finished anyway." if not inline.cancelled else "stopped."))
    coop, c_call, child = runs["cooperative thread"], runs["thread in one C call"], runs["process"]
    sentences.append(
        f"A thread that checks a flag stopped {coop.stopped_after * 1000:.0f} ms after being asked"
        + (" (it looks at the flag after every slice)" if coop.cancelled else " — but only at its end") + "; "
        f"a thread inside one long C call stopped after {c_call.stopped_after * 1000:.0f} ms, "
        + ("when the call returned." if not c_call.cancelled else "early."))
    sentences.append(
        f"The process was terminated in {child.stopped_after * 1000:.1f} ms "
        + ("in the middle of its work" if child.cancelled else "(it had already finished)")
        + (", and no child was left." if child.left_running == 0
           else f", but {child.left_running} were left running."))
    headline = (f"The process was terminated in {child.stopped_after * 1000:.1f} ms and a thread that "
                f"checks a flag stopped {coop.stopped_after * 1000:.0f} ms after being asked; the "
                "main-thread computation could not be cancelled at all.")
    return Verdict(headline, " ".join(sentences))


# --- jobs for the live panel --------------------------------------------------------------------


class Job:
    """A computation started in a `lab-` thread or a child process, with progress and cancel.

    `on_progress(done, total)` and `on_end(status)` are called from a `lab-` thread;
    status is "done", "cancelled" or "failed: …". Nothing runs once `wait()` has returned."""

    def __init__(self, mode: str, seconds: float, on_progress: Progress | None = None,
                 on_end: Callable[[str], None] | None = None):
        runner.check_choice("job mode", mode, JOB_MODES)
        seconds = runner.check_seconds("seconds", seconds, 0.1, MAX_SECONDS)
        self.mode, self.status = mode, "running"
        self._on_progress, self._on_end = on_progress, on_end
        self._stop = threading.Event()
        self._iterations = _step_iterations(seconds)
        target = self._run_thread if mode == "thread" else self._watch_process
        self._thread = threading.Thread(target=target, name=f"lab-job-{mode}", daemon=True)
        self._thread.start()

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def cancel(self) -> None:
        """Ask to stop: the thread sees the flag after its current slice; the process is terminated."""
        self._stop.set()

    def wait(self, timeout: float = 30.0) -> bool:
        """Wait up to `timeout` s for the end; True if it ended."""
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def _report(self, done: int, total: int) -> None:
        if self._on_progress is not None:
            self._on_progress(done, total)

    def _finish(self, status: str) -> None:
        self.status = status
        if self._on_end is not None:
            self._on_end(status)

    def _run_thread(self) -> None:
        try:
            steps = crunch(self._iterations, STEPS, self._report, self._stop)
        except Exception as error:  # shown in the panel: a background thread has no cell
            self._finish(f"failed: {type(error).__name__}: {error}")
            return
        self._finish("cancelled" if steps < STEPS else "done")

    def _watch_process(self) -> None:
        status = "failed: the child did not finish"
        try:
            context = multiprocessing.get_context(runner.check_start_method(None))
            done = context.RawValue("l", 0)
            child = context.Process(target=crunch_in_child, args=(self._iterations, STEPS, done),
                                    daemon=True, name="lab-crunch")
            runner.start(child)
            try:
                status = self._poll_child(child, done)
            finally:
                _stop_child(child)
        except Exception as error:
            status = f"failed: {type(error).__name__}: {error}"
        self._finish(status)

    def _poll_child(self, child, done) -> str:
        give_up = time.perf_counter() + CHILD_START_SECONDS
        while child.is_alive():
            if self._stop.wait(0.05):
                child.terminate()
                child.join(timeout=2)
                return "cancelled"
            if time.perf_counter() > give_up:
                return "failed: the child did not finish in time"
            self._report(done.value, STEPS)
        self._report(done.value, STEPS)
        if child.exitcode != 0:
            return f"failed: the child exited with code {child.exitcode}"
        return "done"


def start_job(mode: str, seconds: float = 3.0, on_progress: Progress | None = None,
              on_end: Callable[[str], None] | None = None) -> Job:
    """Start the computation (about `seconds` long) in a thread or a process; returns at once."""
    return Job(mode, seconds, on_progress, on_end)


def run_inline(seconds: float = 3.0) -> float:
    """The computation on the calling thread (the panel's main-thread mode); its wall seconds."""
    seconds = runner.check_seconds("seconds", seconds, 0.1, MAX_SECONDS)
    started = time.perf_counter()
    crunch(_step_iterations(seconds))
    return time.perf_counter() - started
