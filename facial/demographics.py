"""Who a random head is: sex, ancestry and age as MakeHuman's macro model mixes them.

MakeHuman builds a person as the base head plus a convex mix of its ethnicity x sex x age corner
targets (weights: ancestry share x sex weight x age weight, summing to 1). Drawn independently per
corner, as plain shape coefficients are, the corners cancel and every head sits near the
androgynous base; drawn as one person, a head is a man or a woman of some ancestry and age. The
stand-in carries the corners as shape directions (flame_assets.standin.shape_space); this module is
the one naming of them and the numpy math of the mix.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

ANCESTRIES = ("african", "asian", "caucasian")
SEXES = ("female", "male")
AGES = ("young", "old")  # MakeHuman's 25- and 90-year corners
CORNERS = tuple(f"{e}-{s}-{a}" for e in ANCESTRIES for s in SEXES for a in AGES)


@dataclass(frozen=True)
class Demographic:
    """sex "female" | "male"; masculinity in [0, 1], MakeHuman's gender slider (0 the female
    corner, 1 the male one, 0.5 androgynous); ancestry (3,) shares of ANCESTRIES summing to 1;
    age in [0, 1], the weight of the old corner."""

    sex: str
    masculinity: float
    ancestry: tuple[float, float, float]
    age: float

    def to_json(self) -> dict:
        return {"sex": self.sex, "masculinity": round(self.masculinity, 6),
                "ancestry": {name: round(share, 6) for name, share in zip(ANCESTRIES, self.ancestry)},
                "age": round(self.age, 6)}


def sample_demographic(rng: np.random.Generator, female_share: float, dimorphism: tuple[float, float],
                       ancestry_concentration: float, age: tuple[float, float]) -> Demographic:
    """One person. dimorphism: how far from androgynous (0) to the sex's corner (1); the ancestry
    mix is Dirichlet(ancestry_concentration) (small: mostly one ancestry). Always four draws, so a
    changed share never shifts the draws after it."""
    female = rng.random() < female_share
    strength = rng.uniform(*dimorphism)
    shares = rng.dirichlet(np.full(len(ANCESTRIES), ancestry_concentration))
    old = rng.uniform(*age)
    masculinity = 0.5 + (-0.5 if female else 0.5) * strength
    return Demographic(sex=SEXES[0] if female else SEXES[1], masculinity=float(masculinity),
                       ancestry=tuple(float(s) for s in shares), age=float(old))


def corner_weights(person: Demographic) -> np.ndarray:
    """(12,) the convex weights of CORNERS (ancestry share x sex weight x age weight) that make
    the person; they sum to 1."""
    sex = {"female": 1.0 - person.masculinity, "male": person.masculinity}
    age = {"young": 1.0 - person.age, "old": person.age}
    shares = dict(zip(ANCESTRIES, person.ancestry))
    return np.array([shares[e] * sex[s] * age[a] for e in ANCESTRIES for s in SEXES for a in AGES])
