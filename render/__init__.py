"""Rendering: pure scene description and geometry (numpy) plus the Blender Cycles backend.

Only `render.blender_scene` imports bpy, and nothing here imports torch: a render worker takes
numpy vertex arrays and leaves the GPU to Cycles.
"""
