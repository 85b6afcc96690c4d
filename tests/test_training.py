"""MEFlowNet training: the losses, augmentation consistency, the sampler lengths DDP relies on,
stage-2 freezing, exact resume, DDP across two processes, and the one-line errors."""
from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from cli_helpers import assert_one_line_error, meflow
from shard_fixtures import write_dataset

from facial.ibug68 import MIRROR
from training.augment import augment, flip_sample, scale_sample
from training.checkpoint import load_checkpoint, save_checkpoint
from training.config import AugmentConfig, ConfigError, TrainConfig, load_config
from training.losses import epe, iteration_weights, mixture_of_laplace_nll
from training.shard_dataset import ShardDataset, ShardEpochSampler, ShardStream
from training.trainer import TrainRequest, train

TESTS = Path(__file__).parent
QUICK = {"optim": {"batch_size": 2, "steps": 6, "warmup_steps": 1}, "run": {"validation_samples": 2, "checkpoint_every": 2,
                                                                             "validate_every": 3}}


def quick_config(**changes) -> TrainConfig:
    """The default (cpu) config: same model, a few small steps."""
    sections = {k: dict(v) for k, v in QUICK.items()}
    for key, values in changes.items():
        sections.setdefault(key, {}).update(values)
    return load_config().with_changes(**sections)


def state_equal(a: dict, b: dict, keys=None) -> bool:
    return all(torch.equal(a[k], b[k]) for k in (keys or a))


# --- losses -------------------------------------------------------------------------------------

def test_mixture_of_laplace_matches_the_density_written_out():
    rng = torch.Generator().manual_seed(0)
    flow, target = torch.randn(2, 2, 5, 6, generator=rng), torch.randn(2, 2, 5, 6, generator=rng)
    mixture = torch.randn(2, 4, 5, 6, generator=rng) * 2
    valid = torch.rand(2, 5, 6, generator=rng) > 0.3
    got = mixture_of_laplace_nll(flow, mixture, target, valid, log_scale_max=10.0)
    alpha = torch.softmax(mixture[:, :2], 1)
    b1, b2 = torch.exp(mixture[:, 2].clamp(0, 10)), torch.ones_like(mixture[:, 3])
    total = 0.0
    for axis in range(2):
        r = (target - flow)[:, axis].abs()
        density = alpha[:, 0] / (2 * b1) * torch.exp(-r / b1) + alpha[:, 1] / (2 * b2) * torch.exp(-r / b2)
        total = total - torch.log(density)
    expected = total[valid].mean()
    assert torch.allclose(got, expected, atol=1e-5)
    # a closer prediction is more likely
    assert mixture_of_laplace_nll(target, mixture, target, valid, 10.0) < got


def test_epe_is_per_image_then_mean_and_weights_favour_late_iterations():
    target = torch.zeros(2, 2, 4, 4)
    flow = torch.zeros(2, 2, 4, 4)
    flow[0, 0] = 3.0  # image 0: EPE 3 on 4 valid pixels; image 1: EPE 0 on all 16
    valid = torch.ones(2, 4, 4, dtype=torch.bool)
    valid[0, 2:] = False
    valid[0, :, 2:] = False
    assert float(epe(flow, target, valid)) == pytest.approx(1.5)
    assert iteration_weights(3, 0.85) == pytest.approx([0.7225, 0.85, 1.0])


# --- augmentation ---------------------------------------------------------------------------------

def consistent_sample(size: int = 96, seed: int = 0) -> dict:
    """A smooth synthetic flow and landmarks whose apex positions follow it exactly."""
    rng = np.random.default_rng(seed)
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float32)
    flow = np.stack([1.5 * np.sin(xs / 17.0) + 0.3, 0.8 * np.cos(ys / 13.0) - 0.2], -1).astype(np.float32)
    landmarks = rng.uniform(10, size - 10, (68, 2)).astype(np.float32)
    at = np.round(landmarks).astype(int)
    image = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
    return {"onset": image, "apex": image.copy(), "flow_facial": flow, "flow_head": flow * 0.5,
            "mask": np.ones((size, size), bool), "landmarks_onset": np.round(landmarks),
            "landmarks_apex": np.round(landmarks) + flow[at[:, 1], at[:, 0]]}


def follows_flow(sample: dict, tolerance: float) -> bool:
    """landmarks_apex == landmarks_onset + flow at the onset landmarks (bilinear)."""
    import cv2

    points = sample["landmarks_onset"]
    flow = sample["flow_facial"]
    inside = (points[:, 0] > 1) & (points[:, 1] > 1) & (points[:, 0] < flow.shape[1] - 2) & (points[:, 1] < flow.shape[0] - 2)
    mx, my = points[inside, 0].reshape(1, -1).astype(np.float32), points[inside, 1].reshape(1, -1).astype(np.float32)
    sampled = cv2.remap(flow, mx, my, cv2.INTER_LINEAR)[0]
    moved = sample["landmarks_apex"][inside] - points[inside]
    return inside.sum() > 10 and float(np.abs(sampled - moved).max()) < tolerance


def test_flip_negates_u_mirrors_landmarks_and_undoes_itself():
    sample = consistent_sample()
    flipped = flip_sample(sample)
    assert np.array_equal(flipped["flow_facial"][:, ::-1, 0], -sample["flow_facial"][..., 0])
    assert np.array_equal(flipped["flow_facial"][:, ::-1, 1], sample["flow_facial"][..., 1])
    # point i of the flipped face is the mirror image of point MIRROR[i] of the original
    assert np.allclose(flipped["landmarks_onset"][:, 0], 95 - sample["landmarks_onset"][MIRROR, 0])
    assert follows_flow(flipped, 0.02)
    twice = flip_sample(flipped)
    for key in sample:
        assert np.allclose(twice[key], sample[key]), key


def test_zoom_crop_and_flip_keep_flow_and_landmarks_consistent():
    sample = consistent_sample()
    assert follows_flow(sample, 0.02)
    zoomed = scale_sample(sample, 1.37)
    assert zoomed["onset"].shape == (132, 132, 3)
    assert follows_flow(zoomed, 0.08)
    config = AugmentConfig(crop=(64, 64), scale=(0.8, 1.3), flip=0.5)
    for seed in range(6):
        out = augment(sample, config, (64, 64), np.random.default_rng(seed))
        assert out["onset"].shape == (64, 64, 3) and out["flow_facial"].shape == (64, 64, 2) and out["mask"].shape == (64, 64)
        assert follows_flow(out, 0.1), seed


# --- sampler lengths --------------------------------------------------------------------------------

@pytest.mark.parametrize("world_size", [2, 3])
def test_sampler_and_stream_length_is_what_they_yield_every_epoch(tmp_path, world_size):
    layout = write_dataset(tmp_path / "d", shards=7, per_shard=5, samples_per_identity=2)
    dataset = ShardDataset(layout.root, split="train", fields=("source_id",))
    sizes = {len(v) for v in dataset.shard_groups().values()}
    assert len(sizes) > 1, "the test needs shards of unequal size"
    for epoch in range(4):
        lengths = []
        for rank in range(world_size):
            sampler = ShardEpochSampler(dataset, rank, world_size, seed=3)
            stream = ShardStream(dataset, rank, world_size, seed=3)
            sampler.set_epoch(epoch)
            stream.set_epoch(epoch)
            assert len(sampler) == len(list(sampler)), (epoch, rank)
            assert len(stream) == sum(1 for _ in stream), (epoch, rank)
            lengths.append(len(sampler))
        assert len(set(lengths)) == 1, f"ranks disagree in epoch {epoch}: {lengths}"


# --- training ---------------------------------------------------------------------------------------

def test_stage_two_changes_only_the_head_decoder(smoke_dataset, tmp_path):
    config = quick_config()
    one = train(TrainRequest(1, smoke_dataset, tmp_path / "run", config, max_steps=2, progress=False, device="cpu"))
    before = {k: v.clone() for k, v in one.model.state_dict().items()}
    two = train(TrainRequest(2, smoke_dataset, tmp_path / "run", config, max_steps=2, progress=False, device="cpu"))
    after = two.model.state_dict()
    frozen = [k for k in before if not k.startswith("head_decoder.")]
    trained = [k for k in before if k.startswith("head_decoder.")]
    assert frozen and trained
    assert state_equal(before, after, frozen), "stage 2 changed a frozen weight"
    assert not state_equal(before, after, trained), "stage 2 did not train the head decoder"
    start = load_checkpoint(tmp_path / "run/stage2/last.pt")  # stage 2's own checkpoint after its steps
    assert start["stage"] == 2 and start["step"] == 2
    assert (tmp_path / "run/stage2/curve.png").stat().st_size > 1000
    assert (tmp_path / "run/stage2/log.csv").read_text().count("epe_expr") >= 1


def test_stage_two_starts_with_zero_expression_flow(smoke_dataset, tmp_path):
    """The head decoder starts as a copy of the trained facial decoder: expression flow exactly 0."""
    from training.inference import load_method

    config = quick_config()
    train(TrainRequest(1, smoke_dataset, tmp_path / "run", config, max_steps=1, progress=False, device="cpu"))
    train(TrainRequest(2, smoke_dataset, tmp_path / "run", config, max_steps=0, progress=False, device="cpu"))
    method = load_method(tmp_path / "run/stage2/last.pt")
    sample = ShardDataset(smoke_dataset, split="all", fields=("onset", "apex"))[0]
    prediction = method.predict(*(sample[k].permute(1, 2, 0).numpy() for k in ("onset", "apex")))
    assert np.abs(prediction.facial).max() > 0 and np.array_equal(prediction.expression, np.zeros_like(prediction.facial))
    assert config.optim.for_stage(2).lr < config.optim.for_stage(1).lr
    with pytest.raises(ConfigError, match=r"optim.stage2"):
        TrainConfig.from_dict({"optim": {"stage2": {"learning_rate": 1.0}}})


def test_resume_continues_exactly(smoke_dataset, tmp_path):
    config = quick_config()
    straight = train(TrainRequest(1, smoke_dataset, tmp_path / "a", config, max_steps=4, progress=False, device="cpu"))
    train(TrainRequest(1, smoke_dataset, tmp_path / "b", config, max_steps=2, progress=False, device="cpu"))
    resumed = train(TrainRequest(1, smoke_dataset, tmp_path / "b", config, max_steps=4, resume=True, progress=False, device="cpu"))
    assert resumed.first_step == 2 and resumed.last_step == 4
    assert state_equal(straight.model.state_dict(), resumed.model.state_dict())
    a, b = load_checkpoint(tmp_path / "a/stage1/last.pt"), load_checkpoint(tmp_path / "b/stage1/last.pt")
    assert a["step"] == b["step"] == 4 and state_equal(a["model"], b["model"])


def test_ddp_ranks_hold_the_same_weights_after_a_step(smoke_dataset, tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": f"{TESTS.parent}{os.pathsep}{TESTS}"}
    result = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", "29533",
                             str(TESTS / "ddp_train_worker.py"), str(smoke_dataset), str(tmp_path)],
                            capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    ranks = [torch.load(tmp_path / f"rank{r}.pt", weights_only=False) for r in range(2)]
    assert ranks[0]["step"] == ranks[1]["step"] == 1
    assert state_equal(ranks[0]["weights"], ranks[1]["weights"])
    initial = load_checkpoint(tmp_path / "stage1/last.pt")["model"]
    assert state_equal(initial, ranks[0]["weights"]), "rank 0's checkpoint is what the ranks hold"


def test_training_errors_are_one_line(smoke_dataset, tmp_path):
    run = tmp_path / "run"
    result = meflow("train", "--stage", "2", "--data", str(smoke_dataset), "--out", str(run))
    assert_one_line_error(result, "stage1")
    assert result.returncode == 2
    result = meflow("train", "--stage", "1", "--data", str(tmp_path / "nothing"), "--out", str(run))
    assert_one_line_error(result, "nothing")
    small = write_dataset(tmp_path / "small")  # 16 x 16 images
    result = meflow("train", "--stage", "1", "--data", str(small.root), "--out", str(run))
    assert_one_line_error(result, "at least 64")
    result = meflow("train", "--stage", "1", "--data", str(smoke_dataset), "--out", str(run), "--config", "nope")
    assert_one_line_error(result, "nope")
    # a finished step, then a resume under another config is refused
    assert meflow("train", "--stage", "1", "--data", str(smoke_dataset), "--out", str(run), "--max-steps", "1").returncode == 0
    result = meflow("train", "--stage", "1", "--data", str(smoke_dataset), "--out", str(run), "--max-steps", "2")
    assert_one_line_error(result, "--resume")
    other = tmp_path / "other.toml"
    other.write_text("[model]\nencoder_channels = 16\n")
    result = meflow("train", "--stage", "1", "--data", str(smoke_dataset), "--out", str(run), "--resume", "--config", str(other))
    assert_one_line_error(result, "encoder_channels")
    with pytest.raises(ConfigError, match="augment.crop"):
        load_config().with_changes(augment={"crop": (60, 96)})


def test_nan_loss_stops_naming_the_step_and_keeps_the_last_good_checkpoint(smoke_dataset, tmp_path):
    good = train(TrainRequest(1, smoke_dataset, tmp_path / "good", quick_config(), max_steps=1, progress=False, device="cpu"))
    state = load_checkpoint(good.checkpoint)
    poisoned = {k: v.clone() for k, v in state["model"].items()}
    key = next(k for k in poisoned if k.startswith("facial_decoder.merge.weight"))
    poisoned[key][0, 0, 0, 0] = math.nan
    save_checkpoint(tmp_path / "nan.pt", {**state, "model": poisoned})
    result = meflow("train", "--stage", "1", "--data", str(smoke_dataset), "--out", str(tmp_path / "bad"), "--init", str(tmp_path / "nan.pt"))
    assert_one_line_error(result, "at step 1")
    assert "last good checkpoint" in result.stderr
    assert load_checkpoint(tmp_path / "bad/stage1/last.pt")["step"] == 0


def test_flow_command_writes_flo_files_opencv_reads(smoke_dataset, tmp_path):
    import cv2

    run = tmp_path / "run"
    config = quick_config()
    train(TrainRequest(1, smoke_dataset, run, config, max_steps=1, progress=False, device="cpu"))
    two = train(TrainRequest(2, smoke_dataset, run, config, max_steps=1, progress=False, device="cpu"))
    sample = ShardDataset(smoke_dataset, split="all", fields=("onset", "apex"))[0]
    pair = tmp_path / "pairs" / "p0"
    pair.mkdir(parents=True)
    for name in ("onset", "apex"):
        cv2.imwrite(str(pair / f"{name}.png"), cv2.cvtColor(sample[name].permute(1, 2, 0).numpy(), cv2.COLOR_RGB2BGR))
    result = meflow("flow", str(pair / "onset.png"), str(pair / "apex.png"), "--ckpt", str(two.checkpoint), "--out", str(tmp_path / "one"))
    assert result.returncode == 0, result.stderr
    facial = cv2.readOpticalFlow(str(tmp_path / "one/flow_facial.flo"))
    head = cv2.readOpticalFlow(str(tmp_path / "one/flow_head.flo"))
    expression = cv2.readOpticalFlow(str(tmp_path / "one/flow_expression.flo"))
    assert facial.shape == (96, 96, 2) and np.allclose(expression, facial - head, atol=1e-6)
    assert cv2.imread(str(tmp_path / "one/overview.png")).shape[0] == 96
    result = meflow("flow", str(tmp_path / "pairs"), "--ckpt", str(two.checkpoint), "--out", str(tmp_path / "many"))
    assert result.returncode == 0 and (tmp_path / "many/p0/flow_expression.flo").is_file()
    # a stage-1 checkpoint has no head decoder: the nose tip needs landmarks
    result = meflow("flow", str(pair / "onset.png"), str(pair / "apex.png"), "--ckpt", str(run / "stage1/last.pt"), "--out", str(tmp_path / "x"))
    assert_one_line_error(result, "--landmarks")
