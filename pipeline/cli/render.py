"""`meflow render preview`: render a few samples of a recipe with everything a person wants to see."""
from __future__ import annotations

import json
from pathlib import Path

import typer

from .common import fail, require_extra

app = typer.Typer(help="Render onset / apex pairs with exact ground-truth flow.", no_args_is_help=True)


@app.command()
def preview(
    recipe: str = typer.Option("smoke", "--recipe", help="Recipe file or name in datasets/ (smoke, meflow-v1)."),
    samples: int = typer.Option(4, "--samples", min=1, help="How many samples (indices start..start+N-1)."),
    out: Path = typer.Option(Path("build/preview"), "--out", help="Output folder."),
    start: int = typer.Option(0, "--start", min=0, help="First sample index."),
    assets_dir: Path | None = typer.Option(None, "--assets", help="FLAME folder (default: configured, else the stand-in)."),
    threads: int | None = typer.Option(None, "--threads", help="Render threads (default: the recipe's)."),
    device: str | None = typer.Option(None, "--device", help="CPU, CUDA or OPTIX (default: the recipe's)."),
) -> None:
    """Write DIR/<sample_id>/{onset.png, apex.png, flow_facial.flo, flow_head.flo, mask.png,
    params.json, mesh_*.obj, flow_*.png, difference.png} and DIR/contact_sheet.png."""
    require_extra("render preview", "render")
    from flame_assets.assets import load_assets
    from flame_assets.config import resolve_assets_dir
    from flame_assets.errors import AssetError
    from render.backgrounds import BackgroundError
    from render.blender.scene import RenderError
    from render.blender.settings import UnsupportedSetting

    from ..build.provenance import provenance
    from ..export.preview_files import write_preview_extras, write_sample, write_wheel_legend
    from ..pictures.contact_sheet import contact_sheet
    from ..synthesis.distributions import RecipeError
    from ..synthesis.pair import RenderWorker
    from ..synthesis.recipe import load_recipe, with_device

    try:
        rec = load_recipe(recipe)
        if device is not None:
            rec = with_device(rec, device)
        assets = load_assets(resolve_assets_dir(assets_dir)[0])
        out.mkdir(parents=True, exist_ok=True)
        worker = RenderWorker(rec, assets, threads=threads)
    except (RecipeError, AssetError, BackgroundError, RenderError, UnsupportedSetting) as err:
        fail(str(err))
    except OSError as err:
        fail(f"cannot write to {out}: {err.strerror}; choose another --out")
    info = provenance(rec, assets)
    rows, failures = [], []
    for k in range(start, start + samples):
        try:
            result = worker.render_index(k)
            folder = write_sample(result, out, info)
            rows.append((result.inputs.sample_id, write_preview_extras(result, folder, assets.faces)))
            typer.echo(f"{result.inputs.sample_id}: {result.timings['total']:.2f} s, "
                       f"max facial flow {float(abs(result.flow_facial).max()):.3f} px")
        except Exception as err:  # noqa: BLE001 - a failing sample is reported, the run goes on
            failures.append({"index": k, "stage": "render", "reason": f"{type(err).__name__}: {err}"})
            typer.echo(f"sample {k} failed: {type(err).__name__}: {err}", err=True)
    if rows:
        typer.echo(f"wrote {contact_sheet(rows, out / 'contact_sheet.png')}")
        write_wheel_legend(out / "flow_colour_wheel.png")
    (out / "failures.json").write_text(json.dumps(failures, indent=1))
    typer.echo(f"{len(rows)} rendered, {len(failures)} failed")
    if failures:
        raise typer.Exit(code=1)
