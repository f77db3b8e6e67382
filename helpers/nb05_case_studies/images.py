"""Notebook 05, case 1: filter an image in tiles with threads, processes and shared memory.

The image is generated (a Mandelbrot render), never downloaded. It is cut into row
bands; each band carries a one-pixel halo (the rows just above and below it), so
filtering the bands and stacking them gives exactly the whole-image result. The
filter is a Sobel edge detector in integer arithmetic, written twice: in pure
Python (loops over lists, holding the GIL) and in NumPy (slicing arithmetic, which
releases it). Both give the same pixels, and every way of running them must too.
"""
from __future__ import annotations

import concurrent.futures as cf
import functools
import time
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Callable, Iterator

import numpy as np

from ..core import machine, runner, shm, text
from ..core.text import Verdict

KERNELS = ("python", "numpy")
KERNEL_TITLES = {"python": "pure Python (holds the GIL)", "numpy": "NumPy (releases the GIL)"}
WAYS = ("sequential", "threads", "processes", "shared memory")
DEFAULT_SIZE = 1024  # the pure-Python filter takes about a third of a second on one core here
MIN_SIZE, MAX_SIZE = 16, 2000
MAX_TILES = 64
MAX_REPEATS = 20
MIN_TIMED_SECONDS = 0.1
TIMEOUT_SECONDS = 300.0  # one way on one kernel: far beyond the largest image allowed
Progress = runner.Progress


# --- the image -----------------------------------------------------------------------------------


def check_size(size: int) -> None:
    runner.check_int("image size (pixels)", size, MIN_SIZE, MAX_SIZE)


def render(size: int = DEFAULT_SIZE, iterations: int = 48) -> np.ndarray:
    """A size × size greyscale Mandelbrot set (uint8), the same on every machine."""
    check_size(size)
    runner.check_int("iterations", iterations, 1, 1000)
    return _render(size, iterations).copy()


@functools.lru_cache(maxsize=4)
def _render(size: int, iterations: int) -> np.ndarray:
    ys, xs = np.mgrid[-1.2:1.2:size * 1j, -2.1:0.7:size * 1j]
    c = xs + 1j * ys
    z = np.zeros_like(c)
    escaped = np.full(c.shape, iterations, dtype=np.int32)
    for step in range(iterations):
        inside = escaped == iterations
        z[inside] = z[inside] ** 2 + c[inside]
        escaped[inside & (np.abs(z) > 2)] = step
    return (255 * np.sqrt(escaped / iterations)).astype(np.uint8)  # sqrt: the outer bands show


def pad(image: np.ndarray) -> np.ndarray:
    """The image with its border pixels repeated once all round: every pixel has 8 neighbours."""
    return np.pad(image, 1, mode="edge")


def bands(size: int, tiles: int) -> list[tuple[int, int]]:
    """Row ranges (start, stop) of `tiles` bands covering `size` rows, as even as can be."""
    bounds = np.linspace(0, size, tiles + 1).astype(int).tolist()
    return list(zip(bounds[:-1], bounds[1:]))


# --- the two kernels: same filter, same integers -------------------------------------------------


def sobel_python(padded: np.ndarray) -> np.ndarray:
    """Sobel edge strength of a padded band, in pure Python: (h+2, w+2) uint8 → (h, w) uint8."""
    rows = padded.tolist()
    out = []
    for r in range(1, len(rows) - 1):
        above, here, below = rows[r - 1], rows[r], rows[r + 1]
        line = []
        for c in range(1, len(here) - 1):
            gx = (above[c + 1] + 2 * here[c + 1] + below[c + 1]) - (above[c - 1] + 2 * here[c - 1] + below[c - 1])
            gy = (below[c - 1] + 2 * below[c] + below[c + 1]) - (above[c - 1] + 2 * above[c] + above[c + 1])
            line.append(min(255, (abs(gx) + abs(gy)) // 2))
        out.append(line)
    return np.array(out, dtype=np.uint8).reshape(len(rows) - 2, -1)


def sobel_numpy(padded: np.ndarray) -> np.ndarray:
    """The same filter as slicing arithmetic on whole arrays (NumPy releases the GIL inside)."""
    p = padded.astype(np.int32)
    gx = (p[:-2, 2:] + 2 * p[1:-1, 2:] + p[2:, 2:]) - (p[:-2, :-2] + 2 * p[1:-1, :-2] + p[2:, :-2])
    gy = (p[2:, :-2] + 2 * p[2:, 1:-1] + p[2:, 2:]) - (p[:-2, :-2] + 2 * p[:-2, 1:-1] + p[:-2, 2:])
    return np.minimum(255, (np.abs(gx) + np.abs(gy)) // 2).astype(np.uint8)


KERNEL_FUNCTIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "python": sobel_python, "numpy": sobel_numpy}


def check_kernel(kernel: str) -> None:
    runner.check_choice("kernel", kernel, KERNELS)


def check_way(way: str) -> None:
    runner.check_choice("way", way, WAYS)


# --- what runs in the workers (module level, so spawn and forkserver children can import it) ----


def filter_band(kernel: str, padded: np.ndarray, out: np.ndarray, start: int, stop: int) -> None:
    """Threads: filter rows start…stop-1 from the shared image into the shared output."""
    out[start:stop] = KERNEL_FUNCTIONS[kernel](padded[start:stop + 2])


_primed = False


def prime_allocator() -> None:
    """Once per process: let malloc keep large freed blocks instead of returning them.

    glibc raises its mmap threshold when a large block is freed. A fresh worker has not freed
    one yet, so every large temporary of the NumPy kernel is new memory and page-faults
    (4× slower seen here); the notebook's process was primed by rendering the image."""
    global _primed
    if not _primed:
        np.empty(24 * 2**20, np.uint8)  # allocated and freed at once, never touched
        _primed = True


def filter_tile(kernel: str, tile: np.ndarray) -> np.ndarray:
    """Processes: the tile (with its halo) arrived as a pickled copy; the result goes back as one."""
    prime_allocator()
    return KERNEL_FUNCTIONS[kernel](tile)


_attached: dict[str, np.ndarray] = {}


def filter_shared(kernel: str, source: shm.Segment, target: shm.Segment, start: int, stop: int) -> None:
    """Processes over shared memory: read the band where it lies, write the result in place.
    A worker maps each segment once and keeps it for the pool's next tasks."""
    prime_allocator()
    if source.name not in _attached or target.name not in _attached:
        _attached.clear()
        _attached[source.name] = shm.attach(source)
        _attached[target.name] = shm.attach(target)
    filter_band(kernel, _attached[source.name], _attached[target.name], start, stop)


# --- the experiment ------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Tiled:
    """Best wall time (seconds) per kernel and way, and the image before and after."""

    size: int
    tiles: int
    workers: int
    usable_cpus: int
    start_method: str
    seconds: dict[str, dict[str, float]]  # kernel → way → best of the repeats
    before: np.ndarray = field(repr=False)
    after: np.ndarray = field(repr=False)
    bounds: tuple[tuple[int, int], ...]
    kernels_agree: bool | None  # pure Python and NumPy gave the same pixels (None: one kernel run)

    @property
    def kernels(self) -> tuple[str, ...]:
        return tuple(self.seconds)

    def ways(self, kernel: str) -> tuple[str, ...]:
        return tuple(self.seconds[kernel])

    def speedup(self, kernel: str, way: str) -> float:
        return self.seconds[kernel]["sequential"] / self.seconds[kernel][way]

    def winner(self, kernel: str) -> str:
        return min(self.seconds[kernel], key=self.seconds[kernel].get)


def tiled(size: int = DEFAULT_SIZE, workers: int | None = None, tiles: int | None = None,
          kernels=KERNELS, ways=WAYS, repeats: int = 2, start_method: str | None = None,
          progress: Progress | None = None) -> Tiled:
    """Filter one image with each kernel in each way; every result must equal the sequential one.

    `workers` defaults to the usable CPUs, `tiles` to one band per worker (at most 64, and
    at most one per row)."""
    check_size(size)
    usable = machine.usable_cpus().value
    workers = usable if workers is None else workers
    kernels, ways = _checked(kernels, check_kernel, "kernel"), _checked(ways, check_way, "way")
    uses_processes = bool({"processes", "shared memory"} & set(ways))
    runner.check_workers(workers, "processes" if uses_processes else "threads")
    tiles = min(workers, MAX_TILES, size) if tiles is None else tiles
    runner.check_int("tiles", tiles, 1, min(MAX_TILES, size))
    runner.check_int("repeats", repeats, 1, MAX_REPEATS)
    method = runner.check_start_method(start_method)
    if "shared memory" in ways:
        shm.check_room(2 * (size + 2) ** 2)
    image = render(size)
    prime_allocator()
    padded = pad(image)
    reference = sobel_numpy(padded)
    chunks = bands(size, tiles)
    seconds: dict[str, dict[str, float]] = {}
    counter = _Ticker(progress, len(kernels) * repeats)
    with _workplace(ways, workers, method, padded) as places:
        for kernel in kernels:
            seconds[kernel] = _time_ways(kernel, ways, padded, chunks, places, repeats,
                                         reference, counter)
    agree = True if len(kernels) == 2 else None  # each kernel was checked against the same reference
    return Tiled(size, tiles, workers, usable, method, seconds, image, reference,
                 tuple(chunks), agree)


def _checked(values, check: Callable[[str], None], name: str) -> tuple[str, ...]:
    if isinstance(values, str) or not values:
        raise ValueError(f"{name}s must be a non-empty list of names, got {values!r}")
    for value in values:
        check(value)
    if len(set(values)) != len(values):
        raise ValueError(f"each {name} may be listed once, got {values!r}")
    return tuple(values)


@dataclass
class _Places:
    """The pools and shared arrays the ways need, opened once for all kernels."""

    threads: cf.Executor | None = None
    processes: cf.Executor | None = None
    source: shm.SharedArray | None = None
    target: shm.SharedArray | None = None


@contextmanager
def _workplace(ways, workers: int, method: str, padded: np.ndarray) -> Iterator[_Places]:
    """Open (warmed) what the ways need; close it all whatever happens, pools before segments."""
    places = _Places()
    with ExitStack() as stack:
        if "shared memory" in ways:
            shm.share_tracker()
            size = padded.shape[0] - 2
            places.source = stack.enter_context(shm.shared_array(padded.shape, "uint8"))
            places.target = stack.enter_context(shm.shared_array((size, size), "uint8"))
            places.source.array[:] = padded  # as if the image had been made in shared memory
        if "threads" in ways:
            places.threads = stack.enter_context(runner.open_pool("threads", workers))
        if {"processes", "shared memory"} & set(ways):
            places.processes = stack.enter_context(runner.open_pool("processes", workers, method))
        yield places


class _Ticker:
    def __init__(self, progress: Progress | None, total: int):
        self.progress, self.total, self.done = progress, total, 0

    def step(self) -> None:
        self.done += 1
        if self.progress and self.done <= self.total:
            self.progress(self.done, self.total)


def _time_ways(kernel: str, ways, padded: np.ndarray, chunks, places: _Places, repeats: int,
               reference: np.ndarray, counter: _Ticker) -> dict[str, float]:
    """Best wall time per way, over rounds that run every way once each (so a burst of load
    from elsewhere hits all ways alike). At least `repeats` rounds; more, up to 20, while the
    rounds took under 0.1 s in all: a millisecond run needs several to be trusted.
    AssertionError if any run gave other pixels than the sequential NumPy filter."""
    best = {way: float("inf") for way in ways}
    spent, rounds = 0.0, 0
    while rounds < repeats or (spent < MIN_TIMED_SECONDS and rounds < MAX_REPEATS):
        for way in ways:
            prepare, run = _way(kernel, way, padded, chunks, places)
            prepare()
            began = time.perf_counter()
            result = run()
            took = time.perf_counter() - began
            best[way], spent = min(best[way], took), spent + took
            if not np.array_equal(result, reference):
                raise AssertionError(f"the {kernel} kernel with {way} gave a different image "
                                     "from the sequential NumPy filter")
        rounds += 1
        counter.step()
    return best


def _way(kernel: str, way: str, padded: np.ndarray, chunks, places: _Places):
    """(prepare, run) for one way: prepare is untimed (fresh, touched output); run is timed."""
    fn = KERNEL_FUNCTIONS[kernel]
    size = padded.shape[0] - 2
    if way == "sequential":
        return (lambda: None), (lambda: fn(padded))
    if way == "threads":
        out = np.empty((size, size), np.uint8)

        def run_threads():
            _wait([places.threads.submit(filter_band, kernel, padded, out, a, b) for a, b in chunks])
            return out
        return (lambda: out.fill(0)), run_threads
    if way == "processes":
        def run_processes():
            futures = [places.processes.submit(filter_tile, kernel, padded[a:b + 2]) for a, b in chunks]
            _wait(futures)
            return np.concatenate([f.result() for f in futures])
        return (lambda: None), run_processes
    source, target = places.source.segment, places.target.segment

    def run_shared():
        _wait([places.processes.submit(filter_shared, kernel, source, target, a, b) for a, b in chunks])
        return places.target.array
    return (lambda: places.target.array.fill(0)), run_shared


def _wait(futures) -> None:
    """Every future's result, within the timeout; the first error is raised."""
    done, pending = cf.wait(futures, timeout=TIMEOUT_SECONDS, return_when=cf.FIRST_EXCEPTION)
    if pending:
        for future in pending:
            future.cancel()
        failed = [f for f in done if f.exception() is not None]
        if failed:
            raise failed[0].exception()
        raise TimeoutError(f"the tiles were not all filtered within {TIMEOUT_SECONDS:.0f} s")
    for future in done:
        future.result()


def trial(kernel: str = "python", way: str = "processes", workers: int | None = None,
          size: int = DEFAULT_SIZE, progress: Progress | None = None) -> Tiled:
    """The panel: one kernel, one way beside sequential."""
    check_kernel(kernel)
    check_way(way)
    ways = ("sequential",) if way == "sequential" else ("sequential", way)
    return tiled(size, workers, kernels=(kernel,), ways=ways, progress=progress)


# --- the verdict ---------------------------------------------------------------------------------

TIE = 1.1  # a runner-up within 10% of the winner's time is a tie on a noisy machine


def verdict(result: Tiled) -> Verdict:
    """One sentence on the set-up, then one per kernel: which way won here, and by how much."""
    if result.usable_cpus == 1 or result.workers == 1:
        why = ("On this machine this notebook may use only 1 CPU, so nothing" if
               result.usable_cpus == 1 else "With 1 worker nothing")
        opening = (f"{why} could run in parallel: any way above 1× is noise, and any way below "
                   "pays for its own overhead.")
    else:
        opening = (f"On this machine {result.workers} workers on {result.usable_cpus} usable CPUs "
                   f"filtered {result.tiles} tiles of a {result.size}×{result.size} image.")
    first, *rest = result.kernels
    sentences = [_kernel_sentence(result, kernel) for kernel in rest]
    same = ("Every way gave the same image, pixel for pixel"
            + (", and so did both kernels." if result.kernels_agree else "."))
    return Verdict(_kernel_sentence(result, first, others=False),
                   " ".join([opening, _speedups(result, first), *sentences, same]))





def _speedups(result: Tiled, kernel: str) -> str:
    """Every way's speedup over sequential, fastest first: the headline names only the winner."""
    times = result.seconds[kernel]
    ways = [f"{way} {result.speedup(kernel, way):.2f}×" for way in sorted(times, key=times.get)
            if way != "sequential"]
    return f"{KERNEL_TITLES[kernel]} against sequential: {', '.join(ways)}." if ways else ""


def _kernel_sentence(result: Tiled, kernel: str, others: bool = True) -> str:
    """Which way won for this kernel, by how much; with `others`, every other way's figure too."""
    times = result.seconds[kernel]
    ranked = sorted(times, key=times.get)
    winner = ranked[0]
    others = ", ".join(f"{way} {result.speedup(kernel, way):.2f}×" for way in ranked[1:]
                       if way != "sequential") if others else ""
    others = f" ({others})" if others else ""
    title = KERNEL_TITLES[kernel][0].upper() + KERNEL_TITLES[kernel][1:]
    if winner == "sequential":
        return (f"{title}: fastest sequentially, {text.ms(times[winner])}; no way of splitting it "
                f"paid for itself{others}.")
    tie = ""
    if times[ranked[1]] <= TIE * times[winner]:
        tie = f", a tie with {ranked[1]} within noise"
    return (f"{title}: fastest with {winner}, {text.ms(times[winner])}, "
            f"{result.speedup(kernel, winner):.2f}× sequential{tie}{others}.")


# --- the exercise: a NumPy kernel of your own ----------------------------------------------------


def blur_python(padded: np.ndarray) -> np.ndarray:
    """3×3 box blur in pure Python: each pixel the mean of its 9 neighbours, rounded down.
    (h+2, w+2) uint8 with a one-pixel halo → (h, w) uint8."""
    rows = padded.tolist()
    return np.array([[sum(rows[r + i][c + j] for i in (-1, 0, 1) for j in (-1, 0, 1)) // 9
                      for c in range(1, len(rows[0]) - 1)]
                     for r in range(1, len(rows) - 1)], dtype=np.uint8)


def exercise_tile() -> np.ndarray:
    """The tile the checker uses: a band of a 256-pixel render, with its halo."""
    return pad(render(256))[60:162]


def _best_of(runs: int, blur, tile: np.ndarray) -> tuple[np.ndarray, float]:
    """blur(a copy of tile) and its fastest time of `runs`: one run on a busy machine can
    take several times as long, enough to make a loop look as fast as slices."""
    seconds = []
    for _ in range(runs):
        began = time.perf_counter()
        result = blur(tile.copy())
        seconds.append(time.perf_counter() - began)
    return result, min(seconds)


def check_blur(my_blur) -> str:
    """Exercise: does my_blur(padded) give blur_python's pixels, and faster?"""
    if not callable(my_blur):
        return "Not yet: pass your function itself, e.g. check_blur(my_blur)."
    tile = exercise_tile()
    expected, python_seconds = _best_of(3, blur_python, tile)
    try:
        got, your_seconds = _best_of(3, my_blur, tile)
    except Exception as error:
        return f"Not yet: your function raised {type(error).__name__}: {error}"
    got = np.asarray(got)
    if got.shape != expected.shape:
        return (f"Not yet: expected an array of shape {expected.shape} (the tile without its "
                f"one-pixel halo), got shape {got.shape}.")
    wrong = int((got != expected).sum())
    if wrong:
        return f"Not yet: {wrong:,} of {expected.size:,} pixels differ from the pure-Python blur. " \
               + _blur_hint(tile, got)
    ratio = python_seconds / max(your_seconds, 1e-9)
    if ratio < 5:
        return (f"Not yet: every pixel is right, but it took {your_seconds * 1000:.1f} ms against "
                f"the loop's {python_seconds * 1000:.1f} ms: use whole-array slices, not loops.")
    return (f"Right: every pixel matches the pure-Python blur, {ratio:.0f}× faster "
            f"({your_seconds * 1000:.2f} ms against {python_seconds * 1000:.1f} ms). Slices hand "
            "the loop to NumPy's C code, which releases the GIL: threads can share that work.")


def _blur_hint(tile: np.ndarray, got: np.ndarray) -> str:
    if np.array_equal(got, tile[1:-1, 1:-1]):
        return "It returns the tile unchanged: add the 9 shifted slices, then divide by 9 with //."
    h, w = got.shape
    wrapped = sum(tile[i:i + h, j:j + w] for i in range(3) for j in range(3)) // 9
    if np.array_equal(got, wrapped):
        return ("The sums wrapped around: uint8 holds 0…255, so adding nine uint8 slices "
                "overflows. Convert first, e.g. tile.astype(np.int32).")
    return ("Each output pixel (r, c) is the sum of padded[r:r+3, c:c+3] // 9: the nine slices are "
            "padded[i:i+h, j:j+w] for i and j in 0, 1, 2.")
