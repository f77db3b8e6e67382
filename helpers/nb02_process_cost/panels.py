"""Notebook 02's try-it panel: a pool of processes, with a payload and a task size to choose."""
from __future__ import annotations

import ipywidgets as w

from ..core import machine, panel
from . import figures, spawning


def trial_panel() -> panel.Panel:
    """Start method, workers, payload and task size: what the processes cost against threads."""
    controls = {
        "method": w.Dropdown(options=spawning.methods(), value=machine.lab_start_method(),
                             description="method"),
        "workers": panel.worker_slider(),
        "payload_kb": w.IntSlider(value=100, min=0, max=10_000, step=100, description="payload kB"),
        "task_ms": w.FloatLogSlider(value=10, base=10, min=-1, max=2, description="task ms"),
    }
    return panel.Panel(spawning.trial, figures.trial, spawning.trial_verdict, controls)
