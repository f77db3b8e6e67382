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


def listings(path: Path) -> list[str]:
    """The notebook's own listings: code cells that time plain code with time.perf_counter()."""
    cells = json.loads(path.read_text())["cells"]
    return ["".join(c["source"]) for c in cells if c["cell_type"] == "code" and "perf_counter()" in "".join(c["source"])]


@pytest.mark.parametrize("path", NOTEBOOKS[:5], ids=lambda p: p.name)
def test_the_first_section_opens_with_a_short_plain_listing(path):
    found = listings(path)
    assert found, f"{path.name} has no listing timed with time.perf_counter()"
    for listing in found:
        assert len(listing.strip().splitlines()) <= 15, listing
        assert "helpers" not in listing, "a listing is plain standard library"
