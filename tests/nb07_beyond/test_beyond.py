"""Notebook 07: the runner on borrowed executors, Dask and joblib cleaned up, the ways past the GIL,
the map of the choices, the exercises and bad input."""
import asyncio
import concurrent.futures as cf
import logging
import os
import signal
import threading
import time
from types import SimpleNamespace

import psutil
import pytest

from helpers.core import probe, runner, shm, workloads
from helpers.nb07_beyond import beyond, figures, panels


def _interrupt_after(seconds: float) -> threading.Timer:
    """A real SIGINT to the main thread, as Jupyter's interrupt sends."""
    timer = threading.Timer(seconds, signal.pthread_kill,
                            args=(threading.main_thread().ident, signal.SIGINT))
    timer.start()
    return timer


def _listening_addresses(pids) -> set[str]:
    addresses = set()
    for pid in pids:
        for connection in psutil.Process(pid).net_connections(kind="inet"):
            if connection.status == psutil.CONN_LISTEN:
                addresses.add(connection.laddr.ip)
    return addresses


# --- the runner on an executor it does not own -----------------------------------------------


def test_run_on_a_borrowed_executor_records_spans_and_leaves_it_open(no_leftovers):
    with cf.ThreadPoolExecutor(3, thread_name_prefix="borrowed") as pool:
        result = runner.run_on(pool, "io", workers=3, name="borrowed threads", tasks=6,
                               units=0.5, repeats=2)
        assert (result.backend, result.workers, result.tasks) == ("borrowed threads", 3, 6)
        assert len(result.walls) == 2 and len(result.spans) == 6
        assert {span.worker for span in result.spans} <= {0, 1, 2}
        assert result.label == "borrowed threads (3 workers)"
        assert pool.submit(int, "7").result() == 7  # still open: its owner closes it


def test_run_on_timeout_drops_the_queued_tasks(no_leftovers):
    with cf.ThreadPoolExecutor(1, thread_name_prefix="borrowed") as pool:
        with pytest.raises(TimeoutError, match="did not finish before its timeout"):
            runner.run_on(pool, workloads.io, workers=1, name="slow", args=[0.2] * 20,
                          timeout=0.5)
        started = time.perf_counter()
    assert time.perf_counter() - started < 1.0  # the 18 or so queued waits were cancelled


# --- Dask ---------------------------------------------------------------------------------------


def test_dask_processes_listen_on_loopback_only_and_are_gone_after(no_leftovers):
    with beyond.dask_cluster(2) as client:
        pool = beyond.dask_executor(client)
        pids = {pool.submit(os.getpid).result() for _ in range(8)}
        assert len(pids) == 2 and os.getpid() not in pids  # two processes, not this one
        assert "2 worker(s)" in beyond.cluster_summary(client)
        assert _listening_addresses({os.getpid(), *pids}) <= {"127.0.0.1"}
    assert not any(psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
                   for pid in pids)


def test_dask_threads_run_in_this_process(no_leftovers):
    with beyond.dask_cluster(3, processes=False) as client:
        pool = beyond.dask_executor(client)
        result = runner.run_on(pool, "io", workers=3, name="dask threads", tasks=6, units=0.5)
    assert {span.pid for span in result.spans} == {os.getpid()}
    assert len({span.thread_id for span in result.spans}) <= 3


@pytest.mark.parametrize("processes", [True, False])
def test_closing_while_a_heartbeat_is_on_its_way_prints_nothing(processes, capfd, caplog,
                                                               no_leftovers):
    """The scheduler is made to answer heartbeats late, so one is surely in flight at close.
    Worker processes would print to stderr; in-process workers log here, where caplog sees it."""
    with beyond.dask_cluster(2, processes=processes) as client:
        scheduler = client.cluster.scheduler
        answer = scheduler.handlers["heartbeat_worker"]

        async def late(*args, **kwargs):
            await asyncio.sleep(1.0)
            return answer(*args, **kwargs)

        scheduler.handlers["heartbeat_worker"] = late
        time.sleep(1.5)
    assert capfd.readouterr().err == ""
    assert not [r for r in caplog.records if r.getMessage().startswith(probe.HEARTBEAT_RACE)]
    assert logging.getLogger(probe.DASK_WORKER_LOG).filters == []  # taken off the kernel again


@pytest.mark.parametrize("after", [0.4, 2.5])  # while the workers start; while they work
def test_an_interrupt_leaves_no_dask_process(after, no_leftovers):
    timer = _interrupt_after(after)
    try:
        with pytest.raises(KeyboardInterrupt):
            with beyond.dask_cluster(2) as client:
                runner.run_on(beyond.dask_executor(client), "io", workers=2, name="dask",
                              tasks=400, units=5)
    finally:
        timer.cancel()
    deadline = time.monotonic() + 5
    while runner.worker_processes() and time.monotonic() < deadline:
        time.sleep(0.1)


# --- joblib -------------------------------------------------------------------------------------


def test_joblib_runs_a_function_defined_here_and_shuts_its_workers_down(no_leftovers):
    from joblib import delayed

    def defined_in_this_test(n):  # a local function: only cloudpickle can send it
        return n * n

    before = _shm_entries()
    with beyond.joblib_parallel(2) as parallel:
        assert parallel(delayed(defined_in_this_test)(n) for n in range(5)) == [0, 1, 4, 9, 16]
        assert len(runner.worker_processes()) >= 2
    assert _shm_entries() <= before  # joblib's temporary folders went with the block


def _shm_entries() -> set[str]:
    """What this process put in /dev/shm: the lab's segments and joblib's memmapping folders
    (both carry the pid; other processes, such as parallel test workers, may add their own)."""
    if not os.path.isdir("/dev/shm"):
        return set()
    joblib = {name for name in os.listdir("/dev/shm")
              if name.startswith(f"joblib_memmapping_folder_{os.getpid()}_")}
    return shm.made_by(os.getpid()) | joblib


# --- the comparison -----------------------------------------------------------------------------


def test_compare_engines_shape_progress_and_verdicts(no_leftovers):
    seen = []
    result = beyond.compare_engines(tasks=4, units=0.5, repeats=1,
                                    progress=lambda done, total: seen.append((done, total)))
    assert [run.engine for run in result.runs] == list(beyond.ENGINES)
    assert seen[-1] == (6, 6)
    for run in result.runs:
        assert run.start_seconds > 0 and run.per_task_seconds > 0
        assert set(run.walls) == {"cpu", "io"}
        assert all(result.speedup(run.engine, kind) > 0 for kind in ("cpu", "io"))
    text = beyond.engines_verdict(result)
    assert all(f"{name}: started in" in text for name in beyond.ENGINES)
    assert "Per task" in text
    assert "joblib handed out an empty task" in beyond.joblib_verdict(result)
    figures.engines(result)
    rows = beyond.choices(result, [beyond.subinterpreters(), beyond.free_threading()])
    assert [row.option for row in rows] == ["threads", "processes", "asyncio", "subinterpreters",
                                            "free-threading", "joblib", "Dask"]
    table = beyond.choices_markdown(rows)
    assert table.count("\n") == len(rows) + 1 and "per task" in table


@pytest.mark.timing   # beside other test workers a repeat once took twice as long: 1.20×
def test_io_on_two_dask_threads_beats_sequential(no_leftovers):
    """Loose: two waits at once take clearly less than two in a row, even on a busy machine."""
    result = beyond.trial("dask threads", "io", workers=2, tasks=8)
    assert result.speedup("dask threads", "io") > 1.3


# --- beyond the GIL -----------------------------------------------------------------------------


class FakeInterpreters:
    """Stands in for concurrent.interpreters: each "interpreter" runs code in a namespace of
    its own, in the calling thread (so the GIL still applies: only the plumbing is tested)."""

    def __init__(self):
        self.made = []

    def create(self):
        interpreter = FakeInterpreter()
        self.made.append(interpreter)
        return interpreter


class FakeInterpreter:
    def __init__(self):
        self.namespace, self.runs, self.closed = {}, 0, False

    def exec(self, code: str) -> None:
        exec(code, self.namespace)
        self.runs += 1

    def close(self) -> None:
        self.closed = True


def test_subinterpreters_share_the_tasks_and_close_every_interpreter(no_leftovers):
    fake = FakeInterpreters()
    result = beyond.subinterpreters(workers=2, tasks=5, units=0.5, interpreters=fake)
    assert result.available and set(result.walls) == {"sequential", "threads", "subinterpreters"}
    assert len(fake.made) == 2 and all(i.closed for i in fake.made)
    assert sum(i.runs for i in fake.made) == 2 + 5  # one set-up each, then the five tasks
    assert "subinterpreters" in beyond.beyond_verdict(result)
    figures.beyond_gil([result])


def test_a_failing_subinterpreter_is_reported_and_closed(no_leftovers):
    fake = FakeInterpreters()
    original = FakeInterpreter.exec

    def exec_failing(self, code):
        if code.startswith("cpu("):
            raise RuntimeError("no room")
        original(self, code)

    FakeInterpreter.exec = exec_failing
    try:
        with pytest.raises(RuntimeError, match="a subinterpreter failed"):
            beyond.subinterpreters(workers=2, tasks=2, units=0.5, interpreters=fake)
    finally:
        FakeInterpreter.exec = original
    assert all(i.closed for i in fake.made)


@pytest.mark.skipif(beyond.interpreters_offered()[0], reason="this Python has subinterpreters")
def test_without_subinterpreters_nothing_is_measured():
    result = beyond.subinterpreters()
    assert not result.available and result.walls == {}
    text = beyond.beyond_verdict(result)
    assert "not here" in text and "3.14" in text and "×" not in text


def test_free_threading_runs_threads_where_offered_and_explains_where_not(no_leftovers):
    result = beyond.free_threading(workers=2, tasks=4, units=0.5,
                                   offered=lambda: (True, "pretend"))
    assert result.available and set(result.walls) == {"sequential", "threads"}
    assert "threads" in beyond.beyond_verdict(result)
    missing = beyond.free_threading(offered=lambda: (False, "built with the GIL"))
    assert not missing.available and "×" not in beyond.beyond_verdict(missing)
    assert "not here: built with the GIL" in beyond._beyond_cost(missing)
    figures.beyond_gil([result, missing])


# --- exercises and the panel -----------------------------------------------------------------------


def test_check_joblib_map(no_leftovers):
    from joblib import Parallel, delayed

    before = _shm_entries()
    assert beyond.check_joblib_map(lambda sizes: None).startswith("Not yet")
    assert beyond.check_joblib_map(lambda sizes: sizes).startswith("Not quite")
    assert beyond.check_joblib_map(lambda sizes: 1 / 0).startswith("Not yet: my_map raised")
    right = beyond.check_joblib_map(
        lambda sizes: Parallel(n_jobs=2)(delayed(workloads.cpu)(n) for n in sizes))
    assert right.startswith("Right")
    assert _shm_entries() <= before


def test_check_cheapest():
    runs = tuple(beyond.EngineRun(name, 2, 0.1, cost, {}) for name, cost in
                 (("lab threads", 1e-5), ("dask processes", 1e-3)))
    result = beyond.Engines(2, 1.0, 2, 2, {}, runs)
    assert beyond.check_cheapest("lab threads", result).startswith("Right")
    assert beyond.check_cheapest("dask processes", result).startswith("Not this time")
    assert beyond.check_cheapest(None, result).startswith("Not yet")


def test_engines_panel_runs_one_engine(no_leftovers):
    panel = panels.engines_panel("lab threads")
    panel.controls["kind"].value, panel.controls["tasks"].value = "io", 4
    panel.start()
    panel.wait(60)
    assert panel.status.value == "done", panel.status.value
    assert len(panel.output.outputs) == 2


BAD_INPUT_CASES = [
    pytest.param(lambda: beyond.compare_engines(engines=["spark"]), "allowed: lab threads",
                 id="beyond-engine-unknown"),
    pytest.param(lambda: beyond.compare_engines(engines="dask threads"), "must be a non-empty list",
                 id="beyond-engines-str"),
    pytest.param(lambda: beyond.compare_engines(engines=[]), "must be a non-empty list",
                 id="beyond-engines-empty"),
    pytest.param(lambda: beyond.compare_engines(kinds=["gil_free"]), "allowed: cpu, io",
                 id="beyond-kind"),
    *(pytest.param(lambda v=v: beyond.compare_engines(workers=v), "workers must be an integer from 1",
                   id=f"beyond-workers-{v!r}") for v in (0, -1, 10**9, 2.5, True)),
    *(pytest.param(lambda v=v: beyond.compare_engines(tasks=v), "tasks must be an integer from 1 to 400",
                   id=f"beyond-tasks-{v!r}") for v in (0, 10**9, 2.5)),
    *(pytest.param(lambda v=v: beyond.compare_engines(units=v), "units must be a number from 0.1 to 20",
                   id=f"beyond-units-{v!r}") for v in (0, -1, 10**9, True)),
    pytest.param(lambda: beyond.compare_engines(repeats=0), "repeats must be an integer from 1 to 10",
                 id="beyond-repeats"),
    pytest.param(lambda: beyond.trial(engine="spark"), "allowed: lab threads", id="beyond-trial-engine"),
    pytest.param(lambda: beyond.subinterpreters(workers=0), "workers must be an integer from 1",
                 id="beyond-subinterpreters-workers"),
    pytest.param(lambda: beyond.free_threading(tasks=0), "tasks must be an integer from 1",
                 id="beyond-free-threading-tasks"),
    pytest.param(lambda: beyond.free_threading(units=100), "units must be a number",
                 id="beyond-free-threading-units"),
    pytest.param(lambda: beyond.dask_cluster(0).__enter__(), "workers must be an integer from 1",
                 id="beyond-dask-workers"),
    pytest.param(lambda: beyond.joblib_parallel(0).__enter__(), "workers must be an integer from 1",
                 id="beyond-joblib-workers"),
    pytest.param(lambda: runner.run_on(None, "io", workers=0, name="x", tasks=1),
                 "workers must be an integer from 1", id="run-on-workers"),
    pytest.param(lambda: runner.run_on(None, "io", workers=1, name="", tasks=1),
                 "name must be a non-empty string", id="run-on-name"),
    pytest.param(lambda: panels.engines_panel("spark"), "allowed: lab threads", id="engines-panel"),
]


@pytest.mark.parametrize("processes", [True, False])
def test_a_second_cluster_warns_of_no_taken_port_and_serves_http_on_loopback(processes,
                                                                             no_leftovers):
    """Dask's scheduler serves /health on 8787 even without a dashboard: with that port taken
    (another cluster, another notebook) it warned on stderr, and it listened on every interface."""
    import socket
    import warnings

    with socket.socket() as taken, warnings.catch_warnings(record=True) as seen:
        taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            taken.bind(("0.0.0.0", 8787))
            taken.listen()
        except OSError:   # already taken by someone else: just as good for this test
            pass
        warnings.simplefilter("always")
        with beyond.dask_cluster(1, processes=processes) as client:
            address = client.run_on_scheduler(lambda dask_scheduler: dask_scheduler.http_server.address)
    assert address == "127.0.0.1"
    assert not [w for w in seen if "already in use" in str(w.message)]


@pytest.mark.parametrize("joblib_seconds, words", [(0.0001, "about as cheap as the lab's"),
                                                   (0.0003, "3.0× dearer than the lab's"),
                                                   (0.00005, "2.0× cheaper than the lab's")])
def test_the_joblib_verdict_words_its_ratio_in_good_english(joblib_seconds, words, monkeypatch):
    result = SimpleNamespace(kinds=("cpu",), speedup=lambda name, kind: 1.0,
                             run=lambda name: SimpleNamespace(
                                 per_task_seconds=joblib_seconds if name.startswith("joblib") else 0.0001))
    assert words in beyond.joblib_verdict(result).headline
