# make lab    set up .venv if needed, then open JupyterLab on notebook 00
# make test   set up .venv if needed, then run every test and every notebook
# make bench  set up .venv if needed, then print the lab's own measurements
# make matrix the notebooks under fork, spawn and on one core
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# Open a browser only where there is a screen to show it on.
NO_BROWSER := $(if $(filter Linux,$(shell uname -s)),$(if $(DISPLAY)$(WAYLAND_DISPLAY),,--no-browser),)
# Jupyter refuses to run as root (containers often are) unless told it may.
ALLOW_ROOT := $(if $(filter 0,$(shell id -u 2>/dev/null)),--allow-root,)

.PHONY: lab test bench matrix matrix-fork matrix-spawn matrix-one-core clean

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

bench: $(STAMP)
	$(BIN)/python benchmarks/bench.py

clean:
	rm -rf $(VENV) .pytest_cache
