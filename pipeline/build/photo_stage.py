"""The first stage of a build whose recipe names photos ([source] kind "affectnet" or "images"):
fit what is not yet fitted into the dataset folder's `fits/`, on the build's own cluster, and
record the outcome in dataset.json.

Within a dataset a failed photo stays failed (its reason is recorded; a rerun does not try it
again), so the accepted fits, and with them which face each sample gets, never change between
the runs of one build.
"""
from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

from flame_assets.assets import FlameAssets
from shards.layout import DatasetDir, DatasetError

from ..fitting.config import FitConfig
from ..fitting.distributed import check_fit_request, fit_on_cluster
from ..fitting.output import STATUSES, accepted_fit_folders
from ..fitting.run import FitOptions
from ..fitting.sources import FitItem, items_from_input
from ..synthesis.fitted_source import FitLibrary
from ..synthesis.recipe import Photos, Recipe, with_fits

FIT_FOLDER = "fits"  # inside the dataset folder; dataset.json records it under "fits"


def photo_items(photos: Photos) -> list[FitItem]:
    """The items of a photo source, in input order (FitSourceError when it cannot be read)."""
    if photos.kind == "affectnet":
        items, _ = items_from_input(Path(photos.csv), Path(photos.images) if photos.images else None)
    else:
        items, _ = items_from_input(Path(photos.images))
    return items[: photos.limit] if photos.limit else items


def fit_options(photos: Photos) -> FitOptions:
    config = FitConfig(max_nme=photos.max_nme, full_iterations=photos.iterations)
    return FitOptions(detector=photos.detector, batch_size=photos.batch, config=config,
                      texture_size=photos.texture_size, diagnostics=True)


def accepted_digest(folder: Path) -> str:
    """sha256 of the sorted names of the accepted fits: which faces the samples take."""
    return hashlib.sha256("\n".join(p.name for p in accepted_fit_folders(folder)).encode()).hexdigest()


def fit_stage(client, layout: DatasetDir, recipe: Recipe, assets: FlameAssets, assets_dir: Path, threads: int,
              rendered_before: bool, echo: Callable[[str], object] = print) -> Recipe:
    """Fit the recipe's photos into layout.root/fits; return the recipe pointed at that folder.
    Raises FitSourceError, PluginMissing, RecipeError (no accepted fit) or DatasetError (the
    accepted fits changed under shards already rendered) in one line."""
    photos = recipe.source.photos
    folder = layout.root / FIT_FOLDER
    items = photo_items(photos)
    options = fit_options(photos)
    check_fit_request(items, folder, options, assets.fingerprint)
    summary = fit_on_cluster(client, items, folder, options, assets_dir, threads, echo, finished=STATUSES)
    record = {"folder": FIT_FOLDER, "kind": photos.kind, "items": summary["items"],
              **{status: summary[status] for status in STATUSES}, "failure_reasons": summary["failure_reasons"],
              "nme_ok": summary["nme_ok"], "accepted_digest": accepted_digest(folder)}
    meta = layout.metadata()
    before = meta.get("fits")
    if rendered_before and before and before.get("accepted_digest") != record["accepted_digest"]:
        raise DatasetError(f"the accepted fits in {folder} changed since shards were rendered (photos added or "
                           "removed?): samples would get other faces; build into a new --out")
    meta["fits"] = record
    layout.write_metadata(meta)
    echo(f"fits: {record['ok']} accepted, {record['rejected']} rejected, {record['failed']} failed of "
         f"{record['items']} photos" + (f" ({record['failure_reasons']})" if record["failure_reasons"] else ""))
    fitted = with_fits(recipe, folder)
    FitLibrary(fitted.source.fits, assets.fingerprint)  # no accepted fit: RecipeError, before any render
    return fitted
