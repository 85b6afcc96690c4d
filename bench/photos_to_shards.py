"""From an AffectNet-shaped folder to verified shards, timed stage by stage, and `meflow fit` on
Dask with 1 and 2 local workers side by side (images / s).

    python bench/photos_to_shards.py [--copies 8] [--shards 2] [--samples 4]

The folder is write_affectnet_sample's (the package photos, 7 rows) with its four good rows
repeated `copies` times (each copy is fitted anew), so fitting has enough items to spread.
"""
from __future__ import annotations

import argparse
import csv
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from distributed import Client, LocalCluster

from flame_assets.assets import load_assets
from flame_assets.config import resolve_assets_dir
from pipeline.fitting.distributed import fit_on_cluster
from pipeline.fitting.run import FitOptions
from pipeline.fitting.sample_photos import AFFECTNET_IMAGES, write_affectnet_sample
from pipeline.fitting.sources import affectnet_items

GOOD_ROWS = 4  # the first rows of write_affectnet_sample fit; the others are rejected or fail


def repeated_sample(folder: Path, copies: int) -> Path:
    """The sample's CSV with its good rows repeated `copies` times (all rows kept once)."""
    source = write_affectnet_sample(folder)
    with open(source, newline="") as handle:
        header, *rows = list(csv.reader(handle))
    path = folder / "repeated.csv"
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows[:GOOD_ROWS] * copies + rows[GOOD_ROWS:])
    return path


def fit_rate(csv_path: Path, out: Path, workers: int, batch: int, assets_dir: Path) -> tuple[float, float, int]:
    """(images / s of the fitting itself, cluster start-up s, items) on a LocalCluster."""
    items = affectnet_items(csv_path, csv_path.parent / AFFECTNET_IMAGES)
    options = FitOptions(batch_size=batch, diagnostics=False)
    t0 = time.perf_counter()
    cores = 2
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0",
                      silence_logs=40) as cluster, Client(cluster) as client:
        start_s = time.perf_counter() - t0
        t1 = time.perf_counter()
        fit_on_cluster(client, items, out, options, assets_dir, max(1, cores // workers), echo=lambda *_: None)
        fit_s = time.perf_counter() - t1
    return len(items) / fit_s, start_s, len(items)


def timed(*args: str) -> float:
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "pipeline.cli", *args], check=True, capture_output=True)
    return time.perf_counter() - t


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--copies", type=int, default=8)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--shards", type=int, default=2)
    parser.add_argument("--samples", type=int, default=4)
    args = parser.parse_args()
    assets_dir, _ = resolve_assets_dir(None)
    load_assets(assets_dir)
    work = Path(tempfile.mkdtemp(prefix="meflow-bench-photos-"))
    try:
        csv_path = repeated_sample(work / "affectnet", args.copies)
        print(f"fitting on Dask (LocalCluster, {args.batch} photos per task, 400 iterations, no diagnostics):")
        rates = {}
        for workers in (1, 2):
            rate, start_s, n = fit_rate(csv_path, work / f"fits-{workers}", workers, args.batch, assets_dir)
            rates[workers] = rate
            print(f"  {workers} worker(s): {rate:.2f} images/s over {n} rows (cluster start-up {start_s:.1f} s)")
        print(f"  2 workers / 1 worker: {rates[2] / rates[1]:.2f}x")

        recipe = (Path(__file__).resolve().parent.parent / "datasets" / "affectnet-smoke.toml").read_text()
        recipe = recipe.replace('"build/affectnet-sample/training.csv"', f'"{csv_path}"')
        recipe = recipe.replace('"build/affectnet-sample/Manually_Annotated_Images"', f'"{csv_path.parent / AFFECTNET_IMAGES}"')
        (work / "recipe.toml").write_text(recipe)
        out = work / "dataset"
        t = time.perf_counter()
        build = subprocess.run([sys.executable, "-m", "pipeline.cli", "dataset", "build", "--out", str(out), "--recipe",
                                str(work / "recipe.toml"), "--shards", str(args.shards), "--samples", str(args.samples)],
                               check=True, capture_output=True, text=True)
        build_s = time.perf_counter() - t
        fit_s = float(build.stdout.split("fitting ")[-1].split(" s of it")[0])
        verify_s = timed("dataset", "verify", str(out))
        stats_s = timed("dataset", "stats", str(out), "--out", str(work / "stats"))
        total = build_s + verify_s + stats_s
        print(f"one command, affectnet-smoke on {csv_path.name} ({args.shards} x {args.samples} pairs at 96 x 96, 1 worker):")
        print(f"  fit {fit_s:.1f} s | render (with cluster start-up) {build_s - fit_s:.1f} s | verify {verify_s:.1f} s | "
              f"stats {stats_s:.1f} s | total {total:.1f} s")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
