"""`meflow dataset build`: one Dask task per shard, one long-lived Blender per worker process,
atomic shards, resumable after any kill, a failure ledger instead of a crash."""
from __future__ import annotations

import errno
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from distributed import WorkerPlugin, as_completed, get_worker

from flame_assets.assets import FlameAssets
from shards.layout import DatasetDir, DatasetError, check_compatible
from shards.lock import FolderLock
from shards.schema import SCHEMA_VERSION
from shards.splits import SplitRule
from shards.writer import ShardWriter

from ..synthesis.distributions import RecipeError
from ..synthesis.recipe import Recipe
from .progress import progress, progress_end

PLUGIN_NAME = "meflow-render-worker"
TASK_RETRIES = 2  # a shard whose worker died is re-run this many times elsewhere
KEPT_METADATA = ("blender_version", "fits")  # recorded by a build's stages; a rerun keeps them


class BuildDiskFull(OSError):
    """The disk filled up while shards were written."""


class RenderPlugin(WorkerPlugin):
    """Starts Blender and the face model once per worker process (also on workers that join
    later); tasks find it with get_worker().plugins."""

    name = PLUGIN_NAME

    def __init__(self, recipe_text: str, recipe_file: str, assets_dir: str, threads: int, device: str | None,
                 fits: str = "") -> None:
        self.recipe_text, self.recipe_file, self.assets_dir = recipe_text, recipe_file, assets_dir
        self.threads, self.device, self.fits = threads, device, fits
        self.worker = None

    def setup(self, worker) -> None:
        from flame_assets.assets import load_assets

        from ..synthesis.pair import RenderWorker
        from ..synthesis.recipe import parse_recipe, with_device, with_fits

        recipe = parse_recipe(self.recipe_text, self.recipe_file)
        if self.device:
            recipe = with_device(recipe, self.device)
        if self.fits:  # a photo source: the fit folder this build made
            recipe = with_fits(recipe, self.fits)
        self.worker = RenderWorker(recipe, load_assets(Path(self.assets_dir)), threads=self.threads or None)


def render_shard(root: str, shard: int, samples_per_shard: int, shard_attrs: dict) -> dict:
    """Render samples [shard * M, (shard + 1) * M) into one shard. A sample that fails is
    recorded (index, stage, reason) in the shard's failure list and the shard goes on. An
    attempt that finds partial folders of its shard restarts it (a killed worker, a killed build)
    and says so in its summary."""
    from .records import sample_record

    state: RenderPlugin = get_worker().plugins[PLUGIN_NAME]
    layout = DatasetDir(Path(root))
    recipe = state.worker.recipe
    spec = recipe.render
    t0, render_s = time.perf_counter(), 0.0
    if (layout.shard_path(shard) / "zarr.json").exists():  # finished meanwhile by another attempt
        reader = layout.reader(shard)
        return {"shard": shard, "samples": len(reader), "failures": reader.failures, "resumed": 0,
                "restarted": False, "seconds": 0.0, "render_seconds": 0.0}
    first, end = shard * samples_per_shard, (shard + 1) * samples_per_shard
    restarted = bool(layout.partials(shard))
    writer = ShardWriter(layout.shard_path(shard), samples_per_shard, spec.height, spec.width, shard_attrs,
                         first_index=first, resume_from=layout.best_checkpoint(shard))
    try:
        for k in range(writer.next_index, end):
            try:
                result = state.worker.render_index(k)
            except Exception as err:  # noqa: BLE001 - the ledger keeps it; the shard goes on
                writer.fail({"index": k, "stage": "render", "reason": f"{type(err).__name__}: {err}"})
                continue
            render_s += result.timings["render_onset_and_data"] + result.timings["render_apex"]
            writer.append(sample_record(result), k)
        writer.finish()
    except OSError as err:
        if err.errno != errno.ENOSPC:
            writer.abort()
        raise  # a full disk keeps the checkpoint: the rerun after freeing space goes on from it
    except Exception:
        writer.abort()  # a failure of the shard itself; a killed worker keeps its checkpoint
        raise
    return {"shard": shard, "samples": writer.count, "failures": writer.failures, "resumed": writer.resumed,
            "restarted": restarted, "seconds": time.perf_counter() - t0, "render_seconds": render_s}


@dataclass
class BuildReport:
    shards_total: int
    shards_done_before: int
    shards_rendered: int
    samples: int
    failures: list
    seconds: float
    render_seconds: float
    task_seconds: float = 0.0  # inside shard tasks (rendering plus per-sample work)
    resumed_samples: int = 0  # kept from checkpoints of interrupted shards
    restarted_shards: int = 0  # shards whose earlier attempt was interrupted (a worker died, or the build)
    fit_seconds: float = 0.0  # fitting the recipe's photos (photo sources), part of `seconds`


def dataset_metadata(recipe: Recipe, assets: FlameAssets, samples_per_shard: int, shards: int) -> dict:
    from .provenance import code_version

    return {
        "schema_version": SCHEMA_VERSION,
        "recipe": {"name": recipe.name, "version": recipe.version, "file": recipe.path, "text": recipe.text},
        "recipe_hash": recipe.hash, "code_version": code_version(),
        "head_model": assets.release, "head_model_fingerprint": assets.fingerprint,
        "samples_per_shard": samples_per_shard, "shards": shards,
        "width": recipe.render.width, "height": recipe.render.height,
        "split": SplitRule().to_json(),
    }


def check_writable(out: Path) -> None:
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / f".write-test-{os.getpid()}"
        probe.write_text("ok")
        probe.unlink()
    except OSError as err:
        raise DatasetError(f"cannot write to {out} ({err.strerror}): choose a writable --out") from None


def prepare(out: Path, recipe: Recipe, assets: FlameAssets, shards: int, samples_per_shard: int,
            echo: Callable[[str], object] = print) -> tuple[DatasetDir, list[int], int, set[int]]:
    """Check or create the dataset folder (the caller holds its writer lock); return it, the
    shards still to render, how many were complete already, and the shards an earlier build left
    unfinished (their partial folders). A shard that is torn (not whole under its final name) is
    deleted and rendered again. Raises DatasetError when the folder holds another dataset."""
    layout = DatasetDir(out)
    wanted = dataset_metadata(recipe, assets, samples_per_shard, shards)
    if layout.exists():
        existing = layout.metadata()
        check_compatible(existing, wanted)
        wanted["shards"] = max(shards, existing.get("shards", 0))
        wanted["code_version"] = existing.get("code_version")  # shards record their own
        wanted["split"] = SplitRule.from_metadata(existing).to_json()  # a dataset keeps its split
        wanted.update({key: existing[key] for key in KEPT_METADATA if key in existing})
    layout.write_metadata(wanted)
    for s, problem in layout.torn_shards().items():
        echo(f"shard {s} is torn ({problem}): rendering it again")
        layout.remove_shard(s)
    done = set(layout.complete_shards())
    todo = [s for s in range(shards) if s not in done]
    interrupted = {s for s in todo if layout.partials(s)}
    layout.remove_stale_partials()  # checkpointed partials stay: their shard's task resumes them
    return layout, todo, len(done & set(range(shards))), interrupted


def render_support_problem(recipe_text: str, recipe_file: str, device: str | None) -> str:
    """'' when this machine's Blender renders the recipe's settings on its device (or `device`),
    else the one-line reason (runs where it is called: the driver, or a farm worker)."""
    from render.blender.settings import render_support_problem as problem

    from ..synthesis.recipe import parse_recipe

    recipe = parse_recipe(recipe_text, recipe_file)
    return problem(device or recipe.render.device, recipe.render.cycles)


def check_render_support(recipe: Recipe, client=None, device: str | None = None) -> None:
    """Stop in one line (RecipeError) if Blender cannot render the recipe as asked, before any
    render worker starts: in a child process here (importing bpy into the driver would break the
    workers it spawns), or with `client` on one of the farm's workers (a GPU farm's driver may
    have no GPU)."""
    if client is None:
        import json
        import subprocess
        import sys

        code = ("import json, sys; from pipeline.build.builder import render_support_problem; "
                "print(json.dumps(render_support_problem(*json.loads(sys.argv[1]))))")
        child = subprocess.run([sys.executable, "-c", code, json.dumps([recipe.text, recipe.path, device])],
                               capture_output=True, text=True)
        if child.returncode != 0:
            raise RuntimeError(f"checking the render settings failed: {child.stderr.strip().splitlines()[-1:]}")
        problem = json.loads(child.stdout.strip().splitlines()[-1])
    else:
        first = next(iter(client.scheduler_info()["workers"]))
        problem = client.run(render_support_problem, recipe.text, recipe.path, device, workers=[first])[first]
    if problem:
        raise RecipeError(f"{Path(recipe.path).name}: {problem}")


def build(out: Path, recipe: Recipe, assets: FlameAssets, assets_dir: Path, shards: int, samples_per_shard: int,
          workers: int, cluster: str = "local", echo: Callable[[str], object] = print, wait: bool = False) -> BuildReport:
    """Build (or finish) the dataset in `out`, holding its writer lock throughout: a second
    build of the same folder stops in one line (FolderBusy), or waits with `wait`."""
    if cluster == "local":
        check_render_support(recipe)
    check_writable(out)
    with FolderLock(out, what="meflow dataset build", wait=wait, on_wait=echo):
        return _build(out, recipe, assets, assets_dir, shards, samples_per_shard, workers, cluster, echo)


def _build(out: Path, recipe: Recipe, assets: FlameAssets, assets_dir: Path, shards: int, samples_per_shard: int,
           workers: int, cluster: str, echo: Callable[[str], object]) -> BuildReport:
    from .cluster import connect
    from .photo_stage import fit_stage
    from .provenance import code_version

    t0 = time.perf_counter()
    layout, todo, done_before, interrupted = prepare(out, recipe, assets, shards, samples_per_shard, echo)
    if not todo:
        echo(f"{out}: all {shards} shards are complete")
        return BuildReport(shards, done_before, 0, 0, [], 0.0, 0.0)
    handle = connect(cluster, workers)
    try:
        client = handle.client
        if cluster != "local":
            check_render_support(recipe, client, handle.render_device)
        echo(f"dashboard: {client.dashboard_link}")
        fit_seconds = 0.0
        if recipe.source.photos is not None:
            started = time.perf_counter()
            recipe = fit_stage(client, layout, recipe, assets, assets_dir, handle.threads_per_worker,
                               rendered_before=bool(layout.complete_shards() or layout.partials()), echo=echo)
            fit_seconds = time.perf_counter() - started
        echo(f"rendering {len(todo)} of {shards} shards ({samples_per_shard} samples each) on "
             f"{len(client.scheduler_info()['workers']) or 'pending'} workers")
        plugin = RenderPlugin(recipe.text, recipe.path, str(assets_dir), handle.threads_per_worker, handle.render_device,
                              recipe.source.fits if recipe.source.photos is not None else "")
        client.register_plugin(plugin)
        blender = client.run(lambda: __import__("render.blender.scene", fromlist=["x"]).blender_version())
        blender_version = next(iter(blender.values()), "unknown")
        meta = layout.metadata()
        meta.setdefault("blender_version", blender_version)
        layout.write_metadata(meta)
        attrs = {"recipe_hash": recipe.hash, "code_version": code_version(),
                 "blender_version": blender_version, "head_model_fingerprint": assets.fingerprint}
        futures = [client.submit(render_shard, str(layout.root), s, samples_per_shard, {**attrs, "shard": s},
                                 key=f"shard-{s}-{recipe.hash[:8]}", retries=TASK_RETRIES, pure=False) for s in todo]
        totals = {"samples": 0, "render_seconds": 0.0, "seconds": 0.0, "resumed": 0}
        failures, restarted = [], set(interrupted)
        started = time.perf_counter()
        progress(0, len(todo), "shards", "0 samples", started)
        try:
            for finished, future in enumerate(as_completed(futures), start=1):
                try:
                    summary = future.result()
                except OSError as err:
                    if err.errno == errno.ENOSPC:
                        raise BuildDiskFull(f"the disk is full writing shards into {out}: free space and rerun the same "
                                            "command (finished shards and checkpoints are kept)") from None
                    raise
                totals = {key: value + summary[key] for key, value in totals.items()}
                failures += summary["failures"]
                if summary["restarted"]:
                    restarted.add(summary["shard"])
                progress(finished, len(todo), "shards", f"{totals['samples']} samples", started)
        finally:
            progress_end()
    finally:
        handle.close()
    return BuildReport(shards, done_before, len(todo), totals["samples"], failures, time.perf_counter() - t0,
                       totals["render_seconds"], totals["seconds"], totals["resumed"], len(restarted), fit_seconds)
