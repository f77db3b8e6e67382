"""Notebook 00's figures: a parallel run beside the sequential one."""
from __future__ import annotations

from matplotlib.figure import Figure

from ..core import style
from . import first_look


def comparison(compared: first_look.Comparison) -> Figure:
    """The timeline of a parallel run, titled with its speedup over the sequential one."""
    return style.timeline(compared.result, speedup=compared.speedup)

