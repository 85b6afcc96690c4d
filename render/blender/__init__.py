"""The Blender Cycles backend: the only code in MEFlow that imports bpy (`scene` builds one
long-lived scene per process and renders pairs; `materials` builds its node trees)."""
