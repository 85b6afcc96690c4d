"""What every `meflow` command shares: one-line errors, and a clear word when an install group
the command needs is missing."""
from __future__ import annotations

import contextlib
import importlib.util
import os
import sys
from typing import NoReturn

import typer

# What each install group of pyproject.toml brings, by import name: enough to tell a machine that
# installed only the train group why a command cannot run there.
EXTRA_MODULES = {
    "render": ("bpy", "OpenEXR", "torch", "smplx", "scipy", "cv2", "trimesh", "matplotlib", "distributed", "yaml"),
    "fit": ("torch", "smplx", "scipy", "cv2", "PIL", "pyrender", "matplotlib", "distributed", "yaml"),
    "train": ("torch", "matplotlib", "cv2"),
    "raft": ("torchvision",),
    "dav2": ("transformers",),
    "instruct": ("matplotlib", "PIL"),
}


def fail(message: str, code: int = 2) -> NoReturn:
    """Print `error: message` on stderr (one line) and exit with `code`."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code=code)


def require_extra(command: str, extra: str, modules: tuple[str, ...] | None = None) -> None:
    """Exit in one line naming the install group when one of `modules` (default: all the group
    brings) is not installed; found without importing them, so the check costs nothing."""
    missing = [m for m in modules or EXTRA_MODULES[extra] if importlib.util.find_spec(m) is None]
    if missing:
        fail(f"`meflow {command}` needs the {extra} group ({', '.join(missing)} not installed): "
             f"pip install \"meflow[{extra}]\"")


@contextlib.contextmanager
def stdout_to_stderr():
    """Send what libraries print to fd 1 (Blender's start-up warnings) to stderr, so a command's
    stdout holds only its own output (e.g. --json)."""
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)
