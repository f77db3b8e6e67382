"""Notebook 01's experiments: the GIL seen live.

Workers run their task in thin slices and stamp each one, so the parent can
see every stretch a thread ran without a break (and so who held the GIL when).
"""
from __future__ import annotations

import multiprocessing
import socket
import statistics
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Sequence

from ..nb00_start_here import first_look
from ..core import machine, runner, text, workloads
from ..core.text import Verdict
from ..core.runner import Span, Sweep

SLICE_SECONDS = 0.00001  # 10 µs of work between time stamps: fine enough for a 0.5 ms interval
BREAK_SECONDS = 0.0001   # a slice this much longer than usual means the worker was paused
INTERVALS = (0.0005, 0.005, 0.05)


# --- 1. scaling --------------------------------------------------------------------------


def io_workers() -> dict[str, list[int]]:
    """io goes far past the core count for threads (to 32, or 4 × the usable CPUs where that is
    more); processes stop at the lab's cap."""
    top = max(32, 4 * machine.usable_cpus().value)
    threads = [2**k for k in range(top.bit_length()) if 2**k <= top]
    cap = runner.max_workers("processes")
    return {"threads": threads, "processes": [w for w in threads if w <= min(cap, 8)]}


def scaling(kinds: Sequence[str] = workloads.KINDS, repeats: int = 2,
            progress: runner.Progress | None = None) -> dict[str, Sweep]:
    """Speedup sweeps: 1 … 2 × usable CPUs for cpu and gil_free, up to 32 threads for io."""
    for kind in kinds:
        workloads.check_kind(kind)
    sweeps = {}
    for index, kind in enumerate(kinds):
        if kind == "io":  # one short wait per thread at the top count keeps it quick
            workers, tasks, units = io_workers(), max(io_workers()["threads"]), 0.5
        else:
            workers = first_look.default_workers()
            tasks, units = 2 * max(workers), 1.0
        sweeps[kind] = runner.sweep(kind, workers=workers, tasks=tasks, units=units,
                                    repeats=repeats, progress=_part(progress, index, len(kinds)))
    return sweeps


def _part(progress: runner.Progress | None, index: int, parts: int) -> runner.Progress | None:
    """A callback that fills part `index` of `parts` equal parts of one progress bar."""
    if progress is None:
        return None
    return lambda done, total: progress(index * total + done, parts * total)


def scaling_verdict(sweep: Sweep) -> Verdict:
    """The same reading as notebook 00's, for these sweeps."""
    return first_look.verdict(sweep)


# --- 2. timelines of who ran when ---------------------------------------------------------


def sliced(job: tuple[str, int, object]) -> list[float]:
    """Runs in a worker: `slices` thin pieces of a task kind, stamping the time before the
    first and after each one. A thread paused for the GIL shows as one long slice."""
    kind, slices, argument = job
    task, marks = workloads.TASKS[kind], [time.perf_counter()]
    for _ in range(slices):
        task(argument)
        marks.append(time.perf_counter())
    return marks


@dataclass(frozen=True)
class Timeline:
    """Uninterrupted stretches of running, one row per task, and what they add up to."""

    kind: str
    backend: str
    workers: int
    usable_cpus: int
    runs: tuple[Span, ...]
    wall: float
    cpu_time: float

    @property
    def label(self) -> str:
        return f"{self.workers} {self.backend} on {self.kind}"

    @property
    def parallelism(self) -> float:
        return self.cpu_time / self.wall if self.wall else 0.0

    @property
    def overlap(self) -> float:
        """Share of the wall time during which two or more workers were running at once."""
        return time_with_at_least(self.runs, 2) / self.wall if self.wall else 0.0


def timeline(kind: str = "cpu", workers: int = 4, backend: str = "threads",
             seconds_per_worker: float = 0.04, progress: runner.Progress | None = None) -> Timeline:
    """Each worker runs one sliced task; returns its running stretches on one clock."""
    if kind not in ("cpu", "gil_free"):
        raise ValueError(f"timelines are for kinds that compute: cpu or gil_free, got {kind!r}")
    if backend not in ("threads", "processes"):
        raise ValueError(f"backend must be threads or processes, got {backend!r}")
    runner.check_workers(workers, backend)
    job = _sliced_job(kind, seconds_per_worker)
    result = runner.run(sliced, args=[job] * workers, workers=workers, backend=backend,
                        progress=progress, timeout=120)
    runs = []
    for span, marks in zip(result.spans, result.results):
        # perf_counter is one system-wide clock, so a worker's stamps sit on the parent's axis
        runs += _stretches(marks, offset=-result.origin, worker=span.task, task=span.task)
    return Timeline(kind, backend, workers, machine.usable_cpus().value, tuple(runs),
                    result.wall, result.cpu_time)


def _sliced_job(kind: str, seconds: float) -> tuple[str, int, object]:
    if not 0.001 <= seconds <= 5:
        raise ValueError(f"seconds_per_worker must be between 0.001 and 5, got {seconds!r}")
    calibration = workloads.calibrate()
    argument = calibration.argument(kind, SLICE_SECONDS / calibration.unit_seconds)
    return kind, max(1, round(seconds / SLICE_SECONDS)), argument


def _stretches(marks: Sequence[float], offset: float, worker: int, task: int) -> list[Span]:
    """Split the time stamps wherever a slice took far longer than a slice takes."""
    pause = SLICE_SECONDS + BREAK_SECONDS
    stretches, start = [], marks[0]
    for before, after in zip(marks, marks[1:]):
        if after - before > pause:
            if before > start:
                stretches.append((start, before))
            start = after - SLICE_SECONDS  # it ran again for about one slice before `after`
    stretches.append((start, marks[-1]))
    return [Span(task, worker, 0, 0, a + offset, b + offset, b - a) for a, b in stretches]


def time_with_at_least(spans: Sequence[Span], count: int) -> float:
    """Total time during which at least `count` spans were open at once."""
    events = sorted([(s.start, 1) for s in spans] + [(s.end, -1) for s in spans])
    total, open_now, since = 0.0, 0, 0.0
    for moment, change in events:
        if open_now >= count:
            total += moment - since
        open_now += change
        since = moment
    return total


def timeline_verdict(line: Timeline) -> Verdict:
    """What the stretches show, taking turns or running at once, in one sentence with its figure."""
    figures = f"{line.label} kept {line.parallelism:.2f} CPUs busy on average ({line.usable_cpus} usable): "
    return Verdict(figures + _turns(line) + ".")


def _turns(line: Timeline) -> str:
    if line.parallelism < 1.3:
        if line.backend == "threads" and line.kind == "cpu" and machine.gil_enabled().value:
            return "they took turns, as only the thread holding the GIL runs Python"
        if line.usable_cpus == 1:
            return "they took turns, as with one usable CPU only one can run at a time"
        return "they mostly took turns, although nothing in this run required it"
    if line.workers > line.usable_cpus:
        return (f"they ran in parallel as far as {line.usable_cpus} usable CPUs allow, and the "
                "operating system made the rest take turns")
    return "they ran in parallel, as nothing made them wait for each other"


# --- 3. the switch interval ---------------------------------------------------------------


@contextmanager
def switch_interval(seconds: float):
    """Set sys.setswitchinterval for the block; the old value comes back, even on interrupt."""
    _check_interval(seconds)
    previous = sys.getswitchinterval()
    sys.setswitchinterval(seconds)
    try:
        yield
    finally:
        sys.setswitchinterval(previous)


def _check_interval(seconds: float) -> None:
    if not 0.00001 <= seconds <= 1:
        raise ValueError(f"switch interval must be between 0.00001 and 1 s, got {seconds!r}")


@dataclass(frozen=True)
class SwitchResult:
    """Lengths of the stretches two CPU-bound threads ran, per switch interval."""

    default_interval: float
    run_lengths: dict[float, tuple[float, ...]]

    def median(self, interval: float) -> float:
        return statistics.median(self.run_lengths[interval])


def switching(intervals: Sequence[float] = INTERVALS, progress: runner.Progress | None = None
              ) -> SwitchResult:
    """Two CPU-bound threads at each interval; how long each ran before handing over."""
    for interval in intervals:
        _check_interval(interval)
    lengths = {}
    for done, interval in enumerate(intervals):
        with switch_interval(interval):
            line = timeline("cpu", workers=2, backend="threads",
                            seconds_per_worker=max(0.05, 8 * interval))
        lengths[interval] = tuple(_inner_lengths(line.runs)) or (0.0,)
        if progress:
            progress(done + 1, len(intervals))
    return SwitchResult(sys.getswitchinterval(), lengths)


def stretches_by_worker(runs: Sequence[Span]) -> dict[int, list[Span]]:
    """Each worker's stretches in the order they ran, workers in order."""
    return {worker: sorted((r for r in runs if r.worker == worker), key=lambda r: r.start)
            for worker in sorted({run.worker for run in runs})}


def _inner_lengths(runs: Sequence[Span]) -> list[float]:
    """Durations of stretches, leaving out each worker's first and last (they ran alone)."""
    return [r.duration for mine in stretches_by_worker(runs).values() for r in mine[1:-1]]


def switching_verdict(result: SwitchResult) -> Verdict:
    parts = [f"{interval * 1000:g} ms → median stretch {result.median(interval) * 1000:.2f} ms"
             for interval in result.run_lengths]
    headline = "Two CPU-bound threads, at each switch interval: " + "; ".join(parts) + "."
    said = ""
    late = [i for i in result.run_lengths if result.median(i) > 2 * i]
    early = [i for i in result.run_lengths if result.median(i) < i / 2]
    if early:
        said += (f" At {', '.join(f'{i * 1000:g} ms' for i in early)} stretches ended well before "
                 "the interval: the operating system paused the threads too (is something else "
                 "keeping the CPUs busy?).")
    if late:
        said += (f" At {', '.join(f'{i * 1000:g} ms' for i in late)} they ran well past the "
                 "interval: the waiting thread first had to get a CPU from the operating system "
                 f"to ask for the GIL ({machine.usable_cpus().value} usable CPU(s)).")
    if not machine.gil_enabled().value:
        said += (" This Python has no GIL: the interval does not decide who runs, the operating "
                 "system does.")
    return Verdict(headline, (said + f" The interval is back at {result.default_interval * 1000:g} ms.").strip())


@dataclass(frozen=True)
class Handover:
    """Two CPU-bound threads at one switch interval: their stretches, and each wait between two."""

    interval: float
    line: Timeline

    @property
    def waits(self) -> list[tuple[int, float, float]]:
        """(worker, when the wait began, when it ended) for every pause inside a worker's run."""
        return [(worker, before.end, after.start)
                for worker, mine in stretches_by_worker(self.line.runs).items()
                for before, after in zip(mine, mine[1:])]

    @property
    def after_request(self) -> list[float]:
        """For each wait, how long after its drop request (one interval in) the GIL came."""
        return [end - start - self.interval for _, start, end in self.waits]


def handover(interval: float = 0.005, seconds: float = 0.06) -> Handover:
    """Two CPU-bound threads at this switch interval, with every stretch they ran."""
    with switch_interval(interval):
        line = timeline("cpu", workers=2, backend="threads", seconds_per_worker=seconds)
    return Handover(interval, line)


def handover_verdict(result: Handover) -> Verdict:
    """How long a waiting thread waited, against the interval that should end its wait."""
    waits = [end - start for _, start, end in result.waits]
    interval = f"{result.interval * 1000:g} ms"
    if not waits:
        return Verdict(f"At a switch interval of {interval} neither thread ever waited: nothing "
                       "made them take turns.", _no_turns_reason())
    typical = statistics.median(waits)
    late = statistics.median(result.after_request)
    if not machine.gil_enabled().value:
        return Verdict(f"This Python has no GIL: the threads' pauses (median {text.ms(typical)}) "
                       "were the operating system sharing the CPUs, not hand-overs.",
                       f"{len(waits)} pauses measured, {machine.usable_cpus().value} usable CPU(s).")
    headline = (f"A waiting thread got the GIL after a median {text.ms(typical)} at a switch "
                f"interval of {interval}.")
    details = (f"It asked for the GIL one interval into its wait (the drop request), and the "
               f"holder let go a median {text.ms(max(late, 0))} later, at its next check for requests, at a "
               f"loop's backward jump or a call ({len(waits)} waits measured).")
    if machine.usable_cpus().value == 1:
        details += (" With one usable CPU the waiting thread must also get the CPU back from the "
                    "operating system before it can ask, so waits stretch past the interval.")
    return Verdict(headline, details)


def _no_turns_reason() -> str:
    if not machine.gil_enabled().value:
        return "This Python has no GIL: both threads ran at once on their own cores."
    return "Each thread may have run alone (is the run too short for the interval?)."


# --- 4. the convoy effect ------------------------------------------------------------------


def spin_until(connection, argument: int) -> None:
    """A CPU-bound hog in a process: says it is ready, then spins until told to stop."""
    connection.send("ready")
    while not connection.poll():
        workloads.cpu(argument)


def _spin_thread(stop: threading.Event, ready: threading.Barrier, argument: int) -> None:
    """A CPU-bound hog in a thread. It checks a plain flag: polling a pipe would release the
    GIL every slice, and a thread that keeps releasing and retaking it starves the others."""
    ready.wait(timeout=60)
    while not stop.is_set():
        workloads.cpu(argument)


@dataclass(frozen=True)
class Convoy:
    """Ping round-trip times (seconds) with n CPU hogs of a backend beside the responder."""

    switch_interval: float
    latencies: dict[tuple[str, int], tuple[float, ...]]

    def median(self, key) -> float:
        return statistics.median(self.latencies[key])

    def label(self, key) -> str:
        return hog_label(*key)

    def p99(self, key) -> float:
        ordered = sorted(self.latencies[key])
        return ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]


def convoy(hogs: Sequence[int] = (1, 2, 4), backends: Sequence[str] = ("threads", "processes"),
           pings: int = 50, interval: float | None = None, budget: float = 1.0,
           progress: runner.Progress | None = None) -> Convoy:
    """Round trips to a responder thread alone, then beside n CPU-bound threads or processes."""
    if isinstance(pings, bool) or not isinstance(pings, int) or not 1 <= pings <= 10_000:
        raise ValueError(f"pings must be from 1 to 10000, got {pings!r}")
    if not 0 < budget <= 60:
        raise ValueError(f"budget must be more than 0 and at most 60 s, got {budget!r}")
    cases = [("alone", 0)] + [(b, n) for b in backends for n in hogs]
    for backend, count in cases[1:]:
        if backend not in ("threads", "processes"):
            raise ValueError(f"hogs run as threads or processes, got {backend!r}")
        if (isinstance(count, bool) or not isinstance(count, int)
                or not 1 <= count <= runner.max_workers(backend)):
            raise ValueError(f"hogs for {backend} must be from 1 to {runner.max_workers(backend)}, "
                             f"got {count!r}")
    latencies = {}
    with switch_interval(sys.getswitchinterval() if interval is None else interval):
        for done, (backend, count) in enumerate(cases):
            with _hogs(backend, count):
                latencies[(backend, count)] = tuple(ping_latencies(pings, budget=budget))
            if progress:
                progress(done + 1, len(cases))
        used = sys.getswitchinterval()
    return Convoy(used, latencies)


@contextmanager
def _hogs(backend: str, count: int):
    """Start `count` spinning threads or processes; stop and reap them, always."""
    if count == 0:
        yield
        return
    argument = workloads.calibrate().argument("cpu", SLICE_SECONDS * 10 / workloads.DEFAULT_UNIT_SECONDS)
    if backend == "threads":
        with _thread_hogs(count, argument):
            yield
    else:
        with _process_hogs(count, argument):
            yield


@contextmanager
def _thread_hogs(count: int, argument: int):
    stop, ready = threading.Event(), threading.Barrier(count + 1)
    hogs = [threading.Thread(target=_spin_thread, args=(stop, ready, argument), daemon=True,
                             name="lab-hog") for _ in range(count)]
    try:
        for hog in hogs:
            hog.start()
        ready.wait(timeout=60)
        time.sleep(0.02)  # let them settle into spinning
        yield
    finally:
        stop.set()
        for hog in hogs:
            hog.join(timeout=2)


@contextmanager
def _process_hogs(count: int, argument: int):
    """Each process hog gets a pipe: no semaphores, so nothing lands in /dev/shm on interrupt."""
    context = multiprocessing.get_context(machine.lab_start_method())
    pipes = [multiprocessing.Pipe() for _ in range(count)]
    hogs = [context.Process(target=spin_until, args=(theirs, argument), daemon=True)
            for _, theirs in pipes]
    try:
        for hog in hogs:
            runner.start(hog)
        for ours, _ in pipes:
            if not ours.poll(60):
                raise RuntimeError("a CPU-bound process did not start within 60 s")
            ours.recv()
        time.sleep(0.02)
        yield
    finally:
        for ours, _ in pipes:
            ours.send("stop")
        for hog in hogs:
            hog.join(timeout=2)
            if hog.is_alive():
                hog.terminate()
                hog.join(timeout=2)
        for ours, theirs in pipes:
            ours.close()
            theirs.close()


def ping_latencies(pings: int, gap: float = 0.002, budget: float = 1.0) -> list[float]:
    """Round trips of one byte to a thread that echoes it over a local socket pair.

    Stops after `pings` round trips, or after `budget` seconds once it has at least ten."""
    ours, theirs = socket.socketpair()
    ours.settimeout(10)
    responder = threading.Thread(target=_echo, args=(theirs,), daemon=True, name="lab-responder")
    responder.start()
    latencies, give_up = [], time.perf_counter() + budget
    try:
        while len(latencies) < pings and (len(latencies) < 10 or time.perf_counter() < give_up):
            started = time.perf_counter()
            ours.sendall(b"p")
            ours.recv(1)
            latencies.append(time.perf_counter() - started)
            time.sleep(gap)
    finally:
        ours.close()  # the responder sees end-of-stream and returns
        responder.join(timeout=10)
        theirs.close()
    return latencies


def _echo(sock: socket.socket) -> None:
    while sock.recv(1):
        sock.sendall(b"r")


def hog_label(backend: str, count: int) -> str:
    """'alone', '1 CPU-bound thread', '2 CPU-bound processes', …"""
    if backend == "alone":
        return "alone"
    noun = {"threads": "thread", "processes": "process"}[backend] if count == 1 else backend
    return f"{count} CPU-bound {noun}"


def convoy_verdict(result: Convoy) -> Verdict:
    alone = result.median(("alone", 0))
    parts = [f"alone {alone * 1000:.2f} ms"]
    for key in result.latencies:
        if key[0] != "alone":
            parts.append(f"{hog_label(*key)} {result.median(key) * 1000:.2f} ms "
                         f"(p99 {result.p99(key) * 1000:.2f}, {len(result.latencies[key])} pings)")
    worst = max(result.latencies, key=result.median)
    ratio = result.median(worst) / alone if alone else float("inf")
    headline = (f"The worst case, {hog_label(*worst)}, made each round trip "
                f"{text.times(ratio, 'slower', 'faster', 'about as fast as alone')}; the switch "
                f"interval is {result.switch_interval * 1000:g} ms.")
    return Verdict(headline, "Median round trip: " + "; ".join(parts) + "." + machine.busy_note())


# --- 5. mixed work -------------------------------------------------------------------------


def mixed_task(job: tuple[str, object]):
    """Runs in a worker: one task of the kind named in the job."""
    kind, argument = job
    return workloads.TASKS[kind](argument)


def mixed_jobs(cpu_share: float, tasks: int) -> list[tuple[str, object]]:
    """`tasks` jobs, the given share of them cpu and the rest io, spread evenly."""
    if not 0 <= cpu_share <= 1:
        raise ValueError(f"cpu_share must be between 0 and 1, got {cpu_share!r}")
    if isinstance(tasks, bool) or not isinstance(tasks, int) or not 1 <= tasks <= runner.MAX_TASKS:
        raise ValueError(f"tasks must be an integer from 1 to {runner.MAX_TASKS:,}, got {tasks!r}")
    calibration = workloads.calibrate()
    cpu_count = round(cpu_share * tasks)
    kinds = ["cpu" if (i * cpu_count) % tasks < cpu_count else "io" for i in range(tasks)]
    return [(kind, calibration.argument(kind)) for kind in kinds]


@dataclass(frozen=True)
class Mixed:
    """Speedup over sequential of threads and processes, per share of cpu tasks."""

    workers: int
    shares: tuple[float, ...]
    speedups: dict[str, tuple[float, ...]]


def mixed(shares: Sequence[float] = (0, 0.25, 0.5, 0.75, 1), tasks: int = 16,
          workers: int | None = None, repeats: int = 2,
          progress: runner.Progress | None = None) -> Mixed:
    """The same number of tasks, from all io to all cpu, on threads and on processes."""
    workers = max(4, 2 * machine.usable_cpus().value) if workers is None else workers
    runner.check_workers(workers, "processes")
    jobs_per_share = [mixed_jobs(share, tasks) for share in shares]  # checks them all first
    speedups: dict[str, list[float]] = {"threads": [], "processes": []}
    for done, jobs in enumerate(jobs_per_share):
        base = runner.run(mixed_task, args=jobs, backend="sequential", repeats=repeats).median
        for backend in speedups:
            wall = runner.run(mixed_task, args=jobs, backend=backend, workers=workers,
                              repeats=repeats).median
            speedups[backend].append(base / wall)
        if progress:
            progress(done + 1, len(shares))
    return Mixed(workers, tuple(shares), {b: tuple(v) for b, v in speedups.items()})


def amdahl(serial_share, workers: int):
    """Amdahl's law: the most `workers` can speed up work whose `serial_share` cannot be split,
    1 / (s + (1 - s) / n). Takes a number or a NumPy array of shares."""
    return 1 / (serial_share + (1 - serial_share) / workers)


def mixed_verdict(result: Mixed) -> Verdict:
    """Where threads kept up with processes (at least 90% of their speedup) and where not."""
    rows = list(zip(result.shares, result.speedups["threads"], result.speedups["processes"]))
    enough = [f"{share:.0%}" for share, t, p in rows if t >= 0.9 * p]
    behind = [f"{share:.0%}" for share, t, p in rows if t < 0.9 * p]
    ends = "; ".join(f"at {share:.0%} cpu threads {t:.1f}× vs processes {p:.1f}×"
                     for share, t, p in (rows[0], rows[-1]))
    headline = (f"With {result.workers} workers, threads were good enough (at least 90% of the "
                f"processes' speedup) at cpu shares {', '.join(enough) or 'none'}, and processes won "
                f"by more than 10% at {', '.join(behind) or 'none'}.")
    said = f"{ends[0].upper()}{ends[1:]}."
    if machine.usable_cpus().value == 1:
        said += (" With one usable CPU processes cannot compute in parallel either, so threads "
                 "lose nothing to them even on all-cpu work: only the waits overlap.")
    return Verdict(headline, said)


# --- 6. free-threaded Python ----------------------------------------------------------------


def free_threading_note(sweeps: dict[str, Sweep]) -> str:
    """What this interpreter showed on cpu work, and what a free-threaded build changes."""
    gil = machine.gil_enabled()
    threads = sweeps["cpu"].best("threads").speedup if "cpu" in sweeps else None
    measured = f" Threads on cpu work reached {threads:.1f}× above." if threads else ""
    if gil.value:
        return ("The GIL is on in this interpreter (" + gil.source + ")." + measured +
                " A free-threaded build (python3.13t or python3.14t) removes it: the same cells "
                "would show threads climbing on cpu work like processes, up to the usable CPUs, "
                "and plain `counter += 1` across threads would start losing updates. To try it, "
                "install a free-threaded Python 3.13+ (for example `uv python install 3.14t`, or "
                "the free-threaded option of the python.org installer), make a virtual "
                "environment with it, install requirements.txt and run this notebook again. "
                + EXTENSIONS_NOTE)
    return ("The GIL is off in this interpreter (" + gil.source + ")." + measured +
            " Compare the cpu panel with a regular build: there threads stay near 1×. "
            + EXTENSIONS_NOTE)


EXTENSIONS_NOTE = ("On a free-threaded build, importing an extension module that has not declared "
                   "itself ready turns the GIL back on for the whole process (Python warns when it "
                   "does; `PYTHON_GIL=0` keeps it off at your own risk), so check "
                   "`sys._is_gil_enabled()` after your imports.")


# --- try it yourself -------------------------------------------------------------------------


def convoy_once(hogs: int = 2, interval_ms: float = 5.0, backend: str = "threads",
                progress: runner.Progress | None = None) -> Convoy:
    """The convoy panel: the responder alone, then beside `hogs` CPU-bound workers."""
    return convoy(hogs=(hogs,), backends=(backend,), interval=interval_ms / 1000, progress=progress)


# --- exercises ---------------------------------------------------------------------------------

PRIME_LIMIT = 120_000


def count_primes(limit: int) -> int:
    """Pure-Python trial division: CPU-bound, holds the GIL."""
    count = 0
    for n in range(2, limit):
        if all(n % d for d in range(2, int(n ** 0.5) + 1)):
            count += 1
    return count


def check_thread_guess(guess, sweeps: dict[str, Sweep]) -> str:
    """Exercise 1: which kinds got faster with threads on this machine (≥ 1.3×)?"""
    if not isinstance(guess, dict) or not guess:
        return "Not yet: fill in my_guess with True or False for cpu, gil_free and io."
    lines = []
    for kind, scales in guess.items():
        if kind not in sweeps:
            lines.append(f"{kind!r} is not one of the kinds measured above ({', '.join(sweeps)}).")
            continue
        best = sweeps[kind].best("threads").speedup
        measured = best >= 1.3
        mark = "right" if bool(scales) == measured else "wrong"
        lines.append(f"{kind}: you said {'scales' if scales else 'does not scale'}; threads "
                     f"reached {best:.1f}× here → {mark}.")
    return "\n".join(lines)


def check_parallel(run_all, limits: Sequence[int] | None = None) -> str:
    """Exercise 2: does run_all(limits) give the right counts, computed in other processes?"""
    import psutil

    limits = list(limits or [PRIME_LIMIT] * max(2, 2 * machine.usable_cpus().value))
    here = psutil.Process()
    started, cpu_start = time.perf_counter(), sum(here.cpu_times()[:2])
    expected = [count_primes(limit) for limit in limits]
    sequential_wall, sequential_cpu = time.perf_counter() - started, sum(here.cpu_times()[:2]) - cpu_start
    started, cpu_start = time.perf_counter(), sum(here.cpu_times()[:2])
    try:
        with runner.fork_warning_hidden():  # the learner's pool may fork from the kernel's threads
            got = run_all(limits)
    except Exception as error:
        return f"Not quite: run_all raised {type(error).__name__}: {error}"
    wall, cpu_here = time.perf_counter() - started, sum(here.cpu_times()[:2]) - cpu_start
    if list(got or []) != expected:
        return "Not quite: run_all must return count_primes(limit) for each limit, in order."
    share = cpu_here / sequential_cpu if sequential_cpu else 1.0
    figures = (f"speedup {sequential_wall / wall:.2f}× on {machine.usable_cpus().value} usable "
               f"CPU(s); {share:.0%} of the work's CPU time was spent in this process.")
    gil = machine.gil_enabled().value
    if share > 0.5:
        why = "so its threads shared one GIL" if gil else "which this Python allows, as it has no GIL"
        return (f"Not yet: the counting ran in this process, {why} — " + figures
                + " The exercise asks for a ProcessPoolExecutor.")
    said = ("Right: the counting ran in other processes, each with its own "
            + ("GIL — " if gil else "interpreter — ") + figures)
    if machine.usable_cpus().value == 1:
        said += (" With one usable CPU no executor can beat sequential here; on more cores "
                 "this version gets faster.")
    return said


def io_wall(workers: int, tasks: int = 64) -> float:
    """Fastest of 5 runs of `tasks` io waits of one unit on `workers` threads, in seconds.

    The fastest, not the median: a busy machine only ever adds delay to a sleep, so the
    fastest run is the one closest to what the thread count itself allows.
    """
    return runner.run("io", backend="threads", workers=workers, tasks=tasks, repeats=5).fastest


def check_io_plateau(answer, tasks: int = 64) -> str:
    """Exercise 3: the thread count past which io threads stop helping (for `tasks` waits)."""
    if not isinstance(answer, int) or isinstance(answer, bool) or not 2 <= answer <= 128:
        return "Not yet: set my_plateau to a whole number of threads between 2 and 128."
    fewer, at, more = io_wall(answer // 2, tasks), io_wall(answer, tasks), io_wall(2 * answer, tasks)
    figures = (f"{answer // 2} threads {fewer * 1000:.0f} ms, {answer} threads {at * 1000:.0f} ms, "
               f"{2 * answer} threads {more * 1000:.0f} ms.")
    if more < 0.87 * at:
        return f"Not yet: doubling to {2 * answer} threads still helped — " + figures
    if fewer < 1.15 * at:
        return f"Not yet: halving to {answer // 2} threads did not hurt — " + figures
    return (f"Right: {figures} Past one thread per wait ({tasks} here) there is nothing left "
            "to overlap; the number of cores never entered into it.")
