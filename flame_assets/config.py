"""Which FLAME files a run uses: an explicit folder, the configured one, or the open stand-in."""
from __future__ import annotations

import os
from pathlib import Path

from .files import MODEL_FILES, SEARCH_DEPTH
from .standin.build import ensure_standin

ENV_VAR = "MEFLOW_FLAME_DIR"
DROP_FOLDER = Path(__file__).resolve().parent / "downloads"  # git-ignored; see flame_assets/README.md


def _holds_model(folder: Path) -> bool:
    names = {name for name, _ in MODEL_FILES}
    if not folder.is_dir():
        return False
    levels = [folder] + [p for p in folder.iterdir() if p.is_dir()] if SEARCH_DEPTH > 1 else [folder]
    return any((level / name).exists() for level in levels for name in names)


def resolve_assets_dir(explicit: Path | None = None, cache_dir: Path | None = None) -> tuple[Path, str]:
    """(folder, how it was chosen): the argument, $MEFLOW_FLAME_DIR, flame_assets/downloads/, or
    the stand-in (generated into the cache on first use)."""
    if explicit is not None:
        return Path(explicit), "given on the command line"
    if os.environ.get(ENV_VAR):
        return Path(os.environ[ENV_VAR]), f"from ${ENV_VAR}"
    if _holds_model(DROP_FOLDER):
        return DROP_FOLDER, "from flame_assets/downloads/"
    return ensure_standin(cache_dir), "no FLAME files configured: the open stand-in head"
