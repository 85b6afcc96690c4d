"""What made a sample: recipe (name, hash, text), code version, Blender version, head model."""
from __future__ import annotations

import subprocess
from functools import lru_cache
from pathlib import Path

from flame_assets.assets import FlameAssets

from .recipe import Recipe

SCHEMA_VERSION = 1
REPO = Path(__file__).resolve().parent.parent


@lru_cache(maxsize=1)
def code_version() -> str:
    """git describe of this checkout (with -dirty), else the package version."""
    try:
        out = subprocess.run(["git", "describe", "--always", "--dirty", "--abbrev=12"], cwd=REPO,
                             capture_output=True, text=True, timeout=10)
        if out.returncode == 0 and out.stdout.strip():
            return out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        pass
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("meflow")
    except PackageNotFoundError:
        return "unknown"


def provenance(recipe: Recipe, assets: FlameAssets) -> dict:
    from render.blender_scene import blender_version  # bpy is already loaded in render workers

    return {
        "schema_version": SCHEMA_VERSION, "recipe": recipe.name, "recipe_version": recipe.version,
        "recipe_hash": recipe.hash, "code_version": code_version(), "blender_version": blender_version(),
        "head_model": assets.release, "head_model_fingerprint": assets.fingerprint,
    }
