import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from helpers.core import machine

ROOT = Path(__file__).resolve().parents[2]


def test_describe_reports_every_fact_with_a_source():
    here = machine.describe()
    for label, value, source in here.rows():
        assert value is not None and source, label
    assert 1 <= here.usable_cpus.value <= here.logical_cpus.value
    assert here.lab_start_method.value in here.available_start_methods.value
    assert here.memory_available_gib.value <= here.memory_total_gib.value


def test_describe_renders_as_a_table_and_a_summary():
    here = machine.describe()
    html = here._repr_html_()
    assert html.count("<tr>") == len(here.rows()) + 1
    assert "usable CPUs" in html and "os.cpu_count()" in html
    assert f"{here.usable_cpus.value} usable" in here.summary()


@pytest.mark.skipif(not shutil.which("taskset"), reason="needs taskset (util-linux)")
def test_usable_cpus_is_one_when_pinned_to_one_core():
    code = "from helpers.core import machine; print(machine.describe().usable_cpus.value)"
    out = subprocess.run(["taskset", "-c", "0", sys.executable, "-c", code], cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout
    assert out.strip() == "1"


def test_advice_says_processes_cannot_help_on_one_cpu(tmp_path):
    (tmp_path / "cpu.max").write_text("100000 100000\n")
    here = machine.describe(cgroup_root=tmp_path)
    assert here.usable_cpus.value == 1
    assert "processes cannot speed up computing here" in machine.advice(here)


@pytest.mark.parametrize("content, expected", [
    ("150000 100000\n", 2),   # 1.5 CPUs rounds up
    ("50000 100000\n", 1),
    ("100000 100000\n", 1),
    ("max 100000\n", None),
])
def test_cgroup_v2_quota_file_is_honoured(tmp_path, content, expected):
    (tmp_path / "cpu.max").write_text(content)
    quota = machine.cgroup_cpu_quota(tmp_path)
    assert (quota.value if quota else None) == expected
    usable = machine.usable_cpus(tmp_path).value
    allowed = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    assert usable == (min(expected, allowed) if expected else allowed)
    if expected and expected < allowed:
        assert "cpu.max" in machine.usable_cpus(tmp_path).source


@pytest.mark.parametrize("quota, period, expected", [("250000", "100000", 3), ("-1", "100000", None)])
def test_cgroup_v1_quota_files_are_honoured(tmp_path, quota, period, expected):
    v1 = tmp_path / "cpu,cpuacct"
    v1.mkdir()
    (v1 / "cpu.cfs_quota_us").write_text(quota)
    (v1 / "cpu.cfs_period_us").write_text(period)
    figure = machine.cgroup_cpu_quota(tmp_path)
    assert (figure.value if figure else None) == expected


def test_no_quota_files_means_no_quota(tmp_path):
    assert machine.cgroup_cpu_quota(tmp_path) is None


def test_lab_start_method_defaults_and_override(monkeypatch):
    monkeypatch.delenv("LAB_START_METHOD", raising=False)
    expected = "forkserver" if sys.platform == "linux" else "spawn"
    assert machine.lab_start_method() == expected
    monkeypatch.setenv("LAB_START_METHOD", "spawn")
    assert machine.lab_start_method() == "spawn"
    assert "LAB_START_METHOD" in machine.describe().lab_start_method.source


def test_unknown_start_method_names_the_allowed_ones(monkeypatch):
    monkeypatch.setenv("LAB_START_METHOD", "teleport")
    with pytest.raises(ValueError, match="allowed: .*spawn"):
        machine.lab_start_method()


def test_reading_the_default_start_method_does_not_fix_it():
    import multiprocessing
    before = multiprocessing.get_start_method(allow_none=True)
    machine.describe()
    assert multiprocessing.get_start_method(allow_none=True) == before


def test_gil_figure_matches_the_interpreter():
    figure = machine.gil_enabled()
    expected = sys._is_gil_enabled() if hasattr(sys, "_is_gil_enabled") else True
    assert figure.value is expected


# --- where the usable count comes from: os.process_cpu_count() on 3.13+, the affinity mask before -

ON_313 = pytest.mark.skipif(sys.version_info < (3, 13), reason="os.process_cpu_count() and its "
                            "override (-X cpu_count, PYTHON_CPU_COUNT) exist from Python 3.13")
BEFORE_313 = pytest.mark.skipif(sys.version_info >= (3, 13), reason="the fallback: from Python 3.13 "
                                "the count comes from os.process_cpu_count()")
HAS_AFFINITY = pytest.mark.skipif(not hasattr(os, "sched_getaffinity"),
                                  reason="needs an affinity mask (os.sched_getaffinity)")


def fake_cpus(monkeypatch, *, process: int, mask: int) -> None:
    """Pretend os.process_cpu_count() says `process` and the affinity mask holds `mask` CPUs."""
    monkeypatch.setattr(os, "process_cpu_count", lambda: process)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(mask)))


@ON_313
@HAS_AFFINITY
def test_on_3_13_the_usable_count_comes_from_process_cpu_count(monkeypatch, tmp_path):
    fake_cpus(monkeypatch, process=3, mask=4)   # the fallback would say 4
    assert machine.usable_cpus(tmp_path) == machine.Fact(3, "os.process_cpu_count()")


@ON_313
def test_on_3_13_the_real_count_names_process_cpu_count(monkeypatch, tmp_path):
    monkeypatch.delenv("PYTHON_CPU_COUNT", raising=False)   # read at start-up: only the name
    figure = machine.usable_cpus(tmp_path)
    assert figure.value == os.process_cpu_count()
    assert figure.source == "os.process_cpu_count()"


@ON_313
@HAS_AFFINITY
def test_on_3_13_a_cgroup_quota_still_caps_process_cpu_count(monkeypatch, tmp_path):
    fake_cpus(monkeypatch, process=3, mask=4)
    (tmp_path / "cpu.max").write_text("100000 100000\n")
    figure = machine.usable_cpus(tmp_path)
    assert figure.value == 1
    assert "cpu.max" in figure.source and "below os.process_cpu_count() = 3" in figure.source


@ON_313
@HAS_AFFINITY
def test_on_3_13_a_larger_override_cannot_widen_the_affinity_mask(monkeypatch, tmp_path):
    fake_cpus(monkeypatch, process=8, mask=1)
    figure = machine.usable_cpus(tmp_path)
    assert figure.value == 1
    assert figure.source.startswith("os.sched_getaffinity(0) (below os.process_cpu_count() = 8")


@ON_313
@pytest.mark.skipif(not shutil.which("taskset"), reason="needs taskset (util-linux)")
def test_on_3_13_pinned_to_one_core_with_python_cpu_count_8_one_cpu_is_usable():
    code = "from helpers.core import machine; u = machine.describe().usable_cpus; print(u.value); print(u.source)"
    env = {**os.environ, "PYTHON_CPU_COUNT": "8"}
    out = subprocess.run(["taskset", "-c", "0", sys.executable, "-c", code], cwd=ROOT, env=env,
                         capture_output=True, text=True, check=True).stdout.splitlines()
    assert out == ["1", "os.sched_getaffinity(0) (below os.process_cpu_count() = 8, "
                        "set by PYTHON_CPU_COUNT=8)"]


@ON_313
def test_on_3_13_an_override_is_named_in_the_source(monkeypatch, tmp_path):
    monkeypatch.setattr(os, "process_cpu_count", lambda: 1)
    monkeypatch.setattr(sys, "_xoptions", {**sys._xoptions, "cpu_count": "1"})
    assert machine.usable_cpus(tmp_path).source == "os.process_cpu_count() (set by -X cpu_count=1)"


@BEFORE_313
@HAS_AFFINITY
def test_before_3_13_the_usable_count_comes_from_the_affinity_mask(tmp_path):
    assert not hasattr(os, "process_cpu_count")
    figure = machine.usable_cpus(tmp_path)
    assert figure == machine.Fact(len(os.sched_getaffinity(0)), "os.sched_getaffinity(0)")


def test_the_busy_note_speaks_only_when_more_waits_to_run_than_there_are_cpus(monkeypatch):
    monkeypatch.setattr(machine.psutil, "getloadavg", lambda: (3.5, 1.0, 1.0))
    assert "load average 3.5 on 2 usable CPUs" in machine.busy_note(2)
    assert machine.busy_note(4) == ""


# --- other platforms (simulated: the lab is tested on Linux) -------------------------------------


def test_without_an_affinity_api_the_usable_count_says_where_it_came_from(monkeypatch, tmp_path):
    """macOS and Windows have no os.sched_getaffinity: the count comes from the CPU count, and
    its source says so (tmp_path holds no cgroup files)."""
    monkeypatch.delattr(machine.os, "sched_getaffinity", raising=False)
    if hasattr(os, "process_cpu_count"):
        # There it is the CPU count (3.13's own version reads sched_getaffinity, now gone here).
        monkeypatch.setattr(machine.os, "process_cpu_count", os.cpu_count)
    figure = machine.usable_cpus(tmp_path)
    if hasattr(os, "process_cpu_count"):   # 3.13+: it honours the affinity mask itself
        assert figure.source.startswith("os.process_cpu_count()")
    else:
        assert figure == machine.Fact(os.cpu_count(), "os.cpu_count() (no affinity API on this platform)")


@pytest.mark.parametrize("platform, offered", [("darwin", ["spawn", "fork", "forkserver"]),
                                               ("win32", ["spawn"])])
def test_off_linux_the_lab_starts_processes_with_spawn(monkeypatch, platform, offered):
    monkeypatch.delenv("LAB_START_METHOD", raising=False)
    monkeypatch.setattr(machine.sys, "platform", platform)
    monkeypatch.setattr(machine.multiprocessing, "get_all_start_methods", lambda: offered)
    assert machine.lab_start_method() == "spawn"
    if platform == "win32":
        monkeypatch.setenv("LAB_START_METHOD", "fork")
        with pytest.raises(ValueError, match="'fork' is not a start method here; allowed: spawn$"):
            machine.lab_start_method()


def test_without_dev_shm_its_free_space_reads_n_a_and_says_why(tmp_path):
    absent = str(tmp_path / "no-dev-shm")
    assert machine.shm_free_mib(absent) == machine.Fact("n/a", f"{absent} does not exist on this platform")
