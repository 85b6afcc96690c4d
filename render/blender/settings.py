"""CyclesSettings onto a Blender scene, and the check that the installed Blender supports a recipe's
render settings and device, run before any worker starts."""
from __future__ import annotations

import bpy

from ..cycles_settings import CyclesSettings

GPU_DEVICES = ("CUDA", "OPTIX")
# CyclesSettings field -> scene.cycles property (subsurface goes onto the skin's Principled BSDF;
# subject_border is the scene's render border, set per pair).
SCENE_PROPERTIES = {
    "adaptive_min_samples": "adaptive_min_samples", "denoiser": "denoiser", "denoise_guides": "denoising_input_passes",
    "denoise_prefilter": "denoising_prefilter", "denoise_quality": "denoising_quality", "light_tree": "use_light_tree",
    "max_bounces": "max_bounces", "diffuse_bounces": "diffuse_bounces", "glossy_bounces": "glossy_bounces",
    "transmission_bounces": "transmission_bounces", "transparent_bounces": "transparent_max_bounces",
    "clamp_direct": "sample_clamp_direct", "clamp_indirect": "sample_clamp_indirect", "blur_glossy": "blur_glossy",
}


class UnsupportedSetting(ValueError):
    """The installed Blender rejects a [render] or [render.cycles] value; one line, naming the key."""


def _set(target, prop: str, key: str, value) -> None:
    try:
        setattr(target, prop, value)
    except (TypeError, ValueError) as err:
        raise UnsupportedSetting(f"Blender {bpy.app.version_string} does not support [render.cycles] {key} = {value!r} "
                                 f"({str(err).split(': ', 1)[-1]}): change it in the recipe") from None


def apply_cycles_settings(scene: bpy.types.Scene, skin_bsdf, settings: CyclesSettings) -> None:
    """Set every field of `settings` on scene.cycles (and the skin's subsurface method on
    skin_bsdf, a Principled BSDF node, when given). Raises UnsupportedSetting."""
    cy = scene.cycles
    cy.use_adaptive_sampling = settings.adaptive_threshold > 0
    if settings.adaptive_threshold > 0:
        _set(cy, "adaptive_threshold", "adaptive_threshold", settings.adaptive_threshold)
    for key, prop in SCENE_PROPERTIES.items():
        _set(cy, prop, key, getattr(settings, key))
    if skin_bsdf is not None:
        _set(skin_bsdf, "subsurface_method", "subsurface", settings.subsurface)


def gpu_devices(kind: str) -> list[str]:
    """Names of the `kind` (CUDA | OPTIX) devices Cycles finds on this machine."""
    prefs = bpy.context.preferences.addons["cycles"].preferences
    try:
        prefs.compute_device_type = kind
    except TypeError:  # this Blender build has no such backend
        return []
    prefs.get_devices()
    return [d.name for d in prefs.devices if d.type == kind]


def render_support_problem(device: str, settings: CyclesSettings) -> str:
    """'' when this machine's Blender can render with `device` and `settings`, else one line that
    names the key and what to do. Uses a scratch scene, removed afterwards."""
    if device in GPU_DEVICES and not gpu_devices(device):
        return (f"[render] device = {device!r} but Blender {bpy.app.version_string} finds no {device} device on this machine: "
                'render with device = "CPU" (or --device CPU), or run on a machine with an NVIDIA GPU and its driver')
    if settings.denoiser == "OPTIX" and not gpu_devices("OPTIX"):
        return ('[render.cycles] denoiser = "OPTIX" needs an NVIDIA GPU with OptiX, which this machine lacks: '
                'use denoiser = "OPENIMAGEDENOISE"')
    scene = bpy.data.scenes.new("meflow-settings-check")
    material = bpy.data.materials.new("meflow-settings-check")
    try:
        scene.render.engine = "CYCLES"
        material.use_nodes = True
        bsdf = material.node_tree.nodes.new("ShaderNodeBsdfPrincipled")
        apply_cycles_settings(scene, bsdf, settings)
    except UnsupportedSetting as err:
        return str(err)
    finally:
        bpy.data.scenes.remove(scene)
        bpy.data.materials.remove(material)
    return ""
