"""The lab's runner beside a bare concurrent.futures loop on the same work, in one run.

    make bench          (or: python benchmarks/bench.py [--repeats N] [--skip-notebook])

Speedups are sequential time ÷ parallel time, each the median of the repeats. "lab / bare"
is the runner's wall time over the bare loop's: its overhead as a ratio, not a guess.
"""
from __future__ import annotations

import argparse
import concurrent.futures as cf
import multiprocessing
import statistics
import subprocess
import sys
import time

import psutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from helpers.core import machine, runner, text, workloads  # noqa: E402
from helpers.core.children import trivial  # noqa: E402
from helpers.nb00_start_here import panels  # noqa: E402
from helpers.nb02_process_cost import spawning  # noqa: E402
from helpers.nb03_sharing_data import sharing  # noqa: E402
from helpers.nb07_beyond import beyond  # noqa: E402

TASKS_PER_WORKER = 8


def bare_wall(kind: str, backend: str, workers: int, tasks: int, repeats: int) -> float:
    """Median wall time of a plain executor.map over the same tasks, pool warmed first."""
    task, argument = workloads.TASKS[kind], workloads.calibrate().argument(kind)
    if backend == "sequential":
        return statistics.median(_timed(lambda: [task(argument) for _ in range(tasks)]) for _ in range(repeats))
    if backend == "threads":
        pool = cf.ThreadPoolExecutor(workers)
    else:
        pool = cf.ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context(machine.lab_start_method()))
    with pool:
        list(pool.map(time.sleep, [0.05] * workers))  # start every worker before timing
        list(pool.map(task, [argument] * workers))  # and import the task's module in each
        return statistics.median(_timed(lambda: list(pool.map(task, [argument] * tasks))) for _ in range(repeats))


def lab_wall(kind: str, backend: str, workers: int, tasks: int, repeats: int) -> float:
    return runner.run(kind, backend=backend, workers=workers, tasks=tasks, repeats=repeats).median


def _timed(call) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def alternating(kind: str, backend: str, workers: int, tasks: int, repeats: int, rounds: int):
    """Median lab and bare wall times, measured in alternating rounds so drift hits both."""
    lab, bare = [], []
    for _ in range(rounds):
        lab.append(lab_wall(kind, backend, workers, tasks, repeats))
        bare.append(bare_wall(kind, backend, workers, tasks, repeats))
    return statistics.median(lab), statistics.median(bare)


def speedup_rows(repeats: int, rounds: int) -> list[tuple]:
    usable = machine.usable_cpus().value
    cases = [("cpu", "processes", usable), ("cpu", "threads", usable),
             ("gil_free", "threads", usable), ("io", "threads", 8 * usable)]
    rows = []
    for kind, backend, workers in cases:
        tasks = TASKS_PER_WORKER * workers
        lab_sequential, bare_sequential = alternating(kind, "sequential", 1, tasks, repeats, rounds)
        lab, bare = alternating(kind, backend, workers, tasks, repeats, rounds)
        ideal = min(workers, usable) if kind != "io" else workers
        rows.append((
            f"{kind} on {workers} {backend}",
            lab_sequential / lab, bare_sequential / bare, ideal,
            (lab_sequential / lab) / ideal, lab / bare,
        ))
    return rows


def panel_rerun_seconds() -> float:
    compare = panels.compare_panel()
    compare.start()
    compare.wait()
    seconds = _timed(lambda: (compare.start(), compare.wait()))
    if compare.last_error:
        raise compare.last_error
    return seconds


def bare_start_costs(repeats: int, workers: int) -> dict[str, tuple[float, float]]:
    """Median process start+join and pool round per method, in plain multiprocessing code."""
    costs = {}
    for method in spawning.methods():
        context = multiprocessing.get_context(method)

        def one_process():
            child = context.Process(target=trivial.noop)
            child.start()
            child.join()

        def one_pool():
            with cf.ProcessPoolExecutor(workers, mp_context=context) as pool:
                list(pool.map(trivial.noop, range(workers)))

        one_process()  # the forkserver's server starts outside the clock
        costs[method] = (statistics.median(_timed(one_process) for _ in range(repeats)),
                         statistics.median(_timed(one_pool) for _ in range(repeats)))
    return costs


def start_cost_rows(repeats: int) -> list[tuple]:
    workers = max(2, machine.usable_cpus().value)
    lab = spawning.start_costs(repeats=repeats, workers=workers)
    bare = bare_start_costs(repeats, workers)
    rows = []
    for method in spawning.methods():
        for kind, index in (("process", 0), ("pool", 1)):
            mine = lab.median(kind, method)
            rows.append((f"{method} {kind}", mine * 1000, bare[method][index] * 1000,
                         mine / bare[method][index]))
    return rows


def sharing_rows() -> list[tuple[str, float, str]]:
    """Notebook 03's transfers, each against its own reference measured in the same run."""
    moved = sharing.transfers()
    top = text.size(moved.sizes[-1])
    raw = moved.throughput["raw os.pipe"][-1]
    rows = [(f"shared memory, {top}", moved.throughput["shared memory"][-1] / 1e6,
             f"{moved.throughput['shared memory'][-1] / moved.memcpy[-1]:.2f} of warm memcpy of the same size ({moved.memcpy[-1] / 1e6:,.0f} MB/s)")]
    for channel in sharing.MESSAGE_PASSING[:4]:
        rate = moved.throughput[channel][-1]
        rows.append((f"{channel}, {top}", rate / 1e6, f"{rate / raw:.2f} of raw os.pipe ({raw / 1e6:,.0f} MB/s)"))
    return rows


def bare_per_task(workers: int, tasks: int = beyond.EMPTY_TASKS, repeats: int = 5) -> float:
    """Seconds per empty task through a bare, warmed ProcessPoolExecutor: submit all, wait."""
    context = multiprocessing.get_context(machine.lab_start_method())
    with cf.ProcessPoolExecutor(workers, mp_context=context) as pool:
        list(pool.map(time.sleep, [0.05] * workers))
        return statistics.median(
            _timed(lambda: cf.wait([pool.submit(trivial.noop) for _ in range(tasks)]))
            for _ in range(repeats)) / tasks


def engine_rows() -> list[tuple]:
    """Notebook 07's engines: start, cost per empty task, and that cost over a bare pool's."""
    compared = beyond.compare_engines(kinds=["cpu"], repeats=5)
    bare = bare_per_task(compared.workers)
    return [(run.engine, run.start_seconds * 1000, run.per_task_seconds * 1e6,
             run.per_task_seconds / bare, compared.speedup(run.engine, "cpu"))
            for run in compared.runs], bare


def notebook_run(name: str) -> tuple[float, float, float]:
    """Seconds nbval takes, and the peak RSS and PSS sums (MiB) of pytest, kernel and children."""
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"notebooks/{name}"]
    started = time.perf_counter()
    run = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peaks = [0.0, 0.0]
    while run.poll() is None:
        try:
            tree = [psutil.Process(run.pid), *psutil.Process(run.pid).children(recursive=True)]
            rss = pss = 0.0
            for process in tree:
                info = process.memory_full_info()
                rss, pss = rss + info.rss / 2**20, pss + getattr(info, "pss", info.uss) / 2**20
            peaks = [max(peaks[0], rss), max(peaks[1], pss)]
        except psutil.Error:
            pass
        time.sleep(0.2)
    if run.returncode:
        raise RuntimeError(f"nbval failed on {name}")
    return time.perf_counter() - started, peaks[0], peaks[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="timed repeats per measurement")
    parser.add_argument("--rounds", type=int, default=3, help="alternating lab/bare rounds")
    parser.add_argument("--skip-notebook", action="store_true")
    options = parser.parse_args()

    print(machine.describe().summary())
    print(workloads.calibrate().describe(), "\n")
    header = ("case", "lab speedup", "bare speedup", "ideal", "lab / ideal", "lab / bare wall")
    print("{:<26} {:>12} {:>13} {:>6} {:>12} {:>16}".format(*header))
    for case, lab, bare, ideal, fraction, overhead in speedup_rows(options.repeats, options.rounds):
        print(f"{case:<26} {lab:>11.2f}× {bare:>12.2f}× {ideal:>5}× {fraction:>12.2f} {overhead:>16.3f}")
    print(f"\npanel re-run at default settings: {panel_rerun_seconds():.2f} s\n")
    print("{:<20} {:>10} {:>10} {:>10}".format("start cost (ms)", "notebook", "bare", "ratio"))
    for case, mine, bare, ratio in start_cost_rows(options.repeats):
        print(f"{case:<20} {mine:>10.1f} {bare:>10.1f} {ratio:>10.2f}")
    print("\n{:<26} {:>10}   {}".format("transfer (notebook 03)", "MB/s", "against"))
    for case, rate, against in sharing_rows():
        print(f"{case:<26} {rate:>10,.0f}   {against}")
    rows, bare = engine_rows()
    print(f"\n{'engine (notebook 07)':<20} {'start ms':>10} {'µs / task':>10} "
          f"{'/ bare pool':>12} {'cpu speedup':>12}")
    for name, start, per_task, ratio, gain in rows:
        print(f"{name:<20} {start:>10,.0f} {per_task:>10,.0f} {ratio:>12.2f} {gain:>11.2f}×")
    print(f"(bare ProcessPoolExecutor, submit and wait: {bare * 1e6:,.0f} µs per empty task)")
    if not options.skip_notebook:
        print("\n{:<26} {:>10} {:>16} {:>16}".format("notebook under nbval", "seconds",
                                                    "peak RSS sum MiB", "peak PSS sum MiB"))
        for notebook in sorted((ROOT / "notebooks").glob("*.ipynb")):
            seconds, rss, pss = notebook_run(notebook.name)
            print(f"{notebook.name:<26} {seconds:>10.1f} {rss:>16.0f} {pss:>16.0f}")


if __name__ == "__main__":
    main()
