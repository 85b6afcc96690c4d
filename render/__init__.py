"""Rendering: a pure description of a sample's scene and camera (numpy), and the Blender Cycles
backend that realises it.

`scene_spec`, `camera`, `backgrounds` and `glasses` are plain numpy and never import Blender; the
backend is the `render.blender` sub-package (`scene`, `materials`), the only code in MEFlow that
imports bpy. Nothing here imports torch: a render worker hands over numpy vertex arrays and
leaves the GPU to Cycles.
"""
