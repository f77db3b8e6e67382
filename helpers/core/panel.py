""""Try it yourself" panels: controls, a Run button, a progress bar and an output area.

The experiment runs in a background thread so the notebook stays responsive.
That thread only sets widget values and appends PNG/text to the Output widget;
it never calls display() (which would land in whichever cell runs next).
"""
from __future__ import annotations

import threading
import traceback
from typing import Any, Callable

import ipywidgets as w
from IPython.display import Image, display

from . import machine, runner, style, workloads

PANEL_TIMEOUT_SECONDS = 300


def worker_slider(value: int | None = None) -> w.IntSlider:
    """Worker count from 1 to max(8, 2 × usable CPUs)."""
    usable = machine.usable_cpus().value
    top = max(8, 2 * usable)
    value = usable if value is None else value
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= top:
        raise ValueError(f"workers must be an integer from 1 to {top}, got {value!r}")
    return w.IntSlider(value=value, min=1, max=top, description="workers")


def kind_picker(value: str = "cpu", options=workloads.KINDS) -> w.Dropdown:
    runner.check_choice("task kind", value, options)
    return w.Dropdown(options=list(options), value=value, description="task kind")


def backend_picker(value: str = "threads", options=("threads", "processes")) -> w.Dropdown:
    runner.check_choice("backend", value, options)
    return w.Dropdown(options=list(options), value=value, description="backend")


def progress_bar(description: str = "measuring") -> Callable[[int, int], None]:
    """Show a progress bar now; return the callback that moves it (for long static cells)."""
    bar = w.IntProgress(value=0, min=0, max=1, description=description)
    display(bar)

    def update(done: int, total: int) -> None:
        bar.max, bar.value = max(total, 1), done
        if done >= total:
            bar.bar_style = "success"

    update.bar = bar
    return update


class Panel(w.VBox):
    """Controls + Run + progress + output; `experiment(**values, progress=…)` does the work."""

    def __init__(
        self,
        experiment: Callable[..., Any],
        draw: Callable[[Any], Any],
        verdict: Callable[[Any], str],
        controls: dict[str, w.ValueWidget],
        title: str = "Try it yourself",
    ):
        self.experiment, self.draw, self.verdict = experiment, draw, verdict
        self.controls = controls
        self.run_button = w.Button(description="Run", button_style="primary", icon="play")
        self.progress = w.IntProgress(value=0, min=0, max=1, description="progress")
        self.status = w.Label("")
        self.output = w.Output()
        self.last_error: BaseException | None = None
        self._thread: threading.Thread | None = None
        self.run_button.on_click(lambda _: self.start())
        super().__init__([
            w.HTML(f"<b>{title}</b>"),
            *controls.values(),
            w.HBox([self.run_button, self.progress, self.status]),
            self.output,
        ])

    def start(self) -> None:
        """Run the experiment once in a background thread (ignored while one is running)."""
        if self.running:
            return
        self.run_button.disabled = True
        self.progress.value, self.status.value = 0, "running…"
        values = {name: control.value for name, control in self.controls.items()}
        self._thread = threading.Thread(target=self._work, args=(values,), daemon=True,
                                        name="lab-panel")
        self._thread.start()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def wait(self, timeout: float = PANEL_TIMEOUT_SECONDS) -> None:
        """Block until the current run has finished (for tests and scripts)."""
        if self._thread is not None:
            self._thread.join(timeout)

    def _work(self, values: dict) -> None:
        self.last_error = None
        try:
            result = self.experiment(**values, progress=self._show_progress)
            png = style.to_png(self.draw(result))
            self.output.outputs = ()
            self.output.append_display_data(Image(data=png, format="png"))
            self.output.append_stdout(self.verdict(result) + "\n")
            self.status.value = "done"
        except ValueError as error:
            self.last_error = error
            self.status.value = f"not run: {error}"
        except Exception as error:  # shown in the panel: a background thread has no cell
            self.last_error = error
            self.output.append_stdout("".join(traceback.format_exception(error)))
            self.status.value = f"failed: {type(error).__name__}"
        finally:
            self.run_button.disabled = False

    def _show_progress(self, done: int, total: int) -> None:
        self.progress.max = max(total, 1)
        self.progress.value = done


def compare_panel(experiment, draw, verdict, workers: int | None = None,
                  kind: str = "cpu", backend: str = "threads", kinds=workloads.KINDS) -> Panel:
    """The standard panel: worker count, task kind and backend."""
    controls = {
        "workers": worker_slider(workers),
        "kind": kind_picker(kind, kinds),
        "backend": backend_picker(backend, runner.BACKENDS[1:]),
    }
    return Panel(experiment, draw, verdict, controls)
