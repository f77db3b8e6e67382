"""Notebook 02's experiments: shapes, errors and cleanup (timing is for benchmarks/)."""

import pytest

from helpers.core import runner, text
from helpers.nb02_process_cost import figures, spawning


@pytest.fixture(autouse=True)
def nothing_left_behind(no_leftovers):
    yield


def test_start_costs_cover_every_method_and_a_thread():
    costs = spawning.start_costs(repeats=2, workers=2)
    assert set(costs.process) == set(costs.pool) == set(spawning.methods())
    assert all(len(v) == 2 and min(v) > 0 for v in costs.process.values())
    assert "the cheapest process here" in spawning.start_verdict(costs).headline
    assert len(figures.start_costs(costs).axes) == 2
    with pytest.raises(ValueError, match="repeats"):
        spawning.start_costs(repeats=0)


def test_heavy_main_script_reports_every_case():
    result = spawning.heavy_main()
    assert set(result.starts) == {n for n, a in spawning.HEAVY_CASES.items() if a[0] in spawning.methods()}
    assert all(len(times) == 3 for times in result.starts.values())
    assert result.import_seconds > 0


def test_transfer_sizes_grow_tenfold_and_respect_the_cap():
    assert spawning.transfer_sizes(100_000) == [1000, 10_000, 100_000]
    with pytest.raises(ValueError, match="at least 1000"):
        spawning.transfer_sizes(10)
    result = spawning.transfer(largest=100_000, repeats=1)
    assert set(result.seconds) == {"processes", "threads"}
    assert all(len(v) == 3 for v in result.seconds.values())
    assert text.size(100_000_000) == "100 MB"
    assert figures.transfer(result).axes


def test_granularity_finds_break_even_by_interpolation():
    made_up = spawning.Granularity(2, (0.001, 0.01), {"threads": (1, 1), "processes": (0.5, 1.5)})
    assert 0.001 < made_up.break_even() < 0.01
    assert spawning.Granularity(2, (0.001,), {"threads": (1,), "processes": (2,)}).break_even() is None
    with pytest.raises(ValueError, match="durations"):
        spawning.granularity(durations=(5.0,))


def test_automatic_chunksize_matches_multiprocessing_pool():
    assert runner.automatic_chunksize(10_000, 2) == 1250
    assert runner.automatic_chunksize(10, 4) == 1
    with pytest.raises(ValueError, match="chunksize must be from 1 to 10"):
        spawning.map_seconds(10, 0, 2)


def test_pool_reuse_and_memory_footprint_shapes():
    reuse = spawning.pool_reuse(tasks=5, budget=0.5)
    assert len(reuse.reused) == 5 and 3 <= len(reuse.fresh) <= 5
    memory = spawning.footprint(counts=(1, 2))
    assert set(memory.uss) == {"threads", *spawning.methods()}
    assert all(len(v) == 2 for v in memory.uss.values())
    assert figures.footprint(memory).axes


def test_killing_stops_everything_it_starts():
    result = spawning.killing(stubborn_seconds=0.2)
    assert result.cancelled == (False, True, True)
    assert result.cooperative_thread_seconds < result.stubborn_thread_seconds
    assert "terminate()" in spawning.killing_verdict(result)


@pytest.mark.parametrize("kwargs, message", [
    (dict(method="teleport"), "unknown start method"),
    (dict(workers=0), "from 1 to"),
    (dict(payload_kb=-1), "payload_kb"),
    (dict(task_ms=0), "task_ms"),
])
def test_trial_rejects_bad_input(kwargs, message):
    with pytest.raises(ValueError, match=message):
        spawning.trial(**kwargs)


def test_trial_and_exercise_checks():
    result = spawning.trial(workers=2, payload_kb=1, task_ms=1)
    assert set(result.seconds) == {"sequential", "threads", "processes"}
    assert figures.trial(result).axes
    assert spawning.check_chunksize(None).startswith("Not yet")
    assert spawning.check_chunksize(10).startswith("Not yet: chunksize 10 sends")
    costs = spawning.StartCosts(2, {"fork": (0.002,), "spawn": (0.05,)}, {}, (0.0001,))
    assert spawning.check_cheapest("fork", costs).startswith("Right")
    assert spawning.check_cheapest("spawn", costs).startswith("Not this time")
    assert spawning.check_cheapest("x", costs).startswith("Not yet")


@pytest.mark.parametrize("version, preloads", [
    ((3, 11, 7), False), ((3, 12, 12), False), ((3, 13, 0), False), ((3, 13, 7), False),
    ((3, 13, 8), True), ((3, 13, 12), True), ((3, 14, 0), False), ((3, 14, 1), True), ((3, 15, 0), True),
])
def test_the_forkserver_preloads_the_main_script_only_where_cpython_fixed_it(version, preloads):
    assert spawning.forkserver_preloads_main(version) is preloads
    said = spawning.forkserver_note(version)
    assert said.startswith(f"On Python {'.'.join(map(str, version))} the forkserver")
    assert ("does not preload" in said) is not preloads


def test_fork_is_not_offered_on_macos_where_cpython_calls_it_unsafe(monkeypatch):
    monkeypatch.setattr(spawning.multiprocessing, "get_all_start_methods", lambda: ["spawn", "fork", "forkserver"])
    monkeypatch.setattr(spawning.sys, "platform", "darwin")
    assert spawning.methods() == ["forkserver", "spawn"]
    monkeypatch.setattr(spawning.sys, "platform", "linux")
    assert spawning.methods() == ["fork", "forkserver", "spawn"]


@pytest.mark.parametrize("backend", ["threads", "spawn"])
def test_an_interrupt_inside_a_workers_start_leaves_nothing_to_join(backend, monkeypatch, no_leftovers):
    calls = {"n": 0}
    real = spawning.runner.fork_warning_hidden

    def interrupted_on_the_second_start():
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt  # as if Ctrl-C landed before the second worker started
        return real()

    monkeypatch.setattr(spawning.runner, "fork_warning_hidden", interrupted_on_the_second_start)
    with pytest.raises(KeyboardInterrupt):
        spawning.memory_added(backend, [2])


def test_the_startup_sweep_times_warm_and_fresh_pools_and_leaves_no_child():
    result = spawning.startup_sweep(workers=(1, 2), tasks=2, repeats=1)
    assert result.workers == (1, 2) and len(result.warm) == len(result.cold) == 2
    assert all(cold > 0 and warm > 0 for cold, warm in zip(result.cold, result.warm))
    assert "fresh pool" in figures.startup(result).axes[0].get_legend().get_texts()[1].get_text()
    assert not runner.worker_processes()


def test_the_startup_verdict_says_when_start_up_ate_the_gain():
    short = spawning.Startup("spawn", 2, (1, 2), 0.08, (0.08, 0.045), (0.2, 0.3))
    verdict = spawning.startup_verdict(short)
    assert verdict.headline == ("With start-up on the clock, 2 spawn processes were 0.3× as fast as a "
                                "loop, against 1.8× on a warmed pool.")
    assert "cost more than they saved" in verdict.details
    long = spawning.Startup("spawn", 2, (1, 2), 8.0, (8.0, 4.1), (8.2, 4.3))
    assert "paid once per pool" in spawning.startup_verdict(long).details


# --- other platforms (simulated: the lab is tested on Linux) -------------------------------------


class DeniedToOthers(spawning.psutil.Process):
    """A process whose full memory info the system refuses for any other process, as macOS does."""

    def memory_full_info(self):
        if self.pid != spawning.os.getpid():
            raise spawning.psutil.AccessDenied(self.pid)
        return super().memory_full_info()


def test_a_process_whose_uss_is_denied_counts_its_rss_never_a_silent_0(monkeypatch):
    monkeypatch.setattr(spawning.psutil, "Process", DeniedToOthers)
    one, two = spawning.memory_added("spawn", [1, 2])
    assert (one.uss_denied, two.uss_denied) == (1, 2)
    assert two.uss == two.rss > 0          # their RSS stands in for the USS nobody could read
    threads = spawning.memory_added("threads", [2])[-1]
    assert threads.uss_denied == 0         # this process's own USS is still read


def test_the_verdict_and_figure_say_when_rss_stands_in_for_uss(monkeypatch):
    rows = {"threads": [spawning.Usage(0.1, 0.1, 0.0), spawning.Usage(0.2, 0.2, 0.0)],
            "spawn": [spawning.Usage(9.0, 9.0, 0.0, 1), spawning.Usage(18.0, 18.0, 0.0, 2)]}
    monkeypatch.setattr(spawning.sys, "platform", "darwin")
    monkeypatch.setattr(spawning, "methods", lambda: ["spawn"])
    monkeypatch.setattr(spawning, "memory_added", lambda backend, counts: rows[backend])
    result = spawning.footprint(counts=(1, 2))
    assert result.uss_denied == {"spawn": 2}
    note = "macOS denied USS for 2 processes; RSS shown"
    verdict = spawning.footprint_verdict(result)
    assert note in verdict.headline and "spawn (2)" in verdict.details
    assert note in figures.footprint(result).axes[0].get_title()
    fine = spawning.Footprint(result.counts, result.uss, result.rss, result.pss)
    assert fine.denied_note() == "" and "denied" not in spawning.footprint_verdict(fine)
    assert "denied" not in figures.footprint(fine).axes[0].get_title()
