"""Bad input, everywhere (issue 8, item 5).

Every public experiment, runner entry point and widget rejects a bad value — zero, negative or
huge counts, a wrong type (2.5, True), an unknown kind, backend, start method or channel, a payload
beyond memory or /dev/shm — with a ValueError whose message names what is allowed, and it does so
before any real work starts, so every case here is quick. A panel never raises in its thread: it
shows "not run: <the message>" and keeps the error in `last_error`.

Exercise checkers (check_*) are left out on purpose: a wrong answer there is a learner's attempt,
answered with "Not yet: …", not bad input.

Notebooks 05, 06 and 07 keep their cases beside their other tests (`BAD_INPUT_CASES` in
test_images.py, test_serving.py, …); they are run here, by the same test, with the same checks.
"""
import math

import ipywidgets as w
import pytest
import test_advisor
import test_aio
import test_beyond
import test_images
import test_records
import test_responsive
import test_serving
import test_summary

from helpers.core import machine, style as plots, runner, shm, panel as widgets, workloads
from helpers.nb00_start_here import first_look
from helpers.nb01_gil import gil
from helpers.nb02_process_cost import spawning
from helpers.nb03_sharing_data import sharing
from helpers.nb04_races import races

HUGE = 10**9
BEYOND_MEMORY = 10**18  # bytes: more than any machine's memory or /dev/shm
BAD_COUNTS = (0, -1, HUGE, 2.5, True)  # zero, negative, huge, and two wrong types
WORKERS = "from 1 to"  # runner.check_workers: "workers for <backend> must be an integer from 1 to N"
KINDS = "allowed: cpu, gil_free, io"
BACKENDS = "allowed: sequential, threads, processes"
START_METHODS = "unknown start method 'teleport'; allowed: .*spawn"


def each(label: str, values, call, allowed: str) -> list:
    """One case per bad value: call(value) must raise a ValueError matching `allowed`."""
    return [pytest.param(lambda value=value: call(value), allowed, id=f"{label}={value!r}")
            for value in values]


def enter(manager) -> None:
    """Enter and leave a context manager: the check must fire on entering."""
    with manager:
        pass


# --- panels, built as the notebooks build them ------------------------------------------------


def compare_panel() -> widgets.Panel:  # notebook 00
    return widgets.compare_panel(first_look.compare, plots.comparison, first_look.compare_verdict)


def timeline_panel() -> widgets.Panel:  # notebook 01
    return widgets.compare_panel(gil.timeline, plots.stretches, gil.timeline_verdict,
                                 workers=4, kinds=("cpu", "gil_free"))


def convoy_panel() -> widgets.Panel:  # notebook 01
    return widgets.convoy_panel(gil.convoy_once, plots.convoy, gil.convoy_verdict)


def process_trial_panel() -> widgets.Panel:  # notebook 02
    return widgets.Panel(spawning.trial, plots.trial, spawning.trial_verdict, controls={
        "method": w.Dropdown(options=spawning.methods(), value=machine.lab_start_method()),
        "workers": widgets.worker_slider(),
        "payload_kb": w.IntSlider(value=100, min=0, max=10_000, step=100),
        "task_ms": w.FloatLogSlider(value=10, base=10, min=-1, max=2),
    })


def job_panel() -> widgets.Panel:  # notebook 03, at 1 MiB so no case depends on free memory
    return widgets.Panel(sharing.job_trial, plots.job, sharing.job_verdict, controls={
        "way": w.Dropdown(options=sharing.JOB_METHODS[1:], value="shared memory"),
        "megabytes": w.IntSlider(value=1, min=1, max=256),
        "workers": widgets.worker_slider(),
    })


def image_panel() -> widgets.Panel:  # notebook 05
    return widgets.image_panel()


def advisor_panel() -> widgets.Panel:  # notebook 06
    return widgets.advisor_panel()


def race_panel() -> widgets.Panel:  # notebook 04
    return widgets.Panel(races.trial, plots.race_trial, races.trial_verdict, controls={
        "threads": w.IntSlider(value=4, min=2, max=16),
        "deposits": w.IntSlider(value=200_000, min=10_000, max=1_000_000, step=10_000),
        "interval_ms": w.Dropdown(options=[(f"{ms:g} ms", ms) for ms in (0.5, 1, 5, 20)], value=5),
        "fixed": w.Checkbox(value=False),
    })


def force(control: w.ValueWidget, value) -> None:
    """Give a control a value its own limits would refuse (as an edited or stale widget could)."""
    if isinstance(control, w.Dropdown):
        control.options = [(repr(value), value)]
    elif isinstance(control, w.FloatLogSlider):
        exponent = math.log(value, control.base)
        control.min, control.max = min(control.min, math.floor(exponent)), max(control.max, math.ceil(exponent))
    else:
        control.min, control.max = min(control.min, value), max(control.max, value)
    control.value = value


def panel_run(make, name: str, value):
    """Run a panel with one control forced to `value`; re-raise the error it reported."""
    def call():
        panel = make()
        force(panel.controls[name], value)
        panel.start()  # must not raise here: the experiment runs in the panel's thread
        panel.wait(60)
        assert not panel.running, "the experiment was still running: it did not reject its input"
        assert isinstance(panel.last_error, ValueError), panel.status.value
        assert panel.status.value == f"not run: {panel.last_error}"
        raise panel.last_error
    return call


def panel_cases(label: str, make, name: str, values, allowed: str) -> list:
    return [pytest.param(panel_run(make, name, value), allowed, id=f"{label} panel {name}={value!r}")
            for value in values]


CASES = [
    # --- runner: run, sweep, open_pool -------------------------------------------------------
    *each("runner.run workers", BAD_COUNTS, lambda v: runner.run("io", workers=v, tasks=2), WORKERS),
    *each("runner.run processes workers", (HUGE,),
          lambda v: runner.run("io", backend="processes", workers=v, tasks=2), WORKERS),
    *each("runner.run sequential workers", (2,),
          lambda v: runner.run("io", backend="sequential", workers=v, tasks=2), "from 1 to 1,"),
    *each("runner.run backend", ("gpu", "thread"), lambda v: runner.run("io", backend=v, tasks=2), BACKENDS),
    *each("runner.run work", ("gpu", ""), lambda v: runner.run(v, tasks=2), KINDS),
    *each("runner.run work", (42, None), lambda v: runner.run(v, tasks=2),
          r"a task kind \(cpu, gil_free, io\) or a callable"),
    *each("runner.run tasks", (*BAD_COUNTS, None), lambda v: runner.run("io", tasks=v),
          "tasks must be a positive integer, at most 100,000"),
    *each("runner.run callable tasks", (0, -1, HUGE, 2.5, True, None), lambda v: runner.run(abs, tasks=v),
          "tasks must be a positive integer, at most 100,000"),
    *each("runner.run callable args", ([],), lambda v: runner.run(abs, args=v), "tasks must be a positive integer"),
    *each("runner.run repeats", BAD_COUNTS, lambda v: runner.run("io", tasks=2, repeats=v),
          "repeats must be a positive integer, at most 1,000"),
    *each("runner.run units", (0, -1, HUGE), lambda v: runner.run("io", tasks=2, units=v),
          "units must be > 0 and at most 1,000"),
    *each("runner.run timeout", (0, -1), lambda v: runner.run("io", tasks=2, timeout=v),
          "timeout must be a positive number of seconds"),
    *each("runner.run start_method", ("teleport",),
          lambda v: runner.run("io", backend="processes", tasks=2, start_method=v), START_METHODS),
    *each("runner.sweep workers", ([0], [-1], [HUGE], [2.5], [True], [1, 0]),
          lambda v: runner.sweep("io", workers=v, tasks=2, repeats=1), WORKERS),
    *each("runner.sweep workers", ([],), lambda v: runner.sweep("io", workers=v, tasks=2, repeats=1),
          "at least one worker count"),
    *each("runner.sweep backends", (("gpu",), ("threads", "gpu")),
          lambda v: runner.sweep("io", workers=[1], backends=v, tasks=2, repeats=1), BACKENDS),
    *each("runner.sweep work", ("gpu",), lambda v: runner.sweep(v, workers=[1], tasks=2, repeats=1), KINDS),
    *each("runner.sweep tasks", (0, HUGE, 2.5, None), lambda v: runner.sweep("io", workers=[1], tasks=v, repeats=1),
          "tasks must be a positive integer, at most"),
    *each("runner.sweep repeats", (0, HUGE, 2.5), lambda v: runner.sweep("io", workers=[1], tasks=2, repeats=v),
          "repeats must be a positive integer, at most"),
    *each("runner.sweep units", (0, HUGE), lambda v: runner.sweep("io", workers=[1], tasks=2, units=v, repeats=1),
          "at most 1,000"),
    *each("runner.sweep timeout", (0, -1), lambda v: runner.sweep("io", workers=[1], tasks=2, timeout=v),
          "timeout must be a positive number of seconds"),
    *each("runner.sweep start_method", ("teleport",),
          lambda v: runner.sweep("io", workers=[1], tasks=2, repeats=1, start_method=v), START_METHODS),
    *each("runner.open_pool backend", ("gpu",), lambda v: enter(runner.open_pool(v, 1)), BACKENDS),
    *each("runner.open_pool workers", BAD_COUNTS, lambda v: enter(runner.open_pool("threads", v)), WORKERS),
    *each("runner.open_pool processes workers", (0, HUGE), lambda v: enter(runner.open_pool("processes", v)), WORKERS),
    *each("runner.open_pool start_method", ("teleport",),
          lambda v: enter(runner.open_pool("processes", 1, v)), START_METHODS),

    # --- workloads ---------------------------------------------------------------------------
    *each("workloads.check_kind", ("gpu", "CPU", None, 3), workloads.check_kind, KINDS),
    *each("workloads.calibrate unit_seconds", (0, -1, 5.0), workloads.calibrate, "between 0.0005 and 1.0"),
    *each("Calibration.argument kind", ("gpu",), lambda v: workloads.calibrate().argument(v), KINDS),
    *each("Calibration.argument units", (0, -1, HUGE), lambda v: workloads.calibrate().argument("cpu", v),
          "units must be > 0 and at most 1,000"),

    # --- notebook 00: first_look ---------------------------------------------------------------
    *each("first_look.default_workers usable_cpus", (0, -1, 2.5, True), first_look.default_workers,
          "usable_cpus must be an integer of at least 1"),
    *each("first_look.experiment kinds", (["gpu"], ["io", "gpu"]),
          lambda v: first_look.experiment(kinds=v, workers=[1], repeats=1), KINDS),
    *each("first_look.experiment workers", ([0], [-1], [HUGE], [2.5], [True]),
          lambda v: first_look.experiment(kinds=["io"], workers=v, repeats=1), WORKERS),
    *each("first_look.experiment workers", ([],), lambda v: first_look.experiment(kinds=["io"], workers=v),
          "at least one worker count"),
    *each("first_look.experiment repeats", (0, HUGE, 2.5),
          lambda v: first_look.experiment(kinds=["io"], workers=[1], repeats=v), "repeats must be a positive integer, at most"),
    *each("first_look.compare workers", BAD_COUNTS, lambda v: first_look.compare("io", workers=v), WORKERS),
    *each("first_look.compare sequential workers", (2,),
          lambda v: first_look.compare("io", workers=v, backend="sequential"), "from 1 to 1,"),
    *each("first_look.compare kind", ("gpu",), lambda v: first_look.compare(v, workers=2), KINDS),
    *each("first_look.compare backend", ("gpu",), lambda v: first_look.compare("io", workers=2, backend=v), BACKENDS),
    *each("first_look.compare tasks_per_worker", (0, -1, HUGE, 2.5),
          lambda v: first_look.compare("io", workers=2, tasks_per_worker=v), "tasks must be a positive integer, at most"),
    *each("first_look.side_by_side workers", BAD_COUNTS, lambda v: first_look.side_by_side("io", workers=v), WORKERS),
    *each("first_look.side_by_side kind", ("gpu",), lambda v: first_look.side_by_side(v, workers=2), KINDS),
    *each("first_look.side_by_side tasks_per_worker", (0, HUGE, 2.5),
          lambda v: first_look.side_by_side("io", workers=2, tasks_per_worker=v), "tasks must be a positive integer, at most"),

    # --- notebook 01: gil ----------------------------------------------------------------------
    *each("gil.scaling kinds", (["gpu"], ["io", "gpu"]), lambda v: gil.scaling(kinds=v, repeats=1), KINDS),
    *each("gil.scaling repeats", (0, HUGE, 2.5), lambda v: gil.scaling(kinds=["io"], repeats=v),
          "repeats must be a positive integer, at most"),
    *each("gil.timeline kind", ("io", "gpu"), gil.timeline, "cpu or gil_free"),
    *each("gil.timeline backend", ("sequential", "gpu"), lambda v: gil.timeline(backend=v), "threads or processes"),
    *each("gil.timeline workers", BAD_COUNTS, lambda v: gil.timeline(workers=v), WORKERS),
    *each("gil.timeline processes workers", (HUGE,), lambda v: gil.timeline(workers=v, backend="processes"), WORKERS),
    *each("gil.timeline seconds_per_worker", (0, -1, 60), lambda v: gil.timeline(seconds_per_worker=v),
          "between 0.001 and 5"),
    *each("gil.switch_interval", (0, -1, 5), lambda v: enter(gil.switch_interval(v)), "between 0.00001 and 1 s"),
    *each("gil.switching intervals", ([0], [0.001, 5]), lambda v: gil.switching(intervals=v), "between 0.00001 and 1 s"),
    *each("gil.convoy hogs", ((0,), (-1,), (HUGE,), (2.5,), (True,)),
          lambda v: gil.convoy(hogs=v, backends=("threads",)), "hogs for threads must be from 1 to"),
    *each("gil.convoy processes hogs", ((HUGE,),), lambda v: gil.convoy(hogs=v, backends=("processes",)),
          "hogs for processes must be from 1 to"),
    *each("gil.convoy backends", (("sequential",), ("gpu",)), lambda v: gil.convoy(hogs=(1,), backends=v),
          "threads or processes"),
    *each("gil.convoy pings", BAD_COUNTS, lambda v: gil.convoy(pings=v), "pings must be from 1 to 10000"),
    *each("gil.convoy interval", (0, -1, 5), lambda v: gil.convoy(interval=v), "between 0.00001 and 1 s"),
    *each("gil.convoy budget", (0, -1, 3600), lambda v: gil.convoy(budget=v), "more than 0 and at most 60 s"),
    *each("gil.convoy_once hogs", (0, -1, HUGE, 2.5, True), lambda v: gil.convoy_once(hogs=v), "from 1 to"),
    *each("gil.convoy_once interval_ms", (0, -1, 5000), lambda v: gil.convoy_once(interval_ms=v),
          "between 0.00001 and 1 s"),
    *each("gil.convoy_once backend", ("gpu",), lambda v: gil.convoy_once(backend=v), "threads or processes"),
    *each("gil.mixed_jobs cpu_share", (-0.1, 1.5), lambda v: gil.mixed_jobs(v, 8), "between 0 and 1"),
    *each("gil.mixed_jobs tasks", BAD_COUNTS, lambda v: gil.mixed_jobs(0.5, v), "from 1 to 100,000"),
    *each("gil.mixed shares", ([-0.5], [0, 2]), lambda v: gil.mixed(shares=v, tasks=4, workers=2, repeats=1),
          "between 0 and 1"),
    *each("gil.mixed tasks", BAD_COUNTS, lambda v: gil.mixed(tasks=v, workers=2), "from 1 to 100,000"),
    *each("gil.mixed workers", BAD_COUNTS, lambda v: gil.mixed(tasks=4, workers=v), WORKERS),
    *each("gil.mixed repeats", (0, HUGE, 2.5), lambda v: gil.mixed(shares=(0,), tasks=4, workers=2, repeats=v),
          "repeats must be a positive integer, at most"),
    *each("gil.io_wall workers", BAD_COUNTS, lambda v: gil.io_wall(v, tasks=2), WORKERS),
    *each("gil.io_wall tasks", (0, HUGE, 2.5), lambda v: gil.io_wall(2, tasks=v),
          "tasks must be a positive integer, at most"),

    # --- notebook 02: spawning -----------------------------------------------------------------
    *each("spawning.process_start method", ("teleport",), spawning.process_start, START_METHODS),
    *each("spawning.pool_round method", ("teleport",), lambda v: spawning.pool_round(v, 1), START_METHODS),
    *each("spawning.pool_round workers", BAD_COUNTS, lambda v: spawning.pool_round("spawn", v), WORKERS),
    *each("spawning.start_costs workers", BAD_COUNTS, lambda v: spawning.start_costs(workers=v), WORKERS),
    *each("spawning.start_costs repeats", BAD_COUNTS, lambda v: spawning.start_costs(repeats=v),
          "repeats must be an integer from 1 to 50"),
    *each("spawning.transfer_sizes largest", (0, -1, 999, BEYOND_MEMORY), spawning.transfer_sizes,
          "at least 1000 bytes and at most"),
    *each("spawning.transfer largest", (0, BEYOND_MEMORY), lambda v: spawning.transfer(largest=v),
          "at least 1000 bytes and at most"),
    *each("spawning.transfer repeats", BAD_COUNTS, lambda v: spawning.transfer(largest=1000, repeats=v),
          "repeats must be an integer from 1 to 50"),
    *each("spawning.transfer method", ("teleport",), lambda v: spawning.transfer(largest=1000, repeats=1, method=v),
          START_METHODS),
    *each("spawning.granularity durations", ((0,), (-1,), (0.001, 5.0)), lambda v: spawning.granularity(durations=v),
          "from 0.00001 to 1 s"),
    *each("spawning.granularity total", (0, -1, 3600), lambda v: spawning.granularity(total=v),
          "more than 0 and at most 10 s"),
    *each("spawning.granularity workers", BAD_COUNTS, lambda v: spawning.granularity(workers=v), WORKERS),
    *each("spawning.automatic_chunksize tasks", (0, -1, HUGE, 2.5), lambda v: spawning.automatic_chunksize(v, 2),
          "tasks must be an integer from 1 to 1,000,000"),
    *each("spawning.automatic_chunksize workers", BAD_COUNTS, lambda v: spawning.automatic_chunksize(100, v), WORKERS),
    *each("spawning.map_seconds tasks", (0, -1, HUGE, 2.5), lambda v: spawning.map_seconds(v, 1, 2),
          "tasks must be an integer from 1 to 1,000,000"),
    *each("spawning.map_seconds chunksize", (0, -1, 11, 2.5, True), lambda v: spawning.map_seconds(10, v, 2),
          "chunksize must be from 1 to 10"),
    *each("spawning.map_seconds workers", BAD_COUNTS, lambda v: spawning.map_seconds(10, 1, v), WORKERS),
    *each("spawning.map_seconds method", ("teleport",), lambda v: spawning.map_seconds(10, 1, 2, v), START_METHODS),
    *each("spawning.chunking tasks", (0, -1, HUGE, 2.5), lambda v: spawning.chunking(tasks=v),
          "tasks must be an integer from 1 to 1,000,000"),
    *each("spawning.chunking workers", BAD_COUNTS, lambda v: spawning.chunking(tasks=10, workers=v), WORKERS),
    *each("spawning.pool_reuse tasks", BAD_COUNTS, lambda v: spawning.pool_reuse(tasks=v),
          "tasks must be an integer from 1 to 10,000"),
    *each("spawning.pool_reuse budget", (0, -1, 3600), lambda v: spawning.pool_reuse(budget=v),
          "more than 0 and at most 60 s"),
    *each("spawning.pool_reuse method", ("teleport",), lambda v: spawning.pool_reuse(method=v), START_METHODS),
    *each("spawning.footprint counts", ((0,), (-1, 2), (HUGE,), (2.5,), (True,)),
          lambda v: spawning.footprint(counts=v), WORKERS),
    *each("spawning.footprint counts", ((),), lambda v: spawning.footprint(counts=v), "at least one worker count"),
    *each("spawning.killing method", ("teleport",), lambda v: spawning.killing(method=v), START_METHODS),
    *each("spawning.killing stubborn_seconds", (0, -1, 3600), lambda v: spawning.killing(stubborn_seconds=v),
          "from 0.01 to 5 s"),
    *each("spawning.send_to_pool method", ("teleport",), lambda v: spawning.send_to_pool(abs, v), START_METHODS),
    *each("spawning.send_to_pool timeout", (0, -1), lambda v: spawning.send_to_pool(abs, "spawn", timeout=v),
          "timeout must be a positive number of seconds"),
    *each("spawning.trial method", ("teleport",), lambda v: spawning.trial(method=v), START_METHODS),
    *each("spawning.trial workers", BAD_COUNTS, lambda v: spawning.trial(workers=v), WORKERS),
    *each("spawning.trial payload_kb", (-1, HUGE, 2.5, True), lambda v: spawning.trial(payload_kb=v),
          "payload_kb must be an integer from 0 to 100,000"),
    *each("spawning.trial task_ms", (0, -1, 501), lambda v: spawning.trial(task_ms=v), "from 0.1 to 500"),

    # --- notebook 03: sharing and shm ------------------------------------------------------------
    *each("sharing.in_place sizes_mib", ((0,), (-1,), (HUGE,), (2.5,), (True,)),
          lambda v: sharing.in_place(sizes_mib=v), r"each size \(MiB\) must be an integer from 1 to"),
    *each("sharing.in_place workers", BAD_COUNTS, lambda v: sharing.in_place(workers=v), WORKERS),
    *each("sharing.in_place repeats", BAD_COUNTS, lambda v: sharing.in_place(repeats=v),
          "repeats must be an integer from 1 to 100"),
    *each("sharing.payload_sizes largest", (0, -1, BEYOND_MEMORY, 2.5), sharing.payload_sizes,
          r"largest payload \(bytes\) must be an integer from 1 to"),
    *each("sharing.transfers largest", (0, BEYOND_MEMORY), lambda v: sharing.transfers(largest=v),
          r"largest payload \(bytes\) must be an integer from 1 to"),
    *each("sharing.transfers channels", (("carrier pigeon",), ("Pipe", "pipe")),
          lambda v: sharing.transfers(largest=1024, channels=v), "allowed: Queue, Pipe"),
    *each("sharing.transfers method", ("teleport",),
          lambda v: sharing.transfers(largest=1024, channels=("Pipe",), method=v), START_METHODS),
    *each("sharing.memcpy_bandwidth nbytes", (0, -1, BEYOND_MEMORY, 2.5), sharing.memcpy_bandwidth,
          "nbytes must be an integer from 1 to"),
    *each("sharing.memcpy_bandwidth repeats", BAD_COUNTS, lambda v: sharing.memcpy_bandwidth(1024, v),
          "repeats must be an integer from 1 to 100"),
    *each("sharing.shared_state workers", BAD_COUNTS, lambda v: sharing.shared_state(workers=v), WORKERS),
    *each("sharing.shared_state methods", (("telepathy",),), lambda v: sharing.shared_state(methods=v),
          "allowed: SharedMemory"),
    *each("sharing.shared_state scale", (0, -1, 100), lambda v: sharing.shared_state(scale=v), "from 0.001 to 10"),
    *each("sharing.shared_state method", ("teleport",), lambda v: sharing.shared_state(method=v), START_METHODS),
    *each("sharing.job megabytes", (0, -1, HUGE, 2.5, True), lambda v: sharing.job(megabytes=v),
          "megabytes must be an integer from 1 to"),
    *each("sharing.job workers", BAD_COUNTS, lambda v: sharing.job(megabytes=1, workers=v), WORKERS),
    *each("sharing.job methods", (("magic",),), lambda v: sharing.job(megabytes=1, methods=v), "allowed: sequential"),
    *each("sharing.job method", ("teleport",), lambda v: sharing.job(megabytes=1, method=v), START_METHODS),
    *each("sharing.job_trial way", ("magic",), lambda v: sharing.job_trial(v, 1, 2), "allowed: sequential"),
    *each("sharing.job_trial megabytes", (0, HUGE), lambda v: sharing.job_trial("shared memory", v, 2),
          "megabytes must be an integer from 1 to"),
    *each("sharing.job_trial workers", BAD_COUNTS, lambda v: sharing.job_trial("shared memory", 1, v), WORKERS),
    *each("sharing.pipeline items", BAD_COUNTS, lambda v: sharing.pipeline(items=v),
          "items must be an integer from 1 to 100,000"),
    *each("sharing.pipeline consumers", BAD_COUNTS, lambda v: sharing.pipeline(consumers=v), WORKERS),
    *each("sharing.pipeline pause", (-1, 1), lambda v: sharing.pipeline(pause=v), "from 0 to 0.1 seconds"),
    *each("sharing.pipeline method", ("teleport",), lambda v: sharing.pipeline(method=v), START_METHODS),
    *each("shm.shared_array shape", (0, -1, True, (2, 0), (2.5,), ()), lambda v: enter(shm.shared_array(v)),
          "shape must be positive integers"),
    *each("shm.shared_array size", (BEYOND_MEMORY,), lambda v: enter(shm.shared_array(v, "uint8")),
          "the limit here is .* MiB"),
    *each("shm.shared_array dtype", ("nonsense", object), lambda v: enter(shm.shared_array(4, v)),
          "such as 'float64', 'int64' or 'uint8'"),
    *each("shm.check_room nbytes", (BEYOND_MEMORY,), shm.check_room, "the limit here is .* MiB"),

    # --- notebook 04: races ----------------------------------------------------------------------
    *each("races.plain_counter threads", BAD_COUNTS, lambda v: races.plain_counter(threads=v),
          "threads must be an integer from 1 to 64"),
    *each("races.plain_counter increments", BAD_COUNTS, lambda v: races.plain_counter(increments=v),
          "increments must be an integer from 1 to 2,000,000"),
    *each("races.plain_counter trials", BAD_COUNTS, lambda v: races.plain_counter(trials=v), "trials must be from 1 to 200"),
    *each("races.bank threads", BAD_COUNTS, lambda v: races.bank(threads=v), "threads must be an integer from 1 to 64"),
    *each("races.bank deposits", BAD_COUNTS, lambda v: races.bank(deposits=v),
          "increments must be an integer from 1 to 2,000,000"),
    *each("races.bank trials", BAD_COUNTS, lambda v: races.bank(trials=v), "trials must be from 1 to 200"),
    *each("races.bank_sweep thread_counts", ((0,), (-1,), (2, HUGE), (2.5,), (True,)),
          lambda v: races.bank_sweep(thread_counts=v), "threads must be an integer from 1 to 64"),
    *each("races.bank_sweep total", (0, -1, HUGE), lambda v: races.bank_sweep(thread_counts=(2,), total=v),
          "increments must be an integer from 1 to 2,000,000"),
    *each("races.bank_sweep trials", BAD_COUNTS, lambda v: races.bank_sweep(thread_counts=(2,), total=1000, trials=v),
          "trials must be from 1 to 200"),
    *each("races.bank_sweep interval", (0, -1, 5), lambda v: races.bank_sweep(interval=v), "between 0.00001 and 1 s"),
    *each("races.trace deposits", BAD_COUNTS, races.trace, "increments must be an integer from 1 to 2,000,000"),
    *each("races.fixes threads", BAD_COUNTS, lambda v: races.fixes(threads=v), "threads must be an integer from 1 to 64"),
    *each("races.fixes deposits", BAD_COUNTS, lambda v: races.fixes(deposits=v),
          "increments must be an integer from 1 to 2,000,000"),
    *each("races.process_counters processes", BAD_COUNTS, lambda v: races.process_counters(processes=v),
          "workers for processes must be an integer from 1 to"),
    *each("races.process_counters increments", BAD_COUNTS, lambda v: races.process_counters(increments=v),
          "increments must be an integer from 1 to 2,000,000"),
    *each("races.process_counters method", ("teleport",), lambda v: races.process_counters(method=v), START_METHODS),
    *each("races.deadlock timeout", (0, -1, 60), races.deadlock, "from 0.01 to 5 s"),
    *each("races.check_then_act threads", BAD_COUNTS, races.check_then_act, "threads must be an integer from 1 to 64"),
    *each("races.semaphore_demo tasks", BAD_COUNTS, lambda v: races.semaphore_demo(tasks=v),
          "tasks must be an integer from 1 to 64"),
    *each("races.semaphore_demo limit", (0, -1, 13, 2.5, True), lambda v: races.semaphore_demo(tasks=12, limit=v),
          "limit must be an integer from 1 to 12"),
    *each("races.event_demo threads", BAD_COUNTS, races.event_demo, "threads must be an integer from 1 to 64"),
    *each("races.condition_demo items", BAD_COUNTS, races.condition_demo, "items must be an integer from 1 to 1,000"),
    *each("races.barrier_demo threads", BAD_COUNTS, races.barrier_demo, "threads must be an integer from 1 to 64"),
    *each("races.trial threads", BAD_COUNTS, lambda v: races.trial(threads=v), "threads must be an integer from 1 to 64"),
    *each("races.trial deposits", BAD_COUNTS, lambda v: races.trial(deposits=v),
          "increments must be an integer from 1 to 2,000,000"),
    *each("races.trial interval_ms", (0, -1, 5000), lambda v: races.trial(interval_ms=v), "between 0.00001 and 1 s"),

    # --- widgets: the controls, and every panel of the notebooks ------------------------------------
    *each("widgets.worker_slider value", BAD_COUNTS, widgets.worker_slider, "workers must be an integer from 1 to"),
    *each("widgets.kind_picker value", ("gpu", None), widgets.kind_picker, KINDS),
    *each("widgets.backend_picker value", ("gpu", "sequential"), widgets.backend_picker,
          "allowed: threads, processes"),
    *each("widgets.compare_panel workers", (0, HUGE),
          lambda v: widgets.compare_panel(first_look.compare, plots.comparison, first_look.compare_verdict, workers=v),
          "workers must be an integer from 1 to"),
    *each("widgets.compare_panel kind", ("gpu",),
          lambda v: widgets.compare_panel(first_look.compare, plots.comparison, first_look.compare_verdict, kind=v),
          KINDS),
    *each("widgets.compare_panel backend", ("gpu",),
          lambda v: widgets.compare_panel(first_look.compare, plots.comparison, first_look.compare_verdict, backend=v),
          "allowed: threads, processes"),
    *panel_cases("compare", compare_panel, "workers", (0, -1, HUGE), WORKERS),
    *panel_cases("compare", compare_panel, "kind", ("gpu",), KINDS),
    *panel_cases("compare", compare_panel, "backend", ("gpu",), BACKENDS),
    *panel_cases("compare", compare_panel, "backend", ("sequential",), "from 1 to 1,"),
    *panel_cases("timeline", timeline_panel, "workers", (0, HUGE), WORKERS),
    *panel_cases("timeline", timeline_panel, "kind", ("io", "gpu"), "cpu or gil_free"),
    *panel_cases("timeline", timeline_panel, "backend", ("sequential",), "threads or processes"),
    *panel_cases("convoy", convoy_panel, "hogs", (0, -1, HUGE), "hogs for threads must be from 1 to"),
    *panel_cases("convoy", convoy_panel, "interval_ms", (0, 5000), "between 0.00001 and 1 s"),
    *panel_cases("convoy", convoy_panel, "backend", ("gpu",), "threads or processes"),
    *panel_cases("process trial", process_trial_panel, "method", ("teleport",), START_METHODS),
    *panel_cases("process trial", process_trial_panel, "workers", (0, HUGE), WORKERS),
    *panel_cases("process trial", process_trial_panel, "payload_kb", (-1, HUGE), "from 0 to 100,000"),
    *panel_cases("process trial", process_trial_panel, "task_ms", (1000,), "from 0.1 to 500"),
    *panel_cases("job", job_panel, "way", ("magic",), "allowed: sequential"),
    *panel_cases("job", job_panel, "megabytes", (0, HUGE), "megabytes must be an integer from 1 to"),
    *panel_cases("job", job_panel, "workers", (0, HUGE), WORKERS),
    *panel_cases("races", race_panel, "threads", (0, 100), "threads must be an integer from 1 to 64"),
    *panel_cases("races", race_panel, "deposits", (0, HUGE), "increments must be an integer from 1 to 2,000,000"),
    *panel_cases("races", race_panel, "interval_ms", (0, 5000), "between 0.00001 and 1 s"),
    *panel_cases("images", image_panel, "size", (0, HUGE), "image size"),
    *panel_cases("images", image_panel, "workers", (0, HUGE), WORKERS),
    *panel_cases("advisor", advisor_panel, "units", (0, -1), "units must be > 0"),
    *panel_cases("advisor", advisor_panel, "kind", ("gpu",), KINDS),
    *(case for module in (test_images, test_serving, test_responsive, test_records, test_summary,
                          test_advisor, test_aio, test_beyond)
      for case in module.BAD_INPUT_CASES),
]


@pytest.mark.parametrize("call, allowed", CASES)
def test_bad_input_names_what_is_allowed(call, allowed, no_leftovers):
    with pytest.raises(ValueError, match=allowed):
        call()
