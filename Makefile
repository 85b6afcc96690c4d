# The README's two commands, `make dataset` and `make test`, are all a fresh machine needs:
# both build .venv/ first when it is missing or older than pyproject.toml.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
OUT ?= build/dataset
RECIPE ?= smoke
SHARDS ?= 2
SAMPLES ?= 4
WORKERS ?= 1
CLUSTER ?= local
# The face-mesh landmark plug-in; its declared requirements clash with ours (see pyproject.toml).
MEDIAPIPE := mediapipe==0.10.21

.PHONY: setup test dataset docs bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e ".[dev,mediapipe]"
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps $(MEDIAPIPE)
	touch $(STAMP)

test: setup
	$(BIN)/pytest

# The main job: SHARDS shards of SAMPLES pairs of RECIPE into $(OUT) (the open stand-in head and
# random identities unless FLAME files are configured), then verify them. Rerun to resume.
#   make dataset SHARDS=64 SAMPLES=100 RECIPE=meflow-v1 CLUSTER=slurm
dataset: setup
	$(BIN)/meflow assets check
	$(BIN)/meflow dataset build --out $(OUT) --shards $(SHARDS) --samples $(SAMPLES) --recipe $(RECIPE) --workers $(WORKERS) --cluster $(CLUSTER)
	$(BIN)/meflow dataset verify $(OUT)
	$(BIN)/meflow dataset stats $(OUT) --out $(OUT)/stats

docs: setup
	$(BIN)/meflow assets show --out docs
	$(BIN)/meflow render preview --recipe meflow-v1 --samples 3 --out build/preview-v1
	cp build/preview-v1/contact_sheet.png docs/render_contact_sheet.png
	cp build/preview-v1/flow_colour_wheel.png docs/flow_colour_wheel.png
	$(BIN)/python -m pipeline.fitting.sample_photos build/sample-photos
	$(BIN)/meflow fit build/sample-photos --out build/sample-fits
	cp build/sample-fits/astronaut/diagnostic.png docs/fit_astronaut.png
	cp build/sample-fits/grace_hopper/diagnostic.png docs/fit_grace_hopper.png

bench: setup
	$(BIN)/python bench/render_pairs.py
	$(BIN)/python bench/render_memory.py
	$(BIN)/python bench/fit_throughput.py

clean:
	rm -rf $(VENV) build .pytest_cache
