"""Bad input, everywhere (issue 8, item 5): the one test that runs every package's cases.

Every public experiment, runner entry point and widget rejects a bad value — zero, negative or
huge counts, a wrong type (2.5, True), an unknown kind, backend, start method or channel, a payload
beyond memory or /dev/shm — with a ValueError whose message names what is allowed, and it does so
before any real work starts, so every case here is quick. A panel never raises in its thread: it
shows "not run: <the message>" and keeps the error in `last_error`.

Exercise checkers (check_*) are left out on purpose: a wrong answer there is a learner's attempt,
answered with "Not yet: …", not bad input.

The cases live beside each package's tests, in `tests/<package>/bad_input.py` (`CASES`); the
shared bad values and messages are in `tests/refusals.py`. This file collects them all.
"""
import importlib
from pathlib import Path

import pytest

PACKAGES = sorted(path.parent.name for path in Path(__file__).parent.glob("*/bad_input.py"))
CASES = [case for package in PACKAGES
         for case in importlib.import_module(f"{package}.bad_input").CASES]


def test_every_package_has_bad_input_cases():
    assert PACKAGES == sorted(path.name for path in (Path(__file__).parents[1] / "helpers").iterdir()
                              if path.is_dir() and (path / "__init__.py").exists())


@pytest.mark.parametrize("call, allowed", CASES)
def test_bad_input_names_what_is_allowed(call, allowed, no_leftovers):
    with pytest.raises(ValueError, match=allowed):
        call()
