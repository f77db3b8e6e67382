"""Shared fixtures: every experiment must leave the interpreter as it found it."""
import os
import sys
import time

import pytest

from helpers.core import runner


@pytest.fixture
def no_leftovers():
    """After the test: the switch interval restored, no child process, no lab thread alive."""
    interval = sys.getswitchinterval()
    yield
    assert sys.getswitchinterval() == interval
    assert runner.worker_processes() == []
    assert runner.lab_threads() == []


def _named_semaphores() -> set[str]:
    return {n for n in os.listdir("/dev/shm") if n.startswith("sem.")} if os.path.isdir("/dev/shm") else set()


def pytest_sessionstart(session):
    session.config.semaphores_before = _named_semaphores()


def pytest_sessionfinish(session):
    """Named semaphores cannot be traced to the kernel that made them, so they are checked
    once, when every test (on every worker) has finished: nothing new may be left."""
    if hasattr(session.config, "workerinput"):   # a pytest-xdist worker: the controller checks
        return
    deadline = time.monotonic() + 10
    while (left := _named_semaphores() - session.config.semaphores_before) and time.monotonic() < deadline:
        time.sleep(0.2)
    if left and os.environ.get("LAB_SEMAPHORES_LEFT") == "warn":   # see the Makefile's binder
        print(f"\nWARNING: named semaphores left in /dev/shm by the tests: {sorted(left)}")
    elif left:
        print(f"\nFAILED: named semaphores left in /dev/shm by the tests: {sorted(left)}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
