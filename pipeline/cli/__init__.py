"""`meflow`: one command line for the whole factory; one sub-command group per area.

Each command imports what it needs when it runs, so `meflow --help` and the reading commands work
on a machine that installed only the train group (no Blender, no Dask).
"""
from __future__ import annotations

import sys

import typer

from .assets import app as assets_app
from .dataset import app as dataset_app
from .evaluate import evaluate_command
from .fit import fit
from .instruct import app as instruct_app
from .render import app as render_app
from .train import flow_command, train_command

app = typer.Typer(help="MEFlow: synthetic micro-expression flow data and the models trained on it.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
app.add_typer(assets_app, name="assets")
app.add_typer(render_app, name="render")
app.add_typer(dataset_app, name="dataset")
app.add_typer(instruct_app, name="instruct")
app.command(help="Fit FLAME (parameters, camera, UV texture) to photos: an image, a folder, an AffectNet CSV or encoder outputs.")(fit)
app.command(name="train", help="Train MEFlowNet (stage 1 or 2) or the RAFT baseline on shards; DDP under torchrun.")(train_command)
app.command(name="flow", help="Facial, head and expression flow of image pairs from a checkpoint: .flo files and colour wheels.")(flow_command)
app.command(name="eval", help="Evaluate the model, RAFT and classical baselines on test data: EPE table, JSON, contact sheet.")(evaluate_command)


def main() -> None:
    """Run the command line. A usage error (a bad option value, a missing argument, an unknown
    command) is one line on stderr with exit code 2, as every other error; a bare group prints its
    help."""
    try:
        code = app(standalone_mode=False, prog_name="meflow")
    except typer.TyperException as err:  # typer's usage errors
        message = err.format_message()
        if "\n" in message:  # a group called without a command: the message is its help
            err.show()
        else:
            context = getattr(err, "ctx", None)
            where = context.command_path if context is not None else "meflow"
            typer.echo(f"error: {message} (see `{where} --help`)", err=True)
        sys.exit(err.exit_code)
    except typer.Abort:
        typer.echo("error: interrupted", err=True)
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)
