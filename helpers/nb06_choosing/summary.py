"""Notebook 06's experiments: the whole series, measured again quickly, in one Summary.

Every figure is a Quantity that keeps its unit and where it came from, so the
infographic, the decision guide and the verdict all quote the same numbers.
"""
from __future__ import annotations

import sys
import time
from dataclasses import dataclass

from ..core import machine, runner, text, workloads
from ..core.text import Verdict
from ..nb04_races import races
from ..nb03_sharing_data import sharing
from ..nb02_process_cost import spawning
from ..nb01_gil.gil import switch_interval

KINDS = workloads.KINDS
BACKENDS = ("threads", "processes")
TRANSFER_BYTES = sharing.MiB          # one payload size for the transfer figures
RACE_THREADS, RACE_DEPOSITS, RACE_TRIALS = 4, 50_000, 3
START_REPEATS = 3
FASTER = 1.3                          # below this a speedup is within noise and start-up cost


@dataclass(frozen=True)
class Quantity:
    """One measured number, its unit, and where it came from."""

    value: float
    unit: str
    source: str

    @property
    def text(self) -> str:
        """The number as every figure and sentence quotes it, e.g. '1.9×', '7.2 ms'."""
        return quote(self.value, self.unit)


def quote(value: float, unit: str) -> str:
    """Format a number for its unit, one way everywhere (times and rates through core.text)."""
    if unit == "×":
        return f"{value:.1f}×"
    if unit == "updates":
        return f"{value:,.0f}"
    if unit == "µs":
        return text.us(value / 1e6)
    if unit == "MB/s":
        return text.rate(value * 1e6)
    if unit == "ms":
        return text.ms(value / 1000)
    if unit == "MiB":
        return f"{value * 1024:,.0f} KiB" if abs(value) < 1 else f"{value:.1f} MiB"
    return f"{value:g} {unit}"


@dataclass(frozen=True)
class Summary:
    """What the series measures, once more, on this machine."""

    usable_cpus: int
    python: str
    gil_enabled: bool
    start_method: str
    workers: dict[str, int]                       # kind → worker count used for its speedups
    speedups: dict[str, dict[str, Quantity]]      # kind → backend → speedup over sequential
    thread_start: Quantity                        # µs to start and join one thread
    process_start: Quantity                       # ms to start and join one process
    transfer_bytes: int
    queue_rate: Quantity                          # MB/s through a multiprocessing.Queue
    shared_rate: Quantity                         # MB/s through shared memory
    message_latency: Quantity                     # µs for one tiny message through a Queue
    thread_memory: Quantity                       # MiB added per idle thread
    process_memory: Quantity                      # MiB added per idle process (PSS; USS off Linux)
    deposits: int                                 # deposits made in each race
    lost_racy: Quantity                           # updates lost by the racy deposit
    lost_locked: Quantity                         # updates lost with the lock
    seconds: float = 0.0                          # how long measure() took

    def speedup(self, kind: str, backend: str) -> Quantity:
        return self.speedups[kind][backend]

    @property
    def machine_line(self) -> str:
        cpus = f"{self.usable_cpus} usable CPU{'s' if self.usable_cpus != 1 else ''}"
        gil = "GIL on" if self.gil_enabled else "GIL off"
        return f"{cpus} · {self.python} ({gil}) · start method {self.start_method}"


# --- measuring --------------------------------------------------------------------------------


def speedup_workers(usable_cpus: int | None = None) -> dict[str, int]:
    """Workers per kind: the usable CPUs (at least 2) for cpu and gil_free; four times
    that for io, whose waits need no CPU."""
    usable = machine.usable_cpus().value if usable_cpus is None else usable_cpus
    runner.check_int("usable_cpus", usable, 1, 1024)
    cores = min(max(2, usable), runner.max_workers("processes"))
    return {"cpu": cores, "gil_free": cores, "io": min(4 * cores, runner.max_workers("processes"))}


def measure(progress: runner.Progress | None = None) -> Summary:
    """Quick fresh measurements of every claim of the series, reusing the topic modules."""
    if progress is not None and not callable(progress):
        raise ValueError(f"progress must be None or a callable(done, total), got {progress!r}")
    began = time.perf_counter()
    here = machine.describe()
    method = runner.check_start_method(None)
    workers = speedup_workers()
    parts = [lambda kind=kind: _speedups(kind, workers[kind]) for kind in KINDS]
    parts += [lambda: _start_costs(method), lambda: _transfers(method), lambda: _memory(method),
              _lost_updates]
    done = []
    for part in parts:
        done.append(part())
        if progress is not None:
            progress(len(done), len(parts))
    *kinds, (thread_start, process_start), (queue_rate, shared_rate, latency), \
        (thread_memory, process_memory), (lost_racy, lost_locked, deposits) = done
    speedups = dict(zip(KINDS, kinds))
    return Summary(
        usable_cpus=here.usable_cpus.value, python=here.python.value,
        gil_enabled=bool(here.gil_enabled.value), start_method=method, workers=workers,
        speedups=speedups, thread_start=thread_start, process_start=process_start,
        transfer_bytes=TRANSFER_BYTES, queue_rate=queue_rate, shared_rate=shared_rate,
        message_latency=latency, thread_memory=thread_memory, process_memory=process_memory,
        deposits=deposits, lost_racy=lost_racy, lost_locked=lost_locked,
        seconds=time.perf_counter() - began,
    )


def _speedups(kind: str, workers: int) -> dict[str, Quantity]:
    tasks, units = (workers, 1.0) if kind == "io" else (4 * workers, 1.0)
    sweep = runner.sweep(kind, workers=[workers], tasks=tasks, units=units, repeats=3)
    source = (f"runner.sweep({kind!r}, workers=[{workers}], tasks={tasks}, repeats=3): "
              "median sequential time ÷ median parallel time")
    return {backend: Quantity(sweep.best(backend).speedup, "×", source) for backend in BACKENDS}


def _start_costs(method: str) -> tuple[Quantity, Quantity]:
    spawning.process_start(method)  # warm-up: the forkserver's server starts outside the clock
    processes = sorted(spawning.process_start(method) for _ in range(START_REPEATS))
    threads = sorted(spawning.thread_start() for _ in range(20))
    return (Quantity(threads[len(threads) // 2] * 1e6, "µs", "median of 20 spawning.thread_start()"),
            Quantity(processes[len(processes) // 2] * 1e3, "ms",
                     f"median of {START_REPEATS} spawning.process_start({method!r})"))


def _transfers(method: str) -> tuple[Quantity, Quantity, Quantity]:
    result = sharing.transfers(largest=TRANSFER_BYTES, channels=("Queue", "shared memory"),
                               method=method)
    where = f"sharing.transfers(largest={text.size(TRANSFER_BYTES)}, {method})"
    size = text.size(result.sizes[-1])
    return (Quantity(result.throughput["Queue"][-1] / 1e6, "MB/s", f"{where}: Queue, {size} messages"),
            Quantity(result.throughput["shared memory"][-1] / 1e6, "MB/s",
                     f"{where}: shared memory, {size} per copy"),
            Quantity(result.latency["Queue"][0] * 1e6, "µs",
                     f"{where}: one {text.size(result.sizes[0])} message through a Queue"))


def _memory(method: str, count: int = 2) -> tuple[Quantity, Quantity]:
    """MiB per idle thread (USS) and per idle process: PSS, which counts shared pages fairly,
    where psutil has it (Linux only); elsewhere USS, since PSS reads 0 there."""
    threads = spawning.memory_added("threads", [count])[-1]
    processes = spawning.memory_added(method, [count])[-1]
    thread = Quantity(threads.uss / count, "MiB", f"USS added by {count} idle threads ÷ {count} "
                      f"(psutil){_denied(threads)}")
    if _has_pss():
        return thread, Quantity(processes.pss / count, "MiB",
                                f"PSS added by {count} idle {method} processes ÷ {count} (psutil)")
    return thread, Quantity(processes.uss / count, "MiB",
                            f"USS added by {count} idle {method} processes ÷ {count} (psutil; "
                            f"no PSS on this platform){_denied(processes)}")


def _has_pss() -> bool:
    """psutil reports PSS on Linux only."""
    return sys.platform.startswith("linux")


def _denied(usage: spawning.Usage) -> str:
    """'; macOS denied USS for N processes; RSS shown', or '' when every USS was read."""
    note = spawning.uss_denied_note(usage.uss_denied)
    return f"; {note}" if note else ""


def _lost_updates() -> tuple[Quantity, Quantity, int]:
    """Racy and locked deposits, the same number of trials each: three, or six when the first
    three lost nothing (a loaded machine can leave the waiting threads unscheduled)."""
    with switch_interval(races.DEMO_INTERVAL):
        lost = list(races.bank(RACE_THREADS, RACE_DEPOSITS, RACE_TRIALS).lost)
        if not any(lost):
            lost += races.bank(RACE_THREADS, RACE_DEPOSITS, RACE_TRIALS).lost
        locked = races.bank(RACE_THREADS, RACE_DEPOSITS, len(lost), races.locked_deposit)
    where = (f"races.bank({RACE_THREADS} threads × {RACE_DEPOSITS:,} deposits, {len(lost)} trials, "
             f"1 ms switch interval), lost summed over the trials")
    return (Quantity(sum(lost), "updates", f"{where}: racy_deposit"),
            Quantity(sum(locked.lost), "updates", f"{where}: locked_deposit"),
            RACE_THREADS * RACE_DEPOSITS * len(lost))


# --- reading it ---------------------------------------------------------------------------------


def headlines(s: Summary) -> dict[str, str]:
    """The big line of each infographic panel, computed from the numbers."""
    def pair(kind: str, first: str) -> str:
        second = "processes" if first == "threads" else "threads"
        return (f"{first} {s.speedup(kind, first).text}\n"
                f"{second} {s.speedup(kind, second).text}")

    return {
        "cpu": pair("cpu", "processes"),
        "gil_free": pair("gil_free", "threads"),
        "io": pair("io", "threads"),
        "start": f"process {s.process_start.text}\nthread {s.thread_start.text}",
        "transfer": f"shared memory {s.shared_rate.text}\nQueue {s.queue_rate.text}",
        "memory": f"process {s.process_memory.text}\nthread {s.thread_memory.text}",
        "races": f"racy: {s.lost_racy.text} lost\nlocked: {s.lost_locked.text} lost",
    }


def _one_cpu(s: Summary) -> bool:
    return s.usable_cpus == 1


def _cpu_meaning(processes: float, threads: float, gil: bool = True) -> str:
    if threads >= FASTER and not gil:
        return "threads sped it up too: this interpreter is running without the GIL"
    if threads >= FASTER:
        return ("threads measured faster too, which pure Python cannot be under the GIL: something "
                "else was using the machine, so measure again")
    if processes >= FASTER:
        return "only processes sped it up: each has its own GIL"
    return "no real speedup this time: the machine may be busy with other work"


def verdict(s: Summary) -> Verdict:
    """A headline on computing, with the costs, data and races below it, computed from the numbers."""
    cpu_p, cpu_t = s.speedup("cpu", "processes"), s.speedup("cpu", "threads")
    free_t, io_t = s.speedup("gil_free", "threads"), s.speedup("io", "threads")
    if _one_cpu(s):
        compute = (f"With one usable CPU nothing computes in parallel here: cpu work ran "
                   f"{cpu_p.text} on processes and {cpu_t.text} on threads, gil_free "
                   f"{free_t.text} on threads. Only waiting overlaps: io ran {io_t.text} on "
                   f"{s.workers['io']} threads.")
    else:
        cpu_part = (f"pure-Python cpu work ran at {cpu_p.text} on {s.workers['cpu']} processes "
                    f"and {cpu_t.text} on threads ({_cpu_meaning(cpu_p.value, cpu_t.value, s.gil_enabled)})")
        compute = (f"On {s.usable_cpus} usable CPUs, {cpu_part}; gil_free work (hashlib) "
                   f"{free_t.text} on threads; io waits {io_t.text} on {s.workers['io']} threads.")
    ratio = s.process_start.value * 1000 / max(s.thread_start.value, 1e-9)
    costs = (f"A process cost {s.process_start.text} to start ({s.start_method}), a thread "
             f"{s.thread_start.text}: about {ratio:,.0f}× more; an idle process added "
             f"{s.process_memory.text}, a thread {s.thread_memory.text}.")
    faster = "faster" if s.shared_rate.value > s.queue_rate.value else "no faster"
    data = (f"Moving {text.size(s.transfer_bytes)} payloads, shared memory reached "
            f"{s.shared_rate.text}, {faster} than a Queue at {s.queue_rate.text}.")
    races_part = (f"{RACE_THREADS} threads making {s.deposits:,} racy deposits in all lost "
                  f"{s.lost_racy.text}; with a lock they lost {s.lost_locked.text}.")
    return Verdict(_headline(s), "\n".join([compute, costs, data, races_part]))


def _headline(s: Summary) -> str:
    """One sentence: which backend computed pure Python fastest here, and by how much."""
    cpu_p, cpu_t = s.speedup("cpu", "processes"), s.speedup("cpu", "threads")
    if _one_cpu(s):
        return (f"With one usable CPU only waiting overlapped: io ran "
                f"{s.speedup('io', 'threads').text} on threads.")
    return (f"On {s.usable_cpus} usable CPUs, pure-Python work ran {cpu_p.text} on processes and "
            f"{cpu_t.text} on threads: {_cpu_meaning(cpu_p.value, cpu_t.value, s.gil_enabled)}.")


@dataclass(frozen=True)
class Step:
    """One node of the decision guide: a question, and where its answers lead."""

    question: str
    yes: str          # the advice if yes, quoting this machine's numbers
    no: str = ""      # the advice if no ('' when the no-arrow leads to the next question)


def guide_steps(s: Summary) -> tuple[list[Step], list[Step], str]:
    """The decision guide: (which backend, then whichever you chose, the fall-through advice)."""
    io_t, io_p = s.speedup("io", "threads"), s.speedup("io", "processes")
    cpu_p, cpu_t = s.speedup("cpu", "processes"), s.speedup("cpu", "threads")
    free_t, free_p = s.speedup("gil_free", "threads"), s.speedup("gil_free", "processes")
    one_cpu = " (one usable CPU here: expect no speedup)" if _one_cpu(s) else ""
    busy = "" if _one_cpu(s) else " Not faster this time: was the machine busy? Run it again."
    backend = [
        Step("Is the work mostly waiting (network, disk, a reply)?",
             f"Threads, or asyncio. Here io waits ran {io_t.text} faster on {s.workers['io']} "
             f"threads (processes {io_p.text}): more workers than CPUs is fine."),
        Step("Is it pure-Python CPU work?",
             (f"Processes{one_cpu}." if s.gil_enabled else
              f"Threads or processes{one_cpu}: this Python has no GIL, so threads run Python in "
              "parallel too.")
             + f" Here cpu work ran {cpu_p.text} on {s.workers['cpu']} processes, "
             f"{cpu_t.text} on threads. Each process costs {s.process_start.text} to start and "
             f"{s.process_memory.text}: keep one pool." + (busy if cpu_p.value < FASTER else "")),
        Step("Does it spend its time in C code that releases the GIL (NumPy, hashlib, zlib)?",
             f"Threads{one_cpu}. Here gil_free work ran {free_t.text} on {s.workers['gil_free']} "
             f"threads (processes {free_p.text}), with no copying and "
             f"{s.thread_memory.text} per thread." + (busy if free_t.value < FASTER else "")),
    ]
    size = text.size(s.transfer_bytes)
    then = [
        Step("Is there much data to move between processes?",
             f"Shared memory: {s.shared_rate.text} here for {size} payloads.",
             f"Messages (Queue, pool arguments): {s.queue_rate.text} for {size}, "
             f"{s.message_latency.text} for a tiny one."),
        Step("Is there shared mutable state?",
             f"A lock, or one owner fed by a queue. Here racy deposits lost {s.lost_racy.text} "
             f"of {s.deposits:,}; with a lock {s.lost_locked.text}.",
             "Nothing to lock: let each worker return its result, and combine them."),
    ]
    otherwise = ("None of these: measure first. Keep it sequential, or split it into parts "
                 "that are waiting, Python or C.")
    return backend, then, otherwise


def guide_text(s: Summary) -> list[str]:
    """The decision guide as plain lines (for screen readers and tests)."""
    backend, then, otherwise = guide_steps(s)
    lines = ["Which to use:"]
    for number, step in enumerate(backend, 1):
        lines += [f"{number}. {step.question}", f"   Yes → {step.yes}", "   No → next question."]
    lines[-1] = f"   No → {otherwise}"
    lines.append("Then, whichever you chose:")
    for number, step in enumerate(then, len(backend) + 1):
        lines += [f"{number}. {step.question}", f"   Yes → {step.yes}", f"   No → {step.no}"]
    return lines
