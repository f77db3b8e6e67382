"""NumPy arrays in POSIX shared memory, made safe for a notebook kernel.

The trap: a NumPy array viewing `SharedMemory.buf` does not stop `close()` from
unmapping the memory, and touching the array afterwards crashes the kernel.
Here the mapping is closed only when the last view of it has gone (a weakref
finalizer on the array), and the creator unlinks the name on leaving the
`with` block, whatever happened inside. So no segment outlives its block, and
no view can outlive its mapping.
"""
from __future__ import annotations

import math
import os
import secrets
import shutil
import sys
import weakref
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing import resource_tracker
from multiprocessing.shared_memory import SharedMemory
from typing import Iterator

import numpy as np
import psutil

SHM_PATH = "/dev/shm"
NAME_PREFIX = "lab"  # then the creator's pid: lab1234_9f3a0c1e


@dataclass(frozen=True)
class Segment:
    """What another process needs to find a shared array: picklable and small."""

    name: str
    shape: tuple[int, ...]
    dtype: str


@dataclass(frozen=True)
class SharedArray:
    """A shared array and the segment that names it for other processes."""

    segment: Segment
    array: np.ndarray


def free_bytes() -> int | None:
    """Free space for shared memory, or None where the platform has no /dev/shm to fill."""
    return shutil.disk_usage(SHM_PATH).free if os.path.isdir(SHM_PATH) else None


def room() -> int:
    """The largest size the lab will place in shared memory: half the free space in
    /dev/shm and a quarter of available memory, whichever is less."""
    limit = psutil.virtual_memory().available // 4
    shm_free = free_bytes()
    return min(limit, shm_free // 2) if shm_free is not None else limit


def check_room(nbytes: int) -> None:
    """ValueError, naming the limit and the fix, unless `nbytes` fits."""
    limit = room()
    if nbytes > limit:
        shm_free = free_bytes()
        where = (f"/dev/shm has {shm_free / 2**20:.0f} MiB free (Docker's default is 64 MB; "
                 "start the container with --shm-size=1g)" if shm_free is not None and
                 shm_free // 2 < psutil.virtual_memory().available // 4 else
                 f"{psutil.virtual_memory().available / 2**20:.0f} MiB of memory is available")
        raise ValueError(f"{nbytes / 2**20:.1f} MiB will not fit in shared memory: the limit here "
                         f"is {limit / 2**20:.1f} MiB, as {where}. Choose a smaller size.")


def _shape_and_dtype(shape, dtype) -> tuple[tuple[int, ...], np.dtype]:
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    if not shape or any(isinstance(n, bool) or not isinstance(n, int) or n < 1 for n in shape):
        raise ValueError(f"shape must be positive integers, got {shape!r}")
    try:
        checked = np.dtype(dtype)
    except TypeError:
        checked = None
    if checked is None or checked.hasobject:  # Python objects cannot live in shared memory
        raise ValueError(f"dtype must be a NumPy number or bytes type such as 'float64', "
                         f"'int64' or 'uint8', got {dtype!r}")
    return shape, checked


@contextmanager
def shared_array(shape, dtype="float64") -> Iterator[SharedArray]:
    """A new zeroed array in shared memory; its segment is unlinked when the block ends."""
    shape, dtype = _shape_and_dtype(shape, dtype)
    nbytes = math.prod(shape) * dtype.itemsize
    check_room(nbytes)
    memory = SharedMemory(create=True, size=nbytes, name=_new_name())
    try:
        array = _view(memory, shape, dtype)
        yield SharedArray(Segment(memory.name, shape, dtype.str), array)
    finally:
        memory.unlink()  # the name goes now; the pages go with the last view


def _new_name() -> str:
    """A fresh segment name that says which process made it (short enough for macOS's
    31 characters), so a leak check can tell this kernel's segments from anyone else's."""
    return f"{NAME_PREFIX}{os.getpid()}_{secrets.token_hex(4)}"


def made_by(pid: int) -> set[str]:
    """Names of the segments process `pid` created through the lab that still exist."""
    if free_bytes() is None:
        return set()
    return {name for name in os.listdir(SHM_PATH) if name.startswith(f"{NAME_PREFIX}{pid}_")}


def attach(segment: Segment) -> np.ndarray:
    """In another process: the array an existing segment holds. Its mapping closes when
    the last view of it goes; the creator alone unlinks the name."""
    return _view(_open(segment.name), segment.shape, np.dtype(segment.dtype))


def _view(memory: SharedMemory, shape, dtype) -> np.ndarray:
    array = np.ndarray(shape, dtype, buffer=memory.buf)
    weakref.finalize(array, memory.close)  # unmap only once no view is left
    return array


def share_tracker() -> None:
    """Start the resource tracker before starting children that will attach.

    Before Python 3.13 attaching registers the name with the resource tracker too. A
    child sharing the parent's tracker makes that harmless; a forked child without one
    would start its own, which unlinks the segment (and complains) when the child exits.

    A no-op on Windows: there a segment lives while some process holds a handle to it, so
    shared memory has no tracker (and ensure_running() fails, needing _posixsubprocess)."""
    if sys.platform == "win32":
        return
    resource_tracker.ensure_running()


def _open(name: str) -> SharedMemory:
    """Attach without a second claim on the segment where Python allows it (3.13+)."""
    if sys.version_info >= (3, 13):
        return SharedMemory(name=name, track=False)
    return SharedMemory(name=name)
