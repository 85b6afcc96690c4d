"""Files that ship with meflow: the dataset recipes (`datasets/*.toml`) and the render-farm
settings (`cluster/*.yaml`).

They live at the top of the repository, where people edit them; `datasets` and `cluster` here are
links to those folders, and an installed wheel holds copies (package data), so `meflow` finds them
whether it runs from a checkout, an editable install or `pip install meflow`.
"""
from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def recipe_dir() -> Path:
    """The folder of the shipped dataset recipes."""
    return Path(str(files(__name__) / "datasets"))


def cluster_dir() -> Path:
    """The folder of the shipped cluster settings."""
    return Path(str(files(__name__) / "cluster"))


def sample_landmarks_file() -> Path:
    """The 68 landmarks of the package sample photos (pipeline.fitting.sample_photos)."""
    return Path(str(files(__name__) / "sample_photo_landmarks.json"))
