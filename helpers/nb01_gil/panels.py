"""Notebook 01's try-it panels: stretches of running under the GIL, and the convoy."""
from __future__ import annotations

import ipywidgets as w

from ..core import panel
from . import figures, gil


def timeline_panel() -> panel.Panel:
    """Worker count, cpu or gil_free, threads or processes: who ran when, stretch by stretch."""
    return panel.compare_panel(gil.timeline, figures.stretches, gil.timeline_verdict,
                               workers=4, kinds=("cpu", "gil_free"))


def convoy_panel() -> panel.Panel:
    """CPU-bound workers beside a responder: how many, which backend, which switch interval."""
    controls = {
        "hogs": w.IntSlider(value=2, min=1, max=8, description="CPU-bound"),
        "interval_ms": w.Dropdown(options=[(f"{ms:g} ms", ms) for ms in (0.5, 1, 5, 20, 50)],
                                  value=5, description="interval"),
        "backend": panel.backend_picker("threads"),
    }
    return panel.Panel(gil.convoy_once, figures.convoy, gil.convoy_verdict, controls,
                       title="Try it yourself: the convoy")
