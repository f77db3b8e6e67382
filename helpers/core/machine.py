"""What this machine offers the lab: cores, interpreter, start methods, memory.

Every fact carries the source it was read from, so a learner can check it.
"""
from __future__ import annotations

import html
import math
import multiprocessing
import os
import platform
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import psutil

CGROUP_ROOT = Path("/sys/fs/cgroup")
START_METHOD_VARIABLE = "LAB_START_METHOD"


@dataclass(frozen=True)
class Fact:
    """One fact about the machine and where it came from."""

    value: object
    source: str


@dataclass(frozen=True)
class Machine:
    """A snapshot of what this kernel may use."""

    logical_cpus: Fact
    usable_cpus: Fact
    python: Fact
    gil_enabled: Fact
    default_start_method: Fact
    lab_start_method: Fact
    available_start_methods: Fact
    memory_total_gib: Fact
    memory_available_gib: Fact
    shm_free_mib: Fact

    def rows(self) -> list[tuple[str, object, str]]:
        """(label, value, source) for every fact, in display order."""
        return [
            (label, getattr(self, name).value, getattr(self, name).source)
            for name, label in _LABELS.items()
        ]

    def summary(self) -> str:
        """One line for the top of a notebook."""
        gil = "on" if self.gil_enabled.value else "off"
        return (
            f"{self.usable_cpus.value} usable of {self.logical_cpus.value} logical CPUs · "
            f"{self.python.value} (GIL {gil}) · start method {self.lab_start_method.value} · "
            f"{self.memory_available_gib.value} GiB memory available"
        )

    def _repr_html_(self) -> str:
        cells = "".join(
            f"<tr><td style='text-align:left'>{html.escape(label)}</td>"
            f"<td style='text-align:left'><b>{html.escape(str(value))}</b></td>"
            f"<td style='text-align:left'><small>{html.escape(source)}</small></td></tr>"
            for label, value, source in self.rows()
        )
        head = "".join(f"<th style='text-align:left'>{name}</th>" for name in ("what", "value", "source"))
        head = f"<tr>{head}</tr>"
        return f"<table>{head}{cells}</table>"

    def __str__(self) -> str:
        width = max(len(label) for label, _, _ in self.rows())
        return "\n".join(
            f"{label:<{width}}  {value!s:<24} {source}" for label, value, source in self.rows()
        )


_LABELS = {
    "logical_cpus": "logical CPUs",
    "usable_cpus": "usable CPUs",
    "python": "Python",
    "gil_enabled": "GIL enabled",
    "default_start_method": "platform's default start method",
    "lab_start_method": "lab's start method",
    "available_start_methods": "available start methods",
    "memory_total_gib": "memory total (GiB)",
    "memory_available_gib": "memory available (GiB)",
    "shm_free_mib": "free in /dev/shm (MiB)",
}


def describe(cgroup_root: Path | str = CGROUP_ROOT) -> Machine:
    """Read every fact afresh; `cgroup_root` is injectable for tests."""
    memory = psutil.virtual_memory()
    return Machine(
        logical_cpus=Fact(os.cpu_count() or 1, f"os.cpu_count(){_set_by(_cpu_count_override())}"),
        usable_cpus=usable_cpus(cgroup_root),
        python=Fact(
            f"{platform.python_implementation()} {platform.python_version()}",
            "platform.python_implementation(), platform.python_version()",
        ),
        gil_enabled=gil_enabled(),
        default_start_method=platform_default_start_method(),
        lab_start_method=Fact(lab_start_method(), _start_method_source()),
        available_start_methods=Fact(
            ", ".join(multiprocessing.get_all_start_methods()),
            "multiprocessing.get_all_start_methods()",
        ),
        memory_total_gib=Fact(round(memory.total / 2**30, 1), "psutil.virtual_memory().total"),
        memory_available_gib=Fact(
            round(memory.available / 2**30, 1), "psutil.virtual_memory().available"
        ),
        shm_free_mib=shm_free_mib(),
    )


def advice(here: Machine) -> str:
    """What the facts mean for the experiments in this series."""
    usable, logical = here.usable_cpus.value, here.logical_cpus.value
    lines = []
    if usable == 1:
        lines.append(
            f"You have 1 usable CPU (the host shows {logical}): processes cannot speed up "
            "computing here; only work that waits (io) gets faster with more workers."
        )
    else:
        lines.append(
            f"You have {usable} usable CPUs: up to {usable} processes can run Python at once."
        )
    if usable < logical:
        others = logical - usable
        lines.append(
            f"The other {others} CPU{' is' if others == 1 else 's are'} not yours "
            f"({here.usable_cpus.source})."
        )
    if here.gil_enabled.value:
        lines.append("The GIL is on: only one thread at a time runs Python bytecode.")
    else:
        lines.append("The GIL is off: threads can run Python bytecode in parallel.")
    lines.append(
        f"New processes start with {here.lab_start_method.value!r} "
        f"(this platform's default is {here.default_start_method.value!r})."
    )
    return "\n".join(lines)


def usable_cpus(cgroup_root: Path | str = CGROUP_ROOT) -> Fact:
    """CPUs this process may run on: affinity (or process_cpu_count) capped by a cgroup quota."""
    count, source = _cpus_allowed()
    quota = cgroup_cpu_quota(cgroup_root)
    if quota is not None and quota.value < count:
        return Fact(quota.value, f"{quota.source} (below {source} = {count})")
    return Fact(count, source)


def cgroup_cpu_quota(cgroup_root: Path | str = CGROUP_ROOT) -> Fact | None:
    """The cgroup CPU quota rounded up to whole CPUs, or None when there is none."""
    root = Path(cgroup_root)
    v2 = root / "cpu.max"
    if v2.is_file():
        quota, _, period = v2.read_text().strip().partition(" ")
        return _quota_fact(quota, period or "100000", str(v2))
    for v1_dir in (root / "cpu", root / "cpu,cpuacct", root):
        quota_file, period_file = v1_dir / "cpu.cfs_quota_us", v1_dir / "cpu.cfs_period_us"
        if quota_file.is_file() and period_file.is_file():
            return _quota_fact(
                quota_file.read_text().strip(), period_file.read_text().strip(), str(quota_file)
            )
    return None


def _quota_fact(quota: str, period: str, source: str) -> Fact | None:
    if quota in ("max", "-1"):
        return None
    try:
        cpus = math.ceil(int(quota) / int(period))
    except (ValueError, ZeroDivisionError):
        return None
    return Fact(max(1, cpus), f"cgroup quota {quota}/{period} µs in {source}, rounded up")


def _cpus_allowed() -> tuple[int, str]:
    """CPUs the scheduler lets this process run on, and where that was read."""
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    if hasattr(os, "process_cpu_count"):  # Python 3.13+
        return _process_cpu_count(affinity)
    if affinity is not None:
        return affinity, "os.sched_getaffinity(0)"
    return os.cpu_count() or 1, "os.cpu_count() (no affinity API on this platform)"


def _process_cpu_count(affinity: int | None) -> tuple[int, str]:
    """os.process_cpu_count(), capped by the affinity mask where there is one."""
    count, override = os.process_cpu_count() or 1, _cpu_count_override()
    # -X cpu_count / PYTHON_CPU_COUNT replace the count outright (taskset -c 0 with
    # PYTHON_CPU_COUNT=8 gives 8): they may lower it, but cannot add CPUs the mask forbids.
    if affinity is not None and affinity < count:
        note = f", set by {override}" if override else ""
        return affinity, f"os.sched_getaffinity(0) (below os.process_cpu_count() = {count}{note})"
    return count, f"os.process_cpu_count(){_set_by(override)}"


def _cpu_count_override() -> str | None:
    """The setting that overrides Python 3.13+'s CPU counts, as typed, or None."""
    if not hasattr(os, "process_cpu_count"):  # older Pythons have no override
        return None
    option = sys._xoptions.get("cpu_count")  # the command line wins over the environment
    if option is not None:
        setting = f"-X cpu_count={option}"
    else:
        option = None if sys.flags.ignore_environment else os.environ.get("PYTHON_CPU_COUNT")
        setting = f"PYTHON_CPU_COUNT={option}"
    return None if option in (None, "", "default") else setting


def _set_by(override: str | None) -> str:
    return f" (set by {override})" if override else ""


def gil_enabled() -> Fact:
    """Whether the running interpreter holds a GIL."""
    if hasattr(sys, "_is_gil_enabled"):  # Python 3.13+
        return Fact(sys._is_gil_enabled(), "sys._is_gil_enabled()")
    return Fact(True, f"Python {platform.python_version()} has no free-threaded build")


def lab_start_method() -> str:
    """The start method the lab uses: LAB_START_METHOD, else forkserver on Linux, spawn elsewhere."""
    available = multiprocessing.get_all_start_methods()
    chosen = os.environ.get(START_METHOD_VARIABLE, "").strip()
    if chosen:
        if chosen not in available:
            raise ValueError(
                f"{START_METHOD_VARIABLE}={chosen!r} is not a start method here; "
                f"allowed: {', '.join(available)}"
            )
        return chosen
    return "forkserver" if "forkserver" in available and sys.platform == "linux" else "spawn"


def _start_method_source() -> str:
    if os.environ.get(START_METHOD_VARIABLE, "").strip():
        return f"environment variable {START_METHOD_VARIABLE}"
    return f"lab default ({START_METHOD_VARIABLE} not set)"


def platform_default_start_method() -> Fact:
    """The method `multiprocessing` uses when nobody chooses one."""
    chosen = multiprocessing.get_start_method(allow_none=True)
    if chosen:
        return Fact(chosen, "multiprocessing.get_start_method() (set in this process)")
    # get_start_method(allow_none=False) would fix the default for good; read it instead.
    default = multiprocessing.context._default_context._default_context.get_start_method()
    return Fact(default, "multiprocessing's default context for this platform")


def shm_free_mib(path: str = "/dev/shm") -> Fact:
    """Free space where POSIX shared memory lives (Docker's default is only 64 MB)."""
    if not os.path.isdir(path):
        return Fact("n/a", f"{path} does not exist on this platform")
    return Fact(round(shutil.disk_usage(path).free / 2**20), f"shutil.disk_usage({path!r})")


def busy_note(usable: int | None = None) -> str:
    """' The machine was busy meanwhile: …' when more work was waiting to run than there are
    usable CPUs (the 1-minute load average, from psutil), else ''. For verdicts whose figure
    load, not the work, may explain."""
    usable = usable_cpus().value if usable is None else usable
    load = psutil.getloadavg()[0]
    if load <= usable:
        return ""
    return (f" The machine was busy meanwhile (load average {load:.1f} on {usable} usable "
            f"CPU{'s' if usable != 1 else ''}): other work, not this one, may explain the figure.")
