"""Notebook 03's figures: shared memory against message passing."""
from __future__ import annotations

from typing import Sequence
from matplotlib.figure import Figure

from ..core import style, text
from . import sharing
from .sharing import MESSAGE_PASSING


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
    ax.set_xscale("log")
    ax.set_xticks(sizes, [text.size(s) for s in sizes], fontsize=8, rotation=30)
    ax.minorticks_off()
    ax.set_xlabel(label)


def in_place(result: sharing.InPlace) -> Figure:
    """Time to fill an array and a list in place, against size, with 1 and N threads."""
    figure = style.new_figure(7, 4)
    ax = figure.add_subplot()
    for case, seconds in result.seconds.items():
        colour = style.COLOURS["sequential"] if "1 thread" in case else style.COLOURS["threads"]
        line = "-" if case.startswith("NumPy") else "--"
        ax.plot(result.sizes, [s * 1000 for s in seconds], marker="o", linewidth=2, color=colour,
                linestyle=line, label=case)
    _size_axis(ax, result.sizes, "size filled (log scale)")
    ax.set_yscale("log")
    style.plain_log_labels(ax.yaxis)
    ax.set_ylabel("time to fill (ms, log scale)")
    ax.set_title("threads write straight into the caller's array and list", fontsize=11)
    ax.legend(fontsize=8, handlelength=3.5)
    style.tidy(ax)
    return figure


def message_passing(result: sharing.Transfers) -> Figure:
    """Throughput and one-way latency against payload size for each message-passing channel."""
    figure = style.new_figure(11, 4.2)
    rate_ax, wait_ax = figure.subplots(1, 2)
    for channel in MESSAGE_PASSING:
        colour, line = CHANNEL_STYLES[channel]
        rate_ax.plot(result.sizes, [b / 1e6 for b in result.throughput[channel]], marker="o",
                     color=colour, linestyle=line, linewidth=2, label=channel)
        wait_ax.plot(result.sizes, [s * 1e6 for s in result.latency[channel]], marker="o",
                     color=colour, linestyle=line, linewidth=2, label=channel)
    for ax, ylabel, title in ((rate_ax, "throughput (MB/s, log scale)", "streaming many messages"),
                              (wait_ax, "one-way latency (µs, log scale)", "one message at a time")):
        _size_axis(ax, result.sizes)
        ax.set_yscale("log")
        style.plain_log_labels(ax.yaxis)
        ax.set_ylabel(ylabel)
        ax.set_title(title, fontsize=11)
        style.tidy(ax)
    rate_ax.legend(fontsize=8, loc="upper left", handlelength=3)
    figure.suptitle(f"sending bytes to one child process ({result.start_method})", fontsize=11)
    return figure


def crossover(result: sharing.Transfers) -> Figure:
    """Bandwidth of every channel against size, beside copying the same bytes in memory."""
    figure = style.new_figure(8, 4.6)
    ax = figure.add_subplot()
    for channel, rates in result.throughput.items():
        colour, line = CHANNEL_STYLES[channel]
        ax.plot(result.sizes, [b / 1e9 for b in rates], marker="o", color=colour, linestyle=line,
                linewidth=2.5 if channel == "shared memory" else 1.5, label=channel)
    ax.plot(result.sizes, [b / 1e9 for b in result.memcpy], color=style.COLOURS["ideal"], linewidth=4,
            alpha=0.6, label="memcpy of the same bytes, warm buffers")
    _size_axis(ax, result.sizes)
    ax.set_yscale("log")
    top = max(*result.memcpy, *(max(r) for c, r in result.throughput.items() if not c.startswith("threads")))
    ax.set_ylim(min(min(r) for r in result.throughput.values()) / 2 / 1e9, top * 20 / 1e9)
    ax.set_ylabel("GB/s (log scale)")
    ax.set_title("every way to move bytes, against copying memory", fontsize=11)
    threads = result.throughput.get("threads: queue.Queue")
    if threads and max(threads) > top * 20:
        ax.annotate("threads: off the chart —\na reference, nothing copied", (result.sizes[-1], top * 20 / 1e9),
                    xytext=(-8, -8), textcoords="offset points", ha="right", va="top", fontsize=8,
                    color=CHANNEL_STYLES["threads: queue.Queue"][0])
    ax.legend(fontsize=8, loc="lower right", ncol=2, handlelength=3)
    style.tidy(ax)
    return figure


def shared_state(runs: Sequence[sharing.StateRun]) -> Figure:
    """Additions per second for each way of sharing state; wrong totals hatched."""
    figure = style.new_figure(8, 0.45 * len(runs) + 1.4)
    ax = figure.add_subplot()
    labels = [f"{'✓' if r.correct else '✗'} {r.label}" for r in runs]
    rates = [r.rate for r in runs]
    bars = ax.barh(labels, rates, color=[style.COLOURS["usable"] if r.correct else style.COLOURS["processes"]
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
    style.tidy(ax)
    return figure


def job(result: sharing.Job) -> Figure:
    """Time and peak extra memory of each way to run the worked job."""
    figure = style.new_figure(10, 0.5 * len(result.runs) + 1.6)
    time_ax, memory_ax = figure.subplots(1, 2, sharey=True)
    labels = [r.method for r in result.runs]
    colours = [JOB_COLOURS.get(r.method, style.COLOURS["processes"]) for r in result.runs]
    style.ms_bars(time_ax, labels, [r.seconds * 1000 for r in result.runs], colours)
    time_ax.set_xlabel("time (ms)")
    memory_ax.barh(labels, [r.peak_mib for r in result.runs], color=colours)
    for y, run in enumerate(result.runs):
        memory_ax.annotate(f"{run.peak_mib:.0f} MiB", (run.peak_mib, y), textcoords="offset points",
                           xytext=(4, -3), fontsize=8)
    memory_ax.set_xlim(0, max(max(r.peak_mib for r in result.runs) * 1.25, 1))
    memory_ax.set_xlabel(f"peak extra memory ({result.memory_measure}, MiB)")
    for ax in (time_ax, memory_ax):
        style.tidy(ax)
    figure.suptitle(f"normalising the rows of {text.size(result.nbytes)} with {result.workers} workers",
                    fontsize=11)
    return figure


JOB_COLOURS = {"sequential": style.COLOURS["sequential"], "copies through a pool": style.COLOURS["processes"],
               "shared memory": "#009E73", "threads on NumPy": style.COLOURS["threads"]}


def pipeline(right: sharing.Pipeline, wrong: sharing.Pipeline) -> Figure:
    """Items handled by each consumer, with sentinels and with the empty() bug."""
    figure = style.new_figure(7, 2.4)
    ax = figure.add_subplot()
    for y, run in enumerate((right, wrong)):
        left = 0
        for number, count in enumerate(run.handled):
            ax.barh(y, count, left=left, color=style.TASK_SHADES[number % len(style.TASK_SHADES)],
                    edgecolor="white", label=f"consumer {number + 1}" if y == 0 else None)
            left += count
        ax.barh(y, run.left_behind, left=left, color="#ffffff", edgecolor=style.COLOURS["processes"],
                hatch="//", label="left in the queue" if run.left_behind and y == 1 else None)
    ax.set_yticks([0, 1], [right.consumer, wrong.consumer])
    ax.invert_yaxis()
    ax.set_xlim(0, right.items * 1.02)
    ax.set_xlabel(f"items (of {right.items})")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1))
    style.tidy(ax)
    return figure

