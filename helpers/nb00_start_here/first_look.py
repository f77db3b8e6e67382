"""Notebook 00's experiments: sequential vs threads vs processes on each task kind."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from ..core import machine, runner, workloads
from ..core.text import Verdict
from ..core.runner import RunResult, Sweep


# --- 1. one task, four ways ---------------------------------------------------------------------

FOUR_WAYS = ("sequential", "threading.Thread", "multiprocessing.Process", "ThreadPoolExecutor",
             "ProcessPoolExecutor")
PROCESS_WAYS = ("multiprocessing.Process", "ProcessPoolExecutor")
THREAD_WAYS = ("threading.Thread", "ThreadPoolExecutor")
CLEAR_GAIN = 1.3  # below this a speedup is within noise and start-up cost


def check_four_ways(seconds) -> dict[str, float]:
    """The listings' wall times, checked: every way present, each a positive number of seconds."""
    if not isinstance(seconds, dict) or set(seconds) != set(FOUR_WAYS):
        raise ValueError(f"seconds must map each of {', '.join(FOUR_WAYS)} to its wall time; "
                         f"got {sorted(seconds) if isinstance(seconds, dict) else type(seconds).__name__}"
                         " (run the four listings above first)")
    for way, value in seconds.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
            raise ValueError(f"seconds[{way!r}] must be a positive number of seconds, got {value!r}")
    return {way: float(seconds[way]) for way in FOUR_WAYS}


def four_ways_verdict(seconds: dict[str, float]) -> Verdict:
    """One sentence: how each way compared with the plain loop here, and why, from this machine."""
    seconds = check_four_ways(seconds)
    loop = seconds["sequential"]
    gain = {way: loop / wall for way, wall in seconds.items()}
    threads, processes = max(gain[w] for w in THREAD_WAYS), max(gain[w] for w in PROCESS_WAYS)
    usable, gil = machine.usable_cpus().value, machine.gil_enabled().value
    figures = f"the threads' best was {threads:.1f}× the loop's speed, the processes' best {processes:.1f}×"
    if threads >= CLEAR_GAIN and not gil:
        why = "the threads ran at once (this Python has no GIL)"
    elif threads >= CLEAR_GAIN:
        return Verdict(f"Here {figures}: threads cannot beat the loop on pure Python under the GIL, "
                       "so something else was using the machine during the loop; run the listings "
                       "again.")
    elif gil:
        why = "threads took turns, as pure-Python work holds the GIL"
    else:
        why = "threads gained little even without a GIL"
    if processes >= CLEAR_GAIN:
        why += f", while the processes shared {usable} usable CPUs"
    elif usable == 1:
        why += ", and with 1 usable CPU the processes could only take turns as well"
    else:
        why += ", and the processes' start-up ate what they gained on such short work"
    return Verdict(f"Here {figures}: {why}.")


# --- 2. does adding workers make it faster? -----------------------------------------------------


def default_workers(usable_cpus: int | None = None) -> list[int]:
    """Powers of two from 1 up to twice the usable CPUs (at least 4)."""
    usable = machine.usable_cpus().value if usable_cpus is None else usable_cpus
    if isinstance(usable, bool) or not isinstance(usable, int) or usable < 1:
        raise ValueError(f"usable_cpus must be an integer of at least 1, got {usable_cpus!r}")
    top = max(4, 2 * usable)
    counts, count = [], 1
    while count <= top:
        counts.append(count)
        count *= 2
    return counts


def experiment(
    kinds: Sequence[str] = workloads.KINDS,
    workers: Sequence[int] | None = None,
    repeats: int = 3,
    progress: runner.Progress | None = None,
) -> dict[str, Sweep]:
    """A speedup sweep per kind: four tasks per worker at the largest count."""
    for kind in kinds:
        workloads.check_kind(kind)
    workers = default_workers() if workers is None else list(workers)
    if not workers:
        raise ValueError("workers must list at least one worker count, e.g. [1, 2, 4]")
    tasks = 4 * max(workers)
    return {
        kind: runner.sweep(kind, workers=workers, tasks=tasks, repeats=repeats, progress=progress)
        for kind in kinds
    }


def verdict(sweep: Sweep) -> Verdict:
    """A headline with this machine's best speedups for one kind; what they mean, below it."""
    usable = sweep.usable_cpus
    threads, processes = sweep.best("threads"), sweep.best("processes")
    headline = (f"{sweep.work}: best threads {threads.speedup:.1f}× (at {threads.workers}), "
                f"best processes {processes.speedup:.1f}× (at {processes.workers}), "
                f"on {usable} usable CPU{'s' if usable > 1 else ''}.")
    most = max(r.workers for r in sweep.runs.get("threads", ())) if sweep.runs.get("threads") else 1
    return Verdict(headline, _meaning(sweep.work, threads.speedup, processes.speedup, usable, most))


def _meaning(kind: str, threads: float, processes: float, usable: int, most_threads: int = 32) -> str:
    faster = 1.3  # below this a speedup is within noise and start-up cost
    if kind == "io":
        if threads > max(usable, 1) * 1.2:
            return "Threads beat the core count: a waiting thread needs no CPU and no GIL."
        if most_threads <= usable * 1.2:
            return (f"This sweep stopped at {most_threads} threads, too few to pass {usable} usable "
                    "CPUs by much: try more threads.")
        busy = machine.busy_note(usable)
        if busy:
            return "Threads did not beat the core count here." + busy
        return "Threads did not beat the core count here: the waits were too short to hide overhead."
    if processes < faster and threads < faster:
        if usable == 1:
            return "With one usable CPU nothing can run in parallel: no backend can speed this up here."
        return "Neither backend sped this up: the machine may be busy with other work."
    if kind == "cpu":
        if threads >= faster and not machine.gil_enabled().value:
            return "Threads sped up pure-Python work: this interpreter is running without the GIL."
        if threads >= faster:
            return ("Threads measured faster on pure Python, which the GIL does not allow: something "
                    "else was using the machine, so run it again.")
        return "Only processes sped it up: each has its own interpreter and GIL, threads share one."
    if threads >= faster and threads >= 0.85 * processes:
        return "Threads sped it up as well as processes: hashlib releases the GIL while it hashes."
    if threads >= faster:
        return ("Threads sped it up too, if less than processes: hashlib releases the GIL while it "
                "hashes, and takes it back between calls.")
    return "Threads did not speed it up: the GIL was not released long enough here."


@dataclass(frozen=True)
class Comparison:
    """A sequential baseline and one parallel run of the same tasks."""

    baseline: RunResult
    result: RunResult

    @property
    def speedup(self) -> float:
        return self.baseline.median / self.result.median


def compare(
    kind: str = "cpu",
    workers: int | None = None,
    backend: str = "threads",
    tasks_per_worker: int = 4,
    progress: runner.Progress | None = None,
) -> Comparison:
    """Run the same tasks sequentially and on `workers` workers of `backend`."""
    workers = max(2, machine.usable_cpus().value) if workers is None else workers
    runner.check_workers(workers, backend)
    tasks = tasks_per_worker * workers

    def report(offset: int):
        return None if progress is None else (lambda done, _: progress(offset + done, 2 * tasks))

    baseline = runner.run(kind, backend="sequential", tasks=tasks, progress=report(0))
    result = runner.run(kind, backend=backend, workers=workers, tasks=tasks, progress=report(tasks))
    return Comparison(baseline, result)


def compare_verdict(comparison: Comparison) -> str:
    """One sentence: how much faster, and how many CPUs were busy."""
    result = comparison.result
    return (
        f"{result.label} on {result.work}: {comparison.speedup:.2f}× the sequential speed, "
        f"{result.parallelism:.2f} CPUs busy on average "
        f"({machine.usable_cpus().value} usable)."
    )


def timeline_verdict(results: Sequence[RunResult]) -> Verdict:
    """Compare how many CPUs each run kept busy, and say what that means."""
    usable = machine.usable_cpus().value
    parts = "; ".join(f"{r.label}: {r.parallelism:.2f} CPUs busy" for r in results)
    busiest = max(results, key=lambda r: r.parallelism)
    if busiest.parallelism < 1.3:
        meaning = (f"No run kept more than one CPU busy (at most {busiest.parallelism:.2f} on average)" +
                   (": with one usable CPU there is nothing to run in parallel on." if usable == 1
                    else ": the work did not run in parallel here."))
    else:
        meaning = (f"Only the {busiest.label} kept more than one CPU busy: "
                   f"{busiest.parallelism:.2f} on average.")
        if all(r.parallelism >= 1.3 for r in results):
            meaning = (f"Both ran in parallel, keeping {min(r.parallelism for r in results):.2f} "
                       "CPUs or more busy on average.")
    return Verdict(meaning, f"{parts} (usable CPUs: {usable}).")


def side_by_side(kind: str = "cpu", workers: int | None = None, tasks_per_worker: int = 3
                 ) -> tuple[RunResult, RunResult]:
    """The same tasks on threads and on processes, for two timelines."""
    workers = max(2, machine.usable_cpus().value) if workers is None else workers
    runner.check_workers(workers, "processes")  # before the thread run, not after it
    tasks = tasks_per_worker * workers
    return tuple(
        runner.run(kind, backend=backend, workers=workers, tasks=tasks)
        for backend in ("threads", "processes")
    )


# --- exercises ---------------------------------------------------------------------


def check_io_run(answer) -> str:
    """Exercise 1: 12 io tasks on 12 threads."""
    if not isinstance(answer, RunResult):
        return "Not yet: store the value returned by runner.run(...) in my_run."
    wanted = {"work": "io", "backend": "threads", "workers": 12, "tasks": 12}
    wrong = [f"{name} is {getattr(answer, name)!r}, not {value!r}"
             for name, value in wanted.items() if getattr(answer, name) != value]
    if wrong:
        return "Not quite: " + "; ".join(wrong) + "."
    sequential_ms = 12 * workloads.calibrate().unit_seconds * 1000
    return (
        f"Right. Twelve waits of one unit each took {answer.median * 1000:.0f} ms in all, "
        f"not the {sequential_ms:.0f} ms they would take one after another: waiting threads overlap."
    )


def check_prediction(prediction, sweeps: dict[str, Sweep]) -> str:
    """Exercise 2: which backend gave the best speedup for each kind here."""
    if not isinstance(prediction, dict) or not prediction:
        return "Not yet: fill in my_prediction, e.g. {'cpu': 'threads', 'io': 'processes'}."
    lines = []
    for kind, guess in prediction.items():
        if kind not in sweeps:
            lines.append(f"{kind!r}: not a kind measured above ({', '.join(sweeps)}).")
            continue
        best = {b: sweeps[kind].best(b).speedup for b in ("threads", "processes")}
        winner = max(best, key=best.get)
        close = min(best.values()) >= 0.9 * max(best.values())
        verdict = "right" if guess == winner or close else "wrong"
        tie = " (a near tie: both count)" if close else ""
        lines.append(f"{kind}: you said {guess}, measured threads {best['threads']:.1f}× vs "
                     f"processes {best['processes']:.1f}× → {verdict}{tie}.")
    return "\n".join(lines)
