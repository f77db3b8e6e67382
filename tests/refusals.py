"""What every bad-input case is made of: the usual bad values, the messages that name what is
allowed, and the two ways a case fails (a call raises; a panel reports "not run: …")."""
import math

import ipywidgets as w
import pytest

HUGE = 10**9
BEYOND_MEMORY = 10**18  # bytes: more than any machine's memory or /dev/shm
BAD_COUNTS = (0, -1, HUGE, 2.5, True)  # zero, negative, huge, and two wrong types
WORKERS = "from 1 to"  # runner.check_workers: "workers for <backend> must be an integer from 1 to N"
KINDS = "allowed: cpu, gil_free, io"
BACKENDS = "allowed: sequential, threads, processes"
START_METHODS = "unknown start method 'teleport'; allowed: .*spawn"


def each(label: str, values, call, allowed: str) -> list:
    """One case per bad value: call(value) must raise a ValueError matching `allowed`."""
    return [pytest.param(lambda value=value: call(value), allowed, id=f"{label}={value!r}")
            for value in values]


def enter(manager) -> None:
    """Enter and leave a context manager: the check must fire on entering."""
    with manager:
        pass


def force(control: w.ValueWidget, value) -> None:
    """Give a control a value its own limits would refuse (as an edited or stale widget could)."""
    if isinstance(control, w.Dropdown):
        control.options = [(repr(value), value)]
    elif isinstance(control, w.FloatLogSlider):
        exponent = math.log(value, control.base)
        control.min, control.max = min(control.min, math.floor(exponent)), max(control.max, math.ceil(exponent))
    else:
        control.min, control.max = min(control.min, value), max(control.max, value)
    control.value = value


def panel_run(make, name: str, value):
    """Run a panel with one control forced to `value`; re-raise the error it reported."""
    def call():
        panel = make()
        force(panel.controls[name], value)
        panel.start()  # must not raise here: the experiment runs in the panel's thread
        panel.wait(60)
        assert not panel.running, "the experiment was still running: it did not reject its input"
        assert isinstance(panel.last_error, ValueError), panel.status.value
        assert panel.status.value == f"not run: {panel.last_error}"
        raise panel.last_error
    return call


def panel_cases(label: str, make, name: str, values, allowed: str) -> list:
    return [pytest.param(panel_run(make, name, value), allowed, id=f"{label} panel {name}={value!r}")
            for value in values]
