"""`meflow fit` on real photos, bad inputs, AffectNet CSVs and encoder outputs; UV textures;
fitted faces as a dataset source."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import matplotlib.cbook
import numpy as np
import pytest
from fit_helpers import synthetic_faces
from PIL import Image
from skimage import data
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.fitting.detectors import PluginMissing, make_detector
from pipeline.fitting.images import PhotoError, load_photo
from pipeline.fitting.projection import camera_to_normalised, project_np
from pipeline.fitting.raster import rasterize
from pipeline.fitting.run import FitOptions, FitRun
from pipeline.fitting.sources import affectnet_items, precomputed_items
from pipeline.fitting.texture import photo_texture, smooth_fill, surface_points, texel_map

GOOD = ("astronaut", "grace_hopper", "gray", "cmyk", "alpha", "sixteen_bit")
BAD = {"truncated": "unreadable image", "not_an_image": "unreadable image", "blank": "no face"}


def _photos() -> dict[str, np.ndarray]:
    grace = np.asarray(Image.open(matplotlib.cbook.get_sample_data("grace_hopper.jpg")).convert("RGB"))
    return {"astronaut": data.astronaut(), "grace_hopper": grace}


@pytest.fixture(scope="module")
def photo_folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("photos")
    photos = _photos()
    astronaut, grace = photos["astronaut"], photos["grace_hopper"]
    Image.fromarray(astronaut).save(folder / "astronaut.png")
    Image.fromarray(grace).save(folder / "grace_hopper.jpg", quality=95)
    Image.fromarray(astronaut).convert("L").save(folder / "gray.png")
    Image.fromarray(grace).convert("CMYK").save(folder / "cmyk.jpg")
    Image.fromarray(np.dstack([astronaut, np.full(astronaut.shape[:2], 200, np.uint8)])).save(folder / "alpha.png")
    Image.fromarray(astronaut[..., 1].astype(np.uint16) * 257).save(folder / "sixteen_bit.png")
    blob = (folder / "grace_hopper.jpg").read_bytes()
    (folder / "truncated.jpg").write_bytes(blob[: len(blob) // 3])
    (folder / "not_an_image.png").write_bytes(b"this is text")
    Image.fromarray(np.full((240, 320, 3), 128, np.uint8)).save(folder / "blank.png")
    return folder


@pytest.fixture(scope="module")
def fitted_folder(photo_folder, tmp_path_factory) -> tuple[Path, object]:
    out = tmp_path_factory.mktemp("fits")
    result = CliRunner().invoke(app, ["fit", str(photo_folder), "--out", str(out), "--batch-size", "4"])
    assert result.exit_code == 0, result.output
    return out, result


def test_fit_writes_params_texture_and_diagnostic_per_photo(fitted_folder):
    out, _ = fitted_folder
    for name in GOOD:
        with np.load(out / name / "params.npz") as p:
            assert p["shape"].shape == (300,) and p["expression"].shape == (50,)
            assert p["jaw"].shape == p["pose"].shape == p["camera"].shape == (3,) and p["eyelids"].shape == (2,)
            assert p["landmarks_fitted"].shape == (68, 2)
            size = tuple(p["image_size"])
            assert ((p["landmarks_fitted"] > 0) & (p["landmarks_fitted"] < size)).all()
        texture = np.asarray(Image.open(out / name / "texture.png"))
        assert texture.shape == (512, 512, 3) and texture.std() > 10
        assert np.asarray(Image.open(out / name / "diagnostic.png")).shape[0] == 512


def test_real_photos_fit_below_the_quality_bar(fitted_folder):
    out, _ = fitted_folder
    for name in ("astronaut", "grace_hopper"):
        result = json.loads((out / name / "result.json").read_text())
        assert result["status"] == "ok" and result["nme"] < 0.06, result
        assert result["texture_coverage"]["visible"] > 0.2


def test_bad_inputs_are_recorded_and_the_run_goes_on(fitted_folder):
    out, result = fitted_folder
    summary = json.loads((out / "summary.json").read_text())
    assert summary["ok"] == len(GOOD) and summary["failed"] == len(BAD) and summary["items"] == len(GOOD) + len(BAD)
    assert summary["failure_reasons"] == {"unreadable image": 2, "no face": 1}
    rows = {r["name"]: r for r in summary["results"]}
    assert "grayscale converted" in " ".join(rows["gray"]["notes"])
    assert "CMYK converted" in " ".join(rows["cmyk"]["notes"])
    assert "16" in " ".join(rows["sixteen_bit"]["notes"]) and "alpha" in " ".join(rows["alpha"]["notes"])
    assert "truncated" in rows["truncated"]["reason"]
    for name in BAD:
        assert not (out / name / "params.npz").exists()
    # Converted copies fit like the original.
    assert abs(rows["gray"]["nme"] - rows["astronaut"]["nme"]) < 0.01


def test_a_rerun_resumes_without_refitting(fitted_folder, photo_folder):
    out, _ = fitted_folder
    before = (out / "astronaut" / "params.npz").stat().st_mtime_ns
    result = CliRunner().invoke(app, ["fit", str(photo_folder), "--out", str(out)])
    assert result.exit_code == 0 and f"fitting {len(BAD)} of {len(GOOD) + len(BAD)} items" in result.output
    assert (out / "astronaut" / "params.npz").stat().st_mtime_ns == before
    assert not list(out.glob(".*.tmp"))


def test_huge_and_missing_photos_fail_with_a_reason(tmp_path):
    Image.fromarray(np.zeros((600, 500, 3), np.uint8)).save(tmp_path / "big.png")
    with pytest.raises(PhotoError, match="above the 0 MP limit: downscale it"):
        load_photo(tmp_path / "big.png", max_megapixels=0.2)
    photo = load_photo(tmp_path / "big.png", work_side=256)  # large but allowed: worked on smaller
    assert photo.rgb.shape[0] == 256 and photo.scale == pytest.approx(600 / 256, rel=0.01)
    with pytest.raises(PhotoError, match="no such file"):
        load_photo(tmp_path / "nope.jpg")


def test_affectnet_csv_rows_use_their_landmarks_and_bad_rows_are_recorded(tmp_path, standin_model):
    photos = _photos()
    (tmp_path / "1").mkdir()
    Image.fromarray(photos["astronaut"]).save(tmp_path / "1" / "face.jpg", quality=95)
    landmarks = make_detector("mediapipe").detect(photos["astronaut"])
    text = ";".join(f"{x:.2f};{y:.2f}" for x, y in landmarks)
    header = "subDirectory_filePath,face_x,face_y,face_width,face_height,facial_landmarks,expression,valence,arousal"
    rows = [f'1/face.jpg,100,80,250,250,"{text}",1,0.7,0.4',
            f'1/face.jpg,100,80,250,250,"{";".join(text.split(";")[:-2])}",1,0.7,0.4',  # 67 points
            '1/missing.jpg,100,80,250,250,"1;2;3",0,0,0',
            "1/face.jpg,100,80",  # too few fields
            f'1/gone.jpg,100,80,250,250,"{text}",3,0.1,0.9']
    csv = tmp_path / "training.csv"
    csv.write_text("\n".join([header, *rows]) + "\n")
    items = affectnet_items(csv)
    assert [it.name for it in items] == ["face", "face~2", "missing", "face~3", "gone"]
    assert np.allclose(items[0].landmarks, landmarks, atol=0.01) and items[0].meta["expression_name"] == "happy"
    assert "67 landmarks, expected 68" in items[1].error and "line 3" in items[1].error
    assert "3 fields where the header has 9" in items[3].error
    summary = FitRun(standin_model, tmp_path / "out", FitOptions(diagnostics=False), log=lambda *_: None).run(items)
    status = {r["name"]: r["status"] for r in summary["results"]}
    assert status == {"face": "ok", "face~2": "failed", "missing": "failed", "face~3": "failed", "gone": "failed"}
    assert summary["failure_reasons"] == {"bad landmarks": 2, "malformed CSV row": 1, "missing image": 1}
    assert json.loads((tmp_path / "out" / "face" / "result.json").read_text())["meta"]["valence"] == 0.7


def test_encoder_parameters_are_used_as_given(tmp_path, standin_model):
    truth = synthetic_faces(standin_model, batch=1, seed=2)
    cam = camera_to_normalised(truth.camera[0], 512, 512)
    np.savez(tmp_path / "a.npz", shape_params=truth.shape[0], expression_params=truth.expression[0],
             pose_params=truth.pose[0], jaw_params=truth.jaw[0], eyelid_params=truth.eyelids[0], cam=cam)
    (tmp_path / "b.json").write_text(json.dumps({"shape_params": truth.shape[0, :100].tolist(), "cam": [1, 0, 0]}))
    Image.fromarray(np.full((512, 512, 3), 128, np.uint8)).save(tmp_path / "a.png")
    items = precomputed_items(tmp_path)
    assert items[0].image == tmp_path / "a.png"
    assert "no 'expression_params'" in items[1].error
    summary = FitRun(standin_model, tmp_path / "out", FitOptions(diagnostics=False), log=lambda *_: None).run(items)
    assert [r["status"] for r in summary["results"]] == ["ok", "failed"]
    with np.load(tmp_path / "out" / "a" / "params.npz") as p:
        assert np.allclose(p["camera"], truth.camera[0], rtol=1e-5)
        assert np.abs(p["landmarks_fitted"] - truth.landmarks[0]).max() < 0.05
        assert np.allclose(p["shape"], truth.shape[0], atol=1e-6)


def test_texture_projection_recovers_a_painted_face(standin_model):
    """Paint a known texture onto a fitted head, photograph it with our rasteriser, project it back."""
    truth = synthetic_faces(standin_model, batch=1, seed=4, yaw_std_deg=5.0)
    uv, uv_faces = standin_model.uv
    faces = standin_model.faces
    texels = texel_map(uv, uv_faces, standin_model.assets.v_template, faces, 256)
    yy, xx = np.mgrid[0:256, 0:256] / 256.0
    known = np.stack([128 + 100 * np.sin(6 * xx), 128 + 100 * np.cos(5 * yy), 128 + 60 * np.sin(4 * (xx + yy))], -1)
    vertices, camera = truth.vertices[0], truth.camera[0]
    face, bary = rasterize(project_np(vertices, camera), faces, 512, 512, vertices[:, 2])
    hit = face >= 0
    uv_at = np.einsum("nk,nkc->nc", bary[hit], uv[uv_faces[face[hit]]])
    photo = np.zeros((512, 512, 3))
    photo[hit] = known[np.clip(((1 - uv_at[:, 1]) * 256).astype(int), 0, 255), np.clip((uv_at[:, 0] * 256).astype(int), 0, 255)]
    result = photo_texture(photo.astype(np.uint8), 1.0, (512, 512), vertices, faces, camera, texels)
    assert result.visible.mean() > 0.1 and result.mirrored.any()
    error = np.abs(result.texture[result.visible].astype(float) - known[result.visible]).mean()
    assert error < 8.0  # grey levels; resampling a 512-px photo of a 256-px texture
    assert surface_points(vertices, faces, texels.face[texels.covered][:1], texels.bary[texels.covered][:1]).shape == (1, 3)


def test_smooth_fill_keeps_known_texels_and_fills_holes():
    colours = np.zeros((64, 64, 3))
    colours[:, :32] = (200.0, 150.0, 120.0)
    known = np.zeros((64, 64), bool)
    known[:, :32] = True
    filled = smooth_fill(colours, known)
    assert np.allclose(filled[:, :32], colours[:, :32]) and np.allclose(filled[:, 32:], (200.0, 150.0, 120.0), atol=1.0)
    with pytest.raises(ValueError, match="no visible texel"):
        smooth_fill(colours, np.zeros_like(known))


def test_missing_and_unknown_detectors_say_what_to_do(tmp_path):
    try:
        import dlib  # noqa: F401
    except ImportError:
        with pytest.raises(PluginMissing, match=r'pip install "meflow\[dlib\]"'):
            make_detector("dlib")
    with pytest.raises(ValueError, match="choose one of"):
        make_detector("openface")
    Image.fromarray(np.zeros((64, 64, 3), np.uint8)).save(tmp_path / "x.png")
    result = CliRunner().invoke(app, ["fit", str(tmp_path / "x.png"), "--out", str(tmp_path / "o"), "--detector", "openface"])
    assert result.exit_code != 0


def test_fitted_faces_render_into_a_dataset(fitted_folder, tmp_path, standin_assets):
    out, _ = fitted_folder
    recipe = Path(__file__).resolve().parent.parent / "datasets" / "fitted-smoke.toml"
    text = recipe.read_text().replace('fits = "build/fits"', f'fits = "{out}"')
    (tmp_path / "fitted.toml").write_text(text)
    proc = subprocess.run([sys.executable, "-m", "pipeline.cli", "dataset", "build", "--out", str(tmp_path / "ds"),
                           "--shards", "1", "--samples", "2", "--recipe", str(tmp_path / "fitted.toml")],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    from shards.layout import DatasetDir

    reader = DatasetDir(tmp_path / "ds").reader(0)
    names = sorted(p.parent.name for p in out.glob("*/params.npz"))
    for i in range(2):
        sample = reader.read(i, ("source_id", "scene", "shape"))
        with np.load(out / names[i] / "params.npz") as p:
            assert sample["source_id"] == str(p["source_id"])
            assert np.allclose(sample["shape"], p["shape"], atol=1e-6)
        assert json.loads(sample["scene"])["texture"].endswith(f"{names[i]}/texture.png")
