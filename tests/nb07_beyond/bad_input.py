"""Bad input to notebook 07's engines (the cases sit beside its tests)."""
from . import test_beyond

CASES = [
    *test_beyond.BAD_INPUT_CASES,
]
