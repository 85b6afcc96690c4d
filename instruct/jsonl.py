"""JSON Lines files that a killed run never leaves half-written: each record is one write() of a
whole line to a file opened for appending, flushed to disk; a line torn by a crash (no final
newline, or not JSON) is cut off when the file is opened again, so a rerun finds only whole
records and skips them."""
from __future__ import annotations

import json
import os
import uuid
from pathlib import Path


def read_jsonl(path: Path) -> list[dict]:
    """Whole records of a JSONL file ([] when it does not exist); ValueError naming the line for
    a record in the middle that is not JSON."""
    path = Path(path)
    if not path.exists():
        return []
    records = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip():
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError as err:
                raise ValueError(f"{path}:{number} is not JSON ({err.msg})") from None
    return records


def repair_tail(path: Path) -> int:
    """Cut a torn last line off `path` (one without its newline, or not JSON); -> bytes removed."""
    path = Path(path)
    if not path.exists():
        return 0
    data = path.read_bytes()
    keep = len(data)
    if data and not data.endswith(b"\n"):
        keep = data.rfind(b"\n") + 1
    else:
        last_start = data.rfind(b"\n", 0, max(0, len(data) - 1)) + 1
        try:
            if data[last_start:].strip():
                json.loads(data[last_start:])
        except ValueError:
            keep = last_start
    if keep < len(data):
        with path.open("r+b") as handle:
            handle.truncate(keep)
    return len(data) - keep


class JsonlAppender:
    """Appends whole records to one JSONL file; `ids` holds the ids already in it."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.repaired = repair_tail(self.path)
        self.ids = {str(r.get("id")) for r in read_jsonl(self.path)}

    def append(self, record: dict) -> None:
        line = (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            view = memoryview(line)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        self.ids.add(str(record.get("id")))


def write_text_atomic(path: Path, text: str) -> None:
    """Write a whole file under a temporary name, then rename it into place."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
