"""How real do the renders look to a landmark detector trained on real photos, and how trackable
is their texture? Per recipe, on a fixed set of samples (indices 0..N-1):

- detection rate and median NME (inter-ocular) of mediapipe's landmarks against the exact
  projected ground-truth landmarks, per landmark group as well;
- DIS trackability: DIS facial-flow EPE over the face divided by the mean true motion;
- seconds per rendered pair;
- shape bias: detected over true length of the face, nose, mouth, chin, jaw, cheeks and brows
  (a detector regresses towards the real faces it learnt, so a length it finds shorter is one the
  renders have longer than real faces), and a picture of the mean pull on each landmark (--bias).

Reference row: the package's real photos (astronaut, Grace Hopper), fitted by `meflow fit`, with
the detector's landmarks against the fitted mesh's projected landmarks (the same NME the fitter
reports). A side-by-side picture of renders per recipe goes to --picture.

    .venv/bin/python bench/realism.py [--recipes smoke,meflow-v1] [--samples 16] [--appearance on|off]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import recipe_appearance_off

from facial.ibug68 import GROUPS, inter_ocular, normalised_mean_error
from flame_assets.assets import load_assets
from flame_assets.standin.build import ensure_standin
from pipeline.fitting.detectors import MediapipeDetector, NoFaceError
from pipeline.synthesis.recipe import load_recipe


def dis_flow(onset: np.ndarray, apex: np.ndarray) -> np.ndarray:
    """DIS (medium preset) flow between two RGB uint8 images, (H, W, 2)."""
    import cv2

    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    gray = [cv2.cvtColor(im, cv2.COLOR_RGB2GRAY) for im in (onset, apex)]
    return dis.calc(gray[0], gray[1], None)


GROUP_MEMBERS = {"jaw": ("jaw",), "brows": ("brow_image_left", "brow_image_right"),
                 "nose": ("nose_bridge", "nostrils"), "eyes": ("eye_image_left", "eye_image_right"),
                 "mouth": ("mouth_outer", "mouth_inner")}


def group_nme(predicted: np.ndarray, target: np.ndarray) -> dict[str, float]:
    """NME restricted to each group of points (the same inter-ocular normaliser)."""
    err = np.linalg.norm(predicted - target, axis=-1) / inter_ocular(target)
    return {name: float(np.mean([err[i] for g in members for i in GROUPS[g]])) for name, members in GROUP_MEMBERS.items()}


def measure_recipe(recipe, n: int, detector) -> tuple[dict, list, list]:
    """Figures of one recipe's first n samples, their onset images, and (image, ground-truth
    landmarks, detected landmarks or None) per sample for the overlay picture."""
    from pipeline.synthesis.pair import RenderWorker

    worker = RenderWorker(recipe, load_assets(ensure_standin()))
    nmes, groups, ratios, seconds, found, onsets, marked = [], [], [], [], 0, [], []
    for k in range(n):
        t = time.perf_counter()
        r = worker.render_index(k)
        seconds.append(time.perf_counter() - t)
        onsets.append(r.onset)
        points = None
        try:
            points = detector.detect(r.onset)
            found += 1
            nmes.append(float(normalised_mean_error(points, r.landmarks_onset)))
            groups.append(group_nme(points, r.landmarks_onset))
        except NoFaceError:
            pass
        marked.append((r.onset, r.landmarks_onset, points))
        mask = r.mask
        true = r.flow_facial[mask]
        err = np.linalg.norm(dis_flow(r.onset, r.apex)[mask] - true, axis=-1).mean()
        ratios.append(float(err / max(np.linalg.norm(true, axis=-1).mean(), 1e-9)))
    row = {
        "recipe": recipe.name, "samples": n, "detection_rate": found / n,
        "nme_median": float(np.median(nmes)) if nmes else float("nan"),
        "nme_mean": float(np.mean(nmes)) if nmes else float("nan"),
        "nme_by_group": {g: float(np.median([x[g] for x in groups])) for g in GROUP_MEMBERS} if groups else {},
        "dis_trackability": float(np.median(ratios)), "seconds_per_pair": float(np.mean(seconds[1:] or seconds)),
        "detected_over_true": length_bias(marked),
    }
    return row, onsets, marked


# Lengths whose detected-over-true ratio says where the renders' shape departs from the faces the
# detector learnt: a detector regresses towards the faces it was trained on, so a length it finds
# consistently shorter than the truth is one the renders have longer than real faces do.
SHAPE_LENGTHS = {"face 27-8": (27, 8), "nose 27-33": (27, 33), "mouth 48-54": (48, 54), "chin 6-10": (6, 10),
                 "jaw 4-12": (4, 12), "cheeks 2-14": (2, 14), "brows 17-26": (17, 26)}


def length_bias(marked: list) -> dict[str, float]:
    """Median over the detected samples of detected / true length, per SHAPE_LENGTHS."""
    pairs = [(truth, found) for _, truth, found in marked if found is not None]
    return {name: float(np.median([np.linalg.norm(f[a] - f[b]) / np.linalg.norm(t[a] - t[b]) for t, f in pairs]))
            for name, (a, b) in SHAPE_LENGTHS.items()} if pairs else {}


def eye_frame(truth: np.ndarray, points: np.ndarray) -> np.ndarray:
    """points (68, 2) in the frame of truth's eyes: origin between the eye centres, x along the
    eye line, unit = the inter-ocular distance (iBUG's outer eye corners)."""
    left, right = truth[36:42].mean(0), truth[42:48].mean(0)
    axis = (right - left) / np.linalg.norm(right - left)
    rotation = np.stack([axis, [-axis[1], axis[0]]])
    return (points - 0.5 * (left + right)) @ rotation.T / inter_ocular(truth)


def bias_picture(marked: list, path: Path, gain: float = 3.0) -> None:
    """The mean true landmarks in the eye frame, with arrows to the mean detected ones (lengthened
    `gain` times): where the detector, trained on real faces, pulls each point."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pairs = [(eye_frame(t, t), eye_frame(t, f)) for _, t, f in marked if f is not None]
    truth = np.mean([t for t, _ in pairs], 0)
    pull = np.mean([f - t for t, f in pairs], 0)
    fig, ax = plt.subplots(figsize=(4.5, 5.0))
    ax.scatter(*truth.T, s=9, c="tab:green", label="ground truth (mean)")
    ax.quiver(*truth.T, *(gain * pull).T, angles="xy", scale_units="xy", scale=1.0, color="tab:red", width=0.005,
              label=f"detector's pull x{gain:g}")
    ax.invert_yaxis()
    ax.set_aspect("equal")
    ax.set_xticks([]), ax.set_yticks([])
    ax.legend(loc="lower center", fontsize=7, frameon=False, bbox_to_anchor=(0.5, -0.12), ncol=2)
    ax.set_title(f"Where the detector moves the landmarks ({len(pairs)} renders)", fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=130)
    plt.close(fig)


def measure_real_photos(detector) -> dict:
    """NME of the detector's landmarks against the fitted mesh's landmarks on the real photos."""
    from pipeline.fitting.sample_photos import write_sample_photos

    with tempfile.TemporaryDirectory() as tmp:
        photos = write_sample_photos(Path(tmp) / "photos")
        meflow = Path(sys.executable).with_name("meflow")
        subprocess.run([str(meflow), "fit", str(Path(tmp) / "photos"), "--out", str(Path(tmp) / "fits"),
                        "--detector", detector.name, "--no-diagnostics"], check=True, capture_output=True)
        rows = [json.loads(p.read_text()) for p in sorted((Path(tmp) / "fits").glob("*/result.json"))]
    nmes = [r["nme"] for r in rows if r.get("nme") is not None]
    return {"recipe": "real photos (fitted)", "samples": len(photos), "detection_rate": len(nmes) / len(photos),
            "nme_median": float(np.median(nmes)), "nme_mean": float(np.mean(nmes))}


def side_by_side(columns: dict[str, list[np.ndarray]], path: Path, per_row: int = 4) -> None:
    """One block per recipe: its first renders in a grid, titled."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(columns)
    n = min(per_row, *(len(v) for v in columns.values()))
    fig, axes = plt.subplots(len(names), n, figsize=(2.4 * n, 2.5 * len(names)), squeeze=False)
    for r, name in enumerate(names):
        for c in range(n):
            axes[r, c].imshow(columns[name][c])
            axes[r, c].set_xticks([]), axes[r, c].set_yticks([])
        axes[r, 0].set_ylabel(name, fontsize=9)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def landmark_overlay(marked: list, path: Path, count: int = 4, zoom: int = 2) -> None:
    """The first `count` renders cropped to the face, ground-truth landmarks in green and the
    detector's in red, side by side."""
    from PIL import Image, ImageDraw

    tiles = []
    for image, truth, found in marked[:count]:
        centre, half = (truth.min(0) + truth.max(0)) / 2, 0.65 * (truth.max(0) - truth.min(0)).max()
        box = [int(round(v)) for v in (*(centre - half), *(centre + half))]  # square; outside the image is black
        side = 256 * zoom
        scale = side / (box[2] - box[0])
        tile = Image.fromarray(image).crop(box).resize((side, side), Image.LANCZOS)
        draw = ImageDraw.Draw(tile)
        for points, colour in ((truth, (40, 255, 40)), (found, (255, 40, 40))):
            for x, y in ([] if points is None else (points - box[:2]) * scale):
                draw.ellipse([x - 3, y - 3, x + 3, y + 3], fill=colour)
        tiles.append(np.asarray(tile))
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.concatenate(tiles, 1)).save(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--recipes", default="smoke,meflow-v1")
    parser.add_argument("--samples", type=int, default=16)
    parser.add_argument("--appearance", default="both", choices=("on", "off", "both"),
                        help="on: the recipe as it is; off: mannequin skin (appearance disabled); both: side by side")
    parser.add_argument("--real", action=argparse.BooleanOptionalAction, default=True, help="Fit the real photos for the reference row.")
    parser.add_argument("--picture", type=Path, default=None)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--sheet", type=Path, default=None, help="A 4 x 4 contact sheet of the last recipe's first 16 identities.")
    parser.add_argument("--overlay", type=Path, default=None,
                        help="The last recipe's first 4 renders with ground-truth (green) and detected (red) landmarks.")
    parser.add_argument("--bias", type=Path, default=None,
                        help="The last recipe's mean landmarks with arrows to where the detector puts them.")
    args = parser.parse_args()
    detector = MediapipeDetector()
    print(f"realism: {os.cpu_count()} cores, mediapipe face mesh -> iBUG-68, {args.samples} samples per recipe")
    header = ("recipe", "detected", "NME med", "jaw", "brows", "nose", "eyes", "mouth", "DIS ratio", "s/pair")
    print(f"{header[0]:<28} " + " ".join(f"{h:>{max(6, len(h))}}" for h in header[1:]))
    rows, pictures = [], {}
    variants = {"on": [False], "off": [True], "both": [True, False]}[args.appearance]
    for name in args.recipes.split(","):
        for off in variants:
            recipe = recipe_appearance_off(load_recipe(name)) if off else load_recipe(name)
            label = f"{name}{' (mannequin)' if off else ''}"
            row, onsets, marked = measure_recipe(recipe, args.samples, detector)
            row["recipe"] = label
            rows.append(row)
            pictures[label] = onsets
            g = row["nme_by_group"]
            print(f"{label:<28} {100 * row['detection_rate']:7.0f}% {row['nme_median']:8.3f} "
                  + " ".join(f"{g.get(k, float('nan')):6.3f}" for k in GROUP_MEMBERS)
                  + f" {row['dis_trackability']:9.3f} {row['seconds_per_pair']:7.2f}", flush=True)
            print(f"{'':<28} detected / true: " + ", ".join(f"{k} {v:.3f}" for k, v in row["detected_over_true"].items()), flush=True)
    if args.real:
        real = measure_real_photos(detector)
        rows.append(real)
        print(f"{real['recipe']:<28} {100 * real['detection_rate']:7.0f}% {real['nme_median']:8.3f}")
    if args.picture:
        side_by_side(pictures, args.picture)
        print(f"wrote {args.picture}")
    if args.overlay:
        landmark_overlay(marked, args.overlay)
        print(f"wrote {args.overlay}")
    if args.bias:
        bias_picture(marked, args.bias)
        print(f"wrote {args.bias}")
    if args.sheet:
        last = list(pictures.values())[-1][:16]
        grid = [np.concatenate(last[r:r + 4], 1) for r in range(0, len(last) - len(last) % 4, 4)]
        from PIL import Image

        args.sheet.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.concatenate(grid, 0)).save(args.sheet)
        print(f"wrote {args.sheet}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
