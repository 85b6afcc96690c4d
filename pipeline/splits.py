"""Train / test split by source identity: a stable hash of the identity decides, so no identity is
ever on both sides, whatever the shards, workers or order."""
from __future__ import annotations

import hashlib

DEFAULT_TEST_FRACTION = 0.1


def is_test(source_id: str, test_fraction: float = DEFAULT_TEST_FRACTION, salt: str = "meflow-split-v1") -> bool:
    digest = hashlib.sha256(f"{salt}:{source_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < test_fraction
