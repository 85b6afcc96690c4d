"""One sample end to end: recipe + index -> face, scales, meshes, scene -> rendered pair with
exact facial and head flow. `RenderWorker` holds the per-process state (face model, Blender)."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from facial.demographics import Demographic, sample_demographic
from facial.flame_layout import JAW_JOINT, STATES
from flame_assets.assets import FlameAssets
from flame_assets.model import FaceModel
from render.backgrounds import composite, list_images, make_background, to_uint8_srgb
from render.body import PART_CLOTH, VERTICES, Clothing, body_faces, body_vertices, neck_loop, place_body, to_local
from render.camera import Camera, flow_from_targets
from render.exposure import LUMA, exposure_gain, face_box, face_luminance, illuminant, tone_map, white_balance_gains
from render.glasses import glasses_local, place_glasses
from render.hair import VERTICES as HAIR_VERTICES
from render.hair import bob_cut, curtain_vertices, hair_faces
from render.mouth import MouthMesh, mouth_local, move_mouth, place_mouth
from render.rigid import apply_motion, head_motion, rigid_fit
from render.scene_spec import SceneSpec, SkinMaps
from shards.flows import expression_flow

from ..appearance.identity import HANGING_STYLES, Identity, sample_identity
from ..appearance.layout import TexelLayout, build_layout
from ..appearance.library import list_textures, load_texture
from ..appearance.paint import paint, vertex_hair_thickness
from .face_params import FaceParams, emotion_face, random_face, three_states, with_demographic
from .fitted_source import FitLibrary
from .labels import sample_labels
from .meshes import StateGeometry, evaluate_states, eye_regions
from .recipe import Population, Recipe
from .scene_sampling import sample_scene
from .schedule import Scales, sample_scales
from .seeds import cycles_seed, random_source_id, sample_id, sample_rngs

REFERENCE_EYE_DISTANCE = 0.063  # glasses topology is built once at this eye distance
JAW_ANCHOR_WEIGHT = 0.9  # vertices this much skinned to the jaw carry the lower teeth...
LIP_CLEARANCE = 0.008  # ...unless they lie this close (metres) to the lips, which move on their own
CHIN_LANDMARK = 8  # iBUG-68: the chin's lowest point
MIN_JAW_ANCHORS = 3  # a rigid fit needs three points


@dataclass
class SampleInputs:
    """Everything decided before rendering (pure function of recipe, index and model)."""

    sample_id: str
    index: int
    face: FaceParams
    scales: Scales
    states: dict[str, FaceParams]
    geometry: dict[str, StateGeometry]
    scene: SceneSpec
    source_id: str = ""
    labels: dict = field(default_factory=dict)  # emotion, action_units (see .labels)


@dataclass
class SampleResult:
    """A rendered pair. Images uint8 (H, W, 3) sRGB; flows float32 (H, W, 2) in pixels, forward
    onset -> apex (facial) and onset -> head state (head); mask bool (H, W); landmarks (68, 2)."""

    inputs: SampleInputs
    onset: np.ndarray
    apex: np.ndarray
    flow_facial: np.ndarray
    flow_head: np.ndarray
    mask: np.ndarray
    landmarks_onset: np.ndarray
    landmarks_apex: np.ndarray
    timings: dict = field(default_factory=dict)

    @property
    def flow_expression(self) -> np.ndarray:
        """Micro-expression flow: facial minus head (DESIGN)."""
        return expression_flow(self.flow_facial, self.flow_head)

    @property
    def camera(self) -> Camera:
        s = self.inputs.scene
        return Camera(s.width, s.height, s.focal_mm, np.asarray(s.world_from_camera))


def plan_sample(recipe: Recipe, k: int, model: FaceModel, background_images: list[str] | None = None,
                fits: FitLibrary | None = None, textures: list[str] | None = None) -> SampleInputs:
    """Decide sample k: all randomness from (recipe.seed, k); with fitted faces, fit k mod N.
    textures: the recipe's texture library (list_textures of its texture_folder), if any."""
    rngs = sample_rngs(recipe.seed, k)
    if recipe.source.uses_fits:
        if fits is None:
            raise ValueError(f"a recipe with [source] kind = {recipe.source.kind!r} needs its FitLibrary")
        fitted = fits.face(k)
        face, texture, source = fitted.face, fitted.texture, fitted.source_id
        emotion = ""
    elif recipe.source.expression == "emotions":
        face, emotion = emotion_face(recipe.source, model.n_shape, model.assets.expression_names, rngs["source"])
        texture, source = "", random_source_id(recipe.seed, k)
    else:
        face = random_face(recipe.source, model.n_shape, model.assets.expression_names, rngs["source"])
        texture, source, emotion = "", random_source_id(recipe.seed, k), ""
    person = draw_person(recipe.source.population, rngs["demographic"])
    # A fitted head is the photo's; only a random one on a model with the corners is shaped by the person.
    shaped = not recipe.source.uses_fits and model.assets.has_demographics
    if shaped:
        face = with_demographic(face, person, model.assets.demographic_index, model.assets.demographic_full)
    scales = sample_scales(recipe.schedule, rngs["schedule"])
    states = three_states(face, scales)
    geometry = evaluate_states(model, states)
    profile = recipe.render.appearance
    # A head model without a UV layout (FLAME without head_template.obj) keeps the plain skin.
    identity = sample_identity(profile, rngs["appearance"], textures, person.sex) if profile.enabled and model.uv is not None else None
    scene = sample_scene(recipe.render, rngs["scene"], geometry["onset"], cycles_seed(rngs["cycles"]), background_images,
                         texture=texture, appearance=identity.to_json() if identity else None)
    labels = sample_labels(states, emotion, model.assets.expression_names, person if shaped else None)
    return SampleInputs(sample_id(recipe.name, k), k, face, scales, states, geometry, scene, source, labels)


def draw_person(population: Population, rng: np.random.Generator) -> Demographic:
    """The sample's person (sex, ancestry, age) from the recipe's [source] population keys."""
    return sample_demographic(rng, population.female_share, population.dimorphism,
                              population.ancestry_concentration, population.age)


def with_head(placed: np.ndarray, geometry: dict[str, StateGeometry]) -> tuple[np.ndarray, ...]:
    """(N, 3) positions placed on the onset head -> (onset, head, apex) positions, each moved by
    that state's head rotation about the root joint (rigid with the head)."""
    onset = geometry["onset"]
    return tuple(apply_motion(placed, head_motion(onset.rotation, onset.joints[0], geometry[s].rotation, geometry[s].joints[0]))
                 for s in STATES)


def glasses_states(local: np.ndarray, geometry: dict[str, StateGeometry]) -> tuple[np.ndarray, ...]:
    """Glasses positions (onset, head, apex): placed on the onset eyes, rigid with the head."""
    onset = geometry["onset"]
    return with_head(place_glasses(local, onset.joints[3], onset.joints[4], onset.rotation), geometry)


def body_states(neck: np.ndarray, clothing: Clothing, geometry: dict[str, StateGeometry]) -> tuple[np.ndarray, ...]:
    """Torso positions (onset, head, apex): its collar around the onset neck's cut (neck: the cut's
    vertex indices), shaped by `clothing`, rigid with the head."""
    onset = geometry["onset"]
    root = onset.joints[0]
    local = body_vertices(to_local(onset.vertices[neck], root, onset.rotation), clothing)
    return with_head(place_body(local, root, onset.rotation), geometry)


def hair_states(surface: np.ndarray, geometry: dict[str, StateGeometry]) -> tuple[np.ndarray, ...]:
    """Hanging hair positions (onset, head, apex): a bob cut to the onset head's drawn surface
    (V, 3), its hair cap included, rigid with the head."""
    onset = geometry["onset"]
    root = onset.joints[0]
    local = to_local(surface, root, onset.rotation)
    hair = curtain_vertices(local, bob_cut(local, to_local(onset.landmarks[CHIN_LANDMARK], root, onset.rotation)))
    return with_head(place_body(hair, root, onset.rotation), geometry)


def jaw_anchors(weights: np.ndarray, onset: StateGeometry) -> np.ndarray:
    """Indices of the vertices whose motion the lower teeth follow: skinned to the jaw and away
    from the lips (chin and jaw line). weights (V, J) the model's skinning weights."""
    jaw = weights[:, JAW_JOINT] > JAW_ANCHOR_WEIGHT * weights[:, JAW_JOINT].max()
    candidates = np.flatnonzero(jaw)
    lips = onset.landmarks[48:68]
    clearance = np.linalg.norm(onset.vertices[candidates, None] - lips[None], axis=-1).min(1)
    return candidates[clearance > LIP_CLEARANCE]


def mouth_states(mouth: MouthMesh, anchors_of: np.ndarray, geometry: dict[str, StateGeometry]) -> tuple[np.ndarray, ...]:
    """Teeth, gums and tongue positions (onset, head, apex): placed behind the onset lips; the
    upper arch moves rigidly with the head (as the glasses do), the lower arch and the tongue
    with the rigid motion that best explains the jaw anchors' (anchors_of, indices) motion."""
    onset = geometry["onset"]
    placed = place_mouth(mouth.vertices, onset.landmarks, onset.rotation)
    out = []
    for s in STATES:
        g = geometry[s]
        head = head_motion(onset.rotation, onset.joints[0], g.rotation, g.joints[0])
        # A model with no vertices on its jaw joint: the lower teeth stay with the head.
        jaw = rigid_fit(onset.vertices[anchors_of], g.vertices[anchors_of]) if len(anchors_of) >= MIN_JAW_ANCHORS else head
        out.append(move_mouth(placed, mouth.lower, head, jaw))
    return tuple(out)


def scene_white_balance(spec: SceneSpec) -> np.ndarray | None:
    """(3,) the camera's white-balance gains for a scene's light, or None when it has none."""
    if spec.white_balance <= 0.0:
        return None
    eye = np.asarray(spec.world_from_camera)[:3, 3]
    return white_balance_gains(illuminant(spec.lights, np.asarray(spec.aim), spec.ambient, eye), spec.white_balance)


def develop(onset_rgba: np.ndarray, apex_rgba: np.ndarray, background: np.ndarray, landmarks: np.ndarray,
            exposure: float | None, skin_tone: np.ndarray, white_balance: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The pair's 8-bit sRGB pictures: each (H, W, 4) premultiplied render over the (H, W, 3)
    background. white_balance: (3,) gains (render.exposure.white_balance_gains) on the rendered
    subject, not on the backdrop, which is a picture of its own colours. With an exposure
    (SceneSpec.exposure), one gain metered on the onset face (landmarks (68, 2) pixels; skin_tone
    (3,) linear albedo) and the tone curve serve both frames, so they share one mapping;
    without, pixels are clipped at white as they are."""
    if white_balance is not None:
        scale = np.append(np.asarray(white_balance), 1.0).astype(onset_rgba.dtype)
        onset_rgba, apex_rgba = onset_rgba * scale, apex_rgba * scale
    onset, apex = composite(onset_rgba, background), composite(apex_rgba, background)
    if exposure is None:
        return to_uint8_srgb(onset), to_uint8_srgb(apex)
    metered = face_luminance(onset_rgba, face_box(landmarks))
    gain = exposure_gain(metered, float(np.asarray(skin_tone) @ LUMA), exposure)
    return to_uint8_srgb(tone_map(gain * onset)), to_uint8_srgb(tone_map(gain * apex))


def neutral_layout(model: FaceModel, skin_faces: np.ndarray, size: int) -> TexelLayout:
    """The texel layout of the model's mean face (the frame every identity is painted in)."""
    import torch

    with torch.no_grad():
        out = model(shape=torch.zeros(1, model.n_shape))
    uv, uv_faces = model.uv
    return build_layout(out.vertices[0].double().numpy(), model.faces, uv, uv_faces,
                        out.landmarks[0].double().numpy(), skin_faces, size)


def with_hair_cap(vertices: np.ndarray, faces: np.ndarray, thickness: np.ndarray) -> np.ndarray:
    """vertices (V, 3) of one state pushed out along that state's normals by thickness (V,) metres.
    The same rule in every state: the rendered surface and its flow targets stay one surface."""
    from flame_assets.standin.mesh import vertex_normals

    if not thickness.any():
        return vertices
    return vertices + thickness[:, None] * vertex_normals(vertices, faces)


class RenderWorker:
    """Per-process state: the CPU face model and one Blender scene, built once."""

    def __init__(self, recipe: Recipe, assets: FlameAssets, cache_dir: Path | None = None, threads: int | None = None) -> None:
        import torch

        from render.blender.scene import BlenderScene  # bpy: only in render workers

        torch.set_num_threads(1)  # the cores belong to Cycles
        self.recipe = recipe
        self.model = FaceModel(assets, cache_dir=cache_dir)
        eye_faces, eye_angle, eye_disc = eye_regions(assets.weights, assets.faces, assets.v_template)
        g_verts, g_faces, g_parts = glasses_local(REFERENCE_EYE_DISTANCE)
        self.glasses_local = g_verts
        # Teeth need the lips' landmarks to sit behind; a model without them renders no mouth.
        self.mouth = mouth_local() if assets.has_landmarks else None
        self.neck = neck_loop(assets.faces, assets.v_template)
        b_faces = body_faces()
        uv = self.model.uv
        profile = recipe.render.appearance
        hanging = profile.enabled and uv is not None and any(s in HANGING_STYLES for s in profile.hair_styles)
        h_faces = hair_faces()
        self.scene = BlenderScene(assets.faces, uv, eye_faces, eye_angle, glasses=(g_verts, g_faces, g_parts),
                                  device=recipe.render.device, threads=recipe.render.threads if threads is None else threads,
                                  settings=recipe.render.cycles, eye_disc=eye_disc,
                                  mouth=None if self.mouth is None else (self.mouth.vertices, self.mouth.faces, self.mouth.part),
                                  body=(np.zeros((VERTICES, 3)), b_faces, np.full(len(b_faces), PART_CLOTH, np.int32)),
                                  hair=(np.zeros((HAIR_VERTICES, 3)), h_faces, np.zeros(len(h_faces), np.int32)) if hanging else None)
        folder = recipe.render.background.image_folder
        self.background_images = list_images(folder) if "images" in recipe.render.background.kinds else []
        self.fits = FitLibrary(recipe.source.fits, assets.fingerprint) if recipe.source.uses_fits else None
        self.textures = list_textures(profile.texture_folder) if profile.enabled and profile.texture_folder else []
        self.layout = neutral_layout(self.model, ~eye_faces, profile.texture_size) if profile.enabled and uv is not None else None

    def plan(self, k: int) -> SampleInputs:
        return plan_sample(self.recipe, k, self.model, self.background_images, self.fits, self.textures)

    def appearance(self, spec: SceneSpec) -> tuple[SkinMaps | None, np.ndarray | None]:
        """The painted maps and the hair cap thickness (V,) of a sample, or (None, None)."""
        if spec.appearance is None or self.layout is None:
            return None, None
        identity = Identity(**spec.appearance)
        source = spec.texture or identity.texture
        base = load_texture(source, self.layout.size) if source else None
        return paint(identity, self.layout, np.asarray(spec.skin_tone), base), self.hair_cap(spec)

    def hair_cap(self, spec: SceneSpec) -> np.ndarray | None:
        """(V,) metres of hair cap on each vertex of a sample, or None (no painted appearance)."""
        if spec.appearance is None or self.layout is None:
            return None
        return vertex_hair_thickness(Identity(**spec.appearance), self.layout)

    def rendered_vertices(self, geometry: dict[str, StateGeometry], hair: np.ndarray | None) -> dict[str, np.ndarray]:
        """(V, 3) per state of the surface Blender draws: the model's vertices plus the hair cap."""
        return {s: geometry[s].vertices if hair is None else with_hair_cap(geometry[s].vertices, self.model.faces, hair)
                for s in STATES}

    def attached_states(self, geometry: dict[str, StateGeometry], spec: SceneSpec) -> dict[str, tuple[np.ndarray, ...]]:
        """(onset, head, apex) positions of each object drawn with the head: the glasses and the
        body (shoulders in a shirt) and hanging hair when the scene has them, the mouth (teeth,
        gums, tongue) whenever the model has one."""
        out = {}
        if spec.glasses:
            out["glasses"] = glasses_states(self.glasses_local, geometry)
        if self.mouth is not None:
            anchors = jaw_anchors(self.model.assets.weights, geometry["onset"])
            out["mouth"] = mouth_states(self.mouth, anchors, geometry)
        if spec.clothing is not None:
            out["body"] = body_states(self.neck, Clothing(**spec.clothing), geometry)
        if spec.appearance is not None and spec.appearance["hair_style"] in HANGING_STYLES and self.layout is not None:
            cap = self.hair_cap(spec)
            out["hair"] = hair_states(with_hair_cap(geometry["onset"].vertices, self.model.faces, cap), geometry)
        return out

    def render(self, inputs: SampleInputs) -> SampleResult:
        t0 = time.perf_counter()
        geo, spec = inputs.geometry, inputs.scene
        attached = self.attached_states(geo, spec)
        maps, hair = self.appearance(spec)
        verts = self.rendered_vertices(geo, hair)
        t_paint = time.perf_counter() - t0
        pair = self.scene.render_pair(spec, verts["onset"], verts["apex"], verts["head"], attached, maps)
        t = time.perf_counter()
        camera = Camera(spec.width, spec.height, spec.focal_mm, np.asarray(spec.world_from_camera))
        background = make_background(spec.background, spec.height, spec.width)
        onset, apex = develop(pair.onset_rgba, pair.apex_rgba, background, camera.project(geo["onset"].landmarks),
                              spec.exposure, np.asarray(spec.skin_tone), scene_white_balance(spec))
        result = SampleResult(
            inputs=inputs,
            onset=onset,
            apex=apex,
            flow_facial=flow_from_targets(camera, pair.facial_target, pair.mask),
            flow_head=flow_from_targets(camera, pair.head_target, pair.mask),
            mask=pair.mask,
            landmarks_onset=camera.project(geo["onset"].landmarks).astype(np.float32),
            landmarks_apex=camera.project(geo["apex"].landmarks).astype(np.float32),
            timings=dict(pair.timings),
        )
        result.timings["flow_and_compositing"] = time.perf_counter() - t
        result.timings["appearance"] = t_paint
        result.timings["total"] = time.perf_counter() - t0
        return result

    def render_index(self, k: int) -> SampleResult:
        t = time.perf_counter()
        inputs = self.plan(k)
        planned = time.perf_counter() - t
        result = self.render(inputs)
        result.timings["meshes_and_planning"] = planned
        result.timings["total"] += planned
        return result
