"""One writer per folder: an exclusive advisory lock (flock) on FOLDER/.writer.lock.

The kernel drops the lock when its holder exits, however it exits (kill -9 included), so a
crashed build never blocks the next. The file also records who holds the lock, so the process
that is refused can say whom it is waiting for. On a shared file system the lock is as good
as the file system's flock (NFSv4: yes; Lustre: mount with -o flock).
"""
from __future__ import annotations

import fcntl
import json
import os
import socket
import sys
import time
from pathlib import Path

LOCK_FILE = ".writer.lock"
WAIT_POLL_S = 1.0


class FolderBusy(RuntimeError):
    """Another process writes this folder; the message names it and says what to do."""


class FolderLock:
    """Usage: `with FolderLock(folder, what="build"): ...`. Raises FolderBusy at once when
    another process holds the folder, or waits for it with `wait=True`."""

    def __init__(self, folder: Path, what: str = "build", wait: bool = False,
                 on_wait=lambda message: None) -> None:
        self.folder, self.what, self.wait, self.on_wait = Path(folder), what, wait, on_wait
        self._handle = None

    @property
    def path(self) -> Path:
        return self.folder / LOCK_FILE

    def holder(self) -> dict:
        """What the current holder wrote about itself ({} when unknown)."""
        try:
            return json.loads(self.path.read_text() or "{}")
        except (OSError, ValueError):
            return {}

    def _busy_message(self) -> str:
        who = self.holder()
        since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(who["since"])) if "since" in who else "?"
        return (f"another {who.get('what', 'writer')} is writing {self.folder} (process {who.get('pid', '?')} on "
                f"{who.get('host', '?')}, since {since}): wait for it to end, stop it, or rerun with --wait")

    def acquire(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+")  # noqa: SIM115 - held open: the lock lives as long as the handle
        announced = False
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if not self.wait:
                    handle.close()
                    raise FolderBusy(self._busy_message()) from None
                if not announced:
                    self.on_wait(self._busy_message().split(":")[0] + ": waiting for it to end")
                    announced = True
                time.sleep(WAIT_POLL_S)
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps({"what": self.what, "pid": os.getpid(), "host": socket.gethostname(),
                                 "since": time.time(), "command": " ".join(sys.argv)}))
        handle.flush()
        self._handle = handle

    def release(self) -> None:
        if self._handle is not None:
            fcntl.flock(self._handle, fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None

    def __enter__(self) -> FolderLock:
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()
