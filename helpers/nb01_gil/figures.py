"""Notebook 01's figures: stretches of running, switch intervals, the convoy, mixed batches."""
from __future__ import annotations

from typing import Sequence

from matplotlib.figure import Figure
import numpy as np

from ..core import style
from . import gil


def stretches(lines: gil.Timeline | Sequence[gil.Timeline], usable_cpus: int | None = None) -> Figure:
    """Stacked timelines of uninterrupted running: one bar per stretch, not per task."""
    lines = list(lines) if isinstance(lines, (list, tuple)) else [lines]
    heights = [max(line.workers, 2) for line in lines]
    figure = style.new_figure(9, 0.5 * sum(heights) + 1.1 * len(lines))
    axes = figure.subplots(len(lines), 1, squeeze=False, sharex=True,
                           gridspec_kw={"height_ratios": heights})[:, 0]
    for ax, line in zip(axes, lines):
        style.task_bars(ax, line.runs, line.wall, row="task")
        ax.set_title(f"{line.label}: {line.parallelism:.2f} CPUs busy on average", fontsize=10)
    for ax in axes[:-1]:
        ax.set_xlabel("")
    axes[0].set_xlim(0, max(line.wall for line in lines) * 1000 * 1.02)
    if usable_cpus is not None:
        figure.suptitle(f"one row per task, one bar per stretch it ran without a break · usable CPUs: "
                        f"{usable_cpus}", fontsize=10)
    return figure


def switching(result: gil.SwitchResult) -> Figure:
    """One histogram per switch interval of how long a thread ran before handing over."""
    intervals = list(result.run_lengths)
    every = [x for lengths in result.run_lengths.values() for x in lengths if x > 0]
    low = min(min(every), min(intervals)) * 1000 * 0.7
    high = max(max(every), max(intervals)) * 1000 * 1.4
    bins = np.geomspace(low, high, 50)
    figure = style.new_figure(8, 1.6 * len(intervals) + 1.2)
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
        style.tidy(ax)
    axes[-1].set_xscale("log")
    ticks = [t for t in (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500)
             if low <= t <= high]
    axes[-1].set_xticks(ticks, [f"{t:g}" for t in ticks])
    axes[-1].set_xlim(low, high)
    axes[-1].set_xlabel("how long a thread ran before handing over the GIL (ms, log scale)")
    figure.suptitle("2 CPU-bound threads at three switch intervals", fontsize=11)
    return figure


def convoy(result: gil.Convoy) -> Figure:
    """Every ping's round trip, per case, with the median and p99 marked (log scale)."""
    figure = style.new_figure(8.5, 4)
    ax = figure.add_subplot()
    keys = list(result.latencies)
    rng = np.random.default_rng(0)
    for x, key in enumerate(keys):
        values = np.array(result.latencies[key]) * 1000
        colour = style.COLOURS.get(key[0], style.COLOURS["sequential"])
        ax.scatter(x + rng.uniform(-0.18, 0.18, len(values)), values, s=9, alpha=0.45, color=colour)
        ax.hlines(result.median(key) * 1000, x - 0.3, x + 0.3, color=colour, linewidth=2.5,
                  label="median" if x == 0 else None)
        ax.scatter([x + 0.34], [result.p99(key) * 1000], marker="<", color=colour, s=40,
                   label="p99" if x == 0 else None)
    ax.axhline(result.switch_interval * 1000, color=style.COLOURS["usable"], linestyle=":", linewidth=2,
               label=f"switch interval = {result.switch_interval * 1000:g} ms")
    names = [f"{result.label(key).replace(' CPU-bound', '')}\n{len(result.latencies[key])} pings"
             for key in keys]
    ax.set_xticks(range(len(keys)), names, fontsize=9)
    ax.set_yscale("log")
    ax.set_ylabel("ping round trip (ms, log scale)")
    ax.set_title("A responder thread answering pings, beside CPU-bound work", fontsize=11)
    ax.legend(fontsize=8, loc="upper left")
    style.tidy(ax)
    return figure


def mixed(result: gil.Mixed) -> Figure:
    """Speedup over sequential against the share of cpu tasks, for threads and processes."""
    figure = style.new_figure(6, 3.8)
    ax = figure.add_subplot()
    style.backend_lines(ax, [share * 100 for share in result.shares], result.speedups)
    shares = np.linspace(0, 1, 101)
    amdahl = gil.amdahl(shares, result.workers)
    ax.plot(shares * 100, amdahl, linestyle=":", linewidth=2, color=style.COLOURS["ideal"],
            label=f"Amdahl's law, {result.workers} workers, cpu share serial")
    ax.axhline(1, color=style.COLOURS["sequential"], linewidth=0.8)
    ax.set_xlabel("share of cpu tasks in the batch (%; the rest are io)")
    ax.set_ylabel("speedup over sequential (×)")
    ax.set_ylim(0, max(max(amdahl), *(max(v) for v in result.speedups.values())) * 1.15)
    ax.set_title(f"{result.workers} workers on a mixed batch", fontsize=11)
    ax.legend(fontsize=9)
    style.tidy(ax)
    return figure



def handover(result: gil.Handover, intervals_shown: int = 6) -> Figure:
    """A close-up of measured hand-overs: who held the GIL, when the waiting thread asked for
    it (one interval into its wait, as CPython's rule says), and when it got it."""
    interval_ms = result.interval * 1000
    runs = sorted(result.line.runs, key=lambda r: r.start)
    start = runs[len(runs) // 3].start * 1000  # a window from the middle, where both run
    end = start + intervals_shown * interval_ms
    figure = style.new_figure(9, 3.2)
    ax = figure.add_subplot()
    shades = ("#0072B2", "#E69F00")
    for run in runs:
        ax.broken_barh([(run.start * 1000, run.duration * 1000)], (run.worker - 0.3, 0.6),
                       facecolors=shades[run.worker % 2], label="holds the GIL and runs")
    explained = False
    for worker, began, got in result.waits:
        began, got = began * 1000, got * 1000
        ax.broken_barh([(began, got - began)], (worker - 0.12, 0.24), facecolors="#DDDDDD",
                       label="waits for the GIL")
        request = began + interval_ms
        if request < got:
            ax.plot([request], [worker], marker="v", color="#D55E00", markersize=9, linestyle="",
                    label="drop request: one interval of waiting")
        if not explained and start + interval_ms <= min(request, got) and got <= end - interval_ms:
            explained = _explain_one(ax, worker, min(request, got), got)
    handles, labels = ax.get_legend_handles_labels()
    unique = dict(zip(labels, handles))
    ax.legend(unique.values(), unique.keys(), loc="upper center", bbox_to_anchor=(0.5, -0.32),
              ncol=3, fontsize=9, frameon=False)
    ax.set_yticks([0, 1], ["thread 0", "thread 1"])
    ax.set_ylim(1.8, -0.8)
    ax.set_xlim(start, end)
    ax.set_xlabel("time (ms)")
    style.tidy(ax)
    ax.grid(False, axis="y")
    ax.set_title(f"Two CPU-bound threads at a switch interval of {interval_ms:g} ms: measured "
                 "stretches, close up", fontsize=10)
    return figure


def _explain_one(ax, worker: int, request: float, got: float) -> bool:
    """Label one hand-over: the waiting thread's request, then the holder letting go."""
    holder = 1 - worker
    ax.annotate("waited one interval:\nasks the holder to drop the GIL", xy=(request, worker),
                xytext=(request, 1.5 if worker else -0.5), ha="center", fontsize=8,
                va="center", arrowprops={"arrowstyle": "->", "color": "#555555"})
    ax.annotate("holder lets go at its next check:\nthe forced switch", xy=(got, holder),
                xytext=(got, -0.5 if worker else 1.5), ha="left", fontsize=8, va="center",
                arrowprops={"arrowstyle": "->", "color": "#555555"})
    return True
