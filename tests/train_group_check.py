"""`make train-check`: run by the Python of a clean venv that installed only `meflow[train]` (not
editable), on a dataset the full environment built. Checks that the reading side imports without
Blender, Dask or the factory, that the shards read into torch, and that the command line reads the
dataset and names the missing group for a factory command. Prints one summary line; exits 1 with
the reason otherwise.

    .../venv/bin/python tests/train_group_check.py DATASET
"""
from __future__ import annotations

import importlib
import importlib.util
import json
import pkgutil
import subprocess
import sys
import tempfile
from pathlib import Path

READING_SIDE = ("shards", "facial", "training", "instruct")
NEVER_LOADED = {"bpy", "mathutils", "dask", "distributed", "pipeline", "render", "flame_assets", "smplx"}


def check(condition: bool, reason: str) -> None:
    if not condition:
        print(f"train-check failed: {reason}", file=sys.stderr)
        sys.exit(1)


def import_reading_side() -> None:
    for name in READING_SIDE:
        package = importlib.import_module(name)
        check("site-packages" in package.__file__, f"{name} is imported from {package.__file__}, not the installed wheel")
        for info in pkgutil.walk_packages(package.__path__, name + "."):
            importlib.import_module(info.name)
    loaded = {m.split(".")[0] for m in sys.modules} & NEVER_LOADED
    check(not loaded, f"importing {READING_SIDE} loaded {sorted(loaded)}")
    for missing in ("bpy", "distributed", "smplx"):
        check(importlib.util.find_spec(missing) is None, f"{missing} is installed: this venv is not the train group alone")


def read_into_torch(root: Path) -> int:
    import torch
    from torch.utils.data import DataLoader

    from shards.layout import DatasetDir
    from shards.verify import verify_dataset
    from training.shard_dataset import TRAINING_FIELDS, ShardDataset, ShardEpochSampler

    check(verify_dataset(DatasetDir(root)) == {}, "verify_dataset found problems")
    dataset = ShardDataset(root, "all", fields=(*TRAINING_FIELDS, "flow_expression"))
    loader = DataLoader(dataset, batch_size=2, sampler=ShardEpochSampler(dataset, seed=0), num_workers=2)
    seen = 0
    for batch in loader:
        size = batch["onset"].shape[-2:]
        check(batch["onset"].dtype == torch.uint8 and batch["flow_facial"].shape[1:] == (2, *size), "unexpected tensor layout")
        check(torch.equal(batch["flow_expression"], batch["flow_facial"] - batch["flow_head"]), "flow_expression != facial - head")
        seen += len(batch["onset"])
    check(seen == len(dataset) > 0, f"read {seen} of {len(dataset)} samples")
    return seen


def command_line(root: Path) -> None:
    meflow = str(Path(sys.executable).parent / "meflow")
    run = lambda *args: subprocess.run([meflow, *args], capture_output=True, text=True, timeout=600)  # noqa: E731
    for args in (("dataset", "verify", str(root)), ("dataset", "info", str(root))):
        result = run(*args)
        check(result.returncode == 0, f"meflow {' '.join(args[:2])}: {result.stderr.strip()}")
    info = json.loads(run("dataset", "info", str(root), "--json").stdout)
    check(info["split"] == {"salt": "meflow-split-v1", "test_fraction": 0.1}, f"split {info['split']}")
    with tempfile.TemporaryDirectory() as out:
        for args in (("dataset", "stats", str(root), "--out", f"{out}/stats"),
                     ("dataset", "export", str(root), "--format", "flo", "--out", f"{out}/flo")):
            result = run(*args)
            check(result.returncode == 0, f"meflow {' '.join(args[:2])}: {result.stderr.strip()}")
        build = run("dataset", "build", "--out", f"{out}/new")
        # train both stages a step each, evaluate, infer: everything a GPU node runs
        config = Path(out) / "tiny.toml"
        config.write_text("[optim]\nbatch_size = 2\n[run]\nvalidation_samples = 1\n")
        for stage in ("1", "2"):
            result = run("train", "--stage", stage, "--data", str(root), "--out", f"{out}/run", "--config", str(config), "--max-steps", "1")
            check(result.returncode == 0, f"meflow train --stage {stage}: {result.stderr.strip()[-500:]}")
        result = run("eval", "--ckpt", f"{out}/run/stage2/last.pt", "--data", str(root), "--split", "all", "--baselines", "zero,dis", "--json")
        check(result.returncode == 0 and "model" in json.loads(result.stdout), f"meflow eval: {result.stderr.strip()[-500:]}")
    lines = build.stderr.strip().splitlines()
    check(build.returncode == 2 and len(lines) == 1 and 'pip install "meflow[render]"' in lines[0],
          f"meflow dataset build without the render group said: {build.stderr.strip()}")


def main() -> None:
    root = Path(sys.argv[1]).resolve()
    import_reading_side()
    samples = read_into_torch(root)
    command_line(root)
    import numpy
    import torch

    print(f"train-check: ok: numpy {numpy.__version__}, torch {torch.__version__}, {samples} samples of {root} read; "
          f"no bpy / dask / pipeline loaded; verify, info, stats, export, train (both stages) and eval ran; build names the render group")


if __name__ == "__main__":
    main()
