"""Every notebook in JupyterLab in a real browser: Run All, no errors, a working try-it panel,
then, in the same kernel, Run All again and an interrupt mid-run (test_kernel.py's checks);
and notebook 05's responsive panel driven through its three modes."""
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import NamedTuple

import pytest
import test_kernel

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
SHOTS = ROOT / "screenshots"
JUPYTER = Path(sys.executable).parent / "jupyter"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# headless in a container: no sandbox, no GPU, and no traffic beyond the loopback server
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
INSTALL = "install it with `apt-get install chromium` and `.venv/bin/pip install playwright`"
RUN_ALL_SECONDS = 240   # generous: 2 cores, maybe shared with other work
PANEL_SECONDS = 120
# Every process this module starts carries MARK=RUN in its environment (kernels and their
# workers inherit it), so leftovers can be found even in sessions of their own.
MARK, RUN = "LAB_BROWSER_TEST_RUN", secrets.token_hex(8)

pytestmark = pytest.mark.browser


def missing_browser() -> str | None:
    """Why the browser test cannot run here, or None."""
    if not os.access(CHROMIUM, os.X_OK):
        return f"chromium not found; {INSTALL}"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return f"playwright not installed; {INSTALL}"
    return None


# ---------------------------------------------------------------- the JupyterLab server

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_settings(settings: Path) -> None:
    """Private user settings: never autosave (the notebooks stay without outputs), no news."""
    files = {
        "docmanager-extension/plugin": {"autosave": False},
        "apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
        # every cell in the DOM, and no blank screen below the last one in screenshots
        "notebook-extension/tracker": {"windowingMode": "none", "scrollPastEnd": False},
    }
    for name, values in files.items():
        path = settings / f"@jupyterlab/{name}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))


def start_lab(tmp: Path, port: int, token: str) -> subprocess.Popen:
    """JupyterLab on 127.0.0.1:port; everything it writes goes to tmp, none of it to the repo."""
    write_settings(tmp / "settings")
    env = {**os.environ, MARK: RUN, "PYTHONDONTWRITEBYTECODE": "1",
           "JUPYTER_RUNTIME_DIR": str(tmp / "runtime"), "JUPYTER_CONFIG_DIR": str(tmp / "config")}
    env.pop("MPLBACKEND", None)   # let the kernel pick the inline backend
    command = [str(JUPYTER), "lab", "--no-browser", f"--ServerApp.root_dir={ROOT}",
               "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
               f"--IdentityProvider.token={token}",
               f"--LabApp.user_settings_dir={tmp / 'settings'}",
               f"--LabApp.workspaces_dir={tmp / 'workspaces'}",
               f"--FileCheckpoints.checkpoint_dir={tmp / 'checkpoints'}"]
    if os.getuid() == 0:
        command.append("--allow-root")
    # its own session: a Ctrl-C meant for pytest must not kill it before we shut it down
    with open(tmp / "jupyter.log", "w") as log:
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)


def api(base: str, token: str, path: str, method: str = "GET"):
    """Call the server's REST API; return the decoded JSON (None when empty)."""
    request = urllib.request.Request(f"{base}/api/{path}", method=method,
                                     headers={"Authorization": f"token {token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        body = response.read()
    return json.loads(body) if body else None


def wait_until_up(server: subprocess.Popen, base: str, token: str, log: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        assert server.poll() is None, f"jupyter lab exited; see {log}"
        try:
            api(base, token, "status")
            return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"jupyter lab did not answer in 90 s; see {log}")


def stop_lab(server: subprocess.Popen) -> None:
    """SIGTERM, as Ctrl-C would: the server shuts its kernels down before it exits."""
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait(timeout=10)


def marked_pids() -> list[int]:
    """Live processes carrying our mark: server, kernels, their workers, the browser."""
    needle = f"{MARK}={RUN}".encode()
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if needle in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0"):
                state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
                found += [int(pid)] if state != "Z" else []
        except OSError:   # gone meanwhile, or not ours to read
            continue
    return found


def leftovers(seconds: float = 20) -> list[int]:
    """Marked processes still alive after waiting up to `seconds` for them to exit."""
    deadline = time.monotonic() + seconds
    while (left := marked_pids()) and time.monotonic() < deadline:
        time.sleep(0.5)
    return left


class Lab(NamedTuple):
    """How to reach the private JupyterLab: its URL, its token, and where it keeps the
    kernels' connection files."""

    base: str
    token: str
    runtime: Path


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A private JupyterLab for this module; no process of it survives."""
    why = missing_browser()
    if why:
        if os.environ.get("LAB_REQUIRE_BROWSER") == "1":
            pytest.fail(f"LAB_REQUIRE_BROWSER=1 but {why}")
        pytest.skip(why)
    tmp, port, token = tmp_path_factory.mktemp("lab"), free_port(), secrets.token_hex(24)
    base = f"http://127.0.0.1:{port}"
    server = start_lab(tmp, port, token)
    try:
        wait_until_up(server, base, token, tmp / "jupyter.log")
        yield Lab(base, token, tmp / "runtime")
    finally:
        stop_lab(server)
        left = leftovers()
        for pid in left:   # do not leave them to the next test run, but still fail
            os.kill(pid, signal.SIGKILL)
    assert not left, f"processes left after the server stopped: {left}"


@pytest.fixture(scope="module")
def browser(lab):
    """Debian's chromium, headless, driven by Playwright."""
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                              env={**os.environ, MARK: RUN})
        try:
            yield chromium
        finally:
            chromium.close()


# ---------------------------------------------------------------- the notebook in the page

def accept_dialog(page) -> None:
    """A kernel-choice dialog (if any) gets its default answer."""
    button = page.locator(".jp-Dialog .jp-Dialog-button.jp-mod-accept")
    if button.count():
        button.last.click()


def wait_until(page, condition, seconds: float, failure: str) -> None:
    """Poll until condition() holds on two checks a second apart (the indicator reads
    'idle' for a moment before the kernel connects), answering any dialog meanwhile."""
    deadline, held = time.monotonic() + seconds, 0
    while held < 2:
        assert time.monotonic() < deadline, failure
        accept_dialog(page)
        held = held + 1 if condition() else 0
        time.sleep(1)


def kernel_status(page) -> str:
    """'idle', 'busy', … as the notebook toolbar's execution indicator shows it."""
    indicator = page.locator(".jp-NotebookPanel .jp-Notebook-ExecutionIndicator")
    return (indicator.first.get_attribute("data-status") or "") if indicator.count() else ""


def open_notebook(page, base: str, token: str, name: str) -> None:
    """Open the notebook and wait for its kernel, as the page and the server both see it."""
    # a workspace of its own, so the page does not reopen the notebooks tested before
    page.goto(f"{base}/lab/workspaces/{Path(name).stem}/tree/notebooks/{name}?token={token}",
              timeout=90_000)
    page.locator(".jp-NotebookPanel .jp-Cell").first.wait_for(timeout=90_000)

    def ready() -> bool:
        kernels = [s["kernel"]["execution_state"] for s in api(base, token, "sessions")
                   if s["path"].endswith(name)]
        return kernel_status(page) == "idle" and kernels == ["idle"]

    wait_until(page, ready, 90, "the kernel did not start")


def run_all(page) -> None:
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile("^Run$")).click()
    page.locator(".lm-Menu-item:not(.lm-mod-disabled)",
                 has_text=re.compile("^Run All Cells")).first.click()


def shown_errors(page) -> list[str]:
    """Text of every output that is an error, stderr, or a traceback printed (e.g. by a panel)."""
    return page.evaluate("""() => [...document.querySelectorAll('.jp-OutputArea-output')]
        .filter(o => o.dataset.mimeType === 'application/vnd.jupyter.stderr'
                     || /Traceback \\(most recent call last\\)/.test(o.textContent))
        .map(o => o.textContent.slice(0, 1000))""")


def finished(page, code_cells: int) -> bool:
    """Idle (no cell left scheduled, hidden ones included), every shown prompt numbered, and
    the indicator's count, shown after runs of a second or more, covering every code cell.
    Fails at once on an error, as Run All stops there."""
    errors = shown_errors(page)
    assert not errors, "a cell shows an error:\n" + "\n".join(errors)
    prompts = page.locator(".jp-CodeCell .jp-InputArea-prompt").all_text_contents()
    numbered = all(re.fullmatch(r"\[\d+\]:", prompt.strip()) for prompt in prompts)
    tooltip = page.locator(".jp-Notebook-ExecutionIndicator-tooltip")
    tip = tooltip.first.text_content() if tooltip.count() else ""
    count = re.search(r"Executed (\d+) cells?", tip)
    return (kernel_status(page) == "idle" and numbered
            and (count is None or int(count.group(1)) >= code_cells))


def try_it_panel(page):
    """The first rendered ipywidgets panel with a Run button."""
    panel = page.locator(".jp-OutputArea-output .widget-vbox").filter(
        has=page.locator("button.widget-button", has_text=re.compile(r"^\s*Run\s*$"))).first
    wait_until(page, panel.is_visible, 60, "no try-it panel (widgets with a Run button) rendered")
    return panel


def panel_output(panel) -> tuple[str | None, str]:
    """The panel's image (its data URL) and its text."""
    output = panel.locator(".widget-output")
    image = output.locator("img")
    source = image.first.get_attribute("src") if image.count() else None
    return source, output.inner_text().strip()


def run_panel(panel, before: tuple) -> tuple:
    """Press Run; wait until the status reads 'done' over an output different from before."""
    panel.locator("button.widget-button", has_text="Run").click()
    status = panel.locator(".widget-hbox .widget-label").last
    deadline = time.monotonic() + PANEL_SECONDS
    while not (status.inner_text() == "done" and panel_output(panel) != before):
        assert not status.inner_text().startswith(("failed", "not run")), status.inner_text()
        assert time.monotonic() < deadline, f"panel not done in {PANEL_SECONDS} s"
        time.sleep(0.5)
    return panel_output(panel)


def move_slider(panel, label: str) -> str:
    """One step right on the slider described by label, as a keyboard user would; its readout."""
    slider = panel.locator(".widget-slider").filter(
        has=panel.page.locator(".widget-label", has_text=re.compile(f"^{label}$"))).first
    from playwright.sync_api import expect
    readout = slider.locator(".widget-readout")
    before = readout.inner_text()
    slider.locator(".noUi-handle").first.press("ArrowRight")
    expect(readout).not_to_have_text(before)
    return readout.inner_text().strip()


def pick(panel, label: str, option: str) -> None:
    """Choose `option` in the dropdown described by label."""
    dropdown = panel.locator(".widget-dropdown").filter(
        has=panel.page.locator(".widget-label", has_text=re.compile(f"^{label}$"))).first
    dropdown.locator("select").select_option(label=option)


def screenshot(page, name: str) -> None:
    """The whole notebook in one picture: make the window as tall as the notebook first."""
    scroller = ".jp-NotebookPanel .jp-WindowedPanel-outer"
    height = page.evaluate(f"() => (document.querySelector('{scroller}') || document.body)"
                           ".scrollHeight")
    page.set_viewport_size({"width": 1400, "height": min(height + 200, 16_000)})
    page.evaluate(f"() => document.querySelectorAll('{scroller}').forEach(e => e.scrollTop = 0)")
    page.wait_for_timeout(500)   # let it lay out again
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SHOTS / f"{Path(name).stem}.png", full_page=True)


def close_without_saving(page) -> None:
    """File → Close Tab, answering "Save your work?" with Discard."""
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile("^File$")).click()
    page.locator(".lm-Menu-item", has_text=re.compile("^Close Tab")).first.click()
    page.locator(".jp-Dialog .jp-Dialog-button.jp-mod-warn", has_text="Discard").click()
    page.locator(".jp-NotebookPanel").wait_for(state="detached", timeout=30_000)


def shut_down_kernels(base: str, token: str) -> None:
    """Delete every session, which shuts its kernel down."""
    for session in api(base, token, "sessions"):
        api(base, token, f"sessions/{session['id']}", method="DELETE")


def the_kernel(base: str, token: str) -> str:
    """The id of the one kernel the server runs."""
    kernels = [s["kernel"]["id"] for s in api(base, token, "sessions")]
    assert len(kernels) == 1, kernels
    return kernels[0]


def kernel_pid(kernel_id: str) -> int:
    """The process of that kernel: the eldest of ours whose command line names it."""
    import psutil

    named = {}
    for pid in marked_pids():
        try:
            if f"kernel-{kernel_id}.json" in " ".join(psutil.Process(pid).cmdline()):
                named[pid] = psutil.Process(pid).ppid()
        except psutil.NoSuchProcess:   # a child that ended meanwhile
            continue
    # a forked child carries the kernel's command line too: the kernel is the eldest
    pids = [pid for pid, parent in named.items() if parent not in named]
    assert len(pids) == 1, f"kernel process not found among {named}"
    return pids[0]


def rerun_then_interrupt(lab: Lab, name: str) -> int:
    """Through the page's own kernel: Run All again, then an interrupt mid-run, as
    test_kernel.py checks them (the server interrupts, as the toolbar's button does).
    Returns the kernel's pid."""
    from jupyter_client import BlockingKernelClient

    kernel_id = the_kernel(lab.base, lab.token)
    pid = kernel_pid(kernel_id)
    client = BlockingKernelClient(connection_file=str(lab.runtime / f"kernel-{kernel_id}.json"))
    client.load_connection_file()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=60)
        test_kernel.rerun_then_interrupt(
            client, lambda: api(lab.base, lab.token, f"kernels/{kernel_id}/interrupt", "POST"),
            pid, name)
    finally:
        client.stop_channels()
    return pid


# ---------------------------------------------------------------- the test

def run_notebook(page, base: str, token: str, name: str) -> None:
    """Run All without an error; the panel renders; on 00 it answers a moved slider, on 07 a
    different engine."""
    open_notebook(page, base, token, name)
    code_cells = page.locator(".jp-CodeCell").count()
    run_all(page)
    wait_until(page, lambda: finished(page, code_cells), RUN_ALL_SECONDS,
               f"Run All not finished in {RUN_ALL_SECONDS} s")
    panel = try_it_panel(page)
    if name == "00_start_here.ipynb":
        first = run_panel(panel, panel_output(panel))
        workers = move_slider(panel, "workers")
        second = run_panel(panel, first)
        assert second[0] != first[0], f"the same plot at {workers} workers"
        assert second[1] != first[1], f"the same verdict at {workers} workers"
        assert shown_errors(page) == []
    if name == "07_beyond.ipynb":  # a Dask cluster started and closed from the panel's thread
        first = run_panel(panel, panel_output(panel))
        pick(panel, "engine", "lab processes")
        second = run_panel(panel, first)
        assert first[1].startswith("dask processes: started in"), first[1]
        assert second[1].startswith("lab processes: started in"), second[1]
        assert shown_errors(page) == []


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_in_the_browser(lab, browser, notebook):
    """The notebook works in JupyterLab; its kernel runs it a second time and survives an
    interrupt; it is closed unsaved, and stays stored without outputs."""
    base, token = lab.base, lab.token
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    pid = None
    try:
        try:
            run_notebook(page, base, token, notebook.name)
        finally:
            screenshot(page, notebook.name)   # on a failure too: what the page showed
        pid = rerun_then_interrupt(lab, notebook.name)
        close_without_saving(page)
    finally:
        context.close()
        shut_down_kernels(base, token)
    assert pid is None or test_kernel.no_segments_left(pid), "the kernel left shared memory"
    cells = json.loads(notebook.read_text())["cells"]
    assert not any(c.get("outputs") for c in cells), "the notebook was saved with outputs"


# ---------------------------------------------------------------- notebook 05's responsive panel

CASE_STUDIES = "05_case_studies.ipynb"
STATE_SECONDS = 60   # for the panel to reach a state it is waiting for, on a loaded machine


def poll(condition, seconds: float, failure) -> object:
    """condition()'s first truthy value, checked every 0.1 s for up to `seconds`."""
    deadline = time.monotonic() + seconds
    while not (value := condition()):
        assert time.monotonic() < deadline, failure() if callable(failure) else failure
        time.sleep(0.1)
    return value


def run_cells(page, *texts: str) -> None:
    """Run only the code cells containing these texts, one after another (Ctrl+Enter)."""
    for text in texts:
        cell = page.locator(".jp-NotebookPanel .jp-CodeCell").filter(has_text=text).first
        prompt = cell.locator(".jp-InputArea-prompt")
        prompt.click()   # selects the cell, in command mode
        page.keyboard.press("Control+Enter")
        poll(lambda: re.fullmatch(r"\[\d+\]:", prompt.inner_text().strip())
             and kernel_status(page) == "idle", RUN_ALL_SECONDS, f"the cell with {text!r} did not run")
        assert shown_errors(page) == [], shown_errors(page)


class ResponsiveView:
    """The parts of panels.responsive_panel() as the page shows them."""

    def __init__(self, page):
        self.page = page
        self.panel = page.locator(".jp-OutputArea-output .widget-vbox").filter(
            has=page.locator("button.widget-button", has_text="Start")).first
        self.panel.wait_for(timeout=60_000)
        self.mode = self.panel.locator(".widget-dropdown select")
        self.start = self.panel.locator("button.widget-button", has_text="Start")
        self.cancel = self.panel.locator("button.widget-button", has_text="Cancel")
        self.heard = self.panel.locator(".widget-hbox:has(.widget-slider) > .widget-label")
        self.status_label = self.panel.locator(":scope > .widget-label")
        self.bar = self.panel.locator(".widget-hprogress .progress-bar")

    def status(self) -> str:
        return self.status_label.inner_text().strip()

    def progress(self) -> float:
        """How full the bar is, in per cent."""
        return self.bar.evaluate("bar => parseFloat(bar.style.width) || 0")

    def choose(self, mode: str) -> None:
        """Pick the mode (sent to the kernel before a later click on Start, in order)."""
        poll(self.mode.is_enabled, STATE_SECONDS, "the mode picker stayed disabled")
        self.mode.select_option(label=mode)

    def begin(self, mode: str) -> None:
        self.choose(mode)
        self.start.click()
        poll(lambda: self.status().startswith("computing"), STATE_SECONDS,
             lambda: f"{mode}: the panel did not start computing; status {self.status()!r}")

    def move_slider(self) -> str:
        """One step right on "try me"; the value the kernel should now hear."""
        return move_slider(self.panel, "try me")

    def shot(self, name: str) -> None:
        SHOTS.mkdir(exist_ok=True)
        self.panel.scroll_into_view_if_needed()
        self.panel.screenshot(path=SHOTS / f"05_responsive_{name}.png")


def kernel_children(base: str, token: str) -> list:
    """Live child processes of the (one) kernel, multiprocessing's own servers excepted."""
    from helpers.core import runner

    return runner.worker_processes(kernel_pid(the_kernel(base, token)))


def check_background_thread(view: ResponsiveView) -> None:
    """The kernel hears the slider while a lab- thread computes; Cancel stops it."""
    view.begin("background thread")
    poll(lambda: view.progress() > 0, STATE_SECONDS, "background thread: the bar did not move")
    value = view.move_slider()
    poll(lambda: f"heard {value} " in view.heard.inner_text(), STATE_SECONDS,
         lambda: f"background thread: the kernel did not hear {value}: {view.heard.inner_text()!r}")
    progress, status = view.progress(), view.status()
    assert 0 < progress < 100 and status.startswith("computing"), \
        f"heard only after the computation: bar {progress}%, status {status!r}"
    view.cancel.click()
    poll(lambda: view.status().startswith("cancelled"), 10,
         lambda: f"background thread: not cancelled in 10 s; status {view.status()!r}")
    assert view.progress() < 100
    poll(view.start.is_enabled, 10, "Start not enabled again after the cancel")


def check_process(view: ResponsiveView, base: str, token: str) -> None:
    """A child computes (the bar moves); Cancel terminates it and leaves no child behind."""
    view.begin("process")
    first = poll(view.progress, STATE_SECONDS, "process: the bar did not move")
    poll(lambda: view.progress() > first, STATE_SECONDS, "process: the bar stopped moving")
    assert kernel_children(base, token), "process mode, yet the kernel has no child process"
    view.cancel.click()
    poll(lambda: view.status().startswith("cancelled"), 10,
         lambda: f"process: not cancelled in 10 s; status {view.status()!r}")
    assert "terminated" in view.status(), view.status()
    poll(lambda: not kernel_children(base, token), 10,
         lambda: f"children of the kernel left after the cancel: {kernel_children(base, token)}")


def check_main_thread(view: ResponsiveView) -> None:
    """While the main thread computes the kernel hears nothing; afterwards it catches up."""
    view.begin("main thread")
    before = view.heard.inner_text()
    value = view.move_slider()
    assert view.status().startswith("computing"), "main thread: done before the slider moved"
    deadline = time.monotonic() + STATE_SECONDS
    while True:
        heard = view.heard.inner_text()   # read before the status: the kernel sends it after
        status, progress = view.status(), view.progress()
        if status.startswith("done"):
            break
        assert time.monotonic() < deadline, f"main thread: not done in {STATE_SECONDS} s"
        assert status.startswith("computing"), status
        assert heard == before, f"main thread: heard {heard!r} while still computing"
        # the kernel fills the bar at the end, just before it says done: nothing in between
        assert progress in (0, 100), f"main thread: the bar moved to {progress}% while computing"
        time.sleep(0.1)
    poll(lambda: f"heard {value} " in view.heard.inner_text(), 10,
         lambda: f"main thread: never caught up with {value}: {view.heard.inner_text()!r}")
    assert view.progress() == 100


def test_responsive_panel_in_the_browser(lab, browser):
    """Notebook 05's responsive panel, only its imports and panel cells run: the slider is heard
    beside a thread or a process, not beside the main thread; Cancel stops thread and process."""
    base, token = lab.base, lab.token
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    try:
        try:
            open_notebook(page, base, token, CASE_STUDIES)
            run_cells(page, "from helpers.core import", "panels.responsive_panel(")
            view = ResponsiveView(page)
            check_background_thread(view)
            view.shot("1_background_thread")
            check_process(view, base, token)
            view.shot("2_process")
            check_main_thread(view)
            view.shot("3_main_thread")
            assert shown_errors(page) == []
        finally:
            screenshot(page, "05_responsive.ipynb")   # on a failure too: what the page showed
        close_without_saving(page)
    finally:
        context.close()
        shut_down_kernels(base, token)
    cells = json.loads((ROOT / "notebooks" / CASE_STUDIES).read_text())["cells"]
    assert not any(c.get("outputs") for c in cells), "the notebook was saved with outputs"
