"""Notebook 02's figures: what starting, feeding and keeping a process costs."""
from __future__ import annotations

import statistics

from matplotlib.figure import Figure
import numpy as np

from ..core import style, text
from . import spawning


METHOD_COLOURS = {"fork": "#E69F00", "forkserver": "#D55E00", "spawn": "#CC79A7",
                  "forkserver + preload": "#56B4E9", "threads": style.COLOURS["threads"]}


def _log_bars(ax, labels, values, lows=None, highs=None, colours=None, log=True) -> None:
    """Bars (on a log axis unless told otherwise), each value written above its whisker."""
    xs = range(len(labels))
    errors, tops = None, values
    if lows is not None:
        errors = [[v - lo for v, lo in zip(values, lows)], [hi - v for v, hi in zip(values, highs)]]
        tops = highs
    ax.bar(xs, values, yerr=errors, capsize=3, color=colours or style.COLOURS["processes"])
    for x, value, top in zip(xs, values, tops):
        ax.annotate(f"{value:.3g}", (x, top), textcoords="offset points", xytext=(0, 4),
                    ha="center", fontsize=8)
    ax.set_xticks(list(xs), labels, fontsize=9)
    if log:
        ax.set_yscale("log")
        style.plain_log_labels(ax.yaxis)
    else:
        ax.set_ylim(0, max(tops) * 1.15)
    style.tidy(ax)


def start_costs(costs: spawning.StartCosts) -> Figure:
    """Process start+join and pool round per method, with a thread start for scale (log)."""
    figure = style.new_figure(9, 3.6)
    left, right = figure.subplots(1, 2)
    names = list(costs.process) + ["thread"]
    medians = [costs.median("process", m) * 1000 for m in costs.process] + [costs.median("thread") * 1000]
    lows = [min(costs.process[m]) * 1000 for m in costs.process] + [min(costs.thread) * 1000]
    highs = [max(costs.process[m]) * 1000 for m in costs.process] + [max(costs.thread) * 1000]
    _log_bars(left, names, medians, lows, highs, [METHOD_COLOURS.get(n, style.COLOURS["threads"]) for n in names])
    left.set_ylabel("start + join (ms, log scale)")
    left.set_title("one process (or thread)", fontsize=10)
    pools = list(costs.pool)
    _log_bars(right, pools, [costs.median("pool", m) * 1000 for m in pools],
              [min(costs.pool[m]) * 1000 for m in pools], [max(costs.pool[m]) * 1000 for m in pools],
              [METHOD_COLOURS[m] for m in pools], log=False)
    right.set_ylabel("create, use once, shut down (ms)")
    right.set_title(f"a pool of {costs.pool_workers} workers", fontsize=10)
    figure.suptitle("median of the repeats; whiskers span fastest to slowest", fontsize=10)
    return figure


def heavy_main(result: spawning.HeavyMain) -> Figure:
    """First and later child start per case, when __main__ imports something heavy."""
    figure = style.new_figure(8, 4)
    ax = figure.add_subplot()
    names = list(result.starts)
    xs = np.arange(len(names))
    first = [result.starts[n][0] * 1000 for n in names]
    later = [statistics.median(result.starts[n][1:]) * 1000 for n in names]
    ax.bar(xs - 0.2, first, 0.4, label="first child", color="#999999")
    ax.bar(xs + 0.2, later, 0.4, label="later children (median)", color=style.COLOURS["threads"])
    ax.axhline(result.import_seconds * 1000, color=style.COLOURS["usable"], linestyle=":", linewidth=2,
               label=f"the script's own imports ({result.import_seconds * 1000:.0f} ms)")
    ax.set_xticks(xs, names)
    ax.set_yscale("log")
    style.plain_log_labels(ax.yaxis)
    ax.set_ylabel("start + join (ms, log scale)")
    ax.set_title("children of a script whose main module imports numpy and matplotlib", fontsize=10)
    figure.legend(loc="outside lower center", ncols=3, fontsize=8, frameon=False)
    style.tidy(ax)
    return figure


def transfer(result: spawning.Transfer) -> Figure:
    """Round-trip time against payload size (log-log), with one unit of work for scale."""
    figure = style.new_figure(7.5, 4)
    ax = figure.add_subplot()
    for backend, seconds in result.seconds.items():
        ax.plot(result.sizes, [s * 1000 for s in seconds], marker="o", linewidth=2,
                color=style.COLOURS[backend], label=f"{backend} (1 worker)")
    ax.axhline(result.unit_seconds * 1000, color=style.COLOURS["usable"], linestyle=":", linewidth=2,
               label=f"one unit of work ({result.unit_seconds * 1000:g} ms)")
    crossing = result.crossover("processes")
    if crossing:
        ax.axvline(crossing, color=style.COLOURS["processes"], linestyle="--", linewidth=1)
        ax.annotate(f"moving costs more than\nthe work from {result.label(crossing)}",
                    (crossing, result.unit_seconds * 1000), textcoords="offset points",
                    xytext=(6, -30), ha="left", fontsize=8)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xticks(result.sizes, [result.label(s) for s in result.sizes], fontsize=8)
    ax.set_xlabel("payload sent and returned")
    ax.set_ylabel("round trip (ms, log scale)")
    ax.set_title("sending data to a worker and back", fontsize=11)
    ax.legend(fontsize=8, loc="upper left")
    style.tidy(ax)
    return figure


def granularity(result: spawning.Granularity) -> Figure:
    """Speedup against task duration, with the break-even duration marked."""
    figure = style.new_figure(7, 3.8)
    ax = figure.add_subplot()
    durations = [d * 1000 for d in result.durations]
    style.backend_lines(ax, durations, result.speedups)
    ax.axhline(1, color=style.COLOURS["sequential"], linewidth=0.8, label="sequential (1×)")
    even = result.break_even("processes")
    if even:
        ax.axvline(even * 1000, color=style.COLOURS["processes"], linestyle="--", linewidth=1.2,
                   label=f"processes break even ≈ {even * 1000:.2g} ms")
    ax.set_xscale("log")
    ax.set_xticks(durations, [f"{d:g}" for d in durations])
    ax.set_xlabel("duration of one task (ms, log scale)")
    ax.set_ylabel("speedup over sequential (×)")
    ax.set_ylim(0, max(max(v) for v in result.speedups.values()) * 1.2)
    ax.set_title(f"the same total work cut finer and finer, {result.workers} workers", fontsize=11)
    ax.legend(fontsize=8)
    style.tidy(ax)
    return figure


def chunking(result: spawning.Chunking) -> Figure:
    """Seconds per chunksize for many tiny tasks, beside a plain loop."""
    figure = style.new_figure(7, 2.8)
    ax = figure.add_subplot()
    labels = ["plain loop"] + [f"chunksize {label}" for label in result.seconds]
    values = [result.sequential * 1000] + [s * 1000 for s in result.seconds.values()]
    colours = [style.COLOURS["sequential"]] + [style.COLOURS["processes"]] * len(result.seconds)
    style.ms_bars(ax, labels, values, colours)
    ax.set_xlabel("time for all tasks (ms)")
    ax.set_title(f"{result.tasks:,} tiny tasks on {result.workers} processes", fontsize=11)
    style.tidy(ax)
    return figure


def footprint(result: spawning.Footprint) -> Figure:
    """Memory added against worker count, one line per backend, for USS, PSS and RSS."""
    kinds = [("uss", "USS of the workers: their own pages"),
             ("pss", "PSS of all: what the machine spent"),
             ("rss", "RSS of the workers: all they touch")]
    kinds = [k for k in kinds if any(any(v) for v in getattr(result, k[0]).values())]
    if result.denied_note():  # some "USS" is really RSS: the panel must say so
        kinds = [(f, f"{t}\n({result.denied_note()})" if f == "uss" else t) for f, t in kinds]
    figure = style.new_figure(4 * len(kinds), 3.8)
    axes = figure.subplots(1, len(kinds), squeeze=False)[0]
    for ax, (field, title) in zip(axes, kinds):
        for backend, values in getattr(result, field).items():
            ax.plot(result.counts, values, marker="o", linewidth=2,
                    color=METHOD_COLOURS.get(backend, "#000000"), label=backend)
        ax.set_xticks(result.counts)
        ax.set_xlabel("idle workers")
        ax.set_title(title, fontsize=10)
        style.tidy(ax)
    axes[0].set_ylabel("memory added (MiB)")
    axes[0].legend(fontsize=8)
    return figure


def trial(result: spawning.Trial) -> Figure:
    """Wall time of the panel's jobs per backend, the pool start shaded."""
    figure = style.new_figure(6.5, 2.6)
    ax = figure.add_subplot()
    names = list(result.seconds)
    values = [result.seconds[n] * 1000 for n in names]
    ax.barh(names, values, color=[style.COLOURS[n] for n in names])
    ax.barh(["processes"], [result.pool_start * 1000], color="#ffffff", alpha=0.5, hatch="//",
            edgecolor=style.COLOURS["processes"])
    ax.invert_yaxis()
    ax.set_xlabel("wall time (ms)")
    ax.set_title(f"{result.tasks} jobs, {result.workers} workers, {result.method} "
                 "(hatched: starting the pool)", fontsize=10)
    style.tidy(ax)
    return figure



def startup(result: spawning.Startup) -> Figure:
    """Processes' speedup against workers, on warmed pools and with start-up on the clock."""
    figure = style.new_figure(6.5, 3.6)
    ax = figure.add_subplot()
    ax.plot(result.workers, result.speedups("warm"), marker="o", color="#0072B2",
            label="warmed pool (start-up left out)")
    ax.plot(result.workers, result.speedups("cold"), marker="s", color="#D55E00",
            label="fresh pool (start-up and shutdown on the clock)")
    ax.axhline(1, color="#777777", linestyle=":", linewidth=1, label="as fast as a loop")
    ax.set_xticks(result.workers)
    ax.set_xlabel(f"{result.method} processes")
    ax.set_ylabel("speedup over a loop (×)")
    ax.set_ylim(0, max(max(result.speedups("warm")), 1.2) * 1.15)
    ax.set_title(f"{style.KIND_TITLES['cpu']}, {text.ms(result.sequential)} of it in a loop; "
                 f"{result.usable_cpus} usable CPU(s)", fontsize=10)
    ax.legend(fontsize=9, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=1, frameon=False)
    style.tidy(ax)
    return figure
