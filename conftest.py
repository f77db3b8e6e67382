"""How pytest runs the notebooks (nbval): on one test worker each, and never writing to stderr.

This file sits at the top so that it covers notebooks/ as well as tests/; the fixtures of the
unit tests are in tests/conftest.py."""
import pytest


BROWSER_TESTS = "tests/test_browser.py"
BROWSER_SHARES = 2  # workers that share the browser tests; the rest take notebooks and unit tests


def pytest_configure(config):
    """nbval stops each notebook's kernel with `shutdown_kernel(now=True)`, which kills the
    kernel's process group, its resource tracker with it: a named semaphore still held in the
    notebook (by a Queue, a Value, a Barrier or a pool) is then left in /dev/shm for ever.
    JupyterLab asks a kernel to shut down, and so do the tests; jupyter_client kills it only if it
    does not exit within its shutdown wait."""
    try:
        from nbval.kernel import RunningKernel
    except ImportError:
        return

    def stop_as_jupyterlab_does(self):
        self.kc.stop_channels()
        self.km.shutdown_kernel(now=False)
        del self.km

    RunningKernel.stop = stop_as_jupyterlab_does


def pytest_xdist_make_scheduler(config, log):
    """Under pytest-xdist (`make test` runs three workers), a notebook's cells share one kernel,
    so a notebook is one unit of work, run in order on one worker. The browser tests, the
    longest, are dealt into two units, so each of two workers runs its share back to back in
    one JupyterLab and one Chromium (a unit test in between would stop and restart both).
    Any other test is a unit of its own. (xdist's `loadgroup` would group the notebooks, but
    its groups are lost on pytest 9.2: pytest-dev/pytest-xdist#1386.)"""
    from xdist.scheduler import LoadScopeScheduling

    class NotebookScheduling(LoadScopeScheduling):
        def __init__(self, config, log=None):
            super().__init__(config, log)
            self.browser_share = {}   # nodeid -> its share, dealt in collection order

        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            if path.endswith(".ipynb"):
                return path
            if path == BROWSER_TESTS:
                share = self.browser_share.setdefault(nodeid, len(self.browser_share) % BROWSER_SHARES)
                return f"{path}::share-{share}"
            return nodeid

    return NotebookScheduling(config, log)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """A notebook cell fails if it writes to stderr: a warning or a traceback printed by a
    helper is what a learner would see. (nbval compares no output of a notebook stored without
    outputs, even with --nbval-lax, so it would let them pass.)"""
    result = yield
    streams = getattr(item, "test_outputs", None) or []
    stderr = "".join(out.get("text", "") for out in streams
                     if out.get("output_type") == "stream" and out.get("name") == "stderr")
    if stderr:
        pytest.fail(f"the cell wrote to stderr:\n{stderr}", pytrace=False)
    return result


def pytest_collection_modifyitems(items):
    """The longest work first, so that it starts first on the workers: the browser tests, then
    the notebooks, then the unit tests (a stable sort: each keeps its own order)."""
    def rank(item) -> int:
        path = item.nodeid.split("::", 1)[0]
        return 0 if path == BROWSER_TESTS else 1 if path.endswith(".ipynb") else 2
    items.sort(key=rank)
