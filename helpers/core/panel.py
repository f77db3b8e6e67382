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

from . import machine, style as plots, runner, workloads

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
            png = plots.to_png(self.draw(result))
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


def convoy_panel(experiment, draw, verdict) -> Panel:
    """CPU-bound workers beside a responder: how many, which backend, which switch interval."""
    controls = {
        "hogs": w.IntSlider(value=2, min=1, max=8, description="CPU-bound"),
        "interval_ms": w.Dropdown(options=[(f"{ms:g} ms", ms) for ms in (0.5, 1, 5, 20, 50)],
                                  value=5, description="interval"),
        "backend": backend_picker("threads"),
    }
    return Panel(experiment, draw, verdict, controls, title="Try it yourself: the convoy")


# --- notebook 05: a responsive UI ---------------------------------------------------------------

RESPONSIVE_MODES = {"main thread": "main", "background thread": "thread", "process": "process"}


class ResponsivePanel(w.VBox):
    """Start a computation of a few seconds on the kernel's main thread, in a `lab-` thread or
    in a child process; drag the slider meanwhile and watch when the kernel hears it."""

    def __init__(self, seconds: float = 3.0, mode: str = "background thread"):
        from ..nb05_case_studies import responsive

        self.seconds = runner.check_seconds("seconds", seconds, 0.1, responsive.MAX_SECONDS)
        runner.check_choice("mode", mode, RESPONSIVE_MODES)
        self.job = None
        self.mode = w.Dropdown(options=list(RESPONSIVE_MODES), value=mode, description="run on")
        self.start_button = w.Button(description="Start", button_style="primary", icon="play")
        self.cancel_button = w.Button(description="Cancel", icon="stop", disabled=True)
        self.progress = w.IntProgress(value=0, min=0, max=responsive.STEPS, description="progress")
        self.slider = w.IntSlider(value=50, min=0, max=100, description="try me")
        self.heard = w.Label("drag the slider while it computes")
        self.status = w.Label("")
        self.slider.observe(self._hear, names="value")
        self.start_button.on_click(lambda _: self.start())
        self.cancel_button.on_click(lambda _: self.cancel())
        super().__init__([
            w.HTML(f"<b>Try it yourself: a {self.seconds:g} s computation, and a slider to drag</b>"),
            w.HBox([self.mode, self.start_button, self.cancel_button]),
            self.progress,
            w.HBox([self.slider, self.heard]),
            self.status,
        ])

    @property
    def running(self) -> bool:
        return self.job is not None and self.job.running

    def start(self) -> None:
        """Start the computation in the chosen mode (ignored while one is running)."""
        import time

        from ..nb05_case_studies import responsive

        if self.job is not None and self.job.status != "running":
            self.job.wait(2)  # it has ended: let its thread finish returning
        if self.running:
            return
        self.progress.value, self.progress.bar_style = 0, ""
        self.start_button.disabled, self.mode.disabled = True, True
        self.cancel_button.disabled = False
        mode = RESPONSIVE_MODES[self.mode.value]
        if mode == "main":
            self._run_on_main_thread()
            return
        self.status.value = f"computing in a {'lab- thread' if mode == 'thread' else 'child process'}…"
        self._began, self._job_mode = time.perf_counter(), mode
        self.job = responsive.start_job(mode, self.seconds, self._show_progress, self._ended)

    def _run_on_main_thread(self) -> None:
        from ..nb05_case_studies import responsive

        self.status.value = ("computing on the main thread: until it ends the kernel cannot hear "
                             "the slider or Cancel…")
        wall = responsive.run_inline(self.seconds)  # inside the click handler: the kernel is busy
        self.progress.value, self.progress.bar_style = self.progress.max, "success"
        self.status.value = (f"done in {wall:.1f} s on the main thread; the bar could not move, and "
                             "slider moves or clicks made meanwhile are handled only now")
        self._reset_buttons()

    def cancel(self) -> None:
        """Ask the running computation to stop (a thread at its next check; a process at once)."""
        if not self.running:
            self.status.value = ("nothing to cancel: the computation had already finished when "
                                 "the kernel read this click")
            return
        self.status.value = "cancelling…"
        self.job.cancel()

    def wait(self, timeout: float = 30.0) -> bool:
        """Block until the computation has ended and its thread is gone; True if it has."""
        return self.job is None or self.job.wait(timeout)

    def stop(self, timeout: float = 10.0) -> None:
        """Cancel whatever runs and wait for it: nothing is left running afterwards."""
        job = getattr(self, "job", None)  # None too when __init__ refused its arguments
        if job is not None:
            job.cancel()
            job.wait(timeout)

    def close(self) -> None:
        self.stop()
        super().close()

    def _hear(self, change) -> None:
        import time

        now = time.strftime("%H:%M:%S")
        tenths = int(time.time() * 10) % 10
        self.heard.value = f"the kernel heard {change['new']} at {now}.{tenths}"

    def _show_progress(self, done: int, total: int) -> None:
        self.progress.max, self.progress.value = total, done

    def _ended(self, status: str) -> None:
        import time

        took = time.perf_counter() - self._began
        if status == "done":
            self.progress.bar_style = "success"
            self.status.value = f"done in {took:.1f} s; the slider stayed live all along"
        elif status == "cancelled":
            self.progress.bar_style = "warning"
            how = "the child was terminated" if self._job_mode == "process" else "the thread saw the flag"
            self.status.value = f"cancelled after {took:.1f} s: {how}"
        else:
            self.progress.bar_style = "danger"
            self.status.value = status
        self._reset_buttons()

    def _reset_buttons(self) -> None:
        self.start_button.disabled, self.mode.disabled = False, False
        self.cancel_button.disabled = True


def responsive_panel(seconds: float = 3.0, mode: str = "background thread") -> ResponsivePanel:
    """The notebook 05 panel: mode, Start, Cancel, progress, and a slider to feel the freeze."""
    return ResponsivePanel(seconds, mode)


# --- notebook 05: image processing in tiles ------------------------------------------------------


def image_panel() -> Panel:
    """Filter the image with one kernel and one way, beside sequential: kernel, way, workers, size."""
    from ..nb05_case_studies import images

    controls = {
        "kernel": w.Dropdown(options=[(images.KERNEL_TITLES[k], k) for k in images.KERNELS],
                             value="python", description="kernel"),
        "way": w.Dropdown(options=list(images.WAYS[1:]), value="processes", description="way"),
        "workers": worker_slider(),
        "size": w.IntSlider(value=images.DEFAULT_SIZE, min=images.MIN_SIZE, max=images.MAX_SIZE,
                            step=16, description="size (px)"),
    }
    return Panel(images.trial, plots.image_times, images.verdict, controls,
                 title="Try it yourself: filter the image in tiles")


def advisor_panel(kind: str = "cpu") -> Panel:
    """Notebook 06: the advisor on a built-in task kind, with the size of each call."""
    from ..nb06_choosing import advisor

    controls = {
        "kind": kind_picker(kind),
        "units": w.Dropdown(options=[("½ unit", 0.5), ("1 unit", 1.0), ("2 units", 2.0),
                                     ("5 units", 5.0)], value=1.0, description="each call"),
    }
    return Panel(advisor.advise_builtin, plots.advice, advisor.verdict, controls,
                 title="Try it yourself: ask the advisor")


# --- notebook 07: the same work on other engines -------------------------------------------------


def engines_panel(engine: str = "dask processes") -> Panel:
    """One engine on one task kind beside sequential: engine, kind, workers, tasks."""
    from ..nb07_beyond import beyond

    runner.check_choice("engine", engine, beyond.ENGINES)
    controls = {
        "engine": w.Dropdown(options=list(beyond.ENGINES), value=engine, description="engine"),
        "kind": kind_picker("cpu", beyond.KINDS),
        "workers": worker_slider(),
        "tasks": w.IntSlider(value=8, min=1, max=64, description="tasks"),
    }
    return Panel(beyond.trial, plots.engines, beyond.engines_verdict, controls,
                 title="Try it yourself: one engine against sequential")
