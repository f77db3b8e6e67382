"""Bad input to notebook 06's summary, advisor and asyncio comparison (most cases sit beside their tests)."""
from refusals import KINDS, panel_cases

from helpers.nb06_choosing import panels

from . import test_advisor, test_aio, test_summary

advisor_panel = panels.advisor_panel

CASES = [
    *panel_cases("advisor", advisor_panel, "units", (0, -1), "units must be > 0"),
    *panel_cases("advisor", advisor_panel, "kind", ("gpu",), KINDS),
    *test_summary.BAD_INPUT_CASES,
    *test_advisor.BAD_INPUT_CASES,
    *test_aio.BAD_INPUT_CASES,
]
