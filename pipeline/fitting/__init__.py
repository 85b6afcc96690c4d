"""Fitting FLAME to face photos: landmarks -> parameters, camera and UV texture.

Pure array math (projection, objective, rasteriser, texture) sits in small modules; `run.py`
wires sources, detectors, the batched fitter and the writers together for `meflow fit`.
"""
