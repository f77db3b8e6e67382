"""Notebook 03's experiments and the shared-memory context manager: shapes, correctness,
cleanup after errors and interrupts, and bad input. Timing is for benchmarks/."""
import os
import queue
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import numpy as np
import pytest

from helpers.core import runner, shm
from helpers.nb03_sharing_data import figures, sharing

ROOT = Path(__file__).resolve().parents[2]


def segments() -> set[str]:
    """The shared-memory segments this process made that are still in /dev/shm (not other
    processes': test workers and notebooks may run beside this one)."""
    return shm.made_by(os.getpid())


@pytest.fixture(autouse=True)
def nothing_left_behind(no_leftovers):
    """Every test also leaves /dev/shm as it found it."""
    before = segments()
    yield
    assert segments() <= before


# --- the context manager -------------------------------------------------------------------------


def test_shared_array_is_unlinked_on_exit_error_and_interrupt():
    for error in (None, RuntimeError, KeyboardInterrupt):
        try:
            with shm.shared_array((3, 4), "int32") as shared:
                assert shared.array.shape == (3, 4) and shared.array.dtype == np.int32
                assert shared.segment.name.lstrip("/") in segments() or not os.path.isdir("/dev/shm")
                if error:
                    raise error
        except (RuntimeError, KeyboardInterrupt):
            pass
        assert shared.segment.name.lstrip("/") not in segments()


def run_python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)


@pytest.mark.skipif(sys.platform != "linux", reason="the crash is shown on Linux")
def test_the_trap_is_real_closing_under_a_numpy_view_crashes():
    crashed = run_python("""
        import numpy as np
        from multiprocessing.shared_memory import SharedMemory
        memory = SharedMemory(create=True, size=1 << 20)
        view = np.ndarray((1 << 17,), dtype="float64", buffer=memory.buf)
        memory.close()
        memory.unlink()
        view[:] = 1.0
    """)
    assert crashed.returncode < 0  # killed by a signal (SIGSEGV or SIGBUS)


def test_a_view_kept_after_the_block_stays_safe_to_use():
    kept = run_python("""
        import gc
        from helpers.core import shm
        with shm.shared_array(1 << 17) as shared:
            view = shared.array[10:]
        del shared
        gc.collect()
        view[:] = 2.0
        print(view.sum())
    """)
    assert kept.returncode == 0, kept.stderr
    assert float(kept.stdout) == 2.0 * ((1 << 17) - 10)
    assert kept.stderr == ""


def test_too_big_for_dev_shm_says_so_and_how_to_fix_it(monkeypatch):
    monkeypatch.setattr(shm, "free_bytes", lambda: 64 * 2**20)
    with pytest.raises(ValueError, match="--shm-size"):
        shm.check_room(40 * 2**20)
    shm.check_room(20 * 2**20)
    assert sharing.default_job_bytes() <= 16 * 2**20


@pytest.mark.parametrize("method", sharing.multiprocessing.get_all_start_methods())
def test_a_child_writes_where_the_parent_reads(method):
    def share_with_child(values):
        context = sharing.multiprocessing.get_context(method)
        with shm.shared_array(values.shape) as shared:
            shared.array[:] = values
            child = context.Process(target=sharing.double_in_place, args=(shared.segment,))
            child.start()
            child.join()
            return shared.array.copy()

    assert sharing.check_child_write(share_with_child).startswith("Right")


@pytest.mark.skipif(shm.free_bytes() is None, reason="no /dev/shm to share")
def test_another_kernels_segment_is_not_blamed_on_the_learner():
    """A segment another lab process makes meanwhile (another notebook, a test worker) is
    neither reported as the learner's leak nor removed; the learner's own leak still is."""
    elsewhere = os.path.join(shm.SHM_PATH, "lab1_0000beef")   # pid 1 is never this process

    def share_with_child(values):
        open(elsewhere, "w").close()
        return values * 2

    try:
        assert sharing.check_child_write(share_with_child).startswith("Right")
        assert os.path.exists(elsewhere)
    finally:
        os.unlink(elsewhere)

    def leaky(values):
        shared = shm.SharedMemory(create=True, size=8)
        shared.close()
        return values * 2

    assert "were left in /dev/shm" in sharing.check_child_write(leaky)


# --- the experiments -----------------------------------------------------------------------------


def test_threads_fill_the_callers_own_objects():
    result = sharing.in_place(sizes_mib=(1, 2), workers=2, repeats=1)
    assert result.same_objects
    assert set(result.seconds) == {"NumPy array, 1 thread", "NumPy array, 2 threads",
                                   "list, 1 thread", "list, 2 threads"}
    assert all(len(v) == 2 and min(v) > 0 for v in result.seconds.values())
    assert "nothing was copied" in sharing.in_place_verdict(result)
    assert figures.in_place(result).axes


def test_every_channel_delivers_and_leaves_nothing_behind():
    result = sharing.transfers(largest=64 * 1024)
    assert result.sizes == (1, 16, 256, 4096, 65536)
    assert set(result.throughput) == set(sharing.CHANNELS) == set(result.latency)
    assert all(min(v) > 0 and len(v) == 5 for v in result.throughput.values())
    assert len(result.memcpy) == 5 and min(result.memcpy) > 0
    assert "bare os.pipe" in sharing.message_passing_verdict(result)
    assert "copies warm memory" in sharing.crossover_verdict(result)
    assert len(figures.message_passing(result).axes) == 2 and figures.crossover(result).axes


@pytest.mark.parametrize("channel", sharing.CHANNELS)
def test_an_interrupt_mid_transfer_stops_the_receiver(channel):
    def interrupt(done, total):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        with sharing.OPENERS[channel](runner.check_start_method(None), 1 << 20) as send:
            send(b"x" * 1000, 5)
            interrupt(1, 1)


def test_locked_and_private_state_is_exact():
    runs = sharing.shared_state(workers=2, scale=0.02)
    assert [r.label for r in runs] == list(sharing.STATE_METHODS)
    for run in runs:
        assert run.seconds > 0
        if run.label != "Value, no lock":
            assert run.correct, run
    assert "Fastest" in sharing.state_verdict(runs)
    assert figures.shared_state(runs).axes


def test_the_worked_job_gives_equal_results_every_way():
    result = sharing.job(megabytes=4, workers=2)
    assert [r.method for r in result.runs] == list(sharing.JOB_METHODS)
    assert all(r.seconds > 0 for r in result.runs)
    assert "Every result equalled" in sharing.job_verdict(result)
    assert len(figures.job(result).axes) == 2
    trial = sharing.job_trial("threads on NumPy", 2, 2)
    assert [r.method for r in trial.runs] == ["sequential", "threads on NumPy"]


def test_sentinels_finish_the_work_and_empty_stops_early():
    right = sharing.pipeline(items=50, consumers=2)
    assert right.complete and sum(right.handled) == 50 and right.left_behind == 0
    # 20 ms between items: far longer than a consumer needs for one, even on a loaded machine
    # (at 5 ms, beside other test workers, the consumers once fell behind and finished)
    wrong = sharing.pipeline(items=50, consumers=2, pause=0.02, stop_on_empty=True)
    assert not wrong.complete and sum(wrong.handled) + wrong.left_behind == 50
    assert "With sentinels 50 of 50 items were handled" in sharing.pipeline_verdict(right, wrong).headline
    assert "quit while the producer was still working" in sharing.pipeline_verdict(right, wrong)
    assert figures.pipeline(right, wrong).axes


def test_the_empty_verdict_admits_a_run_where_the_race_did_not_show():
    lucky = sharing.Pipeline("stop on queue.empty()", 50, (25, 25), 0, True, 0.1)
    said = sharing.pipeline_verdict(lucky, lucky)
    assert "50 of 50 handled and 0 left" in said and "quit while" not in said
    assert "run the cell again" in said


class RivalTakesTheLastItem:
    """An inbox shared with another consumer, which takes the last item just after this
    consumer's empty() has said there is one."""

    def __init__(self, items):
        self.inner = queue.Queue()
        for item in items:
            self.inner.put(item)

    def empty(self):
        answer = self.inner.empty()
        if not answer and self.inner.qsize() == 1:
            self.inner.get()  # the rival consumer wins the race
        return answer

    def get(self, *args, **kwargs):
        return self.inner.get(*args, **kwargs)


def test_a_consumer_stopping_on_empty_does_not_wait_for_ever_for_an_item_it_lost():
    """The kernel test's flake: with two consumers, empty() said one item was left, the other
    consumer took it, and this one blocked in get() until the pipeline timed out."""
    inbox, outbox = RivalTakesTheLastItem([1, 2, 3]), queue.Queue()
    consumer = threading.Thread(target=sharing.consume_until_empty, args=(inbox, outbox),
                                daemon=True, name="lab-test-consumer")
    consumer.start()
    consumer.join(timeout=5)
    stuck = consumer.is_alive()
    if stuck:
        inbox.inner.put(0)  # free it, so the failure leaves no thread behind
        consumer.join(timeout=5)
    assert not stuck, "the consumer waited in get() for the item its rival took"
    assert [outbox.get_nowait() for _ in range(outbox.qsize())] == [1, 4, ("handled", 2)]


def test_checkers_tell_right_from_wrong():
    assert sharing.check_child_write(None).startswith("Not yet")
    assert "unchanged" in sharing.check_child_write(lambda values: values)

    def leaks(values):
        from multiprocessing.shared_memory import SharedMemory
        SharedMemory(create=True, size=values.nbytes)  # never unlinked
        return values * 2

    assert "left in /dev/shm" in sharing.check_child_write(leaks)

    def stops_on_empty(inbox, handle):
        while not inbox.empty():
            handle(inbox.get())

    def stops_on_sentinel(inbox, handle):
        while (item := inbox.get()) is not sharing.DONE:
            handle(item)

    assert "stopped early" in sharing.check_consumer(stops_on_empty)
    assert sharing.check_consumer(stops_on_sentinel).startswith("Right")

    def handles_the_sentinel_too(inbox, handle):  # what stops_on_empty does when it lags behind
        while (item := inbox.get()) is not sharing.DONE:
            handle(item)
        handle(item)

    assert "passed the sentinel DONE to handle()" in sharing.check_consumer(handles_the_sentinel_too)


@pytest.mark.parametrize("call, allowed", [
    (lambda: sharing.in_place(sizes_mib=(0,)), "from 1"),
    (lambda: sharing.in_place(workers=0), "from 1"),
    (lambda: sharing.transfers(largest=0), "from 1"),
    (lambda: sharing.transfers(largest=2**50), "from 1"),
    (lambda: sharing.transfers(channels=("carrier pigeon",)), "allowed: Queue"),
    (lambda: sharing.transfers(largest=1024, method="teleport"), "allowed:"),
    (lambda: sharing.shared_state(workers=0), "from 1"),
    (lambda: sharing.shared_state(workers=10_000), "from 1"),
    (lambda: sharing.shared_state(methods=("telepathy",)), "allowed: SharedMemory"),
    (lambda: sharing.job(megabytes=0), "from 1"),
    (lambda: sharing.job(megabytes=10**9), "from 1"),
    (lambda: sharing.job(megabytes=1, methods=("magic",)), "allowed: sequential"),
    (lambda: sharing.pipeline(items=0), "from 1"),
    (lambda: sharing.pipeline(consumers=-1), "from 1"),
    (lambda: sharing.pipeline(pause=-1), "from 0"),
    (lambda: shm.shared_array(0).__enter__(), "positive"),
    (lambda: shm.shared_array(2**50, "uint8").__enter__(), "smaller size"),
])
def test_bad_input_names_what_is_allowed(call, allowed):
    with pytest.raises(ValueError, match=allowed):
        call()


SCENARIO = """
import sys
from helpers.core import runner
from helpers.nb03_sharing_data import sharing

def interrupted_while_waiting(box, what="the child"):
    raise KeyboardInterrupt  # as if the learner pressed stop right after the puts

if __name__ == "__main__":
    sharing._get = interrupted_while_waiting
    try:
        with sharing.OPENERS["Queue"](runner.check_start_method(sys.argv[1]), 1 << 20) as send:
            send(b"x" * (1 << 20), 64)  # 64 MiB buffered behind a pipe the child stops reading
    except KeyboardInterrupt:
        print("stopped", runner.worker_processes())
"""


@pytest.mark.parametrize("method", sharing.multiprocessing.get_all_start_methods())
def test_an_interrupt_with_a_full_queue_pipe_does_not_hang(tmp_path, method):
    """The receiver is killed (maybe holding the queue's read lock) while this process's
    feeder thread is still writing: closing the queue must not wait for ever."""
    script = tmp_path / "scenario.py"
    script.write_text(SCENARIO)
    done = subprocess.run([sys.executable, str(script), method], cwd=ROOT, capture_output=True,
                          text=True, timeout=60, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.stdout.strip() == "stopped []", done.stderr
    assert done.stderr == ""


def test_the_in_place_verdict_reads_the_gil_of_this_python(monkeypatch):
    result = sharing.InPlace((sharing.MiB,), {"NumPy array, 1 thread": (0.002,), "NumPy array, 2 threads": (0.001,),
                                      "list, 1 thread": (0.02,), "list, 2 threads": (0.02,)}, 2, True)
    assert "so the GIL lets one thread run at a time" in sharing.in_place_verdict(result) \
        or not sharing.machine.gil_enabled().value
    monkeypatch.setattr(sharing.machine, "gil_enabled", lambda: sharing.machine.Fact(False, "test"))
    said = sharing.in_place_verdict(result)
    assert "the GIL lets" not in said and "no GIL" in said


# --- other platforms (simulated: the lab is tested on Linux) -------------------------------------


def not_a_socket(*args):
    """What Windows' select() says about a pipe."""
    raise OSError(10038, "An operation was attempted on something that is not a socket")


def wait_for_no_lab_thread(seconds: float = 5) -> None:
    deadline = sharing.time.monotonic() + seconds
    while runner.lab_threads() and sharing.time.monotonic() < deadline:
        sharing.time.sleep(0.01)


def test_on_posix_the_raw_pipe_read_waits_with_select_and_times_out():
    assert sharing.SELECT_TAKES_PIPES == (os.name == "posix")
    ours, theirs = os.pipe()
    try:
        with pytest.raises(TimeoutError, match="the raw pipe reader did not answer within 0.1 s"):
            sharing._read_exactly(ours, 4, timeout=0.1)
        assert runner.lab_threads() == []   # select() waited: no helper thread
        os.write(theirs, b"abcd")
        assert sharing._read_exactly(ours, 4, timeout=1) == b"abcd"
    finally:
        os.close(ours)
        os.close(theirs)


def test_on_windows_the_raw_pipe_is_read_on_a_thread_not_with_select(monkeypatch):
    monkeypatch.setattr(sharing, "SELECT_TAKES_PIPES", False)   # as on Windows
    monkeypatch.setattr(sharing.select, "select", not_a_socket)
    ours, theirs = os.pipe()
    try:
        os.write(theirs, b"ab")
        later = threading.Timer(0.05, os.write, (theirs, b"cd"))
        later.start()
        assert sharing._read_exactly(ours, 4, timeout=5) == b"abcd"
        later.join()
        with pytest.raises(TimeoutError, match="the raw pipe reader did not answer within 0.1 s"):
            sharing._read_exactly(ours, 1, timeout=0.1)
        assert runner.lab_threads() == ["lab-pipe-reader"]   # still waiting in os.read()
        os.close(theirs)   # as when the child is killed: the waiting read ends
        theirs = None
        wait_for_no_lab_thread()
        assert runner.lab_threads() == []
        with pytest.raises(EOFError, match="the raw pipe reader stopped"):
            sharing._read_exactly(ours, 1, timeout=5)
    finally:
        os.close(ours)
        if theirs is not None:
            os.close(theirs)


def test_on_windows_the_raw_pipe_channel_runs_without_select(monkeypatch):
    monkeypatch.setattr(sharing, "SELECT_TAKES_PIPES", False)   # as on Windows
    monkeypatch.setattr(sharing.select, "select", not_a_socket)
    before = sharing.time.perf_counter()
    with sharing.OPENERS["raw os.pipe"](runner.check_start_method(None), 1024) as send:
        arrived = [send(b"x" * 1024, count) for count in (1, 3)]
    assert before < arrived[0] <= arrived[1] < sharing.time.perf_counter()
    wait_for_no_lab_thread()


def test_without_dev_shm_the_leak_check_says_it_cannot_check(monkeypatch, tmp_path):
    """macOS and Windows have no /dev/shm to list: the checker must not pass an answer whose
    leak it could not look for."""
    doubles = lambda values: values * 2   # right values, and no segment to leak
    assert sharing.check_child_write(doubles).startswith("Right")   # with /dev/shm: a pass
    monkeypatch.setattr(shm, "SHM_PATH", str(tmp_path / "no-dev-shm"))
    said = sharing.check_child_write(doubles)
    assert not said.startswith("Right")
    assert "cannot check for leftover segments here (no /dev/shm on this platform)" in said
    assert "unchanged" in sharing.check_child_write(lambda values: values)   # still told wrong


def test_off_linux_peak_memory_is_rss_and_the_verdict_names_it(monkeypatch):
    """psutil has PSS on Linux only: elsewhere the worked job's memory is RSS, and says so."""
    assert sharing.PeakMemory.measure == ("PSS" if sys.platform.startswith("linux") else "RSS")
    monkeypatch.setattr(sharing.PeakMemory, "measure", "RSS")

    def linux_only(self):
        raise AssertionError("memory_full_info() is read for PSS, on Linux only")

    monkeypatch.setattr(sharing.psutil.Process, "memory_full_info", linux_only)
    with sharing.PeakMemory() as memory:
        block = np.ones(16 * 2**20 // 8)   # 16 MiB, every page touched
    assert memory.peak_mib > 8
    del block
    result = sharing.Job(16 * 2**20, 2, (sharing.JobRun("sequential", 0.5, memory.peak_mib),),
                         sharing.PeakMemory.measure)
    assert "(peak extra RSS)" in sharing.job_verdict(result)
