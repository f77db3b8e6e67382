"""Results → matplotlib Figures in one house style.

Figures are made with matplotlib.figure.Figure, not pyplot, so nothing is shown
twice: a notebook displays the Figure it gets back, a widget renders it to PNG.
"""
from __future__ import annotations

import io as _io
from pathlib import Path
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


def new_figure(width: float, height: float) -> Figure:
    figure = Figure(figsize=(width, height), dpi=100, layout="constrained")
    figure.set_facecolor("white")
    return figure


def tidy(ax) -> None:
    ax.grid(True, color="#dddddd", linewidth=0.8)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def speedup(sweep: Sweep, ax=None, legend: bool = True) -> Figure:
    """Speedup vs workers for each backend, with the ideal line and the usable-CPU mark."""
    figure = ax.figure if ax is not None else new_figure(5.5, 4)
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
    tidy(ax)
    return figure


def speedups(sweeps: Sequence[Sweep]) -> Figure:
    """One speedup panel per sweep, side by side, one legend on top. Each panel has its own
    y axis: io's speedup can be ten times the others', and would flatten them."""
    figure = new_figure(3.4 * len(sweeps), 3.9)
    axes = figure.subplots(1, len(sweeps), squeeze=False)[0]
    for ax, one in zip(axes, sweeps):
        speedup(one, ax=ax, legend=False)
    for ax in axes[1:]:
        ax.set_ylabel("")
    handles, labels = axes[0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="outside upper center", ncols=len(labels), fontsize=9,
                  frameon=False)
    return figure


def task_bars(ax, spans, wall: float, row: str = "worker") -> None:
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
    tidy(ax)
    ax.grid(False, axis="y")


def timeline(result: RunResult, ax=None, speedup: float | None = None) -> Figure:
    """One row per worker, one bar per task: overlapping bars ran at the same time."""
    figure = ax.figure if ax is not None else new_figure(8, 0.6 * max(result.workers, 2) + 1.4)
    ax = ax if ax is not None else figure.add_subplot()
    task_bars(ax, result.spans, result.wall)
    title = f"{result.label} on {result.work}: {result.parallelism:.2f} CPUs busy on average"
    if speedup is not None:
        title += f", {speedup:.2f}× sequential"
    ax.set_title(title, fontsize=11)
    return figure


def backend_lines(ax, xs, values_by_backend: dict) -> None:
    """One line with markers per backend, in the house colours."""
    for backend, values in values_by_backend.items():
        ax.plot(xs, values, marker="o", linewidth=2, color=COLOURS[backend], label=backend)


def timelines(results: Sequence[RunResult], usable_cpus: int | None = None) -> Figure:
    """Timelines stacked on one time axis, so their lengths compare directly."""
    heights = [max(r.workers, 2) for r in results]
    figure = new_figure(9, 0.55 * sum(heights) + 1.2 * len(results))
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


def plain_log_labels(axis) -> None:
    """Label a log axis 0.1, 1, 10 … rather than 10⁻¹, 10⁰, 4×10¹."""
    from matplotlib.ticker import FuncFormatter, NullFormatter

    axis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    axis.set_minor_formatter(NullFormatter())


def ms_bars(ax, labels, values, colours) -> None:
    """Horizontal bars from the top down, each with its value in ms written beside it."""
    ax.barh(labels, values, color=colours)
    for y, value in enumerate(values):
        ax.annotate(f"{value:.0f} ms", (value, y), textcoords="offset points", xytext=(4, -3), fontsize=8)
    ax.set_xlim(0, max(values) * 1.2)
    ax.invert_yaxis()


def save_png(figure: Figure, path) -> Path:
    """Save `figure` as a PNG at its own size (16 × 10 in at 100 dpi → 1600 × 1000 px);
    return the path written. ValueError for anything but a Figure and a .png file path in an
    existing, writable folder."""
    import os

    if not isinstance(figure, Figure):
        raise ValueError(f"figure must be a matplotlib Figure (e.g. plots.infographic(s)), "
                         f"got {type(figure).__name__}")
    if isinstance(path, bool) or not isinstance(path, (str, os.PathLike)) or not str(path).strip():
        raise ValueError(f"path must be a file path ending in .png, e.g. 'my_machine.png', got {path!r}")
    target = Path(path).expanduser()
    if target.suffix.lower() != ".png":
        raise ValueError(f"path must be a file path ending in .png, e.g. 'my_machine.png', got {path!r}")
    if target.is_dir():
        raise ValueError(f"path must be a file path ending in .png, not a folder: {path!r}")
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise ValueError(f"path must be in an existing folder; {str(folder)!r} does not exist")
    if not os.access(folder, os.W_OK):
        raise ValueError(f"path must be in a folder you can write to; {str(folder)!r} is not writable")
    figure.savefig(target, format="png", dpi=figure.dpi)
    return target.resolve()


def value_bars(ax, labels, values, colours, fmt: str) -> None:
    """Log-scale bars; a value too small to measure is drawn as a mark and labelled."""
    shown = [v for v in values if v > 0]
    floor = min(shown) / 10 if shown else 0.01
    xs = range(len(labels))
    ax.bar(xs, [max(v, floor) for v in values], color=colours, bottom=0)
    for x, value in zip(xs, values):
        text = fmt.format(value) if value > floor else "≈ 0\n(not seen)"
        ax.annotate(text, (x, max(value, floor)), textcoords="offset points", xytext=(0, 3),
                    ha="center", fontsize=8)
    ax.set_xticks(list(xs), labels, fontsize=8)
    ax.set_yscale("log")
    ax.set_ylim(floor, max(shown or [1]) * 4)
    plain_log_labels(ax.yaxis)
    tidy(ax)

