# make lab    set up .venv if needed, then open JupyterLab on notebook 00
# make test   set up .venv if needed, then run every test and every notebook
# make bench  set up .venv if needed, then print the lab's own measurements
# make matrix the notebooks under fork, spawn and on one core
# make binder the environment as Binder builds it (binder/), then every notebook in it
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# Open a browser only where there is a screen to show it on.
NO_BROWSER := $(if $(filter Linux,$(shell uname -s)),$(if $(DISPLAY)$(WAYLAND_DISPLAY),,--no-browser),)
# Jupyter refuses to run as root (containers often are) unless told it may.
ALLOW_ROOT := $(if $(filter 0,$(shell id -u 2>/dev/null)),--allow-root,)

.PHONY: lab test bench binder matrix matrix-fork matrix-spawn matrix-one-core clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install -r requirements.txt
	touch $(STAMP)

lab: $(STAMP)
	$(BIN)/jupyter lab $(NO_BROWSER) $(ALLOW_ROOT) --LabApp.default_url=/lab/tree/notebooks/00_start_here.ipynb

test: $(STAMP)
	$(BIN)/python -m pytest

# `make test` runs under forkserver, the lab's default on Linux; these run the notebooks
# again under the other start methods and on one usable core (as Binder often gives).
MATRIX := notebooks

matrix: matrix-fork matrix-spawn matrix-one-core

matrix-fork matrix-spawn: matrix-%: $(STAMP)
	LAB_START_METHOD=$* $(BIN)/python -m pytest $(MATRIX)

matrix-one-core: $(STAMP)
	$(if $(shell command -v taskset),taskset -c 0 $(BIN)/python -m pytest $(MATRIX),@echo "taskset not found: one-core run skipped")

# As repo2docker does: a fresh environment of binder/runtime.txt's Python, binder/requirements.txt,
# then binder/postBuild if there is one. Nothing from the root .venv is used.
BINDER_VERSION := $(shell sed -n 's/^python-//p' binder/runtime.txt)
# python3.12 on the PATH, or else a pyenv install of that version
BINDER_PYTHON ?= $(firstword $(foreach p,python$(BINDER_VERSION) \
	$(wildcard $(HOME)/.pyenv/versions/$(BINDER_VERSION)*/bin/python$(BINDER_VERSION)),\
	$(if $(shell $(p) -c pass 2>/dev/null && echo ok),$(p))))
BINDER_VENV := .binder-venv

binder:
	@test -n "$(BINDER_PYTHON)" || { echo "binder/runtime.txt asks for Python $(BINDER_VERSION): install it, or set BINDER_PYTHON=/path/to/python$(BINDER_VERSION)"; exit 1; }
	rm -rf $(BINDER_VENV)
	$(BINDER_PYTHON) -m venv $(BINDER_VENV)
	$(BINDER_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(BINDER_VENV)/bin/python -m pip install --quiet -r binder/requirements.txt
	if [ -f binder/postBuild ]; then PATH="$(CURDIR)/$(BINDER_VENV)/bin:$$PATH" bash binder/postBuild; fi
	$(BINDER_VENV)/bin/python --version
	$(BINDER_VENV)/bin/python -m pytest notebooks

bench: $(STAMP)
	$(BIN)/python benchmarks/bench.py

clean:
	rm -rf $(VENV) $(BINDER_VENV) .pytest_cache
