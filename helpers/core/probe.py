"""What runs inside a worker: the timed call, the worker's name tag, and a quieter Dask shutdown.

Imports only the standard library, so any worker can load it: a child process, a Dask
worker, a subinterpreter (which cannot import NumPy or psutil).
"""
import logging
import os
import threading
import time

HEARTBEAT_RACE = "Failed to communicate with scheduler during heartbeat"
DASK_WORKER_LOG = "distributed.worker"


def whoami(pause: float) -> tuple[int, int]:
    """Wait `pause` s (so one fast worker cannot take every warm-up task), then say who ran it."""
    time.sleep(pause)
    return os.getpid(), threading.get_ident()


def timed_call(fn, argument, index: int):
    """The task plus who ran it, when, and its CPU time."""
    start, cpu_start = time.perf_counter(), time.thread_time()
    value = fn(argument)
    cpu_time, end = time.thread_time() - cpu_start, time.perf_counter()
    return index, os.getpid(), threading.get_ident(), start, end, cpu_time, value


class HeartbeatRaceFilter(logging.Filter):
    """Drops the one error a Dask worker logs when it closes while a heartbeat is still on its
    way to the scheduler (dask/distributed#7105): harmless at shutdown, alarming in a notebook."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith(HEARTBEAT_RACE)


class UnretrievedTimeoutFilter(logging.Filter):
    """Drops asyncio's report of a future that timed out and that nobody awaited any more, which
    Dask's client and cluster can leave behind when they close on a busy machine (seen once, in
    Binder's environment: "Future exception was never retrieved … TimeoutError: Timeout"):
    harmless once the cluster is closed, alarming in a notebook. Any other report stays."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        return not (record.getMessage().startswith("Future exception was never retrieved")
                    and isinstance(error, TimeoutError))


def hide_unretrieved_timeouts() -> None:
    """Put that filter on this process's asyncio logger, once, for good: the future is reported
    when it is garbage-collected, which may be long after the cluster closed."""
    logger = logging.getLogger("asyncio")
    if not any(isinstance(f, UnretrievedTimeoutFilter) for f in logger.filters):
        logger.addFilter(UnretrievedTimeoutFilter())


def hide_heartbeat_race() -> None:
    """Put the filter on this process's Dask worker logger, once."""
    logger = logging.getLogger(DASK_WORKER_LOG)
    if not any(isinstance(f, HeartbeatRaceFilter) for f in logger.filters):
        logger.addFilter(HeartbeatRaceFilter())


def show_heartbeat_race() -> None:
    """Take the filter off again (in-process workers put it on the kernel's own logger)."""
    logger = logging.getLogger(DASK_WORKER_LOG)
    for f in [f for f in logger.filters if isinstance(f, HeartbeatRaceFilter)]:
        logger.removeFilter(f)
