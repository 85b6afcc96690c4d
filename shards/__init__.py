"""The MEFlow dataset format (Zarr v3 shards) and everything about reading it: schema, writer,
readers, verification, identity splits, derived flows, .flo files and flow pictures. numpy and
zarr only, imported by the dataset builder and the trainer alike."""
