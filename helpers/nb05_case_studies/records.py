"""Notebook 05, case study 4: data processing — a parallel map over many log records.

The records are web sessions (JSON lines) written locally and deterministically, no
downloads, into a temporary folder that is always removed. One task parses and summarises
one record (tens of microseconds of Python), so the cost of each message to a worker
process matters, and `chunksize` decides how many messages there are.
"""
from __future__ import annotations

import concurrent.futures as cf
import json
import math
import random
import statistics
import tempfile
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

from ..core import machine, runner, text
from ..core.text import Verdict

MAX_RECORDS = 20_000
MAX_FILES = 100
MAX_EVENTS = 1_000
MAX_EVENTS_IN_ALL = 2_000_000  # requests in one record set: keeps it under ~250 MiB
MAX_REPEATS = 20
RECORDS = 1_000
FILES = 6
EVENTS = 40  # requests per session record, on average
EXERCISE_RECORDS = 800
SEED = 2026

_ENDPOINTS = ("/", "/login", "/search", "/api/items/{}", "/api/users/{}", "/static/app.js",
              "/static/logo.png", "/cart", "/checkout")
_METHODS = ("GET", "GET", "GET", "GET", "POST")
_STATUSES = (200,) * 16 + (301, 304, 404, 500)


# --- the records -------------------------------------------------------------------------------


def _event(rng: random.Random, second: float) -> dict:
    bits = rng.getrandbits(64)  # one draw, sliced into the fields: writing stays quick
    status = _STATUSES[(bits >> 20 & 0xFF) % len(_STATUSES)]
    return {
        "t": round(second, 3),
        "method": _METHODS[(bits >> 28 & 0xFF) % len(_METHODS)],
        "path": _ENDPOINTS[bits % len(_ENDPOINTS)].format(bits >> 8 & 4095),
        "status": status,
        "bytes": 200 + (bits >> 32 & 0xFFFF) if status == 200 else bits >> 48 & 0xFF,
        "ms": round(math.exp(rng.gauss(3, 0.8)), 1),  # log-normal: mostly quick, a long tail
    }


def _session(rng: random.Random, number: int, events: int) -> str:
    second, requests = number * 7.0, []
    for _ in range(rng.randint(events // 2, events * 3 // 2)):
        second += rng.expovariate(0.5)
        requests.append(_event(rng, second))
    return json.dumps({"session": f"s{number:06d}", "user": rng.randrange(1, 500),
                       "events": requests}, separators=(",", ":")) + "\n"


def _check_sizes_of_set(records: int, files: int, events: int, seed: int = SEED) -> None:
    runner.check_int("records", records, 1, MAX_RECORDS)
    runner.check_int("files", files, 1, min(MAX_FILES, records))
    runner.check_int("events", events, 2, MAX_EVENTS)
    if records * events > MAX_EVENTS_IN_ALL:
        raise ValueError(f"records × events must be at most {MAX_EVENTS_IN_ALL:,} (about "
                         f"{MAX_EVENTS_IN_ALL * 130 // 2**20} MiB of JSON), got {records * events:,}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(f"seed must be an integer, got {seed!r}")


def write_logs(folder: str | Path, records: int = RECORDS, files: int = FILES,
               events: int = EVENTS, seed: int = SEED) -> list[Path]:
    """Write `records` web sessions as JSON lines, spread over `files` files in `folder`.

    A session holds from half to one and a half times `events` requests; the same
    arguments always write the same bytes."""
    _check_sizes_of_set(records, files, events, seed)
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"folder must be an existing directory, got {str(folder)!r}")
    rng = random.Random(seed)
    paths = []
    for number in range(files):
        first, last = number * records // files, (number + 1) * records // files
        path = folder / f"sessions-{number:03d}.jsonl"
        path.write_text("".join(_session(rng, n, events) for n in range(first, last)))
        paths.append(path)
    return paths


def read_records(paths: Sequence[str | Path]) -> list[str]:
    """Every line of every file, in order: one record per line."""
    lines: list[str] = []
    for path in paths:
        with open(path, encoding="utf-8") as handle:
            lines.extend(handle)
    return lines


@contextmanager
def session_records(records: int = RECORDS, files: int = FILES, events: int = EVENTS,
                    seed: int = SEED) -> Iterator[list[str]]:
    """Freshly written session logs, read back as lines; the temporary folder is always removed."""
    _check_sizes_of_set(records, files, events, seed)
    with tempfile.TemporaryDirectory(prefix="lab-records-") as folder:
        yield read_records(write_logs(folder, records, files, events, seed))


def summarise(record: str) -> dict:
    """One task, run in a worker: parse one session (a JSON line) and summarise it.

    Returns requests, errors (status ≥ 500), bytes sent, slow requests (> 100 ms), the
    session's length in seconds and 95th-percentile latency in ms, and requests per
    endpoint (ids folded to `:id`)."""
    session = json.loads(record)
    requests = errors = sent = slow = 0
    latencies = []
    endpoints: dict[str, int] = {}
    for event in session["events"]:
        parts = event["path"].split("/")
        if parts[-1].isdigit():
            parts[-1] = ":id"
        endpoint = "/".join(parts)
        endpoints[endpoint] = endpoints.get(endpoint, 0) + 1
        latency = event["ms"]
        latencies.append(latency)
        requests += 1
        sent += event["bytes"]
        errors += event["status"] >= 500
        slow += latency > 100
    latencies.sort()
    events = session["events"]
    return {
        "requests": requests, "errors": errors, "bytes": sent, "slow": slow,
        "seconds": events[-1]["t"] - events[0]["t"] if events else 0.0,
        "p95_ms": latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))] if latencies else 0.0,
        "endpoints": endpoints,
    }


def combine(summaries: Sequence[dict]) -> dict:
    """All sessions' summaries as one: totals, the worst p95, requests per endpoint."""
    endpoints: Counter = Counter()
    for one in summaries:
        endpoints.update(one["endpoints"])
    return {
        "sessions": len(summaries),
        "requests": sum(s["requests"] for s in summaries),
        "errors": sum(s["errors"] for s in summaries),
        "bytes": sum(s["bytes"] for s in summaries),
        "slow": sum(s["slow"] for s in summaries),
        "longest_session_s": round(max((s["seconds"] for s in summaries), default=0.0), 3),
        "worst_p95_ms": max((s["p95_ms"] for s in summaries), default=0.0),
        "endpoints": dict(endpoints.most_common()),
    }


def _plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def _ready(pause: float) -> bool:
    """Warm-up task: importing this module in the worker is part of it."""
    time.sleep(pause)
    return True


# --- the chunking experiment -------------------------------------------------------------------


def _default_workers(workers: int | None) -> int:
    workers = max(2, machine.usable_cpus().value) if workers is None else workers
    runner.check_workers(workers, "processes")
    return workers


def _check_chunksizes(chunksizes: Sequence[int], tasks: int) -> list[int]:
    if isinstance(chunksizes, (str, bytes)) or not isinstance(chunksizes, Sequence) or not chunksizes:
        raise ValueError("chunksizes must be a non-empty list of integers")
    for size in chunksizes:
        runner.check_int("each chunksize", size, 1, tasks)
    return sorted(set(chunksizes))


@dataclass(frozen=True)
class Chunking:
    """Median seconds to summarise every record: a loop, threads, processes per chunksize."""

    records: int
    workers: int
    usable_cpus: int
    start_method: str
    automatic: int
    sequential: float
    threads: float
    seconds: dict[int, float]  # chunksize -> median seconds with processes
    summary: dict  # the combined result, identical for every way of running

    @property
    def chunksizes(self) -> list[int]:
        return list(self.seconds)

    def messages(self, chunksize: int) -> int:
        """Chunks sent to the workers (each comes back as one reply)."""
        return math.ceil(self.records / chunksize)

    @property
    def best(self) -> int:
        return min(self.seconds, key=self.seconds.get)

    def speedup(self, chunksize: int) -> float:
        return self.sequential / self.seconds[chunksize]

    def per_message_ms(self) -> float:
        """What the smallest chunksize lost against the best, per extra chunk, in ms."""
        smallest = min(self.seconds)
        extra = self.messages(smallest) - self.messages(self.best)
        lost = self.seconds[smallest] - self.seconds[self.best]
        return lost / extra * 1000 if extra > 0 else 0.0


def _timed_map(pool: cf.Executor, records: list, chunksize: int) -> tuple[float, list]:
    started = time.perf_counter()
    summaries = list(pool.map(summarise, records, chunksize=chunksize, timeout=120))
    return time.perf_counter() - started, summaries


def _timed_loop(records: list) -> tuple[float, list]:
    started = time.perf_counter()
    summaries = [summarise(record) for record in records]
    return time.perf_counter() - started, summaries


def _measure(records: list, sizes: list[int], workers: int, repeats: int,
             baselines: bool, progress: runner.Progress | None) -> tuple[dict, dict]:
    """Median seconds per way of running (repeats interleaved) and the loop's combined summary."""
    expected = combine(_timed_loop(records)[1])  # untimed warm-up, and the reference answer
    ways: list = (["sequential", "threads"] if baselines else []) + sizes
    times: dict = {way: [] for way in ways}
    done, total = 0, repeats * len(ways)
    with runner.open_pool("threads", workers) as threads, \
            runner.open_pool("processes", workers) as processes:
        list(processes.map(_ready, [0.02] * workers, timeout=60))  # import this module in each
        for _ in range(repeats):
            for way in ways:
                if way == "sequential":
                    seconds, summaries = _timed_loop(records)
                else:
                    pool = threads if way == "threads" else processes
                    seconds, summaries = _timed_map(pool, records, 1 if way == "threads" else way)
                if combine(summaries) != expected:
                    raise RuntimeError(f"{way} gave a different summary from the plain loop")
                times[way].append(seconds)
                done += 1
                if progress:
                    progress(done, total)
    return {way: statistics.median(values) for way, values in times.items()}, expected


def chunking(records: int = RECORDS, chunksizes: Sequence[int] | None = None,
             workers: int | None = None, repeats: int = 3,
             progress: runner.Progress | None = None) -> Chunking:
    """Summarise `records` sessions with a plain loop, threads, and a warmed process pool at
    each chunksize (default: 1, 4, 16, 64, the automatic one, one chunk per worker, all in
    one chunk). Repeats are interleaved, the median kept; every way's combined summary is
    checked equal to the loop's."""
    runner.check_int("records", records, 1, MAX_RECORDS)
    workers = _default_workers(workers)
    runner.check_int("repeats", repeats, 1, MAX_REPEATS)
    auto = runner.automatic_chunksize(records, workers, MAX_RECORDS)
    if chunksizes is None:
        chunksizes = ([s for s in (1, 4, 16, 64) if s <= records]
                      + [auto, math.ceil(records / workers), records])
    sizes = _check_chunksizes(chunksizes, records)
    method = runner.check_start_method(None)
    with session_records(records, min(FILES, records)) as lines:
        median, expected = _measure(lines, sizes, workers, repeats, True, progress)
    return Chunking(records, workers, machine.usable_cpus().value, method, auto,
                    median.pop("sequential"), median.pop("threads"), median, expected)





def chunking_verdict(result: Chunking) -> Verdict:
    """On this machine: the best chunksize, what chunksize 1 lost and why, idle workers."""
    best, smallest, largest = result.best, min(result.seconds), max(result.seconds)
    each = result.sequential / result.records * 1e6
    summary = (f"On this machine, {result.records:,} records took {text.ms(result.sequential)} in a plain "
            f"loop ({each:.0f} µs each) and {text.ms(result.threads)} on {result.workers} threads; on {result.workers} "
            f"{result.start_method} processes the best chunksize was {best:,} "
            f"({_plural(result.messages(best), 'chunk')}, {text.ms(result.seconds[best])}, "
            f"{result.speedup(best):.2f}× the loop).")
    if smallest != best:
        lost = result.seconds[smallest] / result.seconds[best]
        summary += (f" Chunksize {smallest} sent {_plural(result.messages(smallest), 'chunk')} and took "
                 f"{lost:.1f}× as long, about {result.per_message_ms():.2f} ms per extra chunk: each "
                 "chunk is a round trip (pickle the records, write them to a pipe, wake a worker, "
                 "pickle the summaries back).")
    if result.messages(largest) < result.workers and largest != best:
        idle = result.workers - result.messages(largest)
        summary += (f" Chunksize {largest:,} made only {_plural(result.messages(largest), 'chunk')} "
                 f"for {result.workers} workers, so {_plural(idle, 'worker')} sat idle "
                 f"({text.ms(result.seconds[largest])}).")
    if result.usable_cpus == 1:
        summary += (" With one usable CPU the worker processes take turns on it, so no chunksize "
                 "can beat the plain loop: the best one only wastes the least.")
    elif result.speedup(best) < 1:
        summary += " Even the best chunksize did not beat the plain loop here: each record is too little work."
    headline = (f"On {result.workers} {result.start_method} processes the best chunksize was {best:,}, "
                f"{result.speedup(best):.2f}× the speed of a plain loop.")
    return Verdict(headline, summary)


# --- the exercise ------------------------------------------------------------------------------


def check_chunksize(answer, records: int = EXERCISE_RECORDS, workers: int | None = None) -> str:
    """Exercise: is `answer` a chunksize within 25% of the best measured for `records` sessions?

    Measures the answer beside the automatic chunksize, a quarter of it and four times it, in
    one warmed pool, interleaved, median of three."""
    runner.check_int("records", records, 1, MAX_RECORDS)
    workers = _default_workers(workers)
    if isinstance(answer, bool) or not isinstance(answer, int):
        return "Not yet: set my_chunksize to a whole number of records per chunk."
    if not 1 <= answer <= records:
        return f"Not yet: a chunksize must be from 1 to {records:,} (the number of records)."
    auto = runner.automatic_chunksize(records, workers, MAX_RECORDS)
    sizes = sorted({max(1, auto // 4), auto, min(records, auto * 4), answer})
    with session_records(records, min(FILES, records), seed=SEED + 1) as lines:
        seconds, _ = _measure(lines, sizes, workers, 3, False, None)
    best_size = min(seconds, key=seconds.get)
    mine, best = seconds[answer], seconds[best_size]
    chunks = lambda size: _plural(math.ceil(records / size), "chunk")  # noqa: E731
    figures = (f"for {records:,} records on {workers} processes, chunksize {answer:,} "
               f"({chunks(answer)}) took {text.ms(mine)}; the best measured, chunksize {best_size:,} "
               f"({chunks(best_size)}), {text.ms(best)}.")
    one_cpu = (" With one usable CPU no chunksize can beat a plain loop; this compares chunk "
               "sizes only." if machine.usable_cpus().value == 1 else "")
    idle = workers - math.ceil(records / answer)
    if idle > 0 and machine.usable_cpus().value > 1:
        return (f"Not yet: chunksize {answer:,} makes {chunks(answer)} for {workers} workers, so "
                f"{_plural(idle, 'worker')} get{'s' if idle == 1 else ''} nothing to do — "
                + figures[0].lower() + figures[1:] + " Try smaller chunks.")
    if mine <= 1.25 * best:
        return ("Right: " + figures + " Few enough chunks that the round trips cost little, "
                "enough that every worker stays busy to the end." + one_cpu)
    if answer < best_size:
        why = " Too many small chunks: each one is a round trip to a worker. Try bigger chunks."
    else:
        why = (" Too few chunks: with fewer chunks than workers, or chunks of unequal cost, "
               "some workers sit idle at the end. Try smaller chunks.")
    return "Not yet: " + figures + why + one_cpu
