"""Notebook 07's experiments: the lab's workloads on Dask and joblib, and Python beyond the GIL.

The same tasks run on the lab's own pools, on a `dask.distributed` LocalCluster and through
`joblib.Parallel`; each engine is timed on its start, on one empty task (what it adds per
task) and on real work. Subinterpreters and free-threaded builds run where this interpreter
offers them; elsewhere the result says what is missing, and holds no numbers.
"""
from __future__ import annotations

import importlib.util
import logging
import statistics
import sys
import sysconfig
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Sequence

from ..nb06_choosing import aio
from ..core import machine, probe, runner, text, workloads
from ..core.text import Verdict
from ..core.children import trivial

ENGINES = ("lab threads", "lab processes", "dask threads", "dask processes", "joblib (loky)")
KINDS = ("cpu", "io")
MAX_TASKS = 400
MAX_UNITS = 20
EMPTY_TASKS = 100  # empty tasks timed for the cost per task
CLUSTER_TIMEOUT = 60.0
ROOT = Path(__file__).resolve().parents[1]  # the folder that holds helpers/

Timed = Callable[[Callable, list, int], tuple]  # (fn, arguments, repeats) -> wall per repeat


def check_workers(workers) -> int:
    """The worker count for an engine: 1 to the lab's process limit (default: usable CPUs)."""
    if workers is None:
        return max(2, machine.usable_cpus().value)
    runner.check_int("workers", workers, 1, runner.max_workers("processes"))
    return workers


# --- Dask ----------------------------------------------------------------------------------------


@contextmanager
def dask_cluster(workers: int, processes: bool = True, timeout: float = CLUSTER_TIMEOUT):
    """A Dask client on a LocalCluster on 127.0.0.1, dashboard off: `workers` processes of one
    thread each, or one in-process worker of `workers` threads. Closed, processes gone, after."""
    from dask.distributed import Client, LocalCluster

    runner.check_int("workers", workers, 1, runner.max_workers("processes"))
    probe.hide_unretrieved_timeouts()
    # No workers yet: they are added inside the try, so an interrupt while they start still
    # reaches close() below and no process is left behind.
    # In-process workers talk over Dask's in-process transport: no socket at all.
    network = {"host": "127.0.0.1"} if processes else {}
    # Even without a dashboard the scheduler serves /health on port 8787 of every interface,
    # and a second cluster (another notebook, a test beside this one) warns on stderr that the
    # port is taken: a free port on the loopback instead.
    quiet_http = {"dashboard": False, "dashboard_address": "127.0.0.1:0"}
    cluster = LocalCluster(n_workers=0, processes=processes,
                           threads_per_worker=1 if processes else workers,
                           dashboard_address=None, scheduler_kwargs=quiet_http,
                           silence_logs=logging.ERROR, **network)
    try:
        client = Client(cluster, set_as_default=False)
        try:
            count = workers if processes else 1
            cluster.scale(count)
            client.wait_for_workers(count, timeout=timeout)
            client.run(probe.hide_heartbeat_race)  # in every worker's process
            yield client
        finally:
            client.close()
    finally:
        cluster.close()
        probe.show_heartbeat_race()


def cluster_summary(client) -> str:
    """Where the scheduler listens and which workers it has, with their threads."""
    workers = client.scheduler_info()["workers"]
    listed = ", ".join(f"{address} ({info['nthreads']} thread{'s' * (info['nthreads'] > 1)})"
                       for address, info in workers.items())
    return f"scheduler at {client.scheduler.address}; {len(workers)} worker(s): {listed}"


def dask_executor(client):
    """A `concurrent.futures.Executor` on a Dask client; pure=False so that identical calls
    (the runner's warm-up, say) each run instead of being computed once and shared."""
    return client.get_executor(pure=False)


# --- joblib --------------------------------------------------------------------------------------


@contextmanager
def joblib_parallel(workers: int):
    """`joblib.Parallel` with the loky backend, its workers started. Inside the block every
    Parallel keeps its temporary files in a folder of the lab's (joblib's own, in /dev/shm, were
    left behind); after it the folder is removed and the workers are shut down (loky would
    keep them, idle, for five minutes)."""
    from joblib import Parallel, parallel_config
    from joblib.externals.loky import get_reusable_executor

    runner.check_int("workers", workers, 1, runner.max_workers("processes"))
    try:
        with tempfile.TemporaryDirectory(prefix="lab-joblib-") as folder, \
                parallel_config(temp_folder=folder):
            _joblib_call(workers, probe.whoami, [0.02] * (2 * workers))  # start every worker
            yield Parallel(n_jobs=workers, backend="loky")
    finally:
        get_reusable_executor().shutdown(wait=True, kill_workers=True)


def _joblib_call(workers: int, fn: Callable, arguments: list) -> float:
    """Wall time of one Parallel call. A new Parallel each time: one object would carry the
    batch size it grew on quick tasks over to slow ones (and send them all to one worker);
    loky keeps its workers between calls, so nothing restarts."""
    from joblib import Parallel, delayed

    start = time.perf_counter()
    Parallel(n_jobs=workers, backend="loky")(delayed(fn)(argument) for argument in arguments)
    return time.perf_counter() - start


# --- the engines, side by side -------------------------------------------------------------------


@contextmanager
def engine(name: str, workers: int) -> Iterator[Timed]:
    """A started engine, as a function that times `fn` over `arguments`, `repeats` times."""
    runner.check_choice("engine", name, ENGINES)
    if name == "joblib (loky)":
        with joblib_parallel(workers):
            yield lambda fn, arguments, repeats: tuple(
                _joblib_call(workers, fn, arguments) for _ in range(repeats))
        return
    family, kind = name.split()
    if family == "lab":
        pools = runner.open_pool(kind, workers)
    else:
        pools = _dask_pool(workers, processes=kind == "processes")
    with pools as pool:
        yield lambda fn, arguments, repeats: runner.run_on(
            pool, fn, workers=workers, name=name, args=arguments, repeats=repeats).walls


@contextmanager
def _dask_pool(workers: int, processes: bool):
    with dask_cluster(workers, processes) as client:
        yield dask_executor(client)


@dataclass(frozen=True)
class EngineRun:
    """One engine: seconds to start it, seconds per empty task, and walls per task kind."""

    engine: str
    workers: int
    start_seconds: float
    per_task_seconds: float
    walls: dict[str, tuple[float, ...]]


@dataclass(frozen=True)
class Engines:
    """The same tasks sequentially and on every engine."""

    tasks: int
    units: float
    workers: int
    usable_cpus: int
    baseline: dict[str, tuple[float, ...]]
    runs: tuple[EngineRun, ...]

    def run(self, engine_name: str) -> EngineRun:
        return next(r for r in self.runs if r.engine == engine_name)

    def speedup(self, engine_name: str, kind: str) -> float:
        return statistics.median(self.baseline[kind]) / statistics.median(
            self.run(engine_name).walls[kind])

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(self.baseline)


def compare_engines(
    engines: Sequence[str] = ENGINES,
    kinds: Sequence[str] = KINDS,
    workers: int | None = None,
    tasks: int | None = None,
    units: float = 5.0,
    repeats: int = 3,
    progress: runner.Progress | None = None,
) -> Engines:
    """Time each engine's start, its cost per empty task, and `tasks` tasks of each kind."""
    engines, kinds = _check_names("engine", engines, ENGINES), _check_names("kind", kinds, KINDS)
    workers, tasks = _sizes(workers, tasks, units, tasks_per_worker=4)
    runner.check_int("repeats", repeats, 1, 10)
    steps = 1 + len(engines)
    baseline = {kind: runner.run(kind, backend="sequential", tasks=tasks, units=units,
                                 repeats=repeats).walls for kind in kinds}
    _report(progress, 1, steps)
    runs = []
    for done, name in enumerate(engines, start=2):
        runs.append(_time_engine(name, workers, kinds, tasks, units, repeats))
        _report(progress, done, steps)
    return Engines(tasks, units, workers, machine.usable_cpus().value, baseline, tuple(runs))


def _time_engine(name, workers, kinds, tasks, units, repeats) -> EngineRun:
    sizes = workloads.calibrate()
    began = time.perf_counter()
    with engine(name, workers) as timed:
        start_seconds = time.perf_counter() - began
        empty = timed(trivial.noop, [None] * EMPTY_TASKS, repeats)
        walls = {kind: timed(workloads.TASKS[kind], [sizes.argument(kind, units)] * tasks, repeats)
                 for kind in kinds}
    return EngineRun(name, workers, start_seconds, statistics.median(empty) / EMPTY_TASKS, walls)


def _check_names(what: str, names, allowed) -> tuple[str, ...]:
    if isinstance(names, str) or not names:
        raise ValueError(f"{what}s must be a non-empty list drawn from: {', '.join(allowed)}")
    for name in names:
        runner.check_choice(what, name, allowed)
    return tuple(names)


def _sizes(workers, tasks, units, tasks_per_worker: int) -> tuple[int, int]:
    """Checked worker and task counts (defaults: usable CPUs, `tasks_per_worker` each) and units."""
    workers = check_workers(workers)
    tasks = tasks_per_worker * workers if tasks is None else tasks
    runner.check_int("tasks", tasks, 1, MAX_TASKS)
    if isinstance(units, bool) or not isinstance(units, (int, float)) or not 0.1 <= units <= MAX_UNITS:
        raise ValueError(f"units must be a number from 0.1 to {MAX_UNITS}, got {units!r}")
    return workers, tasks


def _report(progress, done: int, total: int) -> None:
    if progress is not None:
        progress(done, total)


def trial(engine: str = "dask processes", kind: str = "cpu", workers: int | None = None,
          tasks: int = 8, progress: runner.Progress | None = None) -> Engines:
    """The panel's run: one engine on one kind beside sequential, two repeats."""
    return compare_engines([engine], [kind], workers, tasks, repeats=2, progress=progress)








def engines_verdict(result: Engines) -> Verdict:
    """What the engines cost and gained here, and which of them the scheduler slows."""
    lines = []
    for run in result.runs:
        gains = ", ".join(f"{kind} {result.speedup(run.engine, kind):.1f}×" for kind in result.kinds)
        lines.append(f"{run.engine}: started in {text.ms(run.start_seconds)}, "
                     f"{text.us(run.per_task_seconds)} per empty task; speedup {gains}.")
    cheapest = min(result.runs, key=lambda r: r.per_task_seconds)
    dearest = max(result.runs, key=lambda r: r.per_task_seconds)
    headline = lines.pop(0)
    if len(result.runs) > 1:
        lines.insert(0, headline)
        headline = (f"Per task, {dearest.engine} costs "
                    f"{dearest.per_task_seconds / cheapest.per_task_seconds:,.0f}× what "
                    f"{cheapest.engine} does: {_overhead_meaning(dearest.engine)}")
    if result.usable_cpus == 1 and "cpu" in result.kinds:
        lines.append("With one usable CPU no engine can speed up cpu work: there is nothing to "
                     "run it in parallel on.")
    return Verdict(headline, "\n".join(lines))


def joblib_verdict(result: Engines) -> Verdict:
    """joblib against the lab's own process pool, on the same tasks."""
    joblib, lab = result.run("joblib (loky)"), result.run("lab processes")
    ratio = joblib.per_task_seconds / lab.per_task_seconds
    cost = text.times(ratio, "dearer than", "cheaper than", "about as cheap as")
    gains = ", ".join(f"{kind} {result.speedup('joblib (loky)', kind):.1f}× against "
                      f"{result.speedup('lab processes', kind):.1f}×" for kind in result.kinds)
    return Verdict(f"joblib handed out an empty task in {text.us(joblib.per_task_seconds)}, {cost} the "
                   f"lab's process pool ({text.us(lab.per_task_seconds)}).", f"Speedups: {gains}.")


def _overhead_meaning(name: str) -> str:
    if name.startswith("dask"):
        return ("every Dask task is a message to the scheduler, a decision, a message to a worker "
                "and a report back — the price of a scheduler that could drive a whole cluster.")
    if name == "lab processes":
        return "every task and its result are pickled and sent through a pipe to another process."
    return "it does the most work to hand a task to a worker."


# --- beyond the GIL on one machine ---------------------------------------------------------------


@dataclass(frozen=True)
class Beyond:
    """One way past the GIL: whether this interpreter offers it, and if so cpu walls measured."""

    option: str
    available: bool
    reason: str
    workers: int = 0
    walls: dict[str, float] = field(default_factory=dict)  # "sequential", "threads", option

    def speedup(self, name: str) -> float:
        return self.walls["sequential"] / self.walls[name]


def interpreters_offered() -> tuple[bool, str]:
    """Whether `concurrent.interpreters` (Python 3.14+) can be imported here, and why (not)."""
    if importlib.util.find_spec("concurrent.interpreters") is None:
        return False, (f"Python {_version()} has no concurrent.interpreters: it arrived in "
                       "Python 3.14")
    return True, f"Python {_version()} offers concurrent.interpreters"


def free_threading_offered() -> tuple[bool, str]:
    """Whether this interpreter runs without the GIL right now, and why (not)."""
    gil = machine.gil_enabled()
    if not gil.value:
        return True, f"Python {_version()} is running without the GIL ({gil.source})"
    if sysconfig.get_config_var("Py_GIL_DISABLED"):
        return False, (f"Python {_version()} is a free-threaded build with the GIL switched back "
                       f"on: an extension asked for it, or PYTHON_GIL=1 ({gil.source})")
    return False, f"Python {_version()} is built with the GIL"


def _version() -> str:
    return sys.version.split()[0]


def subinterpreters(workers: int | None = None, tasks: int | None = None, units: float = 3.0,
                    interpreters=None) -> Beyond:
    """cpu tasks sequentially, in threads, and in one subinterpreter per worker thread (each
    with its own GIL) — where the interpreter offers them. `interpreters` is for tests."""
    workers, tasks = _sizes(workers, tasks, units, tasks_per_worker=2)
    if interpreters is None:
        available, reason = interpreters_offered()
        if not available:
            return Beyond("subinterpreters", False, reason)
        import concurrent.interpreters as interpreters
    iterations = workloads.calibrate().argument("cpu", units)
    walls = _gil_walls(workers, tasks, units)
    walls["subinterpreters"] = _in_interpreters(interpreters, iterations, tasks, workers)
    return Beyond("subinterpreters", True, "measured", workers, walls)


def free_threading(workers: int | None = None, tasks: int | None = None, units: float = 3.0,
                   offered: Callable[[], tuple[bool, str]] = free_threading_offered) -> Beyond:
    """cpu tasks sequentially and in threads — where the GIL is off, threads then run at once."""
    workers, tasks = _sizes(workers, tasks, units, tasks_per_worker=2)
    available, reason = offered()
    if not available:
        return Beyond("free-threading", False, reason)
    return Beyond("free-threading", True, reason, workers, _gil_walls(workers, tasks, units))


def _gil_walls(workers: int, tasks: int, units: float) -> dict[str, float]:
    sequential = runner.run("cpu", backend="sequential", tasks=tasks, units=units, repeats=2)
    threads = runner.run("cpu", backend="threads", workers=workers, tasks=tasks, units=units,
                         repeats=2)
    return {"sequential": sequential.fastest, "threads": threads.fastest}


def _in_interpreters(interpreters, iterations: int, tasks: int, workers: int) -> float:
    """Wall time of `tasks` cpu tasks shared among `workers` threads, each running its own
    subinterpreter. Code goes in as text, so nothing needs pickling."""
    created = [interpreters.create() for _ in range(workers)]
    try:
        for interpreter in created:  # a new interpreter sees the start-up sys.path, not ours
            interpreter.exec(f"import sys; sys.path.insert(0, {str(ROOT)!r})\n"
                             "from helpers.core.workloads import cpu")
        shares = [range(i, tasks, workers) for i in range(workers)]
        errors: list[BaseException] = []

        def work(interpreter, share):
            try:
                for _ in share:
                    interpreter.exec(f"cpu({iterations})")
            except BaseException as error:  # reported below, from the calling thread
                errors.append(error)

        threads = [threading.Thread(target=work, args=(interp, share), name=f"lab-interp-{i}")
                   for i, (interp, share) in enumerate(zip(created, shares))]
        start = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            runner.join_thread(thread, timeout=120)
        wall = time.perf_counter() - start
        if errors:
            raise RuntimeError(f"a subinterpreter failed: {errors[0]!r}")
        return wall
    finally:
        for interpreter in created:
            interpreter.close()


def beyond_verdict(result: Beyond) -> Verdict:
    """What was measured, or what is missing here and what it would show."""
    if not result.available:
        return Verdict(f"{result.option}: not here — {result.reason}.", _what_it_would_show(result.option))
    threads = result.speedup("threads")
    line = f"{result.option} on {result.workers} workers: threads {threads:.1f}×"
    if result.option == "subinterpreters":
        line += f", subinterpreters {result.speedup('subinterpreters'):.1f}×"
        best = result.speedup("subinterpreters")
    else:
        best = threads
    line += " the sequential speed on pure-Python cpu work."
    if best >= 1.3:
        return Verdict(line, "Pure Python ran in parallel inside one process: no GIL was shared.")
    return Verdict(line, "No speedup: with one usable CPU nothing runs in parallel."
                   if machine.usable_cpus().value == 1 else
                   "No speedup here: something still serialised the work (a busy machine?).")


def _what_it_would_show(option: str) -> str:
    if option == "subinterpreters":
        return ("On Python 3.14 this cell runs the cpu tasks in one subinterpreter per thread: "
                "each has its own GIL, so on two or more usable CPUs they speed up like processes, "
                "without starting any. To try it, install Python 3.14 and start the lab with it "
                "(`make clean lab PYTHON=python3.14`).")
    return ("On a free-threaded build (python3.13t or python3.14t) this cell runs the cpu tasks "
            "in threads, and with the GIL gone they speed up like processes on two or more usable "
            "CPUs. To try it, install such a build and start the lab with it "
            "(`make clean lab PYTHON=python3.14t`).")


# --- a map of the choices ------------------------------------------------------------------------


@dataclass(frozen=True)
class Choice:
    """One row of the map: what an option is for, and its cost as measured here (or why not)."""

    option: str
    good_for: str
    cost_here: str


def choices(engines: Engines, beyond: Sequence[Beyond], wait_seconds: float = 0.01) -> list[Choice]:
    """The map of the choices, with this notebook's measurements in its last column."""
    def engine_cost(name: str) -> str:
        if name not in {r.engine for r in engines.runs}:
            return "not measured in this run"
        run = engines.run(name)
        return f"start {text.ms(run.start_seconds)}, {text.us(run.per_task_seconds)} per task"

    waits = aio.one_round("asyncio", 1000, wait_seconds)  # many, so the loop's start is shared
    by_option = {b.option: b for b in beyond}
    return [
        Choice("threads", "waiting (I/O), C code that releases the GIL, keeping a UI live",
               engine_cost("lab threads")),
        Choice("processes", "pure-Python computing on several cores", engine_cost("lab processes")),
        Choice("asyncio", "thousands of waits in one thread",
               f"{text.us(waits.start_seconds)} to start a waiting task"),
        Choice("subinterpreters", "pure Python on several cores in one process (3.14+)",
               _beyond_cost(by_option.get("subinterpreters"))),
        Choice("free-threading", "pure Python in threads on several cores (3.13t/3.14t)",
               _beyond_cost(by_option.get("free-threading"))),
        Choice("joblib", "a parallel map or loop in one line; functions typed in a notebook",
               engine_cost("joblib (loky)")),
        Choice("Dask", "work that outgrows one machine; task graphs, big arrays and data frames",
               engine_cost("dask processes")),
    ]


def _beyond_cost(result: Beyond | None) -> str:
    if result is None:
        return "not measured in this run"
    if not result.available:
        return f"not here: {result.reason}"
    name = "subinterpreters" if result.option == "subinterpreters" else "threads"
    return f"cpu speedup {result.speedup(name):.1f}× on {result.workers} workers"


def choices_markdown(rows: Sequence[Choice]) -> str:
    """The map as a Markdown table."""
    lines = ["| option | good for | cost on this machine |", "| --- | --- | --- |"]
    lines += [f"| **{row.option}** | {row.good_for} | {row.cost_here} |" for row in rows]
    return "\n".join(lines)


# --- exercises -----------------------------------------------------------------------------------


def check_joblib_map(my_map: Callable, sizes: Sequence[int] = (20_000, 40_000, 60_000, 80_000)) -> str:
    """Exercise: `my_map(sizes)` returns `[workloads.cpu(n) for n in sizes]`, through joblib."""
    expected = [workloads.cpu(n) for n in sizes]
    try:
        with joblib_parallel(2):  # cleans up after the learner's Parallel too
            got = my_map(list(sizes))
    except Exception as error:
        return f"Not yet: my_map raised {type(error).__name__}: {error}"
    if got is None:
        return "Not yet: my_map returns None — return the list that Parallel gives back."
    if list(got) != expected:
        return (f"Not quite: expected {expected}, got {list(got)!r}. Parallel keeps the order of "
                "its inputs: one delayed(workloads.cpu)(n) per size.")
    return ("Right: the results match the plain loop, in order. joblib pickled the calls with "
            "cloudpickle, ran them on its loky workers, and gave the list back.")


def check_cheapest(guess: str, result: Engines) -> str:
    """Exercise: which engine had the lowest cost per empty task in `result`."""
    names = [r.engine for r in result.runs]
    if guess not in names:
        return f"Not yet: my_guess must be one of {', '.join(map(repr, names))}."
    ranked = sorted(result.runs, key=lambda r: r.per_task_seconds)
    costs = "; ".join(f"{r.engine} {text.us(r.per_task_seconds)}" for r in ranked)
    if guess == ranked[0].engine:
        return f"Right: {guess} was the cheapest per task ({costs})."
    return f"Not this time: {ranked[0].engine} was the cheapest ({costs})."
