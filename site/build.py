"""The read-only course: every notebook run afresh, then exported as a static HTML page.

    python site/build.py        (or `make site`, which then checks the result with tests/test_site.py)

writes _site/: index.html, one page per notebook (00_start_here.html, ...) and, in
_site/notebooks/, the executed notebooks the pages were made from.

Each notebook runs top to bottom in a fresh kernel started in notebooks/ (benchmarks/pacing.py's
`run_all`, which also times the notebooks' minutes), so every figure and sentence on a page is what
this machine produced at build time; a banner on each page says which machine and when.
nbconvert's `lab` template renders the pages, with these changes (templates/course/ and the
preprocessors below): hidden solutions (tagged `hide-cell`) collapse into <details>, each try-it
panel says it needs a live kernel and links to Binder, and links to other notebooks point at
their pages.
"""
from __future__ import annotations

import importlib.util
import re
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import jinja2
import nbformat
from nbconvert import HTMLExporter
from nbconvert.filters import markdown2html_mistune
from nbconvert.preprocessors import Preprocessor

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # for helpers/, as each notebook's first cell does
from helpers.core import machine  # noqa: E402  (needs the line above)

OUT = ROOT / "_site"
TEMPLATES = Path(__file__).resolve().parent / "templates"
# A try-it panel is a cell that builds one: `panels.compare_panel()`, `panels.responsive_panel(...)`.
PANEL_CALL = re.compile(r"\bpanels\.\w+_panel\(")
# The README's Binder badge: https://mybinder.org/v2/gh/OWNER/REPO/REF?urlpath=...
BINDER_BADGE = re.compile(r"\((https://mybinder\.org/v2/gh/([\w.-]+)/([\w.-]+)/[\w.-]+)\?urlpath=[^)\s]*\)")
NOTEBOOK_LINK = re.compile(r"\]\((\d\d_\w+)\.ipynb")  # ](01_gil.ipynb or ](01_gil.ipynb#Section
REPOSITORY_LINK = re.compile(r"\]\(\.\./")           # ](../README.md#pacing: a file outside notebooks/


def load_pacing() -> ModuleType:
    """benchmarks/pacing.py (not a package), whose `run_all` executes a notebook as the lab does."""
    spec = importlib.util.spec_from_file_location("pacing", ROOT / "benchmarks" / "pacing.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


pacing = load_pacing()


@dataclass(frozen=True)
class Links:
    """Where a reader can run the course: Binder, and the repository it is built from."""

    binder: str       # https://mybinder.org/v2/gh/OWNER/REPO/REF, without ?urlpath
    repository: str   # https://github.com/OWNER/REPO

    def binder_for(self, notebook: str) -> str:
        """The Binder link that opens this notebook in JupyterLab."""
        return f"{self.binder}?urlpath=lab/tree/notebooks/{notebook}"


def links_from_readme(readme: Path = ROOT / "README.md") -> Links:
    """The Binder badge's link, read from the README so that the site follows it."""
    found = BINDER_BADGE.search(readme.read_text())
    if not found:
        raise ValueError(f"{readme} has no Binder badge link of the form "
                         "(https://mybinder.org/v2/gh/OWNER/REPO/REF?urlpath=...): the site needs it "
                         "to send readers of a try-it panel to a live kernel")
    binder, owner, repo = found.groups()
    return Links(binder=binder, repository=f"https://github.com/{owner}/{repo}")


@dataclass(frozen=True)
class Run:
    """Where and when one notebook ran, as its page's banner says."""

    date: str
    seconds: float
    usable_cpus: int
    logical_cpus: int
    python: str
    start_method: str

    def banner(self) -> str:
        return (f"Run on {self.date}: {self.usable_cpus} usable CPU{'s' if self.usable_cpus != 1 else ''} "
                f"(of {self.logical_cpus} logical), {self.python}, start method {self.start_method}; "
                f"Run All took {self.seconds:.0f} s.")


def run(path: Path, executed: Path) -> tuple[nbformat.NotebookNode, Run]:
    """Execute a notebook in a fresh kernel (saved in `executed/`) and note the machine it ran on.
    The kernel inherits this process's CPUs and environment (LAB_START_METHOD), so `describe()`
    here sees what the kernel saw."""
    here, date = machine.describe(), time.strftime("%Y-%m-%d")
    seconds = pacing.run_all(path, keep=executed)
    facts = Run(date=date, seconds=seconds, usable_cpus=here.usable_cpus.value,
                logical_cpus=here.logical_cpus.value, python=here.python.value,
                start_method=here.lab_start_method.value)
    return nbformat.read(executed / path.name, as_version=4), facts


class LiveKernelNote(Preprocessor):
    """Before a try-it panel's output, a line saying that the panel needs a live kernel: a static
    page shows the controls (when it can load the widget library from unpkg.com), but pressing
    them runs nothing."""

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "code" and PANEL_CALL.search(cell.source):
            binder = resources["course"]["binder"]
            note = (f'<p class="course-live-note">This try-it panel needs a live kernel: nothing runs on '
                    f'this page. <a href="{binder}">Open this notebook on Binder</a> (or run '
                    f'<code>make lab</code>) to use it.</p>')
            text = f"This try-it panel needs a live kernel: open this notebook on Binder ({binder}) or run `make lab`."
            cell.outputs.insert(0, nbformat.v4.new_output("display_data", data={"text/html": note, "text/plain": text}))
        return cell, resources


def static_links(markdown: str, repository: str) -> str:
    """Markdown links made to work on the site: another notebook's link goes to its page, a link
    to a file of the repository (../README.md) to that file on GitHub."""
    markdown = NOTEBOOK_LINK.sub(r"](\1.html", markdown)
    return REPOSITORY_LINK.sub(f"]({repository}/blob/HEAD/", markdown)


class StaticLinks(Preprocessor):
    """`static_links` in every Markdown cell."""

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "markdown":
            cell.source = static_links(cell.source, resources["course"]["repository"])
        return cell, resources


def page(notebook: nbformat.NotebookNode, name: str, facts: Run, links: Links) -> str:
    """The HTML page of an executed notebook: the lab template, collapsed solutions, a banner."""
    exporter = HTMLExporter(template_name="course", extra_template_basedirs=[str(TEMPLATES)])
    exporter.register_preprocessor(LiveKernelNote, enabled=True)
    exporter.register_preprocessor(StaticLinks, enabled=True)
    course = {"banner": facts.banner(), "binder": links.binder_for(name), "repository": links.repository,
              "executed": f"notebooks/{name}"}
    body, _ = exporter.from_notebook_node(notebook, resources={"course": course})
    return body


@dataclass(frozen=True)
class Entry:
    """One notebook as the index lists it."""

    page: str
    title: str
    summary_html: str
    banner: str


def entry(notebook: nbformat.NotebookNode, name: str, facts: Run, links: Links) -> Entry:
    """Title and opening paragraph of a notebook, from its first cell (`# title`, minutes, intro)."""
    heading, *rest = notebook.cells[0].source.split("\n\n")
    intro = next((part for part in rest if not part.startswith("*About")), "")
    return Entry(page=Path(name).with_suffix(".html").name, title=heading.lstrip("# ").strip(),
                 summary_html=markdown2html_mistune(static_links(intro, links.repository)),
                 banner=facts.banner())


def write_index(entries: list[Entry], links: Links) -> None:
    environment = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True)
    html = environment.get_template("index.html.j2").render(
        entries=entries, binder=links.binder_for(pacing.NOTEBOOKS[0].name), repository=links.repository)
    (OUT / "index.html").write_text(html)


def main() -> int:
    links = links_from_readme()
    shutil.rmtree(OUT, ignore_errors=True)  # no page of a notebook that is gone
    executed = OUT / "notebooks"
    executed.mkdir(parents=True)
    entries = []
    for path in pacing.NOTEBOOKS:
        notebook, facts = run(path, executed)
        (OUT / path.with_suffix(".html").name).write_text(page(notebook, path.name, facts, links))
        entries.append(entry(notebook, path.name, facts, links))
        print(f"{path.name}: {facts.banner()}", flush=True)
    write_index(entries, links)
    print(f"site written to {OUT.relative_to(ROOT)}/index.html")
    return 0


if __name__ == "__main__":
    sys.exit(main())
