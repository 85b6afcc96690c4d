"""Shared bits for benchmarks: recipe variants and process memory."""
from __future__ import annotations

import os
import re

from pipeline.synthesis.recipe import Recipe, load_recipe, parse_recipe


def recipe_variant(base: str = "meflow-v1", **render) -> Recipe:
    """The base recipe with [render] scalars replaced, e.g. width=256, samples=32."""
    text = load_recipe(base).text
    for key, value in render.items():
        value = str(value).lower() if isinstance(value, bool) else value
        text, n = re.subn(rf"(?m)^{key} = [^#\n]*", f"{key} = {value}   ", text, count=1)
        assert n == 1, key
    return parse_recipe(text, f"{base}-bench.toml")


def rss_mb() -> float:
    """Resident memory of this process (MB)."""
    with open(f"/proc/{os.getpid()}/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def recipe_appearance_off(recipe: Recipe) -> Recipe:
    """The recipe with its human appearance switched off: the mannequin skin of earlier versions."""
    text = re.sub(r"(?m)^enabled = \w+.*$", "", recipe.text)  # only [render.appearance] has this key
    if "[render.appearance]" in text:
        text = text.replace("[render.appearance]", "[render.appearance]\nenabled = false", 1)
    else:
        text += "\n[render.appearance]\nenabled = false\n"
    return parse_recipe(text, f"{recipe.name}-mannequin.toml")
