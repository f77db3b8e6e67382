"""Notebook 07's try-it panel: one engine against sequential."""
from __future__ import annotations

import ipywidgets as w

from ..core import panel, runner
from . import beyond, figures


def engines_panel(engine: str = "dask processes") -> panel.Panel:
    """One engine on one task kind beside sequential: engine, kind, workers, tasks."""
    runner.check_choice("engine", engine, beyond.ENGINES)
    controls = {
        "engine": w.Dropdown(options=list(beyond.ENGINES), value=engine, description="engine"),
        "kind": panel.kind_picker("cpu", beyond.KINDS),
        "workers": panel.worker_slider(),
        "tasks": w.IntSlider(value=8, min=1, max=64, description="tasks"),
    }
    return panel.Panel(beyond.trial, figures.engines, beyond.engines_verdict, controls,
                 title="Try it yourself: one engine against sequential")
