"""Notebook 04's experiments: race conditions, their fixes, and the other primitives.

Every demo ends on its own: threads are joined, waits have timeouts, and deadlocks
are shown with `acquire(timeout=...)` so a cell can never hang.
"""
from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import queue
import statistics
import threading
import time
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Callable, Sequence

from ..core import machine, runner, text
from ..core.text import Verdict
from ..nb01_gil.gil import switch_interval

MAX_THREADS = 64
MAX_INCREMENTS = 2_000_000
MAX_TRIALS = 200


def _check(threads: int, increments: int) -> None:
    if isinstance(threads, bool) or not isinstance(threads, int) or not 1 <= threads <= MAX_THREADS:
        raise ValueError(f"threads must be an integer from 1 to {MAX_THREADS}, got {threads!r}")
    if isinstance(increments, bool) or not isinstance(increments, int) or not 1 <= increments <= MAX_INCREMENTS:
        raise ValueError(f"increments must be an integer from 1 to {MAX_INCREMENTS:,}, got {increments!r}")


def _check_trials(trials: int) -> None:
    if isinstance(trials, bool) or not isinstance(trials, int) or not 1 <= trials <= MAX_TRIALS:
        raise ValueError(f"trials must be from 1 to {MAX_TRIALS}, got {trials!r}")


def _run_threads(target: Callable, count: int, *args) -> float:
    """Start `count` threads on target(stop, *args) together; join them; return wall seconds.

    On an interrupt, `stop` is set and the threads are joined before the error goes on:
    a thread cannot be killed, but these ones check `stop` between batches of work."""
    start, stop, errors = threading.Barrier(count), threading.Event(), []

    def work() -> None:
        try:
            start.wait(timeout=30)
            target(stop, *args)
        except Exception as error:  # reported in the caller's thread, not lost on stderr
            errors.append(error)
            stop.set()

    threads = [threading.Thread(target=work, name=f"lab-racer-{i}") for i in range(count)]
    began = time.perf_counter()
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    except BaseException:
        stop.set()
        for thread in threads:  # not Thread.join: after an interrupted join it returns at once
            runner.join_thread(thread, timeout=30)
        raise
    if errors:
        raise errors[0]
    return time.perf_counter() - began


def _batches(total: int, stop: threading.Event, size: int = 1000):
    """Batch sizes adding up to `total`, ending early once `stop` is set."""
    for start in range(0, total, size):
        if stop.is_set():
            return
        yield min(size, total - start)


# --- 1. counter += 1 --------------------------------------------------------------------------


class Counter:
    value = 0


def _plain_increments(stop, counter: Counter, increments: int) -> None:
    for batch in _batches(increments, stop):
        for _ in range(batch):
            counter.value += 1


@dataclass(frozen=True)
class Tally:
    """Expected and actual totals of some trials of one racy or fixed update."""

    label: str
    threads: int
    expected: int
    actual: tuple[int, ...]
    seconds: tuple[float, ...] = ()

    @property
    def lost(self) -> tuple[int, ...]:
        return tuple(self.expected - a for a in self.actual)

    @property
    def trials_with_losses(self) -> float:
        return sum(1 for lost in self.lost if lost > 0) / len(self.actual)


def plain_counter(threads: int = 4, increments: int = 200_000, trials: int = 3) -> Tally:
    """`counter.value += 1` from several threads: does anything get lost?"""
    _check(threads, increments)
    _check_trials(trials)
    actual, seconds = [], []
    for _ in range(trials):
        counter = Counter()
        seconds.append(_run_threads(_plain_increments, threads, counter, increments))
        actual.append(counter.value)
    return Tally("counter.value += 1", threads, threads * increments, tuple(actual), tuple(seconds))


def plain_verdict(tally: Tally) -> Verdict:
    lost = max(tally.lost)
    figures = (f"{tally.threads} threads × {tally.expected // tally.threads:,} increments, "
               f"{len(tally.actual)} trials: " + (f"up to {lost:,} updates lost in one trial." if lost
                                                  else "no update lost."))
    if lost == 0:
        return Verdict(figures, "Nothing lost — on this interpreter a thread is only switched out at a "
                                "call or a backward jump, never inside `+=`. That is luck, not a promise.")
    if not machine.gil_enabled().value:
        return Verdict(figures, "Updates were lost: `+=` is a read, an add and a write, and without a "
                                "GIL two threads can run them at the same instant.")
    return Verdict(figures, "Updates were lost: `+=` is a read, an add and a write, and a switch fell between.")


# --- 2. a realistic lost update ---------------------------------------------------------------


class Account:
    """A bank account; `lock` is there for the fixes and the exercise."""

    def __init__(self) -> None:
        self.balance = 0
        self.lock = threading.Lock()


def add(value: int, amount: int) -> int:
    """A Python-level call between the read and the write: a place to switch threads."""
    return value + amount


def racy_deposit(account: Account) -> None:
    """Read the balance, compute, write it back: three steps, not one."""
    value = account.balance
    value = add(value, 1)
    account.balance = value


def _deposits(stop, deposit: Callable, account: Account, count: int) -> None:
    for batch in _batches(count, stop):
        for _ in range(batch):
            deposit(account)


def bank(threads: int = 4, deposits: int = 100_000, trials: int = 10,
         deposit: Callable = racy_deposit) -> Tally:
    """`threads` threads each make `deposits` deposits into one account, `trials` times."""
    _check(threads, deposits)
    _check_trials(trials)
    actual, seconds = [], []
    for _ in range(trials):
        account = Account()
        seconds.append(_run_threads(_deposits, threads, deposit, account, deposits))
        actual.append(account.balance)
    return Tally(deposit.__name__, threads, threads * deposits, tuple(actual), tuple(seconds))


DEMO_INTERVAL = 0.001  # a fifth of CPython's default: more switches per second, same race


def bank_sweep(thread_counts: Sequence[int] = (2, 4, 8), total: int = 1_200_000, trials: int = 10,
               interval: float = DEMO_INTERVAL, progress: runner.Progress | None = None) -> list[Tally]:
    """The racy bank at several thread counts, `total` deposits split among the threads, at a
    switch interval short enough for many switches per trial (restored afterwards)."""
    for threads in thread_counts:  # every count checked before the first trial runs
        _check(threads, 1)
        _check(threads, total // threads)
    tallies = []
    for done, threads in enumerate(thread_counts):
        with switch_interval(interval):
            tallies.append(bank(threads, total // threads, trials))
        if progress:
            progress(done + 1, len(thread_counts))
    return tallies


def bank_verdict(tallies: Sequence[Tally]) -> Verdict:
    parts = [f"{t.threads} threads: updates lost in {t.trials_with_losses:.0%} of {len(t.actual)} "
             f"trials (median {statistics.median(t.lost) / t.expected:.0%} of deposits)" for t in tallies]
    worst = max(tallies, key=lambda t: t.trials_with_losses)
    return Verdict(f"With {worst.threads} threads, deposits were lost in {worst.trials_with_losses:.0%} "
                   f"of the trials.", "; ".join(parts) + ".")


@dataclass(frozen=True)
class Step:
    thread: int
    action: str  # "read", "wrote", or a note
    value: int


@dataclass(frozen=True)
class Trace:
    """The log around the first lost update: a stale read, the other thread's writes, the bad write."""

    steps: tuple[Step, ...]
    loser: int | None = None
    read: int = 0
    overwritten: int = 0


def trace(deposits: int = 20_000) -> Trace:
    """Two threads deposit with every read and write logged; find the first lost update."""
    _check(2, deposits)
    log: list[tuple[int, str, int]] = []  # list.append is atomic: the log itself cannot race
    account = Account()

    def logged(stop, me: int) -> None:
        for _ in range(deposits):
            if stop.is_set():
                return
            value = account.balance
            log.append((me, "read", value))
            value = add(value, 1)
            account.balance = value
            log.append((me, "wrote", value))

    _run_threads_each(logged, 2)
    return _first_loss([Step(*entry) for entry in log])


def _run_threads_each(target: Callable, count: int) -> None:
    """Like _run_threads, but each thread also gets its own number: target(stop, number)."""
    numbers = iter(range(count))
    lock = threading.Lock()

    def numbered(stop) -> None:
        with lock:
            me = next(numbers)
        target(stop, me)

    _run_threads(numbered, count)


def _first_loss(steps: list[Step], context: int = 2) -> Trace:
    last_read: dict[int, int] = {}
    for index, step in enumerate(steps):
        if step.action == "read":
            last_read[step.thread] = index
            continue
        read_at = last_read[step.thread]
        between = [s for s in steps[read_at + 1:index] if s.thread != step.thread and s.action == "wrote"]
        if between:
            shown = (steps[max(0, read_at - context):read_at + 1] + _squeeze(steps[read_at + 1:index])
                     + steps[index:index + 1])
            return Trace(tuple(shown), step.thread, steps[read_at].value, max(s.value for s in between))
    return Trace(tuple(steps[:2 * context]))


def _squeeze(steps: list[Step], keep: int = 2) -> list[Step]:
    """The first and last few steps of a long stretch, with a note in between."""
    if len(steps) <= 2 * keep:
        return steps
    return steps[:keep] + [Step(-1, f"… {len(steps) - 2 * keep:,} more steps …", 0)] + steps[-keep:]


def format_trace(result: Trace) -> str:
    lines = []
    for step in result.steps:
        if step.thread < 0:
            lines.append(f"                 {step.action}")
        else:
            lines.append(f"thread {step.thread}  {step.action:<5}  balance {step.value:,}")
    return "\n".join(lines)


def trace_verdict(result: Trace) -> Verdict:
    if result.loser is None:
        return Verdict("No lost update in this run: run it again, or with more deposits.")
    return Verdict(f"Thread {result.loser} read {result.read:,}, was switched out, and the other thread "
                   f"took the balance to {result.overwritten:,}; thread {result.loser} then wrote "
                   f"{result.read + 1:,}, wiping out {result.overwritten - result.read:,} deposits at once.")


# --- 3. fixes, measured ---------------------------------------------------------------------------


def locked_deposit(account: Account) -> None:
    """The same three steps, with nobody else allowed in between."""
    with account.lock:
        value = account.balance
        value = add(value, 1)
        account.balance = value


def _one_owner(threads: int, deposits: int) -> int:
    """Only one thread ever touches the balance; the others send it messages."""
    mailbox: queue.SimpleQueue = queue.SimpleQueue()
    account = Account()

    def owner() -> None:
        finished = 0
        while finished < threads:
            amount = mailbox.get()
            if amount is None:
                finished += 1
            else:
                account.balance = add(account.balance, amount)

    def sender(stop) -> None:
        try:
            for batch in _batches(deposits, stop):
                for _ in range(batch):
                    mailbox.put(1)
        finally:
            mailbox.put(None)  # one sentinel per sender: the owner knows when all are done

    keeper = threading.Thread(target=owner, name="lab-owner")
    keeper.start()
    _run_threads(sender, threads)
    keeper.join()
    return account.balance


def _partials(threads: int, deposits: int) -> int:
    """Each thread counts in its own variable; one locked add at the end."""
    account = Account()

    def work(stop) -> None:
        mine = 0
        for batch in _batches(deposits, stop):
            for _ in range(batch):
                mine = add(mine, 1)
        with account.lock:
            account.balance += mine

    _run_threads(work, threads)
    return account.balance


def count_up(deposits: int) -> int:
    """No shared state at all: a worker returns its own total."""
    mine = 0
    for _ in range(deposits):
        mine = add(mine, 1)
    return mine


def _nothing_shared(threads: int, deposits: int) -> int:
    with cf.ThreadPoolExecutor(threads, thread_name_prefix="lab-worker") as pool:
        return sum(pool.map(count_up, [deposits] * threads))


@dataclass(frozen=True)
class Fix:
    label: str
    correct: bool
    seconds: float
    total: int


def fixes(threads: int = 4, deposits: int = 100_000) -> list[Fix]:
    """The racy version and four correct ones: lock, one owner, partials, nothing shared."""
    _check(threads, deposits)
    with switch_interval(DEMO_INTERVAL):
        return _timed_fixes(threads, deposits, threads * deposits)


def _timed_fixes(threads: int, deposits: int, expected: int) -> list[Fix]:
    results = []
    for label, run in [
        ("no fix (racy)", lambda: bank(threads, deposits, 1).actual[0]),
        ("threading.Lock", lambda: bank(threads, deposits, 1, locked_deposit).actual[0]),
        ("one owner + queue", lambda: _one_owner(threads, deposits)),
        ("per-thread partials", lambda: _partials(threads, deposits)),
        ("nothing shared", lambda: _nothing_shared(threads, deposits)),
    ]:
        started = time.perf_counter()
        total = run()
        results.append(Fix(label, total == expected, time.perf_counter() - started, total))
    return results


def fixes_verdict(results: list[Fix], operations: int) -> Verdict:
    """`operations`: deposits in all, to spread the lock's extra time over."""
    racy = results[0]
    lock = next(r for r in results if r.label == "threading.Lock")
    per_op = (lock.seconds - racy.seconds) / operations * 1e9
    right = [r.label for r in results if r.correct]
    racy_note = "" if racy.correct else f"The racy version lost {operations - racy.total:,}. "
    fastest = min((r for r in results if r.correct), key=lambda r: r.seconds).label
    return Verdict(f"Exact: {', '.join(right)}; the lock cost about {max(per_op, 0):.0f} ns per deposit here.",
                   racy_note + f"The fastest of the exact ones was {fastest}.")


# --- 4. processes -------------------------------------------------------------------------------


def value_increments(shared, increments: int, locked: bool, go) -> None:
    """Runs in a child process: wait for the go message, then add 1 to a shared
    multiprocessing.Value `increments` times."""
    go.send("ready")
    go.recv()
    raw = shared.get_obj()  # the bare number: Value's own per-read and per-write locking only
    for _ in range(increments):  # narrows the race (a read and a write are still two steps)
        with shared.get_lock() if locked else nullcontext():
            raw.value += 1


def process_counters(processes: int = 2, increments: int = 100_000, method: str | None = None
                     ) -> list[Fix]:
    """A shared Value without and with its lock, and processes that share nothing."""
    runner.check_workers(processes, "processes")
    _check(processes, increments)
    method = runner.check_start_method(method)
    context = multiprocessing.get_context(method)
    expected = processes * increments
    results = []
    for locked in (False, True):
        shared = context.Value("q", 0)
        pipes = [multiprocessing.Pipe() for _ in range(processes)]
        children = [context.Process(target=value_increments, args=(shared, increments, locked, theirs))
                    for _, theirs in pipes]
        try:
            for child in children:
                runner.start(child)
            for ours, _ in pipes:  # wait until every child is ready, then let all go at once
                if not ours.poll(60):
                    raise RuntimeError("a child process did not start within 60 s")
                ours.recv()
            started = time.perf_counter()
            for ours, _ in pipes:
                ours.send("go")
        finally:
            for child in children:
                child.join(timeout=60)
                if child.is_alive():
                    child.terminate()
                    child.join()
            for ours, theirs in pipes:
                ours.close()
                theirs.close()
        label = "Value with get_lock()" if locked else "Value, no lock (get_obj())"
        results.append(Fix(label, shared.value == expected, time.perf_counter() - started, shared.value))
    started = time.perf_counter()
    total = sum(runner.run(count_up, args=[increments] * processes, backend="processes",
                           workers=processes, start_method=method).results)
    results.append(Fix("nothing shared (pool)", total == expected, time.perf_counter() - started, total))
    return results


def process_verdict(results: list[Fix], expected: int) -> Verdict:
    unlocked, locked, nothing = results
    lost = expected - unlocked.total
    first = (f"Without the lock {lost:,} of {expected:,} increments were lost"
             if lost else f"Without the lock nothing was lost this time (with "
                          f"{machine.usable_cpus().value} usable CPU(s) the processes rarely "
                          "overlapped between read and write) — run it again")
    return Verdict(f"{first}.", (
        f"With get_lock() the total was {'exact' if locked.correct else 'wrong'} and took "
        f"{text.times(locked.seconds / max(unlocked.seconds, 1e-9), 'longer', 'shorter', 'about as long')}; "
        f"sharing nothing was {'exact' if nothing.correct else 'wrong'} with no lock at all."))


# --- 5. deadlock and check-then-act ----------------------------------------------------------------


@dataclass(frozen=True)
class Deadlock:
    opposite_order: tuple[str, ...]
    same_order: tuple[str, ...]


def _take_two(first: threading.Lock, second: threading.Lock, ready: threading.Barrier,
              outcome: list, name: str, timeout: float) -> None:
    with first:
        ready.wait(timeout=10)  # both now hold their first lock
        if second.acquire(timeout=timeout):
            second.release()
            outcome.append(f"{name} got both locks")
        else:
            outcome.append(f"{name} gave up after {timeout:g} s: deadlock")


def deadlock(timeout: float = 0.3) -> Deadlock:
    """Two threads take two locks in opposite orders, then in the same order."""
    if not 0.01 <= timeout <= 5:
        raise ValueError(f"timeout must be from 0.01 to 5 s, got {timeout!r}")
    results = []
    for orders in (("ab", "ba"), ("ab", "ab")):
        a, b, outcome = threading.Lock(), threading.Lock(), []
        locks = {"a": a, "b": b}
        # in the same order, the second thread cannot hold its first lock while the other waits
        ready = threading.Barrier(2 if orders[1] == "ba" else 1)
        threads = [threading.Thread(target=_take_two, name=f"lab-locker-{i}",
                                    args=(locks[o[0]], locks[o[1]], ready, outcome,
                                          f"thread {i} ({o[0]} then {o[1]})", timeout))
                   for i, o in enumerate(orders)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        results.append(tuple(sorted(outcome)))
    return Deadlock(*results)


def check_then_act(threads: int = 4, locked: bool = False) -> int:
    """Threads fill a cache: 'if key missing: compute and store'. Returns how often it computed."""
    _check(threads, 1)
    cache: dict[str, int] = {}
    computed, guard, start = [], threading.Lock(), threading.Barrier(threads)

    def expensive() -> int:
        computed.append(1)
        time.sleep(0.01)  # the gap between checking and acting
        return 42

    def fill() -> None:
        start.wait(timeout=30)
        with guard if locked else nullcontext():
            if "answer" not in cache:
                cache["answer"] = expensive()

    workers = [threading.Thread(target=fill, name=f"lab-cache-{i}") for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return len(computed)


# --- 6. the other primitives -------------------------------------------------------------------


def rlock_demo() -> dict[str, bool]:
    """A function that takes a lock and calls itself: fine with RLock, stuck with Lock."""
    outcome = {}
    for name, lock in (("RLock", threading.RLock()), ("Lock", threading.Lock())):
        def nested(depth: int) -> bool:
            if not lock.acquire(timeout=0.2):
                return False
            try:
                return True if depth == 0 else nested(depth - 1)
            finally:
                lock.release()
        outcome[name] = nested(2)
    return outcome


def semaphore_demo(tasks: int = 12, limit: int = 3) -> int:
    """io tasks behind a Semaphore(limit): the most that ever ran at once."""
    if isinstance(tasks, bool) or not isinstance(tasks, int) or not 1 <= tasks <= MAX_THREADS:
        raise ValueError(f"tasks must be an integer from 1 to {MAX_THREADS} (a thread each), got {tasks!r}")
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= tasks:
        raise ValueError(f"limit must be an integer from 1 to {tasks} (the tasks), got {limit!r}")
    gate, guard = threading.Semaphore(limit), threading.Lock()
    running, peak = [0], [0]

    def task() -> None:
        with gate:
            with guard:
                running[0] += 1
                peak[0] = max(peak[0], running[0])
            time.sleep(0.02)
            with guard:
                running[0] -= 1

    with cf.ThreadPoolExecutor(tasks, thread_name_prefix="lab-worker") as pool:
        list(pool.map(lambda _: task(), range(tasks)))
    return peak[0]


def event_demo(threads: int = 4) -> float:
    """Threads wait for one Event; returns the spread (ms) of their wake-up times."""
    _check(threads, 1)
    go, woke = threading.Event(), []

    def wait() -> None:
        if go.wait(timeout=5):
            woke.append(time.perf_counter())

    workers = [threading.Thread(target=wait, name=f"lab-waiter-{i}") for i in range(threads)]
    for worker in workers:
        worker.start()
    time.sleep(0.05)
    go.set()
    for worker in workers:
        worker.join()
    return (max(woke) - min(woke)) * 1000


def condition_demo(items: int = 5) -> list[int]:
    """A consumer waits on a Condition until the producer has put something in the box."""
    if isinstance(items, bool) or not isinstance(items, int) or not 1 <= items <= 1000:
        raise ValueError(f"items must be an integer from 1 to 1,000, got {items!r}")
    box, ready, received = [], threading.Condition(), []

    def consumer() -> None:
        for _ in range(items):
            with ready:
                if not ready.wait_for(lambda: box, timeout=5):
                    return
                received.append(box.pop(0))

    worker = threading.Thread(target=consumer, name="lab-consumer")
    worker.start()
    for item in range(items):
        with ready:
            box.append(item)
            ready.notify()
        time.sleep(0.005)
    worker.join(timeout=10)
    return received


def barrier_demo(threads: int = 4) -> float:
    """Threads of different speeds meet at a Barrier; returns the spread (ms) of their leaving."""
    _check(threads, 1)
    meet, left = threading.Barrier(threads, timeout=5), []

    def phase(i: int) -> None:
        time.sleep(0.01 * i)  # different amounts of work before the meeting
        meet.wait()
        left.append(time.perf_counter())

    workers = [threading.Thread(target=phase, args=(i,), name=f"lab-phase-{i}") for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return (max(left) - min(left)) * 1000


# --- try it yourself and exercise -----------------------------------------------------------------


@dataclass(frozen=True)
class Trial:
    tally: Tally
    switch_interval: float
    fixed: bool


def trial(threads: int = 4, deposits: int = 200_000, interval_ms: float = 5.0, fixed: bool = False,
          progress: runner.Progress | None = None) -> Trial:
    """The panel: racy or locked deposits, at a chosen switch interval, over five trials."""
    with switch_interval(interval_ms / 1000):
        tally = bank(threads, deposits, 5, locked_deposit if fixed else racy_deposit)
    if progress:
        progress(1, 1)
    return Trial(tally, interval_ms / 1000, fixed)


def trial_verdict(result: Trial) -> str:
    t = result.tally
    return (f"{'Locked' if result.fixed else 'Racy'} deposits, {t.threads} threads, switch interval "
            f"{result.switch_interval * 1000:g} ms: updates lost in {t.trials_with_losses:.0%} of "
            f"{len(t.actual)} trials; median {statistics.median(t.seconds) * 1000:.0f} ms per trial.")


def check_fix(deposit: Callable, threads: int = 4, deposits: int = 150_000, trials: int = 3) -> str:
    """Exercise: is `deposit(account)` exact under stress, and how much slower than the racy one?"""
    if deposit is racy_deposit or getattr(deposit, "__name__", "") == "racy_deposit":
        return "Not yet: write your own my_deposit(account) instead of reusing racy_deposit."
    try:
        with switch_interval(DEMO_INTERVAL):  # many switches per trial: a race cannot hide
            mine = bank(threads, deposits, trials, deposit)
            racy = bank(threads, deposits, trials)
    except Exception as error:
        return f"Not quite: my_deposit raised {type(error).__name__}: {error}"
    slower = statistics.median(mine.seconds) / statistics.median(racy.seconds)
    if any(mine.lost):
        return (f"Not yet: {max(mine.lost):,} of {mine.expected:,} deposits were lost in some trial "
                "(or added twice). Make the read, the add and the write one step for other threads.")
    return (f"Right: exact in all {trials} trials of {threads} threads × {deposits:,} deposits "
            f"(switch interval {DEMO_INTERVAL * 1000:g} ms), {slower:.1f}× the time of the racy version.")
