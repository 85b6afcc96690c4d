"""Photos to shards on a real Dask cluster: `meflow fit` as batches of tasks (the same bytes on 1
or 2 workers, a killed worker costs only its batch), an AffectNet recipe source fitted and
rendered by one `meflow dataset build`, and one-line errors for bad photo inputs."""
from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import psutil
import pytest
from cli_helpers import TIMEOUT_S, assert_one_line_error, meflow

from pipeline.fitting.output import PARAMS, RESULT, accepted_fit_folders
from pipeline.fitting.sample_photos import AFFECTNET_IMAGES, write_affectnet_sample
from shards.layout import DatasetDir

ITERATIONS = "60"  # enough to fit the sample photos' landmarks below the NME limit
ACCEPTED, REJECTED, FAILED = 4, 1, 2  # write_affectnet_sample's rows


@pytest.fixture(scope="module")
def affectnet(tmp_path_factory) -> Path:
    return write_affectnet_sample(tmp_path_factory.mktemp("affectnet"))


def fit(csv: Path, out: Path, *extra: str) -> subprocess.CompletedProcess:
    images = ["--image-root", str(csv.parent / AFFECTNET_IMAGES)] if "--image-root" not in extra else []
    return meflow("fit", str(csv), "--out", str(out), *images, "--iterations", ITERATIONS, "--no-diagnostics", "--batch", "2", *extra)


@pytest.fixture(scope="module")
def one_worker_fits(affectnet, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("fits") / "one"
    result = fit(affectnet, out, "--workers", "1")
    assert result.returncode == 0, result.stderr[-2000:]
    return out


def fit_files(folder: Path) -> dict[str, bytes]:
    return {p.parent.name: p.read_bytes() for p in sorted(Path(folder).glob(f"*/{PARAMS}"))}


def test_two_workers_fit_the_same_bytes_and_bad_rows_are_counted(affectnet, one_worker_fits, tmp_path):
    summary = json.loads((one_worker_fits / "summary.json").read_text())
    assert (summary["ok"], summary["rejected"], summary["failed"]) == (ACCEPTED, REJECTED, FAILED)
    assert summary["failure_reasons"] == {"fit above the error limit": 1, "missing image": 1, "bad landmarks": 1}
    result = fit(affectnet, tmp_path / "two", "--workers", "2")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "dashboard: http" in result.stdout and "4/4 batches" in result.stderr  # progress with ETA on stderr
    one, two = fit_files(one_worker_fits), fit_files(tmp_path / "two")
    assert len(one) == ACCEPTED and one == two  # identical params.npz bytes


def _fit_workers(proc: subprocess.Popen) -> list[psutil.Process]:
    return [c for c in psutil.Process(proc.pid).children(recursive=True) if "spawn_main" in " ".join(c.cmdline())]


def _finished(out: Path) -> list[Path]:
    """The result files of committed fit folders: pathlib's '*' also matches the hidden
    '.name.tmp' folder a fit is written in before its atomic rename."""
    try:
        return [p for p in out.glob(f"*/{RESULT}") if not p.parent.name.startswith(".")]
    except FileNotFoundError:  # a temporary folder renamed while the glob walked it
        return []


def test_a_killed_worker_costs_only_its_batch(affectnet, one_worker_fits, tmp_path):
    out = tmp_path / "killed"
    proc = subprocess.Popen([sys.executable, "-m", "pipeline.cli", "fit", str(affectnet), "--out", str(out), "--image-root",
                             str(affectnet.parent / AFFECTNET_IMAGES), "--iterations",
                             "400", "--batch", "1", "--workers", "2"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + TIMEOUT_S
    while not _finished(out) and time.time() < deadline:
        time.sleep(0.05)
    done_before = {p.parent.name: p.stat().st_mtime_ns for p in _finished(out)}
    victim = _fit_workers(proc)[0]
    victim.kill()  # SIGKILL, mid-batch: its batch is run again on the replacement worker
    _, err = proc.communicate(timeout=TIMEOUT_S)
    assert proc.returncode == 0, err[-2000:]
    assert 0 < len(done_before) < ACCEPTED + REJECTED + FAILED  # it really was killed mid-run
    for name, mtime in done_before.items():  # what was done is not done again
        assert (out / name / RESULT).stat().st_mtime_ns == mtime, name
    summary = json.loads((out / "summary.json").read_text())
    assert (summary["ok"], summary["rejected"], summary["failed"]) == (ACCEPTED, REJECTED, FAILED)
    assert not list(out.glob(".*.tmp"))


def test_bad_photo_inputs_fail_in_one_line_and_lose_nothing(affectnet, one_worker_fits, tmp_path):
    assert_one_line_error(fit(tmp_path / "nothing.csv", tmp_path / "o", "--image-root", str(tmp_path)), "no such file or folder")
    assert_one_line_error(fit(affectnet, tmp_path / "o", "--image-root", str(tmp_path / "no-images")),
                          "the image folder does not exist")
    broken = tmp_path / "broken.csv"
    broken.write_text("subDirectory_filePath,face_x,face_y\n1/a.png,0,0\n")
    assert_one_line_error(fit(broken, tmp_path / "o", "--image-root", str(tmp_path)), "not an AffectNet CSV", "facial_landmarks")
    # A fit folder of another head model: nothing in it is touched.
    other = tmp_path / "other-model"
    item = accepted_fit_folders(one_worker_fits)[0]
    (other / item.name).mkdir(parents=True)
    with np.load(item / PARAMS) as data:
        np.savez(other / item.name / PARAMS, **{**dict(data), "model_fingerprint": np.array("0123456789abcdef")})
    before = (other / item.name / PARAMS).read_bytes()
    assert_one_line_error(fit(affectnet, other), "holds fits made with head model 0123456789ab", "choose a new --out")
    assert (other / item.name / PARAMS).read_bytes() == before
    assert_one_line_error(fit(affectnet, tmp_path / "o", "--cluster", "nowhere"), "no cluster settings")


def photo_recipe(affectnet: Path, folder: Path) -> Path:
    text = (Path(__file__).resolve().parent.parent / "datasets" / "affectnet-smoke.toml").read_text()
    text = text.replace('"build/affectnet-sample/training.csv"', f'"{affectnet}"')
    text = text.replace('"build/affectnet-sample/Manually_Annotated_Images"', f'"{affectnet.parent / AFFECTNET_IMAGES}"')
    text = text.replace("iterations = 200", f"iterations = {ITERATIONS}").replace("batch = 4", "batch = 2")  # as fit()
    path = folder / "affectnet.toml"
    path.write_text(text)
    return path


def test_one_build_fits_the_photos_then_renders_them(affectnet, one_worker_fits, tmp_path):
    recipe = photo_recipe(affectnet, tmp_path)
    out = tmp_path / "dataset"
    result = meflow("dataset", "build", "--out", str(out), "--shards", "2", "--samples", "3", "--recipe", str(recipe))
    assert result.returncode == 0, result.stderr[-2000:]
    assert f"fits: {ACCEPTED} accepted, {REJECTED} rejected, {FAILED} failed of 7 photos" in result.stdout
    meta = json.loads((out / "dataset.json").read_text())
    assert meta["fits"]["folder"] == "fits" and meta["fits"]["ok"] == ACCEPTED
    assert fit_files(out / "fits") == fit_files(one_worker_fits)  # the build fits as `meflow fit` does
    info = json.loads(meflow("dataset", "info", str(out), "--json").stdout)
    assert info["fits"]["failure_reasons"] == {"fit above the error limit": 1, "missing image": 1, "bad landmarks": 1}
    names = [p.name for p in accepted_fit_folders(out / "fits")]
    layout = DatasetDir(out)
    for k in range(6):  # sample k takes accepted fit k mod N, by name
        sample = layout.reader(k // 3).read(k % 3, ("source_id",))
        with np.load(out / "fits" / names[k % len(names)] / PARAMS) as p:
            assert sample["source_id"] == str(p["source_id"])
    assert meflow("dataset", "verify", str(out)).returncode == 0
    rerun = meflow("dataset", "build", "--out", str(out), "--shards", "3", "--samples", "3", "--recipe", str(recipe))
    assert rerun.returncode == 0 and "fitting 0 of 7 items" in rerun.stdout, rerun.stdout  # failed photos stay failed
    assert meflow("dataset", "verify", str(out)).returncode == 0

    missing = recipe.read_text().replace(str(affectnet), str(tmp_path / "gone.csv"))
    (tmp_path / "missing.toml").write_text(missing)
    assert_one_line_error(meflow("dataset", "build", "--out", str(tmp_path / "d2"), "--recipe", str(tmp_path / "missing.toml")),
                          "gone.csv: no such file or folder")
