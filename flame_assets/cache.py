"""Cached folders that appear whole or not at all, even with several processes racing."""
from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

MARKER = "COMPLETE"


def default_cache_dir() -> Path:
    return Path(os.environ.get("MEFLOW_CACHE", Path.home() / ".cache" / "meflow")).expanduser()


def atomic_folder(root: Path, fill: Callable[[Path], None]) -> Path:
    """Return `root`, first creating it with `fill(staging_folder)` if it is not complete.

    Each process fills a private folder and renames it into place; a loser of the race keeps the
    winner's folder, and a torn folder left by a killed run (no marker) is replaced."""
    if (root / MARKER).exists():
        return root
    root.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{root.name}-", dir=root.parent))
    try:
        fill(staging)
        (staging / MARKER).write_text("ok\n")
        try:
            staging.rename(root)
        except OSError:
            if not (root / MARKER).exists():
                shutil.rmtree(root, ignore_errors=True)
                staging.rename(root)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return root
