"""One progress line for a Dask driver (shards rendered, batches fitted): a bar, counts,
elapsed time and an ETA, redrawn in place on stderr."""
from __future__ import annotations

import sys
import time

BAR_WIDTH = 30


def _clock(seconds: float) -> str:
    return f"{int(seconds) // 60:02d}:{int(seconds) % 60:02d}"


def progress(done: int, total: int, unit: str, detail: str, started: float) -> None:
    """Draw `[####   ] done/total unit, detail, mm:ss elapsed, ETA mm:ss` (started: perf_counter)."""
    elapsed = time.perf_counter() - started
    eta = _clock(elapsed / done * (total - done)) if done else "--:--"
    bar = "#" * int(BAR_WIDTH * done / max(total, 1))
    sys.stderr.write(f"\r[{bar:<{BAR_WIDTH}}] {done}/{total} {unit}, {detail}, {_clock(elapsed)} elapsed, ETA {eta}")
    sys.stderr.flush()


def progress_end() -> None:
    sys.stderr.write("\n")
    sys.stderr.flush()
