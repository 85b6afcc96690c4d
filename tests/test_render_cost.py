"""Render cost (issue 14): the recipe's Cycles settings reach Blender, settings the installed
Blender cannot render stop a build in one line before any worker starts, and `meflow dataset
plan` predicts what a build of the recipe costs."""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from cli_helpers import assert_one_line_error, meflow

from pipeline.synthesis.distributions import RecipeError
from pipeline.synthesis.recipe import load_recipe, parse_recipe

CHEAP_SETTINGS = """
[render.cycles]
adaptive_threshold = 0.05
denoise_prefilter = "FAST"
denoise_quality = "BALANCED"
light_tree = false
max_bounces = 4
diffuse_bounces = 1
glossy_bounces = 1
transmission_bounces = 3
transparent_bounces = 5
clamp_indirect = 2.5
subsurface = "BURLEY"
"""


def smoke_with(extra: str = "", replace: tuple[str, str] | None = None, name: str = "smoke-cost.toml"):
    text = load_recipe("smoke").text
    if replace:
        assert replace[0] in text
        text = text.replace(*replace)
    return parse_recipe(text + extra, name)


def test_cycles_settings_reach_blender(standin_assets):
    from pipeline.synthesis.pair import RenderWorker

    worker = RenderWorker(smoke_with(CHEAP_SETTINGS), standin_assets)
    cy = worker.scene.scene.cycles
    assert cy.use_adaptive_sampling and cy.adaptive_threshold == pytest.approx(0.05)
    assert (cy.denoising_prefilter, cy.denoising_quality, cy.use_light_tree) == ("FAST", "BALANCED", False)
    assert (cy.max_bounces, cy.diffuse_bounces, cy.glossy_bounces, cy.transmission_bounces, cy.transparent_max_bounces) \
        == (4, 1, 1, 3, 5)
    assert cy.sample_clamp_indirect == pytest.approx(2.5)
    assert worker.scene.skin_nodes["bsdf"].subsurface_method == "BURLEY"
    worker.scene.apply_settings(dataclasses.replace(worker.recipe.render.cycles, adaptive_threshold=0.0))
    assert not cy.use_adaptive_sampling  # 0 switches adaptive sampling off


def test_recipes_without_the_table_keep_blenders_defaults():
    cycles = load_recipe("smoke").render.cycles
    assert (cycles.adaptive_threshold, cycles.denoise_prefilter, cycles.light_tree) == (0.01, "ACCURATE", True)


@pytest.mark.parametrize("table, fragments", [
    ('denoiser = "MAGIC"', ("[render.cycles] denoiser", "OPENIMAGEDENOISE", "'MAGIC'")),
    ("adaptive_threshold = 1.5", ("[render.cycles] adaptive_threshold", "[0.0, 1.0]", "1.5")),
    ("max_bounces = -1", ("[render.cycles] max_bounces", "an integer")),
    ("diffuse_bounces = 2.5", ("[render.cycles] diffuse_bounces", "an integer")),
    ('denoise_prefilter = "fast"', ("[render.cycles] denoise_prefilter", "'FAST'")),
    ("light_tree = 1", ("[render.cycles] light_tree", "true or false")),
    ("bounces = 4", ("unknown key 'bounces'", "max_bounces")),
])
def test_bad_cycles_settings_are_one_line_recipe_errors(table, fragments):
    with pytest.raises(RecipeError) as err:
        smoke_with(f"\n[render.cycles]\n{table}\n")
    message = str(err.value)
    assert "\n" not in message and message.startswith("smoke-cost.toml: ")
    for fragment in fragments:
        assert fragment in message, (fragment, message)


@pytest.mark.parametrize("change, fragments", [
    (("device = \"CPU\"", "device = \"CUDA\""), ("[render] device = 'CUDA'", "no CUDA device", 'device = "CPU"')),
    (None, ('denoiser = "OPTIX"', "NVIDIA GPU", 'use denoiser = "OPENIMAGEDENOISE"')),
])
def test_build_stops_before_any_worker_when_blender_cannot_render_the_recipe(tmp_path, change, fragments):
    text = load_recipe("smoke").text
    text = text.replace(*change) if change else text + '\n[render.cycles]\ndenoiser = "OPTIX"\n'
    recipe = tmp_path / "gpu.toml"
    recipe.write_text(text)
    out = tmp_path / "ds"
    result = meflow("dataset", "build", "--recipe", str(recipe), "--out", str(out), "--shards", "1", "--samples", "1")
    assert_one_line_error(result, "gpu.toml: ", *fragments)
    assert not out.exists()  # stopped before the folder, the lock or a worker


def test_plan_predicts_a_builds_cost_from_a_calibration(smoke_dataset):
    result = meflow("dataset", "plan", "--recipe", "smoke", "--shards", "3", "--samples", "8", "--workers", "2",
                    "--cores-per-worker", "4", "--calibration-pairs", "1", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    cal, plan = report["calibration"], report["plan"]
    assert report["recipe_hash"] == load_recipe("smoke").hash
    assert plan["pairs"] == 24 and plan["unit"] == "core-hours" and cal["device"] == "CPU"
    assert cal["compute_seconds_per_pair"] == pytest.approx(cal["seconds_per_pair"] * cal["threads"])
    assert plan["compute_hours"] == pytest.approx(24 * cal["compute_seconds_per_pair"] / 3600)
    # 2 workers of 4 cores: the busier worker renders 2 of the 3 shards, at a quarter of a core-second each.
    assert plan["wall_hours"] == pytest.approx((cal["startup_seconds"] + 16 * cal["compute_seconds_per_pair"] / 4) / 3600)
    assert 0 < cal["beauty_seconds"] < cal["seconds_per_pair"] and cal["peak_memory_mb"] > 100
    # The disk estimate against the real build of the same recipe (3 x 8 pairs): within 25 %.
    built = sum(f.stat().st_size for f in Path(smoke_dataset).glob("shards/shard-*/**/*") if f.is_file())
    assert plan["disk_gb"] * 1e9 == pytest.approx(built, rel=0.25)
    text = meflow("dataset", "plan", "--recipe", "smoke", "--shards", "64", "--samples", "500", "--calibration-pairs", "1")
    assert text.returncode == 0, text.stderr
    assert "64 shards x 500 samples = 32,000 pairs" in text.stdout and "core-hours" in text.stdout


def test_estimate_scales_with_the_farm():
    from pipeline.build.plan import Calibration, estimate

    cal = Calibration(machine="test", device="CPU", threads=2, width=512, height=512, pairs=2, seconds_per_pair=6.0,
                      beauty_seconds=5.0, paint_seconds=0.5, startup_seconds=10.0, peak_memory_mb=2048.0, bytes_per_sample=4e5)
    one, many = estimate(cal, 64, 100, 1, 2), estimate(cal, 64, 100, 16, 2)
    assert one.compute_hours == many.compute_hours == pytest.approx(6400 * 12.0 / 3600)
    assert (one.wall_hours * 3600 - 10.0) == pytest.approx(16 * (many.wall_hours * 3600 - 10.0))
    assert one.disk_gb == pytest.approx(6400 * 4e5 / 1e9) and one.memory_per_worker_gb == pytest.approx(2.0)
    gpu = estimate(dataclasses.replace(cal, device="OPTIX", threads=16), 64, 100, 4, 1)
    assert gpu.unit == "GPU-hours" and gpu.compute_hours == pytest.approx(6400 * 6.0 / 3600)
    with pytest.raises(ValueError):
        estimate(cal, 0, 100, 1, 2)


def test_preview_on_a_missing_gpu_is_one_line(tmp_path):
    result = meflow("render", "preview", "--recipe", "smoke", "--samples", "1", "--device", "OPTIX", "--out", str(tmp_path / "p"))
    assert_one_line_error(result, "no OPTIX device", 'device = "CPU"')


def test_subject_border_keeps_ground_truth_and_the_picture(standin_assets):
    import numpy as np
    from scipy import ndimage

    from pipeline.synthesis.pair import RenderWorker

    worker = RenderWorker(smoke_with(), standin_assets)
    plain = worker.render_index(5)
    assert plain.inputs.scene.glasses  # the box must hold the glasses too
    worker.scene.apply_settings(dataclasses.replace(worker.recipe.render.cycles, subject_border=True))
    boxed = worker.render_index(5)
    for field in ("flow_facial", "flow_head", "mask"):
        assert np.array_equal(getattr(plain, field), getattr(boxed, field)), field
    far = ~ndimage.binary_dilation(plain.mask | boxed.mask, iterations=8)  # beyond the silhouette's filtered edge
    for a, b in ((plain.onset, boxed.onset), (plain.apex, boxed.apex)):
        diff = np.abs(a.astype(np.int16) - b.astype(np.int16))
        assert diff.mean() < 1.0  # on the subject, only the denoiser sees a smaller frame
        assert far.any() and diff[far].max() == 0  # off it, the same background
