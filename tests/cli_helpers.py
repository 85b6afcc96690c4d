"""Running `meflow` as a user does (a subprocess) and checking its one-line errors."""
from __future__ import annotations

import os
import subprocess
import sys

TIMEOUT_S = 600


def meflow(*args: str, env: dict | None = None, timeout: int = TIMEOUT_S) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pipeline.cli", *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=timeout)


def assert_one_line_error(result: subprocess.CompletedProcess, *fragments: str, code: int = 2) -> None:
    """Exit `code`, no traceback, and stderr is one line `error: ...` holding every fragment."""
    assert result.returncode == code, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
