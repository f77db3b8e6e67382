import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import machine

ROOT = Path(__file__).resolve().parents[1]


def test_describe_reports_every_figure_with_a_source():
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
    code = "from helpers import machine; print(machine.describe().usable_cpus.value)"
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
