import math
import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time
import warnings
from pathlib import Path

import pytest

from helpers.core import runner

ROOT = Path(__file__).resolve().parents[2]
METHODS = [m for m in ("fork", "forkserver", "spawn") if m in __import__("multiprocessing").get_all_start_methods()]


def lab_threads():
    return [t for t in threading.enumerate() if t.name.startswith("lab-worker")]


@pytest.fixture(autouse=True)
def nothing_left_behind():
    yield
    deadline = time.monotonic() + 1  # reaping takes a moment; a forgotten pool takes seconds
    while (runner.worker_processes() or lab_threads()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert runner.worker_processes() == []
    assert lab_threads() == []


def test_threads_record_one_span_per_task_on_each_worker():
    result = runner.run("io", backend="threads", workers=3, tasks=9, units=0.5)
    assert len(result.spans) == result.tasks == 9
    assert sorted(s.task for s in result.spans) == list(range(9))
    assert {s.worker for s in result.spans} <= {0, 1, 2}
    assert {s.pid for s in result.spans} == {os.getpid()}
    assert all(0 <= s.start <= s.end <= result.wall + 0.05 for s in result.spans)


@pytest.mark.parametrize("method", METHODS)
def test_processes_run_in_separate_pids_under_each_start_method(method):
    result = runner.run("cpu", backend="processes", workers=2, tasks=6, units=0.2, start_method=method)
    pids = {s.pid for s in result.spans}
    assert os.getpid() not in pids and 1 <= len(pids) <= 2
    assert result.start_method == method and result.label == f"2 processes ({method})"
    assert all(s.cpu_time > 0 for s in result.spans)


@pytest.mark.parametrize("method", METHODS)
def test_blas_is_limited_to_one_thread_inside_process_workers(method):
    result = runner.run(runner.blas_threads, args=[0, 1], backend="processes", workers=2, start_method=method)
    assert set(result.results) <= {0, 1}


def test_blas_is_limited_to_one_thread_inside_thread_workers():
    result = runner.run(runner.blas_threads, args=[0], backend="threads", workers=1)
    assert set(result.results) <= {0, 1}


def test_sequential_runs_in_this_thread():
    result = runner.run("cpu", backend="sequential", tasks=3, units=0.1)
    assert {(s.pid, s.thread_id, s.worker) for s in result.spans} == {(os.getpid(), threading.get_ident(), 0)}
    assert result.start_method is None


def test_repeats_keep_every_wall_time_and_the_median_spans():
    result = runner.run("io", backend="threads", workers=2, tasks=4, units=0.2, repeats=3)
    assert len(result.walls) == 3
    assert result.fastest <= result.median <= result.slowest
    assert result.wall in result.walls


def test_a_callable_with_arguments_returns_its_results_in_order():
    result = runner.run(math.factorial, backend="processes", workers=2, args=[3, 4, 5], start_method="spawn")
    assert result.results == (6, 24, 120)
    assert result.work == "factorial"


def test_progress_counts_every_task_of_every_repeat():
    seen = []
    runner.run("io", backend="threads", workers=2, tasks=4, units=0.1, repeats=2,
               progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (8, 8) and [d for d, _ in seen] == list(range(1, 9))


def test_sweep_has_a_baseline_and_a_point_per_worker_count():
    progress = []
    sweep = runner.sweep("io", workers=[1, 2], tasks=4, units=0.2, repeats=2,
                         progress=lambda done, total: progress.append((done, total)))
    assert sweep.baseline.backend == "sequential"
    for backend in ("threads", "processes"):
        points = sweep.points(backend)
        assert [p.workers for p in points] == [1, 2]
        assert all(p.low <= p.speedup <= p.high for p in points)
        assert all(p.efficiency == pytest.approx(p.speedup / min(p.workers, sweep.usable_cpus)) for p in points)
    assert progress[-1] == (4 * 2 * 5, 4 * 2 * 5)
    assert [d for d, _ in progress] == sorted(d for d, _ in progress)


@pytest.mark.parametrize("kwargs, message", [
    (dict(workers=0), "workers for threads must be an integer from 1 to 256"),
    (dict(workers=-3), "from 1 to"),
    (dict(workers=10_000), "from 1 to 256"),
    (dict(workers=2.5), "integer"),
    (dict(workers=True), "integer"),
    (dict(backend="processes", workers=10_000), "workers for processes must be an integer from 1 to"),
    (dict(backend="sequential", workers=2), "from 1 to 1"),
    (dict(backend="gpu"), "unknown backend 'gpu'; allowed: sequential, threads, processes"),
    (dict(work="gpu"), "unknown task kind 'gpu'; allowed: cpu, gil_free, io"),
    (dict(work=42), "work must be a task kind"),
    (dict(tasks=0), "tasks must be a positive integer"),
    (dict(tasks=None), "tasks must be a positive integer"),
    (dict(repeats=0), "repeats must be a positive integer"),
    (dict(timeout=0), "timeout must be a positive number"),
    (dict(units=-1), "units must be > 0"),
    (dict(backend="processes", start_method="teleport"), "unknown start method 'teleport'; allowed:"),
    (dict(work=lambda x: x, args=[1], tasks=None, backend="processes", start_method="fork"), "cannot be pickled"),
    (dict(args=[1]), "args is only for a callable"),
])
def test_bad_input_raises_value_error_naming_what_is_allowed(kwargs, message):
    call = dict(work="io", backend="threads", workers=2, tasks=2)
    call.update(kwargs)
    work = call.pop("work")
    with pytest.raises(ValueError, match=message):
        runner.run(work, **call)


def test_a_function_from_main_is_refused_for_spawn():
    def notebook_function(x):
        return x
    notebook_function.__module__ = "__main__"
    with pytest.raises(ValueError, match="defined in the notebook"):
        runner.run(notebook_function, args=[1], backend="processes", workers=1, start_method="spawn")


@pytest.mark.parametrize("method", METHODS)
def test_timeout_stops_the_run_and_terminates_children(method):
    started = time.perf_counter()
    with pytest.raises(TimeoutError):
        runner.run("cpu", backend="processes", workers=2, tasks=4, units=500, timeout=1.5, start_method=method)
    assert time.perf_counter() - started < 10


@pytest.mark.parametrize("backend", ["threads", "processes"])
def test_keyboard_interrupt_mid_run_leaves_nothing_behind(backend):
    def interrupt(done, total):
        raise KeyboardInterrupt

    units = 0.5 if backend == "threads" else 100  # a running thread cannot be stopped; a process can
    with pytest.raises(KeyboardInterrupt):
        runner.run("cpu", backend=backend, workers=2, tasks=40, units=units, progress=interrupt)
    # the autouse fixture asserts that no child process and no worker thread is left


def test_an_error_in_a_task_reaches_the_caller_and_the_pool_is_cleaned_up():
    with pytest.raises(TypeError):
        runner.run(math.factorial, args=[3, "x"], backend="processes", workers=2, start_method="spawn")


def test_a_real_sigint_during_a_run_leaves_no_child_process():
    script = (
        "from helpers.core import runner\n"
        "print('started', flush=True)\n"
        "try:\n"
        "    runner.run('cpu', backend='processes', workers=2, tasks=3000, units=1.0)\n"
        "    print('finished before the interrupt', flush=True)\n"
        "except KeyboardInterrupt:\n"
        "    print('left', len(runner.worker_processes()), flush=True)\n"
    )
    child = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "started"
    time.sleep(1.5)  # well inside the run: pool up, tasks running
    child.send_signal(signal.SIGINT)
    out, _ = child.communicate(timeout=30)
    assert out.strip() == "left 0"


def test_lab_threads_and_join_thread_see_through_an_interrupted_join(no_leftovers):
    """On CPython 3.11 a Ctrl+C inside Thread.join marks the thread stopped while it runs on;
    lab_threads still lists it and join_thread still waits for it."""
    release = threading.Event()
    thread = threading.Thread(target=release.wait, args=(10,), name="lab-sleeper")
    thread.start()
    previous = signal.signal(signal.SIGALRM, _raise_keyboard_interrupt)
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.1)
        with pytest.raises(KeyboardInterrupt):
            thread.join()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert runner.lab_threads() == ["lab-sleeper"]
    assert runner.join_thread(thread, timeout=0.2) is False
    threading.Timer(0.2, release.set).start()
    assert runner.join_thread(thread, timeout=5) is True
    assert runner.lab_threads() == []


def _raise_keyboard_interrupt(signum, frame):
    raise KeyboardInterrupt


def notebook_square(x):
    return x * x


def test_a_main_function_fails_fast_under_spawn_and_works_under_fork(monkeypatch):
    monkeypatch.setattr(sys.modules["__main__"], "notebook_square", notebook_square, raising=False)
    notebook_square.__module__ = "__main__"  # as if typed into a notebook cell
    try:
        said = runner.send_to_pool(notebook_square, "spawn")
        assert "BrokenProcessPool" in said and "notebook_square" in said
        if "fork" in multiprocessing.get_all_start_methods():
            assert runner.send_to_pool(notebook_square, "fork") == "fork: it worked, fn(3) = 9"
    finally:
        notebook_square.__module__ = __name__
    with pytest.raises(ValueError, match="unknown start method"):
        runner.send_to_pool(notebook_square, "teleport")
    assert "could not even be sent" in runner.send_to_pool(lambda x: x, "spawn")


# --- CPython 3.12+'s fork-with-threads DeprecationWarning ------------------------------------------

FORK_WARNING_TEXT = ("This process (pid=1) is multi-threaded, use of fork() may lead to deadlocks "
                     "in the child.")
BARE_FORK = "a bare fork start"
# The lab's own fork starts, from the runner and from the notebooks' helpers. Each runs in a
# process that has an extra thread, as a kernel always has.
LAB_FORK_STARTS = {
    "runner.run": "runner.run('cpu', backend='processes', workers=2, tasks=2, units=0.01, "
                  "start_method='fork')",
    "runner.open_pool": "with runner.open_pool('processes', 2, 'fork') as pool: pool.submit(abs, -1).result()",
    "spawning.process_start": "spawning.process_start('fork')",
    "spawning.pool_round": "spawning.pool_round('fork', 2)",
    "runner.send_to_pool": "runner.send_to_pool(abs, 'fork')",
    "spawning.killing": "spawning.killing('fork', stubborn_seconds=0.05)",
    "sharing.transfers": "sharing.transfers(largest=1024, method='fork')",
    "sharing.shared_state": "sharing.shared_state(scale=0.01, method='fork')",
    "sharing.pipeline": "sharing.pipeline(items=10, method='fork')",
    "races.process_counters": "races.process_counters(processes=2, increments=100, method='fork')",
    "gil.convoy_once": "gil.convoy_once(hogs=1, backend='processes')",   # the lab's start method
    "responsive.responsiveness": "responsive.responsiveness(seconds=0.2, modes=('process',))",
    "responsive.cancelling": "responsive.cancelling(seconds=0.2)",
    # the exercise checkers run a learner's fork starts (the notebooks' solutions) the same way
    "gil.check_parallel": "gil.check_parallel(solution_run_all, limits=[1000, 2000])",
    "sharing.check_child_write": "sharing.check_child_write(solution_share_with_child)",
    BARE_FORK: "child = multiprocessing.get_context('fork').Process(target=abs, args=(-1,)); "
               "child.start(); child.join()",
}
FORK_SCRIPT = """
import concurrent.futures, multiprocessing, sys, threading
from helpers.core import runner, shm
from helpers.nb01_gil import gil
from helpers.nb02_process_cost import spawning
from helpers.nb03_sharing_data import sharing
from helpers.nb04_races import races
from helpers.nb05_case_studies import responsive

def solution_run_all(limits):
    with concurrent.futures.ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("fork")) as pool:
        return list(pool.map(gil.count_primes, limits))

def solution_share_with_child(values):
    with shm.shared_array(values.shape) as shared:
        shared.array[:] = values
        child = multiprocessing.get_context("fork").Process(target=sharing.double_in_place,
                                                            args=(shared.segment,))
        child.start()
        child.join()
        return shared.array.copy()

stop = threading.Event()
threading.Thread(target=stop.wait, daemon=True).start()
for name, call in {starts!r}.items():
    print(f"--- {{name}}", file=sys.stderr, flush=True)
    exec(call)
stop.set()
"""


def stderr_by_start(stderr: str) -> dict[str, str]:
    """The script's stderr cut at its '--- name' lines: what each start printed."""
    parts = stderr.split("--- ")[1:]
    return dict(part.partition("\n")[::2] for part in parts)


@pytest.mark.skipif(sys.version_info < (3, 12), reason="CPython warns about fork() in a "
                    "multi-threaded process from 3.12")
@pytest.mark.skipif("fork" not in METHODS, reason="needs the fork start method")
def test_the_labs_fork_starts_keep_the_fork_with_threads_warning_off_stderr():
    # -W always shows every DeprecationWarning, as PYTHONWARNINGS=default or -X dev do in a kernel
    # (and does not fold repeats); the bare start is the control: there the warning must show.
    script = FORK_SCRIPT.format(starts=LAB_FORK_STARTS)
    done = subprocess.run([sys.executable, "-W", "always::DeprecationWarning", "-c", script],
                          cwd=ROOT, env={**os.environ, "LAB_START_METHOD": "fork"},
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    printed = stderr_by_start(done.stderr)
    assert list(printed) == list(LAB_FORK_STARTS)
    warned = [name for name, text in printed.items() if "is multi-threaded, use of fork()" in text]
    assert warned == [BARE_FORK], done.stderr


def test_hiding_the_fork_warning_hides_no_other_warning_and_ends_with_the_block():
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        with runner.fork_warning_hidden():
            warnings.warn(FORK_WARNING_TEXT, DeprecationWarning)
            warnings.warn("something else is deprecated", DeprecationWarning)
            warnings.warn(FORK_WARNING_TEXT, UserWarning)
        warnings.warn(FORK_WARNING_TEXT, DeprecationWarning)
    assert [(w.category, str(w.message)) for w in seen] == [
        (DeprecationWarning, "something else is deprecated"),
        (UserWarning, FORK_WARNING_TEXT),
        (DeprecationWarning, FORK_WARNING_TEXT),
    ]
