"""Notebook 06, section 3: bring your own function, and get told threads or processes.

The learner's function lives in a module file (the notebook writes it with %%writefile).
Children call it through `call`, a trampoline here that loads the file by its path, so it
works under fork, forkserver and spawn without the file being importable. Every argument
is first run once in a child process with a timeout: an exception, an unpicklable result
or a call that is too slow becomes a clear message, and no unproven call ever runs in a
thread of this process (a thread cannot be killed).
"""
from __future__ import annotations

import concurrent.futures as cf
import importlib
import importlib.util
import os
import pickle
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

from ..core import machine, runner, text, workloads
from ..core.text import Verdict

CHOICES = ("threads", "processes", "sequential")
MAX_ARGUMENTS = 256
WORTH_IT = 1.2         # a backend must beat sequential by this much to be worth recommending
CLOSE_ENOUGH = 0.9     # threads within this share of processes' speedup: prefer threads (cheaper)
WAITS_BELOW = 0.3      # CPU seconds per wall second below which a call mostly waits
HOLDS_FROM = 0.3       # estimated GIL-held share from which a call "holds the GIL"
PROBE_SECONDS = 0.1    # the GIL probe calls the function for about this long per thread
SCHEDSTAT = "/proc/thread-self/schedstat"  # Linux: ns on a CPU, ns ready but not on a CPU


def _queued_seconds() -> float | None:
    """Seconds the calling thread has spent ready to run but waiting for a free CPU (Linux).

    Subtracting it separates "the machine was busy" from "the call waited" or "the thread
    waited for the GIL"; None where the kernel does not say."""
    try:
        with open(SCHEDSTAT) as stats:
            return int(stats.read().split()[1]) / 1e9
    except (OSError, ValueError, IndexError):
        return None


# --- the learner's function --------------------------------------------------------------


@dataclass(frozen=True)
class Task:
    """A function to advise on: `name` in the module file `source` (or an importable module)."""

    source: str
    name: str

    @property
    def label(self) -> str:
        where = Path(self.source).name if self.source.endswith(".py") else self.source
        return f"{self.name} from {where}"

    @property
    def function(self) -> Callable:
        return _function(self.source, self.name)

    def job(self, argument) -> tuple[str, str, object]:
        """What a worker gets: enough to find the function, and the argument."""
        return self.source, self.name, argument


_loaded: dict[tuple[str, float], object] = {}


def _module_from_file(path: str):
    """The module in `path`, executed afresh whenever the file changed (cached by mtime)."""
    key = (path, os.path.getmtime(path))
    if key not in _loaded:
        # a name of its own: a learner's random.py must not replace the standard library's
        name = f"lab_task_{Path(path).stem}"
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses and pickle look a module up by name
        spec.loader.exec_module(module)
        _loaded[key] = module
    return _loaded[key]


def _function(source: str, name: str) -> Callable:
    if source.endswith(".py"):
        return getattr(_module_from_file(source), name)
    module = importlib.import_module(source)
    return getattr(module, name)


def call(job: tuple[str, str, object]):
    """Runs in a worker: find the function by file path (or module) and name, call it."""
    source, name, argument = job
    return _function(source, name)(argument)


def load(source, name: str | None = None) -> Task:
    """The function `name` in the file `source` ("my_task.py"), read afresh; or a module-level
    function given directly. Functions typed into the notebook itself are refused."""
    if callable(source):
        return _task_of_function(source)
    if not isinstance(source, (str, Path)) or not str(source).endswith(".py"):
        raise ValueError(f"source must be a .py file written with %%writefile, or a module-level "
                         f"function; got {source!r}")
    path = Path(source).resolve()
    if not path.is_file():
        raise ValueError(f"no file {str(source)!r} here ({Path.cwd()}); write it first with "
                         f"%%writefile {Path(source).name}")
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"name must be the name of a function in {path.name}, got {name!r}")
    _loaded.pop(next((k for k in _loaded if k[0] == str(path)), None), None)
    try:
        module = _module_from_file(str(path))
    except Exception as error:
        raise ValueError(f"{path.name} does not run: {type(error).__name__}: {error}") from None
    found = getattr(module, name, None)
    if not callable(found):
        names = sorted(n for n, v in vars(module).items() if callable(v) and not n.startswith("_")
                       and getattr(v, "__module__", None) == module.__name__)
        raise ValueError(f"{path.name} has no function {name!r}; it defines: "
                         f"{', '.join(names) or 'no functions'}")
    return Task(str(path), name)


def _task_of_function(fn: Callable) -> Task:
    qualname = getattr(fn, "__qualname__", repr(fn))
    module = getattr(fn, "__module__", None)
    fix = ("Put it in a file with %%writefile my_task.py at the top of its cell, then "
           "advisor.load('my_task.py', 'its_name').")
    if module == "__main__":
        raise ValueError(f"{qualname!r} is defined in the notebook (__main__): a spawn or "
                         f"forkserver child starts a fresh interpreter and cannot import the "
                         f"notebook, so it could never find the function. {fix}")
    if "<lambda>" in qualname or "<locals>" in qualname or "." in qualname:
        raise ValueError(f"{qualname!r} is a lambda, nested function or method: a child process "
                         f"cannot find it by name. Use a module-level def. {fix}")
    file = getattr(sys.modules.get(module), "__file__", None)
    if module and module.startswith("helpers."):
        return Task(module, qualname)
    if not file or not file.endswith(".py"):
        raise ValueError(f"cannot find the file that defines {qualname!r}. {fix}")
    return Task(str(Path(file).resolve()), qualname)


def builtin(kind: str, tasks: int | None = None, units: float = 1.0) -> tuple[Task, list]:
    """One of the lab's task kinds as a Task, with the arguments notebook 01 gives it."""
    workloads.check_kind(kind)
    if tasks is None:
        tasks = 32 if kind == "io" else 2 * max(4, 2 * machine.usable_cpus().value)
    runner.check_int("tasks", tasks, 1, MAX_ARGUMENTS)
    units = 0.5 if kind == "io" and units == 1.0 else units
    argument = workloads.calibrate().argument(kind, units)
    return Task("helpers.core.workloads", kind), [argument] * tasks


# --- the child trial: every argument once, with a timeout --------------------------------


def _trial(jobs: list) -> dict:
    """Runs in a child process: call each job, time it, check its result pickles."""
    records = []
    for index, job in enumerate(jobs):
        queued = _queued_seconds()
        started, cpu = time.perf_counter(), time.thread_time()  # not process_time: a worker
        # may hold native threads of its own (a spinning OpenMP pool was seen under fork)
        try:
            value = call(job)
        except BaseException as error:  # noqa: BLE001  (reported as text: it may not pickle)
            last = traceback.extract_tb(error.__traceback__)[-1]
            return {"error": "raised", "index": index, "type": type(error).__name__,
                    "text": str(error), "where": f"{Path(last.filename).name}, line {last.lineno}"}
        wall, cpu = time.perf_counter() - started, time.thread_time() - cpu
        if queued is not None:  # time the machine was too busy to run it is not the call's
            queued = _queued_seconds() - queued
        pickled_at = time.perf_counter()
        try:
            size = len(pickle.dumps(value))
        except Exception as error:
            return {"error": "unpicklable", "index": index, "type": type(value).__name__,
                    "text": f"{type(error).__name__}: {error}"}
        records.append((wall, cpu, size, time.perf_counter() - pickled_at, queued or 0.0))
    return {"records": records}


class Problem(Exception):
    """A function the advisor cannot measure; the message says why and what to do."""


def _prove(task: Task, arguments: list, call_timeout: float, budget: float) -> list[tuple]:
    """Every argument once in a child process: (wall, cpu, result bytes, result pickle s) each."""
    pool_cm = runner.open_pool("processes", 1)
    try:
        with pool_cm as pool:
            first = _wait(pool.submit(_trial, [task.job(arguments[0])]), call_timeout,
                          f"one call ({_short(arguments[0])}) did not finish within "
                          f"{call_timeout:g} s; the child running it was stopped. Give it a "
                          "smaller argument, or raise call_timeout")
            records = first["records"]
            rest = arguments[1:]
            if rest:
                left = max(0.1, budget - records[0][0])
                more = _wait(pool.submit(_trial, [task.job(a) for a in rest]), left,
                             f"the {len(arguments)} calls did not finish within the budget of "
                             f"{budget:g} s; the child running them was stopped. Pass fewer or "
                             "smaller arguments, or raise budget")
                records += more["records"]
    except cf.process.BrokenProcessPool:
        raise Problem(f"{task.label}: the child process died while calling it (a crash or an "
                      "exit inside the function); nothing was measured") from None
    except RuntimeError as error:
        raise Problem(f"{task.label}: {error}") from None
    return records


def _wait(future, timeout: float, too_slow: str) -> dict:
    try:
        outcome = future.result(timeout=timeout)
    except cf.TimeoutError:
        raise Problem(f"Too slow: {too_slow}.") from None
    if outcome.get("error") == "raised":
        raise Problem(f"It raised {outcome['type']}: {outcome['text']} (argument number "
                      f"{outcome['index'] + 1}, at {outcome['where']}). Fix the function, or "
                      "the argument, and run again.")
    if outcome.get("error") == "unpicklable":
        raise Problem(f"Its result (a {outcome['type']}) cannot be pickled ({outcome['text']}), "
                      "so a process could never send it back. Return plain data: numbers, "
                      "strings, lists, dicts, NumPy arrays.")
    return outcome


def _short(value, width: int = 40) -> str:
    shown = repr(value)
    return shown if len(shown) <= width else shown[: width - 1] + "…"


# --- in a thread: computing or waiting, and how much of it holds the GIL ----------------


def _calls_in_threads(task: Task, arguments: list, threads: int, timeout: float) -> list[tuple]:
    """Each of `threads` lab threads calls every argument: (wall, CPU s, queued s) per thread."""
    out: list = []
    errors: list = []
    start = threading.Barrier(threads, timeout=timeout)
    fn = task.function

    def work() -> None:
        try:
            start.wait()
            queued, started, cpu = _queued_seconds(), time.perf_counter(), time.thread_time()
            for argument in arguments:
                fn(argument)
            wall, cpu = time.perf_counter() - started, time.thread_time() - cpu
            out.append((wall, cpu, None if queued is None else _queued_seconds() - queued))
        except Exception as error:  # reported below: a thread has no caller to raise to
            errors.append(error)

    workers = [threading.Thread(target=work, name=f"lab-advisor-call-{i}", daemon=True)
               for i in range(threads)]
    for worker in workers:
        worker.start()
    deadline = time.perf_counter() + timeout
    for worker in workers:
        worker.join(max(0.0, deadline - time.perf_counter()))
    if errors:
        error = errors[0]
        raise Problem(f"It raised {type(error).__name__}: {error} in a thread of this kernel, "
                      "although it ran in a child process; does it depend on something only "
                      "one of them has?")
    if len(out) < threads:
        raise Problem(f"{task.label} ran for more than {timeout:.1f} s in a thread, far longer "
                      "than in a child process; the measurement was abandoned")
    return out


def _blocked(run: tuple) -> float | None:
    """Share of the time a thread was not queued for a busy CPU that it was not on one either."""
    wall, cpu, queued = run
    if queued is None or wall - queued <= 0:
        return None
    return min(1.0, max(0.0, 1 - cpu / (wall - queued)))


def _gil_probe(task: Task, arguments: list, call_seconds: float) -> tuple[float, float, float]:
    """(wall, CPU seconds of the calls in one thread, estimated share of it holding the GIL).

    The same calls run in one thread, then in two at once (twice). Two threads that hold the
    GIL take turns, so each is blocked about half the time it would otherwise run; calls
    that release it are not. Time spent queued for a busy CPU is not counted (Linux
    schedstat); without schedstat the two threads' slowdown over one is used, which needs
    two usable CPUs.
    """
    timeout = 10 * call_seconds + 5
    (alone,) = _calls_in_threads(task, arguments, 1, timeout)
    pairs = [_calls_in_threads(task, arguments, 2, timeout) for _ in range(2)]
    wall, cpu, _ = alone
    blocked_alone = _blocked(alone)
    blocked_pairs = [[_blocked(run) for run in pair] for pair in pairs]
    if blocked_alone is not None and all(None not in pair for pair in blocked_pairs):
        # the clearer of two tries: a busy machine blurs the turn-taking, never invents it
        extra = max(sum(pair) / 2 for pair in blocked_pairs) - blocked_alone
        return wall, cpu, min(1.0, max(0.0, 2 * extra))
    slowdown = min(max(run[0] for run in pair) for pair in pairs) / wall if wall > 0 else 1.0
    return wall, cpu, min(1.0, max(0.0, slowdown - 1))


# --- the advice ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Advice:
    """What was measured about one function, and the backend recommended for it."""

    task: str
    arguments: int
    usable_cpus: int
    gil_enabled: bool
    choice: str | None                 # threads, processes, sequential; None if not measurable
    problem: str | None = None
    call_seconds: float = 0.0          # median wall time of one call in a child process
    cpu_share: float = 0.0             # CPU seconds / wall seconds of the calls in a child
                                       # (less the time it was ready but had no free CPU)
    thread_cpu_share: float = 0.0      # the same in a thread beside the GIL probe's counter
    gil_held_share: float = 0.0        # estimated share of that wall time holding the GIL
    argument_bytes: float = 0.0        # pickled size of one argument (median)
    argument_pickle_seconds: float = 0.0
    result_bytes: float = 0.0
    result_pickle_seconds: float = 0.0
    speedups: dict[str, dict[int, float]] = field(default_factory=dict)
    reasons: tuple[str, ...] = ()

    @property
    def waits(self) -> bool:
        return self.cpu_share < WAITS_BELOW

    @property
    def holds_gil(self) -> bool:
        return not self.waits and self.gil_held_share >= HOLDS_FROM

    @property
    def character(self) -> str:
        if self.waits:
            return "mostly waits"
        return "computes, holding the GIL" if self.holds_gil else "computes, releasing the GIL"

    def best(self, backend: str) -> tuple[int, float]:
        """(worker count, speedup) of the fastest run of `backend`."""
        if backend == "sequential" or not self.speedups.get(backend):
            return 1, 1.0
        return max(self.speedups[backend].items(), key=lambda item: item[1])


def advise(task, arguments: Sequence, *, call_timeout: float = 5.0, budget: float = 20.0,
           repeats: int = 2, progress: runner.Progress | None = None) -> Advice:
    """Measure `task` on `arguments` (one call each) and recommend threads, processes or
    sequential. A function that raises, returns something unpicklable or is too slow gives
    an Advice whose `problem` says so."""
    task = task if isinstance(task, Task) else load(task)
    arguments = _check_arguments(arguments)
    runner.check_seconds("call_timeout", call_timeout, 0.1, 600)
    runner.check_seconds("budget", budget, 0.5, 3600)
    runner.check_int("repeats", repeats, 1, 10)
    usable, gil = machine.usable_cpus().value, bool(machine.gil_enabled().value)
    empty = Advice(task.label, len(arguments), usable, gil, None)
    steps = _Steps(progress, 3)
    try:
        sizes, pickle_seconds = _pickle_costs(task, arguments)
        records = _prove(task, arguments, call_timeout, budget)
        steps.done()
        one_call = sorted(r[0] for r in records)[len(records) // 2]
        probe_calls = max(1, min(len(arguments), round(PROBE_SECONDS / max(one_call, 1e-4))))
        probe_args = arguments[:probe_calls]
        wall, cpu, held = _gil_probe(task, probe_args, one_call * len(probe_args))
        steps.done()
        cpu_share = min(1.0, sum(r[1] for r in records)
                        / max(1e-9, sum(r[0] - r[4] for r in records)))
        speedups = _scaling(task, arguments, cpu_share < WAITS_BELOW, usable, repeats,
                            budget, one_call * len(arguments))
        steps.done()
    except Problem as problem:
        return _replace(empty, problem=str(problem))
    advice = _replace(
        empty, call_seconds=one_call, cpu_share=cpu_share,
        thread_cpu_share=cpu / wall if wall else 0.0,
        gil_held_share=min(held, cpu_share) if gil else 0.0,  # no GIL without running
        argument_bytes=_middle(sizes),
        argument_pickle_seconds=_middle(pickle_seconds),
        result_bytes=_middle([r[2] for r in records]),
        result_pickle_seconds=_middle([r[3] for r in records]), speedups=speedups)
    choice, reasons = _recommend(advice)
    return _replace(advice, choice=choice, reasons=tuple(reasons))


def _replace(advice: Advice, **changes) -> Advice:
    import dataclasses

    return dataclasses.replace(advice, **changes)


def _middle(values: Sequence[float]) -> float:
    return sorted(values)[len(values) // 2] if values else 0.0


class _Steps:
    def __init__(self, progress, total):
        self.progress, self.total, self.count = progress, total, 0

    def done(self):
        self.count += 1
        if self.progress is not None:
            self.progress(self.count, self.total)


def _check_arguments(arguments) -> list:
    if isinstance(arguments, (str, bytes)) or not hasattr(arguments, "__iter__"):
        raise ValueError(f"arguments must be a list of arguments, one per call (1 to "
                         f"{MAX_ARGUMENTS}), got {_short(arguments)}")
    arguments = list(arguments)
    if not 1 <= len(arguments) <= MAX_ARGUMENTS:
        raise ValueError(f"arguments must list from 1 to {MAX_ARGUMENTS} arguments, one per "
                         f"call; got {len(arguments)}")
    return arguments


def _pickle_costs(task: Task, arguments: list) -> tuple[list[int], list[float]]:
    sizes, seconds = [], []
    for index, argument in enumerate(arguments):
        started = time.perf_counter()
        try:
            sizes.append(len(pickle.dumps(task.job(argument))))
        except Exception as error:
            raise Problem(f"Argument number {index + 1} ({_short(argument)}) cannot be pickled "
                          f"({type(error).__name__}: {error}), so no process could receive it. "
                          "Pass plain data: numbers, strings, lists, dicts, NumPy arrays."
                          ) from None
        seconds.append(time.perf_counter() - started)
    return sizes, seconds


def worker_counts(waits: bool, usable: int, arguments: int) -> dict[str, list[int]]:
    """Threads at the usable CPUs and twice that, processes at the usable CPUs; calls that
    wait get more of both (a waiting call does not need a CPU of its own)."""
    threads = {usable, 2 * usable} | ({8, 32} if waits else set())
    processes = {usable, 2 * usable} if waits else {usable}
    process_cap = runner.max_workers("processes")
    pick = lambda counts, cap: sorted({min(c, cap, arguments) for c in counts})  # noqa: E731
    return {"threads": pick(threads, 32), "processes": pick(processes, process_cap)}


def _scaling(task, arguments, waits, usable, repeats, budget, sequential_seconds):
    counts = worker_counts(waits, usable, len(arguments))
    runs = 1 + sum(len(c) for c in counts.values())
    timeout = max(budget, 3 * runs * repeats * sequential_seconds + 30)
    try:
        sweep = runner.sweep(call, args=[task.job(a) for a in arguments], workers=counts,
                             repeats=repeats, timeout=timeout)
    except TimeoutError:
        raise Problem(f"Too slow: measuring every backend took longer than {timeout:.0f} s; "
                      "pass fewer or smaller arguments") from None
    except Exception as error:
        raise Problem(f"{task.label} failed while being measured: "
                      f"{type(error).__name__}: {error}") from None
    # fastest against fastest: on a machine shared with other work, the least disturbed repeat
    return {backend: {run.workers: sweep.baseline.fastest / run.fastest for run in runs}
            for backend, runs in sweep.runs.items()}


def _recommend(advice: Advice) -> tuple[str, list[str]]:
    (tw, ts), (pw, ps) = advice.best("threads"), advice.best("processes")
    reasons = [_character_reason(advice),
               f"Best measured: {ts:.2f}× with {tw} threads, {ps:.2f}× with {pw} processes "
               f"(over {advice.arguments} calls of about {text.ms(advice.call_seconds)} each, "
               f"{advice.usable_cpus} usable CPU(s))."]
    cost = _pickle_reason(advice)
    if cost:
        reasons.append(cost)
    if max(ts, ps) < WORTH_IT:
        why = ("with one usable CPU nothing computes in parallel"
               if advice.usable_cpus == 1 and not advice.waits else
               "neither backend beat running the calls one after another by enough to pay for it")
        return "sequential", reasons + [f"Sequential: {why}."]
    if advice.holds_gil and advice.gil_enabled and ps >= WORTH_IT:
        choice = "processes"
        why = (f"it holds the GIL, so threads take turns (they reached {ts:.2f}×), while each "
               f"process has its own GIL ({ps:.2f}×)")
    elif ts >= CLOSE_ENOUGH * ps:
        choice = "threads"
        if ps < WORTH_IT:
            why = "only threads sped it up"
        elif ts > ps / CLOSE_ENOUGH:
            why = f"threads were {ts / ps:.1f}× faster than processes"
        else:
            why = ("threads were about as fast, and are cheaper: no pickling, shared memory, "
                   "quick to start")
    else:
        choice = "processes"
        why = f"processes were {ps / ts:.1f}× faster than threads"
        if advice.holds_gil:
            why += ": each process has its own GIL"
    reasons.append(f"{choice.capitalize()}: {why}.")
    if advice.waits and choice == "threads":
        reasons.append("It mostly waits, so asyncio could do the same in one thread if the "
                       "waiting goes through an async library.")
    return choice, reasons


def _character_reason(advice: Advice) -> str:
    share = f"busy on a CPU {advice.cpu_share:.0%} of its wall time"
    if advice.waits:
        return f"It mostly waits ({share}): waiting releases the GIL, so threads overlap."
    if not advice.gil_enabled:
        return f"It computes ({share}); this Python has no GIL, so threads can run it in parallel."
    if advice.usable_cpus == 1 and _queued_seconds() is None:
        return (f"It computes ({share}); with one usable CPU the GIL-held share cannot be told "
                f"apart from CPU sharing (estimate {advice.gil_held_share:.0%}).")
    if advice.holds_gil:
        return (f"It computes ({share}) and holds the GIL about {advice.gil_held_share:.0%} of "
                "the time, so threads take turns.")
    return (f"It computes ({share}) but holds the GIL only about {advice.gil_held_share:.0%} "
            "of the time (C code that releases it), so threads can run it in parallel.")


def _pickle_reason(advice: Advice) -> str:
    per_call = advice.argument_pickle_seconds + advice.result_pickle_seconds
    if advice.call_seconds <= 0:
        return ""
    share = per_call / advice.call_seconds
    return (f"Pickling costs {text.size(advice.argument_bytes)} in and {text.size(advice.result_bytes)} "
            f"out per call, {share:.1%} of a call's time (paid by processes only, about twice).")








def verdict(advice: Advice) -> Verdict:
    """The recommendation and its reasons, or the problem that stopped the measurement."""
    if advice.problem:
        return Verdict(f"No advice for {advice.task}: {advice.problem}")
    head = f"On this machine, for {advice.task}: use {advice.choice}."
    return Verdict(head, "\n".join(f"  - {reason}" for reason in advice.reasons))


def advise_builtin(kind: str = "cpu", units: float = 1.0, tasks: int | None = None,
                   progress: runner.Progress | None = None) -> Advice:
    """The advisor on one of the lab's task kinds (for the panel and the benchmark)."""
    task, arguments = builtin(kind, tasks, units)
    return advise(task, arguments, progress=progress)


# --- exercise -----------------------------------------------------------------------------


def check_threads_task(source, name: str, arguments: Sequence) -> str:
    """Exercise: write a function the advisor sends to threads (and say why it does)."""
    try:
        advice = advise(load(source, name), arguments, call_timeout=5.0, budget=10.0)
    except ValueError as error:
        return f"Not yet: {error}"
    if advice.problem:
        return f"Not yet: {advice.problem}"
    threads, processes = advice.best("threads")[1], advice.best("processes")[1]
    if advice.choice == "threads":
        return (f"Right: the advisor chose threads — it {advice.character}; best threads "
                f"speedup {threads:.2f}×, processes {processes:.2f}×.")
    return (f"Not yet: the advisor chose {advice.choice} — it {advice.character} "
            f"(threads {threads:.2f}×, processes {processes:.2f}×). A function that waits "
            "(sleeps, reads a socket) or computes in C code that releases the GIL goes to threads.")

