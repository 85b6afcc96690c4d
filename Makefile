# The README's two commands, `make dataset` and `make test`, are all a fresh machine needs:
# both build .venv/ first when it is missing or older than pyproject.toml.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
OUT ?= build/dataset

.PHONY: setup test dataset docs clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e ".[dev]"
	touch $(STAMP)

test: setup
	$(BIN)/pytest

# Until the dataset builder lands (issue 4), the main job is the asset stage: resolve the FLAME
# files (the open stand-in when none are configured), check them, and draw them.
dataset: setup
	$(BIN)/meflow assets check
	$(BIN)/meflow assets show --out $(OUT)/assets

docs: setup
	$(BIN)/meflow assets show --out docs

clean:
	rm -rf $(VENV) build .pytest_cache
