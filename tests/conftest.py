"""Shared fixtures. Every test session gets its own cache, so the stand-in is generated fresh."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.pop("MEFLOW_FLAME_DIR", None)


@pytest.fixture(scope="session", autouse=True)
def meflow_cache(tmp_path_factory) -> Path:
    cache = tmp_path_factory.mktemp("meflow-cache")
    os.environ["MEFLOW_CACHE"] = str(cache)
    return cache


@pytest.fixture(scope="session")
def standin_dir(meflow_cache) -> Path:
    from flame_assets.standin.build import ensure_standin

    return ensure_standin(meflow_cache)


@pytest.fixture(scope="session")
def standin_assets(standin_dir):
    from flame_assets.assets import load_assets

    return load_assets(standin_dir)


@pytest.fixture(scope="session")
def standin_model(standin_assets, meflow_cache):
    from flame_assets.model import FaceModel

    return FaceModel(standin_assets, cache_dir=meflow_cache)


@pytest.fixture(scope="session")
def tiny_flame():
    from flame_fixture import tiny_flame_model

    return tiny_flame_model()


@pytest.fixture(scope="session")
def flame_shaped_dir(tiny_flame, tmp_path_factory) -> Path:
    """A FLAME 2023-style folder (pickle, eyelids, landmark embeddings, head_template.obj)."""
    from flame_fixture import write_companions, write_flame2023

    folder = tmp_path_factory.mktemp("flame-shaped")
    write_flame2023(tiny_flame, folder)
    write_companions(tiny_flame, folder)
    return folder


@pytest.fixture(scope="session")
def flame_shaped_model(flame_shaped_dir, meflow_cache):
    from flame_assets.assets import load_assets
    from flame_assets.model import FaceModel

    return FaceModel(load_assets(flame_shaped_dir), cache_dir=meflow_cache)


@pytest.fixture(scope="session")
def smoke_dataset(tmp_path_factory, meflow_cache) -> Path:
    """The smoke recipe's 96 x 96 pairs, rendered once per session for the training tests."""
    import subprocess
    import sys

    out = tmp_path_factory.mktemp("smoke-data") / "shards"
    subprocess.run([sys.executable, "-m", "pipeline.cli", "dataset", "build", "--out", str(out), "--shards", "3", "--samples", "8"],
                   check=True, capture_output=True, text=True)
    return out


FRONTAL_IMAGE = 512  # the side of the image `frontal_landmarks` are placed in


@pytest.fixture(scope="session")
def frontal_landmarks(standin_model):
    """The stand-in's neutral landmarks seen from the front, (68, 2) pixels of a 512 image."""
    import numpy as np
    import torch

    with torch.no_grad():
        points = standin_model().landmarks[0].double().numpy()
    return np.stack([2000.0 * points[:, 0], -2000.0 * points[:, 1]], -1) + (FRONTAL_IMAGE - 1) / 2


@pytest.fixture(scope="session")
def emotions_dataset(tmp_path_factory, meflow_cache) -> Path:
    """meflow-emotions at 128 x 128: 3 shards of 8 labelled pairs, rendered once per session."""
    import subprocess
    import sys

    from pipeline.resources import recipe_dir

    root = tmp_path_factory.mktemp("emotions")
    text = (recipe_dir() / "meflow-emotions.toml").read_text()
    recipe = root / "emotions-test.toml"
    recipe.write_text(text.replace("width = 224", "width = 128").replace("height = 224", "height = 128")
                      .replace('name = "meflow-emotions"', 'name = "emotions-test"'))
    out = root / "shards"
    subprocess.run([sys.executable, "-m", "pipeline.cli", "dataset", "build", "--out", str(out), "--recipe", str(recipe),
                    "--shards", "3", "--samples", "8"], check=True, capture_output=True, text=True)
    return out
