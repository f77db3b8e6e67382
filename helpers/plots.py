"""Results → matplotlib Figures in one house style.

Figures are made with matplotlib.figure.Figure, not pyplot, so nothing is shown
twice: a notebook displays the Figure it gets back, a widget renders it to PNG.
"""
from __future__ import annotations

import io as _io
from typing import Sequence

from matplotlib.figure import Figure

from .runner import RunResult, Sweep

# Okabe–Ito: distinguishable with every common colour-vision deficiency.
COLOURS = {
    "threads": "#0072B2",
    "processes": "#D55E00",
    "sequential": "#000000",
    "ideal": "#999999",
    "usable": "#009E73",
}
TASK_SHADES = ("#0072B2", "#56B4E9", "#D55E00", "#E69F00", "#009E73", "#CC79A7")
KIND_TITLES = {
    "cpu": "cpu: pure Python (holds the GIL)",
    "gil_free": "gil_free: hashlib (releases the GIL)",
    "io": "io: blocking wait",
}


def _figure(width: float, height: float) -> Figure:
    figure = Figure(figsize=(width, height), dpi=100, layout="constrained")
    figure.set_facecolor("white")
    return figure


def _tidy(ax) -> None:
    ax.grid(True, color="#dddddd", linewidth=0.8)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def speedup(sweep: Sweep, ax=None, legend: bool = True) -> Figure:
    """Speedup vs workers for each backend, with the ideal line and the usable-CPU mark."""
    figure = ax.figure if ax is not None else _figure(5.5, 4)
    ax = ax if ax is not None else figure.add_subplot()
    counts = sorted({r.workers for runs in sweep.runs.values() for r in runs})
    ax.plot(counts, counts, linestyle="--", color=COLOURS["ideal"], label="ideal (speedup = workers)")
    ax.axvline(sweep.usable_cpus, color=COLOURS["usable"], linestyle=":", linewidth=2,
               label=f"usable CPUs = {sweep.usable_cpus}")
    ax.axhline(1, color=COLOURS["sequential"], linewidth=0.8)
    for backend in sweep.runs:
        points = sweep.points(backend)
        xs = [p.workers for p in points]
        ys = [p.speedup for p in points]
        spread = [[p.speedup - p.low for p in points], [p.high - p.speedup for p in points]]
        ax.errorbar(xs, ys, yerr=spread, marker="o", capsize=3, linewidth=2,
                    color=COLOURS.get(backend), label=backend)
    ax.set_xscale("log", base=2)
    ax.set_xticks(counts, [str(c) for c in counts])
    ax.set_ylim(0, max(counts) * 1.1)
    ax.set_xlabel("workers")
    ax.set_ylabel("speedup over sequential (×)")
    ax.set_title(KIND_TITLES.get(sweep.work, sweep.work), fontsize=10)
    if legend:
        ax.legend(fontsize=8, loc="upper left")
    _tidy(ax)
    return figure


def speedups(sweeps: Sequence[Sweep]) -> Figure:
    """One speedup panel per sweep, side by side on a shared y axis, one legend on top."""
    figure = _figure(3.4 * len(sweeps), 3.9)
    axes = figure.subplots(1, len(sweeps), sharey=True, squeeze=False)[0]
    for ax, one in zip(axes, sweeps):
        speedup(one, ax=ax, legend=False)
    for ax in axes[1:]:
        ax.set_ylabel("")
    handles, labels = axes[0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="outside upper center", ncols=len(labels), fontsize=9,
                  frameon=False)
    return figure


def _bars(ax, spans, wall: float, row: str = "worker") -> None:
    """One row per worker, one bar per span; neighbours in a row always differ in colour."""
    place_in_row: dict[int, int] = {}
    for span in sorted(spans, key=lambda s: s.start):
        place = place_in_row[span.worker] = place_in_row.get(span.worker, -1) + 1
        shade = TASK_SHADES[(span.worker + place) % len(TASK_SHADES)]
        ax.broken_barh([(span.start * 1000, span.duration * 1000)], (span.worker - 0.4, 0.8),
                       facecolors=shade, edgecolor="white", linewidth=0.5)
    rows = sorted(place_in_row)
    ax.set_yticks(rows, [f"{row} {number}" for number in rows])
    ax.set_ylim(max(rows) + 0.6, -0.6)
    ax.set_xlim(0, wall * 1000 * 1.02)
    ax.set_xlabel("time since the run started (ms)")
    _tidy(ax)
    ax.grid(False, axis="y")


def timeline(result: RunResult, ax=None, speedup: float | None = None) -> Figure:
    """One row per worker, one bar per task: overlapping bars ran at the same time."""
    figure = ax.figure if ax is not None else _figure(8, 0.6 * max(result.workers, 2) + 1.4)
    ax = ax if ax is not None else figure.add_subplot()
    _bars(ax, result.spans, result.wall)
    title = f"{result.label} on {result.work}: {result.parallelism:.2f} CPUs busy on average"
    if speedup is not None:
        title += f", {speedup:.2f}× sequential"
    ax.set_title(title, fontsize=11)
    return figure


def stretches(lines: Sequence, usable_cpus: int | None = None) -> Figure:
    """Stacked timelines of uninterrupted running: one bar per stretch, not per task."""
    lines = list(lines) if isinstance(lines, (list, tuple)) else [lines]
    heights = [max(line.workers, 2) for line in lines]
    figure = _figure(9, 0.5 * sum(heights) + 1.1 * len(lines))
    axes = figure.subplots(len(lines), 1, squeeze=False, sharex=True,
                           gridspec_kw={"height_ratios": heights})[:, 0]
    for ax, line in zip(axes, lines):
        _bars(ax, line.runs, line.wall, row="task")
        ax.set_title(f"{line.label}: {line.parallelism:.2f} CPUs busy on average", fontsize=10)
    for ax in axes[:-1]:
        ax.set_xlabel("")
    axes[0].set_xlim(0, max(line.wall for line in lines) * 1000 * 1.02)
    if usable_cpus is not None:
        figure.suptitle(f"one row per task, one bar per stretch it ran without a break · usable CPUs: "
                        f"{usable_cpus}", fontsize=10)
    return figure


def switching(result) -> Figure:
    """One histogram per switch interval of how long a thread ran before handing over."""
    import numpy as np

    intervals = list(result.run_lengths)
    every = [x for lengths in result.run_lengths.values() for x in lengths if x > 0]
    low = min(min(every), min(intervals)) * 1000 * 0.7
    high = max(max(every), max(intervals)) * 1000 * 1.4
    bins = np.geomspace(low, high, 50)
    figure = _figure(8, 1.6 * len(intervals) + 1.2)
    axes = figure.subplots(len(intervals), 1, sharex=True, squeeze=False)[:, 0]
    shades = ("#0072B2", "#009E73", "#D55E00")
    for ax, shade, interval in zip(axes, shades * 3, intervals):
        lengths = [x * 1000 for x in result.run_lengths[interval]]
        ax.hist(lengths, bins=bins, color=shade, alpha=0.8)
        ax.axvline(interval * 1000, color="#000000", linestyle="--", linewidth=1.2)
        ax.set_title(f"interval {interval * 1000:g} ms (dashed): median stretch "
                     f"{result.median(interval) * 1000:.2f} ms, {len(lengths)} stretches",
                     fontsize=10)
        ax.set_ylabel("count")
        _tidy(ax)
    axes[-1].set_xscale("log")
    ticks = [t for t in (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500)
             if low <= t <= high]
    axes[-1].set_xticks(ticks, [f"{t:g}" for t in ticks])
    axes[-1].set_xlim(low, high)
    axes[-1].set_xlabel("how long a thread ran before handing over the GIL (ms, log scale)")
    figure.suptitle("2 CPU-bound threads at three switch intervals", fontsize=11)
    return figure


def convoy(result) -> Figure:
    """Every ping's round trip, per case, with the median and p99 marked (log scale)."""
    import numpy as np

    figure = _figure(8.5, 4)
    ax = figure.add_subplot()
    keys = list(result.latencies)
    rng = np.random.default_rng(0)
    for x, key in enumerate(keys):
        values = np.array(result.latencies[key]) * 1000
        colour = COLOURS.get(key[0], COLOURS["sequential"])
        ax.scatter(x + rng.uniform(-0.18, 0.18, len(values)), values, s=9, alpha=0.45, color=colour)
        ax.hlines(result.median(key) * 1000, x - 0.3, x + 0.3, color=colour, linewidth=2.5,
                  label="median" if x == 0 else None)
        ax.scatter([x + 0.34], [result.p99(key) * 1000], marker="<", color=colour, s=40,
                   label="p99" if x == 0 else None)
    ax.axhline(result.switch_interval * 1000, color=COLOURS["usable"], linestyle=":", linewidth=2,
               label=f"switch interval = {result.switch_interval * 1000:g} ms")
    names = [f"{result.label(key).replace(' CPU-bound', '')}\n{len(result.latencies[key])} pings"
             for key in keys]
    ax.set_xticks(range(len(keys)), names, fontsize=9)
    ax.set_yscale("log")
    ax.set_ylabel("ping round trip (ms, log scale)")
    ax.set_title("A responder thread answering pings, beside CPU-bound work", fontsize=11)
    ax.legend(fontsize=8, loc="upper left")
    _tidy(ax)
    return figure


def mixed(result) -> Figure:
    """Speedup over sequential against the share of cpu tasks, for threads and processes."""
    figure = _figure(6, 3.8)
    ax = figure.add_subplot()
    shares = [share * 100 for share in result.shares]
    for backend, values in result.speedups.items():
        ax.plot(shares, values, marker="o", linewidth=2, color=COLOURS[backend], label=backend)
    ax.axhline(1, color=COLOURS["sequential"], linewidth=0.8)
    ax.set_xlabel("share of cpu tasks in the batch (%; the rest are io)")
    ax.set_ylabel("speedup over sequential (×)")
    ax.set_ylim(0, max(max(v) for v in result.speedups.values()) * 1.15)
    ax.set_title(f"{result.workers} workers on a mixed batch", fontsize=11)
    ax.legend(fontsize=9)
    _tidy(ax)
    return figure


def comparison(compared) -> Figure:
    """The timeline of a parallel run, titled with its speedup over the sequential one."""
    return timeline(compared.result, speedup=compared.speedup)


def timelines(results: Sequence[RunResult], usable_cpus: int | None = None) -> Figure:
    """Timelines stacked on one time axis, so their lengths compare directly."""
    heights = [max(r.workers, 2) for r in results]
    figure = _figure(9, 0.55 * sum(heights) + 1.2 * len(results))
    axes = figure.subplots(len(results), 1, sharex=True, squeeze=False,
                           gridspec_kw={"height_ratios": heights})[:, 0]
    for ax, result in zip(axes, results):
        timeline(result, ax=ax)
    for ax in axes[:-1]:
        ax.set_xlabel("")
    axes[0].set_xlim(0, max(r.wall for r in results) * 1000 * 1.02)
    if usable_cpus is not None:
        figure.suptitle(f"usable CPUs on this machine: {usable_cpus}", fontsize=10)
    return figure


def to_png(figure: Figure) -> bytes:
    """PNG bytes of a figure, for widgets and for saving."""
    buffer = _io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
