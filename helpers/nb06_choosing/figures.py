"""Notebook 06's figures: the summary infographic, the decision guide, the advisor, asyncio."""
from __future__ import annotations

import textwrap

from matplotlib.figure import Figure
from matplotlib.patches import FancyBboxPatch
from matplotlib.ticker import FuncFormatter, MaxNLocator

from ..core import style, text
from . import advisor, aio
from . import summary as summaries
from .summary import guide_steps, quote


# --- summary: the infographic and the decision guide ---------------------------------------------

SUMMARY_PANELS = (
    ("cpu", "CPU work in pure Python (holds the GIL)"),
    ("gil_free", "CPU work in C that releases the GIL (hashlib)"),
    ("io", "waiting (blocking I/O)"),
    ("start", "start cost: start and join one worker"),
    ("transfer", "moving data to another process"),
    ("memory", "memory per idle worker"),
    ("races", "shared state: lost updates"),
)


def infographic(summary: summaries.Summary) -> Figure:
    """What the series measured on this machine, one panel per claim: 1600 × 1000 px."""
    figure = style.new_figure(16, 10)
    figure.suptitle(f"Threads vs processes, measured here: {summary.machine_line}",
                    fontsize=18, fontweight="bold")
    cells = figure.subfigures(2, 4, wspace=0.04, hspace=0.06).ravel()
    headlines = summaries.headlines(summary)
    for cell, (key, claim) in zip(cells, SUMMARY_PANELS):
        cell.suptitle(claim, fontsize=12, color="#444444")
        ax = cell.add_subplot()
        ax.set_title(headlines[key], fontsize=17, fontweight="bold", loc="left")
        _SUMMARY_DRAW[key](ax, summary, key)
        ax.tick_params(labelsize=11)
        style.tidy(ax)
    _summary_key(cells[-1], summary)
    return figure


def _summary_bars(ax, labels, values, colours, unit, log: bool = False) -> None:
    """Horizontal bars, each labelled with its quoted value (`unit`: one, or one per bar)."""
    units = [unit] * len(values) if isinstance(unit, str) else list(unit)

    ys = list(range(len(labels)))
    shown = [max(v, 1e-9) for v in values] if log else values
    ax.barh(ys, shown, color=colours, height=0.6)
    ax.set_yticks(ys, labels, fontsize=12)
    ax.invert_yaxis()
    top = max(shown)
    if log:
        ax.set_xscale("log")
        style.plain_log_labels(ax.xaxis)
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
    _summary_bars(ax, list(backends), values, [style.COLOURS[b] for b in backends], "×")
    usable = summary.usable_cpus
    ax.axvline(1, color=style.COLOURS["sequential"], linewidth=1.2)
    ax.axvline(usable, color=style.COLOURS["usable"], linestyle=":", linewidth=2.5)
    ax.set_xlim(0, max(max(values), usable) * 1.45)
    ax.set_xlabel(f"speedup over sequential (×), {summary.workers[kind]} workers", fontsize=11)


def _summary_start(ax, summary, key: str) -> None:
    values = [summary.process_start.value, summary.thread_start.value / 1000]
    _summary_bars(ax, [f"process\n({summary.start_method})", "thread"], values,
                  [style.COLOURS["processes"], style.COLOURS["threads"]], ["ms", "ms"], log=True)
    ax.texts[-1].set_text(summary.thread_start.text)
    ax.set_xlabel("milliseconds (log scale)", fontsize=11)


def _summary_transfer(ax, summary, key: str) -> None:
    values = [summary.shared_rate.value, summary.queue_rate.value]
    _summary_bars(ax, ["shared\nmemory", "Queue"], values, [style.COLOURS["usable"], style.COLOURS["processes"]],
                  "MB/s")
    ax.set_xlabel(f"MB/s for {text.size(summary.transfer_bytes)} payloads", fontsize=11)


def _summary_memory(ax, summary, key: str) -> None:
    values = [summary.process_memory.value, max(summary.thread_memory.value, 0.0)]
    _summary_bars(ax, [f"process\n({summary.start_method})", "thread"], values,
                  [style.COLOURS["processes"], style.COLOURS["threads"]], "MiB")
    ax.set_xlabel("MiB added per worker (process: PSS, thread: USS)", fontsize=11)


def _summary_races(ax, summary, key: str) -> None:
    values = [summary.lost_racy.value, summary.lost_locked.value]
    _summary_bars(ax, ["no lock", "with a lock"], values, [style.COLOURS["processes"], style.COLOURS["usable"]],
                  "updates")
    ax.set_xlim(0, summary.deposits * 1.3)
    ax.axvline(summary.deposits, color=style.COLOURS["ideal"], linestyle="--", linewidth=1.5)
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
        ("│  black line: 1× (no gain)", style.COLOURS["sequential"]),
        (f"┆  green dotted: {summary.usable_cpus} usable CPU"
         f"{'s' if summary.usable_cpus != 1 else ''}", style.COLOURS["usable"]),
        ("┆  grey dashed: every deposit lost", style.COLOURS["ideal"]),
        (f"measuring took {summary.seconds:.1f} s", "#444444"),
    ]
    for row, (line, colour) in enumerate(lines):
        ax.text(0.0, 0.95 - row * 0.135, line, fontsize=13, color=colour, va="top",
                transform=ax.transAxes)


def decision_guide(summary: summaries.Summary) -> Figure:
    """A flow chart from the kind of work to threads or processes, quoting this machine's numbers."""
    backend, then, otherwise = guide_steps(summary)
    figure = style.new_figure(16, 10)
    figure.suptitle(f"Threads or processes? Measured here: {summary.machine_line}",
                    fontsize=17, fontweight="bold")
    ax = figure.add_subplot()
    ax.set_xlim(0, 16)
    ax.set_ylim(0, 9.2)
    ax.axis("off")

    def box(x, y, w, h, text, colour, size=12.5, bold=False):
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
        for x, answer_text, label in ((10.6, step.yes, "yes"), (13.35, step.no, "no")):
            box(x, top - 2.75, 2.55, 2.2, answer_text, answer["other"], size=12.5)
            arrow((x + 1.275, top - 0.03), (x + 1.275, top - 0.52), label)
    return figure


# --- advisor: bring your own function ------------------------------------------------------------

def advice(result: advisor.Advice) -> Figure:
    """The advisor's measurements: speedups per backend and worker count (the chosen backend
    drawn heavy), how the function spends a call, and what pickling costs beside a call."""
    if result.problem:
        figure = style.new_figure(8, 1.6)
        ax = figure.add_subplot()
        ax.axis("off")
        ax.text(0, 1, f"No advice for {result.task}: nothing to plot.\n"
                + textwrap.fill(result.problem, 110), va="top", fontsize=9, family="monospace")
        return figure
    figure = style.new_figure(11, 3.6)
    speed, share, cost = figure.subplots(1, 3, width_ratios=[1.5, 1, 1.1])
    counts = sorted({1} | {w for runs in result.speedups.values() for w in runs})
    speed.plot(counts, counts, linestyle="--", color=style.COLOURS["ideal"], label="ideal")
    speed.axvline(result.usable_cpus, color=style.COLOURS["usable"], linestyle=":", linewidth=2,
                  label=f"usable CPUs = {result.usable_cpus}")
    speed.axhline(1, color=style.COLOURS["sequential"], linewidth=1.5 if result.choice == "sequential"
                  else 0.8, label="sequential" + (" (chosen)" if result.choice == "sequential" else ""))
    top = 1.0
    for backend, runs in result.speedups.items():
        runs = {1: 1.0, **runs}  # one worker is the sequential baseline
        xs = sorted(runs)
        ys = [runs[x] for x in xs]
        top = max(top, *ys)
        chosen = backend == result.choice
        speed.plot(xs, ys, marker="o", color=style.COLOURS[backend], linewidth=3.5 if chosen else 1.5,
                   alpha=1 if chosen else 0.6, label=backend + (" (chosen)" if chosen else ""))
    speed.set_xscale("log", base=2)
    speed.set_xticks(counts, [str(c) for c in counts])
    speed.set_ylim(0, top * 1.15)
    speed.set_xlabel("workers")
    speed.set_ylabel("speedup over sequential (×)")
    speed.set_title(f"{result.task}: measured speedups", fontsize=10)
    speed.legend(fontsize=8, loc="best")
    style.tidy(speed)
    labels = ["busy on a CPU", "holding the GIL\n(estimate)"]
    values = [100 * result.cpu_share, 100 * result.gil_held_share]
    share.bar(labels, values, color=["#E69F00", "#CC79A7"])
    for x, value in enumerate(values):
        share.text(x, value + 2, f"{value:.0f}%", ha="center", fontsize=9)
    share.set_ylim(0, 110)
    share.set_ylabel("share of a call's wall time (%)")
    share.set_title(f"one call: it {result.character}", fontsize=10)
    style.tidy(share)
    names = ["one call", "pickle its\nargument", "pickle its\nresult"]
    seconds = [result.call_seconds, result.argument_pickle_seconds, result.result_pickle_seconds]
    millis = [max(s * 1000, 1e-4) for s in seconds]
    cost.barh(names, millis, color=[style.COLOURS["sequential"], style.COLOURS["processes"], style.COLOURS["processes"]])
    cost.set_xscale("log")
    cost.invert_yaxis()
    sizes = ["", f"{result.argument_bytes:,.0f} B", f"{result.result_bytes:,.0f} B"]
    for y, (ms, size) in enumerate(zip(millis, sizes)):
        shown = f"{ms:.3g} ms" if ms >= 1 else f"{ms * 1000:.3g} µs"
        cost.text(ms, y, f" {shown}  {size}", va="center", fontsize=8)
    cost.set_xlim(min(millis) / 3, max(millis) * 30)
    cost.set_xlabel("milliseconds per call (log scale)")
    cost.set_title("what processes pay to send it", fontsize=10)
    style.tidy(cost)
    return figure


# --- aio: asyncio beside threads -----------------------------------------------------------------

AIO_COLOURS = {"threads": style.COLOURS["threads"], "asyncio": "#E69F00"}


def aio_comparison(result: aio.AioComparison) -> Figure:
    """Threads vs asyncio: throughput against concurrency, start cost and memory per waiter."""
    figure = style.new_figure(12, 4)
    left, middle, right = figure.subplots(1, 3, width_ratios=[1.3, 0.8, 1.1])
    _aio_throughput(left, result)
    n = result.memory_at
    starts = [result.start_seconds[b][result.concurrency.index(n)] * 1e6 for b in AIO_COLOURS]
    style.value_bars(middle, list(AIO_COLOURS), starts, list(AIO_COLOURS.values()), "{:.3g} µs")
    middle.set_ylabel("time to start one waiter (µs, log scale)")
    middle.set_title(f"start cost, {n:,} waiters", fontsize=10)
    labels, values, colours = [], [], []
    for backend, colour in AIO_COLOURS.items():
        for field, name in (("uss_per_task", aio.process_memory_name()), ("traced_per_task", "Python heap")):
            labels.append(f"{backend}\n{name}")
            values.append(getattr(result, field)[backend] / 1024)
            colours.append(colour)
    style.value_bars(right, labels, values, colours, "{:.3g} KiB")
    right.set_ylabel("memory per waiter (KiB, log scale)")
    right.set_title(f"memory per waiter, {n:,} held at once", fontsize=10)
    figure.suptitle(f"the same waits of {result.wait * 1000:g} ms: N threads in time.sleep vs "
                    f"N asyncio tasks in asyncio.sleep (median of the rounds)", fontsize=10)
    return figure


def _aio_throughput(ax, result) -> None:
    xs = result.concurrency
    ax.plot(xs, result.ideal(), linestyle="--", color=style.COLOURS["ideal"],
            label="ideal: every wait at once")
    for backend, colour in AIO_COLOURS.items():
        ax.plot(xs, result.throughput(backend), marker="o", linewidth=2, color=colour,
                label=backend)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xticks(list(xs), [f"{x:,}" for x in xs])
    ax.minorticks_off()
    style.plain_log_labels(ax.yaxis)
    ax.set_xlabel("waits in flight at once (log scale)")
    ax.set_ylabel("waits completed per second (log scale)")
    ax.set_title("throughput", fontsize=10)
    ax.legend(fontsize=8, loc="upper left")
    style.tidy(ax)

