"""Notebook 05's figures: a web server, a responsive UI, records in chunks, images in tiles."""
from __future__ import annotations

from matplotlib.figure import Figure
import numpy as np

from ..core import style, text
from . import images, records, responsive, serving


# --- serving: a web server -----------------------------------------------------------------------

SERVER_COLOURS = {"single": style.COLOURS["sequential"], "threads": style.COLOURS["threads"],
                  "threads + process pool": style.COLOURS["processes"]}


SERVER_LABELS = {"single": "single\nthread", "threads": "threads",
                 "threads + process pool": "threads +\nprocess pool"}


def web_server(result: serving.Comparison) -> Figure:
    """Per handler (io, cpu): throughput per server kind, and median and p95 latency."""
    figure = style.new_figure(9, 6.2)
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
    style.tidy(ax)


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
    style.tidy(ax)


# --- responsive: a UI that stays live ------------------------------------------------------------

MODE_COLOURS = {"main thread": "#000000", "background thread": style.COLOURS["threads"],
                "process": style.COLOURS["processes"]}


def event_delays(result: responsive.Responsiveness) -> Figure:
    """Each event's wait over time, and all waits per mode with median and worst (log ms)."""
    figure = style.new_figure(10, 4)
    left, right = figure.subplots(1, 2, gridspec_kw={"width_ratios": [3, 2]})
    floor = 0.01  # ms: waits below this are drawn on the floor of the log axis
    for mode, run in result.runs.items():
        colour = MODE_COLOURS.get(mode, style.COLOURS["sequential"])
        left.plot(run.posted, np.maximum(np.array(run.delays) * 1000, floor), ".", markersize=4,
                  color=colour, label=mode)
    left.set_xlabel("when the event was posted (s after Start)")
    left.set_ylabel("wait until handled (ms, log scale)")
    left.set_title(f"an event every {result.tick * 1000:g} ms, handled by the UI loop", fontsize=10)
    top = max(run.max_delay for run in result.runs.values()) * 1000 * 30  # room for the legend
    left.legend(fontsize=8, loc="upper right", ncol=3)
    rng = np.random.default_rng(0)
    for x, (mode, run) in enumerate(result.runs.items()):
        colour = MODE_COLOURS.get(mode, style.COLOURS["sequential"])
        values = np.maximum(np.array(run.delays) * 1000, floor)
        right.scatter(x + rng.uniform(-0.18, 0.18, len(values)), values, s=7, alpha=0.35, color=colour)
        right.hlines(max(run.median_delay * 1000, floor), x - 0.3, x + 0.3, color=colour, linewidth=2.5,
                     label="median" if x == 0 else None)
        right.scatter([x + 0.34], [run.max_delay * 1000], marker="<", s=40, color=colour,
                      label="worst (the freeze)" if x == 0 else None)
        right.annotate(text.ms(run.max_delay * 1000 / 1000), (x, run.max_delay * 1000),
                       textcoords="offset points", xytext=(0, 6), ha="center", fontsize=8)
    right.axhline(result.switch_interval * 1000, color=style.COLOURS["usable"], linestyle=":", linewidth=2,
                  label=f"switch interval = {result.switch_interval * 1000:g} ms")
    names = [f"{mode.replace(' ', chr(10))}\nprogress {run.progress_seen}/{run.steps}"
             for mode, run in result.runs.items()]
    right.set_xticks(range(len(names)), names, fontsize=8)
    right.set_title("every event's wait, per mode", fontsize=10)
    right.legend(fontsize=8, loc="lower left")
    for ax in (left, right):
        ax.set_yscale("log")
        style.plain_log_labels(ax.yaxis)
        ax.set_ylim(floor * 0.7, top)
        style.tidy(ax)
    longest = max(run.work_seconds for run in result.runs.values())
    figure.suptitle(f"A CPU-bound computation (up to {longest:.1f} s) started from a button: "
                    "how long did the UI's events wait?", fontsize=11)
    return figure


def cancel_times(result: responsive.Cancelling) -> Figure:
    """Time from asking each way of running the work to stop until it had stopped (log ms)."""
    figure = style.new_figure(9, 3.4)
    ax = figure.add_subplot()
    runs = list(result.runs)
    values = [max(run.stopped_after * 1000, 0.01) for run in runs]
    colours = [style.COLOURS["usable"] if run.cancelled else "#999999" for run in runs]
    ys = range(len(runs))
    ax.barh(ys, values, color=colours)
    for y, run, value in zip(ys, runs, values):
        what = "stopped early" if run.cancelled else "not stopped: ran to its end"
        ax.annotate(f"{text.ms(value / 1000)} — {what}", (value, y), textcoords="offset points",
                    xytext=(4, 0), va="center", fontsize=8)
    ax.set_yticks(list(ys), [run.way for run in runs], fontsize=9)
    ax.invert_yaxis()
    ax.set_xscale("log")
    style.plain_log_labels(ax.xaxis)
    ax.set_xlim(min(values) / 2, max(values) * 40)
    ax.set_xlabel("from asking to stop until it had stopped (ms, log scale)")
    ax.set_title("Cancel, pressed while the computation runs (at half its progress)", fontsize=11)
    style.tidy(ax)
    return figure



# --- records: data processing in chunks ----------------------------------------------------------

def record_chunking(result: records.Chunking) -> Figure:
    """Seconds to summarise every record against chunksize (log scale), with the plain loop
    and threads as reference lines and the best chunksize marked."""
    figure = style.new_figure(7, 3.8)
    ax = figure.add_subplot()
    sizes = result.chunksizes
    millis = [result.seconds[size] * 1000 for size in sizes]
    ax.axhline(result.sequential * 1000, color=style.COLOURS["sequential"], linestyle="--", linewidth=1.2,
               label=f"plain loop ({result.sequential * 1000:.0f} ms)")
    ax.axhline(result.threads * 1000, color=style.COLOURS["threads"], linestyle=":", linewidth=1.8,
               label=f"{result.workers} threads ({result.threads * 1000:.0f} ms)")
    ax.plot(sizes, millis, marker="o", linewidth=2, color=style.COLOURS["processes"],
            label=f"{result.workers} processes ({result.start_method})")
    best = result.best
    ax.plot([best], [result.seconds[best] * 1000], marker="*", markersize=16, linestyle="none",
            color=style.COLOURS["usable"], label=f"best: chunksize {best:,}")
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
    style.tidy(ax)
    return figure


# --- images: filtering in tiles ------------------------------------------------------------------

IMAGE_WAY_COLOURS = {"sequential": "#000000", "threads": "#0072B2", "processes": "#D55E00",
               "shared memory": "#E69F00"}


def image_before_after(result: images.Tiled) -> Figure:
    """The generated image with its tile boundaries, and the filtered image."""
    figure = style.new_figure(10, 5.6)
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


def image_times(result: images.Tiled) -> Figure:
    """Wall time of each way, one panel per kernel, each bar labelled with its speedup."""
    kernels = result.kernels
    figure = style.new_figure(4.8 * len(kernels) + 0.4, 4.4)
    axes = figure.subplots(1, len(kernels), squeeze=False)[0]
    for ax, kernel in zip(axes, kernels):
        ways = result.ways(kernel)
        ms = [result.seconds[kernel][way] * 1000 for way in ways]
        ax.bar(range(len(ways)), ms, color=[IMAGE_WAY_COLOURS[way] for way in ways], width=0.65)
        ax.axhline(ms[ways.index("sequential")], color=IMAGE_WAY_COLOURS["sequential"], linestyle="--",
                   linewidth=1, zorder=1)
        for x, (way, value) in enumerate(zip(ways, ms)):
            ax.annotate(f"{text.ms(value / 1000)}\n{result.speedup(kernel, way):.2f}×", (x, value),
                        xytext=(0, 3), textcoords="offset points", ha="center", va="bottom",
                        fontsize=8, bbox=dict(facecolor="white", edgecolor="none", pad=1))
        ax.set_xticks(range(len(ways)), [way.replace(" ", "\n") for way in ways])
        ax.set_ylim(0, max(ms) * 1.25)
        ax.set_ylabel("wall time (ms, best of repeats)")
        ax.set_title(f"{kernel} kernel: {_IMAGE_KERNEL_NOTES.get(kernel, '')}", fontsize=10)
        style.tidy(ax)
        ax.grid(False, axis="x")
    workers = f"{result.workers} worker{'s' if result.workers > 1 else ''}"
    figure.suptitle(f"Sobel filter on a {result.size}×{result.size} image: {result.tiles} tiles, "
                    f"{workers}\n(dashed line: sequential, speedup 1×)", fontsize=10)
    return figure





_IMAGE_KERNEL_NOTES = {"python": "pure Python, holds the GIL", "numpy": "NumPy, releases the GIL"}

