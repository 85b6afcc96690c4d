"""`meflow fit INPUT --out DIR`: FLAME parameters, camera, UV texture and a diagnostic per photo."""
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
    batch_size: int = typer.Option(8, min=1, help="Photos fitted together."),
    max_nme: float = typer.Option(FitConfig.max_nme, help="Fits with a larger normalised mean error are rejected."),
    iterations: int = typer.Option(FitConfig.full_iterations, min=1, help="Optimiser steps of the full fit."),
    texture_size: int = typer.Option(512, min=64, max=4096, help="UV texture side in pixels."),
    textures: Path = typer.Option(None, help="Folder of ready UV textures (FreeUV ...) named <image stem>.png, used instead "
                                             "of projecting the photo."),
    limit: int = typer.Option(0, min=0, help="Fit only the first N items (0: all)."),
    diagnostics: bool = typer.Option(True, help="Write diagnostic.png per photo."),
) -> None:
    require_extra("fit", "fit")
    from flame_assets.assets import load_assets
    from flame_assets.config import resolve_assets_dir
    from flame_assets.errors import AssetError
    from flame_assets.model import FaceModel

    from ..fitting.detectors import PluginMissing
    from ..fitting.images import IMAGE_SUFFIXES
    from ..fitting.output import STATUSES, SUMMARY_JSON
    from ..fitting.run import FitOptions, FitRun
    from ..fitting.sources import affectnet_items, detect_kind, image_items, list_images, precomputed_items

    try:
        kind = detect_kind(input)
        if kind == "affectnet":
            items = affectnet_items(input, image_root)
        elif kind == "precomputed":
            items = precomputed_items(input, image_root)
        elif kind == "image":
            items = image_items([input])
        else:
            paths = list_images(input)
            if not paths:
                raise ValueError(f"{input}: no images ({', '.join(IMAGE_SUFFIXES)}) in this folder")
            items = image_items(paths)
    except ValueError as err:
        raise typer.BadParameter(str(err), param_hint="INPUT") from None
    if limit:
        items = items[:limit]
    if textures is not None and not textures.is_dir():
        raise typer.BadParameter(f"{textures} is not a folder", param_hint="--textures")
    try:
        folder, _ = resolve_assets_dir(assets)
        model = FaceModel(load_assets(folder))
    except AssetError as err:
        fail(str(err))
    config = FitConfig(max_nme=max_nme, full_iterations=iterations)
    options = FitOptions(detector=detector, batch_size=batch_size, config=config, texture_size=texture_size,
                         textures=textures, diagnostics=diagnostics)
    typer.echo(f"{len(items)} items from {input} ({kind}); model: {folder}")
    try:
        summary = FitRun(model, out, options, log=typer.echo).run(items)
    except PluginMissing as err:
        fail(str(err))
    brief = {k: summary[k] for k in ("items", *STATUSES, "failure_reasons", "nme_ok", "seconds")}
    typer.echo(json.dumps(brief, indent=1))
    typer.echo(f"summary: {out / SUMMARY_JSON}")
