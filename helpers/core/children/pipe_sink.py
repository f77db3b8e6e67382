"""The raw-pipe reference for notebook 03 (run as a subprocess, never imported).

    python helpers/pipe_sink.py

Reads batches from stdin: a header of two unsigned 64-bit numbers (count, size),
then count × size raw bytes, read into one reused buffer. After each batch it
writes time.perf_counter() as one double to stdout. A count of 0 ends it.
No pickling, no framing: what a bare os.pipe costs for the same bytes.
"""
import functools
import io
import os
import struct
import sys
import time

HEADER = struct.Struct("<QQ")
STAMP = struct.Struct("<d")


def read_exactly(fd: int, view: memoryview) -> None:
    """Fill `view` from `fd`, however many reads that takes; EOFError if the sender stops."""
    while view:
        got = read_into(fd, view)
        if not got:
            raise EOFError("the sender closed the pipe mid-batch")
        view = view[got:]


def read_into(fd: int, view: memoryview) -> int:
    """One read straight into `view` (no copy), as many bytes as the pipe has: os.readv where
    the platform has it (Unix), a raw file's readinto elsewhere (Windows has no readv)."""
    if hasattr(os, "readv"):
        return os.readv(fd, [view])
    return _raw_file(fd).readinto(view)


@functools.cache
def _raw_file(fd: int) -> io.FileIO:
    """An unbuffered file on `fd`, made once: making one costs a system call, and the sink
    reads in its timed loop. closefd=False: the fd stays the caller's to close."""
    return io.FileIO(fd, "rb", closefd=False)


def main() -> None:
    stdin, stdout = sys.stdin.fileno(), sys.stdout.fileno()
    header, buffer = bytearray(HEADER.size), bytearray()
    while True:
        read_exactly(stdin, memoryview(header))
        count, size = HEADER.unpack(header)
        if count == 0:
            return
        if len(buffer) < size:
            buffer = bytearray(size)
        view = memoryview(buffer)[:size]
        for _ in range(count):
            read_exactly(stdin, view)
        os.write(stdout, STAMP.pack(time.perf_counter()))


if __name__ == "__main__":
    main()
