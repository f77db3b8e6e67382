"""The repository's own promises: clean notebooks, matching Binder requirements, notebook shape."""
import ast
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def requirement_lines(path):
    return [line for line in path.read_text().splitlines() if line and not line.startswith("#")]


def test_there_is_a_notebook_to_start_from():
    assert NOTEBOOKS and NOTEBOOKS[0].name == "00_start_here.ipynb"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebooks_are_stored_without_outputs(path):
    cells = json.loads(path.read_text())["cells"]
    dirty = [i for i, c in enumerate(cells) if c["cell_type"] == "code" and (c["outputs"] or c["execution_count"])]
    assert not dirty, f"{path.name}: cells {dirty} have outputs; clear them before committing"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebooks_follow_the_series_shape(path):
    cells = json.loads(path.read_text())["cells"]
    text = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    for heading in ("What you will learn", "Try it yourself", "Exercises", "Key takeaways", "Next"):
        assert heading.lower() in text.lower(), f"{path.name} lacks '{heading}'"
    hidden = [c for c in cells if c.get("metadata", {}).get("jupyter", {}).get("source_hidden")]
    assert hidden, f"{path.name}: exercise solutions must be hidden cells"


def test_binder_installs_the_same_requirements():
    assert requirement_lines(ROOT / "binder" / "requirements.txt") == requirement_lines(ROOT / "requirements.txt")
    assert (ROOT / "binder" / "runtime.txt").read_text().strip().startswith("python-3.")


# --- the layout: a core engine, and one package per notebook (README, "Layout") ----------------

HELPERS = ROOT / "helpers"


def helper_modules():
    """(dotted name, path) of every module under helpers/."""
    for path in sorted(HELPERS.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        yield ".".join(parts[:-1] if parts[-1] == "__init__" else parts), path


def imports_of(path: Path, module: str):
    """(imported module, imported name or None, line) for every import in a file, made absolute."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, None, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            for alias in node.names:
                yield base, alias.name, node.lineno


def part_of(module: str) -> str:
    """'core' or the notebook package ('nb03_sharing_data') a helpers module belongs to."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def helper_imports():
    """(importer, imported module, name, line) for imports between helpers modules.

    `from helpers.x import y` where y is a module counts as importing helpers.x.y."""
    known = {name for name, _ in helper_modules()}
    for module, path in helper_modules():
        for target, name, line in imports_of(path, module):
            if not target.startswith("helpers"):
                continue
            if name and f"{target}.{name}" in known:
                target, name = f"{target}.{name}", None
            yield module, target, name, line


def test_core_imports_no_notebook_package():
    wrong = [f"{m}:{line} imports {t}" for m, t, _, line in helper_imports()
             if part_of(m) == "core" and part_of(t) != "core"]
    assert not wrong, wrong


def test_a_notebook_package_imports_only_core_itself_and_earlier_notebooks():
    wrong = [f"{m}:{line} imports {t}" for m, t, _, line in helper_imports()
             if part_of(m).startswith("nb") and part_of(t).startswith("nb") and part_of(t) > part_of(m)]
    assert not wrong, wrong


def test_no_module_uses_another_modules_private_names():
    wrong = [f"{m}:{line} imports {t}.{name}" for m, t, name, line in helper_imports()
             if name and name.startswith("_") and name != "__future__" and t != m]
    known = {name for name, _ in helper_modules()}
    for module, path in helper_modules():
        tree = ast.parse(path.read_text())
        aliases = {}  # local name -> helpers module it stands for
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                for target, name, _ in imports_of(path, module):
                    for alias in node.names:
                        if alias.name == name and f"{target}.{name}" in known:
                            aliases[alias.asname or name] = f"{target}.{name}"
        wrong += [f"{module}:{node.lineno} uses {node.value.id}.{node.attr}" for node in ast.walk(tree)
                  if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                  and aliases.get(node.value.id, module) != module
                  and node.attr.startswith("_") and not node.attr.startswith("__")]
    assert not wrong, wrong


def notebook_imports(path: Path) -> set[str]:
    """The helpers packages a notebook's code cells import from."""
    cells = json.loads(path.read_text())["cells"]
    code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    return {m.split(".")[1] for m in re.findall(r"^\s*(?:from|import) (helpers\.[\w.]+)", code, re.M)} | \
        ({"(helpers itself)"} if re.search(r"^\s*(?:from helpers import|import helpers\s*$)", code, re.M) else set())


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_each_notebook_imports_only_core_and_its_own_package(path):
    own = next(p.name for p in HELPERS.glob(f"nb{path.name[:2]}_*"))
    assert own == f"nb{path.stem}", "the package is named after its notebook"
    assert notebook_imports(path) <= {"core", own}, notebook_imports(path)


def test_importing_the_engine_imports_no_notebook_package():
    code = ("import sys, helpers.core.runner, helpers.core.style, helpers.core.panel;"
            "print(sorted(m for m in sys.modules if m.startswith('helpers.nb')))")
    loaded = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == "[]"


def test_a_spawned_child_imports_nothing_heavy():
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from helpers.core.children import trivial

    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        assert pool.submit(trivial.noop).result() is None
        loaded = pool.submit(trivial.loaded_modules).result()
    heavy = [m for m in loaded if m.split(".")[0] in ("numpy", "matplotlib", "ipywidgets", "psutil", "IPython")]
    assert "helpers.core.children.trivial" in loaded
    assert not heavy, heavy


# --- the glossary (notebook 00) -------------------------------------------------------------------

GLOSSARY_TERMS = ("GIL", "Bytecode", "Switch interval", "Start method", "fork", "forkserver", "spawn",
                  "Pickle", "IPC", "Executor, pool", "Future", "Chunksize", "USS, RSS, PSS",
                  "Copy-on-write", "Race condition", "Lock", "Deadlock", "Speedup, efficiency",
                  "Amdahl's law")


def glossary() -> str:
    cells = json.loads((ROOT / "notebooks" / "00_start_here.ipynb").read_text())["cells"]
    return next("".join(c["source"]) for c in cells
                if c["cell_type"] == "markdown" and "".join(c["source"]).startswith("## Glossary"))


def test_the_glossary_defines_every_word_the_series_relies_on():
    text = glossary()
    missing = [term for term in GLOSSARY_TERMS if f"**{term}" not in text and f"*{term}*" not in text]
    assert not missing, missing


@pytest.mark.parametrize("path", NOTEBOOKS[1:], ids=lambda p: p.name)
def test_each_notebook_links_to_the_glossary(path):
    title = "".join(json.loads(path.read_text())["cells"][0]["source"])
    assert "(00_start_here.ipynb#Glossary)" in title


def test_the_pitfalls_box_names_each_multiprocessing_pitfall_and_where_it_was_shown():
    cells = json.loads((ROOT / "notebooks" / "06_choosing.ipynb").read_text())["cells"]
    box = next("".join(c["source"]) for c in cells
               if "".join(c["source"]).startswith("### Is multiprocessing code straightforward?"))
    for pitfall in ("`__main__` guard", "functions defined in cells", "`BrokenProcessPool`",
                    "`terminate()`", "`SharedMemory`", "`queue.empty()`"):
        row = next((line for line in box.splitlines() if pitfall in line), "")
        assert ".ipynb" in row or "](#" in row, f"no link for {pitfall}"


# A listing may import the standard library, and the libraries a section is about.
# (my_*.py are modules a notebook writes with %%writefile, so that a child process can import
# a function the learner can read and change.)
LISTING_LIBRARIES = set(sys.stdlib_module_names) | {"numpy", "psutil", "dask", "joblib"}


def is_listing(source: str) -> bool:
    """A listing times plain code with time.perf_counter() and calls no helper of the lab."""
    return "perf_counter()" in source and "helpers" not in source


def sections(path: Path) -> dict[str, list[dict]]:
    """The cells of each numbered section ("## ..."), by heading."""
    found, current = {}, None
    for cell in json.loads(path.read_text())["cells"]:
        source = "".join(cell["source"])
        if cell["cell_type"] == "markdown" and source.startswith("## "):
            current = found.setdefault(source.splitlines()[0], [])
        if current is not None:
            current.append(cell)
    return found


def helper_names(path: Path) -> set[str]:
    """The names a notebook imports from helpers (gil, panel, figures, ...)."""
    cells = json.loads(path.read_text())["cells"]
    lines = [line for c in cells if c["cell_type"] == "code"
             for line in "".join(c["source"]).splitlines() if line.startswith("from helpers")]
    tree = ast.parse("\n".join(lines))
    return {alias.asname or alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
            and (node.module or "").startswith("helpers") for alias in node.names}


def predict_sections(path: Path):
    """Each section that asks for a prediction, with its cells from that question on."""
    for heading, cells in sections(path).items():
        asks = [i for i, c in enumerate(cells) if c["cell_type"] == "markdown" and "**Predict" in "".join(c["source"])]
        if asks:
            yield heading, cells[asks[0]:]


SECTIONS = [(path, heading) for path in NOTEBOOKS for heading, _ in predict_sections(path)]


@pytest.mark.parametrize("path, heading", SECTIONS, ids=[f"{p.name}:{h[3:30]}" for p, h in SECTIONS])
def test_each_predict_section_opens_with_a_short_plain_listing(path, heading):
    cells = dict(predict_sections(path))[heading]
    code = ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]
    names = helper_names(path)
    uses_helpers = [i for i, source in enumerate(code)
                    if re.search(r"\b(" + "|".join(names) + r")\.", source)]
    found = [i for i, source in enumerate(code) if is_listing(source)]
    assert found, f"{path.name} {heading!r} has no listing timed with time.perf_counter()"
    assert not uses_helpers or found[0] < uses_helpers[0], "the listing comes before the helper measures it"
    for i in found:
        listing = code[i].strip()
        assert len(listing.splitlines()) <= 15, listing
        imported = {name.split(".")[0] for node in ast.walk(ast.parse(listing))
                    for name in ([a.name for a in node.names] if isinstance(node, ast.Import)
                                 else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])}
        imported = {name for name in imported if not name.startswith("my_")}
        assert imported <= LISTING_LIBRARIES, f"a listing imports only the standard library: {imported}"


def pacing():
    """benchmarks/pacing.py, which counts each notebook's minutes."""
    import importlib.util
    spec = importlib.util.spec_from_file_location("pacing", ROOT / "benchmarks" / "pacing.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_each_notebook_states_its_minutes_as_counted_and_stays_within_45(path):
    count = pacing()
    seconds = count.recorded()["notebooks"].get(path.name)
    assert seconds, f"no recorded run for {path.name}: run `python benchmarks/pacing.py --run --write`"
    title = "".join(json.loads(path.read_text())["cells"][0]["source"])
    assert count.minutes_line(path, seconds) in title, (
        f"{path.name}'s minutes line is out of date: run `python benchmarks/pacing.py --write`")
    assert count.minutes(path, seconds)["total"] <= count.MOST_MINUTES
