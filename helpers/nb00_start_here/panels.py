"""Notebook 00's try-it panel: one task kind on threads or processes, against sequential."""
from __future__ import annotations

from ..core import panel
from . import figures, first_look


def compare_panel() -> panel.Panel:
    """Worker count, task kind and backend; each run is drawn beside the sequential one."""
    return panel.compare_panel(first_look.compare, figures.comparison, first_look.compare_verdict)
