"""Notebook 03's experiments: sharing data between threads, and between processes.

Threads see one memory; processes must send copies or map shared memory. Every
channel here is opened in a `with` block that stops its child, so an exception
or an interrupt leaves no process and no /dev/shm segment behind.
"""
from __future__ import annotations

import concurrent.futures
import multiprocessing
import os
import queue
import re
import select
import statistics
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Sequence

import numpy as np
import psutil

from ..core import machine, runner, shm, text
from ..core.text import Verdict
from ..core.children.pipe_sink import HEADER, STAMP

KiB, MiB = 2**10, 2**20
PIPE_SINK = Path(__file__).parents[1] / "core" / "children" / "pipe_sink.py"
CHILD_TIMEOUT = 60.0
SELECT_TAKES_PIPES = os.name == "posix"  # Windows' select() takes sockets only
Progress = runner.Progress





def memory_limit() -> int:
    """The largest single buffer an experiment may use: a sixteenth of available memory
    (senders, pickles and receivers each hold copies)."""
    return psutil.virtual_memory().available // 16


def _tick(progress: Progress | None, done: int, total: int) -> None:
    if progress:
        progress(done, total)


# --- 1. threads share memory for free -----------------------------------------------------------


@dataclass(frozen=True)
class InPlace:
    """Median seconds to fill each size in place, per case ('NumPy, 1 thread', …)."""

    sizes: tuple[int, ...]
    seconds: dict[str, tuple[float, ...]]
    workers: int
    same_objects: bool  # every thread wrote into the very array and list the caller holds


def _fill_array(array: np.ndarray, start: int, stop: int, value: float) -> int:
    array[start:stop] = value
    return array.__array_interface__["data"][0]


def _fill_list(values: list, start: int, stop: int, value: object) -> int:
    for i in range(start, stop):
        values[i] = value
    return id(values)


def _fill_with(pool, fill, target, workers: int, value) -> tuple[float, set[int]]:
    """Seconds for `workers` threads to fill their slices of `target`; the addresses they saw."""
    bounds = np.linspace(0, len(target), workers + 1).astype(int)
    began = time.perf_counter()
    seen = {f.result() for f in [pool.submit(fill, target, a, b, value)
                                 for a, b in zip(bounds[:-1], bounds[1:])]}
    return time.perf_counter() - began, seen


def in_place(sizes_mib: Sequence[int] = (1, 4, 16, 64), workers: int | None = None,
             repeats: int = 3, progress: Progress | None = None) -> InPlace:
    """Threads fill one NumPy array and one Python list, in place, at each size."""
    workers = max(2, machine.usable_cpus().value) if workers is None else workers
    runner.check_workers(workers, "threads")
    runner.check_int("repeats", repeats, 1, 100)
    sizes = [size * MiB for size in sizes_mib]
    for size in sizes_mib:
        runner.check_int("each size (MiB)", size, 1, max(1, memory_limit() // MiB))
    cases = {f"NumPy array, 1 thread": (_fill_array, 1), f"NumPy array, {workers} threads": (_fill_array, workers),
             "list, 1 thread": (_fill_list, 1), f"list, {workers} threads": (_fill_list, workers)}
    seconds: dict[str, list[float]] = {case: [] for case in cases}
    same = True
    with runner.open_pool("threads", workers) as pool:
        for done, size in enumerate(sizes):
            items = size // 8  # one float64, or one list slot (a pointer), per 8 bytes
            targets = {_fill_array: np.zeros(items), _fill_list: [None] * items}
            targets[_fill_array].fill(1.0)  # touch every page before timing
            own = {_fill_array: targets[_fill_array].__array_interface__["data"][0],
                   _fill_list: id(targets[_fill_list])}
            for case, (fill, count) in cases.items():
                times = []
                for repeat in range(repeats):
                    took, seen = _fill_with(pool, fill, targets[fill], count, repeat)
                    same = same and seen == {own[fill]}
                    times.append(took)
                seconds[case].append(statistics.median(times))
            same = same and bool((targets[_fill_array] == repeats - 1).all())
            same = same and targets[_fill_list].count(repeats - 1) == items
            del targets
            _tick(progress, done + 1, len(sizes))
    return InPlace(tuple(sizes), {c: tuple(s) for c, s in seconds.items()}, workers, same)


def in_place_verdict(result: InPlace) -> Verdict:
    top, n = result.sizes[-1], result.workers
    array_1, array_n, list_1, list_n = (result.seconds[c][-1] for c in result.seconds)
    shared = ("Every thread wrote into the very array and list the main thread holds (same "
              "address, every value seen afterwards): nothing was copied or sent."
              if result.same_objects else "Some thread did NOT see the caller's objects — unexpected.")
    return Verdict(shared, (
        f"At {text.size(top)}: the array filled at {text.rate(top / array_n)} with "
        f"{n} threads ({array_1 / array_n:.2f}× one thread); the list took {list_n * 1000:.0f} ms "
        f"with {n} threads ({list_1 / list_n:.2f}× one thread — {_list_reason()})."))


def _list_reason() -> str:
    """Why a Python loop over a list does or does not speed up with threads, on this interpreter."""
    if machine.gil_enabled().value:
        return "its loop is Python, so the GIL lets one thread run at a time"
    return "this Python has no GIL, so only the CPUs and the list's own locking limit it"


# --- 2. and 4. message passing, shared memory and the crossover ----------------------------------


DEFAULT_PAYLOADS = (1, 16, 256, 4 * KiB, 64 * KiB, MiB, 16 * MiB, 64 * MiB)
BATCH_BYTES = 16 * MiB
MAX_BATCH = 200
BATCHES = 3  # throughput is the best of three batches: a busy machine only ever slows one down
LATENCY_REPEATS = 3
CHANNELS = ("Queue", "Pipe", "pool argument", "pool result", "raw os.pipe", "shared memory",
            "threads: queue.Queue")
MESSAGE_PASSING = CHANNELS[:5]


@dataclass(frozen=True)
class Transfers:
    """Per channel and payload size: bytes per second when streaming (best of three
    batches of up to 16 MiB), and one-way latency (median of three single messages)."""

    sizes: tuple[int, ...]
    throughput: dict[str, tuple[float, ...]]
    latency: dict[str, tuple[float, ...]]
    memcpy: tuple[float, ...]  # per payload size: bytes per second copying it between warm buffers
    start_method: str

    def best(self, channel: str) -> float:
        return max(self.throughput[channel])


def payload_sizes(largest: int = 64 * MiB) -> list[int]:
    """The default sizes up to `largest`, capped by memory; ValueError outside 1 B … the cap."""
    runner.check_int("largest payload (bytes)", largest, 1, max(1, memory_limit()))
    return [size for size in DEFAULT_PAYLOADS if size <= largest] or [largest]


def batch_size(size: int) -> int:
    """Messages per timed batch: about 16 MiB in all, at most 200."""
    return max(1, min(MAX_BATCH, BATCH_BYTES // size))


def transfers(largest: int = 64 * MiB, channels: Sequence[str] = CHANNELS,
              method: str | None = None, progress: Progress | None = None) -> Transfers:
    """Stream payloads of each size through each channel to one receiver, and time them."""
    sizes = payload_sizes(largest)
    for channel in channels:
        runner.check_choice("channel", channel, CHANNELS)
    if "shared memory" in channels:
        shm.check_room(sizes[-1])
    method = runner.check_start_method(method)
    payloads = {size: np.random.default_rng(size).bytes(size) for size in sizes}
    throughput, latency = {}, {}
    for done, channel in enumerate(channels):
        with OPENERS[channel](method, sizes[-1]) as send:
            send(b"x", 1)  # the receiver is up and every lazy start-up is paid before timing
            rates, waits = [], []
            for size in sizes:
                count = batch_size(size)
                batches = [_timed_batch(send, payloads[size], count) for _ in range(BATCHES)]
                rates.append(size * count / min(batches))
                waits.append(statistics.median(batches) if count == 1 else statistics.median(
                    _timed_batch(send, payloads[size], 1) for _ in range(LATENCY_REPEATS)))
            throughput[channel], latency[channel] = tuple(rates), tuple(waits)
        _tick(progress, done + 1, len(channels))
    # memcpy at every size, so each channel is compared with copying the same bytes: small
    # payloads stay in the CPU's caches, where copying is faster than from memory.
    memcpy = tuple(memcpy_bandwidth(size) for size in sizes)
    return Transfers(tuple(sizes), throughput, latency, memcpy, method)


def _timed_batch(send: Callable[[bytes, int], float], payload: bytes, count: int) -> float:
    """Seconds from the first send until the receiver had the last message."""
    began = time.perf_counter()
    return send(payload, count) - began


def memcpy_bandwidth(nbytes: int, repeats: int = 10) -> float:
    """Bytes per second of the best of a few copies between two warm buffers."""
    runner.check_int("nbytes", nbytes, 1, max(1, memory_limit()))
    runner.check_int("repeats", repeats, 1, 100)
    source = np.ones(nbytes, dtype=np.uint8)
    target = np.zeros(nbytes, dtype=np.uint8)
    np.copyto(target, source)  # pay the page faults before timing
    best = min(_seconds(lambda: np.copyto(target, source)) for _ in range(repeats))
    return nbytes / best


def _seconds(call: Callable[[], object]) -> float:
    began = time.perf_counter()
    call()
    return time.perf_counter() - began


# The receivers. Each takes a batch size, receives that many messages, and answers with the
# time the last one arrived (perf_counter is one clock for every process on the machine).


def queue_receiver(inbox, outbox) -> None:
    """Runs in a child: receive batches from a multiprocessing.Queue until None."""
    while (count := inbox.get()) is not None:
        for _ in range(count):
            inbox.get()
        outbox.put(time.perf_counter())


def pipe_receiver(connection) -> None:
    """Runs in a child: receive batches from a Pipe until None."""
    while (count := connection.recv()) is not None:
        for _ in range(count):
            connection.recv()
        connection.send(time.perf_counter())


def arrived(payload: bytes) -> float:
    """Runs in a pool worker: the payload came as an argument."""
    return time.perf_counter()


_outgoing: dict[int, bytes] = {}


def send_back(size: int) -> bytes:
    """Runs in a pool worker: a payload of `size` bytes as the result (made once per size)."""
    if size not in _outgoing:
        _outgoing.clear()
        _outgoing[size] = np.random.default_rng(size).bytes(size)
    return _outgoing[size]


def shm_receiver(segment: shm.Segment, connection) -> None:
    """Runs in a child: for each message, the sender filled the shared buffer; read its last
    byte where it lies (nothing is copied to this process) and answer."""
    buffer = shm.attach(segment)
    while (size := connection.recv()) is not None:
        buffer[size - 1]
        connection.send(time.perf_counter())


def _stop(children: Sequence, ok: bool) -> None:
    """Join children that were told to stop; terminate them at once after an error."""
    for child in children:
        if not ok and child.is_alive():
            child.terminate()
        child.join(timeout=CHILD_TIMEOUT)
        if child.is_alive():
            child.kill()
            child.join()


@contextmanager
def _child(method: str, target, *args) -> Iterator[None]:
    """One child process for the block; on any error it is terminated before the error goes on."""
    child = multiprocessing.get_context(method).Process(target=target, args=args, daemon=True)
    runner.start(child)
    ok = False
    try:
        yield
        ok = True
    finally:
        _stop([child], ok)


def _get(box, what: str = "the child"):
    try:
        return box.get(timeout=CHILD_TIMEOUT)
    except queue.Empty:
        raise TimeoutError(f"{what} did not answer within {CHILD_TIMEOUT:.0f} s") from None


def _recv(connection, what: str = "the child"):
    if not connection.poll(CHILD_TIMEOUT):
        raise TimeoutError(f"{what} did not answer within {CHILD_TIMEOUT:.0f} s")
    return connection.recv()


@contextmanager
def _queue_channel(method: str, largest: int):
    context = multiprocessing.get_context(method)
    inbox, outbox = context.Queue(), context.Queue()

    def send(payload: bytes, count: int) -> float:
        inbox.put(count)
        for _ in range(count):
            inbox.put(payload)
        return _get(outbox)

    try:
        with _child(method, queue_receiver, inbox, outbox):
            yield send
            inbox.put(None)
    finally:
        for box in (inbox, outbox):
            _close_after_reader(box)


def _close_after_reader(box) -> None:
    """Close a Queue whose reading process has ended, however it ended.

    This process's feeder thread may still be writing into a full pipe nobody reads, and a
    reader killed mid-get() may have taken the queue's read lock with it. So the pipe is
    emptied directly (the private `_reader`: no public call skips that lock) until the feeder
    has finished; otherwise join_thread() would wait for ever."""
    box.close()
    feeder = getattr(box, "_thread", None)
    if feeder is not None:
        feeder.join(timeout=1)
        while feeder.is_alive():
            try:
                if box._reader.poll(0.05):
                    box._reader.recv_bytes()
            except (OSError, EOFError):
                break
    box.join_thread()


@contextmanager
def _pipe_channel(method: str, largest: int):
    ours, theirs = multiprocessing.get_context(method).Pipe()

    def send(payload: bytes, count: int) -> float:
        ours.send(count)
        for _ in range(count):
            ours.send(payload)
        return _recv(ours)

    try:
        with _child(method, pipe_receiver, theirs):
            yield send
            ours.send(None)
    finally:
        ours.close()
        theirs.close()


@contextmanager
def _pool_argument_channel(method: str, largest: int):
    with runner.open_pool("processes", 1, method) as pool:
        def send(payload: bytes, count: int) -> float:
            futures = [pool.submit(arrived, payload) for _ in range(count)]
            return max(f.result(timeout=CHILD_TIMEOUT) for f in futures)
        yield send


@contextmanager
def _pool_result_channel(method: str, largest: int):
    with runner.open_pool("processes", 1, method) as pool:
        def send(payload: bytes, count: int) -> float:
            for future in [pool.submit(send_back, len(payload)) for _ in range(count)]:
                future.result(timeout=CHILD_TIMEOUT)
            return time.perf_counter()
        yield send


@contextmanager
def _raw_pipe_channel(method: str, largest: int):
    """A plain subprocess reading raw bytes from its stdin (no start method applies)."""
    child = subprocess.Popen([sys.executable, str(PIPE_SINK)], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, bufsize=0)
    into, back = child.stdin.fileno(), child.stdout.fileno()

    def send(payload: bytes, count: int) -> float:
        _write_all(into, HEADER.pack(count, len(payload)))
        for _ in range(count):
            _write_all(into, payload)
        return STAMP.unpack(_read_exactly(back, STAMP.size))[0]

    ok = False
    try:
        yield send
        _write_all(into, HEADER.pack(0, 0))
        ok = True
    finally:
        if not ok:
            child.kill()
        child.stdin.close()
        child.stdout.close()
        try:
            child.wait(timeout=CHILD_TIMEOUT)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _read_exactly(fd: int, size: int, timeout: float = CHILD_TIMEOUT) -> bytes:
    """`size` bytes from the pipe `fd`; TimeoutError if none come for `timeout` seconds."""
    chunks, left = [], size
    while left:
        chunk = _read_some(fd, left, timeout)
        if not chunk:
            raise EOFError("the raw pipe reader stopped")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _read_some(fd: int, most: int, timeout: float) -> bytes:
    """Up to `most` bytes, as soon as any come: select() waits on the pipe where it can
    (POSIX); Windows' select() takes sockets only, so there a thread reads instead."""
    if not SELECT_TAKES_PIPES:
        return _read_on_a_thread(fd, most, timeout)
    if not select.select([fd], [], [], timeout)[0]:
        raise _reader_silent(timeout)
    return os.read(fd, most)


def _read_on_a_thread(fd: int, most: int, timeout: float) -> bytes:
    """os.read() on a helper thread, waited for at most `timeout` s. A read that times out
    ends when the caller kills the child, which closes the pipe's other end."""
    answer: concurrent.futures.Future = concurrent.futures.Future()

    def read() -> None:
        try:
            answer.set_result(os.read(fd, most))
        except OSError as error:
            answer.set_exception(error)

    threading.Thread(target=read, daemon=True, name="lab-pipe-reader").start()
    try:
        return answer.result(timeout)
    except concurrent.futures.TimeoutError:
        raise _reader_silent(timeout) from None


def _reader_silent(timeout: float) -> TimeoutError:
    return TimeoutError(f"the raw pipe reader did not answer within {timeout:g} s")


@contextmanager
def _shared_memory_channel(method: str, largest: int):
    """The sender copies each payload into one shared buffer; the receiver reads it in place."""
    ours, theirs = multiprocessing.get_context(method).Pipe()
    with shm.shared_array(largest, "uint8") as shared:
        shared.array.fill(0)  # touch every page before timing

        def send(payload: bytes, count: int) -> float:
            incoming = np.frombuffer(payload, dtype=np.uint8)
            for _ in range(count):  # one buffer: wait for each answer before writing again
                shared.array[:len(payload)] = incoming
                ours.send(len(payload))
                arrived_at = _recv(ours)
            return arrived_at

        try:
            with _child(method, shm_receiver, shared.segment, theirs):
                yield send
                ours.send(None)
        finally:
            ours.close()
            theirs.close()


def thread_receiver(inbox: queue.Queue, outbox: queue.Queue) -> None:
    """Runs in a thread: the same protocol as queue_receiver; messages are references."""
    while (count := inbox.get()) is not None:
        for _ in range(count):
            inbox.get()
        outbox.put(time.perf_counter())


@contextmanager
def _thread_channel(method: str, largest: int):
    inbox, outbox = queue.Queue(), queue.Queue()
    receiver = threading.Thread(target=thread_receiver, args=(inbox, outbox), daemon=True,
                                name="lab-receiver")
    receiver.start()

    def send(payload: bytes, count: int) -> float:
        inbox.put(count)
        for _ in range(count):
            inbox.put(payload)
        return _get(outbox, "the receiving thread")

    try:
        yield send
    finally:
        inbox.put(None)
        receiver.join(timeout=CHILD_TIMEOUT)


OPENERS: dict[str, Callable] = {
    "Queue": _queue_channel,
    "Pipe": _pipe_channel,
    "pool argument": _pool_argument_channel,
    "pool result": _pool_result_channel,
    "raw os.pipe": _raw_pipe_channel,
    "shared memory": _shared_memory_channel,
    "threads: queue.Queue": _thread_channel,
}


def message_passing_verdict(result: Transfers) -> Verdict:
    top, raw = result.sizes[-1], result.throughput["raw os.pipe"][-1]
    fastest = max(MESSAGE_PASSING[:4], key=lambda c: result.throughput[c][-1])
    headline = (f"Streaming {text.size(top)} messages, the fastest channel, {fastest}, moved "
                f"{text.rate(result.throughput[fastest][-1])}, against {text.rate(raw)} "
                "through a bare os.pipe.")
    parts = [f"{channel} {text.rate(result.throughput[channel][-1])} "
             f"({result.throughput[channel][-1] / raw:.0%} of the pipe)" for channel in MESSAGE_PASSING[:4]]
    small = min(MESSAGE_PASSING[:4], key=lambda c: result.latency[c][0])
    details = ("; ".join(parts) + f". A {text.size(result.sizes[0])} message took "
               f"{result.latency[small][0] * 1e6:.0f} µs one way at best ({small}); a "
               f"{text.size(top)} one {min(result.latency[c][-1] for c in MESSAGE_PASSING[:4]) * 1000:.0f} ms.")
    if result.throughput[fastest][-1] > raw:
        details += (f" {fastest} beat the bare pipe: a Pipe is a pair of sockets on Linux and "
                    "macOS, and a socket can move bytes faster than an os.pipe.")
    return Verdict(headline, details)


def crossover_verdict(result: Transfers) -> Verdict:
    best_message = max(MESSAGE_PASSING[:4], key=lambda c: result.throughput[c][-1])
    above = next((size for size, s, m in zip(result.sizes, result.throughput["shared memory"],
                                              result.throughput[best_message]) if s > m), None)
    where = (f"From {text.size(above)} on, shared memory moved data faster than {best_message}"
             if above is not None else f"Shared memory never beat {best_message} here")
    top, memcpy = result.sizes[-1], result.memcpy[-1]
    shared, message = result.throughput["shared memory"][-1], result.throughput[best_message][-1]
    return Verdict(f"{where}.", (
        f"At {text.size(top)}, this machine copies warm memory at {text.rate(memcpy)}. Shared "
        f"memory reached {text.rate(shared)} ({shared / memcpy:.0%} of that: one copy into the "
        f"buffer, none out); the best message passing, {best_message}, {text.rate(message)} "
        f"({message / memcpy:.0%}). Threads passed a reference, so their 'bandwidth' only grows "
        "with the size."))


# --- 3. shared state between processes -----------------------------------------------------------


@dataclass(frozen=True)
class StateRun:
    """One way of sharing state: `increments` additions of 1 by `workers` processes."""

    label: str
    increments: int
    seconds: float
    correct: bool
    detail: str

    @property
    def rate(self) -> float:
        return self.increments / self.seconds if self.seconds > 0 else 0.0


# label -> (how each child adds, how many increments by default, what is shared)
STATE_METHODS = {
    "SharedMemory + NumPy slice": ("numpy", 4 * MiB, "array"),
    "RawArray, item by item": ("items", 1_000_000, "array"),
    "Array, lock per item": ("items", 100_000, "array"),
    "Array, one lock per slice": ("locked slice", 1_000_000, "array"),
    "Value with get_lock()": ("locked counter", 100_000, "counter"),
    "Value, no lock": ("counter", 1_000_000, "counter"),
    "Manager list proxy": ("items", 2_000, "array"),
}


def add_ones(how: str, shared, start: int, stop: int) -> None:
    """Add 1 to items start…stop-1 of `shared`, or to a shared counter stop-start times."""
    if how == "numpy":
        shared[start:stop] += 1
    elif how == "items":
        for i in range(start, stop):
            shared[i] += 1
    elif how == "locked slice":
        with shared.get_lock():
            raw = shared.get_obj()  # inside the lock, skip the per-item locking
            for i in range(start, stop):
                raw[i] += 1
    elif how == "locked counter":
        for _ in range(start, stop):
            with shared.get_lock():
                shared.value += 1
    else:  # "counter": a read and a write, with other processes writing in between
        for _ in range(start, stop):
            shared.value += 1


def state_worker(how: str, shared, start: int, stop: int, connection) -> None:
    """Runs in a child: say ready, wait for go, add, report (start, end) on one clock."""
    target = shm.attach(shared) if isinstance(shared, shm.Segment) else shared
    connection.send("ready")
    connection.recv()
    began = time.perf_counter()
    add_ones(how, target, start, stop)
    connection.send((began, time.perf_counter()))


def shared_state(workers: int = 2, methods: Sequence[str] = tuple(STATE_METHODS),
                 scale: float = 1.0, method: str | None = None,
                 progress: Progress | None = None) -> list[StateRun]:
    """Each way of sharing state runs the same job: `workers` processes add 1, many times."""
    runner.check_workers(workers, "processes")
    for label in methods:
        runner.check_choice("way of sharing", label, STATE_METHODS)
    if not 0.001 <= scale <= 10:
        raise ValueError(f"scale must be from 0.001 to 10, got {scale!r}")
    method = runner.check_start_method(method)
    context = multiprocessing.get_context(method)
    shm.share_tracker()
    runs = []
    for done, label in enumerate(methods):
        how, default, _ = STATE_METHODS[label]
        increments = max(workers, int(default * scale))
        with _shared_for(label, increments, context) as (shared, read_back):
            seconds = _run_together(context, how, shared, increments, workers)
            runs.append(_judge(label, increments, seconds, read_back()))
        _tick(progress, done + 1, len(methods))
    return runs


@contextmanager
def _shared_for(label: str, increments: int, context):
    """The shared object for one way of sharing, and a function reading it back as numbers."""
    if label.startswith("SharedMemory"):
        with shm.shared_array(increments, "int64") as shared:
            yield shared.segment, lambda: shared.array.copy()
    elif label.startswith("RawArray"):
        shared = context.RawArray("q", increments)
        yield shared, lambda: np.frombuffer(shared, dtype=np.int64).copy()
    elif label.startswith("Array"):
        shared = context.Array("q", increments)
        yield shared, lambda: np.frombuffer(shared.get_obj(), dtype=np.int64).copy()
    elif label.startswith("Value"):
        shared = context.Value("q", 0, lock=label == "Value with get_lock()")
        yield shared, lambda: np.array([shared.value])
    else:
        with runner.fork_warning_hidden():  # a fork context's Manager forks its server
            manager = context.Manager()
        with manager:
            shared = manager.list([0] * increments)
            yield shared, lambda: np.array(list(shared))


def _run_together(context, how: str, shared, increments: int, workers: int) -> float:
    """Start the workers, let them go at once; seconds from the first start to the last end."""
    bounds = np.linspace(0, increments, workers + 1).astype(int).tolist()
    pipes = [context.Pipe() for _ in range(workers)]
    children = [context.Process(target=state_worker, args=(how, shared, a, b, theirs), daemon=True)
                for (a, b), (_, theirs) in zip(zip(bounds[:-1], bounds[1:]), pipes)]
    started, ok = [], False
    try:
        for child in children:
            runner.start(child)
            started.append(child)
        for ours, _ in pipes:
            _recv(ours, "a worker process")
        for ours, _ in pipes:
            ours.send("go")
        stamps = [_recv(ours, "a worker process") for ours, _ in pipes]
        ok = True
    finally:
        _stop(started, ok)
        for ours, theirs in pipes:
            ours.close()
            theirs.close()
    return max(end for _, end in stamps) - min(start for start, _ in stamps)


def _judge(label: str, increments: int, seconds: float, values: np.ndarray) -> StateRun:
    if STATE_METHODS[label][2] == "counter":
        total = int(values[0])
        lost = increments - total
        return StateRun(label, increments, seconds, lost == 0,
                        f"{lost:,} of {increments:,} lost" if lost else "exact")
    wrong = int((values != 1).sum())
    return StateRun(label, increments, seconds, wrong == 0,
                    f"{wrong:,} items wrong" if wrong else "exact")


def state_verdict(runs: Sequence[StateRun]) -> Verdict:
    fastest = max(runs, key=lambda r: r.rate)
    slowest = min(runs, key=lambda r: r.rate)
    wrong = [r.label for r in runs if not r.correct]
    slower = text.times(fastest.rate / slowest.rate, "slower", "faster", "about as fast")
    headline = (f"Fastest: {fastest.label}; slowest: {slowest.label}, {slower}"
                + (f"; wrong total: {', '.join(wrong)}." if wrong else "."))
    lost = (" Wrong: " + ", ".join(f"{r.label} ({r.detail})" for r in runs if not r.correct)
            + " — nothing guarded the read-modify-write." if wrong else "")
    return Verdict(headline, f"{fastest.label}: {fastest.rate / 1e6:,.1f} million additions per second; "
                             f"{slowest.label}: {slowest.rate:,.0f} per second.{lost}")


# --- 5. a worked job: normalise the rows of a large array ----------------------------------------


JOB_METHODS = ("sequential", "copies through a pool", "shared memory", "threads on NumPy")
ROW_LENGTH = 1024


def normalise(rows: np.ndarray) -> np.ndarray:
    """Scale each row to unit length, in place; returns the same array."""
    rows /= np.sqrt(np.einsum("ij,ij->i", rows, rows))[:, None]
    return rows


def normalised_copy(rows: np.ndarray) -> np.ndarray:
    """Runs in a pool worker: the rows arrived as a pickled copy and go back as one."""
    return normalise(rows)


_attached: dict[str, np.ndarray] = {}


def normalise_segment(segment: shm.Segment, start: int, stop: int) -> None:
    """Runs in a pool worker: normalise rows start…stop-1 where they lie, in shared memory.
    Each worker maps the segment once and keeps it for the pool's next tasks."""
    if segment.name not in _attached:
        _attached.clear()
        _attached[segment.name] = shm.attach(segment)
    normalise(_attached[segment.name][start:stop])


@dataclass(frozen=True)
class JobRun:
    method: str
    seconds: float
    peak_mib: float  # extra memory of this process and its children at the peak


@dataclass(frozen=True)
class Job:
    nbytes: int
    workers: int
    runs: tuple[JobRun, ...]
    memory_measure: str

    def run(self, method: str) -> JobRun:
        return next(r for r in self.runs if r.method == method)


def default_job_bytes() -> int:
    """64 MiB, or less where shared memory or available memory is short."""
    return max(MiB, min(64 * MiB, shm.room() // 2, memory_limit()) // MiB * MiB)


def job(megabytes: int | None = None, workers: int | None = None,
        methods: Sequence[str] = JOB_METHODS, method: str | None = None,
        progress: Progress | None = None) -> Job:
    """Normalise the rows of one array with each method; every result must equal sequential's."""
    nbytes = default_job_bytes() if megabytes is None else _job_bytes(megabytes)
    workers = max(2, machine.usable_cpus().value) if workers is None else workers
    runner.check_workers(workers, "processes")
    for name in methods:
        runner.check_choice("method", name, JOB_METHODS)
    method = runner.check_start_method(method)
    rows = nbytes // 8 // ROW_LENGTH
    data = np.random.default_rng(3).random((rows, ROW_LENGTH))
    expected = normalise(data.copy())
    shm.share_tracker()
    runs = []
    for done, name in enumerate(methods):
        runs.append(_job_run(name, data, expected, workers, method))
        _tick(progress, done + 1, len(methods))
    return Job(rows * ROW_LENGTH * 8, workers, tuple(runs), PeakMemory.measure)


def job_trial(way: str, megabytes: int, workers: int, progress: Progress | None = None) -> Job:
    """The panel: one way beside sequential."""
    return job(megabytes, workers, ("sequential", way), progress=progress)


def _job_bytes(megabytes: int) -> int:
    limit = min(shm.room(), memory_limit()) // MiB
    runner.check_int("megabytes", megabytes, 1, max(1, limit))
    return megabytes * MiB


def _chunks(rows: int, workers: int) -> list[tuple[int, int]]:
    """Four slices of rows per worker, so a slow worker does not hold up the end."""
    bounds = np.linspace(0, rows, 4 * workers + 1).astype(int).tolist()
    return [(a, b) for a, b in zip(bounds[:-1], bounds[1:]) if b > a]


def _job_run(name: str, data: np.ndarray, expected: np.ndarray, workers: int, method: str) -> JobRun:
    """Time one method, then run it again to sample its memory: reading another process's
    memory map stalls its page faults, so sampling during the timed run would slow it."""
    chunks = _chunks(len(data), workers)
    with _prepared(name, data, workers, method) as (run, result):
        began = time.perf_counter()
        run(chunks)
        seconds = time.perf_counter() - began
        if not np.array_equal(result(), expected):
            raise AssertionError(f"{name} gave a different result from the sequential run")
        with PeakMemory() as memory:
            run(chunks)
    return JobRun(name, seconds, memory.peak_mib)


@contextmanager
def _prepared(name: str, data: np.ndarray, workers: int, method: str):
    """For one method: a fresh copy of the data where it must be (pools warmed, untimed),
    a function doing the job on given row slices, and one returning the result."""
    if name in ("sequential", "threads on NumPy"):
        work = data.copy()
        if name == "sequential":
            yield (lambda chunks: normalise(work)), lambda: work
            return
        with runner.open_pool("threads", workers) as pool:
            yield (lambda chunks: list(pool.map(lambda c: normalise(work[c[0]:c[1]]), chunks))), lambda: work
    elif name == "copies through a pool":
        box = []
        with runner.open_pool("processes", workers, method) as pool:
            def run(chunks):
                box[:] = [np.concatenate(list(pool.map(normalised_copy, [data[a:b] for a, b in chunks])))]
            yield run, lambda: box[0]
    else:
        with shm.shared_array(data.shape) as shared, runner.open_pool("processes", workers, method) as pool:
            shared.array[:] = data  # as if the data had been made in shared memory

            def run(chunks):
                list(pool.map(normalise_segment, *zip(*[(shared.segment, a, b) for a, b in chunks])))
            yield run, lambda: shared.array


class PeakMemory:
    """The peak, above the start, of memory summed over this process and its children,
    sampled every 5 ms in a thread. PSS counts a shared page once; where the platform
    has no PSS, RSS is used and shared pages count once per process."""

    measure = "PSS" if sys.platform.startswith("linux") else "RSS"
    INTERVAL = 0.005

    def __enter__(self) -> "PeakMemory":
        self._stop = threading.Event()
        self._start = self._peak = self._total()
        self._thread = threading.Thread(target=self._sample, daemon=True, name="lab-memory")
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self._peak = max(self._peak, self._total())

    @property
    def peak_mib(self) -> float:
        return (self._peak - self._start) / MiB

    def _sample(self) -> None:
        while not self._stop.wait(self.INTERVAL):
            self._peak = max(self._peak, self._total())

    def _total(self) -> int:
        here = psutil.Process()
        total = 0
        for process in [here, *here.children(recursive=True)]:
            try:
                info = process.memory_full_info() if self.measure == "PSS" else process.memory_info()
                total += getattr(info, "pss", info.rss)
            except psutil.Error:
                continue
        return total


def job_verdict(result: Job) -> Verdict:
    base = result.run("sequential") if any(r.method == "sequential" for r in result.runs) else None
    parts = []
    for run in result.runs:
        speed = f", {base.seconds / run.seconds:.2f}× sequential" if base and run is not base else ""
        parts.append(f"{run.method} {run.seconds * 1000:.0f} ms{speed}, +{run.peak_mib:.0f} MiB")
    fastest = min(result.runs, key=lambda r: r.seconds)
    return Verdict(f"Normalising {text.size(result.nbytes)} of rows with {result.workers} workers, "
                   f"{fastest.method} was fastest, at {text.ms(fastest.seconds)}.",
                   "; ".join(parts) + f" (peak extra {result.memory_measure}). Every result equalled "
                   "the sequential one.")


# --- 6. producer and consumers with a Queue -----------------------------------------------------


DONE = None  # the sentinel: one per consumer says "no more work"
LAST_ITEM_GRACE = 0.5  # seconds a consumer stopping on empty() waits for the item it saw


def produce(inbox, items: int, pause: float, sentinels: int) -> None:
    """Runs in a child: put `items` numbers on the queue, one every `pause` seconds, then
    one sentinel per consumer."""
    for item in range(items):
        time.sleep(pause)
        inbox.put(item)
    for _ in range(sentinels):
        inbox.put(DONE)


def consume_until_done(inbox, outbox) -> None:
    """Runs in a child: square items until the sentinel; then report how many it handled."""
    handled = 0
    while (item := inbox.get()) is not DONE:
        outbox.put(item * item)
        handled += 1
    outbox.put(("handled", handled))


def consume_until_empty(inbox, outbox) -> None:
    """Runs in a child: the classic bug — stop as soon as the queue looks empty."""
    handled = 0
    while not inbox.empty():
        # empty()'s answer holds only for a moment: two consumers can both see the last item,
        # and the one that loses it would block in a plain get() for ever (the producer sends
        # no more), so the pipeline timed out now and then. Give up after a short wait
        # instead: the bug on show stays "stops too early", never "hangs".
        try:
            item = inbox.get(timeout=LAST_ITEM_GRACE)
        except queue.Empty:
            break
        outbox.put(item ** 2)
        handled += 1
    outbox.put(("handled", handled))


@dataclass(frozen=True)
class Pipeline:
    consumer: str
    items: int
    handled: tuple[int, ...]  # per consumer
    left_behind: int          # items still in the queue once every consumer had stopped
    complete: bool            # every item squared exactly once
    seconds: float


def pipeline(items: int = 200, consumers: int = 2, pause: float = 0.001, stop_on_empty: bool = False,
             method: str | None = None) -> Pipeline:
    """One producer process, `consumers` consumer processes, Queues between them, no shared state."""
    runner.check_int("items", items, 1, 100_000)
    runner.check_workers(consumers, "processes")
    if not 0 <= pause <= 0.1:
        raise ValueError(f"pause must be from 0 to 0.1 seconds, got {pause!r}")
    method = runner.check_start_method(method)
    context = multiprocessing.get_context(method)
    inbox, outbox = context.Queue(), context.Queue()
    consume = consume_until_empty if stop_on_empty else consume_until_done
    producer = context.Process(target=produce, daemon=True,
                               args=(inbox, items, pause, 0 if stop_on_empty else consumers))
    children = [producer] + [context.Process(target=consume, args=(inbox, outbox), daemon=True)
                             for _ in range(consumers)]
    started, ok = [], False
    began = time.perf_counter()
    try:
        for child in children:
            runner.start(child)
            started.append(child)
        squares, handled = _collect(outbox, consumers)
        seconds = time.perf_counter() - began
        _stop([producer], True)
        left = _count_left(inbox)
        ok = True
    finally:
        _stop(started, ok)
        for box in (inbox, outbox):
            _close_after_reader(box)
    return Pipeline("stop on queue.empty()" if stop_on_empty else "stop on a sentinel", items,
                    tuple(handled), left, sorted(squares) == [i * i for i in range(items)], seconds)


def _collect(outbox, consumers: int) -> tuple[list[int], list[int]]:
    """Squares, and each consumer's count, until every consumer has reported."""
    squares, handled = [], []
    while len(handled) < consumers:
        message = _get(outbox, "a consumer")
        if isinstance(message, tuple):
            handled.append(message[1])
        else:
            squares.append(message)
    return squares, handled


def _count_left(inbox) -> int:
    """Items the producer put that nobody took (the producer has finished)."""
    left = 0
    try:
        while True:
            inbox.get(timeout=0.2)
            left += 1
    except queue.Empty:
        return left


def pipeline_verdict(right: Pipeline, wrong: Pipeline) -> Verdict:
    return Verdict(f"With sentinels {sum(right.handled)} of {right.items} items were handled, "
                   f"{'every result right' if right.complete else 'SOME RESULTS WRONG'}; stopping on "
                   f"queue.empty() handled {sum(wrong.handled)} and left {wrong.left_behind} behind.",
                   f"With sentinels: {' + '.join(map(str, right.handled))} items by "
                   f"{len(right.handled)} consumers, no lock anywhere. " + _empty_verdict(wrong))


def _empty_verdict(wrong: Pipeline) -> str:
    """What stopping on empty() did this time: it is a race, so on a busy machine the
    consumers may never catch the queue empty and (this once) finish the work."""
    said = f"Stopping on queue.empty(): {sum(wrong.handled)} of {wrong.items} handled and " \
           f"{wrong.left_behind} left in the queue"
    if wrong.complete:
        return (said + " — this time the consumers never caught the queue empty, so they "
                "finished. It is a race: run the cell again, and it will quit early.")
    return (said + " — the consumers found it empty between two items and quit while the "
            "producer was still working.")


# --- exercises ------------------------------------------------------------------------------------


def double_in_place(segment: shm.Segment) -> None:
    """Runs in a child (for exercise 1): double the shared array the segment names."""
    array = shm.attach(segment)
    array *= 2


def check_child_write(share_with_child) -> str:
    """Exercise 1: share_with_child(values) must return what this process sees after a child
    ran double_in_place on the values in shared memory."""
    if share_with_child is None:
        return "Not yet: write share_with_child(values) first."
    values = np.random.default_rng().random(10)
    segments_before = _segments()
    with runner.fork_warning_hidden():  # the learner's child may fork from the kernel's threads
        seen = share_with_child(values.copy())
    left = _segments() - segments_before if segments_before is not None else set()
    if left:
        for name in left:  # tidy up after the attempt, then say what went wrong
            _unlink(name)
        return (f"Not yet: the segment(s) {', '.join(sorted(left))} were left in /dev/shm (now "
                "removed). Create the array with shm.shared_array(...) in a with block.")
    if runner.worker_processes():
        return "Not yet: a child process is still running. Join it (or leave the pool's with block)."
    if not isinstance(seen, np.ndarray) or seen.shape != values.shape:
        return f"Not yet: return a NumPy array of shape {values.shape}, got {type(seen).__name__}."
    if np.array_equal(seen, values):
        return ("Not yet: you see the values unchanged — no child wrote into your memory (or it "
                "doubled a copy). Give the child shared.segment, and read shared.array afterwards.")
    if not np.allclose(seen, 2 * values):
        return "Not yet: the values are neither the originals nor doubled."
    if segments_before is None:  # never a pass that skipped the leak check
        return ("Half checked: you saw the child's write, so it wrote into memory this process "
                "also maps. But this checker cannot check for leftover segments here (no /dev/shm "
                "on this platform): make sure shm.shared_array(...) in a with block made the "
                "segment, so that it is removed when the block ends.")
    return ("Right: the child wrote into memory this process also maps, and you saw its write "
            "without anything being sent back.")


def _unlink(name: str) -> None:
    from multiprocessing.shared_memory import SharedMemory
    leftover = SharedMemory(name=name)
    leftover.close()
    leftover.unlink()


def _segments() -> set[str] | None:
    """Shared-memory segments in /dev/shm that this kernel, or the learner's code in it, may
    have made: named semaphores, folders, and other processes' lab segments left out (another
    notebook may be making and removing its own meanwhile). None where there is no /dev/shm
    to list (macOS and Windows cannot list their shared memory)."""
    if shm.free_bytes() is None:
        return None
    someone_elses = re.compile(rf"{shm.NAME_PREFIX}(?!{os.getpid()}_)\d+_")
    return {name for name in os.listdir(shm.SHM_PATH)
            if not name.startswith("sem.") and not someone_elses.match(name)
            and os.path.isfile(os.path.join(shm.SHM_PATH, name))}


def check_consumer(consume, items: int = 50) -> str:
    """Exercise 2: consume(inbox, handle) must call handle(item) for every item and return
    on the sentinel DONE. A producer thread puts items with pauses, so the queue is often
    empty for a moment."""
    if consume is None:
        return "Not yet: write my_consume(inbox, handle) first."
    inbox, handled = queue.Queue(), []
    producer = threading.Thread(target=_slow_producer, args=(inbox, items), daemon=True,
                                name="lab-exercise-producer")
    consumer = threading.Thread(target=consume, args=(inbox, handled.append), daemon=True,
                                name="lab-exercise-consumer")
    producer.start()
    consumer.start()
    producer.join()
    consumer.join(timeout=10)
    if consumer.is_alive():
        for _ in range(100):
            inbox.put(DONE)  # give a stuck consumer every chance to stop
        return ("Not yet: it was still running 10 s after the sentinel arrived. Return when you "
                "get sharing.DONE.")
    if any(item is DONE for item in handled):  # a loaded machine can keep the queue from emptying
        return ("Not yet: it passed the sentinel DONE to handle() as if it were an item. Stop when "
                "you get DONE, without handling it.")
    if sorted(handled) != list(range(items)):
        return (f"Not yet: it handled {len(handled)} of {items} items. It stopped early: the queue "
                "is empty for a moment whenever the consumer is faster than the producer.")
    return f"Right: all {items} items handled, and it stopped on the sentinel."


def _slow_producer(inbox: queue.Queue, items: int) -> None:
    for item in range(items):
        time.sleep(0.002)
        inbox.put(item)
    inbox.put(DONE)
