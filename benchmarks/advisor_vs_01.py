"""Does the advisor (notebook 06) choose what notebook 01 measured, for the lab's three kinds?

    python benchmarks/advisor_vs_01.py [--rounds N]

For each kind: notebook 01's sweep (gil.scaling) gives the best speedup of threads and of
processes; the advisor gives its choice. It matches when the backend it chose reached, in
notebook 01's sweep, at least 85% of the best backend's speedup (sequential counts as 1.0×).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from helpers.core import machine, workloads  # noqa: E402
from helpers.nb01_gil import gil  # noqa: E402
from helpers.nb06_choosing import advisor  # noqa: E402

WITHIN = 0.85


def one_round() -> list[tuple]:
    sweeps = gil.scaling()
    rows = []
    for kind in workloads.KINDS:
        measured = {b: sweeps[kind].best(b).speedup for b in ("threads", "processes")}
        measured["sequential"] = 1.0
        best = max(measured, key=measured.get)
        started = time.perf_counter()
        advice = advisor.advise_builtin(kind)
        seconds = time.perf_counter() - started
        chosen = advice.choice or "none"
        match = chosen in measured and measured[chosen] >= WITHIN * measured[best]
        rows.append((kind, best, measured["threads"], measured["processes"], chosen,
                     advice.best("threads")[1], advice.best("processes")[1],
                     advice.gil_held_share, seconds, match))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=1)
    rounds = parser.parse_args().rounds
    here = machine.describe()
    print(f"usable CPUs {machine.usable_cpus().value}, start method {machine.lab_start_method()}, "
          f"Python {sys.version.split()[0]}")
    print(f"{'kind':9} {'01 best':10} {'01 thr':>7} {'01 proc':>8} | {'advisor':10} "
          f"{'adv thr':>7} {'adv proc':>8} {'GIL':>5} {'secs':>5} | match")
    matches = total = 0
    for _ in range(rounds):
        for kind, best, t01, p01, chosen, tadv, padv, held, secs, match in one_round():
            print(f"{kind:9} {best:10} {t01:6.2f}× {p01:7.2f}× | {chosen:10} {tadv:6.2f}× "
                  f"{padv:7.2f}× {held:5.0%} {secs:5.1f} | {'yes' if match else 'NO'}")
            matches, total = matches + match, total + 1
    print(f"{matches} of {total} match (within {WITHIN:.0%} of notebook 01's best). "
          f"{here.summary().splitlines()[0] if hasattr(here, 'summary') else ''}")


if __name__ == "__main__":
    main()
