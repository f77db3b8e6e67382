"""Notebook 00's figures: a parallel run beside the sequential one."""
from __future__ import annotations

from matplotlib.figure import Figure

from ..core import style
from . import first_look


def comparison(compared: first_look.Comparison) -> Figure:
    """The timeline of a parallel run, titled with its speedup over the sequential one."""
    return style.timeline(compared.result, speedup=compared.speedup)


def four_ways(seconds: dict[str, float]) -> Figure:
    """One bar per way of running the same four tasks, against the plain loop's time."""
    seconds = first_look.check_four_ways(seconds)
    figure = style.new_figure(7, 2.8)
    ax = figure.add_subplot()
    ways = list(seconds)
    colours = [style.COLOURS["sequential"] if way == "sequential" else style.COLOURS["threads"]
               if way in first_look.THREAD_WAYS else style.COLOURS["processes"] for way in ways]
    ax.barh(ways, [seconds[way] for way in ways], color=colours)
    ax.axvline(seconds["sequential"], color=style.COLOURS["ideal"], linestyle="--", linewidth=1.2,
               label="the plain loop")
    for y, way in enumerate(ways):
        ax.annotate(f" {seconds[way]:.2f} s", (seconds[way], y), va="center", fontsize=9)
    ax.invert_yaxis()
    ax.set_xlim(0, max(seconds.values()) * 1.25)
    ax.set_xlabel("wall time for the same four tasks (s): shorter is faster")
    figure.legend(fontsize=8, loc="outside upper right", frameon=False)
    style.tidy(ax)
    ax.grid(False, axis="y")
    return figure
