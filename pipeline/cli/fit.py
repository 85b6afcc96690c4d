"""`meflow fit INPUT --out DIR`: FLAME parameters, camera, UV texture and a diagnostic per photo,
fitted in batches on a Dask cluster (local worker processes by default)."""
from __future__ import annotations

import json
from pathlib import Path

import typer

from ..fitting.config import FitConfig
from ..fitting.detectors import DETECTORS
from .common import fail, require_extra


def fit(
    input: Path = typer.Argument(..., help="An image, a folder of images, an AffectNet CSV, or a folder of "
                                           "TEASER / SMIRK parameter files (npz / json)."),
    out: Path = typer.Option(..., "--out", help="Output folder: DIR/<image stem>/ per photo, plus summary.json / .csv."),
    detector: str = typer.Option("mediapipe", help=f"Landmark plug-in for photos without landmarks: {', '.join(DETECTORS)}."),
    image_root: Path = typer.Option(None, help="AffectNet: folder the CSV's subDirectory_filePath is relative to "
                                               "(default: the CSV's folder). Encoder parameters: folder of the photos."),
    assets: Path = typer.Option(None, help="FLAME assets folder (default: configured, else the stand-in head)."),
    batch: int = typer.Option(8, "--batch", "--batch-size", min=1, help="Photos fitted together (one Dask task)."),
    workers: int = typer.Option(1, "--workers", min=1, help="Worker processes of a local cluster."),
    cluster: str = typer.Option("local", "--cluster", help="local, slurm, kubernetes, a settings .yaml, or tcp://HOST:PORT."),
    wait: bool = typer.Option(False, "--wait", help="If another run writes --out, wait for it instead of stopping."),
    max_nme: float = typer.Option(FitConfig.max_nme, help="Fits with a larger normalised mean error are rejected."),
    iterations: int = typer.Option(FitConfig.full_iterations, min=1, help="Optimiser steps of the full fit."),
    texture_size: int = typer.Option(512, min=64, max=4096, help="UV texture side in pixels."),
    textures: Path = typer.Option(None, help="Folder of ready UV textures (FreeUV ...) named <image stem>.png, used instead "
                                             "of projecting the photo."),
    limit: int = typer.Option(0, min=0, help="Fit only the first N items (0: all)."),
    diagnostics: bool = typer.Option(True, help="Write diagnostic.png per photo."),
) -> None:
    """Fit every photo (or parameter file) of INPUT; rerun the same command after any
    interruption: finished items are skipped, failed ones tried again."""
    require_extra("fit", "fit")
    from flame_assets.assets import load_assets
    from flame_assets.config import resolve_assets_dir
    from flame_assets.errors import AssetError
    from shards.lock import FolderBusy, FolderLock

    from ..build.cluster import connect
    from ..fitting.detectors import PluginMissing
    from ..fitting.distributed import FitDiskFull, check_fit_request, fit_on_cluster
    from ..fitting.output import STATUSES, SUMMARY_JSON
    from ..fitting.run import FitOptions
    from ..fitting.sources import FitSourceError, items_from_input

    try:
        items, kind = items_from_input(input, image_root)
    except FitSourceError as err:
        raise typer.BadParameter(str(err), param_hint="INPUT") from None
    if limit:
        items = items[:limit]
    if textures is not None and not textures.is_dir():
        raise typer.BadParameter(f"{textures} is not a folder", param_hint="--textures")
    try:
        folder, _ = resolve_assets_dir(assets)
        fingerprint = load_assets(folder).fingerprint
    except AssetError as err:
        fail(str(err))
    config = FitConfig(max_nme=max_nme, full_iterations=iterations)
    options = FitOptions(detector=detector, batch_size=batch, config=config, texture_size=texture_size,
                         textures=textures, diagnostics=diagnostics)
    typer.echo(f"{len(items)} items from {input} ({kind}); model: {folder}")
    try:
        check_fit_request(items, out, options, fingerprint)
        with FolderLock(out, what="meflow fit", wait=wait, on_wait=typer.echo):
            handle = connect(cluster, workers)
            try:
                typer.echo(f"dashboard: {handle.client.dashboard_link}")
                summary = fit_on_cluster(handle.client, items, out, options, folder, handle.threads_per_worker, typer.echo)
            finally:
                handle.close()
    except (PluginMissing, FolderBusy, FitDiskFull, ValueError) as err:  # ClusterError, FitSourceError: ValueErrors
        fail(str(err))
    brief = {k: summary[k] for k in ("items", *STATUSES, "failure_reasons", "nme_ok", "seconds")}
    typer.echo(json.dumps(brief, indent=1))
    typer.echo(f"summary: {out / SUMMARY_JSON}")
