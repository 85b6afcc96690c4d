"""What made a sample: recipe (name, hash, text), code version, Blender version, head model."""
from __future__ import annotations

import subprocess
from functools import lru_cache
from pathlib import Path

from flame_assets.assets import FlameAssets
from shards.schema import SCHEMA_VERSION

from ..synthesis.recipe import Recipe

PACKAGE_DIR = Path(__file__).resolve().parent


def _git(*args: str) -> str | None:
    try:
        out = subprocess.run(["git", *args], cwd=PACKAGE_DIR, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() if out.returncode == 0 and out.stdout.strip() else None


@lru_cache(maxsize=1)
def code_version() -> str:
    """git describe (with -dirty) when this code runs from a git checkout of meflow, else the
    installed package's version (an installed copy inside some other repository is not that
    repository's code)."""
    top = _git("rev-parse", "--show-toplevel")
    if top is not None and Path(top).resolve() / "pipeline" / "build" == PACKAGE_DIR:
        described = _git("describe", "--always", "--dirty", "--abbrev=12")
        if described:
            return described
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("meflow")
    except PackageNotFoundError:
        return "unknown"


def provenance(recipe: Recipe, assets: FlameAssets) -> dict:
    from render.blender.scene import blender_version  # bpy is already loaded in render workers

    return {
        "schema_version": SCHEMA_VERSION, "recipe": recipe.name, "recipe_version": recipe.version,
        "recipe_hash": recipe.hash, "code_version": code_version(), "blender_version": blender_version(),
        "head_model": assets.release, "head_model_fingerprint": assets.fingerprint,
    }
