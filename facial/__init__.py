"""Facial geometry on numpy arrays, shared by the factory, the trainer and the instruction builder.

numpy only (no torch, cv2, Blender or Dask), so a training node and the instruction builder import
it as freely as the dataset builder does:
- `ibug68`: the 68-point landmark convention (groups, mirror permutation, eye corners, NME);
- `wflw98`: WFLW's 98-point layout and the linear map from iBUG-68 to it (MELLM's landmarks);
- `flame_layout`: the FLAME parameter layout MEFlow fits, renders and stores (sizes, names, the
  three states of a sample, the order of its four scales);
- `regions`: facial regions placed on landmarks (coarse areas, MELLM's 29 ROIs), rasterised to masks;
- `directions`: the direction convention of flow vectors (angle and 8 labels);
- `nose_tip`: removing the head's residual motion by the flow at the nose tip.

"Left" and "right" in region names mean the image side, as MELLM names them.
"""
