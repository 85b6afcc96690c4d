"""`meflow assets ...`: check FLAME files, show the model, write the stand-in, convert."""
from __future__ import annotations

import json
from pathlib import Path

import typer

from facial.flame_layout import N_EXPRESSION
from facial.ibug68 import N_POINTS
from flame_assets.errors import AssetError
from flame_assets.files import OPTIONAL_PURPOSE, STANDIN_RELEASE

from .common import fail, require_extra

app = typer.Typer(help="FLAME head-model files: check, show, convert.", no_args_is_help=True)
# Reading FLAME files needs scipy (sparse regressors); evaluating the model torch and smplx. The
# render and fit groups bring both.
READ_MODULES = ("scipy",)
MODEL_MODULES = ("torch", "smplx", "scipy")


def _load(folder: Path | None, model_file: Path | None):
    from flame_assets.assets import load_assets
    from flame_assets.config import resolve_assets_dir

    try:
        root, how = resolve_assets_dir(folder)
        return load_assets(root, model_file), root, how
    except AssetError as err:
        fail(str(err))


@app.command()
def check(
    folder: Path | None = typer.Argument(None, help="Folder with FLAME files as downloaded (default: configured, else the stand-in)."),
    model_file: Path | None = typer.Option(None, "--model", help="Use this model file when the folder holds several."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Say what FLAME files FOLDER holds, evaluate the model once, exit 0 when usable."""
    require_extra("assets check", "render", MODEL_MODULES)
    import torch

    from flame_assets.assets import N_CONTOUR_LANDMARKS, N_STATIC_LANDMARKS
    from flame_assets.model import FaceModel

    assets, root, how = _load(folder, model_file)
    try:
        model = FaceModel(assets, n_expression=min(N_EXPRESSION, assets.n_expression))
        with torch.no_grad():
            out = model(shape=torch.zeros(1, assets.n_shape), jaw=torch.tensor([[0.1, 0.0, 0.0]]))
    except AssetError as err:
        fail(str(err))
    except Exception as err:  # noqa: BLE001 - any failure here is reported in one line
        fail(f"the model failed to evaluate ({type(err).__name__}: {err}); the files may be damaged")
    if not torch.isfinite(out.vertices).all():  # outside the try: fail() raises an Exception itself
        fail("the model evaluates to NaN or infinite vertices: the files are damaged")
    summary = assets.summary()
    missing = [OPTIONAL_PURPOSE[key] for key in ("eyelids", "landmarks", "uv") if not summary[key]]
    if as_json:
        typer.echo(json.dumps({**summary, "folder": str(root), "unavailable": missing}, indent=2))
        return
    typer.echo(f"folder:      {root} ({how})")
    typer.echo(f"release:     {assets.release} ({Path(assets.model_file).name})")
    typer.echo(f"mesh:        {summary['vertices']} vertices, {summary['faces']} faces, {summary['joints']} joints")
    typer.echo(f"parameters:  {summary['shape_directions']} shape, {summary['expression_directions']} expression directions")
    typer.echo(f"eyelids:     {'yes' if summary['eyelids'] else 'no'}")
    landmarks = f"{N_POINTS} ({N_STATIC_LANDMARKS} static + {N_CONTOUR_LANDMARKS} contour)"
    typer.echo(f"landmarks:   {landmarks if summary['landmarks'] else 'no'}")
    typer.echo(f"uv:          {'yes' if summary['uv'] else 'no'}")
    typer.echo(f"fingerprint: {summary['fingerprint']}")
    for line in missing:
        typer.echo(f"unavailable: {line}")
    typer.echo("evaluated:   ok")


@app.command()
def show(
    folder: Path | None = typer.Argument(None, help="Folder with FLAME files (default: configured, else the stand-in)."),
    out: Path = typer.Option(Path("docs"), "--out", help="Folder for the PNG files."),
) -> None:
    """Write PNG pictures: neutral, strong expression and posed; and the expression directions."""
    require_extra("assets show", "render", (*MODEL_MODULES, "matplotlib"))
    from flame_assets.model import FaceModel

    from ..pictures.head_model import write_direction_sheet, write_overview

    assets, _, _ = _load(folder, None)
    model = FaceModel(assets, n_expression=min(N_EXPRESSION, assets.n_expression))
    stem = "standin" if assets.release == STANDIN_RELEASE else "flame"
    for path in (write_overview(model, out / f"{stem}_overview.png"),
                 write_direction_sheet(model, out / f"{stem}_expression_directions.png")):
        typer.echo(f"wrote {path}")


@app.command()
def standin(out: Path | None = typer.Option(None, "--out", help="Copy the stand-in's files here too.")) -> None:
    """Generate (or find in the cache) the open stand-in head and print its folder."""
    require_extra("assets standin", "render", READ_MODULES)
    import shutil

    from flame_assets.standin.build import ensure_standin

    folder = ensure_standin()
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        for path in folder.iterdir():
            shutil.copy2(path, out / path.name)
        folder = out
    typer.echo(str(folder))


@app.command()
def convert(
    folder: Path = typer.Argument(..., help="Folder with FLAME files as downloaded."),
    out: Path = typer.Option(..., "--out", help="Output folder: FLAME_NEUTRAL.npz plus the companion files."),
) -> None:
    """Convert the model pickle to a pickle-free FLAME_NEUTRAL.npz (same keys, same fingerprint)."""
    require_extra("assets convert", "render", READ_MODULES)
    import shutil

    from flame_assets.assets import save_npz
    from flame_assets.files import find_asset_files

    assets, root, _ = _load(folder, None)
    save_npz(assets, out / "FLAME_NEUTRAL.npz")
    for path in find_asset_files(root).optional.values():
        shutil.copy2(path, out / path.name)
    typer.echo(f"wrote {out / 'FLAME_NEUTRAL.npz'} (fingerprint {assets.fingerprint})")
