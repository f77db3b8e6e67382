# make lab    set up .venv if needed, install the lab in it (editable), then open JupyterLab on notebook 00
# make lock   refresh requirements.lock, the exact versions for Python 3.11 on Linux (uv, put in .venv)
# make test   set up .venv if needed, then run every test and every notebook (3 workers)
# make check  the quick check while contributing: the unit tests alone, on the same workers
#             (no notebooks, browser, kernel or timing tests): 49 s on this 2-core machine
#             when quiet, 158 s at a load average of 10 beside other runs
# make strip  clear the outputs of every notebook in notebooks/, as they are stored (before committing)
# make test-3.13  the unit tests and the notebooks again on Python 3.13, in .venv-3.13
# make bench  set up .venv if needed, then print the lab's own measurements
# make matrix the notebooks under fork, spawn and on one core
# make binder the environment as Binder builds it (binder/), then every notebook in it
# make site   every notebook run afresh and exported as a static HTML page in _site/, then checked
PYTHON ?= python3
VENV := .venv
# Test workers (pytest-xdist). The notebooks mostly wait (on sleeps, pipes, children), so three
# workers keep two cores busy; `make test WORKERS=0` runs everything in this one process. A
# notebook is one unit of work (its cells share a kernel): see tests/conftest.py.
WORKERS ?= 3
PYTEST = -m pytest -n $(WORKERS)
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# Open a browser only where there is a screen to show it on.
NO_BROWSER := $(if $(filter Linux,$(shell uname -s)),$(if $(DISPLAY)$(WAYLAND_DISPLAY),,--no-browser),)
# Jupyter refuses to run as root (containers often are) unless told it may.
ALLOW_ROOT := $(if $(filter 0,$(shell id -u 2>/dev/null)),--allow-root,)

.PHONY: lab lock test check strip test-3.13 bench binder matrix matrix-fork matrix-spawn matrix-one-core clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install -r requirements.txt
	touch $(STAMP)

# The lab installed in editable mode, once: `helpers` then imports from any folder, and an edit
# to helpers/ counts at once. pyproject.toml's dependencies are requirements.txt's (a test checks),
# so pip finds them all installed already.
EDITABLE := $(VENV)/.editable

$(EDITABLE): pyproject.toml $(STAMP)
	$(BIN)/python -m pip install -e .
	touch $@

lab: $(EDITABLE)
	$(BIN)/jupyter lab $(NO_BROWSER) $(ALLOW_ROOT) --LabApp.default_url=/lab/tree/notebooks/00_start_here.ipynb

# requirements.lock: the exact version of everything requirements.txt installs, for Python 3.11
# on Linux. uv resolves for that target whatever machine runs this (pip-compile resolves only for
# the Python that runs it); it goes into .venv on first use, and the lab itself never needs it.
# Pins that requirements.txt still allows are kept; `make lock UPGRADE=1` takes the newest of all.
LOCK_TARGET := --python-version 3.11 --python-platform x86_64-unknown-linux-gnu
LOCK_HEADER := '\# Exact versions for Python 3.11 on Linux (x86-64) of everything requirements.txt installs.' \
	'\# Install: pip install -r requirements.lock, then pip install -e . --no-deps' \
	'\# Written by `make lock` (uv pip compile); tests/test_repository.py checks it against requirements.txt.'

$(BIN)/uv: | $(BIN)/python
	$(BIN)/python -m pip install --quiet 'uv>=0.13,<1'

lock: $(BIN)/uv
	$(BIN)/uv pip compile --quiet requirements.txt --output-file requirements.lock $(LOCK_TARGET) \
		--no-header --no-strip-extras $(if $(UPGRADE),--upgrade)
	{ printf '%s\n' $(LOCK_HEADER); cat requirements.lock; } > requirements.lock.new
	mv requirements.lock.new requirements.lock

# Tests marked `timing` compare speedups: they run alone, after the parallel part.
test: $(STAMP)
	$(BIN)/python $(PYTEST) -m "not timing"
	$(BIN)/python -m pytest -m timing

# Only `tests` (pytest.ini's testpaths would add the notebooks), without the browser and kernel
# tests (each starts JupyterLab or kernels and runs every notebook) and the timing tests (they
# need the cores to themselves).
check: $(STAMP)
	$(BIN)/python $(PYTEST) -m "not timing" tests --ignore=tests/test_browser.py --ignore=tests/test_kernel.py

# Stored notebooks keep their cell ids (nbstripout renumbers them unless --keep-id) and only the
# name of language_info (a kernel adds the rest when a notebook runs), so stripping an unchanged
# notebook gives back the stored bytes.
STRIP_KEYS := $(addprefix metadata.language_info.,codemirror_mode file_extension mimetype nbconvert_exporter pygments_lexer version)

strip: $(STAMP)
	$(BIN)/nbstripout --keep-id --extra-keys "$(STRIP_KEYS)" notebooks/*.ipynb

# A Python of version $(1): python$(1) on the PATH, or else a pyenv install of it.
find_python = $(firstword $(foreach p,python$(1) \
	$(wildcard $(HOME)/.pyenv/versions/$(1)*/bin/python$(1)),\
	$(if $(shell $(p) -c pass 2>/dev/null && echo ok),$(p))))

# The unit tests and the notebooks (nbval) on Python 3.13, in a venv of its own. The kernel and
# browser tests need JupyterLab's server and Chromium: `make test` runs them once, on $(PYTHON).
PYTHON_313 ?= $(call find_python,3.13)
VENV_313 := .venv-3.13

$(VENV_313)/.installed: requirements.txt
	@test -n "$(PYTHON_313)" || { echo "Python 3.13 not found: install it, or set PYTHON_313=/path/to/python3.13"; exit 1; }
	$(PYTHON_313) -m venv $(VENV_313)
	$(VENV_313)/bin/python -m pip install --quiet --upgrade pip
	$(VENV_313)/bin/python -m pip install --quiet -r requirements.txt
	touch $@

test-3.13: $(VENV_313)/.installed
	$(VENV_313)/bin/python $(PYTEST) -m "not timing" --ignore=tests/test_browser.py --ignore=tests/test_kernel.py
	$(VENV_313)/bin/python -m pytest -m timing --ignore=tests/test_browser.py --ignore=tests/test_kernel.py

# `make test` runs under forkserver, the lab's default on Linux; these run the notebooks
# again under the other start methods and on one usable core (as Binder often gives).
MATRIX := notebooks

matrix: matrix-fork matrix-spawn matrix-one-core

matrix-fork matrix-spawn: matrix-%: $(STAMP)
	LAB_START_METHOD=$* $(BIN)/python $(PYTEST) $(MATRIX)

matrix-one-core: $(STAMP)
	$(if $(shell command -v taskset),taskset -c 0 $(BIN)/python $(PYTEST) $(MATRIX),@echo "taskset not found: one-core run skipped")

# As repo2docker does, in its order: (1) Python binder/runtime.txt names, (2) its own base
# environment, here binder/base-pins.txt, (3) binder/requirements.txt (pip keeps every base pin our
# bounds admit), (4) binder/postBuild. Then the notebooks (nbval) and the browser test's panels:
# 00's slider and Run, 07's Dask run, 05's responsive panel. Nothing from the root .venv is used.
BINDER_VERSION := $(shell sed -n 's/^python-//p' binder/runtime.txt)
BINDER_PYTHON ?= $(call find_python,$(BINDER_VERSION))
BINDER_VENV := .binder-venv
BROWSER_TEST := tests/test_browser.py::test_notebook_runs_in_the_browser
BINDER_PANELS := "$(BROWSER_TEST)[00_start_here.ipynb]" "$(BROWSER_TEST)[07_beyond.ipynb]" \
	tests/test_browser.py::test_responsive_panel_in_the_browser

binder:
	@test -n "$(BINDER_PYTHON)" || { echo "binder/runtime.txt asks for Python $(BINDER_VERSION): install it, or set BINDER_PYTHON=/path/to/python$(BINDER_VERSION)"; exit 1; }
	rm -rf $(BINDER_VENV)
	$(BINDER_PYTHON) -m venv $(BINDER_VENV)
	$(BINDER_VENV)/bin/python -m pip install --quiet pip==25.2  # the pip of that base environment
	$(BINDER_VENV)/bin/python -m pip install --quiet -r binder/base-pins.txt
	$(BINDER_VENV)/bin/python -m pip install --quiet -r binder/requirements.txt
	if [ -f binder/postBuild ]; then PATH="$(CURDIR)/$(BINDER_VENV)/bin:$$PATH" bash binder/postBuild; fi
	$(BINDER_VENV)/bin/python -m pip install --quiet 'playwright>=1.40,<2'  # the test's, not Binder's
	$(BINDER_VENV)/bin/python --version
	$(BINDER_VENV)/bin/python -m pip list 2>/dev/null | grep -E '^(ipykernel|ipywidgets|jupyterlab) '
	# Named semaphores left after this run are said, not failed. Runs used to leave 5 or 6: nbval killed
	# each kernel (conftest.py now shuts it down as JupyterLab does), and the first CI run since left none.
	LAB_SEMAPHORES_LEFT=warn $(BINDER_VENV)/bin/python $(PYTEST) notebooks $(BINDER_PANELS)

bench: $(STAMP)
	$(BIN)/python benchmarks/bench.py

# The read-only course: each notebook executed in a fresh kernel (about 3 minutes in all), then
# exported with nbconvert's lab template into _site/ (site/build.py); tests/test_site.py then
# checks every page: its figures, no error or stderr, the banner, collapsed solutions. Those tests
# start no process, so a named semaphore that appears meanwhile is another program's: warned, not failed.
.PHONY: site
site: $(STAMP)
	$(BIN)/python site/build.py
	LAB_SEMAPHORES_LEFT=warn $(BIN)/python -m pytest -n 0 tests/test_site.py

clean:
	rm -rf $(VENV) $(VENV_313) $(BINDER_VENV) .pytest_cache _site
