"""The notebook run's own rule, as the top-level conftest.py sets it: a cell that writes to
stderr fails, though nbval (--nbval-lax, notebooks stored without outputs) compares nothing."""
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def notebook(path: Path, *sources: str) -> Path:
    cells = [{"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
              "source": source} for source in sources]
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4,
                                "nbformat_minor": 5}))
    return path


def run_nbval(folder: Path) -> subprocess.CompletedProcess:
    """pytest on the folder's notebooks, with the repository's conftest.py and nbval options."""
    shutil.copy(ROOT / "conftest.py", folder / "conftest.py")
    (folder / "pytest.ini").write_text("[pytest]\n")
    return subprocess.run([sys.executable, "-m", "pytest", "-c", str(folder / "pytest.ini"),
                           "--rootdir", str(folder), "-p", "no:cacheprovider", "--nbval-lax",
                           "--nbval-current-env", str(folder)],
                          capture_output=True, text=True, timeout=120, cwd=folder)


@pytest.mark.parametrize("source, fails", [
    ("print('to stdout')", False),
    ("import sys; print('a warning', file=sys.stderr)", True),
    ("import warnings; warnings.warn('careful')", True),
])
def test_a_cell_writing_to_stderr_fails_the_notebook_run(tmp_path, source, fails):
    notebook(tmp_path / "one.ipynb", "x = 1", source)
    run = run_nbval(tmp_path)
    assert (run.returncode != 0) == fails, run.stdout[-2000:]
    if fails:
        assert "the cell wrote to stderr" in run.stdout
