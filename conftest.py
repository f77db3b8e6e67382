"""How pytest runs the notebooks (nbval): on one test worker each, and never writing to stderr.

This file sits at the top so that it covers notebooks/ as well as tests/; the fixtures of the
unit tests are in tests/conftest.py."""
import pytest


def pytest_xdist_make_scheduler(config, log):
    """Under pytest-xdist (`make test` runs three workers), a notebook's cells share one kernel,
    so a notebook is one unit of work, run in order on one worker; any other test is a unit of
    its own. (xdist's `loadgroup` would do this, but its groups are lost on pytest 9.2:
    pytest-dev/pytest-xdist#1386.)"""
    from xdist.scheduler import LoadScopeScheduling

    class NotebookScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            return path if path.endswith(".ipynb") else nodeid

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
