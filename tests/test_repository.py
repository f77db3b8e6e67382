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
    assert not dirty, (f"{path.name}: cells {dirty} have outputs; run `make strip` (or "
                       "`nbstripout --keep-id notebooks/*.ipynb`); to keep them out of commits, install "
                       "the git filter with `nbstripout --install` (CONTRIBUTING.md, \"Stripping outputs\")")


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


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_hidden_solutions_are_tagged_hide_cell_and_only_they_are(path):
    """JupyterLab hides a solution by `jupyter.source_hidden`; the static site (`make site`)
    collapses cells tagged `hide-cell`. The two must mark the same cells."""
    cells = json.loads(path.read_text())["cells"]
    hidden = {i for i, c in enumerate(cells) if c.get("metadata", {}).get("jupyter", {}).get("source_hidden")}
    tagged = {i for i, c in enumerate(cells) if "hide-cell" in c.get("metadata", {}).get("tags", [])}
    assert not hidden - tagged, f"{path.name}: cells {sorted(hidden - tagged)} are hidden but not tagged hide-cell"
    assert not tagged - hidden, f"{path.name}: cells {sorted(tagged - hidden)} are tagged hide-cell but not hidden"


# --- the installable lab (pyproject.toml) and its lock file (requirements.lock) ------------------

# What requirements.lock was resolved for (`make lock`): a requirement whose marker excludes this
# target is not expected in it.
LOCK_TARGET = {"python_version": "3.11", "python_full_version": "3.11.0", "sys_platform": "linux",
               "platform_system": "Linux", "platform_machine": "x86_64", "os_name": "posix"}


def requirements_txt() -> dict:
    """requirements.txt's requirements: its lines before '# tests' are 'dependencies', after it 'test'."""
    from packaging.requirements import Requirement

    sections, section = {"dependencies": set(), "test": set()}, "dependencies"
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        if line.strip() == "# tests":
            section = "test"
        elif text := line.partition("#")[0].strip():
            sections[section].add(Requirement(text))
    return sections


def pyproject_requirements() -> dict:
    """pyproject.toml's `dependencies` and each optional extra, by the same names."""
    import tomllib

    from packaging.requirements import Requirement

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    lists = {"dependencies": project.get("dependencies", []), **project.get("optional-dependencies", {})}
    return {name: {Requirement(line) for line in lines} for name, lines in lists.items()}


def test_pyproject_requires_exactly_what_requirements_txt_does():
    """`pip install -e .[test]` and `pip install -r requirements.txt` must install the same things."""
    def readable(sections):
        return {name: sorted(map(str, requirements)) for name, requirements in sections.items()}

    assert readable(pyproject_requirements()) == readable(requirements_txt()), (
        "pyproject.toml's dependencies and `test` extra must be requirements.txt's lines before and "
        "after its '# tests' line")


def locked_pins() -> dict:
    """requirements.lock's requirements by normalised name (its '# via' lines are comments)."""
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    lines = (ROOT / "requirements.lock").read_text().splitlines()
    pins = [Requirement(text) for line in lines if (text := line.partition("#")[0].strip())]
    return {canonicalize_name(pin.name): pin for pin in pins}


def lock_problem(requirement, pins: dict) -> str | None:
    """What is wrong with the lock's pin for one requirement of requirements.txt, or None."""
    from packaging.utils import canonicalize_name

    pin = pins.get(canonicalize_name(requirement.name))
    if pin is None:
        return "not in the lock"
    exact = [spec.version for spec in pin.specifier if spec.operator == "=="]
    if len(exact) != 1 or len(pin.specifier) != 1:
        return f"locked as {pin}, not with one =="
    if not requirement.specifier.contains(exact[0], prereleases=True):
        return f"locked at {exact[0]}, which {requirement.specifier} does not allow"
    if not requirement.extras <= pin.extras:
        return f"locked as {pin}, without the extras {sorted(requirement.extras - pin.extras)}"
    return None


def test_the_lock_pins_every_requirement_to_a_version_it_allows():
    """No network: each line of requirements.txt (extras too) has an == pin its bounds admit."""
    pins = locked_pins()
    wanted = [r for section in requirements_txt().values() for r in section
              if r.marker is None or r.marker.evaluate(LOCK_TARGET)]
    problems = {str(r): problem for r in wanted if (problem := lock_problem(r, pins))}
    assert not problems, f"requirements.lock is out of date, run `make lock`: {problems}"


def test_the_package_takes_every_file_under_helpers():
    """The wheel holds helpers/'s .py files and the patterns of pyproject.toml's package-data, no
    other file: a style sheet or a JSON table under helpers/ would be missing from an installed lab."""
    import fnmatch
    import tomllib

    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text()).get("tool", {}).get("setuptools", {})
    patterns = setuptools.get("package-data", {}).get("helpers", [])
    files = [path.relative_to(HELPERS).as_posix() for path in HELPERS.rglob("*")
             if path.is_file() and path.suffix not in (".py", ".pyc")]
    left_out = [name for name in files if not any(fnmatch.fnmatch(name, p) for p in patterns)]
    assert not left_out, f"list these in pyproject.toml's [tool.setuptools.package-data] helpers: {left_out}"
