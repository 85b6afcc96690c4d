"""`meflow eval`: the EPE figures on cases with known answers, nose-tip compensation of facial-only
methods, classical baselines on a warped textured face, the contact sheet and the command line."""
from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
from cli_helpers import assert_one_line_error, meflow
from shard_fixtures import write_dataset

from facial.ibug68 import GROUPS, NOSE_TIP
from facial.nose_tip import nose_tip_half_window
from facial.regions import roi_union
from facial.wflw98 import wflw98_from_ibug68
from shards.flows import FlowPrediction
from training.evaluation.baselines import BASELINES, make_baselines
from training.evaluation.contact_sheet import sheet_scale, write_contact_sheet
from training.evaluation.evaluate import (
    FIGURES,
    IMAGE_COUNT_KEY,
    MethodError,
    SampleError,
    evaluate,
    format_table,
    open_eval_samples,
)

FACE_PX = 96
WARP_AMPLITUDE_PX = 1.5  # a few-pixel motion, as the larger micro-expressions
TEXTURE_BLUR_PX = 1.5
HEAD_SHIFT = np.array([0.4, -0.25], np.float32)  # a head translation, pixels
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
# write_dataset(shards=2, per_shard=6): identities photo-0000..0003; the default split rule puts only
# photo-0003 (samples 9, 10, 11) in test.
TINY_SHARDS, TINY_PER_SHARD, TINY_TEST_SAMPLES = 2, 6, 3


def schematic_landmarks(size: int) -> np.ndarray:
    """(68, 2) iBUG-68 points of a frontal schematic face filling a size x size image."""
    def ellipse(cx, cy, rx, ry, n, start=0.0):
        t = start + np.linspace(0, 2 * np.pi, n, endpoint=False)
        return np.stack([cx + rx * np.cos(t), cy + ry * np.sin(t)], -1)

    t = np.linspace(np.pi, 0, 17)  # image left, round the chin (y down), to image right
    parts = [np.stack([0.5 + 0.36 * np.cos(t), 0.42 + 0.5 * np.sin(t)], -1),
             np.stack([np.linspace(0.2, 0.42, 5), np.full(5, 0.28)], -1), np.stack([np.linspace(0.58, 0.8, 5), np.full(5, 0.28)], -1),
             np.stack([np.full(4, 0.5), np.linspace(0.36, 0.56, 4)], -1), np.stack([np.linspace(0.42, 0.58, 5), np.full(5, 0.62)], -1),
             ellipse(0.32, 0.38, 0.07, 0.025, 6, np.pi), ellipse(0.68, 0.38, 0.07, 0.025, 6, np.pi),
             ellipse(0.5, 0.76, 0.15, 0.06, 12, np.pi), ellipse(0.5, 0.76, 0.1, 0.02, 8, np.pi)]
    points = np.concatenate(parts) * (size - 1)
    assert points.shape == (68, 2)
    return points.astype(np.float32)


def face_mask(landmarks: np.ndarray, size: int) -> np.ndarray:
    """(H, W) bool: the jaw outline closed over the brows (the face's foreground)."""
    outline = np.concatenate([landmarks[list(GROUPS["jaw"])], landmarks[list(GROUPS["brow_image_right"])[::-1]],
                              landmarks[list(GROUPS["brow_image_left"])[::-1]]])
    mask = np.zeros((size, size), np.uint8)
    cv2.fillPoly(mask, [np.round(outline).astype(np.int32)], 1)
    return mask.astype(bool)


def warped_pair(size: int, amplitude: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A smooth random texture and its warp by a known smooth flow -> onset, apex (H, W, 3) uint8 and
    the exact forward flow (H, W, 2): apex sampled at x + flow(x) is onset."""
    pad = 4 * int(np.ceil(amplitude))
    rng = np.random.default_rng(seed)
    texture = cv2.GaussianBlur(rng.random((size + 2 * pad, size + 2 * pad, 3)).astype(np.float32), (0, 0), TEXTURE_BLUR_PX)
    texture = (texture - texture.min()) / (texture.max() - texture.min())
    y, x = np.mgrid[0:size, 0:size].astype(np.float32)

    def backward(px, py):  # apex(p) = onset(p - backward(p))
        return np.stack([amplitude * np.sin(2 * np.pi * py / size + 0.5), amplitude * np.cos(2.6 * np.pi * px / size)], -1)

    flow = np.zeros((size, size, 2), np.float32)
    for _ in range(40):  # the forward flow solves flow(x) = backward(x + flow(x)); a contraction for small smooth motion
        flow = backward(x + flow[..., 0], y + flow[..., 1]).astype(np.float32)
    back = backward(x, y).astype(np.float32)
    onset = cv2.remap(texture, x + pad, y + pad, cv2.INTER_CUBIC)
    apex = cv2.remap(texture, x - back[..., 0] + pad, y - back[..., 1] + pad, cv2.INTER_CUBIC)
    return (np.clip(onset * 255 + 0.5, 0, 255).astype(np.uint8), np.clip(apex * 255 + 0.5, 0, 255).astype(np.uint8), flow)


def face_sample(seed: int = 0, head: np.ndarray | None = None) -> dict:
    """A warped textured face: facial flow = the known warp, head flow = `head` at every pixel
    (zero by default), the schematic landmarks and the face mask."""
    onset, apex, flow = warped_pair(FACE_PX, WARP_AMPLITUDE_PX, seed)
    landmarks = schematic_landmarks(FACE_PX)
    head_flow = np.broadcast_to(np.zeros(2, np.float32) if head is None else head, flow.shape).astype(np.float32)
    return {"onset": onset, "apex": apex, "flow_facial": flow, "flow_head": head_flow, "mask": face_mask(landmarks, FACE_PX),
            "landmarks_onset": landmarks, "source_id": f"face-{seed}"}


def magnitude(flow: np.ndarray) -> np.ndarray:
    return np.sqrt((np.asarray(flow, np.float64) ** 2).sum(-1))


class GroundTruth:
    """Answers each sample's true flows (found by its onset image); head None when facial_only."""

    def __init__(self, samples, facial_only: bool = False, name: str = "truth") -> None:
        self.truth = {s["onset"].tobytes(): s for s in samples}
        self.facial_only, self.name = facial_only, name

    def predict(self, onset, apex) -> FlowPrediction:
        sample = self.truth[onset.tobytes()]
        return FlowPrediction(sample["flow_facial"].copy(), None if self.facial_only else sample["flow_head"].copy())


class Uniform:
    """The same facial flow at every pixel, no head flow."""

    name = "uniform"

    def __init__(self, flow) -> None:
        self.flow = np.asarray(flow, np.float32)

    def predict(self, onset, apex) -> FlowPrediction:
        return FlowPrediction(np.broadcast_to(self.flow, (*onset.shape[:2], 2)).copy())


class Failing:
    name = "broken"

    def predict(self, onset, apex) -> FlowPrediction:
        raise RuntimeError("out of memory\nwhile allocating")


class NotANumber:
    name = "nan"

    def predict(self, onset, apex) -> FlowPrediction:
        return FlowPrediction(np.full((*onset.shape[:2], 2), np.nan, np.float32))


def write_mellm_folder(root, samples: list[dict]):
    """Samples -> a folder in MELLM's layout holding a test list only (as a user's copy of it)."""
    lines = []
    for n, sample in enumerate(samples):
        folder = root / f"sample{n}"
        exp, pose = folder / "render_output_exp_pose", folder / "render_output_pose"
        exp.mkdir(parents=True)
        pose.mkdir()
        for name, key in (("frame_0001.png", "onset"), ("frame_0002.png", "apex")):
            cv2.imwrite(str(exp / name), np.ascontiguousarray(sample[key][..., ::-1]))  # RGB -> OpenCV's BGR
        np.savez(exp / "0001.npz", optical_flow=sample["flow_facial"])
        np.savez(pose / "0001.npz", optical_flow=sample["flow_head"])
        for name in ("lm0.npy", "lm1.npy"):
            np.save(exp / name, wflw98_from_ibug68(sample["landmarks_onset"]))
        np.save(folder / "mask.npy", sample["mask"].astype(np.uint8))
        lines.append(f"{folder}/")
    (root / "labels").mkdir()
    (root / "labels" / "test_data.txt").write_text("\n".join(lines) + "\n")
    return root


@pytest.fixture(scope="module")
def tiny_dataset(tmp_path_factory):
    root = tmp_path_factory.mktemp("eval") / "shards"
    write_dataset(root, shards=TINY_SHARDS, per_shard=TINY_PER_SHARD)
    return root


def nose_tip_inside(sample: dict) -> bool:
    x, y = np.round(sample["landmarks_onset"][NOSE_TIP]).astype(int)
    height, width = sample["mask"].shape
    return 0 <= x < width and 0 <= y < height


@pytest.fixture(scope="module")
def raw_shard_samples(tiny_dataset):
    samples = open_eval_samples(tiny_dataset, "all")
    return [samples[i] for i in range(len(samples))]


@pytest.fixture(scope="module")
def shard_samples(raw_shard_samples):
    """The tiny dataset's samples with landmarks inside the image: write_dataset draws them in
    [0, SIZE), so a nose tip can round to SIZE (sample 0's does), outside the image."""
    return [dict(s, landmarks_onset=np.clip(s["landmarks_onset"], 0, s["mask"].shape[0] - 1)) for s in raw_shard_samples]


def test_shard_samples_come_back_as_numpy_images_and_flows(tiny_dataset, shard_samples):
    assert len(shard_samples) == TINY_SHARDS * TINY_PER_SHARD
    assert len(open_eval_samples(tiny_dataset, "test")) == TINY_TEST_SAMPLES
    assert len(open_eval_samples(tiny_dataset, "all", limit=2)) == 2
    s = shard_samples[0]
    size = s["mask"].shape
    assert s["onset"].shape == (*size, 3) and s["onset"].dtype == np.uint8
    assert s["flow_facial"].shape == (*size, 2) and s["landmarks_onset"].shape == (68, 2)
    assert isinstance(s["source_id"], str)


def test_zero_flow_scores_the_mean_true_magnitude(shard_samples):
    result = evaluate(make_baselines(["zero"]), shard_samples)
    figures = result.figures["zero"]
    expected = {f: [] for f in FIGURES}
    for s in shard_samples:  # per image over its mask, then over images
        mask, facial, head = s["mask"], s["flow_facial"], s["flow_head"]
        roi = roi_union(s["landmarks_onset"], *mask.shape) & mask
        expected["epe_facial"].append(magnitude(facial)[mask].mean())
        expected["epe_head"].append(magnitude(head)[mask].mean())
        expected["epe_expr"].append(magnitude(facial - head)[mask].mean())
        expected["px1_facial"].append((magnitude(facial)[mask] < 1).mean())
        if roi.any():
            expected["roi_epe_facial"].append(magnitude(facial)[roi].mean())
            expected["roi_epe_expr"].append(magnitude(facial - head)[roi].mean())
    assert result.n_images == len(shard_samples)
    for f in FIGURES:
        assert figures[f] == pytest.approx(np.mean(expected[f]), rel=1e-5), f
    assert figures["epe_facial"] > 0.1  # the data moves: the test can tell a zero method from a good one


def test_the_true_flow_scores_zero_error_and_full_accuracy(shard_samples):
    result = evaluate([GroundTruth(shard_samples)], shard_samples)
    figures = result.figures["truth"]
    assert all(figures[f] == pytest.approx(0.0, abs=1e-6) for f in FIGURES if f != "px1_facial")
    assert figures["px1_facial"] == 1.0


def test_empty_masks_are_skipped_not_counted_as_zero(shard_samples):
    blank = dict(shard_samples[0], mask=np.zeros_like(shard_samples[0]["mask"]))
    with_blank = evaluate(make_baselines(["zero"]), [blank, *shard_samples[1:]])
    without = evaluate(make_baselines(["zero"]), shard_samples[1:])
    assert (with_blank.n_images, with_blank.n_skipped) == (len(shard_samples) - 1, 1)
    assert with_blank.figures == without.figures


def test_facial_only_methods_take_the_nose_tip_flow_as_head():
    sample = face_sample(head=HEAD_SHIFT)
    # Facial flow = head shift + an expression that is zero around the nose tip.
    landmarks = sample["landmarks_onset"]
    half = nose_tip_half_window(landmarks)
    x, y = np.round(landmarks[NOSE_TIP]).astype(int)
    expression = sample["flow_facial"].copy()
    expression[y - half - 1: y + half + 2, x - half - 1: x + half + 2] = 0
    sample["flow_facial"] = expression + HEAD_SHIFT
    gt_expression = magnitude(expression)[sample["mask"]].mean()
    assert gt_expression > 0.5

    truth_facial_only = evaluate([GroundTruth([sample], facial_only=True)], [sample]).figures["truth"]
    assert truth_facial_only["epe_head"] == pytest.approx(0.0, abs=1e-6)  # the nose tip moved with the head only
    assert truth_facial_only["epe_expr"] == pytest.approx(0.0, abs=1e-6)
    # Without compensation (a zero head flow declared) the head shift would be all head error.
    declared = evaluate([ZeroHead(GroundTruth([sample]))], [sample]).figures["zero-head"]
    assert declared["epe_head"] == pytest.approx(float(np.hypot(*HEAD_SHIFT)), rel=1e-5)
    # A uniform facial flow is all head motion once compensated: no expression predicted.
    uniform = evaluate([Uniform([2.0, -1.0])], [sample]).figures["uniform"]
    assert uniform["epe_expr"] == pytest.approx(gt_expression, rel=1e-5)
    assert uniform["epe_head"] == pytest.approx(float(np.hypot(*(HEAD_SHIFT - [2.0, -1.0]))), rel=1e-5)


class ZeroHead:
    """A method's facial flow with an explicit zero head flow."""

    name = "zero-head"

    def __init__(self, method) -> None:
        self.method = method

    def predict(self, onset, apex) -> FlowPrediction:
        facial = self.method.predict(onset, apex).facial
        return FlowPrediction(facial, np.zeros_like(facial))


def test_classical_baselines_beat_zero_flow_on_a_warped_textured_face():
    samples = [face_sample(seed) for seed in range(2)]
    result = evaluate(make_baselines(BASELINES), samples)
    zero = result.figures["zero"]
    assert zero["epe_facial"] > 0.8 * WARP_AMPLITUDE_PX
    for name in ("farneback", "dis", "tvl1"):
        figures = result.figures[name]
        assert figures["epe_facial"] < 0.4 * zero["epe_facial"], (name, figures)
        assert figures["roi_epe_facial"] < 0.4 * zero["roi_epe_facial"], (name, figures)
        assert figures["px1_facial"] > zero["px1_facial"] + 0.3, (name, figures)
    assert result.best("epe_facial") != "zero"


def test_json_holds_the_six_figures_per_method_and_the_image_count(shard_samples):
    result = evaluate(make_baselines(["zero", "farneback"]), shard_samples)
    data = json.loads(json.dumps(result.to_json(), allow_nan=False))
    assert set(data) == {"zero", "farneback", IMAGE_COUNT_KEY}
    assert data[IMAGE_COUNT_KEY] == len(shard_samples)
    for method in ("zero", "farneback"):
        assert list(data[method]) == ["epe_facial", "epe_head", "epe_expr", "roi_epe_facial", "roi_epe_expr", "px1_facial"]
    table = format_table(result)
    best = result.best("epe_expr")
    assert any(line.startswith(f"{best} *") for line in table.splitlines()), table


def test_a_failing_method_is_one_line_naming_method_and_sample(shard_samples):
    with pytest.raises(MethodError) as err:
        evaluate([Failing()], shard_samples)
    message = str(err.value)
    assert "broken" in message and f"sample 0 ({shard_samples[0]['source_id']})" in message and "\n" not in message
    with pytest.raises(MethodError, match="method nan answered sample 0 .* non-finite facial flow"):
        evaluate([NotANumber()], shard_samples)


def test_a_sample_whose_images_differ_in_size_is_refused(shard_samples):
    s = shard_samples[1]
    bad = dict(s, apex=np.zeros((s["apex"].shape[0] + 2, *s["apex"].shape[1:]), np.uint8))
    with pytest.raises(SampleError, match=r"sample 1 .*apex"):
        evaluate(make_baselines(["zero"]), [s, bad])
    with pytest.raises(ValueError, match="unknown baseline 'sift': choose from zero, farneback, dis, tvl1"):
        make_baselines(["zero", "sift"])


def test_a_mellm_folder_evaluates_as_its_shards_would(tmp_path):
    samples = [face_sample(seed, head=HEAD_SHIFT) for seed in range(2)]
    folder = write_mellm_folder(tmp_path / "mellm", samples)
    from_folder = evaluate(make_baselines(["zero", "dis"]), open_eval_samples(folder, "test"))
    in_memory = evaluate(make_baselines(["zero", "dis"]), samples)
    assert from_folder.n_images == 2
    for method in ("zero", "dis"):
        assert from_folder.figures[method] == pytest.approx(in_memory.figures[method], rel=1e-3)
    assert [r.label for r in from_folder.rows] == ["sample 0 (sample0)", "sample 1 (sample1)"]


def test_a_nose_tip_outside_the_image_is_a_bad_sample_for_facial_only_methods(raw_shard_samples):
    assert not nose_tip_inside(raw_shard_samples[0])
    assert evaluate(make_baselines(["zero"]), raw_shard_samples[:1]).n_images == 1  # zero has a head flow: no nose tip needed
    with pytest.raises(SampleError, match=r"^sample 0 \(photo-0000\): the nose tip .* outside"):
        evaluate(make_baselines(["farneback"]), raw_shard_samples[:1])


def test_contact_sheet_draws_every_method_on_the_true_expression_scale(tmp_path):
    samples = [face_sample(seed, head=HEAD_SHIFT * seed) for seed in range(3)]
    result = evaluate(make_baselines(["zero", "dis"]), samples)
    assert [list(r.expressions) for r in result.rows] == [["zero", "dis"]] * 3
    expected = max(magnitude(s["flow_facial"] - s["flow_head"])[s["mask"]].max() for s in samples[:2])
    assert sheet_scale(result.rows[:2]) == pytest.approx(expected, rel=1e-5)
    path = write_contact_sheet(result, tmp_path / "sheet.png", n_rows=2)
    picture = cv2.imread(str(path))
    assert picture is not None and picture.shape[1] > picture.shape[0]  # 2 rows, 5 columns


def test_cli_baselines_only_writes_metrics_and_a_sheet(tiny_dataset, tmp_path):
    assert all(nose_tip_inside(s) for s in open_eval_samples(tiny_dataset, "test"))  # facial-only baselines need it
    out = tmp_path / "eval"
    run = meflow("eval", "--data", str(tiny_dataset), "--baselines", "zero,farneback,dis,tvl1", "--json", "--out", str(out))
    assert run.returncode == 0, run.stderr
    printed = json.loads(run.stdout)
    assert printed == json.loads((out / "metrics.json").read_text())
    assert printed[IMAGE_COUNT_KEY] == TINY_TEST_SAMPLES
    assert all(list(printed[m]) == list(FIGURES) for m in ("zero", "farneback", "dis", "tvl1"))
    assert (out / "contact_sheet.png").read_bytes()[:8] == PNG_MAGIC

    table = meflow("eval", "--data", str(tiny_dataset), "--baselines", "zero,farneback", "--limit", "2")
    assert table.returncode == 0, table.stderr
    assert "epe_expr" in table.stdout and " *" in table.stdout and "2 images" in table.stdout


def test_cli_evaluates_checkpoints_as_model_and_raft(tiny_dataset, tmp_path):
    from training.checkpoint import save_checkpoint
    from training.config import TrainConfig
    from training.models.factory import build_model

    paths = {}
    for name, config in (("model", TrainConfig()), ("raft", TrainConfig().with_changes(model={"kind": "raft_small"}))):
        # Randomly initialised stage-1 networks: facial flow only, so the evaluator compensates them.
        paths[name] = save_checkpoint(tmp_path / f"{name}.pt", {"config": config.to_dict(), "stage": 1,
                                                                 "model": build_model(config.model).state_dict()})
    run = meflow("eval", "--data", str(tiny_dataset), "--ckpt", str(paths["model"]), "--raft-ckpt", str(paths["raft"]),
                 "--baselines", "zero,raft", "--limit", "1", "--json")
    assert run.returncode == 0, run.stderr
    printed = json.loads(run.stdout)
    assert list(printed) == ["zero", "raft", "model", IMAGE_COUNT_KEY] and printed[IMAGE_COUNT_KEY] == 1
    assert all(np.isfinite(printed[m]["epe_facial"]) for m in ("raft", "model"))
    assert_one_line_error(meflow("eval", "--data", str(tiny_dataset), "--ckpt", str(tmp_path / "none.pt")), "--ckpt", "none.pt")


def test_cli_refuses_bad_input_in_one_line(tiny_dataset, tmp_path):
    assert_one_line_error(meflow("eval", "--data", str(tmp_path / "nowhere"), "--baselines", "zero"), "nowhere")
    empty = tmp_path / "one-identity"
    write_dataset(empty, shards=1, per_shard=2)  # photo-0000 only: in train
    assert_one_line_error(meflow("eval", "--data", str(empty), "--baselines", "zero"), "has no test samples", "--split all")
    assert_one_line_error(meflow("eval", "--data", str(tiny_dataset), "--baselines", "zero,sift"), "'sift'", "farneback", "raft")
    assert_one_line_error(meflow("eval", "--data", str(tiny_dataset), "--baselines", "zero,raft"), "--raft-ckpt")
    good, bad = face_sample(0), face_sample(1)
    bad["apex"] = cv2.resize(bad["apex"], (FACE_PX + 8, FACE_PX))
    folder = write_mellm_folder(tmp_path / "mellm", [good, bad])
    assert_one_line_error(meflow("eval", "--data", str(folder), "--baselines", "zero"), "sample 1", "frame_0002.png", "same size")
