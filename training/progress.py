"""A one-line progress bar for training on stderr (redrawn in place on a terminal, a line per
report in a log file)."""
from __future__ import annotations

import sys
import time

BAR_WIDTH = 24


class ProgressBar:
    def __init__(self, label: str, start: int, total: int, enabled: bool = True) -> None:
        self.label, self.start, self.total, self.enabled = label, start, total, enabled
        self.began = time.monotonic()
        self.interactive = sys.stderr.isatty()

    def update(self, step: int, text: str = "", force: bool = False) -> None:
        if not self.enabled or not (self.interactive or force):
            return
        done = max(0, step - self.start)
        elapsed = time.monotonic() - self.began
        left = (self.total - step) * elapsed / done if done else 0.0
        filled = int(BAR_WIDTH * step / max(1, self.total))
        line = f"{self.label} [{'#' * filled}{' ' * (BAR_WIDTH - filled)}] {step}/{self.total} {text} ETA {int(left // 60):02d}:{int(left % 60):02d}"
        sys.stderr.write(("\r" + line) if self.interactive else line + "\n")
        sys.stderr.flush()

    def close(self) -> None:
        if self.enabled and self.interactive:
            sys.stderr.write("\n")
