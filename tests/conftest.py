"""Shared fixtures: every experiment must leave the interpreter as it found it."""
import sys

import pytest

from helpers import runner


@pytest.fixture
def no_leftovers():
    """After the test: the switch interval restored, no child process, no lab thread alive."""
    interval = sys.getswitchinterval()
    yield
    assert sys.getswitchinterval() == interval
    assert runner.worker_processes() == []
    assert runner.lab_threads() == []
