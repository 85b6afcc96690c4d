"""Every random choice for sample k derives from (recipe seed, k), never from worker, order or
time: the same recipe gives the same dataset on 1 worker or 64."""
from __future__ import annotations

import numpy as np

# One independent stream per concern, so adding a choice to one never shifts the others.
# New streams go at the end: SeedSequence's child i is the same whatever the number spawned.
STREAMS = ("source", "schedule", "scene", "cycles", "appearance", "demographic")


def sample_rngs(seed: int, k: int) -> dict[str, np.random.Generator]:
    children = np.random.SeedSequence(entropy=seed, spawn_key=(k,)).spawn(len(STREAMS))
    return {name: np.random.default_rng(child) for name, child in zip(STREAMS, children)}


def cycles_seed(rng: np.random.Generator) -> int:
    return int(rng.integers(0, 2**31 - 1))


def sample_id(recipe_name: str, k: int) -> str:
    return f"{recipe_name}-{k:07d}"


def random_source_id(seed: int, k: int) -> str:
    """The identity of the random face of sample k. Its random draws come from (seed, k) alone
    (the recipe's priors and the head model shape what they become), so a copy of a recipe under
    another name or with another schedule draws the same face under the same id, and the identity
    split keeps it on the same side."""
    return f"random:{seed}:{k}"
