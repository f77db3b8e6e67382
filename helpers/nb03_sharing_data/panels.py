"""Notebook 03's try-it panel: normalise rows by one way of sharing them with workers."""
from __future__ import annotations

import ipywidgets as w

from ..core import panel
from . import figures, sharing


def job_panel(megabytes: int = 32) -> panel.Panel:
    """The way of sharing, the size of the data and the workers."""
    controls = {
        "way": w.Dropdown(options=sharing.JOB_METHODS[1:], value="shared memory", description="way"),
        "megabytes": w.IntSlider(value=megabytes, min=1, max=256, description="size (MiB)"),
        "workers": panel.worker_slider(),
    }
    return panel.Panel(sharing.job_trial, figures.job, sharing.job_verdict, controls)
