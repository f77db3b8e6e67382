"""Notebook 04's try-it panel: threads depositing into one account, with or without the lock."""
from __future__ import annotations

import ipywidgets as w

from ..core import panel
from . import figures, races


def race_panel() -> panel.Panel:
    """Threads, deposits, switch interval, and whether the lock is used."""
    controls = {
        "threads": w.IntSlider(value=4, min=2, max=16, description="threads"),
        "deposits": w.IntSlider(value=200_000, min=10_000, max=1_000_000, step=10_000,
                                description="deposits"),
        "interval_ms": w.Dropdown(options=[(f"{ms:g} ms", ms) for ms in (0.5, 1, 5, 20)],
                                  value=5, description="interval"),
        "fixed": w.Checkbox(value=False, description="use the lock"),
    }
    return panel.Panel(races.trial, figures.race_trial, races.trial_verdict, controls)
