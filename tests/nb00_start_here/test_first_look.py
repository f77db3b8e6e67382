"""Notebook 00's experiments and verdicts: shapes from real runs, wording from made-up numbers."""
import pytest

from helpers.core import machine, runner
from helpers.nb00_start_here import figures, first_look
from helpers.core.runner import RunResult, Span, Sweep


def made_up(backend, workers, wall, cpu_time=0.0):
    span = Span(task=0, worker=0, pid=1, thread_id=1, start=0.0, end=wall, cpu_time=cpu_time)
    return RunResult("cpu", backend, None, workers, 1, (wall,), (span,))


def made_up_sweep(work, usable, threads, processes):
    """A sweep whose best speedups are the given ones (baseline of 1 s)."""
    runs = {
        "threads": (made_up("threads", 1, 1.0), made_up("threads", 2, 1 / threads)),
        "processes": (made_up("processes", 1, 1.0), made_up("processes", 2, 1 / processes)),
    }
    return Sweep(work, usable, made_up("sequential", 1, 1.0), runs)


@pytest.mark.parametrize("work, usable, threads, processes, phrase", [
    ("cpu", 2, 1.0, 1.9, "Only processes sped it up"),
    ("cpu", 2, 1.9, 1.9, "run it again" if machine.gil_enabled().value else "running without the GIL"),
    ("cpu", 1, 1.0, 1.0, "With one usable CPU nothing can run in parallel"),
    ("cpu", 4, 1.0, 1.1, "Neither backend sped this up"),
    ("gil_free", 2, 1.9, 1.9, "hashlib releases the GIL"),
    ("gil_free", 2, 1.0, 1.9, "Threads did not speed it up"),
    ("io", 1, 3.9, 3.9, "Threads beat the core count"),
    ("io", 2, 1.1, 1.1, "stopped at 2 threads, too few to pass 2 usable CPUs"),
])
def test_verdict_says_what_the_numbers_show(work, usable, threads, processes, phrase):
    text = first_look.verdict(made_up_sweep(work, usable, threads, processes))
    assert phrase in text
    assert f"best threads {threads:.1f}×" in text and f"best processes {processes:.1f}×" in text


def test_default_workers_go_to_twice_the_usable_cpus():
    assert first_look.default_workers(1) == [1, 2, 4]
    assert first_look.default_workers(3) == [1, 2, 4]
    assert first_look.default_workers(8) == [1, 2, 4, 8, 16]


def test_experiment_returns_one_sweep_per_kind():
    sweeps = first_look.experiment(kinds=["io"], workers=[1, 2], repeats=1)
    assert list(sweeps) == ["io"]
    assert [p.workers for p in sweeps["io"].points("threads")] == [1, 2]
    with pytest.raises(ValueError, match="unknown task kind"):
        first_look.experiment(kinds=["gpu"])


def test_compare_runs_the_same_tasks_both_ways():
    compared = first_look.compare("io", workers=2, backend="threads", tasks_per_worker=2)
    assert compared.baseline.tasks == compared.result.tasks == 4
    assert "2 threads on io" in first_look.compare_verdict(compared)


def test_timeline_verdict_names_the_parallel_run():
    serial, parallel = made_up("threads", 2, 1.0, cpu_time=1.0), made_up("processes", 2, 1.0, cpu_time=1.9)
    assert "Only the 2 processes" in first_look.timeline_verdict([serial, parallel])
    assert "No run kept more than one CPU busy" in first_look.timeline_verdict([serial])


def test_exercise_checks_say_not_yet_then_right():
    assert first_look.check_io_run(None).startswith("Not yet")
    wrong = runner.run("io", backend="threads", workers=2, tasks=2, units=0.1)
    assert "workers is 2, not 12" in first_look.check_io_run(wrong)
    right = runner.run("io", backend="threads", workers=12, tasks=12)
    assert first_look.check_io_run(right).startswith("Right")
    sweeps = {"cpu": made_up_sweep("cpu", 2, 1.0, 1.9)}
    assert "→ right" in first_look.check_prediction({"cpu": "processes"}, sweeps)
    assert "→ wrong" in first_look.check_prediction({"cpu": "threads"}, sweeps)
    assert first_look.check_prediction({}, sweeps).startswith("Not yet")


# --- 1. one task, four ways ---------------------------------------------------------------------

def ways(loop: float, threads: float, processes: float) -> dict[str, float]:
    return {"sequential": loop, "threading.Thread": threads, "ThreadPoolExecutor": threads,
            "multiprocessing.Process": processes, "ProcessPoolExecutor": processes}


def on_machine(monkeypatch, usable: int, gil: bool) -> None:
    monkeypatch.setattr(first_look.machine, "usable_cpus", lambda: machine.Fact(usable, "test"))
    monkeypatch.setattr(first_look.machine, "gil_enabled", lambda: machine.Fact(gil, "test"))


def test_four_ways_verdict_on_two_cores_with_the_gil(monkeypatch):
    on_machine(monkeypatch, usable=2, gil=True)
    said = first_look.four_ways_verdict(ways(1.0, 1.0, 0.55))
    assert said.startswith("Here the threads' best was 1.0× the loop's speed, the processes' best 1.8×")
    assert "pure-Python work holds the GIL" in said and "shared 2 usable CPUs" in said


def test_four_ways_verdict_on_one_core_blames_the_single_cpu(monkeypatch):
    on_machine(monkeypatch, usable=1, gil=True)
    said = first_look.four_ways_verdict(ways(1.0, 1.02, 1.2))
    assert "with 1 usable CPU the processes could only take turns" in said
    assert said.count(".") >= 1 and "shared" not in said


def test_four_ways_verdict_without_a_gil_does_not_blame_it(monkeypatch):
    on_machine(monkeypatch, usable=4, gil=False)
    said = first_look.four_ways_verdict(ways(1.0, 0.3, 0.35))
    assert "GIL" in said and "holds the GIL" not in said and "no GIL" in said
    on_machine(monkeypatch, usable=4, gil=False)
    assert "holds the GIL" not in first_look.four_ways_verdict(ways(1.0, 1.0, 0.35))


def test_four_ways_verdict_says_when_start_up_ate_the_gain(monkeypatch):
    on_machine(monkeypatch, usable=2, gil=True)
    assert "start-up ate what they gained" in first_look.four_ways_verdict(ways(0.2, 0.2, 0.3))


def test_four_ways_figure_has_a_bar_per_way_and_the_loop_line():
    figure = figures.four_ways(ways(1.0, 1.0, 0.55))
    ax = figure.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == list(first_look.FOUR_WAYS)
    assert figure.legends[0].get_texts()[0].get_text() == "the plain loop"


def test_the_gil_free_verdict_says_as_well_as_only_when_it_was():
    assert "as well as processes" in first_look._meaning("gil_free", 1.8, 1.9, 2)
    said = first_look._meaning("gil_free", 1.4, 1.9, 2)
    assert "as well as" not in said and "less than processes" in said


def test_threads_beating_the_gil_on_cpu_work_is_called_noise(monkeypatch):
    on_machine(monkeypatch, usable=2, gil=True)
    said = first_look._meaning("cpu", 1.5, 1.9, 2)
    assert "without the GIL" not in said and "run it again" in said
    on_machine(monkeypatch, usable=2, gil=False)
    assert "without the GIL" in first_look._meaning("cpu", 1.5, 1.9, 2)


def test_four_ways_verdict_calls_threads_beating_the_gil_noise(monkeypatch):
    on_machine(monkeypatch, usable=2, gil=True)
    said = first_look.four_ways_verdict(ways(2.17, 1.41, 1.79))
    assert "ran at once" not in said and "run the listings again" in said


def test_the_io_verdict_blames_short_waits_only_on_a_quiet_machine(monkeypatch):
    monkeypatch.setattr(first_look.machine.psutil, "getloadavg", lambda: (0.5, 0.5, 0.5))
    assert "the waits were too short" in first_look._meaning("io", 1.5, 1.4, 2, most_threads=32)
