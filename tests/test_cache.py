"""Cached folders (the stand-in, smplx's copy) are whole or absent, even when runs race or die."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from flame_assets.cache import MARKER, atomic_folder


def _fill(folder):
    (folder / "data.txt").write_text("payload")


def test_torn_folder_from_a_killed_run_is_replaced(tmp_path):
    root = tmp_path / "thing"
    root.mkdir()
    (root / "half-written.bin").write_bytes(b"\0" * 10)  # no marker: the writer died
    assert atomic_folder(root, _fill) == root
    assert sorted(p.name for p in root.iterdir()) == [MARKER, "data.txt"]


def test_racing_writers_leave_one_complete_folder(tmp_path):
    root = tmp_path / "thing"
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: atomic_folder(root, _fill), range(8)))
    assert set(results) == {root}
    assert (root / "data.txt").read_text() == "payload"
    assert [p.name for p in tmp_path.iterdir()] == ["thing"]  # no staging folders left behind


def test_complete_folder_is_reused_untouched(tmp_path):
    root = atomic_folder(tmp_path / "thing", _fill)
    stamp = (root / "data.txt").stat().st_mtime_ns
    atomic_folder(root, lambda folder: (_ for _ in ()).throw(AssertionError("refilled")))
    assert (root / "data.txt").stat().st_mtime_ns == stamp
