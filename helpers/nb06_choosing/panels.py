"""Notebook 06's try-it panel: ask the advisor."""
from __future__ import annotations

import ipywidgets as w

from ..core import panel
from . import advisor, figures


def advisor_panel(kind: str = "cpu") -> panel.Panel:
    """Notebook 06: the advisor on a built-in task kind, with the size of each call."""
    controls = {
        "kind": panel.kind_picker(kind),
        "units": w.Dropdown(options=[("½ unit", 0.5), ("1 unit", 1.0), ("2 units", 2.0),
                                     ("5 units", 5.0)], value=1.0, description="each call"),
    }
    return panel.Panel(advisor.advise_builtin, figures.advice, advisor.verdict, controls,
                 title="Try it yourself: ask the advisor")
