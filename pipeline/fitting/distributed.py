"""`meflow fit` on a Dask cluster: the fixed batches of fitting.run as tasks.

One face model and one landmark detector per worker process, made once by a worker plugin (also
on workers that join later); a batch whose worker dies is run again elsewhere; each item still
lands by an atomic rename, so a rerun, or a retried batch, skips what is done. Batches depend on
the input order alone, so the numbers do not depend on the worker count or on who ran what.
"""
from __future__ import annotations

import errno
import hashlib
import time
from collections.abc import Callable
from pathlib import Path

from distributed import WorkerPlugin, as_completed, get_worker

from ..build.progress import progress, progress_end
from .detectors import make_detector
from .output import FINISHED, STATUSES, fitted_with
from .run import FitOptions, FitRun, item_status, pending_batches, write_summary
from .sources import FitItem, FitSourceError

FIT_PLUGIN = "meflow-fit-worker"
TASK_RETRIES = 2  # a batch that raised is tried this many more times (a dead worker's batch is re-run anyway)


class FitDiskFull(OSError):
    """The disk filled up while fit results were written."""


class FitPlugin(WorkerPlugin):
    """Loads the face model once per worker process and keeps one FitRun (which makes the
    detector on first use and keeps it); tasks find it with get_worker().plugins."""

    name = FIT_PLUGIN

    def __init__(self, assets_dir: str, out: str, options: FitOptions, threads: int) -> None:
        self.assets_dir, self.out, self.options, self.threads = assets_dir, out, options, threads
        self.run: FitRun | None = None

    def setup(self, worker) -> None:
        import torch

        from flame_assets.assets import load_assets
        from flame_assets.model import FaceModel

        if self.threads:
            torch.set_num_threads(self.threads)
        model = FaceModel(load_assets(Path(self.assets_dir)))
        self.run = FitRun(model, Path(self.out), self.options, log=lambda *_: None)


def check_fit_request(items: list[FitItem], out: Path, options: FitOptions, model_fingerprint: str) -> None:
    """What can be known before any worker starts: the fit folder holds no fits of another head
    model (FitSourceError), and the detector is installed when a photo needs one (PluginMissing)."""
    found = fitted_with(out)
    if found is not None and found != model_fingerprint:
        raise FitSourceError(f"{out} holds fits made with head model {found[:12]}, this run fits with "
                             f"{model_fingerprint[:12]}: choose a new --out (fits of two models never mix)")
    if any(it.landmarks is None and it.params is None and not it.error for it in items):
        make_detector(options.detector)


def fit_batch_task(batch: list[FitItem], finished: tuple[str, ...]) -> list[dict]:
    """One batch on this worker; returns the results it committed."""
    state: FitPlugin = get_worker().plugins[FIT_PLUGIN]
    return state.run.run_batch(batch, finished)


def _task_key(out: Path, index: int, batch: list[FitItem]) -> str:
    token = hashlib.sha1("\n".join([str(out.resolve()), *(it.name for it in batch)]).encode()).hexdigest()[:12]
    return f"fit-{index}-{token}"


def fit_on_cluster(client, items: list[FitItem], out: Path, options: FitOptions, assets_dir: Path, threads: int,
                   echo: Callable[[str], object] = print, finished: tuple[str, ...] = FINISHED) -> dict:
    """Fit every item not yet finished into `out` on the cluster behind `client`; returns the
    summary (fitting.run.write_summary) of all items. A full disk raises FitDiskFull in one line;
    what was committed before stays."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    batches = pending_batches(out, items, options.batch_size, finished)
    pending = sum(item_status(out, it) not in finished for it in items)
    echo(f"fitting {pending} of {len(items)} items in {len(batches)} batches of up to {options.batch_size} into {out}")
    if batches:
        client.register_plugin(FitPlugin(str(assets_dir), str(out), options, threads))
        futures = [client.submit(fit_batch_task, batch, finished, key=_task_key(out, i, batch),
                                 retries=TASK_RETRIES, pure=False) for i, batch in enumerate(batches)]
        counts = dict.fromkeys(STATUSES, 0)
        progress(0, len(batches), "batches", "0 fitted", started)
        try:
            for done, future in enumerate(as_completed(futures), start=1):
                for result in future.result():
                    counts[result["status"]] = counts.get(result["status"], 0) + 1
                detail = ", ".join(f"{n} {status}" for status, n in counts.items())
                progress(done, len(batches), "batches", detail, started)
        except OSError as err:
            if err.errno == errno.ENOSPC:
                raise FitDiskFull(f"the disk is full writing fits into {out}: free space and rerun the same command "
                                  "(finished items are kept)") from None
            raise
        finally:
            progress_end()
    summary = write_summary(out, [it.name for it in items])
    summary["seconds"] = round(time.perf_counter() - started, 2)
    return summary
