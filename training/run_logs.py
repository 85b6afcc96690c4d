"""What a training run writes as it goes: a CSV of every logged step, TensorBoard events, and a
training-curve PNG (loss and validation EPE against step)."""
from __future__ import annotations

import csv
from pathlib import Path

CURVE_FILE = "curve.png"
LOG_FILE = "log.csv"
COLUMNS = ["step", "kind", "name", "value"]  # long form: new figures never break the file


class RunLog:
    """Append rows {step, name: value} to log.csv (columns fixed by the first row of each kind) and
    to TensorBoard under stage_dir/tb when tensorboard is installed."""

    def __init__(self, stage_dir: Path, resume_from: int = 0) -> None:
        self.dir = Path(stage_dir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.path = self.dir / LOG_FILE
        self._drop_after(resume_from)
        try:
            from torch.utils.tensorboard import SummaryWriter

            self.tensorboard = SummaryWriter(str(self.dir / "tb"), purge_step=resume_from or None)
        except ImportError:  # TensorBoard is optional; the CSV and the PNG carry the same figures
            self.tensorboard = None

    def _drop_after(self, step: int) -> None:
        """On resume, forget rows past the checkpoint's step (they will be logged again)."""
        if not self.path.exists():
            return
        rows = [r for r in read_log(self.path) if int(r["step"]) <= step]
        with self.path.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=COLUMNS)
            writer.writeheader()
            writer.writerows(rows)

    def log(self, step: int, kind: str, values: dict[str, float]) -> None:
        """kind: train | val. One CSV row per value (long form, so new figures never break the file)."""
        with self.path.open("a", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=COLUMNS)
            if handle.tell() == 0:
                writer.writeheader()
            for name, value in values.items():
                writer.writerow({"step": step, "kind": kind, "name": name, "value": f"{float(value):.6g}"})
        if self.tensorboard is not None:
            for name, value in values.items():
                self.tensorboard.add_scalar(f"{kind}/{name}", float(value), step)

    def close(self) -> None:
        if self.tensorboard is not None:
            self.tensorboard.close()


def read_log(path: Path) -> list[dict]:
    with Path(path).open(newline="") as handle:
        return list(csv.DictReader(handle))


def plot_curve(log_path: Path, out: Path, title: str) -> Path:
    """Training loss (and each validation figure) against step -> PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    series: dict[tuple[str, str], list[tuple[int, float]]] = {}
    for row in read_log(log_path):
        series.setdefault((row["kind"], row["name"]), []).append((int(row["step"]), float(row["value"])))
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.6))
    for (kind, name), points in sorted(series.items()):
        axis = left if kind == "train" and name == "loss" else right if kind == "val" else None
        if axis is not None:
            steps, values = zip(*points, strict=True)
            axis.plot(steps, values, label=name if kind == "val" else "training loss", marker="o" if kind == "val" else None, ms=3)
    left.set(title=f"{title}: training loss", xlabel="step", yscale="log")
    right.set(title="validation (held-out identities), px", xlabel="step")
    for axis in (left, right):
        axis.grid(alpha=0.3)
        if axis.lines:
            axis.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return Path(out)
