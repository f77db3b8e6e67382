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


def timeline(result: RunResult, ax=None, speedup: float | None = None) -> Figure:
    """One row per worker, one bar per task: overlapping bars ran at the same time."""
    figure = ax.figure if ax is not None else _figure(8, 0.6 * max(result.workers, 2) + 1.4)
    ax = ax if ax is not None else figure.add_subplot()
    place_in_row: dict[int, int] = {}
    for span in sorted(result.spans, key=lambda s: s.start):
        # neighbours in a row always differ in colour, so two tasks never look like one
        place = place_in_row[span.worker] = place_in_row.get(span.worker, -1) + 1
        shade = TASK_SHADES[(span.worker + place) % len(TASK_SHADES)]
        ax.broken_barh([(span.start * 1000, span.duration * 1000)], (span.worker - 0.4, 0.8),
                       facecolors=shade, edgecolor="white")
    rows = sorted({span.worker for span in result.spans})
    ax.set_yticks(rows, [f"worker {row}" for row in rows])
    ax.set_ylim(max(rows) + 0.6, -0.6)
    ax.set_xlim(0, result.wall * 1000 * 1.02)
    ax.set_xlabel("time since the run started (ms)")
    title = f"{result.label} on {result.work}: {result.parallelism:.2f} CPUs busy on average"
    if speedup is not None:
        title += f", {speedup:.2f}× sequential"
    ax.set_title(title, fontsize=11)
    _tidy(ax)
    ax.grid(False, axis="y")
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
