"""What a dataset will cost before a farm is booked: `meflow dataset plan`.

A short calibration renders a few of the recipe's own pairs on this machine, exactly as a build
worker does (one RenderWorker, the same Cycles settings), and writes them into a real shard; the
estimate scales those measurements to the dataset. Render time is taken to scale with the cores
a worker has (Cycles traces pixels in parallel on all of them).
"""
from __future__ import annotations

import math
import os
import platform
import resource
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from flame_assets.assets import FlameAssets
from shards.writer import ShardWriter

from ..synthesis.recipe import Recipe

GPU_DEVICES = ("CUDA", "OPTIX")


@dataclass(frozen=True)
class Calibration:
    """Measured on this machine: seconds per pair (steady state, wall) with `threads` Cycles
    threads on `device`, split into beauty renders, data layer + scene update, painting and the
    rest; the worker's start-up (first pair included); its peak resident memory; shard bytes per
    sample."""

    machine: str
    device: str
    threads: int
    width: int
    height: int
    pairs: int
    seconds_per_pair: float
    beauty_seconds: float
    paint_seconds: float
    startup_seconds: float
    peak_memory_mb: float
    bytes_per_sample: float

    @property
    def compute_seconds_per_pair(self) -> float:
        """Core-seconds on a CPU; GPU-seconds on a GPU (one GPU per worker)."""
        return self.seconds_per_pair * (1 if self.device in GPU_DEVICES else self.threads)


@dataclass(frozen=True)
class FarmPlan:
    """The dataset's expected bill: compute hours (core-hours on CPU, GPU-hours on GPU), wall
    hours on `workers` workers of `cores_per_worker` cores (or one GPU each), disk and memory."""

    pairs: int
    workers: int
    cores_per_worker: int
    unit: str  # "core-hours" | "GPU-hours"
    compute_hours: float
    wall_hours: float
    disk_gb: float
    memory_per_worker_gb: float


def estimate(cal: Calibration, shards: int, samples_per_shard: int, workers: int, cores_per_worker: int) -> FarmPlan:
    """Scale a calibration to shards x samples_per_shard pairs on `workers` workers. Pure."""
    if min(shards, samples_per_shard, workers, cores_per_worker) < 1:
        raise ValueError("shards, samples, workers and cores per worker must be at least 1")
    pairs = shards * samples_per_shard
    gpu = cal.device in GPU_DEVICES
    compute_s = pairs * cal.compute_seconds_per_pair
    # Shards are the unit of work: a worker renders whole shards, so the slowest worker has ceil(shards / workers).
    busy_pairs = math.ceil(shards / workers) * samples_per_shard
    per_pair_on_worker = cal.compute_seconds_per_pair / (1 if gpu else cores_per_worker)
    wall_s = cal.startup_seconds + busy_pairs * per_pair_on_worker
    return FarmPlan(
        pairs=pairs, workers=workers, cores_per_worker=cores_per_worker, unit="GPU-hours" if gpu else "core-hours",
        compute_hours=compute_s / 3600.0, wall_hours=wall_s / 3600.0,
        disk_gb=pairs * cal.bytes_per_sample / 1e9, memory_per_worker_gb=cal.peak_memory_mb / 1024.0,
    )


def machine_name() -> str:
    model = ""
    try:
        with open("/proc/cpuinfo") as fh:
            model = next((line.split(":", 1)[1].strip() for line in fh if line.startswith("model name")), "")
    except OSError:
        pass
    return f"{os.cpu_count()} cores{', ' + model if model else ''} ({platform.machine()})"


def peak_memory_mb() -> float:
    """Peak resident memory of this process (Linux reports kB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def calibrate(recipe: Recipe, assets: FlameAssets, pairs: int = 2, threads: int = 0) -> Calibration:
    """Render pairs + 1 of the recipe's samples in this process as a build worker would (the first
    is start-up), write them into a shard in a temporary folder, and measure."""
    from ..synthesis.pair import RenderWorker
    from .records import sample_record

    if pairs < 1:
        raise ValueError("calibrate at least 1 pair")
    threads = threads or recipe.render.threads or os.cpu_count() or 1
    t0 = time.perf_counter()
    worker = RenderWorker(recipe, assets, threads=threads)
    results = [worker.render_index(0)]
    startup = time.perf_counter() - t0
    steady, beauty, paint = [], [], []
    for k in range(1, pairs + 1):
        t = time.perf_counter()
        results.append(worker.render_index(k))
        steady.append(time.perf_counter() - t)
        timings = results[-1].timings
        beauty.append(timings["render_onset_and_data"] + timings["render_apex"])
        paint.append(timings["appearance"])
    spec = recipe.render
    with tempfile.TemporaryDirectory(prefix="meflow-plan-") as tmp:
        final = Path(tmp) / "shard-00000"
        writer = ShardWriter(final, len(results), spec.height, spec.width, {"calibration": True})
        for k, result in enumerate(results):
            writer.append(sample_record(result), k)
        writer.finish()
        size = sum(f.stat().st_size for f in final.rglob("*") if f.is_file())
    return Calibration(
        machine=machine_name(), device=spec.device, threads=threads, width=spec.width, height=spec.height, pairs=pairs,
        seconds_per_pair=sum(steady) / pairs, beauty_seconds=sum(beauty) / pairs, paint_seconds=sum(paint) / pairs,
        startup_seconds=startup, peak_memory_mb=peak_memory_mb(), bytes_per_sample=size / len(results),
    )


def plan_json(recipe: Recipe, cal: Calibration, plan: FarmPlan, shards: int, samples: int) -> dict:
    return {"recipe": recipe.name, "recipe_hash": recipe.hash, "shards": shards, "samples": samples,
            "calibration": {**asdict(cal), "compute_seconds_per_pair": cal.compute_seconds_per_pair}, "plan": asdict(plan)}


def _hours(h: float) -> str:
    return f"{h:,.1f} h" if h >= 1 else f"{60 * h:.1f} min"


def _bytes(gb: float) -> str:
    return f"{gb:,.2f} GB" if gb >= 1 else f"{1000 * gb:,.1f} MB"


def plan_lines(recipe: Recipe, cal: Calibration, plan: FarmPlan, shards: int, samples: int) -> list[str]:
    """The report `meflow dataset plan` prints."""
    gpu = cal.device in GPU_DEVICES
    unit = "GPU-s" if gpu else "core-s"
    worker = "1 GPU" if gpu else f"{plan.cores_per_worker} cores"
    return [
        f"{recipe.name} ({cal.width} x {cal.height}, {recipe.render.samples} samples/pixel"
        f"{' + denoising' if recipe.render.denoise else ''}, {cal.device}), calibrated on {cal.pairs} pair(s) on {cal.machine}:",
        f"  per pair: {cal.seconds_per_pair:.2f} s with {cal.threads} thread(s) = {cal.compute_seconds_per_pair:.1f} {unit} "
        f"(renders {cal.beauty_seconds:.2f} s, painting {cal.paint_seconds:.2f} s, "
        f"the rest {cal.seconds_per_pair - cal.beauty_seconds - cal.paint_seconds:.2f} s); worker start-up {cal.startup_seconds:.1f} s",
        f"  {shards} shards x {samples} samples = {plan.pairs:,} pairs:",
        f"    compute: {plan.compute_hours:,.{1 if plan.compute_hours >= 1 else 3}f} {plan.unit}",
        f"    wall:    {_hours(plan.wall_hours)} on {plan.workers} worker(s) of {worker} (render time taken to scale with cores)",
        f"    disk:    {_bytes(plan.disk_gb)} ({cal.bytes_per_sample / 1e3:,.0f} kB per sample, as written to a shard)",
        f"    memory:  {plan.memory_per_worker_gb:.2f} GB per worker (peak resident during calibration)",
    ]
