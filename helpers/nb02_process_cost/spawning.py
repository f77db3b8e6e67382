"""Notebook 02's experiments: what a process costs, and when it pays off."""
from __future__ import annotations

import concurrent.futures as cf
import json
import math
import multiprocessing
import os
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, NamedTuple, Sequence

import psutil

from ..core import machine, runner, text, workloads
from ..core.text import Verdict
from ..core.children.trivial import noop

HEAVY_MAIN = Path(__file__).parents[1] / "core" / "children" / "heavy_main.py"


def methods() -> list[str]:
    """The start methods this platform offers safely, in a fixed order.

    macOS offers fork too, but CPython's documentation calls it unsafe there (system libraries
    start threads, and a forked child can crash), so the lab leaves it out on macOS."""
    unsafe = {"fork"} if sys.platform == "darwin" else set()
    return [m for m in ("fork", "forkserver", "spawn")
            if m in multiprocessing.get_all_start_methods() and m not in unsafe]


def _timed(call: Callable[[], object]) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


# --- 1 and 2. start costs ---------------------------------------------------------------


@dataclass(frozen=True)
class StartCosts:
    """Seconds per start+join of one process, and per pool create+use+shutdown, per method."""

    pool_workers: int
    process: dict[str, tuple[float, ...]]
    pool: dict[str, tuple[float, ...]]
    thread: tuple[float, ...]

    def median(self, kind: str, method: str | None = None) -> float:
        values = self.thread if kind == "thread" else getattr(self, kind)[method]
        return statistics.median(values)


def process_start(method: str) -> float:
    """Seconds to start one trivial process with `method` and wait for it to end."""
    runner.check_start_method(method)
    context = multiprocessing.get_context(method)
    started = time.perf_counter()
    child = context.Process(target=noop)
    runner.start(child)
    child.join()
    return time.perf_counter() - started


def pool_round(method: str, workers: int) -> float:
    """Seconds to create a pool of `workers`, run one trivial task on each, and shut it down."""
    runner.check_start_method(method)
    runner.check_workers(workers, "processes")
    context = multiprocessing.get_context(method)
    started = time.perf_counter()
    with cf.ProcessPoolExecutor(workers, mp_context=context) as pool:
        with runner.fork_warning_hidden():  # a fork pool starts its workers at the first submit
            answers = pool.map(noop, range(workers))
        list(answers)
    return time.perf_counter() - started


def thread_start() -> float:
    """Seconds to start one trivial thread and wait for it to end."""
    started = time.perf_counter()
    thread = threading.Thread(target=noop)
    thread.start()
    thread.join()
    return time.perf_counter() - started


def start_costs(repeats: int = 5, workers: int | None = None,
                progress: runner.Progress | None = None) -> StartCosts:
    """Every start method, `repeats` times each; the forkserver is warmed up first."""
    workers = max(2, machine.usable_cpus().value) if workers is None else workers
    runner.check_workers(workers, "processes")
    runner.check_int("repeats", repeats, 1, 50)
    process, pool = {}, {}
    for done, method in enumerate(methods()):
        process_start(method)  # warm-up: the forkserver's server starts once, outside the clock
        process[method] = tuple(process_start(method) for _ in range(repeats))
        pool[method] = tuple(pool_round(method, workers) for _ in range(repeats))
        if progress:
            progress(done + 1, len(methods()))
    threads = tuple(thread_start() for _ in range(max(repeats, 20)))
    return StartCosts(workers, process, pool, threads)


def start_verdict(costs: StartCosts) -> Verdict:
    parts = [f"{m}: {costs.median('process', m) * 1000:.1f} ms per process, "
             f"{costs.median('pool', m) * 1000:.0f} ms per pool of {costs.pool_workers}"
             for m in costs.process]
    cheapest = min(costs.process, key=lambda m: costs.median("process", m))
    thread, process = costs.median("thread"), costs.median("process", cheapest)
    return Verdict(f"A thread started in {text.us(thread)}; the cheapest process here, {cheapest}, "
                   f"took {text.ms(process)}, {text.times(process / thread, 'longer', 'shorter', 'about as long')}.",
                   "; ".join(parts) + ".")


def kernel_threads() -> list[str]:
    """Names of the threads running in this process right now (a Jupyter kernel has several)."""
    return sorted(thread.name for thread in threading.enumerate())


@dataclass(frozen=True)
class HeavyMain:
    """Start+join seconds of children of a script whose main module imports numpy and matplotlib."""

    import_seconds: float
    starts: dict[str, tuple[float, ...]]


HEAVY_CASES = {
    "fork": ("fork",),
    "spawn": ("spawn",),
    "forkserver": ("forkserver",),
    "forkserver + preload": ("forkserver", "numpy", "matplotlib.figure"),
}


def heavy_main(progress: runner.Progress | None = None) -> HeavyMain:
    """Run helpers/heavy_main.py once per case in a fresh interpreter, read its timings."""
    starts, imports = {}, []
    cases = {name: args for name, args in HEAVY_CASES.items() if args[0] in methods()}
    for done, (name, args) in enumerate(cases.items()):
        output = subprocess.run([sys.executable, str(HEAVY_MAIN), *args], capture_output=True,
                                text=True, timeout=120, check=True).stdout
        measured = json.loads(output)
        starts[name] = tuple(measured["starts"])
        imports.append(measured["import"])
        if progress:
            progress(done + 1, len(cases))
    return HeavyMain(statistics.median(imports), starts)


def heavy_verdict(result: HeavyMain) -> Verdict:
    parts = [f"{name}: first {times[0] * 1000:.0f} ms, then {statistics.median(times[1:]) * 1000:.0f} ms"
             for name, times in result.starts.items()]
    later = {name: statistics.median(times[1:]) for name, times in result.starts.items()}
    slowest, fastest = max(later, key=later.get), min(later, key=later.get)
    return Verdict(f"Beside a main script whose imports take {text.ms(result.import_seconds)}, a "
                   f"{slowest} child took {text.ms(later[slowest])} to start and a {fastest} child "
                   f"{text.ms(later[fastest])}, after the first start.",
                   "Start+join per child — " + "; ".join(parts) + ". " + forkserver_note())


def forkserver_preloads_main(version: tuple = tuple(sys.version_info)) -> bool:
    """Whether this Python's forkserver imports the main script once, for all its children.

    It was meant to from the start, but never did (gh-126631) until CPython 3.13.8 and 3.14.1;
    3.12 was not fixed."""
    return version >= (3, 14, 1) or (3, 13, 8) <= version < (3, 14)


def forkserver_note(version: tuple = tuple(sys.version_info)) -> str:
    """The sentence about the forkserver and the main script, for this Python version."""
    python = ".".join(map(str, version[:3]))
    if forkserver_preloads_main(version):
        return (f"On Python {python} the forkserver imports the main script once, and its children "
                "inherit it.")
    return (f"On Python {python} the forkserver does not preload the main script (CPython fixed "
            "that in 3.13.8 and 3.14.1), so each forkserver child imports it again.")


# --- 3. pickling and transfer ---------------------------------------------------------------


def echo(payload: bytes) -> bytes:
    """Runs in a worker: send the payload straight back."""
    return payload


@dataclass(frozen=True)
class Transfer:
    """Median round-trip seconds per payload size, per backend, and one unit of work to compare."""

    sizes: tuple[int, ...]
    seconds: dict[str, tuple[float, ...]]
    unit_seconds: float

    def label(self, nbytes: int) -> str:
        return text.size(nbytes)

    def bandwidth(self, backend: str) -> list[float]:
        """Bytes per second, counting both directions."""
        return [2 * size / s for size, s in zip(self.sizes, self.seconds[backend])]

    def crossover(self, backend: str = "processes") -> int | None:
        """The smallest size whose round trip takes longer than one unit of work, if any."""
        for size, seconds in zip(self.sizes, self.seconds[backend]):
            if seconds > self.unit_seconds:
                return size
        return None


def transfer_sizes(largest: int = 100_000_000) -> list[int]:
    """1 kB … `largest` by factors of 10, capped so four copies fit in available memory."""
    available = psutil.virtual_memory().available
    if not 1000 <= largest <= available:
        raise ValueError(f"largest must be at least 1000 bytes and at most {available:,} (the "
                         f"available memory), got {largest!r}")
    largest = min(largest, available // 4)
    sizes, size = [], 1000
    while size <= largest:
        sizes.append(size)
        size *= 10
    return sizes


def transfer(largest: int = 100_000_000, repeats: int = 3, method: str | None = None,
             progress: runner.Progress | None = None) -> Transfer:
    """Round trips of bytes payloads through a one-worker process pool and thread pool."""
    sizes = transfer_sizes(largest)
    runner.check_int("repeats", repeats, 1, 50)
    seconds: dict[str, list[float]] = {"processes": [], "threads": []}
    step, total = 0, 2 * len(sizes)
    for backend in seconds:
        with runner.open_pool(backend, 1, method) as pool:
            for size in sizes:
                payload = os.urandom(size)
                seconds[backend].append(statistics.median(
                    _timed(lambda: pool.submit(echo, payload).result()) for _ in range(repeats)))
                step += 1
                if progress:
                    progress(step, total)
    return Transfer(tuple(sizes), {b: tuple(v) for b, v in seconds.items()},
                    workloads.calibrate().unit_seconds)


def transfer_verdict(result: Transfer) -> Verdict:
    top = result.sizes[-1]
    rate = text.rate(result.bandwidth("processes")[-1])
    thread_ms = result.seconds["threads"][-1] * 1000
    crossing = result.crossover("processes")
    where = (f"from {text.size(crossing)} on, moving the data to a process and back took longer "
             f"than one {result.unit_seconds * 1000:g} ms unit of work" if crossing else
             "even the largest payload moved faster than one unit of work")
    return Verdict(f"For processes, {where}.",
                   f"At {text.size(top)}: a process round trip moved {rate}; a thread round trip "
                   f"took {thread_ms:.2f} ms whatever the size (threads pass a reference).")


# --- 4. granularity and chunksize --------------------------------------------------------------


@dataclass(frozen=True)
class Granularity:
    """Speedup over sequential per task duration, for threads and processes."""

    workers: int
    durations: tuple[float, ...]
    speedups: dict[str, tuple[float, ...]]

    def break_even(self, backend: str = "processes") -> float | None:
        """The task duration where the speedup crosses 1×, interpolated on a log scale."""
        points = list(zip(self.durations, self.speedups[backend]))
        for (d0, s0), (d1, s1) in zip(points, points[1:]):
            if s0 < 1 <= s1:
                fraction = (1 - s0) / (s1 - s0)
                return math.exp(math.log(d0) + fraction * (math.log(d1) - math.log(d0)))
        return None


def granularity(durations: Sequence[float] = (0.0001, 0.001, 0.01, 0.1), total: float = 0.2,
                workers: int | None = None, progress: runner.Progress | None = None) -> Granularity:
    """The same `total` seconds of cpu work cut into tasks of each duration."""
    workers = max(2, machine.usable_cpus().value) if workers is None else workers
    runner.check_workers(workers, "processes")
    for duration in durations:
        if not 0.00001 <= duration <= 1:
            raise ValueError(f"task durations must be from 0.00001 to 1 s, got {duration!r}")
    if not 0 < total <= 10:
        raise ValueError(f"total must be more than 0 and at most 10 s, got {total!r}")
    unit = workloads.calibrate().unit_seconds
    speedups: dict[str, list[float]] = {"threads": [], "processes": []}
    for done, duration in enumerate(durations):
        tasks = max(workers, round(total / duration))
        base = runner.run("cpu", backend="sequential", tasks=tasks, units=duration / unit,
                          repeats=3).median
        for backend in speedups:
            wall = runner.run("cpu", backend=backend, workers=workers, tasks=tasks,
                              units=duration / unit, repeats=3).median
            speedups[backend].append(base / wall)
        if progress:
            progress(done + 1, len(durations))
    return Granularity(workers, tuple(durations), {b: tuple(v) for b, v in speedups.items()})


def granularity_verdict(result: Granularity) -> Verdict:
    even = result.break_even("processes")
    where = (f"processes start paying off for tasks longer than about {even * 1000:.2g} ms"
             if even else "processes never crossed 1× in this range" if
             max(result.speedups["processes"]) < 1 else "processes paid off at every size tried")
    best = max(result.speedups["processes"])
    one_cpu = ("With one usable CPU, processes cannot beat a plain loop at any task size."
               if machine.usable_cpus().value == 1 else "")
    return Verdict(f"With {result.workers} workers, {where}; at best {best:.1f}× over sequential.", one_cpu)


TINY_ITERATIONS = 150  # a few microseconds of pure Python
MAX_MAP_TASKS = 1_000_000


def tiny_task(n: int) -> int:
    """A task of a few microseconds: less work than sending it to a process costs."""
    return workloads.cpu(TINY_ITERATIONS) + n


@dataclass(frozen=True)
class Chunking:
    """Seconds to map `tasks` tiny tasks sequentially and with each chunksize."""

    tasks: int
    workers: int
    sequential: float
    seconds: dict[str, float]


def map_seconds(tasks: int, chunksize: int, workers: int, method: str | None = None) -> float:
    """Seconds to map `tiny_task` over range(tasks) in a warmed process pool."""
    runner.check_int("tasks", tasks, 1, MAX_MAP_TASKS)
    if isinstance(chunksize, bool) or not isinstance(chunksize, int) or not 1 <= chunksize <= tasks:
        raise ValueError(f"chunksize must be from 1 to {tasks}, got {chunksize!r}")
    with runner.open_pool("processes", workers, method) as pool:
        return _timed(lambda: list(pool.map(tiny_task, range(tasks), chunksize=chunksize)))


def chunking(tasks: int = 10_000, workers: int | None = None) -> Chunking:
    """chunksize 1 vs automatic vs one chunk per worker, against a plain loop."""
    workers = max(2, machine.usable_cpus().value) if workers is None else workers
    runner.check_int("tasks", tasks, 1, MAX_MAP_TASKS)
    runner.check_workers(workers, "processes")
    sequential = _timed(lambda: [tiny_task(n) for n in range(tasks)])
    automatic = runner.automatic_chunksize(tasks, workers, MAX_MAP_TASKS)
    sizes = {"1": 1, f"automatic ({automatic})": automatic, f"one per worker ({math.ceil(tasks / workers)})":
             math.ceil(tasks / workers)}
    return Chunking(tasks, workers, sequential,
                    {label: map_seconds(tasks, size, workers) for label, size in sizes.items()})


def chunking_verdict(result: Chunking) -> Verdict:
    parts = [f"chunksize {label}: {seconds * 1000:.0f} ms" for label, seconds in result.seconds.items()]
    best = min(result.seconds, key=result.seconds.get)
    return Verdict(f"{result.tasks:,} tiny tasks took {text.ms(result.seconds[best])} with chunksize "
                   f"{best} at best, against {text.ms(result.sequential)} in a plain loop.",
                   "; ".join(parts) + ". Each chunk is one message each way: fewer, bigger chunks "
                   "pay the per-message cost fewer times.")


# --- 5. pool reuse -------------------------------------------------------------------------


@dataclass(frozen=True)
class Reuse:
    """Seconds per small task: a fresh pool for each, vs one long-lived pool."""

    method: str
    fresh: tuple[float, ...]
    reused: tuple[float, ...]


def pool_reuse(tasks: int = 100, budget: float = 3.0, method: str | None = None) -> Reuse:
    """Up to `tasks` small tasks each way; the fresh-pool side stops after `budget` seconds."""
    method = runner.check_start_method(method)
    runner.check_int("tasks", tasks, 1, 10_000)
    if not 0 < budget <= 60:
        raise ValueError(f"budget must be more than 0 and at most 60 s, got {budget!r}")
    argument = workloads.calibrate().argument("cpu", 0.1)
    fresh, give_up = [], time.perf_counter() + budget
    while len(fresh) < tasks and (len(fresh) < 3 or time.perf_counter() < give_up):
        fresh.append(_timed(lambda: _one_task_in_a_fresh_pool(method, argument)))
    with runner.open_pool("processes", 1, method) as pool:
        reused = tuple(_timed(lambda: pool.submit(workloads.cpu, argument).result())
                       for _ in range(tasks))
    return Reuse(method, tuple(fresh), reused)


def _one_task_in_a_fresh_pool(method: str, argument: int) -> None:
    with cf.ProcessPoolExecutor(1, mp_context=multiprocessing.get_context(method)) as pool:
        with runner.fork_warning_hidden():
            answer = pool.submit(workloads.cpu, argument)
        answer.result()


def reuse_verdict(result: Reuse) -> Verdict:
    fresh, reused = statistics.median(result.fresh), statistics.median(result.reused)
    return Verdict(f"{result.method}: keeping one pool made each task "
                   f"{text.times(reused / fresh, 'dearer', 'cheaper', 'about as cheap')} than a fresh pool per task.",
                   f"A fresh pool per task: {fresh * 1000:.1f} ms per task (measured {len(result.fresh)}); "
                   f"one pool for all: {reused * 1000:.2f} ms per task (measured {len(result.reused)}).")


@dataclass(frozen=True)
class Startup:
    """Notebook 00's cpu sweep for processes twice: on warmed pools (start-up left out, as the
    series does elsewhere) and on a fresh pool per run (start-up and shutdown included)."""

    method: str
    usable_cpus: int
    workers: tuple[int, ...]
    sequential: float
    warm: tuple[float, ...]
    cold: tuple[float, ...]

    def speedups(self, which: str) -> list[float]:
        return [self.sequential / seconds for seconds in getattr(self, which)]


def startup_sweep(workers: Sequence[int] = (1, 2, 4), tasks: int = 8, repeats: int = 2,
                  method: str | None = None, progress: runner.Progress | None = None) -> Startup:
    """`tasks` cpu tasks of about 10 ms each, on each process count, warm and cold."""
    method = runner.check_start_method(method)
    for count in workers:
        runner.check_workers(count, "processes")
    if not workers:
        raise ValueError("workers must list at least one process count, e.g. [1, 2, 4]")
    runner.check_int("tasks", tasks, 1, 1_000)
    runner.check_int("repeats", repeats, 1, 20)
    argument = workloads.calibrate().argument("cpu", 1.0)
    sequential = runner.run("cpu", tasks=tasks, backend="sequential", repeats=repeats).median
    warm, cold = [], []
    for done, count in enumerate(workers):
        warm.append(runner.run("cpu", tasks=tasks, workers=count, backend="processes",
                               repeats=repeats, start_method=method).median)
        cold.append(statistics.median(_timed(lambda: _fresh_pool_map(method, count, argument, tasks))
                                      for _ in range(repeats)))
        if progress:
            progress(done + 1, len(workers))
    return Startup(method, machine.usable_cpus().value, tuple(workers), sequential, tuple(warm), tuple(cold))


def _fresh_pool_map(method: str, workers: int, argument: int, tasks: int) -> None:
    """What a short script does: make a pool, map, shut it down — all on the clock."""
    with cf.ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context(method)) as pool:
        with runner.fork_warning_hidden():
            list(pool.map(workloads.cpu, [argument] * tasks))


def startup_verdict(result: Startup) -> Verdict:
    warm, cold = result.speedups("warm"), result.speedups("cold")
    best = max(range(len(result.workers)), key=lambda i: warm[i])
    headline = (f"With start-up on the clock, {result.workers[best]} {result.method} processes were "
                f"{cold[best]:.1f}× as fast as a loop, against {warm[best]:.1f}× on a warmed pool.")
    details = (f"The work was {text.ms(result.sequential)} in a loop; starting and stopping the pool "
               f"added about {text.ms(max(result.cold[best] - result.warm[best], 0))}. ")
    if cold[best] < 1:
        details += "For work this short, starting processes cost more than they saved."
    else:
        details += ("Start-up is paid once per pool: the longer the work, the less it matters, and "
                    "a pool kept open pays it only once.")
    return Verdict(headline, details)


# --- 6. memory footprint -----------------------------------------------------------------------


def wait_for(connection) -> None:
    """Runs in an idle worker (thread or process) until told to stop, or for two minutes."""
    if connection.poll(120):
        connection.recv()


@dataclass(frozen=True)
class Footprint:
    """Extra MiB of memory per worker count, per backend (threads or a start method)."""

    counts: tuple[int, ...]
    uss: dict[str, tuple[float, ...]]
    rss: dict[str, tuple[float, ...]]
    pss: dict[str, tuple[float, ...]]
    # backend -> processes whose USS the system refused (macOS may): their RSS stands in for it
    uss_denied: dict[str, int] = field(default_factory=dict)

    def denied_note(self) -> str:
        """'macOS denied USS for N processes; RSS shown', or '' when every USS was read."""
        return uss_denied_note(sum(self.uss_denied.values()))


def uss_denied_note(processes: int) -> str:
    """What a figure built on USS must say when `processes` of them gave RSS instead."""
    if not processes:
        return ""
    system = {"darwin": "macOS", "win32": "Windows"}.get(sys.platform, "The system")
    return f"{system} denied USS for {processes} process{'es' if processes != 1 else ''}; RSS shown"


class Usage(NamedTuple):
    """MiB of memory summed over some processes; PSS is 0 where the platform has none."""

    uss: float
    rss: float
    pss: float
    uss_denied: int = 0  # processes whose USS was refused, counted with their RSS instead


def _memory(processes: list[psutil.Process]) -> Usage:
    """USS, RSS and PSS (MiB) summed over processes. Where the system refuses a process's
    full memory info (macOS may, psutil.AccessDenied), its RSS stands in for its USS."""
    uss = rss = pss = 0.0
    denied = 0
    for process in processes:
        try:
            info = process.memory_full_info()
        except psutil.AccessDenied:
            info, denied = process.memory_info(), denied + 1
        uss, rss = uss + getattr(info, "uss", info.rss) / 2**20, rss + info.rss / 2**20
        pss += getattr(info, "pss", 0) / 2**20
    return Usage(uss, rss, pss, denied)


def footprint(counts: Sequence[int] = (1, 2, 4, 8), progress: runner.Progress | None = None
              ) -> Footprint:
    """Memory added by N idle threads, and by N idle processes of each start method."""
    counts = sorted(counts)
    if not counts:
        raise ValueError("counts must list at least one worker count, e.g. (1, 2, 4)")
    for count in counts:
        runner.check_workers(count, "processes")
    uss, rss, pss, denied = {}, {}, {}, {}
    backends = ["threads", *methods()]
    for done, backend in enumerate(backends):
        rows = memory_added(backend, counts)
        uss[backend], rss[backend], pss[backend] = (tuple(r[i] for r in rows) for i in range(3))
        if any(row.uss_denied for row in rows):
            denied[backend] = max(row.uss_denied for row in rows)
        if progress:
            progress(done + 1, len(backends))
    return Footprint(tuple(counts), uss, rss, pss, denied)


def memory_added(backend: str, counts: list[int]) -> list[Usage]:
    """Start idle workers one by one; after each count in `counts`, measure what they added.

    Each worker waits on a pipe (no semaphores, so nothing lands in /dev/shm)."""
    here = psutil.Process()
    base = _memory([here])
    if backend == "threads":
        make = lambda end: threading.Thread(target=wait_for, args=(end,), daemon=True, name="lab-idle")
    else:
        context = multiprocessing.get_context(backend)
        make = lambda end: context.Process(target=wait_for, args=(end,), daemon=True)
    workers, pipes, rows = [], [], []
    try:
        while len(workers) < counts[-1]:
            pipes.append(multiprocessing.Pipe())
            workers.append(make(pipes[-1][1]))
            with runner.fork_warning_hidden():  # threads or processes
                workers[-1].start()
            if len(workers) in counts:
                time.sleep(0.2)  # let children finish importing before reading their memory
                rows.append(_added(here, base, workers, backend))
    finally:
        for ours, _ in pipes:
            ours.send("stop")
        for worker in workers:
            if _never_started(worker):  # an interrupt landed inside its start(): nothing to join
                continue
            worker.join(timeout=5)
            if hasattr(worker, "terminate") and worker.is_alive():
                worker.terminate()
                worker.join(timeout=2)
        for ours, theirs in pipes:
            ours.close()
            theirs.close()
    return rows


def _never_started(worker) -> bool:
    """A thread without an ident, or a process without a pid, was never started."""
    return (worker.pid if isinstance(worker, multiprocessing.process.BaseProcess) else worker.ident) is None


def _added(here, base: Usage, workers, backend) -> Usage:
    """USS and RSS of the new workers; PSS of everything against the parent before.

    PSS is the one that adds up: the parent's PSS falls as pages become shared with forked
    children, so it must be counted too. USS and RSS describe the workers themselves."""
    if backend == "threads":
        now = _memory([here])
        return Usage(*(m - b for m, b in zip(now[:3], base[:3])),
                     uss_denied=max(now.uss_denied, base.uss_denied))
    children = [psutil.Process(w.pid) for w in workers]
    own = _memory(children)
    return Usage(own.uss, own.rss, _memory([here, *children]).pss - base.pss, own.uss_denied)


def footprint_verdict(result: Footprint) -> Verdict:
    n = result.counts[-1]
    parts = [f"{backend} {result.uss[backend][-1]:.1f} MiB" for backend in result.uss]
    processes = {b: v[-1] for b, v in result.uss.items() if b != "threads"}
    dearest = max(processes, key=processes.get)
    denied = f" ({result.denied_note()})" if result.denied_note() else ""
    return Verdict(f"{n} idle threads added {result.uss['threads'][-1]:.1f} MiB of memory of their own "
                   f"(USS); {n} {dearest} processes added {processes[dearest]:.1f} MiB{denied}.",
                   f"Memory of its own (USS) added by {n} idle workers: " + ", ".join(parts) +
                   ". Threads share the process; forked children share the parent's pages until they "
                   "write to them; spawned children build a whole interpreter of their own."
                   + _denied_detail(result))


def _denied_detail(result: Footprint) -> str:
    """Which backends' USS is really RSS, and why that overstates them."""
    if not result.uss_denied:
        return ""
    which = ", ".join(f"{backend} ({count})" for backend, count in result.uss_denied.items())
    return (f" The system refused USS for some processes of {which}: their RSS is shown, which "
            "also counts pages they share, so those figures are too high.")


# --- 7. killability ---------------------------------------------------------------------------


def spin_forever() -> None:
    """A runaway task: loops until something kills its process."""
    while True:
        workloads.cpu(10_000)


@dataclass(frozen=True)
class Killing:
    process_stop_seconds: float
    stubborn_thread_seconds: float
    cooperative_thread_seconds: float
    cancelled: tuple[bool, ...]


def killing(method: str | None = None, stubborn_seconds: float = 0.5) -> Killing:
    """terminate() a runaway process; ask two threads to stop; cancel queued futures."""
    method = runner.check_start_method(method)
    if not 0.01 <= stubborn_seconds <= 5:
        raise ValueError(f"stubborn_seconds must be from 0.01 to 5 s, got {stubborn_seconds!r}")
    return Killing(
        process_stop_seconds=_terminate_runaway(method),
        stubborn_thread_seconds=_stop_thread(cooperative=False, bound=stubborn_seconds),
        cooperative_thread_seconds=_stop_thread(cooperative=True, bound=stubborn_seconds),
        cancelled=_cancel_queued(),
    )


def _terminate_runaway(method: str) -> float:
    child = multiprocessing.get_context(method).Process(target=spin_forever, daemon=True)
    runner.start(child)
    try:
        time.sleep(0.2)  # it is running away now
        started = time.perf_counter()
        child.terminate()
        child.join(timeout=5)
        return time.perf_counter() - started
    finally:
        if child.is_alive():
            child.kill()
            child.join()


def _stop_thread(cooperative: bool, bound: float) -> float:
    """Seconds from the stop request until the thread has ended."""
    stop = threading.Event()

    def work() -> None:
        give_up = time.perf_counter() + bound  # bounded, so the demo never leaves it running
        while time.perf_counter() < give_up:
            if cooperative and stop.is_set():
                return
            workloads.cpu(1_000)

    thread = threading.Thread(target=work, name="lab-runaway")
    thread.start()
    time.sleep(0.05)
    started = time.perf_counter()
    stop.set()
    thread.join()
    return time.perf_counter() - started


def _cancel_queued() -> tuple[bool, ...]:
    """One worker, three tasks: the running one cannot be cancelled, the queued ones can."""
    with cf.ThreadPoolExecutor(1, thread_name_prefix="lab-worker") as pool:
        futures = [pool.submit(time.sleep, 0.1) for _ in range(3)]
        time.sleep(0.02)
        return tuple(future.cancel() for future in futures)


def killing_verdict(result: Killing) -> Verdict:
    return Verdict(f"terminate() stopped a runaway process in {result.process_stop_seconds * 1000:.1f} ms; "
                   f"a thread that ignores the stop request ran on for "
                   f"{result.stubborn_thread_seconds * 1000:.0f} ms, until its own limit.",
                   f"A thread that checks an Event stopped in {result.cooperative_thread_seconds * 1000:.1f} ms. "
                   f"Future.cancel() on three queued tasks: {list(result.cancelled)} — the running one "
                   "cannot be cancelled.")


# --- try it yourself and exercises ---------------------------------------------------------------


def payload_task(job: tuple[bytes, int]) -> int:
    """Runs in a worker: receive a payload, compute for the given iterations, answer small."""
    payload, iterations = job
    return workloads.cpu(iterations) + len(payload)


@dataclass(frozen=True)
class Trial:
    """Wall seconds of the same jobs sequentially, on threads, and on a new process pool."""

    method: str
    workers: int
    tasks: int
    seconds: dict[str, float]
    pool_start: float


def trial(method: str | None = None, workers: int = 2, payload_kb: int = 100, task_ms: float = 10,
          progress: runner.Progress | None = None) -> Trial:
    """The panel's experiment: 4 jobs per worker, each a payload and some computing."""
    method = runner.check_start_method(method)
    runner.check_workers(workers, "processes")
    runner.check_int("payload_kb", payload_kb, 0, 100_000)
    if not 0.1 <= task_ms <= 500:
        raise ValueError(f"task_ms must be from 0.1 to 500, got {task_ms!r}")
    iterations = workloads.calibrate().argument("cpu", task_ms / 1000 / workloads.DEFAULT_UNIT_SECONDS)
    jobs = [(os.urandom(payload_kb * 1000), iterations)] * (4 * workers)
    seconds = {"sequential": runner.run(payload_task, args=jobs, backend="sequential", repeats=3).median,
               "threads": runner.run(payload_task, args=jobs, backend="threads", workers=workers,
                                     repeats=3).median}
    started = time.perf_counter()
    with cf.ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context(method)) as pool:
        with runner.fork_warning_hidden():  # a fork pool starts its workers at the first submit
            answers = pool.map(payload_task, [(b"", 1)] * workers)
        list(answers)  # start and import, as a first use would
        pool_start = time.perf_counter() - started
        seconds["processes"] = pool_start + statistics.median(
            _timed(lambda: list(pool.map(payload_task, jobs))) for _ in range(3))
    if progress:
        progress(1, 1)
    return Trial(method, workers, len(jobs), seconds, pool_start)


def trial_verdict(result: Trial) -> str:
    best = min(result.seconds, key=result.seconds.get)
    parts = ", ".join(f"{name} {s * 1000:.0f} ms" for name, s in result.seconds.items())
    return (f"{result.tasks} jobs: {parts} (of which {result.pool_start * 1000:.0f} ms starting "
            f"{result.workers} {result.method} workers). Fastest here: {best}.")


CHUNK_TASKS = 100_000


def check_chunksize(chunksize, tasks: int = CHUNK_TASKS) -> str:
    """Exercise 1: a chunksize that makes `tasks` tiny tasks faster in processes than a loop."""
    if isinstance(chunksize, bool) or not isinstance(chunksize, int):
        return "Not yet: set my_chunksize to a whole number."
    if not 100 <= chunksize <= tasks:
        return (f"Not yet: chunksize {chunksize} sends {math.ceil(tasks / max(chunksize, 1)):,} "
                f"messages each way; try one from 100 to {tasks:,}.")
    workers = max(2, machine.usable_cpus().value)
    loop = _timed(lambda: [tiny_task(n) for n in range(tasks)])
    chunked = map_seconds(tasks, chunksize, workers)
    figures = f"a plain loop {loop * 1000:.0f} ms, {workers} processes with chunksize {chunksize:,} {chunked * 1000:.0f} ms."
    if chunked < loop:
        return "Right: " + figures
    if machine.usable_cpus().value == 1:
        return ("With one usable CPU no chunksize can beat the loop: " + figures +
                " Try it on a machine with more cores.")
    return "Not yet: " + figures + " Fewer, bigger chunks cost fewer messages."


def check_cheapest(guess, costs: StartCosts) -> str:
    """Exercise 2: which start method started a process fastest here."""
    if guess not in costs.process:
        return f"Not yet: set my_cheapest to one of {', '.join(repr(m) for m in costs.process)}."
    ranking = sorted(costs.process, key=lambda m: costs.median("process", m))
    figures = ", ".join(f"{m} {costs.median('process', m) * 1000:.1f} ms" for m in ranking)
    if guess == ranking[0]:
        return f"Right: {figures}."
    return f"Not this time: {figures}."
