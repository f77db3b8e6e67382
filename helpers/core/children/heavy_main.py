"""A main script with a heavy import, for notebook 02 (run as a subprocess, never imported).

    python helpers/heavy_main.py METHOD [PRELOAD ...]

Starts and joins a few trivial processes with METHOD and prints one JSON line:
how long this script's own imports took and each start+join. With spawn and
forkserver every child re-imports this file, heavy imports and all, unless the
forkserver preloaded them (the PRELOAD module names).
"""
import json
import multiprocessing
import sys
import time

_started = time.perf_counter()
import matplotlib.figure  # noqa: E402,F401  (the heavy import the children pay for)
import numpy  # noqa: E402,F401

IMPORT_SECONDS = time.perf_counter() - _started
STARTS = 3


def noop() -> None:
    pass


def main() -> None:
    method, preload = sys.argv[1], sys.argv[2:]
    context = multiprocessing.get_context(method)
    if preload:
        context.set_forkserver_preload(preload)
    seconds = []
    for _ in range(STARTS):
        started = time.perf_counter()
        child = context.Process(target=noop)
        child.start()
        child.join()
        seconds.append(time.perf_counter() - started)
    print(json.dumps({"import": IMPORT_SECONDS, "starts": seconds}))


if __name__ == "__main__":
    main()
