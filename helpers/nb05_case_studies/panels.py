"""Notebook 05's panels: a responsive UI, and an image filtered in tiles."""
from __future__ import annotations

import time

import ipywidgets as w

from ..core import panel, runner
from . import figures, images, responsive


RESPONSIVE_MODES = {"main thread": "main", "background thread": "thread", "process": "process"}


class ResponsivePanel(w.VBox):
    """Start a computation of a few seconds on the kernel's main thread, in a `lab-` thread or
    in a child process; drag the slider meanwhile and watch when the kernel hears it."""

    def __init__(self, seconds: float = 3.0, mode: str = "background thread"):
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
        now = time.strftime("%H:%M:%S")
        tenths = int(time.time() * 10) % 10
        self.heard.value = f"the kernel heard {change['new']} at {now}.{tenths}"

    def _show_progress(self, done: int, total: int) -> None:
        self.progress.max, self.progress.value = total, done

    def _ended(self, status: str) -> None:
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


def image_panel() -> panel.Panel:
    """Filter the image with one kernel and one way, beside sequential: kernel, way, workers, size."""
    controls = {
        "kernel": w.Dropdown(options=[(images.KERNEL_TITLES[k], k) for k in images.KERNELS],
                             value="python", description="kernel"),
        "way": w.Dropdown(options=list(images.WAYS[1:]), value="processes", description="way"),
        "workers": panel.worker_slider(),
        "size": w.IntSlider(value=images.DEFAULT_SIZE, min=images.MIN_SIZE, max=images.MAX_SIZE,
                            step=16, description="size (px)"),
    }
    return panel.Panel(images.trial, figures.image_times, images.verdict, controls,
                 title="Try it yourself: filter the image in tiles")
