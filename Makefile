# The README's two commands, `make dataset` and `make test`, are all a fresh machine needs:
# both build .venv/ first when it is missing or older than pyproject.toml.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
OUT ?= build/dataset
RECIPE ?= smoke
SAMPLES ?= 4

.PHONY: setup test dataset docs bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e ".[dev]"
	touch $(STAMP)

test: setup
	$(BIN)/pytest

# Until the sharded dataset builder lands, the main job is what exists: resolve the FLAME files
# (the open stand-in when none are configured), check and draw them, and render SAMPLES pairs of
# RECIPE with their exact flows.
dataset: setup
	$(BIN)/meflow assets check
	$(BIN)/meflow assets show --out $(OUT)/assets
	$(BIN)/meflow render preview --recipe $(RECIPE) --samples $(SAMPLES) --out $(OUT)/preview

docs: setup
	$(BIN)/meflow assets show --out docs
	$(BIN)/meflow render preview --recipe meflow-v1 --samples 3 --out build/preview-v1
	cp build/preview-v1/contact_sheet.png docs/render_contact_sheet.png
	cp build/preview-v1/flow_colour_wheel.png docs/flow_colour_wheel.png

bench: setup
	$(BIN)/python bench/render_pairs.py
	$(BIN)/python bench/render_memory.py

clean:
	rm -rf $(VENV) build .pytest_cache
