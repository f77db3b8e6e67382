"""Notebook 04's figures: lost updates, and the fixes."""
from __future__ import annotations

from typing import Sequence
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
import numpy as np

from ..core import style
from . import races


def lost_updates(tallies: Sequence[races.Tally]) -> Figure:
    """Histogram of the share of deposits lost per trial, one panel per thread count."""
    figure = style.new_figure(3.2 * len(tallies), 3.2)
    axes = figure.subplots(1, len(tallies), sharey=True, squeeze=False)[0]
    bins = np.linspace(0, 100, 21)
    for ax, tally in zip(axes, tallies):
        shares = [100 * lost / tally.expected for lost in tally.lost]
        ax.hist(shares, bins=bins, color=style.COLOURS["threads"], edgecolor="white")
        ax.set_title(f"{tally.threads} threads: lost in {tally.trials_with_losses:.0%} of trials",
                     fontsize=10)
        ax.set_xlabel("deposits lost in a trial (%)")
        style.tidy(ax)
    axes[0].set_ylabel("trials")
    axes[0].yaxis.set_major_locator(MaxNLocator(integer=True))
    return figure


def fixes(results: Sequence[races.Fix], title: str = "the same deposits, racy and fixed") -> Figure:
    """Time of each version, marked exact (✓) or wrong (✗)."""
    figure = style.new_figure(7, 0.45 * len(results) + 1.3)
    ax = figure.add_subplot()
    labels = [f"{'✓' if r.correct else '✗'} {r.label}" for r in results]
    values = [r.seconds * 1000 for r in results]
    colours = [style.COLOURS["usable"] if r.correct else style.COLOURS["processes"] for r in results]
    style.ms_bars(ax, labels, values, colours)
    ax.set_xlabel("wall time (ms)")
    ax.set_title(f"{title} (✓ exact, ✗ updates lost)", fontsize=10)
    style.tidy(ax)
    return figure


def race_trial(result: races.Trial) -> Figure:
    """The panel: lost deposits per trial."""
    return lost_updates([result.tally])

