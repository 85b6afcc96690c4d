"""`meflow dataset build | plan | verify | info | export | stats`."""
from __future__ import annotations

import json
from pathlib import Path

import typer

from .common import fail, require_extra, stdout_to_stderr

app = typer.Typer(help="Build, check, describe, export and plot shard datasets.", no_args_is_help=True)

DEFAULT_OUT = Path("build/dataset/shards")


@app.command()
def build(
    out: Path = typer.Option(DEFAULT_OUT, "--out", help="Dataset folder (created; an existing one is resumed)."),
    shards: int = typer.Option(2, "--shards", min=1, help="Number of shards."),
    samples: int = typer.Option(4, "--samples", min=1, help="Samples per shard."),
    recipe: str = typer.Option("smoke", "--recipe", help="Recipe file or name in datasets/."),
    workers: int = typer.Option(1, "--workers", min=1, help="Worker processes of a local cluster."),
    cluster: str = typer.Option("local", "--cluster", help="local, slurm, kubernetes, a settings .yaml, or tcp://HOST:PORT."),
    assets_dir: Path | None = typer.Option(None, "--assets", help="FLAME folder (default: configured, else the stand-in)."),
    wait: bool = typer.Option(False, "--wait", help="If another build writes --out, wait for it instead of stopping."),
) -> None:
    """Render SHARDS x SAMPLES pairs into Zarr shards (fitting the recipe's photos first when its
    source names photos). Rerun the same command after any interruption: it finishes only what
    is missing. One build per folder at a time."""
    require_extra("dataset build", "render")
    from flame_assets.assets import load_assets
    from flame_assets.config import resolve_assets_dir
    from flame_assets.errors import AssetError
    from shards.layout import DatasetError
    from shards.lock import FolderBusy

    from ..build.builder import BuildDiskFull
    from ..build.builder import build as run_build
    from ..build.cluster import ClusterError
    from ..fitting.detectors import PluginMissing
    from ..fitting.distributed import FitDiskFull
    from ..fitting.sources import FitSourceError
    from ..synthesis.distributions import RecipeError
    from ..synthesis.recipe import load_recipe

    try:
        rec = load_recipe(recipe)
        folder, _ = resolve_assets_dir(assets_dir)
        assets = load_assets(folder)
        report = run_build(out, rec, assets, folder, shards, samples, workers, cluster, echo=typer.echo, wait=wait)
    except (RecipeError, AssetError, DatasetError, ClusterError, FolderBusy, FitSourceError, PluginMissing,
            FitDiskFull, BuildDiskFull) as err:
        fail(str(err))
    if report.shards_rendered:
        per_sample = report.seconds / max(report.samples, 1)
        resumed = f", {report.resumed_samples} resumed from checkpoints" if report.resumed_samples else ""
        if report.restarted_shards:
            resumed += f", {report.restarted_shards} shard(s) restarted after an interrupted attempt"
        fitting = f", fitting {report.fit_seconds:.0f} s of it" if report.fit_seconds else ""
        typer.echo(f"{out}: {report.shards_rendered} shards rendered ({report.shards_done_before} were done), "
                   f"{report.samples} samples{resumed}, {len(report.failures)} failed, {report.seconds:.0f} s "
                   f"({per_sample:.2f} s/sample{fitting})")
    for f in report.failures:
        typer.echo(f"  failed sample {f['index']} at {f['stage']}: {f['reason']}", err=True)


@app.command()
def plan(
    recipe: str = typer.Option("meflow-v1", "--recipe", help="Recipe file or name in datasets/."),
    shards: int = typer.Option(64, "--shards", min=1, help="Number of shards."),
    samples: int = typer.Option(500, "--samples", min=1, help="Samples per shard."),
    workers: int = typer.Option(1, "--workers", min=1, help="Workers of the farm."),
    cores: int = typer.Option(0, "--cores-per-worker", min=0, help="Cores per worker (0: this machine's)."),
    pairs: int = typer.Option(2, "--calibration-pairs", min=1, help="Pairs rendered to calibrate (after one for start-up)."),
    assets_dir: Path | None = typer.Option(None, "--assets", help="FLAME folder (default: configured, else the stand-in)."),
    as_json: bool = typer.Option(False, "--json", help="Print as JSON."),
) -> None:
    """Expected compute hours, wall time, disk and memory of SHARDS x SAMPLES pairs, from a short
    calibration render of the recipe on this machine."""
    require_extra("dataset plan", "render")
    from flame_assets.assets import load_assets
    from flame_assets.config import resolve_assets_dir
    from flame_assets.errors import AssetError

    from ..build.builder import check_render_support
    from ..build.plan import calibrate, estimate, plan_json, plan_lines
    from ..synthesis.distributions import RecipeError
    from ..synthesis.recipe import load_recipe

    try:
        rec = load_recipe(recipe)
        check_render_support(rec)
        folder, _ = resolve_assets_dir(assets_dir)
        if rec.source.photos is not None:
            fail(f"{recipe}: plan renders random samples to calibrate; a photo recipe's cost depends on its fits "
                 "(plan with a random-source recipe of the same [render] settings)")
        with stdout_to_stderr():
            cal = calibrate(rec, load_assets(folder), pairs)
    except (RecipeError, AssetError) as err:
        fail(str(err))
    cores_per_worker = (cores or cal.threads) if cal.device == "CPU" else 1
    farm = estimate(cal, shards, samples, workers, cores_per_worker)
    if as_json:
        typer.echo(json.dumps(plan_json(rec, cal, farm, shards, samples), indent=1))
        return
    for line in plan_lines(rec, cal, farm, shards, samples):
        typer.echo(line)


@app.command()
def verify(folder: Path = typer.Argument(..., help="Dataset folder.")) -> None:
    """Check every shard (schema, counts, finite values, checksums); exit 1 naming bad shards."""
    from shards.layout import DatasetDir, DatasetError
    from shards.verify import verify_dataset

    try:
        bad = verify_dataset(DatasetDir(folder))
    except DatasetError as err:
        fail(str(err))
    if bad:
        for shard, problems in sorted(bad.items()):
            typer.echo(f"shard {shard:05d}: {'; '.join(problems[:3])}", err=True)
        fail(f"{len(bad)} bad shard(s) in {folder}: first {min(bad):05d}", code=1)
    typer.echo(f"{folder}: all shards verified")


@app.command()
def info(folder: Path = typer.Argument(..., help="Dataset folder."),
         as_json: bool = typer.Option(False, "--json", help="Print as JSON.")) -> None:
    """Print the recipe, counts, split, shards in progress and provenance of a dataset."""
    from shards.layout import DatasetDir, DatasetError
    from shards.splits import SplitRule
    from shards.writer import partial_owner, read_checkpoint

    layout = DatasetDir(folder)
    try:
        meta = layout.metadata()
    except DatasetError as err:
        fail(str(err))
    readers = layout.readers()
    failures = [f for r in readers.values() for f in r.failures]
    versions = sorted({r.attrs.get("code_version", "?") for r in readers.values()})
    split = SplitRule.from_metadata(meta)
    in_progress = []
    for partial in layout.partials():
        host, pid = partial_owner(partial) or ("?", None)
        checkpoint = read_checkpoint(partial)
        in_progress.append({"folder": partial.name, "host": host, "pid": pid,
                            "checkpointed_samples": checkpoint["count"] if checkpoint else 0})
    summary = {
        "recipe": meta["recipe"]["name"], "recipe_hash": meta["recipe_hash"], "schema_version": meta["schema_version"],
        "shards_complete": len(readers), "shards_planned": meta["shards"], "samples_per_shard": meta["samples_per_shard"],
        "samples": sum(len(r) for r in readers.values()), "failed_samples": len(failures),
        "resolution": f"{meta['width']}x{meta['height']}", "head_model": meta["head_model"],
        "head_model_fingerprint": meta["head_model_fingerprint"], "code_versions": versions,
        "blender_version": meta.get("blender_version", "?"),
        "split": f"{split.test_fraction:g} of source identities in test (salt {split.salt!r})",
    }
    fits = meta.get("fits")
    if fits:  # a photo source: what the build's fitting stage made of the photos
        reasons = ", ".join(f"{n} {kind}" for kind, n in fits["failure_reasons"].items())
        summary["photos"] = (f"{fits['items']} in {fits['folder']}/: {fits['ok']} fitted, {fits['rejected']} rejected, "
                             f"{fits['failed']} failed" + (f" ({reasons})" if reasons else ""))
    if as_json:
        typer.echo(json.dumps({**summary, "split": split.to_json(), "in_progress": in_progress, "fits": fits,
                               "recipe_text": meta["recipe"]["text"], "failures": failures}, indent=1))
        return
    for key, value in summary.items():
        typer.echo(f"{key + ':':24s}{value}")
    for entry in in_progress:
        typer.echo(f"{'in progress:':24s}{entry['folder']} (host {entry['host']}, pid {entry['pid']}, "
                   f"{entry['checkpointed_samples']} samples checkpointed)")
    typer.echo("recipe text:")
    typer.echo("".join(f"  {line}\n" for line in meta["recipe"]["text"].splitlines()).rstrip())


@app.command()
def export(folder: Path = typer.Argument(..., help="Dataset folder."),
           fmt: str = typer.Option("flo", "--format", help="flo or mellm."),
           out: Path = typer.Option(..., "--out", help="Output folder.")) -> None:
    """Write the samples as files: flo (<sample_id>/onset.png, apex.png, flow_*.flo, mask.png,
    params.json) or mellm (the layout MELLM's loader reads, with train / test lists)."""
    require_extra("dataset export", "train", ("cv2",))
    from shards.layout import DatasetError

    from ..export.dataset_files import FORMATS
    from ..export.dataset_files import export as run_export

    if fmt not in FORMATS:
        fail(f"--format must be one of {list(FORMATS)}, got {fmt!r}")
    try:
        n = run_export(folder, out, fmt)
    except DatasetError as err:
        fail(str(err))
    except OSError as err:
        fail(f"cannot write to {out} ({err.strerror}): choose a writable --out")
    typer.echo(f"exported {n} samples to {out} ({fmt})")


@app.command()
def stats(folder: Path = typer.Argument(..., help="Dataset folder."),
          out: Path = typer.Option(..., "--out", help="Folder for the PNG plots.")) -> None:
    """Plot flow magnitudes (overall and per facial region), scales against the recipe, a contact sheet."""
    require_extra("dataset stats", "train", ("cv2", "matplotlib"))
    from shards.layout import DatasetError

    from ..export.stats import collect, write_plots

    try:
        data = collect(folder)
    except DatasetError as err:
        fail(str(err))
    if not data["samples"]:
        fail(f"{folder} holds no samples yet: build it first")
    for path in write_plots(data, out):
        typer.echo(f"wrote {path}")
