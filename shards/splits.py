"""Train / test split by source identity.

A sample is in the test split when a salted hash of its source id falls below the test fraction,
so no identity is ever on both sides, whatever the shards, workers or order, and two datasets
split with the same rule agree on every identity they share. A source id names what makes the
identity, never the recipe that drew it: a random face is `random:<seed>:<k>` (a renamed copy of
a recipe with a new schedule draws the same faces under the same ids), a photo is `image:...` or
`affectnet:...`.

`dataset.json` records the rule (salt and fraction); a dataset written before it was recorded
used the defaults below, so it reads with the same split as always.
"""
from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass

DEFAULT_SALT = "meflow-split-v1"
DEFAULT_TEST_FRACTION = 0.1
HASH_BYTES = 8  # the first 8 bytes of sha256 as a fraction of 2**64


@dataclass(frozen=True)
class SplitRule:
    salt: str = DEFAULT_SALT
    test_fraction: float = DEFAULT_TEST_FRACTION

    def __post_init__(self) -> None:
        if not 0.0 <= self.test_fraction <= 1.0:
            raise ValueError(f"test_fraction must be in [0, 1], got {self.test_fraction}")

    def is_test(self, source_id: str) -> bool:
        digest = hashlib.sha256(f"{self.salt}:{source_id}".encode()).digest()
        return int.from_bytes(digest[:HASH_BYTES], "big") / 2 ** (8 * HASH_BYTES) < self.test_fraction

    def split_of(self, source_id: str) -> str:
        return "test" if self.is_test(source_id) else "train"

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_metadata(cls, meta: dict) -> SplitRule:
        """The rule a dataset's `dataset.json` records (the defaults when it records none)."""
        recorded = meta.get("split") or {}
        return cls(salt=recorded.get("salt", DEFAULT_SALT),
                   test_fraction=float(recorded.get("test_fraction", DEFAULT_TEST_FRACTION)))
