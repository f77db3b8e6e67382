"""Notebook 07's figures: other engines, and beyond the GIL."""
from __future__ import annotations

from typing import Sequence
import textwrap

from matplotlib.figure import Figure

from ..core import style, workloads
from . import beyond


ENGINE_COLOURS = {"lab threads": style.COLOURS["threads"], "lab processes": style.COLOURS["processes"],
                  "dask threads": "#56B4E9", "dask processes": "#E69F00",
                  "joblib (loky)": "#CC79A7"}


def engines(result: beyond.Engines) -> Figure:
    """Each engine's start time, cost per empty task (both log) and speedup per task kind."""
    figure = style.new_figure(13, 4.2)
    start, per_task, gains = figure.subplots(1, 3, width_ratios=[1, 1, 1.3])
    names = [run.engine for run in result.runs]
    labels = [name.replace(" ", "\n", 1) for name in names]
    colours = [ENGINE_COLOURS[name] for name in names]
    style.value_bars(start, labels, [run.start_seconds * 1000 for run in result.runs], colours,
              "{:,.0f} ms")
    start.set_ylabel("time to start, workers ready (ms, log scale)")
    start.set_title(f"start {result.workers} workers", fontsize=10)
    style.value_bars(per_task, labels, [run.per_task_seconds * 1e6 for run in result.runs], colours,
              "{:,.0f} µs")
    per_task.set_ylabel("wall time per empty task (µs, log scale)")
    per_task.set_title("what each task costs to hand out", fontsize=10)
    if len(names) == 1:  # one engine (the panel): a bar, not a wall
        for ax in (start, per_task):
            ax.set_xlim(-1.2, 1.2)
    _engine_speedups(gains, result, names, colours)
    unit_ms = workloads.calibrate().unit_seconds * 1000
    each = " of each engine" if len(names) > 1 else f" of {names[0]}"
    figure.suptitle(f"{result.tasks} tasks of {result.units * unit_ms:.0f} ms on {result.workers} "
                    f"workers{each} (median of the repeats; {result.usable_cpus} usable CPUs)",
                    fontsize=10)
    return figure


def _engine_speedups(ax, result, names, colours) -> None:
    kinds = result.kinds
    width = min(0.8 / len(names), 0.3)
    for i, (name, colour) in enumerate(zip(names, colours)):
        xs = [k + (i - (len(names) - 1) / 2) * width for k in range(len(kinds))]
        values = [result.speedup(name, kind) for kind in kinds]
        ax.bar(xs, values, width=width * 0.95, color=colour, label=name)
        for x, value in zip(xs, values):
            ax.annotate(f"{value:.1f}", (x, value), textcoords="offset points", xytext=(0, 2),
                        ha="center", fontsize=7, bbox={"facecolor": "white", "edgecolor": "none",
                                                       "pad": 0.5, "alpha": 0.8})
    ax.set_xlim(-0.6, len(kinds) - 0.4)
    ax.axhline(1, color=style.COLOURS["sequential"], linewidth=1, label="1× (no gain)")
    ax.axhline(min(result.usable_cpus, result.workers), color=style.COLOURS["usable"], linestyle=":",
               linewidth=2, label=f"usable CPUs = {result.usable_cpus}")
    ax.set_xticks(range(len(kinds)), [style.KIND_TITLES.get(kind, kind) for kind in kinds], fontsize=8)
    top = max(result.speedup(n, k) for n in names for k in kinds)
    ax.set_ylim(0, max(top, result.usable_cpus) * 1.35)
    ax.set_ylabel("speedup over sequential (×)")
    ax.set_title("the same work on each engine", fontsize=10)
    ax.legend(fontsize=7, loc="upper left", ncol=2)
    style.tidy(ax)


def beyond_gil(results: Sequence[beyond.Beyond]) -> Figure:
    """A panel per way past the GIL: cpu speedups where measured, else what is missing."""
    measured = any(result.available for result in results)
    figure = style.new_figure(5 * len(results), 3.6 if measured else 1.8)
    axes = figure.subplots(1, len(results), squeeze=False)[0]
    for ax, result in zip(axes, results):
        ax.set_title(result.option, fontsize=10)
        if result.available:
            _beyond_bars(ax, result)
        else:
            ax.axis("off")
            ax.text(0.5, 0.45, "not on this interpreter:\n" + _wrap(result.reason, 44),
                    ha="center", va="center", fontsize=9, transform=ax.transAxes,
                    bbox={"boxstyle": "round", "facecolor": "#f2f2f2", "edgecolor": "#bbbbbb"})
    return figure


def _beyond_bars(ax, result) -> None:
    names = list(result.walls)
    values = [result.speedup(name) for name in names]
    ax.bar(range(len(names)), values, color=[style.COLOURS.get(name, "#009E73") for name in names])
    for x, value in enumerate(values):
        ax.annotate(f"{value:.2f}×", (x, value), textcoords="offset points", xytext=(0, 3),
                    ha="center", fontsize=8)
    ax.axhline(1, color=style.COLOURS["sequential"], linewidth=1)
    ax.set_xticks(range(len(names)), names, fontsize=9)
    ax.set_ylim(0, max(values + [result.workers]) * 1.2)
    ax.set_ylabel(f"cpu speedup over sequential, {result.workers} workers (×)")
    style.tidy(ax)


def _wrap(text: str, width: int) -> str:
    return "\n".join(textwrap.wrap(text, width))

