"""Results → matplotlib Figures in one house style.

Figures are made with matplotlib.figure.Figure, not pyplot, so nothing is shown
twice: a notebook displays the Figure it gets back, a widget renders it to PNG.
"""
from __future__ import annotations

import io as _io
import statistics
import textwrap
from pathlib import Path
from typing import Sequence

from matplotlib.figure import Figure

from . import workloads
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
    """One speedup panel per sweep, side by side, one legend on top. Each panel has its own
    y axis: io's speedup can be ten times the others', and would flatten them."""
    figure = _figure(3.4 * len(sweeps), 3.9)
    axes = figure.subplots(1, len(sweeps), squeeze=False)[0]
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


def _backend_lines(ax, xs, values_by_backend: dict) -> None:
    """One line with markers per backend, in the house colours."""
    for backend, values in values_by_backend.items():
        ax.plot(xs, values, marker="o", linewidth=2, color=COLOURS[backend], label=backend)


def mixed(result) -> Figure:
    """Speedup over sequential against the share of cpu tasks, for threads and processes."""
    figure = _figure(6, 3.8)
    ax = figure.add_subplot()
    _backend_lines(ax, [share * 100 for share in result.shares], result.speedups)
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


# --- notebook 02: what a process costs ---------------------------------------------------------

METHOD_COLOURS = {"fork": "#E69F00", "forkserver": "#D55E00", "spawn": "#CC79A7",
                  "forkserver + preload": "#56B4E9", "threads": COLOURS["threads"]}


def _log_bars(ax, labels, values, lows=None, highs=None, colours=None, log=True) -> None:
    """Bars (on a log axis unless told otherwise), each value written above its whisker."""
    xs = range(len(labels))
    errors, tops = None, values
    if lows is not None:
        errors = [[v - lo for v, lo in zip(values, lows)], [hi - v for v, hi in zip(values, highs)]]
        tops = highs
    ax.bar(xs, values, yerr=errors, capsize=3, color=colours or COLOURS["processes"])
    for x, value, top in zip(xs, values, tops):
        ax.annotate(f"{value:.3g}", (x, top), textcoords="offset points", xytext=(0, 4),
                    ha="center", fontsize=8)
    ax.set_xticks(list(xs), labels, fontsize=9)
    if log:
        ax.set_yscale("log")
        _plain_log_labels(ax.yaxis)
    else:
        ax.set_ylim(0, max(tops) * 1.15)
    _tidy(ax)


def _plain_log_labels(axis) -> None:
    """Label a log axis 0.1, 1, 10 … rather than 10⁻¹, 10⁰, 4×10¹."""
    from matplotlib.ticker import FuncFormatter, NullFormatter

    axis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    axis.set_minor_formatter(NullFormatter())


def start_costs(costs) -> Figure:
    """Process start+join and pool round per method, with a thread start for scale (log)."""
    figure = _figure(9, 3.6)
    left, right = figure.subplots(1, 2)
    names = list(costs.process) + ["thread"]
    medians = [costs.median("process", m) * 1000 for m in costs.process] + [costs.median("thread") * 1000]
    lows = [min(costs.process[m]) * 1000 for m in costs.process] + [min(costs.thread) * 1000]
    highs = [max(costs.process[m]) * 1000 for m in costs.process] + [max(costs.thread) * 1000]
    _log_bars(left, names, medians, lows, highs, [METHOD_COLOURS.get(n, COLOURS["threads"]) for n in names])
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


def heavy_main(result) -> Figure:
    """First and later child start per case, when __main__ imports something heavy."""
    import numpy as np

    figure = _figure(8, 4)
    ax = figure.add_subplot()
    names = list(result.starts)
    xs = np.arange(len(names))
    first = [result.starts[n][0] * 1000 for n in names]
    later = [statistics.median(result.starts[n][1:]) * 1000 for n in names]
    ax.bar(xs - 0.2, first, 0.4, label="first child", color="#999999")
    ax.bar(xs + 0.2, later, 0.4, label="later children (median)", color=COLOURS["threads"])
    ax.axhline(result.import_seconds * 1000, color=COLOURS["usable"], linestyle=":", linewidth=2,
               label=f"the script's own imports ({result.import_seconds * 1000:.0f} ms)")
    ax.set_xticks(xs, names)
    ax.set_yscale("log")
    _plain_log_labels(ax.yaxis)
    ax.set_ylabel("start + join (ms, log scale)")
    ax.set_title("children of a script whose main module imports numpy and matplotlib", fontsize=10)
    figure.legend(loc="outside lower center", ncols=3, fontsize=8, frameon=False)
    _tidy(ax)
    return figure


def transfer(result) -> Figure:
    """Round-trip time against payload size (log-log), with one unit of work for scale."""
    figure = _figure(7.5, 4)
    ax = figure.add_subplot()
    for backend, seconds in result.seconds.items():
        ax.plot(result.sizes, [s * 1000 for s in seconds], marker="o", linewidth=2,
                color=COLOURS[backend], label=f"{backend} (1 worker)")
    ax.axhline(result.unit_seconds * 1000, color=COLOURS["usable"], linestyle=":", linewidth=2,
               label=f"one unit of work ({result.unit_seconds * 1000:g} ms)")
    crossing = result.crossover("processes")
    if crossing:
        ax.axvline(crossing, color=COLOURS["processes"], linestyle="--", linewidth=1)
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
    _tidy(ax)
    return figure


def granularity(result) -> Figure:
    """Speedup against task duration, with the break-even duration marked."""
    figure = _figure(7, 3.8)
    ax = figure.add_subplot()
    durations = [d * 1000 for d in result.durations]
    _backend_lines(ax, durations, result.speedups)
    ax.axhline(1, color=COLOURS["sequential"], linewidth=0.8, label="sequential (1×)")
    even = result.break_even("processes")
    if even:
        ax.axvline(even * 1000, color=COLOURS["processes"], linestyle="--", linewidth=1.2,
                   label=f"processes break even ≈ {even * 1000:.2g} ms")
    ax.set_xscale("log")
    ax.set_xticks(durations, [f"{d:g}" for d in durations])
    ax.set_xlabel("duration of one task (ms, log scale)")
    ax.set_ylabel("speedup over sequential (×)")
    ax.set_ylim(0, max(max(v) for v in result.speedups.values()) * 1.2)
    ax.set_title(f"the same total work cut finer and finer, {result.workers} workers", fontsize=11)
    ax.legend(fontsize=8)
    _tidy(ax)
    return figure


def _ms_bars(ax, labels, values, colours) -> None:
    """Horizontal bars from the top down, each with its value in ms written beside it."""
    ax.barh(labels, values, color=colours)
    for y, value in enumerate(values):
        ax.annotate(f"{value:.0f} ms", (value, y), textcoords="offset points", xytext=(4, -3), fontsize=8)
    ax.set_xlim(0, max(values) * 1.2)
    ax.invert_yaxis()


def chunking(result) -> Figure:
    """Seconds per chunksize for many tiny tasks, beside a plain loop."""
    figure = _figure(7, 2.8)
    ax = figure.add_subplot()
    labels = ["plain loop"] + [f"chunksize {label}" for label in result.seconds]
    values = [result.sequential * 1000] + [s * 1000 for s in result.seconds.values()]
    colours = [COLOURS["sequential"]] + [COLOURS["processes"]] * len(result.seconds)
    _ms_bars(ax, labels, values, colours)
    ax.set_xlabel("time for all tasks (ms)")
    ax.set_title(f"{result.tasks:,} tiny tasks on {result.workers} processes", fontsize=11)
    _tidy(ax)
    return figure


def footprint(result) -> Figure:
    """Memory added against worker count, one line per backend, for USS, PSS and RSS."""
    kinds = [("uss", "USS of the workers: their own pages"),
             ("pss", "PSS of all: what the machine spent"),
             ("rss", "RSS of the workers: all they touch")]
    kinds = [k for k in kinds if any(any(v) for v in getattr(result, k[0]).values())]
    figure = _figure(4 * len(kinds), 3.8)
    axes = figure.subplots(1, len(kinds), squeeze=False)[0]
    for ax, (field, title) in zip(axes, kinds):
        for backend, values in getattr(result, field).items():
            ax.plot(result.counts, values, marker="o", linewidth=2,
                    color=METHOD_COLOURS.get(backend, "#000000"), label=backend)
        ax.set_xticks(result.counts)
        ax.set_xlabel("idle workers")
        ax.set_title(title, fontsize=10)
        _tidy(ax)
    axes[0].set_ylabel("memory added (MiB)")
    axes[0].legend(fontsize=8)
    return figure


def trial(result) -> Figure:
    """Wall time of the panel's jobs per backend, the pool start shaded."""
    figure = _figure(6.5, 2.6)
    ax = figure.add_subplot()
    names = list(result.seconds)
    values = [result.seconds[n] * 1000 for n in names]
    ax.barh(names, values, color=[COLOURS[n] for n in names])
    ax.barh(["processes"], [result.pool_start * 1000], color="#ffffff", alpha=0.5, hatch="//",
            edgecolor=COLOURS["processes"])
    ax.invert_yaxis()
    ax.set_xlabel("wall time (ms)")
    ax.set_title(f"{result.tasks} jobs, {result.workers} workers, {result.method} "
                 "(hatched: starting the pool)", fontsize=10)
    _tidy(ax)
    return figure


# --- notebook 04: races --------------------------------------------------------------------------


def lost_updates(tallies) -> Figure:
    """Histogram of the share of deposits lost per trial, one panel per thread count."""
    import numpy as np

    figure = _figure(3.2 * len(tallies), 3.2)
    axes = figure.subplots(1, len(tallies), sharey=True, squeeze=False)[0]
    bins = np.linspace(0, 100, 21)
    for ax, tally in zip(axes, tallies):
        shares = [100 * lost / tally.expected for lost in tally.lost]
        ax.hist(shares, bins=bins, color=COLOURS["threads"], edgecolor="white")
        ax.set_title(f"{tally.threads} threads: lost in {tally.trials_with_losses:.0%} of trials",
                     fontsize=10)
        ax.set_xlabel("deposits lost in a trial (%)")
        _tidy(ax)
    from matplotlib.ticker import MaxNLocator

    axes[0].set_ylabel("trials")
    axes[0].yaxis.set_major_locator(MaxNLocator(integer=True))
    return figure


def fixes(results, title: str = "the same deposits, racy and fixed") -> Figure:
    """Time of each version, marked exact (✓) or wrong (✗)."""
    figure = _figure(7, 0.45 * len(results) + 1.3)
    ax = figure.add_subplot()
    labels = [f"{'✓' if r.correct else '✗'} {r.label}" for r in results]
    values = [r.seconds * 1000 for r in results]
    colours = [COLOURS["usable"] if r.correct else COLOURS["processes"] for r in results]
    _ms_bars(ax, labels, values, colours)
    ax.set_xlabel("wall time (ms)")
    ax.set_title(f"{title} (✓ exact, ✗ updates lost)", fontsize=10)
    _tidy(ax)
    return figure


def race_trial(result) -> Figure:
    """The panel: lost deposits per trial."""
    return lost_updates([result.tally])


# --- notebook 03: sharing data -----------------------------------------------------------------

CHANNEL_STYLES = {  # colour, line style
    "Queue": ("#D55E00", "-"),
    "Pipe": ("#E69F00", "-"),
    "pool argument": ("#CC79A7", "-"),
    "pool result": ("#56B4E9", "-"),
    "raw os.pipe": ("#000000", "--"),
    "shared memory": ("#009E73", "-"),
    "threads: queue.Queue": ("#0072B2", ":"),
}


def _size_axis(ax, sizes, label: str = "payload size (log scale)") -> None:
    from ..nb03_sharing_data.sharing import size_label

    ax.set_xscale("log")
    ax.set_xticks(sizes, [size_label(s) for s in sizes], fontsize=8, rotation=30)
    ax.minorticks_off()
    ax.set_xlabel(label)


def in_place(result) -> Figure:
    """Time to fill an array and a list in place, against size, with 1 and N threads."""
    figure = _figure(7, 4)
    ax = figure.add_subplot()
    for case, seconds in result.seconds.items():
        colour = COLOURS["sequential"] if "1 thread" in case else COLOURS["threads"]
        style = "-" if case.startswith("NumPy") else "--"
        ax.plot(result.sizes, [s * 1000 for s in seconds], marker="o", linewidth=2, color=colour,
                linestyle=style, label=case)
    _size_axis(ax, result.sizes, "size filled (log scale)")
    ax.set_yscale("log")
    _plain_log_labels(ax.yaxis)
    ax.set_ylabel("time to fill (ms, log scale)")
    ax.set_title("threads write straight into the caller's array and list", fontsize=11)
    ax.legend(fontsize=8, handlelength=3.5)
    _tidy(ax)
    return figure


def message_passing(result) -> Figure:
    """Throughput and one-way latency against payload size for each message-passing channel."""
    from ..nb03_sharing_data.sharing import MESSAGE_PASSING

    figure = _figure(11, 4.2)
    rate_ax, wait_ax = figure.subplots(1, 2)
    for channel in MESSAGE_PASSING:
        colour, style = CHANNEL_STYLES[channel]
        rate_ax.plot(result.sizes, [b / 1e6 for b in result.throughput[channel]], marker="o",
                     color=colour, linestyle=style, linewidth=2, label=channel)
        wait_ax.plot(result.sizes, [s * 1e6 for s in result.latency[channel]], marker="o",
                     color=colour, linestyle=style, linewidth=2, label=channel)
    for ax, ylabel, title in ((rate_ax, "throughput (MB/s, log scale)", "streaming many messages"),
                              (wait_ax, "one-way latency (µs, log scale)", "one message at a time")):
        _size_axis(ax, result.sizes)
        ax.set_yscale("log")
        _plain_log_labels(ax.yaxis)
        ax.set_ylabel(ylabel)
        ax.set_title(title, fontsize=11)
        _tidy(ax)
    rate_ax.legend(fontsize=8, loc="upper left", handlelength=3)
    figure.suptitle(f"sending bytes to one child process ({result.start_method})", fontsize=11)
    return figure


def crossover(result) -> Figure:
    """Bandwidth of every channel against size, under this machine's memcpy ceiling."""
    figure = _figure(8, 4.6)
    ax = figure.add_subplot()
    for channel, rates in result.throughput.items():
        colour, style = CHANNEL_STYLES[channel]
        ax.plot(result.sizes, [b / 1e9 for b in rates], marker="o", color=colour, linestyle=style,
                linewidth=2.5 if channel == "shared memory" else 1.5, label=channel)
    ax.axhline(result.memcpy / 1e9, color=COLOURS["ideal"], linewidth=2,
               label=f"memcpy, warm buffers ({result.memcpy / 1e9:.1f} GB/s)")
    _size_axis(ax, result.sizes)
    ax.set_yscale("log")
    top = max(result.memcpy, *(max(r) for c, r in result.throughput.items() if not c.startswith("threads")))
    ax.set_ylim(min(min(r) for r in result.throughput.values()) / 2 / 1e9, top * 20 / 1e9)
    ax.set_ylabel("GB/s (log scale)")
    ax.set_title("every way to move bytes, against copying memory", fontsize=11)
    threads = result.throughput.get("threads: queue.Queue")
    if threads and max(threads) > top * 20:
        ax.annotate("threads: off the chart —\na reference, nothing copied", (result.sizes[-1], top * 20 / 1e9),
                    xytext=(-8, -8), textcoords="offset points", ha="right", va="top", fontsize=8,
                    color=CHANNEL_STYLES["threads: queue.Queue"][0])
    ax.legend(fontsize=8, loc="lower right", ncol=2, handlelength=3)
    _tidy(ax)
    return figure


def shared_state(runs) -> Figure:
    """Additions per second for each way of sharing state; wrong totals hatched."""
    figure = _figure(8, 0.45 * len(runs) + 1.4)
    ax = figure.add_subplot()
    labels = [f"{'✓' if r.correct else '✗'} {r.label}" for r in runs]
    rates = [r.rate for r in runs]
    bars = ax.barh(labels, rates, color=[COLOURS["usable"] if r.correct else COLOURS["processes"]
                                         for r in runs])
    for bar, run in zip(bars, runs):
        if not run.correct:
            bar.set_hatch("//")
        ax.annotate(f"{run.rate:,.0f}/s" + ("" if run.correct else f"  ({run.detail})"),
                    (run.rate, bar.get_y() + bar.get_height() / 2), textcoords="offset points",
                    xytext=(4, -3), fontsize=8)
    ax.set_xscale("log")
    ax.set_xlim(min(rates) / 2, max(rates) * 300)
    ax.invert_yaxis()
    ax.set_xlabel("additions per second (log scale)")
    ax.set_title("the same job — processes adding 1 to shared state (✓ exact, ✗ wrong)", fontsize=10)
    _tidy(ax)
    return figure


def job(result) -> Figure:
    """Time and peak extra memory of each way to run the worked job."""
    figure = _figure(10, 0.5 * len(result.runs) + 1.6)
    time_ax, memory_ax = figure.subplots(1, 2, sharey=True)
    labels = [r.method for r in result.runs]
    colours = [JOB_COLOURS.get(r.method, COLOURS["processes"]) for r in result.runs]
    _ms_bars(time_ax, labels, [r.seconds * 1000 for r in result.runs], colours)
    time_ax.set_xlabel("time (ms)")
    memory_ax.barh(labels, [r.peak_mib for r in result.runs], color=colours)
    for y, run in enumerate(result.runs):
        memory_ax.annotate(f"{run.peak_mib:.0f} MiB", (run.peak_mib, y), textcoords="offset points",
                           xytext=(4, -3), fontsize=8)
    memory_ax.set_xlim(0, max(max(r.peak_mib for r in result.runs) * 1.25, 1))
    memory_ax.set_xlabel(f"peak extra memory ({result.memory_measure}, MiB)")
    for ax in (time_ax, memory_ax):
        _tidy(ax)
    from ..nb03_sharing_data.sharing import size_label

    figure.suptitle(f"normalising the rows of {size_label(result.nbytes)} with {result.workers} workers",
                    fontsize=11)
    return figure


JOB_COLOURS = {"sequential": COLOURS["sequential"], "copies through a pool": COLOURS["processes"],
               "shared memory": "#009E73", "threads on NumPy": COLOURS["threads"]}


def pipeline(right, wrong) -> Figure:
    """Items handled by each consumer, with sentinels and with the empty() bug."""
    figure = _figure(7, 2.4)
    ax = figure.add_subplot()
    for y, run in enumerate((right, wrong)):
        left = 0
        for number, count in enumerate(run.handled):
            ax.barh(y, count, left=left, color=TASK_SHADES[number % len(TASK_SHADES)],
                    edgecolor="white", label=f"consumer {number + 1}" if y == 0 else None)
            left += count
        ax.barh(y, run.left_behind, left=left, color="#ffffff", edgecolor=COLOURS["processes"],
                hatch="//", label="left in the queue" if run.left_behind and y == 1 else None)
    ax.set_yticks([0, 1], [right.consumer, wrong.consumer])
    ax.invert_yaxis()
    ax.set_xlim(0, right.items * 1.02)
    ax.set_xlabel(f"items (of {right.items})")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1))
    _tidy(ax)
    return figure


# --- notebook 05: a web server ---------------------------------------------------------------

SERVER_COLOURS = {"single": COLOURS["sequential"], "threads": COLOURS["threads"],
                  "threads + process pool": COLOURS["processes"]}
SERVER_LABELS = {"single": "single\nthread", "threads": "threads",
                 "threads + process pool": "threads +\nprocess pool"}


def web_server(result) -> Figure:
    """Per handler (io, cpu): throughput per server kind, and median and p95 latency."""
    figure = _figure(9, 6.2)
    rows = figure.subplots(2, 2, gridspec_kw={"width_ratios": [1, 1.3]})
    what = {"io": f"io handler (waits {result.work_ms:g} ms)",
            "cpu": f"cpu handler (computes {result.work_ms:g} ms)"}
    for (left, right), handler in zip(rows, ("io", "cpu")):
        kinds = result.kinds(handler)
        loads = [result.get(handler, kind) for kind in kinds]
        _server_throughput(left, kinds, loads)
        left.set_title(f"{what[handler]}: throughput", fontsize=10)
        _server_latency(right, kinds, loads)
        right.set_title(f"{what[handler]}: latency", fontsize=10)
    rounds = f", best of {result.repeats} rounds" if result.repeats > 1 else ""
    figure.suptitle(f"a server on 127.0.0.1 under {result.clients} concurrent clients × "
                    f"{result.requests} requests each{rounds}\n"
                    "higher throughput and lower latency are better", fontsize=10)
    return figure


def _server_throughput(ax, kinds, loads) -> None:
    xs = range(len(kinds))
    values = [load.throughput for load in loads]
    ax.bar(xs, values, color=[SERVER_COLOURS[kind] for kind in kinds], width=0.6)
    for x, value in zip(xs, values):
        ax.annotate(f"{value:.0f}", (x, value), textcoords="offset points", xytext=(0, 3),
                    ha="center", fontsize=8)
    ax.set_xticks(list(xs), [SERVER_LABELS[kind] for kind in kinds], fontsize=9)
    ax.set_ylim(0, max(values) * 1.18)
    ax.set_ylabel("throughput (requests/s)")
    _tidy(ax)


def _server_latency(ax, kinds, loads) -> None:
    xs = list(range(len(kinds)))
    colours = [SERVER_COLOURS[kind] for kind in kinds]
    medians = [load.median * 1000 for load in loads]
    p95s = [load.p95 * 1000 for load in loads]
    width = 0.36
    ax.bar([x - width / 2 for x in xs], medians, width, color=colours, label="median")
    ax.bar([x + width / 2 for x in xs], p95s, width, color=colours, alpha=0.4, hatch="//",
           edgecolor=colours, label="95th percentile")
    for x, median, p95 in zip(xs, medians, p95s):
        for dx, value in ((-width / 2, median), (width / 2, p95)):
            ax.annotate(f"{value:.0f}" if value >= 10 else f"{value:.1f}", (x + dx, value),
                        textcoords="offset points", xytext=(0, 3), ha="center", fontsize=8)
    ax.set_xticks(xs, [SERVER_LABELS[kind] for kind in kinds], fontsize=9)
    ax.set_ylim(0, max(p95s) * 1.18)
    ax.set_ylabel("latency per request (ms)")
    legend = ax.legend(fontsize=8, loc="upper right", frameon=False)
    for handle in legend.legend_handles:
        handle.set_facecolor("#777777")
        handle.set_edgecolor("#777777")
    _tidy(ax)


# --- notebook 05: a responsive UI ------------------------------------------------------------

MODE_COLOURS = {"main thread": "#000000", "background thread": COLOURS["threads"],
                "process": COLOURS["processes"]}


def event_delays(result) -> Figure:
    """Each event's wait over time, and all waits per mode with median and worst (log ms)."""
    import numpy as np

    figure = _figure(10, 4)
    left, right = figure.subplots(1, 2, gridspec_kw={"width_ratios": [3, 2]})
    floor = 0.01  # ms: waits below this are drawn on the floor of the log axis
    for mode, run in result.runs.items():
        colour = MODE_COLOURS.get(mode, COLOURS["sequential"])
        left.plot(run.posted, np.maximum(np.array(run.delays) * 1000, floor), ".", markersize=4,
                  color=colour, label=mode)
    left.set_xlabel("when the event was posted (s after Start)")
    left.set_ylabel("wait until handled (ms, log scale)")
    left.set_title(f"an event every {result.tick * 1000:g} ms, handled by the UI loop", fontsize=10)
    top = max(run.max_delay for run in result.runs.values()) * 1000 * 30  # room for the legend
    left.legend(fontsize=8, loc="upper right", ncol=3)
    rng = np.random.default_rng(0)
    for x, (mode, run) in enumerate(result.runs.items()):
        colour = MODE_COLOURS.get(mode, COLOURS["sequential"])
        values = np.maximum(np.array(run.delays) * 1000, floor)
        right.scatter(x + rng.uniform(-0.18, 0.18, len(values)), values, s=7, alpha=0.35, color=colour)
        right.hlines(max(run.median_delay * 1000, floor), x - 0.3, x + 0.3, color=colour, linewidth=2.5,
                     label="median" if x == 0 else None)
        right.scatter([x + 0.34], [run.max_delay * 1000], marker="<", s=40, color=colour,
                      label="worst (the freeze)" if x == 0 else None)
        right.annotate(_ms_text(run.max_delay * 1000), (x, run.max_delay * 1000),
                       textcoords="offset points", xytext=(0, 6), ha="center", fontsize=8)
    right.axhline(result.switch_interval * 1000, color=COLOURS["usable"], linestyle=":", linewidth=2,
                  label=f"switch interval = {result.switch_interval * 1000:g} ms")
    names = [f"{mode.replace(' ', chr(10))}\nprogress {run.progress_seen}/{run.steps}"
             for mode, run in result.runs.items()]
    right.set_xticks(range(len(names)), names, fontsize=8)
    right.set_title("every event's wait, per mode", fontsize=10)
    right.legend(fontsize=8, loc="lower left")
    for ax in (left, right):
        ax.set_yscale("log")
        _plain_log_labels(ax.yaxis)
        ax.set_ylim(floor * 0.7, top)
        _tidy(ax)
    longest = max(run.work_seconds for run in result.runs.values())
    figure.suptitle(f"A CPU-bound computation (up to {longest:.1f} s) started from a button: "
                    "how long did the UI's events wait?", fontsize=11)
    return figure


def cancel_times(result) -> Figure:
    """Time from asking each way of running the work to stop until it had stopped (log ms)."""
    figure = _figure(9, 3.4)
    ax = figure.add_subplot()
    runs = list(result.runs)
    values = [max(run.stopped_after * 1000, 0.01) for run in runs]
    colours = [COLOURS["usable"] if run.cancelled else "#999999" for run in runs]
    ys = range(len(runs))
    ax.barh(ys, values, color=colours)
    for y, run, value in zip(ys, runs, values):
        what = "stopped early" if run.cancelled else "not stopped: ran to its end"
        ax.annotate(f"{_ms_text(value)} — {what}", (value, y), textcoords="offset points",
                    xytext=(4, 0), va="center", fontsize=8)
    ax.set_yticks(list(ys), [run.way for run in runs], fontsize=9)
    ax.invert_yaxis()
    ax.set_xscale("log")
    _plain_log_labels(ax.xaxis)
    ax.set_xlim(min(values) / 2, max(values) * 40)
    ax.set_xlabel("from asking to stop until it had stopped (ms, log scale)")
    ax.set_title("Cancel, pressed while the computation runs (at half its progress)", fontsize=11)
    _tidy(ax)
    return figure


def _ms_text(ms: float) -> str:
    """12 ms, 1039 ms, 0.42 ms: whole milliseconds from 10 up, two digits below."""
    return f"{ms:.0f} ms" if ms >= 10 else f"{ms:.2g} ms"


# --- notebook 05: data processing (records) ----------------------------------------------------


def record_chunking(result) -> Figure:
    """Seconds to summarise every record against chunksize (log scale), with the plain loop
    and threads as reference lines and the best chunksize marked."""
    figure = _figure(7, 3.8)
    ax = figure.add_subplot()
    sizes = result.chunksizes
    millis = [result.seconds[size] * 1000 for size in sizes]
    ax.axhline(result.sequential * 1000, color=COLOURS["sequential"], linestyle="--", linewidth=1.2,
               label=f"plain loop ({result.sequential * 1000:.0f} ms)")
    ax.axhline(result.threads * 1000, color=COLOURS["threads"], linestyle=":", linewidth=1.8,
               label=f"{result.workers} threads ({result.threads * 1000:.0f} ms)")
    ax.plot(sizes, millis, marker="o", linewidth=2, color=COLOURS["processes"],
            label=f"{result.workers} processes ({result.start_method})")
    best = result.best
    ax.plot([best], [result.seconds[best] * 1000], marker="*", markersize=16, linestyle="none",
            color=COLOURS["usable"], label=f"best: chunksize {best:,}")
    for size, value in zip(sizes, millis):
        ax.annotate(f"{result.messages(size):,}", (size, value), textcoords="offset points",
                    xytext=(0, 10), ha="center", fontsize=7, color="#555555",
                    bbox={"boxstyle": "square,pad=0.1", "facecolor": "white", "edgecolor": "none"})
    ax.set_xscale("log")
    names = {result.automatic: "auto", result.records: "all"}
    ax.set_xticks(sizes, [f"{s:,}\n({names[s]})" if s in names else f"{s:,}" for s in sizes],
                  fontsize=8)
    ax.minorticks_off()
    top = max(millis + [result.sequential * 1000, result.threads * 1000])
    ax.set_ylim(0, top * 1.15)
    ax.set_xlabel("chunksize: records per message (log scale); small numbers above points = chunks sent")
    ax.set_ylabel("time for all records (ms)")
    cpus = f"{result.usable_cpus} usable CPU{'' if result.usable_cpus == 1 else 's'}"
    ax.set_title(f"summarising {result.records:,} session records: chunksize in a process pool "
                 f"({cpus})", fontsize=11)
    ax.legend(fontsize=8, loc="upper center", ncols=2)
    _tidy(ax)
    return figure


# --- notebook 06: choosing --------------------------------------------------------------------

SUMMARY_PANELS = (
    ("cpu", "CPU work in pure Python (holds the GIL)"),
    ("gil_free", "CPU work in C that releases the GIL (hashlib)"),
    ("io", "waiting (blocking I/O)"),
    ("start", "start cost: start and join one worker"),
    ("transfer", "moving data to another process"),
    ("memory", "memory per idle worker"),
    ("races", "shared state: lost updates"),
)


def infographic(summary) -> Figure:
    """What the series measured on this machine, one panel per claim: 1600 × 1000 px."""
    from ..nb06_choosing import summary as _summary

    figure = _figure(16, 10)
    figure.suptitle(f"Threads vs processes, measured here: {summary.machine_line}",
                    fontsize=18, fontweight="bold")
    cells = figure.subfigures(2, 4, wspace=0.04, hspace=0.06).ravel()
    headlines = _summary.headlines(summary)
    for cell, (key, claim) in zip(cells, SUMMARY_PANELS):
        cell.suptitle(claim, fontsize=12, color="#444444")
        ax = cell.add_subplot()
        ax.set_title(headlines[key], fontsize=17, fontweight="bold", loc="left")
        _SUMMARY_DRAW[key](ax, summary, key)
        ax.tick_params(labelsize=11)
        _tidy(ax)
    _summary_key(cells[-1], summary)
    return figure


def _summary_bars(ax, labels, values, colours, unit, log: bool = False) -> None:
    """Horizontal bars, each labelled with its quoted value (`unit`: one, or one per bar)."""
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    from ..nb06_choosing.summary import quote

    units = [unit] * len(values) if isinstance(unit, str) else list(unit)

    ys = list(range(len(labels)))
    shown = [max(v, 1e-9) for v in values] if log else values
    ax.barh(ys, shown, color=colours, height=0.6)
    ax.set_yticks(ys, labels, fontsize=12)
    ax.invert_yaxis()
    top = max(shown)
    if log:
        ax.set_xscale("log")
        _plain_log_labels(ax.xaxis)
        ax.set_xlim(min(shown) / 3, top * 30)
    else:
        ax.set_xlim(0, max(top, 1e-9) * 1.45)
        ax.xaxis.set_major_locator(MaxNLocator(4))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{x:,.0f}" if abs(x) >= 10 else f"{x:g}"))
    for y, value, bar, one in zip(ys, values, shown, units):
        ax.annotate(quote(value, one), (bar, y), textcoords="offset points", xytext=(5, 0),
                    va="center", fontsize=12, zorder=10,
                    bbox=dict(facecolor="white", edgecolor="none", pad=2))
    ax.grid(False, axis="y")


def _summary_speedup(ax, summary, kind: str) -> None:
    backends = ("threads", "processes")
    values = [summary.speedup(kind, b).value for b in backends]
    _summary_bars(ax, list(backends), values, [COLOURS[b] for b in backends], "×")
    usable = summary.usable_cpus
    ax.axvline(1, color=COLOURS["sequential"], linewidth=1.2)
    ax.axvline(usable, color=COLOURS["usable"], linestyle=":", linewidth=2.5)
    ax.set_xlim(0, max(max(values), usable) * 1.45)
    ax.set_xlabel(f"speedup over sequential (×), {summary.workers[kind]} workers", fontsize=11)


def _summary_start(ax, summary, key: str) -> None:
    values = [summary.process_start.value, summary.thread_start.value / 1000]
    _summary_bars(ax, [f"process\n({summary.start_method})", "thread"], values,
                  [COLOURS["processes"], COLOURS["threads"]], ["ms", "ms"], log=True)
    ax.texts[-1].set_text(summary.thread_start.text)
    ax.set_xlabel("milliseconds (log scale)", fontsize=11)


def _summary_transfer(ax, summary, key: str) -> None:
    from ..nb03_sharing_data.sharing import size_label

    values = [summary.shared_rate.value, summary.queue_rate.value]
    _summary_bars(ax, ["shared\nmemory", "Queue"], values, [COLOURS["usable"], COLOURS["processes"]],
                  "MB/s")
    ax.set_xlabel(f"MB/s for {size_label(summary.transfer_bytes)} payloads", fontsize=11)


def _summary_memory(ax, summary, key: str) -> None:
    values = [summary.process_memory.value, max(summary.thread_memory.value, 0.0)]
    _summary_bars(ax, [f"process\n({summary.start_method})", "thread"], values,
                  [COLOURS["processes"], COLOURS["threads"]], "MiB")
    ax.set_xlabel("MiB added per worker (process: PSS, thread: USS)", fontsize=11)


def _summary_races(ax, summary, key: str) -> None:
    values = [summary.lost_racy.value, summary.lost_locked.value]
    _summary_bars(ax, ["no lock", "with a lock"], values, [COLOURS["processes"], COLOURS["usable"]],
                  "updates")
    ax.set_xlim(0, summary.deposits * 1.3)
    ax.axvline(summary.deposits, color=COLOURS["ideal"], linestyle="--", linewidth=1.5)
    ax.set_xlabel(f"updates lost of {summary.deposits:,} deposits by threads", fontsize=11)


_SUMMARY_DRAW = {"cpu": _summary_speedup, "gil_free": _summary_speedup, "io": _summary_speedup,
                 "start": _summary_start, "transfer": _summary_transfer,
                 "memory": _summary_memory, "races": _summary_races}


def _summary_key(cell, summary) -> None:
    """The last cell: how to read the panels."""
    cell.suptitle("how to read this", fontsize=12, color="#444444")
    ax = cell.add_subplot()
    ax.axis("off")
    lines = [
        ("measured just now, on this machine;", "#000000"),
        ("bars: the value written beside them", "#000000"),
        ("speedup = sequential time ÷ parallel", "#000000"),
        ("│  black line: 1× (no gain)", COLOURS["sequential"]),
        (f"┆  green dotted: {summary.usable_cpus} usable CPU"
         f"{'s' if summary.usable_cpus != 1 else ''}", COLOURS["usable"]),
        ("┆  grey dashed: every deposit lost", COLOURS["ideal"]),
        (f"measuring took {summary.seconds:.1f} s", "#444444"),
    ]
    for row, (text, colour) in enumerate(lines):
        ax.text(0.0, 0.95 - row * 0.135, text, fontsize=13, color=colour, va="top",
                transform=ax.transAxes)


def decision_guide(summary) -> Figure:
    """A flow chart from the kind of work to threads or processes, quoting this machine's numbers."""
    import textwrap

    from ..nb06_choosing.summary import guide_steps

    backend, then, otherwise = guide_steps(summary)
    figure = _figure(16, 10)
    figure.suptitle(f"Threads or processes? Measured here: {summary.machine_line}",
                    fontsize=17, fontweight="bold")
    ax = figure.add_subplot()
    ax.set_xlim(0, 16)
    ax.set_ylim(0, 9.2)
    ax.axis("off")

    def box(x, y, w, h, text, colour, size=12.5, bold=False):
        from matplotlib.patches import FancyBboxPatch

        ax.add_patch(FancyBboxPatch((x, y), w, h, boxstyle="round,pad=0.02,rounding_size=0.15",
                                    facecolor=colour, edgecolor="#333333", linewidth=1.2))
        width = max(12, int(w * 72 / size * 1.55))  # characters per line at this font size
        ax.text(x + w / 2, y + h / 2, textwrap.fill(text, width), ha="center", va="center",
                fontsize=size, fontweight="bold" if bold else "normal", linespacing=1.3)

    def arrow(start, end, label=""):
        ax.annotate("", end, start, arrowprops=dict(arrowstyle="-|>", color="#333333", lw=1.6,
                                                    mutation_scale=18))
        if label:
            mid = ((start[0] + end[0]) / 2, (start[1] + end[1]) / 2)
            across = start[1] == end[1]
            ax.text(mid[0] + (0 if across else 0.1), mid[1] + (0.1 if across else 0), label,
                    fontsize=12, fontweight="bold", ha="center" if across else "left",
                    va="bottom" if across else "center", color="#333333")

    question, answer = "#F0F0F0", {"threads": "#CFE3F3", "processes": "#F7D9C4", "other": "#D4EDE3"}
    colours = ["threads", "processes", "threads"]
    ax.text(0.1, 8.95, "Which to use", fontsize=15, fontweight="bold", va="center")
    rows = [7.25, 5.05, 2.85]
    qx, qw, qh, ax_, aw, ah = 0.1, 3.6, 1.3, 4.5, 5.3, 1.7
    for y, step, kind in zip(rows, backend, colours):
        box(qx, y, qw, qh, step.question, question, bold=True)
        box(ax_, y - (ah - qh) / 2, aw, ah, step.yes, answer[kind], size=13.5)
        arrow((qx + qw + 0.03, y + qh / 2), (ax_ - 0.03, y + qh / 2), "yes")
    for upper, lower in zip(rows, rows[1:]):
        arrow((qx + qw / 2, upper - 0.03), (qx + qw / 2, lower + qh + 0.03), "no")
    box(qx, 0.25, ax_ + aw - qx, 1.2, otherwise, answer["other"])
    arrow((qx + qw / 2, rows[-1] - 0.03), (qx + qw / 2, 1.48), "no")

    ax.plot([10.25, 10.25], [0.2, 9.0], color="#BBBBBB", linewidth=1.2)
    ax.text(10.6, 8.95, "Then, whichever you chose", fontsize=15, fontweight="bold", va="center")
    tops = [7.25, 3.05]
    for top, step in zip(tops, then):
        box(10.6, top, 5.3, 1.0, step.question, question, bold=True)
        for x, text, label in ((10.6, step.yes, "yes"), (13.35, step.no, "no")):
            box(x, top - 2.75, 2.55, 2.2, text, answer["other"], size=12.5)
            arrow((x + 1.275, top - 0.03), (x + 1.275, top - 0.52), label)
    return figure


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


# --- notebook 06: bring your own function (the advisor) ---


def advice(result) -> Figure:
    """The advisor's measurements: speedups per backend and worker count (the chosen backend
    drawn heavy), how the function spends a call, and what pickling costs beside a call."""
    if result.problem:
        import textwrap

        figure = _figure(8, 1.6)
        ax = figure.add_subplot()
        ax.axis("off")
        ax.text(0, 1, f"No advice for {result.task}: nothing to plot.\n"
                + textwrap.fill(result.problem, 110), va="top", fontsize=9, family="monospace")
        return figure
    figure = _figure(11, 3.6)
    speed, share, cost = figure.subplots(1, 3, width_ratios=[1.5, 1, 1.1])
    counts = sorted({1} | {w for runs in result.speedups.values() for w in runs})
    speed.plot(counts, counts, linestyle="--", color=COLOURS["ideal"], label="ideal")
    speed.axvline(result.usable_cpus, color=COLOURS["usable"], linestyle=":", linewidth=2,
                  label=f"usable CPUs = {result.usable_cpus}")
    speed.axhline(1, color=COLOURS["sequential"], linewidth=1.5 if result.choice == "sequential"
                  else 0.8, label="sequential" + (" (chosen)" if result.choice == "sequential" else ""))
    top = 1.0
    for backend, runs in result.speedups.items():
        runs = {1: 1.0, **runs}  # one worker is the sequential baseline
        xs = sorted(runs)
        ys = [runs[x] for x in xs]
        top = max(top, *ys)
        chosen = backend == result.choice
        speed.plot(xs, ys, marker="o", color=COLOURS[backend], linewidth=3.5 if chosen else 1.5,
                   alpha=1 if chosen else 0.6, label=backend + (" (chosen)" if chosen else ""))
    speed.set_xscale("log", base=2)
    speed.set_xticks(counts, [str(c) for c in counts])
    speed.set_ylim(0, top * 1.15)
    speed.set_xlabel("workers")
    speed.set_ylabel("speedup over sequential (×)")
    speed.set_title(f"{result.task}: measured speedups", fontsize=10)
    speed.legend(fontsize=8, loc="best")
    _tidy(speed)
    labels = ["busy on a CPU", "holding the GIL\n(estimate)"]
    values = [100 * result.cpu_share, 100 * result.gil_held_share]
    share.bar(labels, values, color=["#E69F00", "#CC79A7"])
    for x, value in enumerate(values):
        share.text(x, value + 2, f"{value:.0f}%", ha="center", fontsize=9)
    share.set_ylim(0, 110)
    share.set_ylabel("share of a call's wall time (%)")
    share.set_title(f"one call: it {result.character}", fontsize=10)
    _tidy(share)
    names = ["one call", "pickle its\nargument", "pickle its\nresult"]
    seconds = [result.call_seconds, result.argument_pickle_seconds, result.result_pickle_seconds]
    millis = [max(s * 1000, 1e-4) for s in seconds]
    cost.barh(names, millis, color=[COLOURS["sequential"], COLOURS["processes"], COLOURS["processes"]])
    cost.set_xscale("log")
    cost.invert_yaxis()
    sizes = ["", f"{result.argument_bytes:,.0f} B", f"{result.result_bytes:,.0f} B"]
    for y, (ms, size) in enumerate(zip(millis, sizes)):
        shown = f"{ms:.3g} ms" if ms >= 1 else f"{ms * 1000:.3g} µs"
        cost.text(ms, y, f" {shown}  {size}", va="center", fontsize=8)
    cost.set_xlim(min(millis) / 3, max(millis) * 30)
    cost.set_xlabel("milliseconds per call (log scale)")
    cost.set_title("what processes pay to send it", fontsize=10)
    _tidy(cost)
    return figure


# --- notebook 05: image processing in tiles ------------------------------------------------------

IMAGE_WAY_COLOURS = {"sequential": "#000000", "threads": "#0072B2", "processes": "#D55E00",
               "shared memory": "#E69F00"}


def image_before_after(result) -> Figure:
    """The generated image with its tile boundaries, and the filtered image."""
    figure = _figure(10, 5.6)
    before, after = figure.subplots(1, 2)
    before.imshow(result.before, cmap="gray", vmin=0, vmax=255, interpolation="antialiased")
    for start, _ in result.bounds[1:]:
        before.axhline(start - 0.5, color="#56B4E9", linestyle="--", linewidth=1.2, alpha=0.8)
    tiles = f"{result.tiles} row band{'s' if result.tiles > 1 else ''}"
    before.set_title(f"before: generated Mandelbrot, {result.size}×{result.size} px,\n"
                     f"cut into {tiles} (dashed lines)", fontsize=10)
    after.imshow(result.after, cmap="gray", vmin=0, vmax=255, interpolation="antialiased")
    after.set_title("after: Sobel edge strength (white = strong edge),\n"
                    "the same pixels from every way and kernel", fontsize=10)
    for ax in (before, after):
        ax.set_xticks([])
        ax.set_yticks([])
    return figure


def image_times(result) -> Figure:
    """Wall time of each way, one panel per kernel, each bar labelled with its speedup."""
    kernels = result.kernels
    figure = _figure(4.8 * len(kernels) + 0.4, 4.4)
    axes = figure.subplots(1, len(kernels), squeeze=False)[0]
    for ax, kernel in zip(axes, kernels):
        ways = result.ways(kernel)
        ms = [result.seconds[kernel][way] * 1000 for way in ways]
        ax.bar(range(len(ways)), ms, color=[IMAGE_WAY_COLOURS[way] for way in ways], width=0.65)
        ax.axhline(ms[ways.index("sequential")], color=IMAGE_WAY_COLOURS["sequential"], linestyle="--",
                   linewidth=1, zorder=1)
        for x, (way, value) in enumerate(zip(ways, ms)):
            ax.annotate(f"{_image_ms(value)}\n{result.speedup(kernel, way):.2f}×", (x, value),
                        xytext=(0, 3), textcoords="offset points", ha="center", va="bottom",
                        fontsize=8, bbox=dict(facecolor="white", edgecolor="none", pad=1))
        ax.set_xticks(range(len(ways)), [way.replace(" ", "\n") for way in ways])
        ax.set_ylim(0, max(ms) * 1.25)
        ax.set_ylabel("wall time (ms, best of repeats)")
        ax.set_title(f"{kernel} kernel: {_IMAGE_KERNEL_NOTES.get(kernel, '')}", fontsize=10)
        _tidy(ax)
        ax.grid(False, axis="x")
    workers = f"{result.workers} worker{'s' if result.workers > 1 else ''}"
    figure.suptitle(f"Sobel filter on a {result.size}×{result.size} image: {result.tiles} tiles, "
                    f"{workers}\n(dashed line: sequential, speedup 1×)", fontsize=10)
    return figure


def _image_ms(ms: float) -> str:
    return f"{ms:,.0f} ms" if ms >= 100 else f"{ms:.3g} ms"


_IMAGE_KERNEL_NOTES = {"python": "pure Python, holds the GIL", "numpy": "NumPy, releases the GIL"}


# --- notebook 06: asyncio ------------------------------------------------------------------------

AIO_COLOURS = {"threads": COLOURS["threads"], "asyncio": "#E69F00"}


def aio_comparison(result) -> Figure:
    """Threads vs asyncio: throughput against concurrency, start cost and memory per waiter."""
    figure = _figure(12, 4)
    left, middle, right = figure.subplots(1, 3, width_ratios=[1.3, 0.8, 1.1])
    _aio_throughput(left, result)
    n = result.memory_at
    starts = [result.start_seconds[b][result.concurrency.index(n)] * 1e6 for b in AIO_COLOURS]
    _aio_bars(middle, list(AIO_COLOURS), starts, list(AIO_COLOURS.values()), "{:.3g} µs")
    middle.set_ylabel("time to start one waiter (µs, log scale)")
    middle.set_title(f"start cost, {n:,} waiters", fontsize=10)
    labels, values, colours = [], [], []
    for backend, colour in AIO_COLOURS.items():
        for field, name in (("uss_per_task", "USS"), ("traced_per_task", "Python heap")):
            labels.append(f"{backend}\n{name}")
            values.append(getattr(result, field)[backend] / 1024)
            colours.append(colour)
    _aio_bars(right, labels, values, colours, "{:.3g} KiB")
    right.set_ylabel("memory per waiter (KiB, log scale)")
    right.set_title(f"memory per waiter, {n:,} held at once", fontsize=10)
    figure.suptitle(f"the same waits of {result.wait * 1000:g} ms: N threads in time.sleep vs "
                    f"N asyncio tasks in asyncio.sleep (median of the rounds)", fontsize=10)
    return figure


def _aio_throughput(ax, result) -> None:
    xs = result.concurrency
    ax.plot(xs, result.ideal(), linestyle="--", color=COLOURS["ideal"],
            label="ideal: every wait at once")
    for backend, colour in AIO_COLOURS.items():
        ax.plot(xs, result.throughput(backend), marker="o", linewidth=2, color=colour,
                label=backend)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xticks(list(xs), [f"{x:,}" for x in xs])
    ax.minorticks_off()
    _plain_log_labels(ax.yaxis)
    ax.set_xlabel("waits in flight at once (log scale)")
    ax.set_ylabel("waits completed per second (log scale)")
    ax.set_title("throughput", fontsize=10)
    ax.legend(fontsize=8, loc="upper left")
    _tidy(ax)


def _aio_bars(ax, labels, values, colours, fmt: str) -> None:
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
    _plain_log_labels(ax.yaxis)
    _tidy(ax)


# --- notebook 07: beyond one machine, and beyond the GIL -----------------------------------------

ENGINE_COLOURS = {"lab threads": COLOURS["threads"], "lab processes": COLOURS["processes"],
                  "dask threads": "#56B4E9", "dask processes": "#E69F00",
                  "joblib (loky)": "#CC79A7"}


def engines(result) -> Figure:
    """Each engine's start time, cost per empty task (both log) and speedup per task kind."""
    figure = _figure(13, 4.2)
    start, per_task, gains = figure.subplots(1, 3, width_ratios=[1, 1, 1.3])
    names = [run.engine for run in result.runs]
    labels = [name.replace(" ", "\n", 1) for name in names]
    colours = [ENGINE_COLOURS[name] for name in names]
    _aio_bars(start, labels, [run.start_seconds * 1000 for run in result.runs], colours,
              "{:,.0f} ms")
    start.set_ylabel("time to start, workers ready (ms, log scale)")
    start.set_title(f"start {result.workers} workers", fontsize=10)
    _aio_bars(per_task, labels, [run.per_task_seconds * 1e6 for run in result.runs], colours,
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
    ax.axhline(1, color=COLOURS["sequential"], linewidth=1, label="1× (no gain)")
    ax.axhline(min(result.usable_cpus, result.workers), color=COLOURS["usable"], linestyle=":",
               linewidth=2, label=f"usable CPUs = {result.usable_cpus}")
    ax.set_xticks(range(len(kinds)), [KIND_TITLES.get(kind, kind) for kind in kinds], fontsize=8)
    top = max(result.speedup(n, k) for n in names for k in kinds)
    ax.set_ylim(0, max(top, result.usable_cpus) * 1.35)
    ax.set_ylabel("speedup over sequential (×)")
    ax.set_title("the same work on each engine", fontsize=10)
    ax.legend(fontsize=7, loc="upper left", ncol=2)
    _tidy(ax)


def beyond_gil(results) -> Figure:
    """A panel per way past the GIL: cpu speedups where measured, else what is missing."""
    measured = any(result.available for result in results)
    figure = _figure(5 * len(results), 3.6 if measured else 1.8)
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
    ax.bar(range(len(names)), values, color=[COLOURS.get(name, "#009E73") for name in names])
    for x, value in enumerate(values):
        ax.annotate(f"{value:.2f}×", (x, value), textcoords="offset points", xytext=(0, 3),
                    ha="center", fontsize=8)
    ax.axhline(1, color=COLOURS["sequential"], linewidth=1)
    ax.set_xticks(range(len(names)), names, fontsize=9)
    ax.set_ylim(0, max(values + [result.workers]) * 1.2)
    ax.set_ylabel(f"cpu speedup over sequential, {result.workers} workers (×)")
    _tidy(ax)


def _wrap(text: str, width: int) -> str:
    return "\n".join(textwrap.wrap(text, width))
