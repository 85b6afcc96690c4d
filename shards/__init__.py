"""Reading and writing MEFlow shards (Zarr v3). Imported by the dataset builder and the trainer;
pure I/O: no torch, no bpy."""
