"""The Blender Cycles backend: one long-lived scene per process, meshes updated in place.

Per pair: render call 1 draws the onset mesh in two view layers, 'beauty' (N samples, denoised)
and 'data' (1 sample, whose only sample sits at each pixel centre), where one override material
writes the facial and head target positions of the visible surface point into AOVs. Render call 2 draws
the apex mesh in 'beauty' only. Both land in multilayer EXR files read back with OpenEXR.
"""
from __future__ import annotations

import contextlib
import dataclasses
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import bpy
import numpy as np
from mathutils import Matrix

from ..body import Clothing
from ..camera import Camera, look_at, subject_box
from ..cycles_settings import CyclesSettings
from ..scene_spec import SceneSpec, SkinMaps
from . import materials as mats
from .settings import apply_cycles_settings, gpu_devices

MAX_LIGHTS = 8
BORDER_MARGIN_PX = 4  # beyond the pixel filter's reach (1.5 px wide) and the denoiser's edge handling
SKIN_MAPS = ("albedo", "height", "roughness", "hair")
EYE_PATTERN_PERIOD = 997  # the iris and vein noise is offset by the sample's seed modulo this: a different eye per sample


def blender_version() -> str:
    return bpy.app.version_string


class RenderError(RuntimeError):
    """A render failed; the message names the sample."""


@dataclass
class PairRender:
    """onset / apex: (H, W, 4) premultiplied linear RGBA; facial / head target (H, W, 3) world
    positions of the surface seen at each pixel centre; mask (H, W) bool; timings in seconds."""

    onset_rgba: np.ndarray
    apex_rgba: np.ndarray
    facial_target: np.ndarray
    head_target: np.ndarray
    mask: np.ndarray
    timings: dict = field(default_factory=dict)


@contextlib.contextmanager
def _quiet_stdout():
    """Cycles prints a progress line per tile to fd 1; keep the CLI's output readable."""
    fd = os.dup(1)
    with open(os.devnull, "wb") as null:
        os.dup2(null.fileno(), 1)
        try:
            yield
        finally:
            os.dup2(fd, 1)
            os.close(fd)


def _read_exr(path: Path) -> dict[str, np.ndarray]:
    import OpenEXR

    with OpenEXR.File(str(path), separate_channels=False) as exr:
        out = {}
        for part in exr.parts:
            for name, channel in part.channels.items():
                out[name] = np.asarray(channel.pixels, dtype=np.float32)
        return out


def _configure_device(scene: bpy.types.Scene, device: str) -> None:
    if device == "CPU":
        scene.cycles.device = "CPU"
        return
    if not gpu_devices(device):
        raise RenderError(f"no {device} device found: render with device = \"CPU\" or install the GPU driver")
    prefs = bpy.context.preferences.addons["cycles"].preferences
    for d in prefs.devices:
        d.use = d.type == device
    scene.cycles.device = "GPU"


class BlenderScene:
    """Build once per process; then `render_pair` per sample.

    faces (F, 3); uv = (coords (T, 2), uv_faces (F, 3)) or None; eye_faces (F,) bool; eye_angle
    (V,); eye_disc (V, 2) or None: each eyeball vertex's position on the eye's polar disc (see
    materials.eye_material); glasses, mouth, body = (vertices (G, 3), faces (K, 3), part ids (K,))
    topologies or None; hair the same for the hanging hair. Glasses, mouth, body and
    hair are separate objects that follow the head (see render.glasses, render.mouth,
    render.body, render.hair): `render_pair` takes their positions per state.
    """

    def __init__(self, faces: np.ndarray, uv: tuple[np.ndarray, np.ndarray] | None, eye_faces: np.ndarray,
                 eye_angle: np.ndarray, glasses: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
                 device: str = "CPU", threads: int = 0, workdir: str | None = None,
                 settings: CyclesSettings = CyclesSettings(), eye_disc: np.ndarray | None = None,
                 mouth: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
                 body: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
                 hair: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None) -> None:
        bpy.ops.wm.read_factory_settings(use_empty=True)
        self.scene = scene = bpy.context.scene
        scene.render.engine = "CYCLES"
        _configure_device(scene, device)
        scene.cycles.use_animated_seed = False
        scene.render.film_transparent = True
        scene.render.threads_mode = "FIXED" if threads else "AUTO"
        if threads:
            scene.render.threads = threads
        scene.view_settings.view_transform = "Standard"
        scene.cycles.volume_bounces = 0
        image = scene.render.image_settings
        image.media_type = "MULTI_LAYER_IMAGE"
        image.file_format = "OPEN_EXR_MULTILAYER"
        image.color_depth = "32"
        image.exr_codec = "NONE"
        self.beauty = scene.view_layers[0]
        self.beauty.name = "beauty"
        self.data = scene.view_layers.new("data")
        self.data.samples = 1
        self.data.cycles.use_denoising = False
        self.data.material_override = mats.data_material()
        self.data.use_pass_combined = False  # only the AOVs are read: a smaller EXR to write and read
        for name in mats.TARGET_ATTRIBUTES:
            aov = self.data.aovs.add()
            aov.name, aov.type = name, "COLOR"
        self.workdir = Path(workdir or tempfile.mkdtemp(prefix="meflow-render-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None))
        self.n_vertices = int(eye_angle.shape[0])
        self.texture_image = bpy.data.images.new("texture", 4, 4)
        self.texture_path = ""
        self.maps = {name: bpy.data.images.new(f"skin_{name}", 4, 4, float_buffer=True) for name in SKIN_MAPS}
        for name in ("height", "roughness", "hair"):  # data, not colours
            self.maps[name].colorspace_settings.name = "Non-Color"
        skin, self.skin_nodes = mats.skin_material(self.texture_image, self.maps)
        eye, self.eye_nodes = mats.eye_material()
        self.head = self._mesh_object("head", np.zeros((self.n_vertices, 3)), faces, [skin, eye], eye_faces.astype(np.int32))
        if uv is not None:
            layer = self.head.data.uv_layers.new(name="UVMap")
            layer.data.foreach_set("uv", np.asarray(uv[0], np.float32)[uv[1]].ravel())
        angle = self.head.data.attributes.new(mats.EYE_ANGLE_ATTRIBUTE, "FLOAT", "POINT")
        angle.data.foreach_set("value", eye_angle.astype(np.float32))
        disc = self.head.data.attributes.new(mats.EYE_DISC_ATTRIBUTE, "FLOAT_VECTOR", "POINT")
        disc_xyz = np.zeros((self.n_vertices, 3), np.float32)
        if eye_disc is not None:
            disc_xyz[:, :2] = eye_disc
        disc.data.foreach_set("vector", disc_xyz.ravel())
        self.attached = {}  # name -> object moved per state with the head
        if glasses is not None:
            g_verts, g_faces, g_parts = glasses
            self.attached["glasses"] = self._mesh_object("glasses", g_verts, g_faces, list(mats.glasses_materials()), g_parts.astype(np.int32))
        if mouth is not None:
            m_verts, m_faces, m_parts = mouth
            mouth_materials, self.mouth_nodes = mats.mouth_materials()
            self.attached["mouth"] = self._mesh_object("mouth", m_verts, m_faces, mouth_materials, m_parts.astype(np.int32))
        if body is not None:
            b_verts, b_faces, b_parts = body
            cloth, self.cloth_nodes = mats.clothing_material()
            self.attached["body"] = self._mesh_object("body", b_verts, b_faces, [cloth], b_parts.astype(np.int32))
        if hair is not None:
            h_verts, h_faces, h_parts = hair
            strands, self.hair_nodes = mats.hair_material()
            self.attached["hair"] = self._mesh_object("hair", h_verts, h_faces, [strands], h_parts.astype(np.int32))
        self.apply_settings(settings)
        self.world = mats.world(scene)
        self.camera = bpy.data.objects.new("camera", bpy.data.cameras.new("camera"))
        scene.collection.objects.link(self.camera)
        scene.camera = self.camera
        self.camera.data.sensor_fit = "HORIZONTAL"
        self.lights = []
        for i in range(MAX_LIGHTS):
            light = bpy.data.objects.new(f"light{i}", bpy.data.lights.new(f"light{i}", "POINT"))
            scene.collection.objects.link(light)
            light.hide_render = True
            self.lights.append(light)

    def apply_settings(self, settings: CyclesSettings) -> None:
        """How the beauty layer samples and denoises (the data layer always takes 1 plain sample)."""
        apply_cycles_settings(self.scene, self.skin_nodes["bsdf"], settings)
        self.subject_border = settings.subject_border
        self.scene.render.use_border = False
        self.scene.render.use_crop_to_border = False  # full-size output, transparent outside the border

    def _set_border(self, spec: SceneSpec, *surfaces: np.ndarray | None) -> None:
        """Restrict both renders of a pair to the box all its surfaces (V, 3) project into."""
        if not self.subject_border:
            return
        camera = Camera(spec.width, spec.height, spec.focal_mm, np.asarray(spec.world_from_camera))
        x0, y0, x1, y1 = subject_box(camera, np.concatenate([s for s in surfaces if s is not None]), BORDER_MARGIN_PX)
        render = self.scene.render
        render.use_border = True
        # Blender's border is in fractions of the frame, y up from the bottom row.
        render.border_min_x, render.border_max_x = x0 / spec.width, x1 / spec.width
        render.border_min_y, render.border_max_y = 1.0 - y1 / spec.height, 1.0 - y0 / spec.height

    def _mesh_object(self, name: str, verts: np.ndarray, faces: np.ndarray, materials: list, material_index: np.ndarray):
        mesh = bpy.data.meshes.new(name)
        mesh.from_pydata(np.asarray(verts).tolist(), [], np.asarray(faces).tolist())
        for m in materials:
            mesh.materials.append(m)
        mesh.polygons.foreach_set("material_index", material_index)
        mesh.shade_smooth()
        for attr in (*mats.TARGET_ATTRIBUTES, mats.REST_ATTRIBUTE):
            mesh.attributes.new(attr, "FLOAT_VECTOR", "POINT")
        mesh.update()
        obj = bpy.data.objects.new(name, mesh)
        self.scene.collection.objects.link(obj)
        return obj

    @staticmethod
    def _set_geometry(obj, positions: np.ndarray, facial: np.ndarray | None = None, head: np.ndarray | None = None) -> None:
        mesh = obj.data
        mesh.vertices.foreach_set("co", np.asarray(positions, np.float32).ravel())
        if facial is not None:  # the onset state: it is also the rest position textures hang on
            mesh.attributes["facial_target"].data.foreach_set("vector", np.asarray(facial, np.float32).ravel())
            mesh.attributes["head_target"].data.foreach_set("vector", np.asarray(head, np.float32).ravel())
            mesh.attributes[mats.REST_ATTRIBUTE].data.foreach_set("vector", np.asarray(positions, np.float32).ravel())
        mesh.update()

    def _apply_scene(self, spec: SceneSpec) -> None:
        scene, cy = self.scene, self.scene.cycles
        scene.render.resolution_x, scene.render.resolution_y = spec.width, spec.height
        scene.render.resolution_percentage = 100
        cy.samples, cy.use_denoising, cy.seed = spec.samples, spec.denoise, spec.seed
        self.beauty.cycles.use_denoising = spec.denoise
        self.camera.data.lens = spec.focal_mm
        self.camera.matrix_world = Matrix(np.asarray(spec.world_from_camera).tolist())
        target = np.asarray(spec.aim)
        for light, ls in zip(self.lights, spec.lights + (None,) * MAX_LIGHTS):
            light.hide_render = ls is None
            if ls is None:
                continue
            light.data.type = ls.kind
            data = light.data  # the RNA type changes with the light type: fetch it again
            data.color = ls.color
            data.energy = ls.power
            if ls.kind == "AREA":
                data.shape, data.size = "DISK", ls.size
            elif ls.kind == "POINT":
                data.shadow_soft_size = 0.5 * ls.size
            else:
                data.angle = ls.size
            light.matrix_world = Matrix(look_at(np.asarray(ls.location), target).tolist())
        self.world["strength"].default_value = spec.ambient
        self.world["use_sky"].default_value = 1.0 if spec.sky else 0.0
        if spec.sky:
            self.world["sky"].sun_direction = spec.sun_direction
        self.skin_nodes["tone"].outputs["Color"].default_value = (*spec.skin_tone, 1.0)
        self._set_texture(spec.texture)
        lo, hi = self.eye_nodes["iris_positions"]
        for stop in self.eye_nodes["ramp"].elements:
            if lo - 1e-4 <= stop.position <= hi + 1e-4:
                stop.color = (*spec.iris_color, 1.0)
        self.eye_nodes["veins"].default_value = spec.sclera_veins
        self.eye_nodes["pattern_seed"].default_value = spec.seed % EYE_PATTERN_PERIOD
        if "mouth" in self.attached:
            self.mouth_nodes["teeth"].default_value = (*spec.teeth_colour, 1.0)
        if "body" in self.attached and spec.clothing is not None:
            cloth = Clothing(**spec.clothing)
            self.cloth_nodes["colour"].default_value = (*cloth.colour, 1.0)
            self.cloth_nodes["stripe_colour"].default_value = (*cloth.stripe_colour, 1.0)
            for key, value in (("stripes", cloth.stripes), ("period", cloth.stripe_period), ("share", cloth.stripe_share)):
                self.cloth_nodes[key].default_value = value
        if "hair" in self.attached and spec.appearance is not None:
            self.hair_nodes["colour"].default_value = (*spec.appearance["hair_colour"], 1.0)

    def _set_maps(self, maps: SkinMaps | None) -> None:
        """Upload a sample's painted maps (Blender images start at the bottom row)."""
        use = 1.0 if maps is not None else 0.0
        for key in ("use_maps", "use_map_roughness", "bump", "use_hair"):
            self.skin_nodes[key].default_value = use
        if maps is None:
            return
        size = maps.size
        for name in SKIN_MAPS:
            image = self.maps[name]
            if tuple(image.size) != (size, size):
                image.scale(size, size)
            data = getattr(maps, name)
            rgba = np.ones((size, size, 4), np.float32)
            rgba[..., :3] = data[..., None] if data.ndim == 2 else data
            image.pixels.foreach_set(np.ascontiguousarray(rgba[::-1]).ravel())
            image.update()

    def _set_texture(self, path: str) -> None:
        self.skin_nodes["use_texture"].default_value = 1.0 if path else 0.0
        if path and path != self.texture_path:
            if not Path(path).is_file():
                raise RenderError(f"texture {path} does not exist")
            self.texture_image.source = "FILE"
            self.texture_image.filepath = str(Path(path).resolve())
            self.texture_image.reload()
            if not self.texture_image.has_data and self.texture_image.size[0] == 0:
                raise RenderError(f"texture {path} cannot be read: use a PNG or JPEG")
        self.texture_path = path

    def _render(self, name: str, with_data: bool) -> dict[str, np.ndarray]:
        self.data.use = with_data
        path = self.workdir / f"{name}.exr"
        self.scene.render.filepath = str(path)
        with _quiet_stdout():
            bpy.ops.render.render(write_still=True)
        try:
            return _read_exr(path)
        finally:
            path.unlink(missing_ok=True)

    def _set_attached(self, states: dict[str, tuple[np.ndarray, ...]] | None, index: int, with_targets: bool) -> None:
        """Show the attached objects a sample has and put them in state `index` of their
        (onset, head, apex) positions; hide the others."""
        states = states or {}
        for name, obj in self.attached.items():
            obj.hide_render = name not in states
            if name in states:
                positions = states[name]
                if with_targets:
                    self._set_geometry(obj, positions[0], positions[2], positions[1])
                else:
                    self._set_geometry(obj, positions[index])

    def render_pair(self, spec: SceneSpec, onset: np.ndarray, apex: np.ndarray, head: np.ndarray,
                    attached: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] | None = None,
                    maps: SkinMaps | None = None) -> PairRender:
        """onset / apex / head: (V, 3) vertices of the three states; attached: for each attached
        object the sample shows ("glasses", "mouth", "body", "hair"), its (onset, head, apex) positions (N, 3);
        maps: the identity's painted skin (None: plain skin or the scene's texture file)."""
        timings = {}
        t = time.perf_counter()
        self._apply_scene(spec if maps is None else dataclasses.replace(spec, texture=""))  # maps hold any texture
        self._set_maps(maps)
        self._set_geometry(self.head, onset, apex, head)
        self._set_attached(attached, 0, with_targets=True)
        shown = [p for name, states in (attached or {}).items() if name in self.attached for p in (states[0], states[2])]
        self._set_border(spec, onset, apex, *shown)
        timings["scene_update"] = time.perf_counter() - t
        t = time.perf_counter()
        first = self._render("onset", with_data=True)
        timings["render_onset_and_data"] = time.perf_counter() - t
        t = time.perf_counter()
        self._set_geometry(self.head, apex)
        self._set_attached(attached, 2, with_targets=False)
        second = self._render("apex", with_data=False)
        timings["render_apex"] = time.perf_counter() - t
        facial = first["data.facial_target"]
        return PairRender(
            onset_rgba=first["beauty.Combined"], apex_rgba=second["beauty.Combined"],
            facial_target=facial[..., :3], head_target=first["data.head_target"][..., :3],
            mask=facial[..., 3] > 0.5, timings=timings,
        )

    def render_beauty(self, spec: SceneSpec, vertices: np.ndarray, attached: dict[str, np.ndarray] | None = None,
                      maps: SkinMaps | None = None) -> tuple[np.ndarray, float]:
        """One beauty render of the head at `vertices` (V, 3) and each attached object named in
        `attached` at its (N, 3) positions (the others hidden) -> ((H, W, 4) premultiplied linear
        RGBA, seconds). For benchmarks."""
        self._apply_scene(spec if maps is None else dataclasses.replace(spec, texture=""))
        self._set_maps(maps)
        self._set_geometry(self.head, vertices)
        self._set_attached({name: (p,) for name, p in (attached or {}).items()}, 0, with_targets=False)
        self._set_border(spec, vertices, *(attached or {}).values())
        t = time.perf_counter()
        image = self._render("beauty", with_data=False)["beauty.Combined"]
        return image, time.perf_counter() - t

    def render_data_only(self) -> float:
        """Seconds for the 1-sample data layer alone, on the scene as the last render left it."""
        self.beauty.use = False
        try:
            t = time.perf_counter()
            self._render("data", with_data=True)
            return time.perf_counter() - t
        finally:
            self.beauty.use = True
