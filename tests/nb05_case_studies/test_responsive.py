"""Notebook 05, a responsive UI: the event-loop and cancel experiments, jobs and the panel."""
import time

import pytest
from matplotlib.figure import Figure

from helpers.core import runner
from helpers.nb05_case_studies import figures, panels, responsive


@pytest.fixture(autouse=True)
def nothing_left_behind(no_leftovers):
    yield


def test_the_main_thread_freezes_the_loop_and_helpers_keep_it_live():
    result = responsive.responsiveness(seconds=0.3)
    assert list(result.runs) == list(responsive.MODES)
    for run in result.runs.values():
        assert run.delays and len(run.delays) == len(run.posted)
        assert min(run.delays) >= 0 and run.work_seconds > 0
    inline, thread, child = (result.runs[mode] for mode in responsive.MODES)
    assert inline.progress_seen == 0  # the loop was computing: it could draw nothing
    assert thread.progress_seen > 1 and child.progress_seen > 1
    assert inline.max_delay > 0.5 * inline.work_seconds  # events waited for the whole computation
    assert thread.max_delay < inline.max_delay
    assert "froze" in responsive.responsiveness_verdict(result)


def test_modes_can_be_chosen_and_progress_is_reported():
    seen = []
    result = responsive.responsiveness(seconds=0.2, modes=["background thread"],
                                       progress=lambda done, total: seen.append((done, total)))
    assert list(result.runs) == ["background thread"]
    assert seen == [(1, 1)]


def test_only_a_flag_checking_thread_and_a_process_can_be_cancelled():
    result = responsive.cancelling(seconds=0.3)
    runs = {run.way: run for run in result.runs}
    assert list(runs) == list(responsive.CANCEL_WAYS)
    assert not runs["main thread"].cancelled
    assert runs["cooperative thread"].cancelled
    assert not runs["thread in one C call"].cancelled
    assert runs["process"].cancelled
    assert all(run.left_running == 0 and run.stopped_after >= 0 for run in result.runs)
    assert "no child was left" in responsive.cancelling_verdict(result)


@pytest.mark.parametrize("mode", responsive.JOB_MODES)
def test_a_job_runs_to_the_end_reporting_progress(mode):
    seen, ended = [], []
    job = responsive.start_job(mode, 0.2, lambda done, total: seen.append(done), ended.append)
    assert job.wait(60)
    assert ended == ["done"] and job.status == "done"
    assert seen and seen[-1] == responsive.STEPS


@pytest.mark.parametrize("mode", responsive.JOB_MODES)
def test_a_cancelled_job_stops_early_and_leaves_nothing(mode):
    ended = []
    job = responsive.start_job(mode, 5.0, on_end=ended.append)
    time.sleep(0.3)
    began = time.perf_counter()
    job.cancel()
    assert job.wait(10)
    assert time.perf_counter() - began < 4  # well before the 5 s of work
    assert ended == ["cancelled"]


def test_panel_thread_mode_moves_the_bar_and_finishes():
    panel = panels.responsive_panel(seconds=0.2, mode="background thread")
    panel.start_button.click()
    assert panel.start_button.disabled and not panel.cancel_button.disabled
    panel.slider.value = 7  # the kernel hears it while the thread computes
    assert "7" in panel.heard.value
    assert panel.wait(30)
    assert panel.progress.value == panel.progress.max
    assert panel.status.value.startswith("done")
    assert not panel.start_button.disabled and panel.cancel_button.disabled
    panel.close()


def test_panel_process_mode_cancels_by_terminating_the_child():
    panel = panels.responsive_panel(seconds=5.0, mode="process")
    panel.start_button.click()
    time.sleep(0.3)
    panel.cancel_button.click()
    assert panel.wait(10)
    assert panel.status.value.startswith("cancelled") and "terminated" in panel.status.value
    panel.close()


def test_panel_main_thread_mode_blocks_the_click_and_cannot_be_cancelled():
    panel = panels.responsive_panel(seconds=0.2, mode="main thread")
    panel.start_button.click()  # returns only when the computation is over
    assert panel.progress.value == panel.progress.max
    assert panel.status.value.startswith("done")
    panel.cancel_button.click()
    assert panel.status.value.startswith("nothing to cancel")
    panel.close()


def test_closing_a_running_panel_stops_its_computation():
    panel = panels.responsive_panel(seconds=5.0, mode="background thread")
    panel.start()
    time.sleep(0.1)
    panel.close()
    assert not panel.running
    assert runner.lab_threads() == []


def _fake_results():
    runs = {
        mode: responsive.ModeRun(mode, 0.5, (0.001, 0.3, 0.0001), seen, 50, (0.0, 0.1, 0.2))
        for mode, seen in zip(responsive.MODES, (0, 40, 50))
    }
    delays = responsive.Responsiveness(runs, 0.01, 0.005, "forkserver", 2)
    cancels = responsive.Cancelling(
        tuple(responsive.CancelRun(way, 0.25, after, cancelled, 0) for way, after, cancelled in
              zip(responsive.CANCEL_WAYS, (0.25, 0.01, 0.3, 0.002), (False, True, False, True))),
        0.5, "forkserver")
    return delays, cancels


def test_figures_and_verdicts_from_results():
    delays, cancels = _fake_results()
    assert isinstance(figures.event_delays(delays), Figure)
    assert isinstance(figures.cancel_times(cancels), Figure)
    assert "could not be cancelled" in responsive.cancelling_verdict(cancels)
    one_cpu = responsive.Responsiveness(delays.runs, 0.01, 0.005, "forkserver", 1)
    assert "1 usable CPU" in responsive.responsiveness_verdict(one_cpu)


ALLOWED_SECONDS = r"seconds must be a number of seconds from"
BAD_INPUT_CASES = [
    pytest.param(lambda: responsive.responsiveness(seconds=0), ALLOWED_SECONDS, id="responsiveness-0s"),
    pytest.param(lambda: responsive.responsiveness(seconds=True), ALLOWED_SECONDS, id="responsiveness-True"),
    pytest.param(lambda: responsive.responsiveness(seconds=10**9), ALLOWED_SECONDS, id="responsiveness-huge"),
    pytest.param(lambda: responsive.responsiveness(seconds="1"), ALLOWED_SECONDS, id="responsiveness-str"),
    pytest.param(lambda: responsive.responsiveness(modes=[]), r"modes must be a non-empty list of main thread",
                 id="responsiveness-no-modes"),
    pytest.param(lambda: responsive.responsiveness(modes=["gpu"]), r"modes must be a non-empty list of main thread",
                 id="responsiveness-bad-mode"),
    pytest.param(lambda: responsive.cancelling(seconds=-1), ALLOWED_SECONDS, id="cancelling-negative"),
    pytest.param(lambda: responsive.cancelling(seconds=11), ALLOWED_SECONDS, id="cancelling-too-long"),
    pytest.param(lambda: responsive.start_job("main"), r"allowed: thread, process", id="job-main"),
    pytest.param(lambda: responsive.start_job("thread", seconds=0), ALLOWED_SECONDS, id="job-0s"),
    pytest.param(lambda: responsive.run_inline(seconds=60), ALLOWED_SECONDS, id="inline-60s"),
    pytest.param(lambda: responsive.crunch(2.5), r"iterations must be an integer from 1", id="crunch-float"),
    pytest.param(lambda: responsive.crunch(0), r"iterations must be an integer from 1", id="crunch-0"),
    pytest.param(lambda: responsive.crunch(10, steps=-1), r"steps must be an integer from 1", id="crunch-steps"),
    pytest.param(lambda: panels.responsive_panel(seconds=0), ALLOWED_SECONDS, id="panel-0s"),
    pytest.param(lambda: panels.responsive_panel(mode="gpu"), r"allowed: main thread, background thread, process",
                 id="panel-mode"),
]



def test_the_responsiveness_verdict_never_calls_a_longer_wait_shorter():
    def run(mode, worst):
        return responsive.ModeRun(mode, 1.0, (0.001, worst), 10, 10)
    freezing = {"main thread": run("main thread", 1.0), "background thread": run("background thread", 0.01)}
    said = responsive.responsiveness_verdict(responsive.Responsiveness(freezing, 0.01, 0.005, "forkserver", 2))
    assert "100× shorter" in said
    loaded = {"main thread": run("main thread", 0.02), "background thread": run("background thread", 0.05)}
    said = responsive.responsiveness_verdict(responsive.Responsiveness(loaded, 0.01, 0.005, "forkserver", 2))
    assert "2.5× longer" in said and "shorter" not in said
