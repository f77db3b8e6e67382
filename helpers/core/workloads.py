"""The lab's three kinds of task, and how big one unit of each is on this machine.

The task functions live at module level so spawn and forkserver children can
unpickle them by name. Each takes its size explicitly: the parent calibrates
once and sends sizes, so a child never calibrates inside a timed region.
"""
from __future__ import annotations

import functools
import hashlib
import time
from dataclasses import dataclass

KINDS = ("cpu", "gil_free", "io")
DEFAULT_UNIT_SECONDS = 0.010
MAX_UNITS = 1000  # one task of 10 s at the default unit


def cpu(iterations: int) -> int:
    """Pure-Python arithmetic: holds the GIL for its whole run."""
    total = 0
    for i in range(iterations):
        total += i * i % 7
    return total


def gil_free(iterations: int) -> str:
    """PBKDF2-SHA256 in OpenSSL: hashlib releases the GIL while it runs."""
    return hashlib.pbkdf2_hmac("sha256", b"lab", b"salt", iterations).hex()


def io(seconds: float) -> float:
    """A blocking wait, as for a disk or network reply: releases the GIL."""
    time.sleep(seconds)
    return seconds


TASKS = {"cpu": cpu, "gil_free": gil_free, "io": io}


@dataclass(frozen=True)
class Calibration:
    """The argument that makes one unit of each kind last `unit_seconds` here."""

    unit_seconds: float
    cpu_iterations: int
    gil_free_iterations: int

    def describe(self) -> str:
        """One line per kind: what one unit is on this machine."""
        ms = self.unit_seconds * 1000
        return "\n".join([
            f"cpu      one unit = {self.cpu_iterations:,} loop iterations ≈ {ms:g} ms",
            f"gil_free one unit = {self.gil_free_iterations:,} PBKDF2 rounds ≈ {ms:g} ms",
            f"io       one unit = a {ms:g} ms sleep",
        ])

    def argument(self, kind: str, units: float = 1.0):
        """The argument for one task of `kind` lasting `units` units."""
        check_kind(kind)
        if not 0 < units <= MAX_UNITS:
            raise ValueError(f"units must be > 0 and at most {MAX_UNITS:,}, got {units!r}")
        if kind == "io":
            return self.unit_seconds * units
        per_unit = self.cpu_iterations if kind == "cpu" else self.gil_free_iterations
        return max(1, round(per_unit * units))


def check_kind(kind: str) -> None:
    """Raise ValueError unless `kind` is one of KINDS."""
    if kind not in TASKS:
        raise ValueError(f"unknown task kind {kind!r}; allowed: {', '.join(KINDS)}")


@functools.lru_cache(maxsize=8)
def calibrate(unit_seconds: float = DEFAULT_UNIT_SECONDS) -> Calibration:
    """Size one unit of each kind to `unit_seconds` on this machine; cached per process."""
    if not 0.0005 <= unit_seconds <= 1.0:
        raise ValueError(f"unit_seconds must be between 0.0005 and 1.0, got {unit_seconds!r}")
    return Calibration(
        unit_seconds=unit_seconds,
        cpu_iterations=_size_for(cpu, unit_seconds, start=1000),
        gil_free_iterations=_size_for(gil_free, unit_seconds, start=100),
    )


def _size_for(task, seconds: float, start: int) -> int:
    """Grow the argument until one call is measurable, then scale to `seconds`."""
    size = start
    while _fastest_of(task, size, repeats=1) < 0.002:
        size *= 4
    rate = size / _fastest_of(task, size, repeats=3)
    return max(1, round(rate * seconds))


def _fastest_of(task, size: int, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        task(size)
        best = min(best, time.perf_counter() - started)
    return best
