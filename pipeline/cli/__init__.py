"""`meflow`: one command line for the whole factory; one sub-command group per area.

Each command imports what it needs when it runs, so `meflow --help` and the reading commands work
on a machine that installed only the train group (no Blender, no Dask).
"""
from __future__ import annotations

import typer

from .assets import app as assets_app
from .dataset import app as dataset_app
from .fit import fit
from .render import app as render_app

app = typer.Typer(help="MEFlow: synthetic micro-expression flow data and the models trained on it.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
app.add_typer(assets_app, name="assets")
app.add_typer(render_app, name="render")
app.add_typer(dataset_app, name="dataset")
app.command(help="Fit FLAME (parameters, camera, UV texture) to photos: an image, a folder, an AffectNet CSV or encoder outputs.")(fit)


def main() -> None:
    app()
