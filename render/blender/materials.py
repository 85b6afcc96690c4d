"""Cycles materials for the head, eyes, glasses, mouth, clothing and hanging hair, and the data layer's override material: it
writes two AOVs (the facial and head target positions, from per-vertex attributes) on every
surface, so one 1-sample data layer yields exact ground truth for whatever the camera sees first."""
from __future__ import annotations

import bpy

from ..exposure import AMBIENT_COLOUR

TARGET_ATTRIBUTES = ("facial_target", "head_target")
REST_ATTRIBUTE = "rest_position"  # the onset position of each vertex, fixed for both renders of a pair
EYE_ANGLE_ATTRIBUTE = "eye_angle"
EYE_DISC_ATTRIBUTE = "eye_disc"  # (angle / pi) (cos, sin) of the azimuth about the pole: the eye's own 2-D chart
PUPIL_RADIANS, IRIS_RADIANS = 0.16, 0.51  # angles from the eyeball's forward pole (iris 11.7 mm on a 12 mm eyeball)
IRIS_FIBRES = 14.0  # noise cells per radian of azimuth: radial fibres
IRIS_FIBRE_CONTRAST = 1.5
LIMBAL_RING_WIDTH = 0.025  # in angle / pi: the dark rim of the iris
COLLARETTE = (0.27, 0.02, 0.35)  # (angle / pi, width, lightening): the ring of crypts around the pupil
SCLERA_VEIN_SCALE, SCLERA_VEIN_WIDTH = 9.0, 0.035  # noise scale on the disc; ridge half-width in noise units
SCLERA = (0.5, 0.46, 0.42, 1.0)  # linear: an eye white is off-white, and lids and lashes shade it
VEIN_COLOUR = (0.32, 0.035, 0.03, 1.0)
TEETH_ROUGHNESS, GUM_COLOUR, TONGUE_COLOUR = 0.22, (0.42, 0.09, 0.09, 1.0), (0.45, 0.13, 0.12, 1.0)
SKIN_NOISE_SCALE = 180.0  # plain skin: blotches per metre of the rest position
SKIN_NOISE_MIX = 0.25
SKIN_ROUGHNESS = 0.45
SKIN_SUBSURFACE = 0.12  # 0.3 looked the same at 512 px and made renders 35 % slower
SKIN_SUBSURFACE_RADIUS = (0.004, 0.0015, 0.001)  # metres, red scatters furthest
SUBSURFACE_SCALE = 1.0  # Principled multiplies the radius by this (Blender default 0.05): 1 keeps the radii in metres
WORLD_MAP_RESOLUTION = 64
# Scalp hair's highlight is a band across the strands (which run down from the crown): anisotropy
# along tangents that circle the head's vertical axis (object y), where the hair map says hair.
HAIR_ANISOTROPY = 0.8
BUMP_DISTANCE = 0.0004  # metres of relief for one unit of the painted height map
MOUTH_INTERIOR = (0.09, 0.025, 0.022)  # linear RGB of the inside of the mouth (seen through the lips)
CLOTH_ROUGHNESS, CLOTH_SHEEN = 0.9, 0.5  # matte fabric with a soft rim
WEAVE_SCALE, WEAVE_DISTANCE = 900.0, 0.0004  # weave noise cells per metre of rest position; its relief (m)
FOLD_SCALE, FOLD_DISTANCE = 9.0, 0.006  # large soft folds: cells per metre; relief (m)
# Hanging hair (render.hair): strands run down the rest position's y, so its noise is stretched
# along y (cells per metre across and along the strands); their shade varies this much either way.
STRAND_SCALE_ACROSS, STRAND_SCALE_ALONG = 900.0, 12.0
STRAND_SHADE = (0.55, 1.25)
STRAND_RELIEF = 0.0006  # m of bump between strands
HAIR_ROUGHNESS = 0.38


def _surface(name: str, shader: str = "ShaderNodeBsdfPrincipled", inputs: dict | None = None):
    """A new material whose node tree is one `shader` node (inputs set by socket name) feeding the
    material output's surface -> (material, tree, shader node); callers add what feeds the shader."""
    material = bpy.data.materials.new(name)
    material.use_nodes = True
    tree = material.node_tree
    tree.nodes.clear()
    out = tree.nodes.new("ShaderNodeOutputMaterial")
    node = tree.nodes.new(shader)
    for socket, value in (inputs or {}).items():
        node.inputs[socket].default_value = value
    tree.links.new(node.outputs[0], out.inputs["Surface"])
    return material, tree, node


def _add_target_aovs(tree) -> None:
    for name in TARGET_ATTRIBUTES:
        attribute = tree.nodes.new("ShaderNodeAttribute")
        attribute.attribute_name = name
        aov = tree.nodes.new("ShaderNodeOutputAOV")
        aov.aov_name = name
        tree.links.new(attribute.outputs["Vector"], aov.inputs["Color"])


def _mix_colours(tree, a, b, blend: str = "MIX", factor: float = 0.0):
    """An RGBA Mix node fed by sockets a and b; its Factor input switches or blends them."""
    mix = tree.nodes.new("ShaderNodeMix")
    mix.data_type, mix.blend_type = "RGBA", blend
    mix.inputs["Factor"].default_value = factor
    tree.links.new(a, mix.inputs["A"])
    tree.links.new(b, mix.inputs["B"])
    return mix


def skin_material(texture_image: bpy.types.Image, maps: dict[str, bpy.types.Image]) -> tuple[bpy.types.Material, dict]:
    """Principled skin in three modes, switched per sample: painted maps (albedo, height for bump,
    roughness), a UV texture file, or a plain tone times fine noise. Noise reads the rest position
    (the onset surface), so it stays attached to the skin in the apex render. Back faces are the
    inside of the mouth. Returns the material and the nodes a sample changes."""
    material, tree, bsdf = _surface("skin", inputs={"Subsurface Weight": SKIN_SUBSURFACE, "Subsurface Radius": SKIN_SUBSURFACE_RADIUS,
                                                   "Subsurface Scale": SUBSURFACE_SCALE})
    tone = tree.nodes.new("ShaderNodeRGB")
    noise = tree.nodes.new("ShaderNodeTexNoise")
    noise.inputs["Scale"].default_value = SKIN_NOISE_SCALE
    rest = tree.nodes.new("ShaderNodeAttribute")
    rest.attribute_name = REST_ATTRIBUTE
    tree.links.new(rest.outputs["Vector"], noise.inputs["Vector"])
    procedural = _mix_colours(tree, tone.outputs["Color"], noise.outputs["Color"], "MULTIPLY", SKIN_NOISE_MIX)
    texture = tree.nodes.new("ShaderNodeTexImage")
    texture.image = texture_image
    textured = _mix_colours(tree, procedural.outputs["Result"], texture.outputs["Color"])
    albedo, height, roughness, hair = (tree.nodes.new("ShaderNodeTexImage") for _ in range(4))
    albedo.image, height.image, roughness.image, hair.image = maps["albedo"], maps["height"], maps["roughness"], maps["hair"]
    for node in (albedo, height, roughness, hair):
        node.interpolation = "Cubic" if node is height else "Linear"
    painted = _mix_colours(tree, textured.outputs["Result"], albedo.outputs["Color"])
    geometry = tree.nodes.new("ShaderNodeNewGeometry")
    mouth = tree.nodes.new("ShaderNodeRGB")
    mouth.outputs["Color"].default_value = (*MOUTH_INTERIOR, 1.0)
    inside = _mix_colours(tree, painted.outputs["Result"], mouth.outputs["Color"])
    tree.links.new(geometry.outputs["Backfacing"], inside.inputs["Factor"])
    tree.links.new(inside.outputs["Result"], bsdf.inputs["Base Color"])
    plain_roughness = tree.nodes.new("ShaderNodeValue")
    plain_roughness.outputs["Value"].default_value = SKIN_ROUGHNESS
    rough = tree.nodes.new("ShaderNodeMix")
    rough.data_type = "FLOAT"
    tree.links.new(plain_roughness.outputs["Value"], rough.inputs["A"])
    tree.links.new(roughness.outputs["Color"], rough.inputs["B"])
    tree.links.new(rough.outputs["Result"], bsdf.inputs["Roughness"])
    bump = tree.nodes.new("ShaderNodeBump")
    bump.inputs["Distance"].default_value = BUMP_DISTANCE
    tree.links.new(height.outputs["Color"], bump.inputs["Height"])
    strength = bump.inputs["Strength"]
    tree.links.new(bump.outputs["Normal"], bsdf.inputs["Normal"])
    use_hair = tree.nodes.new("ShaderNodeValue")
    tree.links.new(_math(tree, "MULTIPLY", _math(tree, "MULTIPLY", hair.outputs["Color"], use_hair.outputs["Value"]), HAIR_ANISOTROPY),
                   bsdf.inputs["Anisotropic"])
    tangent = tree.nodes.new("ShaderNodeTangent")
    tangent.direction_type, tangent.axis = "RADIAL", "Y"
    tree.links.new(tangent.outputs["Tangent"], bsdf.inputs["Tangent"])
    return material, {"bsdf": bsdf, "tone": tone, "use_texture": textured.inputs["Factor"], "use_maps": painted.inputs["Factor"],
                      "use_map_roughness": rough.inputs["Factor"], "bump": strength, "use_hair": use_hair.outputs["Value"]}


def _math(tree, operation: str, *values, clamp: bool = False):
    """A Math node on sockets or numbers (its inputs in order); returns its output socket."""
    node = tree.nodes.new("ShaderNodeMath")
    node.operation, node.use_clamp = operation, clamp
    for k, value in enumerate(values):
        if isinstance(value, (int, float)):
            node.inputs[k].default_value = value
        else:
            tree.links.new(value, node.inputs[k])
    return node.outputs["Value"]


def _band(tree, value, centre: float, width: float):
    """exp(-((value - centre) / width)^2): a soft ring at `centre` of a radius socket."""
    d = _math(tree, "DIVIDE", _math(tree, "SUBTRACT", value, centre), width)
    return _math(tree, "EXPONENT", _math(tree, "MULTIPLY", _math(tree, "MULTIPLY", d, d), -1.0))


def eye_material() -> tuple[bpy.types.Material, dict]:
    """Pupil, iris and sclera from the angle to the eyeball's forward pole, with detail from the
    eye's own disc chart (a per-vertex attribute, so it turns with the eye and the flow stays
    exact): radial iris fibres, a lighter collarette, a dark limbal ring, and sclera veins that
    thicken towards the corners. A wet clear coat. The iris stops, the vein amount and the
    pattern's seed change per sample."""
    import math

    material, tree, bsdf = _surface("eye")
    bsdf.inputs["Roughness"].default_value = 0.3
    bsdf.inputs["Coat Weight"].default_value = 1.0
    bsdf.inputs["Coat Roughness"].default_value = 0.02
    angle = tree.nodes.new("ShaderNodeAttribute")
    angle.attribute_name = EYE_ANGLE_ATTRIBUTE
    radius = _math(tree, "DIVIDE", angle.outputs["Fac"], math.pi)
    ramp = tree.nodes.new("ShaderNodeValToRGB")
    stops = ramp.color_ramp.elements
    pupil, iris, sclera = (0.005, 0.005, 0.005, 1.0), (0.2, 0.1, 0.05, 1.0), SCLERA
    stops[0].position, stops[0].color = 0.0, pupil
    stops[1].position, stops[1].color = 1.0, sclera
    pupil_r, iris_r = PUPIL_RADIANS / math.pi, IRIS_RADIANS / math.pi
    for position, colour in ((pupil_r, pupil), (pupil_r + 0.01, iris), (iris_r, iris), (iris_r + 0.02, sclera)):
        stops.new(position).color = colour
    tree.links.new(radius, ramp.inputs["Fac"])

    # Iris: brightness from noise along the azimuth only (the unit direction on the disc), so
    # its streaks run radially; a per-sample W offsets the pattern.
    disc = tree.nodes.new("ShaderNodeAttribute")
    disc.attribute_name = EYE_DISC_ATTRIBUTE
    direction = tree.nodes.new("ShaderNodeVectorMath")
    direction.operation = "NORMALIZE"
    tree.links.new(disc.outputs["Vector"], direction.inputs[0])
    fibres = tree.nodes.new("ShaderNodeTexNoise")
    fibres.noise_dimensions = "4D"
    fibres.inputs["Scale"].default_value = IRIS_FIBRES
    fibres.inputs["Detail"].default_value = 3.0
    tree.links.new(direction.outputs["Vector"], fibres.inputs["Vector"])
    streak = _math(tree, "SUBTRACT", fibres.outputs["Fac"], 0.5)
    shade = _math(tree, "MULTIPLY_ADD", streak, 2.0 * IRIS_FIBRE_CONTRAST, 1.0)
    collarette = _math(tree, "MULTIPLY", _band(tree, radius, COLLARETTE[0], COLLARETTE[1]), COLLARETTE[2])
    limbus = _math(tree, "MULTIPLY", _band(tree, radius, iris_r - 0.3 * LIMBAL_RING_WIDTH, LIMBAL_RING_WIDTH), -0.55)
    in_iris = _math(tree, "MULTIPLY", _math(tree, "GREATER_THAN", radius, pupil_r), _math(tree, "LESS_THAN", radius, iris_r + 0.01))
    iris_gain = _math(tree, "ADD", _math(tree, "MULTIPLY", _math(tree, "ADD", _math(tree, "ADD", shade, collarette), limbus), in_iris),
                      _math(tree, "SUBTRACT", 1.0, in_iris))
    gain = tree.nodes.new("ShaderNodeCombineXYZ")
    for axis in ("X", "Y", "Z"):
        tree.links.new(iris_gain, gain.inputs[axis])
    detailed = _mix_colours(tree, ramp.outputs["Color"], gain.outputs["Vector"], "MULTIPLY", 1.0)

    # Sclera veins: thin ridges of 2-D noise on the disc, more of them away from the iris.
    vein_noise = tree.nodes.new("ShaderNodeTexNoise")
    vein_noise.noise_dimensions = "4D"
    vein_noise.inputs["Scale"].default_value = SCLERA_VEIN_SCALE
    vein_noise.inputs["Detail"].default_value = 4.0
    tree.links.new(disc.outputs["Vector"], vein_noise.inputs["Vector"])
    ridge = _math(tree, "ABSOLUTE", _math(tree, "SUBTRACT", vein_noise.outputs["Fac"], 0.5))
    vein_line = _math(tree, "SUBTRACT", 1.0, _math(tree, "DIVIDE", ridge, SCLERA_VEIN_WIDTH), clamp=True)
    periphery = tree.nodes.new("ShaderNodeMapRange")
    periphery.interpolation_type = "SMOOTHSTEP"
    periphery.inputs["From Min"].default_value, periphery.inputs["From Max"].default_value = iris_r + 0.04, 0.5
    tree.links.new(radius, periphery.inputs["Value"])
    amount = tree.nodes.new("ShaderNodeValue")
    amount.outputs["Value"].default_value = 0.0
    vein = _math(tree, "MULTIPLY", _math(tree, "MULTIPLY", vein_line, periphery.outputs["Result"]),
                 _math(tree, "MULTIPLY_ADD", amount.outputs["Value"], 0.7, 0.15))
    vein_colour = tree.nodes.new("ShaderNodeRGB")
    vein_colour.outputs["Color"].default_value = VEIN_COLOUR
    veined = _mix_colours(tree, detailed.outputs["Result"], vein_colour.outputs["Color"])
    tree.links.new(vein, veined.inputs["Factor"])
    tree.links.new(veined.outputs["Result"], bsdf.inputs["Base Color"])
    pattern = tree.nodes.new("ShaderNodeValue")
    tree.links.new(pattern.outputs["Value"], fibres.inputs["W"])
    tree.links.new(pattern.outputs["Value"], vein_noise.inputs["W"])
    return material, {"ramp": ramp.color_ramp, "iris_positions": (pupil_r + 0.01, iris_r),
                      "veins": amount.outputs["Value"], "pattern_seed": pattern.outputs["Value"]}


def mouth_materials() -> tuple[list[bpy.types.Material], dict]:
    """Teeth (wet enamel, a little translucent; their colour changes per sample), gums and
    tongue, in render.mouth's part order."""
    teeth, _, enamel = _surface("teeth", inputs={"Roughness": TEETH_ROUGHNESS, "Subsurface Weight": 0.15,
                                                 "Subsurface Radius": (0.001, 0.0008, 0.0006), "Coat Weight": 0.5})
    colour = enamel.inputs["Base Color"]
    soft = []
    for name, base, roughness in (("gums", GUM_COLOUR, 0.35), ("tongue", TONGUE_COLOUR, 0.5)):
        soft.append(_surface(name, inputs={"Base Color": base, "Roughness": roughness, "Subsurface Weight": 0.2,
                                           "Subsurface Radius": SKIN_SUBSURFACE_RADIUS})[0])
    return [teeth, *soft], {"teeth": colour}


def clothing_material() -> tuple[bpy.types.Material, dict]:
    """A matte fabric: one colour, optionally horizontal stripes of a second (period and share
    along the rest position's height), a fine weave and soft folds as bump. Everything reads the
    rest position, so the pattern moves with the cloth. Returns the material and its per-sample
    inputs."""
    material, tree, bsdf = _surface("clothing", inputs={"Roughness": CLOTH_ROUGHNESS, "Sheen Weight": CLOTH_SHEEN})
    rest = tree.nodes.new("ShaderNodeAttribute")
    rest.attribute_name = REST_ATTRIBUTE
    height = tree.nodes.new("ShaderNodeSeparateXYZ")
    tree.links.new(rest.outputs["Vector"], height.inputs["Vector"])
    period = tree.nodes.new("ShaderNodeValue")
    share = tree.nodes.new("ShaderNodeValue")
    stripes = tree.nodes.new("ShaderNodeValue")
    phase = _math(tree, "FRACT", _math(tree, "DIVIDE", height.outputs["Y"], period.outputs["Value"]))
    in_stripe = _math(tree, "MULTIPLY", _math(tree, "LESS_THAN", phase, share.outputs["Value"]), stripes.outputs["Value"])
    colour, stripe = tree.nodes.new("ShaderNodeRGB"), tree.nodes.new("ShaderNodeRGB")
    base = _mix_colours(tree, colour.outputs["Color"], stripe.outputs["Color"])
    tree.links.new(in_stripe, base.inputs["Factor"])
    tree.links.new(base.outputs["Result"], bsdf.inputs["Base Color"])
    normal = None
    for scale, distance in ((FOLD_SCALE, FOLD_DISTANCE), (WEAVE_SCALE, WEAVE_DISTANCE)):
        noise = tree.nodes.new("ShaderNodeTexNoise")
        noise.inputs["Scale"].default_value = scale
        tree.links.new(rest.outputs["Vector"], noise.inputs["Vector"])
        bump = tree.nodes.new("ShaderNodeBump")
        bump.inputs["Distance"].default_value = distance
        tree.links.new(noise.outputs["Fac"], bump.inputs["Height"])
        if normal is not None:
            tree.links.new(normal, bump.inputs["Normal"])
        normal = bump.outputs["Normal"]
    tree.links.new(normal, bsdf.inputs["Normal"])
    return material, {"colour": colour.outputs["Color"], "stripe_colour": stripe.outputs["Color"],
                      "stripes": stripes.outputs["Value"], "period": period.outputs["Value"], "share": share.outputs["Value"]}


def hair_material() -> tuple[bpy.types.Material, dict]:
    """Hanging hair: the identity's hair colour shaded strand by strand, a highlight band across
    the strands (anisotropy about the head's vertical axis, as on the scalp cap). The strands read
    the rest position, so they move with the hair. Returns the material and its colour input."""
    material, tree, bsdf = _surface("hair", inputs={"Roughness": HAIR_ROUGHNESS, "Anisotropic": HAIR_ANISOTROPY})
    rest = tree.nodes.new("ShaderNodeAttribute")
    rest.attribute_name = REST_ATTRIBUTE
    stretch = tree.nodes.new("ShaderNodeMapping")
    stretch.inputs["Scale"].default_value = (STRAND_SCALE_ACROSS, STRAND_SCALE_ALONG, STRAND_SCALE_ACROSS)
    tree.links.new(rest.outputs["Vector"], stretch.inputs["Vector"])
    strands = tree.nodes.new("ShaderNodeTexNoise")
    strands.inputs["Scale"].default_value = 1.0
    strands.inputs["Detail"].default_value = 4.0
    tree.links.new(stretch.outputs["Vector"], strands.inputs["Vector"])
    shade = tree.nodes.new("ShaderNodeMapRange")
    shade.inputs["From Min"].default_value, shade.inputs["From Max"].default_value = 0.3, 0.7
    shade.inputs["To Min"].default_value, shade.inputs["To Max"].default_value = STRAND_SHADE
    tree.links.new(strands.outputs["Fac"], shade.inputs["Value"])
    colour = tree.nodes.new("ShaderNodeRGB")
    shaded = _mix_colours(tree, colour.outputs["Color"], colour.outputs["Color"], "MULTIPLY", 1.0)
    tree.links.new(shade.outputs["Result"], shaded.inputs["B"])
    tree.links.new(shaded.outputs["Result"], bsdf.inputs["Base Color"])
    bump = tree.nodes.new("ShaderNodeBump")
    bump.inputs["Distance"].default_value = STRAND_RELIEF
    tree.links.new(strands.outputs["Fac"], bump.inputs["Height"])
    tree.links.new(bump.outputs["Normal"], bsdf.inputs["Normal"])
    tangent = tree.nodes.new("ShaderNodeTangent")
    tangent.direction_type, tangent.axis = "RADIAL", "Y"
    tree.links.new(tangent.outputs["Tangent"], bsdf.inputs["Tangent"])
    return material, {"colour": colour.outputs["Color"]}


def glasses_materials() -> tuple[bpy.types.Material, bpy.types.Material]:
    frame = _surface("glasses_frame", inputs={"Base Color": (0.02, 0.02, 0.025, 1), "Metallic": 0.6, "Roughness": 0.25})[0]
    lens = _surface("glasses_lens", "ShaderNodeBsdfGlass", {"IOR": 1.5, "Roughness": 0.0})[0]
    return frame, lens


def data_material() -> bpy.types.Material:
    """The data layer's override for every surface: the target AOVs on a black diffuse, so the
    layer's one sample stops at the first hit instead of tracing skin, bounces and lights (5x
    cheaper). (A zero-strength emission is dropped by Cycles as no surface, AOVs included.)"""
    material, tree, _ = _surface("data_layer", "ShaderNodeBsdfDiffuse", {"Color": (0.0, 0.0, 0.0, 1.0)})
    _add_target_aovs(tree)
    return material


def world(scene: bpy.types.Scene) -> dict:
    """A uniform ambient colour or an analytic sky, with adjustable strength."""
    w = bpy.data.worlds.new("world")
    scene.world = w
    # A smooth sky needs only a coarse importance map; the default one costs ~0.15 s per layer.
    w.cycles.sampling_method = "MANUAL"
    w.cycles.sample_map_resolution = WORLD_MAP_RESOLUTION
    w.use_nodes = True
    tree = w.node_tree
    tree.nodes.clear()
    out = tree.nodes.new("ShaderNodeOutputWorld")
    background = tree.nodes.new("ShaderNodeBackground")
    sky = tree.nodes.new("ShaderNodeTexSky")
    sky.sky_type = "HOSEK_WILKIE"
    flat = tree.nodes.new("ShaderNodeRGB")
    flat.outputs["Color"].default_value = (*AMBIENT_COLOUR, 1)
    mix = _mix_colours(tree, flat.outputs["Color"], sky.outputs["Color"])
    tree.links.new(mix.outputs["Result"], background.inputs["Color"])
    tree.links.new(background.outputs["Background"], out.inputs["Surface"])
    return {"strength": background.inputs["Strength"], "use_sky": mix.inputs["Factor"], "sky": sky}
