# make lab    set up .venv if needed, then open JupyterLab on notebook 00
# make test   set up .venv if needed, then run every test and every notebook (3 workers)
# make test-3.13  the unit tests and the notebooks again on Python 3.13, in .venv-3.13
# make bench  set up .venv if needed, then print the lab's own measurements
# make matrix the notebooks under fork, spawn and on one core
# make binder the environment as Binder builds it (binder/), then every notebook in it
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

.PHONY: lab test test-3.13 bench binder matrix matrix-fork matrix-spawn matrix-one-core clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install -r requirements.txt
	touch $(STAMP)

lab: $(STAMP)
	$(BIN)/jupyter lab $(NO_BROWSER) $(ALLOW_ROOT) --LabApp.default_url=/lab/tree/notebooks/00_start_here.ipynb

# Tests marked `timing` compare speedups: they run alone, after the parallel part.
test: $(STAMP)
	$(BIN)/python $(PYTEST) -m "not timing"
	$(BIN)/python -m pytest -m timing

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
	# Named semaphores left after this run (5 or 6, in runs alone) are not yet explained: said, not failed.
	LAB_SEMAPHORES_LEFT=warn $(BINDER_VENV)/bin/python $(PYTEST) notebooks $(BINDER_PANELS)

bench: $(STAMP)
	$(BIN)/python benchmarks/bench.py

clean:
	rm -rf $(VENV) $(VENV_313) $(BINDER_VENV) .pytest_cache
