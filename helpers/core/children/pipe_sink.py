"""The raw-pipe reference for notebook 03 (run as a subprocess, never imported).

    python helpers/pipe_sink.py

Reads batches from stdin: a header of two unsigned 64-bit numbers (count, size),
then count × size raw bytes, read into one reused buffer. After each batch it
writes time.perf_counter() as one double to stdout. A count of 0 ends it.
No pickling, no framing: what a bare os.pipe costs for the same bytes.
"""
import os
import struct
import sys
import time

HEADER = struct.Struct("<QQ")
STAMP = struct.Struct("<d")


def read_exactly(fd: int, view: memoryview) -> None:
    while view:
        got = os.readv(fd, [view])
        if not got:
            raise EOFError("the sender closed the pipe mid-batch")
        view = view[got:]


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
