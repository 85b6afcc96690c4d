"""A render worker for tests (one per test process: a Blender scene is process-global) and a
recipe with larger motions, so flow conventions show clearly in warping."""
from __future__ import annotations

from pipeline.synthesis.recipe import load_recipe, parse_recipe

LARGE_MOTION = {
    "apex_expression_increment = { piecewise_uniform = { edges = [0.03, 0.1, 0.25], probabilities = [0.85, 0.15] } }":
        "apex_expression_increment = { uniform = [0.7, 1.0] }",
    "apex_pose_increment = { piecewise_uniform = { edges = [0.0, 0.03, 0.1], probabilities = [0.95, 0.05] } }":
        "apex_pose_increment = { uniform = [0.1, 0.2] }",
    "samples = 4": "samples = 16",
}


def large_motion_recipe():
    text = load_recipe("smoke").text
    for old, new in LARGE_MOTION.items():
        assert old in text
        text = text.replace(old, new)
    return parse_recipe(text, "large-motion.toml")
