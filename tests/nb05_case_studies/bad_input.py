"""Bad input to notebook 05's case studies and panels (most cases sit beside each study's tests)."""
from refusals import HUGE, WORKERS, panel_cases

from helpers.nb05_case_studies import panels

from . import test_images, test_records, test_responsive, test_serving

image_panel = panels.image_panel

CASES = [
    *panel_cases("images", image_panel, "size", (0, HUGE), "image size"),
    *panel_cases("images", image_panel, "workers", (0, HUGE), WORKERS),
    *test_images.BAD_INPUT_CASES,
    *test_serving.BAD_INPUT_CASES,
    *test_responsive.BAD_INPUT_CASES,
    *test_records.BAD_INPUT_CASES,
]
