"""Notebook 06 §4: threads vs asyncio for the same waits — shapes, cleanup, the exercise, errors."""
import asyncio
import signal
import threading
import time

import psutil
import pytest

from helpers.core import runner
from helpers.nb06_choosing import aio


def _lab_threads():
    return runner.lab_threads()


def _interrupt_after(seconds: float) -> threading.Timer:
    """A real SIGINT to the main thread, as Jupyter's interrupt sends: it wakes a blocked wait."""
    main = threading.main_thread().ident
    timer = threading.Timer(seconds, signal.pthread_kill, args=(main, signal.SIGINT))
    timer.start()
    return timer


# --- the comparison ---------------------------------------------------------------------------


def test_compare_shape_and_verdict(no_leftovers):
    seen = []
    result = aio.compare(concurrency=(20, 2), wait_ms=10, repeats=2,
                         progress=lambda done, total: seen.append((done, total)))
    assert result.concurrency == (2, 20)
    assert result.memory_at == 20 and result.wait == 0.01
    for backend in aio.BACKENDS:
        assert [len(w) for w in result.walls[backend]] == [2, 2]
        assert all(w >= 0.009 for walls in result.walls[backend] for w in walls)
        assert len(result.throughput(backend)) == 2 and all(t > 0 for t in result.throughput(backend))
        assert all(s > 0 for s in result.start_seconds[backend])
        assert result.traced_per_task[backend] > 0  # every waiter allocates Python objects
        assert aio.memory_per_task(result, backend) > 0
    assert result.ideal() == pytest.approx((200.0, 2000.0))
    assert seen[-1] == (10, 10) and [d for d, _ in seen] == list(range(1, 11))
    text = aio.compare_verdict(result)
    assert text.startswith("On this machine") and "20 waits of 10 ms" in text


def _fake(threads_wall: float, tasks_wall: float, usable: int = 2, task_uss: float = 0.0):
    return aio.AioComparison(
        wait=0.05, concurrency=(10, 1000),
        walls={"threads": ((0.05,), (threads_wall,)), "asyncio": ((0.05,), (tasks_wall,))},
        start_seconds={"threads": (6e-5, 6e-5), "asyncio": (3e-6, 3e-6)},
        memory_at=1000, uss_per_task={"threads": 12_288.0, "asyncio": task_uss},
        traced_per_task={"threads": 1000.0, "asyncio": 1150.0}, usable_cpus=usable)


def test_verdict_follows_the_numbers():
    text = aio.compare_verdict(_fake(0.2, 0.05))
    assert "asyncio got 4.0× the throughput of threads" in text
    assert "each pending task 1.15 kB" in text and "10.7× more" in text
    assert "the two were about the same" in aio.compare_verdict(_fake(0.052, 0.05))
    assert "less throughput than threads" in aio.compare_verdict(_fake(0.05, 0.1))
    assert "1 CPU" in aio.compare_verdict(_fake(0.2, 0.05, usable=1))
    assert "1 CPU" not in aio.compare_verdict(_fake(0.2, 0.05, usable=2))
    # USS bigger than the heap figure wins: each measure sees only part of a waiter
    assert aio.memory_per_task(_fake(0.2, 0.05, task_uss=4096.0), "asyncio") == 4096.0


@pytest.mark.parametrize("backend", aio.BACKENDS)
def test_one_round_measures_memory(backend, no_leftovers):
    for memory in ("uss", "traced"):
        result = aio.one_round(backend, 50, 0.01, memory)
        assert result.concurrency == 50 and result.memory_bytes is not None
        assert result.wall >= 0.009
    import tracemalloc
    assert not tracemalloc.is_tracing()


# --- running a loop from anywhere -----------------------------------------------------------------


def test_run_works_inside_a_running_loop(no_leftovers):
    async def inner():
        await asyncio.sleep(0.01)
        return "done"

    async def kernel_cell():  # like a notebook cell: this thread already runs a loop
        coroutine = inner()
        with pytest.raises(RuntimeError):
            asyncio.run(coroutine)
        coroutine.close()
        return aio.run(inner, timeout=5), aio.one_round("asyncio", 10, 0.01).concurrency

    assert asyncio.run(kernel_cell()) == ("done", 10)


def test_run_passes_errors_and_times_out(no_leftovers):
    async def broken():
        raise KeyError("inside")

    cancelled = []

    async def forever():
        try:
            await asyncio.sleep(60)
        finally:
            cancelled.append(True)

    with pytest.raises(KeyError, match="inside"):
        aio.run(broken, timeout=5)
    with pytest.raises(ValueError, match="must return a coroutine"):
        aio.run(lambda: 42, timeout=5)
    with pytest.raises(TimeoutError, match="0.2 s"):
        aio.run(forever, timeout=0.2)
    assert cancelled == [True]


def test_interrupt_during_run_cancels_the_loop(no_leftovers):
    events = []

    async def forever():
        events.append("started")
        try:
            await asyncio.sleep(60)
        finally:
            events.append("cancelled")

    timer = _interrupt_after(0.3)
    started = time.perf_counter()
    with pytest.raises(KeyboardInterrupt):
        aio.run(forever, timeout=30)
    timer.join(5)
    assert time.perf_counter() - started < 5 and events == ["started", "cancelled"]


@pytest.mark.parametrize("backend", aio.BACKENDS)
def test_interrupt_during_a_round_leaves_nothing(backend, no_leftovers):
    timer = _interrupt_after(0.15)
    started = time.perf_counter()
    with pytest.raises(KeyboardInterrupt):
        aio.one_round(backend, 200, 1.0)
        time.sleep(5)  # the interrupt may land just after the round: it must still land here
    timer.join(5)
    assert time.perf_counter() - started < 4
    assert _lab_threads() == []


# --- the exercise ---------------------------------------------------------------------------------


async def gathered(n):
    return await asyncio.gather(*(aio.fetch(i) for i in range(n)))


async def one_by_one(n):
    return [await aio.fetch(i) for i in range(n)]


async def in_pairs(n):
    replies = []
    for i in range(0, n, 2):
        replies += await asyncio.gather(*(aio.fetch(j) for j in range(i, min(i + 2, n))))
    return replies


async def gathered_then_blocks(n):
    replies = await gathered(n)
    time.sleep(0.5)  # a blocking call inside a coroutine stalls the whole loop
    return replies


async def no_fetch(n):
    return [f"reply {i}" for i in range(n)]


async def wrong_order(n):
    return list(reversed(await gathered(n)))


async def uses_asyncio_run(n):
    coroutine = gathered(n)
    try:
        return asyncio.run(coroutine)
    finally:
        coroutine.close()


async def never_ends(n):
    await asyncio.sleep(60)


def not_async(n):
    return [f"reply {i}" for i in range(n)]


@pytest.mark.parametrize("answer, verdict, words", [
    (gathered, "Right", "waited together"),
    (one_by_one, "Not yet", "one after another"),
    (in_pairs, "Not yet", "not all at once"),
    (gathered_then_blocks, "Not yet", "blocking call"),
    (no_fetch, "Not yet", "called 0 times"),
    (wrong_order, "Not yet", "in that order"),
    (uses_asyncio_run, "Not yet", "RuntimeError"),
    (not_async, "Not yet", "async def"),
])
def test_check_gather(answer, verdict, words, no_leftovers):
    text = aio.check_gather(answer, n=6)
    assert text.startswith(verdict) and words in text, text


def test_check_gather_stops_a_hang(no_leftovers):
    started = time.perf_counter()
    assert "did not finish" in aio.check_gather(never_ends, n=2)
    assert time.perf_counter() - started < 5


# --- bad input --------------------------------------------------------------------------------------

ALLOWED_LEVELS = r"concurrency must .*1 to 1,000|each concurrency must be an integer from 1 to 1,000"
BAD_INPUT_CASES = [
    pytest.param(lambda: aio.compare(concurrency=(0, 10)), ALLOWED_LEVELS, id="aio-concurrency-0"),
    pytest.param(lambda: aio.compare(concurrency=(10, 1001)), ALLOWED_LEVELS, id="aio-concurrency-big"),
    pytest.param(lambda: aio.compare(concurrency=(2.5,)), ALLOWED_LEVELS, id="aio-concurrency-float"),
    pytest.param(lambda: aio.compare(concurrency=(True,)), ALLOWED_LEVELS, id="aio-concurrency-bool"),
    pytest.param(lambda: aio.compare(concurrency=()), ALLOWED_LEVELS, id="aio-concurrency-empty"),
    pytest.param(lambda: aio.compare(concurrency=10), ALLOWED_LEVELS, id="aio-concurrency-int"),
    pytest.param(lambda: aio.compare(concurrency="10"), ALLOWED_LEVELS, id="aio-concurrency-str"),
    pytest.param(lambda: aio.compare(concurrency=tuple(range(1, 8))), ALLOWED_LEVELS, id="aio-levels-many"),
    pytest.param(lambda: aio.compare(wait_ms=0), r"wait_ms must be an integer from 5 to 1,000", id="aio-wait-0"),
    pytest.param(lambda: aio.compare(wait_ms=2.5), r"wait_ms must be an integer from 5", id="aio-wait-float"),
    pytest.param(lambda: aio.compare(wait_ms=10**9), r"wait_ms must be an integer from 5", id="aio-wait-huge"),
    pytest.param(lambda: aio.compare(repeats=0), r"repeats must be an integer from 1 to 10", id="aio-repeats-0"),
    pytest.param(lambda: aio.compare(repeats=True), r"repeats must be an integer from 1 to 10", id="aio-repeats-bool"),
    pytest.param(lambda: aio.compare(repeats=-1), r"repeats must be an integer from 1 to 10", id="aio-repeats-neg"),
    pytest.param(lambda: aio.compare(timeout=0), r"timeout must be a number of seconds above 0", id="aio-timeout-0"),
    pytest.param(lambda: aio.one_round("processes", 10, 0.05), r"allowed: threads, asyncio", id="aio-round-backend"),
    pytest.param(lambda: aio.one_round("threads", 10**9, 0.05), r"n must be an integer from 1 to 1,000", id="aio-round-n"),
    pytest.param(lambda: aio.one_round("threads", 10, 0), r"wait must be a number of seconds from 0.005", id="aio-round-wait"),
    pytest.param(lambda: aio.one_round("threads", 10, True), r"wait must be a number of seconds", id="aio-round-wait-bool"),
    pytest.param(lambda: aio.one_round("threads", 10, 0.05, "rss"), r"memory must be None, 'uss' or 'traced'", id="aio-round-memory"),
    pytest.param(lambda: aio.one_round("asyncio", 10, 0.05, timeout=True), r"timeout must be a number of seconds above 0", id="aio-round-timeout"),
    pytest.param(lambda: aio.run(None), r"make must be a callable", id="aio-run-none"),
    pytest.param(lambda: aio.run(lambda: None, timeout=-1), r"timeout must be a number of seconds above 0", id="aio-run-timeout"),
    pytest.param(lambda: aio.check_gather(gathered, n=1), r"n must be an integer from 2 to 100", id="aio-check-n-1"),
    pytest.param(lambda: aio.check_gather(gathered, n=2.5), r"n must be an integer from 2 to 100", id="aio-check-n-float"),
]



def test_where_uss_is_denied_the_memory_figures_say_rss(monkeypatch):
    def refuse(self):
        raise psutil.AccessDenied(self.pid)

    assert aio.process_memory_name() == "USS"
    monkeypatch.setattr(psutil.Process, "memory_full_info", refuse)
    assert aio.process_memory_name() == "RSS"
    assert aio._memory_now(False) == pytest.approx(psutil.Process().memory_info().rss, rel=0.2)
