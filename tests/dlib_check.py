"""`make dlib-check`: the dlib landmark plug-in, installed as the README says, run on the package
photos (skimage's astronaut, matplotlib's Grace Hopper) the way `meflow fit --detector dlib` runs it
(load_photo, then detect), and compared with the mediapipe plug-in on the same pictures.

Passes when every photo gives 68 finite points inside mediapipe's face box (grown by a margin) and
the normalised mean error against mediapipe's points (over mediapipe's inter-ocular distance) stays
below the limits below. The two detectors place the jaw line differently (dlib: the jaw contour,
mediapipe: its face oval), so the inner points (brows, nose, eyes, mouth) have the tighter limit.
With --fit OUT it then runs `meflow fit --detector dlib` on the same photos into OUT and checks
that every photo fits. Prints one line per photo and a summary line; exits 1 with the reason
otherwise.

    .../venv/bin/python tests/dlib_check.py [--fit OUT]
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from facial.ibug68 import INNER, inter_ocular, normalised_mean_error
from pipeline.fitting.detectors import dlib_model_path, make_detector
from pipeline.fitting.images import load_photo
from pipeline.fitting.sample_photos import write_sample_photos

MAX_NME_INNER = 0.06  # brows, nose, eyes, mouth (points 17-67) vs mediapipe, in inter-ocular units
MAX_NME_ALL = 0.10  # all 68, jaw included
BOX_MARGIN = 0.10  # of mediapipe's landmark box size, each side


def check(condition: bool, reason: str) -> None:
    if not condition:
        print(f"dlib-check failed: {reason}", file=sys.stderr)
        sys.exit(1)


def fit_with_dlib(photos: Path, out: Path) -> None:
    """The user's path: the command line, its workers and the plug-in, on the sample photos."""
    meflow = Path(sys.executable).parent / "meflow"
    run = subprocess.run([str(meflow), "fit", str(photos), "--out", str(out), "--detector", "dlib", "--no-diagnostics"],
                         capture_output=True, text=True)
    check(run.returncode == 0, f"meflow fit --detector dlib exited {run.returncode}: {(run.stderr or run.stdout)[-2000:]}")
    summary = json.loads((out / "summary.json").read_text())
    reasons = {r["name"]: r.get("reason") for r in summary["results"] if r["status"] != "ok"}
    check(summary["ok"] == summary["items"] == 2, f"meflow fit --detector dlib: {summary['ok']} of {summary['items']} photos fitted: {reasons}")
    print(f"meflow fit --detector dlib: {summary['ok']} of {summary['items']} photos fitted, "
          f"landmark NME of the fits {summary['nme_ok']['max']:.3f} at worst, into {out}")


def main(fit_out: Path | None) -> None:
    started = time.perf_counter()
    dlib = make_detector("dlib")
    loaded = time.perf_counter() - started
    mediapipe = make_detector("mediapipe")
    import dlib as dlib_module

    pkg_resources = importlib.util.find_spec("pkg_resources") is not None
    print(f"dlib {dlib_module.__version__}, model {dlib_model_path()} ({dlib_model_path().stat().st_size / 1e6:.0f} MB, "
          f"loaded in {loaded:.1f} s); pkg_resources importable: {pkg_resources}")
    worst_inner = worst_all = 0.0
    with tempfile.TemporaryDirectory() as folder:
        for path in write_sample_photos(folder):
            rgb = load_photo(path).rgb
            started = time.perf_counter()
            points = dlib.detect(rgb)
            seconds = time.perf_counter() - started
            reference = mediapipe.detect(rgb)
            check(points.shape == (68, 2) and np.isfinite(points).all(), f"{path.name}: dlib gave {points.shape} points")
            low, high = reference.min(0), reference.max(0)
            margin = BOX_MARGIN * (high - low)
            outside = np.flatnonzero(((points < low - margin) | (points > high + margin)).any(1))
            check(outside.size == 0, f"{path.name}: points {outside.tolist()} lie outside mediapipe's face box {low.round()}-{high.round()}")
            nme_all = float(normalised_mean_error(points, reference))
            nme_inner = float(np.linalg.norm(points[INNER] - reference[INNER], axis=1).mean() / inter_ocular(reference))
            print(f"{path.name}: {rgb.shape[1]}x{rgb.shape[0]} px, detect {seconds:.2f} s, inter-ocular {float(inter_ocular(reference)):.0f} px, "
                  f"NME vs mediapipe: all 68 {nme_all:.3f}, inner 51 {nme_inner:.3f}")
            check(nme_inner < MAX_NME_INNER, f"{path.name}: inner-point NME {nme_inner:.3f} vs mediapipe is not below {MAX_NME_INNER}")
            check(nme_all < MAX_NME_ALL, f"{path.name}: NME {nme_all:.3f} vs mediapipe is not below {MAX_NME_ALL}")
            worst_inner, worst_all = max(worst_inner, nme_inner), max(worst_all, nme_all)
        mediapipe.close()
        if fit_out is not None:
            fit_with_dlib(Path(folder), fit_out)
    print(f"dlib-check passed: worst NME vs mediapipe {worst_all:.3f} (limit {MAX_NME_ALL:.2f}), "
          f"inner points {worst_inner:.3f} (limit {MAX_NME_INNER:.2f})")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fit", type=Path, metavar="OUT", help="also run `meflow fit --detector dlib` into OUT")
    main(parser.parse_args().fit)
