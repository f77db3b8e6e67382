"""The read-only course that `make site` builds in _site/ (site/build.py), checked page by page.

`make site` runs these right after building. They need a built site no older than the notebooks:
without one (as in `make test`, which does not build it) they are skipped, so they add nothing to
`make test`'s time."""
import functools
import json
import re
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "_site"
NOTEBOOKS = sorted((ROOT / "notebooks").glob("0*.ipynb"))
PANEL_CALL = re.compile(r"\bpanels\.\w+_panel\(")   # a cell that builds a try-it panel
FIGURE_CALL = re.compile(r"\bfigures\.\w+\(")        # a cell that draws with its package's figures
PNG = re.compile(r"^data:image/png;base64,")


def site_is_current() -> bool:
    """A site built after the last change to any notebook (an older one cannot be judged)."""
    index = SITE / "index.html"
    return index.exists() and all(index.stat().st_mtime >= path.stat().st_mtime for path in NOTEBOOKS)


pytestmark = pytest.mark.skipif(not site_is_current(),
                                reason="no _site/ built from the current notebooks: `make site` builds it, then runs these")


def code_cells(path: Path) -> list[dict]:
    return [c for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]


def sources(path: Path, pattern: re.Pattern) -> list[str]:
    return [src for c in code_cells(path) if pattern.search(src := "".join(c["source"]))]


@functools.cache
def page(path: Path) -> BeautifulSoup:
    html = SITE / path.with_suffix(".html").name
    assert html.exists(), f"no page {html.name} for {path.name}: run `make site`"
    return BeautifulSoup(html.read_text(), "html.parser")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_each_notebook_has_a_page_with_its_figures(path):
    figures = page(path).find_all("img", src=PNG)
    drawing = [src for src in sources(path, FIGURE_CALL) if not PANEL_CALL.search(src)]
    if drawing:
        assert figures, f"{path.name} draws figures ({len(drawing)} cells), but its page has no PNG image"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_page_shows_an_error_or_stderr(path):
    # The lab template renders both a stderr stream and an error (ename, traceback) with this type.
    shown = page(path).find_all(attrs={"data-mime-type": "application/vnd.jupyter.stderr"})
    assert not shown, f"{path.name}'s page shows stderr or an error: {shown[0].get_text()[:500]}"
    assert "Traceback (most recent call last)" not in page(path).get_text()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_each_page_says_where_and_when_it_ran(path):
    banner = page(path).find(class_="course-banner")
    assert banner, f"{path.name}'s page has no banner"
    text = " ".join(banner.get_text().split())
    assert re.search(r"Run on \d{4}-\d\d-\d\d: \d+ usable CPUs? \(of \d+ logical\), \w+ 3\.\d+\.\d+\S*, "
                     r"start method (fork|forkserver|spawn);", text), text


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_hidden_solutions_are_collapsed(path):
    hidden = [c for c in code_cells(path) if "hide-cell" in c.get("metadata", {}).get("tags", [])]
    collapsed = page(path).find_all("details", class_="course-solution")
    assert len(collapsed) == len(hidden), f"{len(hidden)} solutions, {len(collapsed)} collapsed"
    assert not any(d.has_attr("open") for d in collapsed), "a solution is shown open"
    assert all(d.find(class_="jp-CodeCell") for d in collapsed), "a <details> holds no code cell"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_each_try_it_panel_says_it_needs_a_live_kernel(path):
    notes = page(path).find_all(class_="course-live-note")
    assert len(notes) == len(sources(path, PANEL_CALL)), f"{path.name}: one note per try-it panel"
    for note in notes:
        assert note.find("a", href=re.compile(rf"^https://mybinder\.org/.*notebooks/{path.name}$")), note


def test_the_index_links_every_page():
    index = BeautifulSoup((SITE / "index.html").read_text(), "html.parser")
    linked = {a["href"] for a in index.find_all("a", href=True)}
    missing = [p.name for p in NOTEBOOKS if p.with_suffix(".html").name not in linked]
    assert not missing, f"index.html does not link {missing}"
