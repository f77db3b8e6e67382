"""What runs inside a worker: the timed call and the worker's name tag.

Imports only the standard library, so any worker can load it: a child process, a Dask
worker, a subinterpreter (which cannot import NumPy or psutil).
"""
import os
import threading
import time


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
