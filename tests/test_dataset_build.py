"""`meflow dataset ...` end to end on a real multi-process Dask LocalCluster with Blender workers:
the same dataset whatever the worker count, resumable after kill -9, failures in a ledger, clear
errors for bad folders, recipes and schedulers, exports and plots."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from cli_helpers import TIMEOUT_S, assert_one_line_error, meflow

from shards.layout import DatasetDir
from shards.lock import LOCK_FILE
from shards.schema import FIELDS
from shards.writer import partial_owner

SHARDS, PER_SHARD = 3, 2


def build(out: Path, *extra: str) -> subprocess.CompletedProcess:
    return meflow("dataset", "build", "--out", str(out), "--shards", str(SHARDS), "--samples", str(PER_SHARD), *extra)


def assert_same_dataset(a: Path, b: Path, shards: int = SHARDS, per_shard: int = PER_SHARD) -> None:
    la, lb = DatasetDir(a), DatasetDir(b)
    assert la.complete_shards() == lb.complete_shards() == list(range(shards))
    for s in range(shards):
        ra, rb = la.reader(s), lb.reader(s)
        assert len(ra) == len(rb) == per_shard
        for f in FIELDS:
            np.testing.assert_array_equal(ra.column(f.name), rb.column(f.name), err_msg=f"shard {s} {f.name}")


@pytest.fixture(scope="module")
def one_worker(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("ds") / "one"
    result = build(out, "--workers", "1")
    assert result.returncode == 0, result.stderr
    assert "dashboard: http" in result.stdout and "ETA" in result.stderr
    return out


def test_two_workers_build_the_same_dataset(one_worker, tmp_path):
    result = build(tmp_path / "two", "--workers", "2")
    assert result.returncode == 0, result.stderr
    assert_same_dataset(one_worker, tmp_path / "two")
    assert meflow("dataset", "verify", str(tmp_path / "two")).returncode == 0


def start_build(out: Path, workers: int, shards: int = SHARDS, per_shard: int = PER_SHARD, **popen) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "pipeline.cli", "dataset", "build", "--out", str(out), "--shards", str(shards),
           "--samples", str(per_shard), "--workers", str(workers)]
    return subprocess.Popen(cmd, **popen)


def render_workers(proc: subprocess.Popen) -> list:
    import psutil

    workers = []
    for child in psutil.Process(proc.pid).children(recursive=True):
        try:
            if "spawn_main" in " ".join(child.cmdline()):
                workers.append(child)
        except psutil.Error:  # exited (or a zombie) since it was listed
            continue
    return workers


def frozen_shard_writer(proc: subprocess.Popen, out: Path, min_checkpointed: int = 0):
    """A render worker of `proc` caught writing a shard: (process, partial folder). The process is
    stopped (SIGSTOP) before its partial folder is checked again, so what the test then kills is
    known to hold an unfinished shard."""
    from shards.writer import read_checkpoint

    workers = {w.pid: w for w in render_workers(proc)}
    for partial in DatasetDir(out).partials():
        owner = partial_owner(partial)
        checkpoint = read_checkpoint(partial)
        count = checkpoint["count"] if checkpoint else 0
        if owner and owner[1] in workers and count >= min_checkpointed:
            worker = workers[owner[1]]
            worker.suspend()
            if partial.exists():
                return worker, partial
            worker.resume()
    return None


def wait_for(condition, poll_s: float = 0.05):
    """Poll until condition() returns something truthy (or TIMEOUT_S passes); return it."""
    deadline = time.time() + TIMEOUT_S
    while time.time() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(poll_s)
    return None


def test_kill_9_then_rerun_finishes_identically(one_worker, tmp_path):
    out = tmp_path / "killed"
    proc = start_build(out, 1, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    wait_for(lambda: DatasetDir(out).complete_shards() and DatasetDir(out).partials())
    os.killpg(proc.pid, signal.SIGKILL)  # the whole job, workers included, mid-shard
    proc.wait()
    assert 1 <= len(DatasetDir(out).complete_shards()) < SHARDS and DatasetDir(out).partials()  # really interrupted
    result = build(out, "--workers", "1")
    assert result.returncode == 0, result.stderr
    assert "1 shard(s) restarted after an interrupted attempt" in result.stdout, result.stdout
    assert not [p for p in (out / "shards").iterdir() if ".partial-" in p.name]
    assert_same_dataset(one_worker, out)
    assert meflow("dataset", "verify", str(out)).returncode == 0


def test_two_builds_of_one_folder_never_tear_it(one_worker, tmp_path):
    """A double submit: the second build stops in one line while the first holds the folder, a
    third waits (--wait) and then finds it complete; a shard torn afterwards is rendered again."""
    out = tmp_path / "raced"
    first = start_build(out, 1, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert wait_for(lambda: (out / ".writer.lock").exists() and (out / "dataset.json").exists())
    second = build(out, "--workers", "1")
    assert_one_line_error(second, "another meflow dataset build is writing", "--wait")
    waiting = subprocess.Popen([sys.executable, "-m", "pipeline.cli", "dataset", "build", "--out", str(out), "--shards",
                                str(SHARDS), "--samples", str(PER_SHARD), "--wait"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _, err = first.communicate(timeout=TIMEOUT_S)
    assert first.returncode == 0, err
    third, _ = waiting.communicate(timeout=TIMEOUT_S)
    assert waiting.returncode == 0 and "waiting for it to end" in third and f"all {SHARDS} shards are complete" in third
    assert_same_dataset(one_worker, out)

    (DatasetDir(out).shard_path(1) / "flow_facial" / "zarr.json").unlink()  # torn under its final name
    result = build(out, "--workers", "1")
    assert result.returncode == 0 and "shard 1 is torn (missing arrays ['flow_facial'])" in result.stdout, result.stdout
    assert_same_dataset(one_worker, out)
    assert meflow("dataset", "verify", str(out)).returncode == 0


def test_a_killed_worker_costs_only_its_shard(one_worker, tmp_path):
    """SIGKILL the render worker that is writing a shard: the shard is restarted (Dask retries its
    task), the build completes and equals an uninterrupted one."""
    out = tmp_path / "worker-killed"
    proc = start_build(out, 2, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    caught = wait_for(lambda: frozen_shard_writer(proc, out))
    assert caught is not None, "no render worker was seen writing a shard"
    victim, partial = caught
    victim.kill()
    stdout, stderr = proc.communicate(timeout=TIMEOUT_S)
    assert proc.returncode == 0, stderr
    assert "1 shard(s) restarted after an interrupted attempt" in stdout, stdout  # the retry happened
    assert not partial.exists()
    assert_same_dataset(one_worker, out)


def test_a_killed_worker_keeps_the_finished_blocks_of_its_shard(tmp_path):
    """The retry adopts the shard's checkpoint: only the unfinished part is rendered again."""
    from shards.schema import BLOCK

    per_shard = BLOCK + 4
    reference = meflow("dataset", "build", "--out", str(tmp_path / "reference"), "--shards", "1", "--samples", str(per_shard))
    assert reference.returncode == 0, reference.stderr
    out = tmp_path / "resumed"
    proc = start_build(out, 1, shards=1, per_shard=per_shard, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    caught = wait_for(lambda: frozen_shard_writer(proc, out, min_checkpointed=BLOCK), poll_s=0.02)
    assert caught is not None, "no render worker was seen with a checkpointed shard"
    caught[0].kill()
    stdout, stderr = proc.communicate(timeout=TIMEOUT_S)
    assert proc.returncode == 0, stderr
    assert f"{BLOCK} resumed from checkpoints" in stdout and "1 shard(s) restarted" in stdout, stdout
    assert_same_dataset(tmp_path / "reference", out, shards=1, per_shard=per_shard)


def test_failures_go_to_the_ledger_and_the_run_goes_on(tmp_path):
    from pipeline.synthesis.recipe import load_recipe

    images = tmp_path / "backgrounds"
    images.mkdir()
    (images / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    text = load_recipe("smoke").text.replace('kinds = ["gradient", "noise", "checker"]', 'kinds = ["images"]')
    recipe = tmp_path / "broken-backgrounds.toml"
    recipe.write_text(text.replace('image_folder = ""', f'image_folder = "{images}"'))
    out = tmp_path / "ds"
    result = meflow("dataset", "build", "--out", str(out), "--shards", "1", "--samples", "2", "--recipe", str(recipe))
    assert result.returncode == 0, result.stderr
    assert "failed sample 0 at render" in result.stderr and "broken.png cannot be read" in result.stderr
    info = json.loads(meflow("dataset", "info", str(out), "--json").stdout)
    assert info["failed_samples"] == 2 and info["samples"] == 0 and info["shards_complete"] == 1
    assert meflow("dataset", "verify", str(out)).returncode == 0  # failures are accounted for


def test_bad_requests_fail_in_one_line_and_lose_nothing(one_worker, tmp_path):
    def data_files() -> dict:  # everything but the writer lock, which records its last holder
        return {p: p.stat().st_mtime_ns for p in one_worker.rglob("*") if p.name != LOCK_FILE}

    before = data_files()
    assert_one_line_error(build(one_worker, "--recipe", "meflow-v1"), "another recipe ('smoke')", "choose a new --out")
    assert data_files() == before
    assert_one_line_error(build(Path("/proc/meflow-dataset")), "choose a writable --out")
    assert_one_line_error(build(tmp_path / "x", "--cluster", "tcp://127.0.0.1:9"), "cannot reach the scheduler at tcp://127.0.0.1:9")
    assert_one_line_error(build(tmp_path / "y", "--cluster", "slurmm"), "no cluster settings", "use local, slurm, kubernetes")
    assert_one_line_error(build(tmp_path / "z", "--recipe", "nope"), "no recipe 'nope'", "smoke")
    assert_one_line_error(meflow("dataset", "info", str(tmp_path / "nothing")), "is not a MEFlow dataset")
    assert_one_line_error(meflow("dataset", "verify", str(tmp_path / "nothing")), "is not a MEFlow dataset")
    assert_one_line_error(meflow("dataset", "stats", str(tmp_path / "nothing"), "--out", str(tmp_path / "s")), "is not a MEFlow dataset")
    assert_one_line_error(meflow("dataset", "export", str(one_worker), "--format", "tfrecord", "--out", str(tmp_path / "e")),
                          "--format must be one of")
    assert_one_line_error(build(tmp_path / "w", "--workers", "0"), "Invalid value for '--workers'", "meflow dataset build --help")
    assert_one_line_error(meflow("dataset", "build", "--out", str(tmp_path / "v"), "--shrads", "2"), "No such option: --shrads")
    assert_one_line_error(meflow("dataset", "verify"), "Missing argument")
    assert_one_line_error(meflow("fit", str(tmp_path / "no-photos"), "--out", str(tmp_path / "f")), "no such file or folder")
    assert not (tmp_path / "x").exists() or not any((tmp_path / "x").rglob("*.zarr"))


def test_verify_names_the_bad_shard(one_worker, tmp_path):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(one_worker, copy)
    victim = sorted((copy / "shards" / "shard-00002.zarr" / "flow_head").rglob("*"))[-1]
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 0xFF
    victim.write_bytes(bytes(data))
    result = meflow("dataset", "verify", str(copy))
    assert result.returncode == 1 and "shard 00002" in result.stderr


def test_info_export_and_stats(one_worker, tmp_path):
    info = meflow("dataset", "info", str(one_worker))
    assert info.returncode == 0 and "recipe:                 smoke" in info.stdout and "samples:                6" in info.stdout
    assert meflow("dataset", "export", str(one_worker), "--format", "flo", "--out", str(tmp_path / "flo")).returncode == 0
    reader = DatasetDir(one_worker).reader(1)
    sample = reader.read(0)
    folder = tmp_path / "flo" / f"smoke-{int(sample['sample_index']):07d}"
    np.testing.assert_array_equal(cv2.readOpticalFlow(str(folder / "flow_facial.flo")), sample["flow_facial"])
    np.testing.assert_array_equal(cv2.imread(str(folder / "onset.png"))[..., ::-1], sample["onset"])
    assert meflow("dataset", "export", str(one_worker), "--format", "mellm", "--out", str(tmp_path / "mellm")).returncode == 0
    entries = [json.loads(line) for name in ("meflow_files.jsonl", "meflow_files_test.jsonl")
               for line in (tmp_path / "mellm" / "labels" / name).read_text().splitlines()]
    assert len(entries) == SHARDS * PER_SHARD
    np.testing.assert_array_equal(np.load(entries[0]["facial_flow"])["optical_flow"].shape, (96, 96, 2))
    stats = meflow("dataset", "stats", str(one_worker), "--out", str(tmp_path / "stats"))
    assert stats.returncode == 0, stats.stderr
    for name in ("flow_magnitudes.png", "flow_by_region.png", "scales_vs_recipe.png", "contact_sheet.png"):
        assert (tmp_path / "stats" / name).stat().st_size > 5000


def test_cluster_settings_build_real_cluster_objects():
    from pipeline.build.cluster import kubernetes_spec, load_settings, slurm_cluster

    slurm = load_settings("slurm")
    cluster = slurm_cluster(slurm)
    try:
        script = cluster.job_script()
        assert "--gres=gpu:1" in script and "--lifetime 55m" in script and "--resources GPU=1" in script
    finally:
        cluster.close()
    spec = kubernetes_spec(load_settings("kubernetes"))
    worker = spec["spec"]["worker"]["spec"]["containers"][0]
    assert worker["resources"]["limits"]["nvidia.com/gpu"] == "1"
    assert "--lifetime" in worker["args"] and "55m" in worker["args"]


def test_a_full_disk_stops_in_one_line_and_the_rerun_finishes(one_worker, tmp_path):
    """A small tmpfs fills up mid-build: one line, the finished shards and checkpoints stay, and
    the same command after freeing space finishes the same dataset. Needs root (mount)."""
    disk = tmp_path / "small-disk"
    disk.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=400k", "tmpfs", str(disk)], capture_output=True).returncode:
        pytest.skip("cannot mount a tmpfs here (needs root)")
    try:
        out = disk / "ds"
        full = build(out, "--workers", "1")
        errors = [line for line in full.stderr.splitlines() if "error" in line.lower()]  # progress lines precede it
        assert full.returncode == 2 and "Traceback" not in full.stderr and len(errors) == 1, full.stderr
        assert errors[0].startswith("error: the disk is full writing shards into") and "rerun the same command" in errors[0]
        kept = DatasetDir(out).complete_shards()
        assert len(kept) < SHARDS
        subprocess.run(["mount", "-o", "remount,size=64m", str(disk)], check=True)
        rerun = build(out, "--workers", "1")
        assert rerun.returncode == 0, rerun.stderr
        assert f"({len(kept)} were done)" in rerun.stdout
        assert_same_dataset(one_worker, out)
    finally:
        subprocess.run(["umount", "-l", str(disk)], capture_output=True)
