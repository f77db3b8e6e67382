"""What child processes run: the raw-pipe sink, with os.readv (Unix) and without it (Windows,
simulated by removing os.readv)."""
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from helpers.core.children import pipe_sink

PIPE_SINK = Path(pipe_sink.__file__)

WITHOUT_READV = "import os, runpy, sys; del os.readv; runpy.run_path(sys.argv[1], run_name='__main__')"


def test_without_readv_the_sink_reads_into_its_buffer_across_short_reads(monkeypatch):
    monkeypatch.delattr(pipe_sink.os, "readv", raising=False)
    ours, theirs = os.pipe()
    try:
        os.write(theirs, b"abc")
        later = threading.Timer(0.05, os.write, (theirs, b"defgh"))  # a second, later read
        later.start()
        buffer = bytearray(8)
        pipe_sink.read_exactly(ours, memoryview(buffer))
        later.join()
        assert buffer == b"abcdefgh"
        os.close(theirs)
        theirs = None
        with pytest.raises(EOFError, match="the sender closed the pipe mid-batch"):
            pipe_sink.read_exactly(ours, memoryview(bytearray(1)))
    finally:
        os.close(ours)
        if theirs is not None:
            os.close(theirs)


def run_sink(with_readv: bool, stdin: bytes) -> subprocess.CompletedProcess:
    command = [sys.executable, str(PIPE_SINK)] if with_readv else \
        [sys.executable, "-c", WITHOUT_READV, str(PIPE_SINK)]
    return subprocess.run(command, input=stdin, capture_output=True, timeout=60)


@pytest.mark.parametrize("with_readv", [True, False], ids=["readv", "no readv (Windows)"])
def test_the_sink_stamps_each_batch_and_stops_on_a_zero_count(with_readv):
    batches = pipe_sink.HEADER.pack(3, 5) + b"x" * 15 + pipe_sink.HEADER.pack(1, 70_000) + \
        b"y" * 70_000 + pipe_sink.HEADER.pack(0, 0)
    before = time.perf_counter()
    done = run_sink(with_readv, batches)
    assert done.returncode == 0 and done.stderr == b"", done.stderr
    first, second = pipe_sink.STAMP.unpack(done.stdout[:8])[0], pipe_sink.STAMP.unpack(done.stdout[8:])[0]
    assert before < first <= second < time.perf_counter()   # perf_counter: one clock for both


@pytest.mark.parametrize("with_readv", [True, False], ids=["readv", "no readv (Windows)"])
def test_the_sink_says_when_the_sender_stops_mid_batch(with_readv):
    done = run_sink(with_readv, pipe_sink.HEADER.pack(1, 10) + b"abc")
    assert done.returncode != 0 and done.stdout == b""
    assert b"EOFError: the sender closed the pipe mid-batch" in done.stderr
