"""Notebook 06, bring your own function: loading, bad functions, recommendations, cleanup."""
import os
import pathlib
import re
import time

import pytest

from helpers.core import machine, workloads
from helpers.nb06_choosing import advisor, figures, panels

USABLE = machine.usable_cpus().value

BAD_FUNCTIONS = '''
import os
import threading
import time


def raises(x):
    raise KeyError(f"no such thing: {x}")


def unpicklable(x):
    return threading.Lock()


def slow(x):
    time.sleep(30)
    return x


def dies(x):
    os._exit(3)


def waits(x):
    time.sleep(0.01)
    return x


def square(x):
    return x * x
'''


@pytest.fixture(autouse=True)
def nothing_left_behind(no_leftovers):
    yield


@pytest.fixture
def module_file(tmp_path) -> pathlib.Path:
    path = tmp_path / "my_task.py"
    path.write_text(BAD_FUNCTIONS)
    return path


def test_load_reads_the_file_afresh(module_file):
    assert advisor.load(str(module_file), "square").function(3) == 9
    module_file.write_text("def square(x):\n    return -x\n")
    os.utime(module_file, (time.time() + 5, time.time() + 5))  # a new mtime even within 1 s
    assert advisor.load(str(module_file), "square").function(3) == -3


def test_a_file_named_like_a_standard_module_does_not_replace_it(tmp_path):
    import random

    path = tmp_path / "random.py"
    path.write_text("def work(x):\n    return x + 1\n")
    assert advisor.load(str(path), "work").function(1) == 2
    import sys
    assert sys.modules["random"] is random


def test_a_function_from_the_file_runs_in_every_backend(module_file):
    result = advisor.advise(advisor.load(str(module_file), "square"), [1, 2, 3], repeats=1)
    assert result.problem is None, result.problem
    assert set(result.speedups) == {"threads", "processes"}
    assert result.choice in advisor.CHOICES
    assert result.result_bytes > 0 and result.argument_bytes > 0


@pytest.mark.parametrize("name, message", [
    ("raises", r"raised KeyError: 'no such thing: 1'.*argument number 1"),
    ("unpicklable", r"result \(a lock\) cannot be pickled"),
    ("slow", r"Too slow: one call \(1\) did not finish within 0.5 s"),
    ("dies", r"child process died"),
])
def test_bad_functions_get_a_message_and_leave_nothing(module_file, name, message):
    started = time.perf_counter()
    result = advisor.advise(advisor.load(str(module_file), name), [1, 2], call_timeout=0.5)
    assert result.choice is None
    assert result.speedups == {}
    assert pytest.approx(0) == result.call_seconds
    assert re.search(message, result.problem), result.problem
    assert advisor.verdict(result).startswith("No advice")
    assert time.perf_counter() - started < 15


def test_the_budget_bounds_all_calls(module_file):
    result = advisor.advise(advisor.load(str(module_file), "waits"), [1] * 200, budget=0.5)
    assert "budget of 0.5 s" in result.problem


def test_unpicklable_argument_is_refused_before_any_process(module_file):
    result = advisor.advise(advisor.load(str(module_file), "square"), [lambda: 1])
    assert "Argument number 1" in result.problem


def notebook_function(x):
    return x


notebook_function.__module__ = "__main__"


def test_functions_a_child_cannot_find_are_refused_with_the_fix():
    with pytest.raises(ValueError, match=r"__main__.*%%writefile"):
        advisor.load(notebook_function)
    with pytest.raises(ValueError, match=r"lambda.*%%writefile"):
        advisor.load(lambda x: x)
    assert advisor.load(advisor.call).source == "helpers.nb06_choosing.advisor"


@pytest.mark.timing   # beside other test workers, 4 threads once "beat" 2 processes on cpu: 2.6×
@pytest.mark.parametrize("kind", ["cpu", "gil_free", "io"])
def test_built_in_kinds_get_notebook_01s_answer(kind):
    """Categorical: how each kind spends a call, and the backend notebook 01 found for it.
    A machine too busy to run anything in parallel (other jobs on every core) may give no
    speedup at all; then the advice must be sequential, and say so from the numbers."""
    task, arguments = advisor.builtin(kind, tasks=16 if kind == "io" else 8)
    result = advisor.advise(task, arguments)
    assert result.problem is None, result.problem
    said = advisor.verdict(result)
    assert "On this machine" in said
    best = max(result.best("threads")[1], result.best("processes")[1])
    if kind == "io":
        assert result.waits and result.choice == "threads", said
        return
    assert not result.waits, said
    if advisor._queued_seconds() is not None:  # Linux: the GIL probe ignores a busy machine
        assert result.holds_gil == (kind == "cpu"), said
    if USABLE == 1 or best < advisor.WORTH_IT:
        assert result.choice == "sequential", said
    elif kind == "cpu":
        assert result.choice == "processes", said
    else:
        assert result.choice in ("threads", "processes"), said


def test_recommendation_rules():
    base = dict(task="f", arguments=8, usable_cpus=2, gil_enabled=True, choice=None,
                call_seconds=0.01, cpu_share=1.0, gil_held_share=1.0)
    held = advisor.Advice(**base, speedups={"threads": {2: 1.0}, "processes": {2: 1.9}})
    assert advisor._recommend(held)[0] == "processes"
    free = advisor.Advice(**{**base, "gil_held_share": 0.0},
                          speedups={"threads": {2: 1.85}, "processes": {2: 1.9}})
    assert advisor._recommend(free)[0] == "threads"  # as fast, and cheaper
    alone = advisor.Advice(**{**base, "usable_cpus": 1},
                           speedups={"threads": {1: 1.0}, "processes": {1: 0.95}})
    choice, reasons = advisor._recommend(alone)
    assert choice == "sequential" and "one usable CPU" in reasons[-1]
    waiting = advisor.Advice(**{**base, "cpu_share": 0.01, "gil_held_share": 0.0},
                             speedups={"threads": {32: 25.0}, "processes": {2: 2.0}})
    choice, reasons = advisor._recommend(waiting)
    assert choice == "threads" and "asyncio" in reasons[-1]


def test_worker_counts_go_past_the_cores_only_for_waiting_calls():
    assert advisor.worker_counts(False, 2, 16) == {"threads": [2, 4], "processes": [2]}
    assert advisor.worker_counts(True, 2, 16)["processes"] == [2, 4]
    assert advisor.worker_counts(True, 2, 16)["threads"] == [2, 4, 8, 16]
    assert advisor.worker_counts(False, 4, 3) == {"threads": [3], "processes": [3]}


def test_the_figure_draws_advice_and_problems():
    result = advisor.Advice("f", 8, 2, True, "processes", call_seconds=0.01, cpu_share=1.0,
                            gil_held_share=0.9, argument_bytes=40, result_bytes=20,
                            speedups={"threads": {2: 1.0, 4: 1.0}, "processes": {2: 1.9, 4: 1.9}})
    assert figures.advice(result).axes
    assert figures.advice(advisor.Advice("f", 1, 2, True, None, problem="it raised")).axes


def test_exercise_checker(module_file):
    assert advisor.check_threads_task(str(module_file), "waits", [1] * 8).startswith("Right")
    assert advisor.check_threads_task(str(module_file), "nothing", [1]).startswith("Not yet")
    assert advisor.check_threads_task(str(module_file), "raises", [1]).startswith("Not yet")


def _task():
    return advisor.builtin("io", tasks=2)[0]


BAD_INPUT_CASES = [
    pytest.param(lambda: advisor.load("no_such_file.py", "f"), r"no file 'no_such_file.py'",
                 id="load-missing-file"),
    pytest.param(lambda: advisor.load("notes.txt", "f"), r"\.py file", id="load-not-py"),
    pytest.param(lambda: advisor.load(42), r"\.py file", id="load-number"),
    pytest.param(lambda: advisor.load(workloads.__file__, "no_such_function"),
                 r"has no function 'no_such_function'; it defines: .*gil_free", id="load-no-name"),
    pytest.param(lambda: advisor.load(advisor.__file__, "2x"), r"name must be", id="load-bad-name"),
    pytest.param(lambda: advisor.builtin("gpu"), r"allowed: cpu, gil_free, io", id="builtin-kind"),
    pytest.param(lambda: advisor.builtin("cpu", tasks=0), r"tasks must be an integer from 1",
                 id="builtin-tasks-0"),
    pytest.param(lambda: advisor.builtin("cpu", tasks=2.5), r"tasks must be an integer from 1",
                 id="builtin-tasks-float"),
    pytest.param(lambda: advisor.builtin("cpu", tasks=True), r"tasks must be an integer from 1",
                 id="builtin-tasks-bool"),
    pytest.param(lambda: advisor.advise(_task(), []), r"from 1 to 256 arguments",
                 id="advise-no-arguments"),
    pytest.param(lambda: advisor.advise(_task(), [1] * 10**4), r"from 1 to 256 arguments",
                 id="advise-too-many"),
    pytest.param(lambda: advisor.advise(_task(), 5), r"list of arguments", id="advise-not-list"),
    pytest.param(lambda: advisor.advise(_task(), "abc"), r"list of arguments", id="advise-str"),
    pytest.param(lambda: advisor.advise(_task(), [1], call_timeout=0), r"call_timeout must be",
                 id="advise-timeout-0"),
    pytest.param(lambda: advisor.advise(_task(), [1], call_timeout=-1), r"call_timeout must be",
                 id="advise-timeout-negative"),
    pytest.param(lambda: advisor.advise(_task(), [1], call_timeout=True), r"call_timeout must be",
                 id="advise-timeout-bool"),
    pytest.param(lambda: advisor.advise(_task(), [1], budget=10**9), r"budget must be",
                 id="advise-budget-huge"),
    pytest.param(lambda: advisor.advise(_task(), [1], repeats=0), r"repeats must be an integer",
                 id="advise-repeats-0"),
    pytest.param(lambda: advisor.advise(_task(), [1], repeats=2.5), r"repeats must be an integer",
                 id="advise-repeats-float"),
    pytest.param(lambda: advisor.advise(lambda x: x, [1]), r"lambda", id="advise-lambda"),
]


def test_panel_shows_the_advice():

    panel = panels.advisor_panel("io")
    panel.controls["units"].value = 0.5
    panel.start()
    panel.wait(60)
    assert panel.last_error is None and panel.status.value == "done"
    assert "use threads" in "".join(o.get("text", "") for o in panel.output.outputs)


BAD_INPUT_CASES += [
    pytest.param(lambda: advisor.advise_builtin("gpu"), r"allowed: cpu, gil_free, io",
                 id="advise_builtin-kind"),
    pytest.param(lambda: advisor.advise_builtin("cpu", units=0), r"units must be > 0",
                 id="advise_builtin-units-0"),
    pytest.param(lambda: advisor.advise_builtin("cpu", units=10**9), r"units must be > 0",
                 id="advise_builtin-units-huge"),
    pytest.param(lambda: advisor.advise_builtin("cpu", tasks=-1), r"tasks must be an integer",
                 id="advise_builtin-tasks-negative"),
]


def test_a_call_that_fails_only_in_a_thread_is_reported_at_once(module_file):
    module_file.write_text(
        "import threading\n\n\ndef picky(x):\n"
        "    if threading.current_thread().name.startswith('lab-advisor'):\n"
        "        raise RuntimeError('not in a thread')\n    return x\n")
    started = time.perf_counter()
    result = advisor.advise(advisor.load(str(module_file), "picky"), [1, 2])
    assert "RuntimeError: not in a thread in a thread of this kernel" in result.problem
    assert time.perf_counter() - started < 10



# --- other platforms (simulated: the lab is tested on Linux) -------------------------------------


def test_without_schedstat_one_cpu_says_the_gil_share_cannot_be_told_apart(monkeypatch, tmp_path):
    """Only Linux says how long a thread waited for a busy CPU (schedstat). Elsewhere the
    queued time is unknown, and with one CPU the advice says what that leaves unclear."""
    monkeypatch.setattr(advisor, "SCHEDSTAT", str(tmp_path / "no-schedstat"))
    assert advisor._queued_seconds() is None
    assert advisor._blocked((1.0, 0.5, None)) is None   # so the probe uses the slowdown instead
    alone = advisor.Advice("f", 8, 1, True, None, call_seconds=0.01, cpu_share=1.0,
                           gil_held_share=0.4)
    assert "with one usable CPU the GIL-held share cannot be told apart from CPU sharing" in \
        advisor._character_reason(alone)
