"""Notebook 01's experiments: shapes, restored state, cleanup and wording."""
import sys

import pytest

from helpers.core import runner
from helpers.nb01_gil import figures, gil
from helpers.core.runner import Span


@pytest.fixture(autouse=True)
def nothing_left_behind(no_leftovers):
    yield


def test_stretches_split_where_a_slice_was_paused():
    s = gil.SLICE_SECONDS
    marks = [0, s, 2 * s, 3 * s, 3 * s + 0.005, 4 * s + 0.005]  # paused 5 ms during the 4th slice
    spans = gil._stretches(marks, offset=1.0, worker=0, task=0)
    assert len(spans) == 2
    assert spans[0].start == pytest.approx(1.0) and spans[0].end == pytest.approx(1 + 3 * s)
    assert spans[1].end == pytest.approx(1 + 4 * s + 0.005)


def test_time_with_at_least_two_open():
    spans = [Span(0, 0, 0, 0, 0.0, 2.0, 2.0), Span(1, 1, 0, 0, 1.0, 3.0, 2.0), Span(2, 2, 0, 0, 5.0, 6.0, 1.0)]
    assert gil.time_with_at_least(spans, 2) == pytest.approx(1.0)
    assert gil.time_with_at_least(spans, 1) == pytest.approx(4.0)


def test_threads_on_cpu_take_turns_and_processes_do_not_wait_for_the_gil():
    threads = gil.timeline("cpu", workers=2, backend="threads", seconds_per_worker=0.02)
    assert {run.worker for run in threads.runs} == {0, 1}
    if sys._is_gil_enabled() if hasattr(sys, "_is_gil_enabled") else True:
        assert threads.overlap < 0.05  # the GIL, not timing: two bytecode streams cannot interleave
    processes = gil.timeline("cpu", workers=2, backend="processes", seconds_per_worker=0.02)
    assert len(processes.runs) >= 2
    assert "took turns" in gil.timeline_verdict(threads)


@pytest.mark.parametrize("kwargs, message", [
    (dict(kind="io"), "cpu or gil_free"),
    (dict(backend="sequential"), "threads or processes"),
    (dict(seconds_per_worker=60), "between 0.001 and 5"),
    (dict(workers=0), "from 1 to"),
])
def test_timeline_rejects_bad_input(kwargs, message):
    with pytest.raises(ValueError, match=message):
        gil.timeline(**kwargs)


def test_switching_restores_the_interval_and_measures_each_one():
    result = gil.switching(intervals=(0.001, 0.01))
    assert set(result.run_lengths) == {0.001, 0.01}
    assert all(result.run_lengths[i] for i in (0.001, 0.01))
    assert "interval is back at" in gil.switching_verdict(result)
    assert figures.switching(result).axes


def test_switch_interval_is_restored_on_interrupt():
    before = sys.getswitchinterval()
    with pytest.raises(KeyboardInterrupt):
        with gil.switch_interval(0.05):
            raise KeyboardInterrupt
    assert sys.getswitchinterval() == before
    with pytest.raises(ValueError, match="between"):
        with gil.switch_interval(0):
            pass


@pytest.mark.parametrize("backend", ["threads", "processes"])
def test_convoy_measures_each_case_and_stops_its_hogs(backend):
    result = gil.convoy(hogs=(1,), backends=(backend,), pings=10, budget=0.5)
    assert set(result.latencies) == {("alone", 0), (backend, 1)}
    assert all(len(v) >= 5 for v in result.latencies.values())
    assert result.p99((backend, 1)) >= result.median((backend, 1)) > 0
    assert "Median round trip: alone" in gil.convoy_verdict(result)
    assert len(figures.convoy(result).axes) == 1


def test_convoy_hogs_are_stopped_after_an_error_inside():
    with pytest.raises(RuntimeError):
        with gil._hogs("processes", 2):
            assert len(runner.worker_processes()) == 2
            raise RuntimeError("boom")


def test_convoy_rejects_bad_input():
    with pytest.raises(ValueError, match="pings"):
        gil.convoy(pings=0)
    with pytest.raises(ValueError, match="hogs for threads must be from 1 to 256"):
        gil.convoy(hogs=(10_000,))
    with pytest.raises(ValueError, match="threads or processes"):
        gil.convoy(backends=("sequential",))


def test_mixed_jobs_have_the_asked_share_spread_out():
    jobs = gil.mixed_jobs(0.25, 8)
    assert [kind for kind, _ in jobs].count("cpu") == 2
    assert [kind for kind, _ in jobs][:4].count("cpu") == 1
    with pytest.raises(ValueError, match="between 0 and 1"):
        gil.mixed_jobs(1.5, 8)


def test_mixed_gives_a_speedup_per_share_and_backend():
    result = gil.mixed(shares=(0, 1), tasks=4, workers=2, repeats=1)
    assert set(result.speedups) == {"threads", "processes"}
    assert all(len(v) == 2 for v in result.speedups.values())
    assert "With 2 workers" in gil.mixed_verdict(result)


def test_free_threading_note_matches_the_interpreter():
    text = gil.free_threading_note({})
    gil_on = sys._is_gil_enabled() if hasattr(sys, "_is_gil_enabled") else True
    assert ("The GIL is on" in text) == gil_on


def test_exercise_checkers():
    limits = [60_000, 60_000]  # long enough for the CPU-time clock to see
    assert gil.check_parallel(lambda ls: [gil.count_primes(n) for n in ls], limits).startswith("Not yet")
    assert gil.check_parallel(lambda ls: [0 for _ in ls], limits).startswith("Not quite")
    assert gil.check_parallel(lambda ls: 1 / 0, limits).startswith("Not quite: run_all raised ZeroDivisionError")
    assert gil.count_primes(30) == 10
    assert gil.check_io_plateau(None).startswith("Not yet")
    assert gil.check_thread_guess({}, {}).startswith("Not yet")


@pytest.mark.timing  # beside other test workers, 16 threads once "beat" 8 on 8 waits (12 ms vs 15 ms)
def test_io_plateau_checker_finds_one_thread_per_wait():
    assert gil.check_io_plateau(4, tasks=8).startswith("Not yet: doubling")
    assert gil.check_io_plateau(8, tasks=8).startswith("Right")


def test_process_stretches_never_outnumber_the_usable_cpus():
    line = gil.timeline("cpu", workers=4, backend="processes", seconds_per_worker=0.03)
    crowded = gil.time_with_at_least(line.runs, line.usable_cpus + 1)
    assert crowded < 0.05 * line.wall  # only slivers from pauses shorter than the detection limit


def test_the_convoy_verdict_never_says_one_times_slower():
    calm = gil.Convoy(0.005, {("alone", 0): (0.001, 0.001), ("threads", 1): (0.00102, 0.00102)})
    said = gil.convoy_verdict(calm)
    assert "about as fast as alone" in said and "× slower" not in said
    stuck = gil.Convoy(0.005, {("alone", 0): (0.001, 0.001), ("threads", 2): (0.012, 0.012)})
    assert "12× slower" in gil.convoy_verdict(stuck)


def without_gil(monkeypatch, module) -> None:
    monkeypatch.setattr(module.machine, "gil_enabled", lambda: module.machine.Fact(False, "test"))


def test_on_a_free_threaded_build_the_gil_verdicts_do_not_blame_the_gil(monkeypatch):
    without_gil(monkeypatch, gil)
    said = gil.switching_verdict(gil.SwitchResult(0.005, {0.001: (0.001,), 0.005: (0.005,)}))
    assert "no GIL: the interval does not decide who runs" in said
    said = gil.check_parallel(lambda ls: [gil.count_primes(n) for n in ls], [20_000, 20_000])
    assert said.startswith("Not yet") and "shared one GIL" not in said and "no GIL" in said


def test_the_io_sweep_reaches_past_many_cores(monkeypatch):
    monkeypatch.setattr(gil.machine, "usable_cpus", lambda: gil.machine.Fact(27, "test"))
    threads = gil.io_workers()["threads"]
    assert threads[0] == 1 and threads[-1] == 64 and threads[-1] > 1.2 * 27


def test_the_io_verdict_says_when_the_sweep_stopped_too_early_or_the_machine_was_busy(monkeypatch):
    from helpers.nb00_start_here import first_look
    said = first_look._meaning("io", 20.0, 8.0, 27, most_threads=32)
    assert "stopped at 32 threads, too few to pass 27 usable CPUs" in said
    monkeypatch.setattr(first_look.machine.psutil, "getloadavg", lambda: (9.0, 1.0, 1.0))
    assert "load average 9.0" in first_look._meaning("io", 1.5, 1.4, 2, most_threads=32)


def test_on_one_cpu_the_mixed_verdict_says_why_threads_were_good_enough(monkeypatch):
    monkeypatch.setattr(gil.machine, "usable_cpus", lambda: gil.machine.Fact(1, "test"))
    result = gil.Mixed(4, (0.0, 1.0), {"threads": (3.5, 1.0), "processes": (3.4, 0.95)})
    assert "processes cannot compute in parallel either" in gil.mixed_verdict(result)


def test_amdahls_law_and_its_curve_on_the_mixed_figure():
    assert gil.amdahl(0.0, 4) == 4 and gil.amdahl(1.0, 4) == 1 and abs(gil.amdahl(0.5, 4) - 1.6) < 1e-9
    figure = figures.mixed(gil.Mixed(4, (0.0, 1.0), {"threads": (3.5, 1.0), "processes": (3.4, 1.9)}))
    labels = [t.get_text() for t in figure.axes[0].get_legend().get_texts()]
    assert "Amdahl's law, 4 workers, cpu share serial" in labels


def test_the_free_threading_note_warns_that_an_unready_extension_turns_the_gil_back_on():
    assert "turns the GIL back on" in gil.free_threading_note({})


def two_threads_taking_turns(interval: float, waited: float) -> gil.Handover:
    """Synthetic stretches: two threads alternating every `waited` seconds, three times each."""
    runs = [Span(worker, worker, 0, 0, start, start + waited, waited)
            for worker in (0, 1) for start in (waited * (2 * k + worker) for k in range(3))]
    line = gil.Timeline("cpu", "threads", 2, 2, tuple(runs), 6 * waited, 6 * waited)
    return gil.Handover(interval, line)


def test_handover_measures_every_wait_and_draws_the_requests():
    close_up = gil.handover(interval=0.005, seconds=0.03)
    assert close_up.waits and all(end > start for _, start, end in close_up.waits)
    assert "switch interval of 5 ms" in figures.handover(close_up).axes[0].get_title()


def test_the_handover_verdict_reads_the_wait_against_the_interval(monkeypatch):
    monkeypatch.setattr(gil.machine, "usable_cpus", lambda: gil.machine.Fact(2, "test"))
    verdict = gil.handover_verdict(two_threads_taking_turns(0.005, 0.0052))
    assert verdict.headline == "A waiting thread got the GIL after a median 5.2 ms at a switch interval of 5 ms."
    assert "a median 0.2 ms later" in verdict.details and "4 waits" in verdict.details
    monkeypatch.setattr(gil.machine, "usable_cpus", lambda: gil.machine.Fact(1, "test"))
    assert "one usable CPU" in gil.handover_verdict(two_threads_taking_turns(0.005, 0.02)).details


def test_without_a_gil_the_handover_verdict_blames_the_operating_system(monkeypatch):
    without_gil(monkeypatch, gil)
    assert "no GIL" in gil.handover_verdict(two_threads_taking_turns(0.005, 0.0052)).headline
    alone = gil.Handover(0.005, gil.Timeline("cpu", "threads", 2, 2, (), 0.01, 0.02))
    assert "neither thread ever waited" in gil.handover_verdict(alone).headline
